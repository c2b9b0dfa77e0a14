import Foundation
import Testing
@testable import ProviderMuxCore

// A `cohere` provider over REAL libcurl against Tests/upstream/fake_upstream.py (its
// protocols/cohere.py handler): plain, streamed, tool calls, embeddings, models, retries and
// stream faults. Every blocking call runs on its own thread with a bounded wait.

private let coKey = "test-key-cohere-123"

// Thread handoff, stream collection and blocking wrappers: IntegrationSupport.swift.
private typealias CoStream = ProtocolStream
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }
private func complete(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? { completeOnThread(router, request) }
private func stream(_ router: Router, _ request: ChatRequest) -> ProtocolStream? { streamOnThread(router, request) }

private func chat(_ prompt: String, extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"command-a-03-2025","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private let weatherTools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

@Suite("Cohere integration: libcurl against the fake upstream", .serialized)
final class CohereIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    var scope: String { "co-\(id)" }

    /// One cohere provider at the scope's host root (Cohere's base URL has no /v1).
    func makeRouter(extra: String = "") throws -> Router {
        let provider = #"{"name":"co","type":"cohere","base_url":"http://127.0.0.1:\#(server.port)/\#(scope)","api_key":"\#(coKey)","retry":{"initial_backoff_ms":10,"jitter":0}\#(extra)}"#
        return try Router(config: RouterConfig.parse(#"{"providers":[\#(provider)]}"#))
    }

    @Test("complete: echo reply, COMPLETE → stop, usage from usage.tokens; the request log shows /v2/chat and the bearer key")
    func plain() throws {
        let router = try makeRouter()
        defer { router.close() }
        let r = try #require(complete(router, try chat("hello there world", extra: #","top_p":0.5,"stop":"END","max_tokens":50"#))).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "echo: hello there world")
        #expect(choice["finish_reason"] == "stop")
        #expect(r["model"] == "command-a-03-2025")
        #expect(r["provider"] == "co")
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 67, "completion_tokens": 4, "total_tokens": 71])
        let log = try server.requests(scope)
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string("/\(scope)/v2/chat"))
        #expect(entry["headers"]?["authorization"] == .string("Bearer \(coKey)"))
        #expect(entry["headers"]?["content-type"] == "application/json")
        #expect(entry["json"]?["p"] == 0.5)
        #expect(entry["json"]?["stop_sequences"] == ["END"])
        #expect(entry["json"]?["max_tokens"] == 50)
        #expect(entry["json"]?["stream"] == false)
        #expect(entry["body"]?.stringValue?.contains(coKey) == false)
    }

    @Test("stream: deltas concatenate to the reply, then usage, then done")
    func streamed() throws {
        let router = try makeRouter()
        defer { router.close() }
        let out = try #require(stream(router, try chat("the quick brown fox")))
        let r = try out.result.get()
        #expect(out.text == "echo: the quick brown fox")
        #expect(out.lines.first == "start co command-a-03-2025 #1")
        #expect(out.lines.filter { $0 == "delta" }.count == 5)
        #expect(Array(out.lines.suffix(2)) == ["usage 68/5/73", "done co"])
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: the quick brown fox")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(r["id"]?.stringValue?.hasPrefix("fake-") == true)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["json"]?["stream"] == true)
        #expect(entry["headers"]?["accept"] == "text/event-stream")
    }

    @Test("a tool call, plain and streamed: arguments concatenated, id and name stable")
    func toolCalls() throws {
        let router = try makeRouter()
        defer { router.close() }
        let plain = try #require(complete(router, try chat("what is the weather in Paris?", extra: weatherTools))).get()
        let choice = try #require(plain["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [["id": "get_weather_fake1", "type": "function",
                                                      "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])

        let out = try #require(stream(router, try chat("what is the weather in Paris?", extra: weatherTools)))
        let r = try out.result.get()
        let deltas = out.toolDeltas
        #expect(deltas.count == 4)  // start + 3 argument pieces
        #expect(deltas.allSatisfy { $0["index"] == 0 })
        #expect(deltas.first?["id"] == "get_weather_fake1")
        #expect(deltas.first?["function"]?["name"] == "get_weather")
        #expect(deltas.dropFirst().allSatisfy { $0["id"] == nil && $0["function"]?["name"] == nil })
        #expect(deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"city": "Paris"}"#)
        #expect(out.text.isEmpty)  // the tool plan is not content
        let message = r["choices"]?.arrayValue?.first?["message"]
        #expect(message?["tool_calls"] == [["id": "get_weather_fake1", "type": "function",
                                            "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        // The tools went out in Cohere's v2 function shape.
        #expect(try server.requests(scope).last?["json"]?["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
    }

    @Test("a tool result round trip: the assistant call and the tool's JSON result go back as Cohere messages")
    func toolResult() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
        {"model":"command-a-03-2025","messages":[
          {"role":"user","content":"weather in Paris?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"get_weather_fake1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"get_weather_fake1","content":"{\"temp_c\": 21}"},
          {"role":"user","content":"thanks, summarize"}]}
        """#))
        let r = try #require(complete(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks, summarize")
        let sent = try #require(try server.requests(scope).first?["json"]?["messages"]?.arrayValue)
        #expect(sent[2] == ["role": "tool", "tool_call_id": "get_weather_fake1",
                            "content": [["type": "document", "document": ["data": ["temp_c": 21]]]]])
    }

    @Test("embeddings: /v2/embed, float vectors as an OpenAI list")
    func embeddings() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"embed-v4.0","input":["alpha","beta"]}"#))
        let result = try #require(onThread { () -> Result<JSONObject, PMXError> in
            do { return .success(try router.embed(req)) } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "")) }
        })
        let o = try result.get()
        let data = try #require(o["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.map { $0["embedding"]?.arrayValue?.count } == [8, 8])
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(o["object"] == "list")
        #expect(o["usage"]?["prompt_tokens"] == 2)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["path"] == .string("/\(scope)/v2/embed"))
        #expect(entry["json"]?["texts"] == ["alpha", "beta"])
        #expect(entry["json"]?["input_type"] == "search_document")
        #expect(entry["headers"]?["authorization"] == .string("Bearer \(coKey)"))
    }

    @Test("models(): Cohere's list with context length and capabilities")
    func models() throws {
        try server.setModels(scope, #"[{"name":"command-a-03-2025","endpoints":["chat"],"context_length":256000,"features":["tools"]},{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000}]"#)
        let router = try makeRouter()
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == ["co/command-a-03-2025", "co/embed-v4.0"])
        #expect(data.map { $0["context_length"] } == [256000, 128000])
        #expect(data.map { $0["capabilities"] } == [["chat", "tools"], ["embeddings"]])
        #expect(doc["errors"]?.arrayValue?.isEmpty == true)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["method"] == "GET")
        #expect(entry["path"] == .string("/\(scope)/v1/models?page_size=1000"))
        #expect(entry["headers"]?["authorization"] == .string("Bearer \(coKey)"))
    }

    @Test("429 with Retry-After, then success: the Cohere message kept, 2 attempts")
    func rateLimited() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":429,"retry_after":0.1,"message":"You are using a Trial key, which is limited to 20 API calls / minute."}]"#)
        let r = try #require(complete(router, try chat("again"))).get()
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 2)
        #expect(attempts.first?["status_name"] == "PMX_ERR_RATE_LIMITED")
        #expect(attempts.first?["message"] == "HTTP 429: You are using a Trial key, which is limited to 20 API calls / minute.")
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: again")
        #expect(try server.requests(scope).count == 2)
    }

    @Test("a monthly trial limit is quota exhaustion: not retried")
    func quota() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":429,"times":5,"message":"You are using a Trial key, which is limited to 1000 API calls / month."}]"#)
        let result = try #require(complete(router, try chat("x")))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .quotaExceeded)
        #expect(e.message.contains("1000 API calls / month"))
        #expect(try server.requests(scope).count == 1)
    }

    @Test("disconnect after output started: STREAM_INTERRUPTED, one terminal event, not retried")
    func disconnect() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"disconnect_after_chunks":4}]"#)
        let out = try #require(stream(router, try chat("one two three four")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "co")
        #expect(out.text == "echo: one ")  // message-start, content-start, 2 content deltas
        #expect(out.terminals == 1)
        #expect(!out.lines.contains { $0.hasPrefix("retry") })
        #expect(try server.requests(scope).count == 1)
    }

    @Test("an in-stream error (message-end ERROR) after output: STREAM_INTERRUPTED with Cohere's message")
    func errorEventMidStream() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"error_event_after_chunks":3}]"#)
        let out = try #require(stream(router, try chat("alpha beta gamma")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.message.contains("fake mid-stream error"))
        #expect(out.text == "echo: ")
        #expect(out.terminals == 1)
    }

    @Test("an in-stream error before any output is retried, and the retry streams normally")
    func errorEventBeforeOutput() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"error_event_after_chunks":0}]"#)
        let out = try #require(stream(router, try chat("alpha")))
        #expect(out.error == nil)
        #expect(out.text == "echo: alpha")
        #expect(out.lines.contains("retry co #1 PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("a malformed event before output: PMX_ERR_UPSTREAM_PROTOCOL naming Cohere, not retried")
    func malformed() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"malformed_chunk_at":1}]"#)
        let out = try #require(stream(router, try chat("bad bytes")))
        let e = try #require(out.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.contains("cohere: malformed stream event"))
        #expect(out.text.isEmpty)
        #expect(out.terminals == 1)
        #expect(try server.requests(scope).count == 1)
    }

    @Test("no model and no default_model: refused before any request")
    func noModel() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"x"}]}"#))
        let result = try #require(complete(router, req))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .invalidRequest)
        #expect(try server.requests(scope).isEmpty)
    }
}
