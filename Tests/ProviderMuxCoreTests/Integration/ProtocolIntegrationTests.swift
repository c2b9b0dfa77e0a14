// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// Every wire protocol over REAL libcurl against Tests/upstream/fake_upstream.py (its
// protocols/*.py handlers), driven by the table in ProtocolTable.swift: plain, streamed, tool
// calls and their results, models, retries and stream faults, once for each protocol. Every
// blocking call runs on its own thread with a bounded wait (IntegrationSupport.swift).

@Suite("Protocol integration: libcurl against the fake upstream", .serialized)
final class ProtocolIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    /// Led by the type: the fake upstream answers a scope named `mistral…` as Mistral does.
    func scope(_ p: ProtocolCase) -> String { "\(p.type)-\(p.name)-\(id)" }

    func wire(_ p: ProtocolCase) -> ProtocolWire { ProtocolWire(server: server, scope: scope(p), p: p) }

    /// The row's provider at the test's scope; `also` adds providers of the same type named
    /// `<name>2`, `<name>3`, … each at its own scope (`<scope>-<name>`).
    func makeRouter(_ p: ProtocolCase, also: Int = 0, extra: String = "") throws -> Router {
        let others = (0..<also).map { i -> String in
            let name = "\(p.name)\(i + 2)"
            return p.providerJSON(port: server.port, name: name, scope: "\(scope(p))-\(name)")
        }
        let providers = [p.providerJSON(port: server.port, scope: scope(p))] + others
        return try Router(config: RouterConfig.parse(#"{"providers":[\#(providers.joined(separator: ","))]\#(extra)}"#))
    }

    @Test("complete: echo reply, stop, usage; the request log shows the path, the key header and the protocol's fields",
          arguments: ProtocolCase.all + ProtocolCase.presets)
    func plain(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        let r = try #require(completeOnThread(router, try ChatRequest.parse(JSONParser.parse(p.plainRequest)))).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "echo: hello there world")
        #expect(choice["finish_reason"] == "stop")
        #expect(r["model"] == .string(p.model))
        #expect(r["provider"] == .string(p.name))
        #expect(withoutCost(r["usage"]) == p.plainUsage)
        let log = try server.requests(scope(p))
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string("/\(scope(p))\(p.chatPath)"))
        #expect(entry["headers"]?[p.authHeader] == .string(p.authValue))
        #expect(entry["headers"]?["content-type"] == "application/json")
        #expect(entry["body"]?.stringValue?.contains(p.key) == false)
        try p.plainExtra(wire(p), r)
    }

    @Test("stream: deltas concatenate to the reply, then usage, then done", arguments: ProtocolCase.all + ProtocolCase.presets)
    func streamed(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        let out = try #require(streamOnThread(router, try p.chat(p.streamPrompt)))
        let r = try out.result.get()
        #expect(out.text == "echo: " + p.streamPrompt)
        #expect(out.lines.first == "start \(p.name) \(p.model) #1")
        #expect(out.lines.filter { $0 == "delta" }.count == p.streamDeltas)
        #expect(Array(out.lines.suffix(2)) == [p.streamUsage, "done \(p.name)"])
        #expect(out.terminals == 1)
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == .string("echo: " + p.streamPrompt))
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        if let prefix = p.streamIdPrefix {
            #expect(r["id"]?.stringValue?.hasPrefix(prefix) == true)
        }
        let entry = try #require(try server.requests(scope(p)).first)
        if p.streamFlagInBody {
            #expect(entry["json"]?["stream"] == true)
        }
        if let path = p.streamPath {
            #expect(entry["path"] == .string("/\(scope(p))\(path)"))
        }
        #expect(entry["headers"]?["accept"] == .string(p.streamAccept))
        #expect(entry["headers"]?[p.authHeader] == .string(p.authValue))
        try p.streamExtra(wire(p), r)
    }

    @Test("a tool call, plain and streamed: finish tool_calls, name and index stable, arguments in the protocol's pieces",
          arguments: ProtocolCase.withTools)
    func toolCalls(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        let plain = try #require(completeOnThread(router, try p.chat(p.toolPrompt, extra: p.weatherTools + p.toolPlainExtra))).get()
        let choice = try #require(plain["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["tool_calls"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
        let toolPlain = try #require(p.toolPlain)
        try toolPlain(wire(p), choice)

        let out = try #require(streamOnThread(router, try p.chat(p.toolStreamPrompt, extra: p.weatherTools)))
        let r = try out.result.get()
        #expect(out.toolDeltas.first?["index"] == 0)
        #expect(out.toolDeltas.first?["function"]?["name"] == "get_weather")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        let toolStreamed = try #require(p.toolStreamed)
        try toolStreamed(wire(p), out, r)
    }

    @Test("a tool result goes back in the protocol's shape and the next turn is answered", arguments: ProtocolCase.withTools)
    func toolResult(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        let toolResult = try #require(p.toolResult)
        try toolResult(wire(p), router)
    }

    @Test("models(): the protocol's list with capabilities; GET with the key", arguments: ProtocolCase.withModelList)
    func models(_ p: ProtocolCase) throws {
        try server.setModels(scope(p), try #require(p.modelsList))
        let router = try makeRouter(p)
        defer { router.close() }
        let doc = try #require(runOnThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == p.modelIds)
        #expect(data.map { $0["capabilities"] } == p.modelCapabilities)
        #expect(doc["errors"]?.arrayValue?.isEmpty == true)
        let entry = try #require(try server.requests(scope(p)).first)
        #expect(entry["method"] == "GET")
        #expect(entry["path"] == .string("/\(scope(p))\(p.modelsPath)"))
        #expect(entry["headers"]?[p.authHeader] == .string(p.authValue))
        try p.modelsExtra(wire(p), data)
    }

    @Test("429 with Retry-After, then success: 2 attempts, the protocol's message kept", arguments: ProtocolCase.all)
    func rateLimited(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), p.rateLimitScript)
        let r = try #require(completeOnThread(router, try p.chat("again"))).get()
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 2)
        #expect(attempts.map { $0["status_name"]?.stringValue } == ["PMX_ERR_RATE_LIMITED", nil])
        #expect(attempts.first?["message"] == .string(p.rateLimitMessage))
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: again")
        #expect(try server.requests(scope(p)).count == 2)
    }

    @Test("disconnect after output started: STREAM_INTERRUPTED, one terminal event, neither retried nor failed over",
          arguments: ProtocolCase.all)
    func disconnectMidStream(_ p: ProtocolCase) throws {
        let router = try makeRouter(p, also: 1)
        defer { router.close() }
        try server.script(scope(p), #"[{"disconnect_after_chunks":\#(p.disconnectAfter)}]"#)
        let out = try #require(streamOnThread(router, try p.chat("one two three four")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == p.name)
        #expect(out.text == p.disconnectText)
        if let usage = p.disconnectPartialUsage {
            #expect(e.partialUsage?.promptTokens == usage.prompt)
            #expect(e.partialUsage?.completionTokens == usage.completion)
        }
        #expect(out.terminals == 1)
        #expect(!out.lines.contains { $0.hasPrefix("retry") || $0.hasPrefix("fallback") })
        #expect(try server.requests(scope(p)).count == 1)
        #expect(try server.requests("\(scope(p))-\(p.name)2").isEmpty)
    }

    @Test("an in-stream error after output: STREAM_INTERRUPTED with the provider's message", arguments: ProtocolCase.all)
    func errorEventMidStream(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"error_event_after_chunks":\#(p.errorEventAfter)}]"#)
        let out = try #require(streamOnThread(router, try p.chat("alpha beta gamma")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.message.contains(p.errorEventMessage), "\(e.message)")
        if let status = p.errorEventHTTPStatus {
            #expect(e.httpStatus == status)
        }
        #expect(out.text == p.errorEventText)
        #expect(out.terminals == 1)
        try p.errorEventExtra(wire(p), out, e)
    }

    @Test("an in-stream error before any output is retried like a server error, and the retry streams normally",
          arguments: ProtocolCase.all)
    func errorEventBeforeOutput(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"error_event_after_chunks":0}]"#)
        let out = try #require(streamOnThread(router, try p.chat("alpha")))
        #expect(out.error == nil, "\(out.lines)")
        #expect(out.text == "echo: alpha")
        #expect(out.lines.contains("retry \(p.name) #1 PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("a malformed event before output: PMX_ERR_UPSTREAM_PROTOCOL naming the protocol, not retried",
          arguments: ProtocolCase.refusingMalformed)
    func malformedRefused(_ p: ProtocolCase) throws {
        guard case .refused(let at, let message) = p.malformed else { return }
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"malformed_chunk_at":\#(at)}]"#)
        let out = try #require(streamOnThread(router, try p.chat("bad bytes")))
        let e = try #require(out.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.contains(message), "\(e.message)")
        #expect(out.text.isEmpty)
        #expect(out.terminals == 1)
        #expect(try server.requests(scope(p)).count == 1)
    }

    @Test("a malformed event before output fails over to the next provider with UPSTREAM_PROTOCOL",
          arguments: ProtocolCase.failingOverMalformed)
    func malformedFailsOver(_ p: ProtocolCase) throws {
        guard case .failover(let at) = p.malformed else { return }
        let router = try makeRouter(p, also: 1)
        defer { router.close() }
        try server.script(scope(p), #"[{"malformed_chunk_at":\#(at)}]"#)
        let out = try #require(streamOnThread(router, try p.chat("bad bytes")))
        let r = try out.result.get()
        #expect(r["provider"] == .string("\(p.name)2"))
        #expect(out.lines.prefix(3) == ["start \(p.name) \(p.model) #1", "fallback \(p.name)->\(p.name)2 PMX_ERR_UPSTREAM_PROTOCOL",
                                        "start \(p.name)2 \(p.model) #2"])
        #expect(out.text == "echo: bad bytes")
        try p.malformedExtra(wire(p), out, r)
    }

    @Test("no model and no default_model: INVALID_REQUEST before any request", arguments: ProtocolCase.needingModel)
    func noModel(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"x"}]}"#))
        let result = try #require(completeOnThread(router, req))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .invalidRequest)
        #expect(try server.requests(scope(p)).isEmpty)
    }
}

// MARK: - What one protocol has and the others do not

extension ProtocolIntegrationTests {
    /// A reply cut at max_tokens (Ollama sends it as num_predict), and the max_tokens the body says where it says one.
    struct LengthCase: Sendable, CustomTestStringConvertible {
        let p: ProtocolCase
        let prompt: String
        let maxTokens: Int
        let content: String
        let sentMaxTokens: Int?
        var testDescription: String { p.type }
    }

    @Test("max_tokens below the reply: finish_reason length", arguments: [
        LengthCase(p: .anthropic, prompt: "a b c d e", maxTokens: 3, content: "echo: a b ", sentMaxTokens: 3),
        LengthCase(p: .ollama, prompt: "one two three four", maxTokens: 2, content: "echo: one ", sentMaxTokens: nil),
    ])
    func length(_ c: LengthCase) throws {
        let router = try makeRouter(c.p)
        defer { router.close() }
        let r = try #require(completeOnThread(router, try c.p.chat(c.prompt, extra: #","max_tokens":\#(c.maxTokens)"#))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == .string(c.content))
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        if let sent = c.sentMaxTokens {
            #expect(try server.requests(scope(c.p)).first?["json"]?["max_tokens"] == .int(Int64(sent)))
        }
    }

    @Test("a truncated non-streamed body is a connection error; the retry succeeds", arguments: [ProtocolCase.gemini, ProtocolCase.ollama, ProtocolCase.openai])
    func truncatedBody(_ p: ProtocolCase) throws {
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"truncate_body":true}]"#)
        let r = try #require(completeOnThread(router, try p.chat("cut short"))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: cut short")
        #expect(r["attempts"]?.arrayValue?.first?["status_name"] == "PMX_ERR_CONNECTION")
        #expect(r["attempts"]?.arrayValue?.count == 2)
    }

    @Test("anthropic: 529 overloaded is a server error: retried, then the stream succeeds")
    func anthropicOverloaded() throws {
        let p = ProtocolCase.anthropic
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"status":529,"message":"Overloaded"}]"#)
        let out = try #require(streamOnThread(router, try p.chat("busy")))
        #expect(out.error == nil)
        #expect(out.text == "echo: busy")
        #expect(out.lines.prefix(3) == ["start an claude-sonnet-4-5 #1", "retry an #1 PMX_ERR_UPSTREAM_SERVER", "start an claude-sonnet-4-5 #2"])
    }

    @Test("anthropic: disconnect before the first delta is retried (nothing reached the caller)", arguments: [0, 3])
    func anthropicDisconnectBeforeOutput(chunks: Int) throws {
        let p = ProtocolCase.anthropic
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"disconnect_after_chunks":\#(chunks)}]"#)
        let out = try #require(streamOnThread(router, try p.chat("retry me")))
        #expect(out.error == nil)
        #expect(out.text == "echo: retry me")  // exactly once
        #expect(out.lines.contains("retry an #1 PMX_ERR_CONNECTION"), "\(out.lines)")
        #expect(try server.requests(scope(p)).count == 2)
    }

    @Test("anthropic: health() is GET /v1/models?limit=1 and answers ok")
    func anthropicHealth() throws {
        let p = ProtocolCase.anthropic
        let router = try makeRouter(p)
        defer { router.close() }
        let doc = try #require(runOnThread { transcribed(.health, (try? router.health()) ?? .null) })
        let entry0 = try #require(doc["providers"]?.arrayValue?.first)
        #expect(entry0["healthy"] == true)
        #expect(entry0["http_status"] == 200)
        let entry = try #require(try server.requests(scope(p)).first)
        #expect(entry["path"] == .string("/\(scope(p))/v1/models?limit=1"))
        #expect(entry["headers"]?["anthropic-version"] == "2023-06-01")
    }

    @Test("gemini: images: a data URL as inlineData, an https URL as fileData, accepted by the server")
    func geminiImages() throws {
        let p = ProtocolCase.gemini
        let router = try makeRouter(p)
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"gemini-2.0-flash","messages":[{"role":"user","content":[
              {"type":"text","text":"describe"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/a.webp"}}]}]}
            """#))
        let r = try #require(completeOnThread(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: describe")
        let parts = try server.requests(scope(p)).first?["json"]?["contents"]?.arrayValue?.first?["parts"]
        #expect(parts == [["text": "describe"], ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]],
                          ["fileData": ["mimeType": "image/webp", "fileUri": "https://example.com/a.webp"]]])
    }

    @Test("gemini: embeddings: one input via embedContent, several via batchEmbedContents")
    func geminiEmbeddings() throws {
        let p = ProtocolCase.gemini
        let router = try makeRouter(p)
        defer { router.close() }
        func embed(_ input: String) throws -> JSONObject? {
            let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"text-embedding-004","input":\#(input)}"#))
            return try embedOnThread(router, req)?.get()
        }
        let one = try #require(try embed(#""alpha""#))
        #expect(one["data"]?.arrayValue?.count == 1)
        #expect(one["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.count == 8)
        let two = try #require(try embed(#"["alpha","beta"]"#))
        let data = try #require(two["data"]?.arrayValue)
        #expect(data.map { $0["index"] } == [0, 1])
        #expect(data[0]["embedding"] == one["data"]?.arrayValue?.first?["embedding"])
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(two["provider"] == "g")
        let log = try server.requests(scope(p))
        #expect(log.map { $0["path"]?.stringValue ?? "" } == [
            "/\(scope(p))/v1beta/models/text-embedding-004:embedContent",
            "/\(scope(p))/v1beta/models/text-embedding-004:batchEmbedContents",
        ])
        #expect(log.allSatisfy { $0["headers"]?["x-goog-api-key"] == .string(p.key) })
    }

    @Test("gemini: 400 API_KEY_INVALID is an auth error, not retried")
    func geminiBadKey() throws {
        let p = ProtocolCase.gemini
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"status":400,"message":"API key not valid. Please pass a valid API key.","error_code":"API_KEY_INVALID","times":5}]"#)
        let result = try #require(completeOnThread(router, try p.chat("hi")))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .auth)
        #expect(e.message.contains("API key not valid"))
        #expect(!e.message.contains(p.key))
        #expect(try server.requests(scope(p)).count == 1)
    }

    @Test("cohere: embeddings: /v2/embed, float vectors as an OpenAI list")
    func cohereEmbeddings() throws {
        let p = ProtocolCase.cohere
        let router = try makeRouter(p)
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"embed-v4.0","input":["alpha","beta"]}"#))
        let o = try #require(embedOnThread(router, req)).get()
        let data = try #require(o["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.map { $0["embedding"]?.arrayValue?.count } == [8, 8])
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(o["object"] == "list")
        #expect(o["usage"]?["prompt_tokens"] == 2)
        let entry = try #require(try server.requests(scope(p)).first)
        #expect(entry["path"] == .string("/\(scope(p))/v2/embed"))
        #expect(entry["json"]?["texts"] == ["alpha", "beta"])
        #expect(entry["json"]?["input_type"] == "search_document")
        #expect(entry["headers"]?["authorization"] == .string(p.authValue))
    }

    @Test("cohere: a monthly trial limit is quota exhaustion: not retried")
    func cohereQuota() throws {
        let p = ProtocolCase.cohere
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"status":429,"times":5,"message":"You are using a Trial key, which is limited to 1000 API calls / month."}]"#)
        let result = try #require(completeOnThread(router, try p.chat("x")))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .quotaExceeded)
        #expect(e.message.contains("1000 API calls / month"))
        #expect(try server.requests(scope(p)).count == 1)
    }

    @Test("ollama: vision: a data: URL image goes as bare base64 in images")
    func ollamaVision() throws {
        let p = ProtocolCase.ollama
        let router = try makeRouter(p)
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"{"model":"llava","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}"#))
        let r = try #require(completeOnThread(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: what is this")
        let sent = try #require(try server.requests(scope(p)).first?["json"]?["messages"]?.arrayValue?.first)
        #expect(sent == ["role": "user", "content": "what is this", "images": ["iVBORw0KGgo="]])
    }

    @Test("ollama: embeddings: /api/embed → an OpenAI list")
    func ollamaEmbeddings() throws {
        let p = ProtocolCase.ollama
        let router = try makeRouter(p)
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"nomic-embed-text","input":["alpha","beta gamma"]}"#))
        let r = try #require(embedOnThread(router, req)).get()
        #expect(r["object"] == "list")
        #expect(r["model"] == "nomic-embed-text")
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 3, "total_tokens": 3])
        #expect(r["usage"]?["cost_usd"] == 0.0)  // a local server costs nothing
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.allSatisfy { $0["embedding"]?.arrayValue?.count == 8 })
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(data[1]["index"] == 1)
        let entry = try #require(try server.requests(scope(p)).first)
        #expect(entry["path"] == .string("/\(scope(p))/api/embed"))
        #expect(entry["json"] == ["model": "nomic-embed-text", "input": ["alpha", "beta gamma"]])
    }

    @Test("ollama: models() from /api/tags names with details and guessed capabilities; health(): /api/version")
    func ollamaModelsAndHealth() throws {
        let p = ProtocolCase.ollama
        try server.setModels(scope(p), #"[{"id":"llama3.2:3b"},{"id":"nomic-embed-text:latest"}]"#)
        let router = try makeRouter(p, extra: #","timeouts":{"health_ms":2000}"#)
        defer { router.close() }
        let doc = try #require(runOnThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == ["ol/llama3.2:3b", "ol/nomic-embed-text:latest"])
        #expect(data.first?["model"] == "llama3.2:3b")
        #expect(data.map { $0["capabilities"] } == [["chat"], ["embeddings"]])
        #expect(data.first?["details"]?["quantization_level"] == "Q4_K_M")
        let health = try #require(runOnThread { transcribed(.health, (try? router.health()) ?? .null) })
        let h = try #require(health["providers"]?.arrayValue?.first)
        #expect(h["healthy"] == true)
        #expect(h["http_status"] == 200)
        let log = try server.requests(scope(p))
        #expect(log.map { $0["path"]?.stringValue ?? "" } == ["/\(scope(p))/api/tags", "/\(scope(p))/api/version"])
        #expect(log.allSatisfy { $0["method"] == "GET" && $0["headers"]?["authorization"] == .string(p.authValue) })
    }

    @Test("ollama: 404 model not found: MODEL_NOT_FOUND with Ollama's text")
    func ollamaModelNotFound() throws {
        let p = ProtocolCase.ollama
        let router = try makeRouter(p)
        defer { router.close() }
        try server.script(scope(p), #"[{"status":404,"message":"model \"llama9\" not found, try pulling it first","times":5}]"#)
        let req = try ChatRequest.parse(JSONParser.parse(#"{"model":"llama9","messages":[{"role":"user","content":"hi"}]}"#))
        let result = try #require(completeOnThread(router, req))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .modelNotFound)
        #expect(e.message.contains(#"model "llama9" not found, try pulling it first"#))
    }
}
