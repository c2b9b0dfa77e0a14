import Foundation
import Testing
@testable import ProviderMuxCore

// A `gemini` provider over REAL libcurl against Tests/upstream/fake_upstream.py (its
// protocols/gemini.py handler, which refuses fields and parts the real API refuses): plain,
// streamed, tool calls and their results, images, embeddings, models, retries and stream
// faults. Every blocking call runs on its own thread with a bounded wait.

private let gemKey = "test-key-gemini-123"

// Thread handoff, stream collection and blocking wrappers: IntegrationSupport.swift.
private typealias GemStream = ProtocolStream
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }
private func complete(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? { completeOnThread(router, request) }
private func stream(_ router: Router, _ request: ChatRequest) -> ProtocolStream? { streamOnThread(router, request) }

private func chat(_ prompt: String, extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private let weatherTools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]"#

@Suite("Gemini integration: libcurl against the fake upstream", .serialized)
final class GeminiIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    func scope(_ name: String = "g") -> String { "gem-\(name)-\(id)" }

    func providerJSON(_ name: String = "g") -> String {
        #"{"name":"\#(name)","type":"gemini","base_url":"http://127.0.0.1:\#(server.port)/\#(scope(name))","api_key":"\#(gemKey)","retry":{"initial_backoff_ms":10,"jitter":0}}"#
    }

    func makeRouter(_ names: [String] = ["g"]) throws -> Router {
        try Router(config: RouterConfig.parse(#"{"providers":[\#(names.map { providerJSON($0) }.joined(separator: ","))]}"#))
    }

    var modelPath: String { "/\(scope())/v1beta/models/gemini-2.0-flash" }

    @Test("complete: echo reply, STOP → stop, usage; the request log shows the path, x-goog-api-key and Gemini's fields")
    func plain() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"gemini-2.0-flash","temperature":0.5,"max_tokens":50,"stop":"END",
             "messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there world"}]}
            """#))
        let r = try #require(complete(router, req)).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "echo: hello there world")
        #expect(choice["finish_reason"] == "stop")
        #expect(r["model"] == "gemini-2.0-flash")
        #expect(r["provider"] == "g")
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9])
        let log = try server.requests(scope())
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string(modelPath + ":generateContent"))
        #expect(entry["headers"]?["x-goog-api-key"] == .string(gemKey))
        #expect(entry["headers"]?["authorization"] == nil)
        #expect(entry["headers"]?["content-type"] == "application/json")
        #expect(entry["json"]?["systemInstruction"] == ["parts": [["text": "be brief"]]])
        #expect(entry["json"]?["contents"] == [["role": "user", "parts": [["text": "hello there world"]]]])
        #expect(entry["json"]?["generationConfig"] == ["candidateCount": 1, "temperature": 0.5, "maxOutputTokens": 50, "stopSequences": ["END"]])
        #expect(entry["body"]?.stringValue?.contains(gemKey) == false)
    }

    @Test("stream: deltas concatenate to the reply, the usage-only chunk is harmless, then usage and done")
    func streamed() throws {
        let router = try makeRouter()
        defer { router.close() }
        let out = try #require(stream(router, try chat("the quick brown fox")))
        let r = try out.result.get()
        #expect(out.text == "echo: the quick brown fox")
        #expect(out.lines.first == "start g gemini-2.0-flash #1")
        #expect(out.lines.filter { $0 == "delta" }.count == 5)
        #expect(Array(out.lines.suffix(2)) == ["usage 4/5/9", "done g"])
        #expect(out.terminals == 1)
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: the quick brown fox")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(r["id"]?.stringValue?.hasPrefix("fake-gemini-") == true)
        let entry = try #require(try server.requests(scope()).first)
        #expect(entry["path"] == .string(modelPath + ":streamGenerateContent?alt=sse"))
        #expect(entry["headers"]?["accept"] == "text/event-stream")
        #expect(entry["headers"]?["x-goog-api-key"] == .string(gemKey))
    }

    @Test("a tool call, plain and streamed: one whole call, arguments as a JSON string, id and name stable")
    func toolCalls() throws {
        let router = try makeRouter()
        defer { router.close() }
        let plain = try #require(complete(router, try chat("what is the weather in Paris", extra: weatherTools + #","tool_choice":"required""#))).get()
        let choice = try #require(plain["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        let call = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(call["type"] == "function")
        #expect(call["function"]?["name"] == "get_weather")
        #expect(call["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(call["id"]?.stringValue?.hasPrefix("call_fake-gemini-") == true)

        let out = try #require(stream(router, try chat("what is the weather in Paris", extra: weatherTools)))
        let r = try out.result.get()
        #expect(out.toolDeltas.count == 1)
        let delta = try #require(out.toolDeltas.first)
        #expect(delta["index"] == 0)
        #expect(delta["function"]?["name"] == "get_weather")
        let args = out.toolDeltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
        #expect(args == #"{"city":"Paris"}"#)
        let final = try #require(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(final["id"] == delta["id"])
        #expect(final["function"]?["arguments"] == .string(args))
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")

        let log = try server.requests(scope())
        #expect(log.count == 2)
        #expect(log[0]["json"]?["tools"] == [["functionDeclarations": [["name": "get_weather", "description": "Current weather",
            "parametersJsonSchema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"], "additionalProperties": false]]]]])
        #expect(log[0]["json"]?["toolConfig"] == ["functionCallingConfig": ["mode": "ANY"]])
    }

    @Test("the tool result goes back as a functionResponse named after its call, and the model answers")
    func toolRoundTrip() throws {
        let router = try makeRouter()
        defer { router.close() }
        let first = try #require(complete(router, try chat("weather in Paris please", extra: weatherTools))).get()
        let message = try #require(first["choices"]?.arrayValue?.first?["message"])
        let callId = try #require(message["tool_calls"]?.arrayValue?.first?["id"]?.stringValue)
        let followUp = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"gemini-2.0-flash","messages":[
              {"role":"user","content":"weather in Paris please"},
              \#(JSONWriter.string(message)),
              {"role":"tool","tool_call_id":"\#(callId)","content":"{\"temp_c\":21}"}]\#(weatherTools)}
            """#))
        let second = try #require(complete(router, followUp)).get()
        #expect(second["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: weather in Paris please")
        let sent = try #require(try server.requests(scope()).last?["json"]?["contents"]?.arrayValue)
        #expect(sent.map { $0["role"]?.stringValue } == ["user", "model", "user"])
        #expect(sent[1]["parts"] == [["functionCall": ["name": "get_weather", "args": ["city": "Paris"]]]])
        #expect(sent[2]["parts"] == [["functionResponse": ["name": "get_weather", "response": ["temp_c": 21]]]])
    }

    @Test("images: a data URL as inlineData, an https URL as fileData, accepted by the server")
    func images() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"gemini-2.0-flash","messages":[{"role":"user","content":[
              {"type":"text","text":"describe"},
              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
              {"type":"image_url","image_url":{"url":"https://example.com/a.webp"}}]}]}
            """#))
        let r = try #require(complete(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: describe")
        let parts = try server.requests(scope()).first?["json"]?["contents"]?.arrayValue?.first?["parts"]
        #expect(parts == [["text": "describe"], ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]],
                          ["fileData": ["mimeType": "image/webp", "fileUri": "https://example.com/a.webp"]]])
    }

    @Test("embeddings: one input via embedContent, several via batchEmbedContents")
    func embeddings() throws {
        let router = try makeRouter()
        defer { router.close() }
        func embed(_ input: String) throws -> JSONObject? {
            let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"text-embedding-004","input":\#(input)}"#))
            let result: Result<JSONObject, PMXError>? = onThread {
                do { return .success(try router.embed(req)) } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "")) }
            }
            return try result?.get()
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
        let log = try server.requests(scope())
        #expect(log.map { $0["path"]?.stringValue ?? "" } == [
            "/\(scope())/v1beta/models/text-embedding-004:embedContent",
            "/\(scope())/v1beta/models/text-embedding-004:batchEmbedContents",
        ])
        #expect(log.allSatisfy { $0["headers"]?["x-goog-api-key"] == .string(gemKey) })
    }

    @Test("models(): Gemini's list with context length and capabilities")
    func models() throws {
        try server.setModels(scope(), #"[{"id":"gemini-x"},{"id":"text-embedding-9"}]"#)
        let router = try makeRouter()
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.map { $0["id"]?.stringValue } == ["g/gemini-x", "g/text-embedding-9"])
        #expect(data.first?["context_length"] == 32768)
        #expect(data.map { $0["capabilities"] } == [["chat"], ["embeddings"]])
        #expect(doc["errors"]?.arrayValue?.isEmpty ?? true)
        let entry = try #require(try server.requests(scope()).first)
        #expect(entry["method"] == "GET")
        #expect(entry["path"] == .string("/\(scope())/v1beta/models?pageSize=1000"))
        #expect(entry["headers"]?["x-goog-api-key"] == .string(gemKey))
    }

    @Test("429 RESOURCE_EXHAUSTED with Retry-After, then success: 2 attempts, Gemini's message kept")
    func rateLimitedThenSuccess() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope(), #"[{"status":429,"retry_after":0.05}]"#)
        let r = try #require(complete(router, try chat("again"))).get()
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 2)
        #expect(attempts.map { $0["status_name"]?.stringValue } == ["PMX_ERR_RATE_LIMITED", nil])
        #expect(attempts[0]["message"] == "HTTP 429: fake fault 429 (RESOURCE_EXHAUSTED)")
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: again")
        #expect(try server.requests(scope()).count == 2)
    }

    @Test("400 API_KEY_INVALID is an auth error, not retried")
    func badKey() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope(), #"[{"status":400,"message":"API key not valid. Please pass a valid API key.","error_code":"API_KEY_INVALID","times":5}]"#)
        let result = try #require(complete(router, try chat("hi")))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .auth)
        #expect(e.message.contains("API key not valid"))
        #expect(!e.message.contains(gemKey))
        #expect(try server.requests(scope()).count == 1)
    }

    @Test("disconnect after output started: STREAM_INTERRUPTED, not retried")
    func disconnectMidStream() throws {
        let router = try makeRouter(["g", "h"])
        defer { router.close() }
        try server.script(scope(), #"[{"disconnect_after_chunks":3}]"#)
        let out = try #require(stream(router, try chat("one two three four")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "g")
        #expect(out.text == "echo: one two ")
        #expect(out.terminals == 1)
        #expect(!out.lines.contains { $0.hasPrefix("retry") || $0.hasPrefix("fallback") })
        #expect(try server.requests(scope("h")).isEmpty)
    }

    @Test("an in-stream error object after output: STREAM_INTERRUPTED with Gemini's message")
    func errorEventMidStream() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope(), #"[{"error_event_after_chunks":2}]"#)
        let out = try #require(stream(router, try chat("alpha beta gamma")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.message.contains("fake mid-stream error"))
        #expect(out.text == "echo: alpha ")
    }

    @Test("an in-stream error before any output is retried like a server error")
    func errorEventBeforeOutput() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope(), #"[{"error_event_after_chunks":0}]"#)
        let out = try #require(stream(router, try chat("alpha")))
        #expect(out.error == nil)
        #expect(out.text == "echo: alpha")
        #expect(out.lines.contains("retry g #1 PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("a malformed event before output fails over to the next provider")
    func malformedBeforeOutput() throws {
        let router = try makeRouter(["g", "h"])
        defer { router.close() }
        try server.script(scope(), #"[{"malformed_chunk_at":0}]"#)
        let out = try #require(stream(router, try chat("bad bytes")))
        let r = try out.result.get()
        #expect(r["provider"] == "h")
        #expect(out.lines.prefix(3) == ["start g gemini-2.0-flash #1", "fallback g->h PMX_ERR_UPSTREAM_PROTOCOL", "start h gemini-2.0-flash #2"])
        #expect(out.text == "echo: bad bytes")
    }

    @Test("a truncated non-streamed body is a connection error; the retry succeeds")
    func truncatedBody() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope(), #"[{"truncate_body":true}]"#)
        let r = try #require(complete(router, try chat("cut short"))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: cut short")
        #expect(r["attempts"]?.arrayValue?.first?["status_name"] == "PMX_ERR_CONNECTION")
    }
}
