import Foundation
import Testing
@testable import ProviderMuxCore

// An `ollama` provider over REAL libcurl against Tests/upstream/fake_upstream.py (its
// protocols/ollama.py handler): plain, streamed (NDJSON), tool calls, embeddings, models,
// health, retries and stream faults. Every blocking call runs on its own thread with a bounded
// wait, so nothing here can hang.

private let olKey = "test-key-ollama-123"

// Thread handoff, stream collection and blocking wrappers: IntegrationSupport.swift.
private typealias OlStream = ProtocolStream
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }
private func complete(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? { completeOnThread(router, request) }
private func stream(_ router: Router, _ request: ChatRequest) -> ProtocolStream? { streamOnThread(router, request) }

private func chat(_ prompt: String, model: String = "llama3.2", extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private let weatherTools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

@Suite("Ollama integration: libcurl against the fake upstream", .serialized)
final class OllamaIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    var scope: String { "ol-\(id)" }

    func providerJSON(_ name: String = "ol", scope: String? = nil, extra: String = "") -> String {
        #"{"name":"\#(name)","type":"ollama","base_url":"http://127.0.0.1:\#(server.port)/\#(scope ?? self.scope)","api_key":"\#(olKey)","retry":{"initial_backoff_ms":10,"jitter":0}\#(extra)}"#
    }

    /// An ollama provider at the scope's root (Ollama's base URL is the server root, no /v1).
    func makeRouter(_ providers: [String]? = nil, extra: String = "") throws -> Router {
        try Router(config: RouterConfig.parse(#"{"providers":[\#((providers ?? [providerJSON()]).joined(separator: ","))]\#(extra)}"#))
    }

    @Test("complete: echo reply, counts → usage; the request log shows /api/chat, stream false, options and the bearer key")
    func plain() throws {
        let router = try makeRouter()
        defer { router.close() }
        let r = try #require(complete(router, try chat("hello there world", extra: #","temperature":0.3,"stop":"END","max_tokens":50,"num_ctx":4096"#))).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "echo: hello there world")
        #expect(choice["finish_reason"] == "stop")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "llama3.2")
        #expect(r["provider"] == "ol")
        // The fake takes 20 ms a token: 50 tokens/s from its eval_duration.
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7, "tokens_per_second": 50.0])
        let log = try server.requests(scope)
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string("/\(scope)/api/chat"))
        #expect(entry["headers"]?["authorization"] == .string("Bearer \(olKey)"))
        #expect(entry["headers"]?["content-type"] == "application/json")
        #expect(entry["json"]?["stream"] == false)
        #expect(entry["json"]?["model"] == "llama3.2")
        #expect(entry["json"]?["options"] == ["temperature": 0.3, "num_ctx": 4096, "stop": ["END"], "num_predict": 50])
        #expect(entry["json"]?["max_tokens"] == nil)
        #expect(entry["body"]?.stringValue?.contains(olKey) == false)
    }

    @Test("stream: NDJSON deltas concatenate to the reply, usage from the done line, then done")
    func streamed() throws {
        let router = try makeRouter()
        defer { router.close() }
        let prompt = "the quick brown fox jumps"
        let out = try #require(stream(router, try chat(prompt)))
        let r = try out.result.get()
        #expect(out.text == "echo: " + prompt)
        #expect(out.lines.first == "start ol llama3.2 #1")
        #expect(out.lines.filter { $0 == "delta" }.count == 6)
        #expect(Array(out.lines.suffix(2)) == ["usage 5/6/11", "done ol"])
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == .string("echo: " + prompt))
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["json"]?["stream"] == true)
        #expect(entry["headers"]?["accept"] == "application/x-ndjson")
    }

    @Test("num_predict below the reply: finish_reason length")
    func length() throws {
        let router = try makeRouter()
        defer { router.close() }
        let r = try #require(complete(router, try chat("one two three four", extra: #","max_tokens":2"#))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: one ")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "length")
    }

    @Test("tool call, not streamed: arguments object → JSON string, finish tool_calls")
    func toolCallPlain() throws {
        let router = try makeRouter()
        defer { router.close() }
        let r = try #require(complete(router, try chat("what is the weather in Paris?", extra: weatherTools))).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        let calls = try #require(choice["message"]?["tool_calls"]?.arrayValue)
        #expect(calls.count == 1)
        #expect(calls[0]["id"] == "call_0" && calls[0]["type"] == "function")
        #expect(calls[0]["function"]?["name"] == "get_weather")
        #expect(try JSONParser.parse(calls[0]["function"]?["arguments"]?.stringValue ?? "") == ["city": "Paris"])
        #expect(choice["message"]?["content"] == .null)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["json"]?["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
    }

    @Test("tool call, streamed: one delta with id and name, arguments that parse; the follow-up turn is accepted")
    func toolCallStreamed() throws {
        let router = try makeRouter()
        defer { router.close() }
        let out = try #require(stream(router, try chat("weather in Paris please", extra: weatherTools)))
        let r = try out.result.get()
        let deltas = out.toolDeltas
        #expect(deltas.count == 1)
        #expect(deltas.first?["index"] == 0)
        #expect(deltas.first?["id"] == "call_0")
        #expect(deltas.first?["function"]?["name"] == "get_weather")
        let args = deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
        #expect(try JSONParser.parse(args) == ["city": "Paris"])
        let call = try #require(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(call["id"] == "call_0" && call["function"]?["name"] == "get_weather")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")

        // The next turn: the assistant's call and the tool result go back in Ollama's shape.
        let next = try ChatRequest.parse(JSONParser.parse(#"""
        {"model":"llama3.2","messages":[{"role":"user","content":"weather in Paris please"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"call_0","content":"21 C and sunny"},
          {"role":"user","content":"thanks"}]\#(weatherTools)}
        """#))
        let answer = try #require(complete(router, next)).get()
        #expect(answer["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks")
        let sent = try #require(try server.requests(scope).last?["json"]?["messages"]?.arrayValue)
        #expect(sent[1]["tool_calls"] == [["function": ["name": "get_weather", "arguments": ["city": "Paris"]]]])
        #expect(sent[2] == ["role": "tool", "content": "21 C and sunny", "tool_name": "get_weather"])
    }

    @Test("vision: a data: URL image goes as bare base64 in images")
    func vision() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"{"model":"llava","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}"#))
        let r = try #require(complete(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: what is this")
        let sent = try #require(try server.requests(scope).first?["json"]?["messages"]?.arrayValue?.first)
        #expect(sent == ["role": "user", "content": "what is this", "images": ["iVBORw0KGgo="]])
    }

    @Test("embeddings: /api/embed → an OpenAI list")
    func embeddings() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"nomic-embed-text","input":["alpha","beta gamma"]}"#))
        let result = try #require(onThread { () -> Result<JSONObject, PMXError> in
            do { return .success(try router.embed(req)) } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "")) }
        })
        let r = try result.get()
        #expect(r["object"] == "list")
        #expect(r["model"] == "nomic-embed-text")
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 3, "total_tokens": 3])
        #expect(r["usage"]?["cost_usd"] == 0.0)  // a local server costs nothing
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.allSatisfy { $0["embedding"]?.arrayValue?.count == 8 })
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(data[1]["index"] == 1)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["path"] == .string("/\(scope)/api/embed"))
        #expect(entry["json"] == ["model": "nomic-embed-text", "input": ["alpha", "beta gamma"]])
    }

    @Test("models(): /api/tags names with details and guessed capabilities; health(): /api/version")
    func modelsAndHealth() throws {
        try server.setModels(scope, #"[{"id":"llama3.2:3b"},{"id":"nomic-embed-text:latest"}]"#)
        let router = try makeRouter(extra: #","timeouts":{"health_ms":2000}"#)
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == ["ol/llama3.2:3b", "ol/nomic-embed-text:latest"])
        #expect(data.first?["model"] == "llama3.2:3b")
        #expect(data.map { $0["capabilities"] } == [["chat"], ["embeddings"]])
        #expect(data.first?["details"]?["quantization_level"] == "Q4_K_M")
        let health = try #require(onThread { transcribed(.health, (try? router.health()) ?? .null) })
        let p = try #require(health["providers"]?.arrayValue?.first)
        #expect(p["healthy"] == true)
        #expect(p["http_status"] == 200)
        let log = try server.requests(scope)
        #expect(log.map { $0["path"]?.stringValue ?? "" } == ["/\(scope)/api/tags", "/\(scope)/api/version"])
        #expect(log.allSatisfy { $0["method"] == "GET" && $0["headers"]?["authorization"] == .string("Bearer \(olKey)") })
    }

    @Test("429 with Retry-After, then success: 2 attempts")
    func rateLimitedThenOK() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":429,"retry_after_ms":30}]"#)
        let r = try #require(complete(router, try chat("again"))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: again")
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.map { $0["status_name"]?.stringValue } == ["PMX_ERR_RATE_LIMITED", nil])
        #expect(attempts.first?["message"] == "HTTP 429: fake fault 429")
        #expect(try server.requests(scope).count == 2)
    }

    @Test("404 model not found: MODEL_NOT_FOUND with Ollama's text")
    func modelNotFound() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":404,"message":"model \"llama9\" not found, try pulling it first","times":5}]"#)
        let result = try #require(complete(router, try chat("hi", model: "llama9")))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .modelNotFound)
        #expect(e.message.contains(#"model "llama9" not found, try pulling it first"#))
    }

    @Test("disconnect after 3 lines (output started): STREAM_INTERRUPTED, not retried")
    func disconnectMidStream() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"disconnect_after_chunks":3}]"#)
        let out = try #require(stream(router, try chat("one two three four")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "ol")
        #expect(out.text == "echo: one two ")
        #expect(out.terminals == 1)
        #expect(!out.lines.contains { $0.hasPrefix("retry") })
        #expect(try server.requests(scope).count == 1)
    }

    @Test("an {\"error\"} line after output started: STREAM_INTERRUPTED with the provider's text")
    func errorLineMidStream() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"error_event_after_chunks":2}]"#)
        let out = try #require(stream(router, try chat("alpha beta gamma")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.message.contains("fake mid-stream error"), "\(e.message)")
        #expect(out.text == "echo: alpha ")
        #expect(out.terminals == 1)
    }

    @Test("an {\"error\"} line before any output is retried like a server error")
    func errorLineBeforeOutput() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"error_event_after_chunks":0}]"#)
        let out = try #require(stream(router, try chat("alpha")))
        #expect(out.error == nil, "\(out.lines)")
        #expect(out.text == "echo: alpha")
        #expect(out.lines.contains("retry ol #1 PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("a malformed line before output fails over with UPSTREAM_PROTOCOL")
    func malformedBeforeOutput() throws {
        let router = try makeRouter([providerJSON("a", scope: scope + "-a"), providerJSON("b", scope: scope + "-b")])
        defer { router.close() }
        try server.script(scope + "-a", #"[{"malformed_chunk_at":0}]"#)
        let out = try #require(stream(router, try chat("bad bytes")))
        let r = try out.result.get()
        #expect(r["provider"] == "b")
        #expect(out.lines.prefix(3) == ["start a llama3.2 #1", "fallback a->b PMX_ERR_UPSTREAM_PROTOCOL", "start b llama3.2 #2"])
        #expect(out.text == "echo: bad bytes")
    }

    @Test("a truncated non-stream body is retried and then succeeds")
    func truncatedBody() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"truncate_body":true}]"#)
        let r = try #require(complete(router, try chat("cut short"))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: cut short")
        #expect(r["attempts"]?.arrayValue?.count == 2)
    }

    @Test("no model and no default_model: INVALID_REQUEST before any I/O")
    func noModel() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"hi"}]}"#))
        let result = try #require(complete(router, req))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .invalidRequest)
        #expect(try server.requests(scope).isEmpty)
    }
}
