import Foundation
import Testing
@testable import ProviderMuxCore

// An `anthropic` provider over REAL libcurl against Tests/upstream/fake_upstream.py (its
// protocols/anthropic.py handler): plain, streamed, tool calls, models, retries and stream
// faults. Every blocking call runs on its own thread with a bounded wait.

private let anKey = "test-key-anthropic-123"

// Thread handoff, stream collection and blocking wrappers: IntegrationSupport.swift.
private typealias AnStream = ProtocolStream
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }
private func complete(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? { completeOnThread(router, request) }
private func stream(_ router: Router, _ request: ChatRequest) -> ProtocolStream? { streamOnThread(router, request) }

private func chat(_ prompt: String, extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private let weatherTools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

@Suite("Anthropic integration: libcurl against the fake upstream", .serialized)
final class AnthropicIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    var scope: String { "an-\(id)" }

    /// One anthropic provider at the scope's host root (Anthropic's base URL has no /v1).
    func makeRouter(extra: String = "") throws -> Router {
        let provider = #"{"name":"an","type":"anthropic","base_url":"http://127.0.0.1:\#(server.port)/\#(scope)","api_key":"\#(anKey)","retry":{"initial_backoff_ms":10,"jitter":0}\#(extra)}"#
        return try Router(config: RouterConfig.parse(#"{"providers":[\#(provider)]}"#))
    }

    @Test("complete: echo reply, end_turn → stop, usage; the request log shows /v1/messages, x-api-key, anthropic-version, the hoisted system prompt")
    func plain() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
        {"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello there world"}],
         "temperature":0.5,"stop":"END","seed":3}
        """#))
        let r = try #require(complete(router, req)).get()
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "echo: hello there world")
        #expect(choice["finish_reason"] == "stop")
        #expect(r["model"] == "claude-sonnet-4-5")
        #expect(r["provider"] == "an")
        #expect(r["id"]?.stringValue?.hasPrefix("msg_fake_") == true)
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9, "prompt_tokens_details": ["cached_tokens": 0]])
        let log = try server.requests(scope)
        #expect(log.count == 1)
        let entry = try #require(log.first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string("/\(scope)/v1/messages"))
        #expect(entry["headers"]?["x-api-key"] == .string(anKey))
        #expect(entry["headers"]?["anthropic-version"] == "2023-06-01")
        #expect(entry["headers"]?["content-type"] == "application/json")
        #expect(entry["headers"]?["authorization"] == nil)
        let json = try #require(entry["json"])
        #expect(json["system"] == "Be brief.")
        #expect(json["messages"] == [["role": "user", "content": "hello there world"]])
        #expect(json["max_tokens"] == 4096)
        #expect(json["stop_sequences"] == ["END"])
        #expect(json["temperature"] == 0.5)
        #expect(json["seed"] == nil)
        #expect(json["stream"] == false)
        #expect(entry["body"]?.stringValue?.contains(anKey) == false)
    }

    @Test("stream: deltas concatenate to the reply, then usage (input from message_start), then done")
    func streamed() throws {
        let router = try makeRouter()
        defer { router.close() }
        let out = try #require(stream(router, try chat("the quick brown fox")))
        let r = try out.result.get()
        #expect(out.text == "echo: the quick brown fox")
        #expect(out.lines.first == "start an claude-sonnet-4-5 #1")
        #expect(out.lines.filter { $0 == "delta" }.count == 5)
        #expect(Array(out.lines.suffix(2)) == ["usage 4/5/9", "done an"])
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: the quick brown fox")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(r["id"]?.stringValue?.hasPrefix("msg_fake_") == true)
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
        #expect(choice["message"]?["tool_calls"] == [["id": "toolu_fake_1", "type": "function",
                                                      "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]]])

        let out = try #require(stream(router, try chat("what is the weather in Paris?", extra: weatherTools)))
        let r = try out.result.get()
        let deltas = out.toolDeltas
        #expect(deltas.count == 4)  // start + 3 argument pieces (the empty first piece is skipped)
        #expect(deltas.allSatisfy { $0["index"] == 0 })
        #expect(deltas.first?["id"] == "toolu_fake_1")
        #expect(deltas.first?["function"]?["name"] == "get_weather")
        #expect(deltas.dropFirst().allSatisfy { $0["id"] == nil && $0["function"]?["name"] == nil })
        #expect(deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"city": "Paris"}"#)
        #expect(out.text.isEmpty)
        #expect(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"] == [["id": "toolu_fake_1", "type": "function",
                                                                                "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        let sent = try #require(try server.requests(scope).last?["json"])
        #expect(sent["tools"] == [["name": "get_weather", "description": "Current weather",
                                   "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]]])
    }

    @Test("a tool result round trip: tool_use and tool_result blocks go back, the next user text is answered")
    func toolResult() throws {
        let router = try makeRouter()
        defer { router.close() }
        let req = try ChatRequest.parse(JSONParser.parse(#"""
        {"model":"claude-sonnet-4-5","messages":[
          {"role":"user","content":"weather in Paris?"},
          {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
          {"role":"tool","tool_call_id":"toolu_fake_1","content":"{\"temp_c\": 21}"},
          {"role":"user","content":"thanks, summarize"}],
         "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
        """#))
        let r = try #require(complete(router, req)).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks, summarize")
        let sent = try #require(try server.requests(scope).first?["json"]?["messages"]?.arrayValue)
        #expect(sent.count == 3)
        #expect(sent[1] == ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_fake_1", "name": "get_weather", "input": ["city": "Paris"]]]])
        #expect(sent[2] == ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_fake_1", "content": #"{"temp_c": 21}"#],
                                                        ["type": "text", "text": "thanks, summarize"]]])
    }

    @Test("max_tokens reached: finish_reason length")
    func length() throws {
        let router = try makeRouter()
        defer { router.close() }
        let r = try #require(complete(router, try chat("a b c d e", extra: #","max_tokens":3"#))).get()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: a b ")
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(try server.requests(scope).first?["json"]?["max_tokens"] == 3)
    }

    @Test("models(): Anthropic's list with display names; GET /v1/models?limit=1000 with the key and version")
    func models() throws {
        try server.setModels(scope, #"[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},{"id":"fake-small"}]"#)
        let router = try makeRouter()
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == ["an/claude-sonnet-4-5-20250929", "an/fake-small"])
        #expect(data.map { $0["capabilities"] } == [["chat", "tools", "vision"], ["chat"]])
        #expect(data.first?["details"]?["display_name"] == "Claude Sonnet 4.5")
        #expect(doc["errors"]?.arrayValue?.isEmpty == true)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["method"] == "GET")
        #expect(entry["path"] == .string("/\(scope)/v1/models?limit=1000"))
        #expect(entry["headers"]?["x-api-key"] == .string(anKey))
        #expect(entry["headers"]?["anthropic-version"] == "2023-06-01")
    }

    @Test("429 with Retry-After, then success: Anthropic's message kept, 2 attempts")
    func rateLimited() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":429,"retry_after":0.1,"message":"Number of request tokens has exceeded your per-minute rate limit"}]"#)
        let r = try #require(complete(router, try chat("again"))).get()
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 2)
        #expect(attempts.first?["status_name"] == "PMX_ERR_RATE_LIMITED")
        #expect(attempts.first?["message"] == "HTTP 429: Number of request tokens has exceeded your per-minute rate limit (rate_limit_error)")
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: again")
        #expect(try server.requests(scope).count == 2)
    }

    @Test("529 overloaded is a server error: retried, then the stream succeeds")
    func overloaded() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"status":529,"message":"Overloaded"}]"#)
        let out = try #require(stream(router, try chat("busy")))
        #expect(out.error == nil)
        #expect(out.text == "echo: busy")
        #expect(out.lines.prefix(3) == ["start an claude-sonnet-4-5 #1", "retry an #1 PMX_ERR_UPSTREAM_SERVER", "start an claude-sonnet-4-5 #2"])
    }

    @Test("disconnect after output started: STREAM_INTERRUPTED, one terminal event, not retried")
    func disconnect() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"disconnect_after_chunks":5}]"#)
        let out = try #require(stream(router, try chat("one two three four")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "an")
        #expect(out.text == "echo: one ")  // message_start, content_block_start, ping, 2 text deltas
        // message_start's input tokens survive the cut; one completion token per delta.
        #expect(e.partialUsage?.promptTokens == 4)
        #expect(e.partialUsage?.completionTokens == 2)
        #expect(out.terminals == 1)
        #expect(!out.lines.contains { $0.hasPrefix("retry") })
        #expect(try server.requests(scope).count == 1)
    }

    @Test("disconnect before the first delta is retried (nothing reached the caller)", arguments: [0, 3])
    func disconnectBeforeOutput(chunks: Int) throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"disconnect_after_chunks":\#(chunks)}]"#)
        let out = try #require(stream(router, try chat("retry me")))
        #expect(out.error == nil)
        #expect(out.text == "echo: retry me")  // exactly once
        #expect(out.lines.contains("retry an #1 PMX_ERR_CONNECTION"), "\(out.lines)")
        #expect(try server.requests(scope).count == 2)
    }

    @Test("health: GET /v1/models?limit=1 answers ok")
    func health() throws {
        let router = try makeRouter()
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.health, (try? router.health()) ?? .null) })
        let entry0 = try #require(doc["providers"]?.arrayValue?.first)
        #expect(entry0["healthy"] == true)
        #expect(entry0["http_status"] == 200)
        let entry = try #require(try server.requests(scope).first)
        #expect(entry["path"] == .string("/\(scope)/v1/models?limit=1"))
        #expect(entry["headers"]?["anthropic-version"] == "2023-06-01")
    }

    @Test("an in-stream overloaded_error after output: STREAM_INTERRUPTED with Anthropic's message")
    func errorEventMidStream() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"error_event_after_chunks":4}]"#)
        let out = try #require(stream(router, try chat("alpha beta gamma")))
        let e = try #require(out.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.message.contains("overloaded_error: Overloaded"), "\(e.message)")
        #expect(e.httpStatus == 529)
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
        #expect(out.lines.contains("retry an #1 PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("a malformed event before output: PMX_ERR_UPSTREAM_PROTOCOL naming the Anthropic stream, not retried")
    func malformed() throws {
        let router = try makeRouter()
        defer { router.close() }
        try server.script(scope, #"[{"malformed_chunk_at":3}]"#)
        let out = try #require(stream(router, try chat("bad bytes")))
        let e = try #require(out.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.contains("Anthropic stream: malformed content_block_delta event"), "\(e.message)")
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
