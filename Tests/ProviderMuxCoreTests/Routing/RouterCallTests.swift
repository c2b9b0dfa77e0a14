// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
@testable import MuxRouting
import Testing

// pmx_router_call's core (Router.call / callStream) on the mock provider: a completion's result
// and stream, failover from a provider type without the operation, retries, cache, stats.

private func router(_ providers: String, extra: String = "") throws -> Router {
    try Router(config: RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(providers)]\#(extra)}"#)))
}

private let mock = #"{"name":"m","type":"mock"}"#

@Suite("Router.call")
struct RouterCallTests {
    @Test("completions.create: a text_completion with provider, attempts, usage; the mock answers from prompt and suffix")
    func complete() throws {
        let r = try router(mock)
        defer { r.close() }
        let o = try #require(try r.call(.completions, JSONParser.parse(#"{"model":"m/code","prompt":"def f(","suffix":"return 1"}"#)).objectValue)
        #expect(o["object"] == "text_completion" && o["provider"] == "m" && o["model"] == "code")
        #expect(o["choices"]?.arrayValue?.first?["text"] == "mock: def f( … return 1" && o["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(o["usage"]?["prompt_tokens"] == 4 && o["usage"]?["completion_tokens"] == 6)
        #expect(o["attempts"]?.arrayValue?.count == 1)
        let stats = try #require(r.statsDocument().objectValue)
        #expect(stats["operations"]?["completions.create"] == 1)
    }

    @Test("completions.create streamed: start, text deltas, usage, done with the text_completion")
    func stream() throws {
        let r = try router(#"{"name":"m","type":"mock","reply":"one two three"}"#)
        defer { r.close() }
        var events: [ExecutionEvent] = []
        let result = try r.callStream(.completions, JSONParser.parse(#"{"model":"m/x","prompt":"p"}"#)) { events.append($0); return 0 }
        let text = events.compactMap { e -> String? in if case .delta(let c, _) = e { return c }; return nil }.joined()
        #expect(text == "one two three")
        guard case .start = events.first, case .done(let done) = events.last else { Issue.record("\(events)"); return }
        #expect(events.contains { if case .usage = $0 { true } else { false } })
        #expect(done["object"] == "text_completion" && done["choices"]?.arrayValue?.first?["text"] == "one two three" && done["provider"] == "m")
        #expect(result.objectValue?["choices"]?.arrayValue?.first?["text"] == "one two three")
        #expect(throws: PMXError.self) { try r.callStream(.completions, JSONParser.parse(#"{"prompt":["a","b"]}"#)) { _ in 0 } }
    }

    @Test("a provider type without the operation answers unsupported and the request fails over")
    func failover() throws {
        // The anthropic provider is refused before anything is sent (nothing listens there).
        let r = try router(#"{"name":"a","type":"anthropic","base_url":"http://127.0.0.1:9","api_key":"k","models":["x"]},{"name":"m","type":"mock","models":["x"]}"#)
        defer { r.close() }
        let o = try #require(try r.call(.completions, JSONParser.parse(#"{"model":"x","prompt":"hi"}"#)).objectValue)
        #expect(o["provider"] == "m")
        let first = try #require(o["attempts"]?.arrayValue?.first)
        #expect(first["provider"] == "a" && first["status_name"] == "PMX_ERR_UNSUPPORTED")
        #expect(first["message"]?.stringValue?.contains("has no completions.create") == true)
        do {
            // The mock answers moderations since ops16b; OpenRouter's account stays unsupported.
            _ = try r.call(.openrouterCredits, JSONParser.parse(#"{"model":"x"}"#))
            Issue.record("mock answered openrouter.credits")
        } catch let e as PMXError {
            #expect(e.status == .unsupported)
        }
    }

    @Test("a scripted 429 is retried, then answered")
    func retried() throws {
        let r = try router(#"{"name":"m","type":"mock","script":[{"status":429,"times":1}]}"#, extra: #","retry":{"initial_backoff_ms":1,"max_backoff_ms":2}"#)
        defer { r.close() }
        let o = try #require(try r.call(.completions, JSONParser.parse(#"{"model":"m/x","prompt":"hi"}"#)).objectValue)
        #expect(o["attempts"]?.arrayValue?.count == 2 && o["choices"]?.arrayValue?.first?["text"] == "mock: hi")
    }

    @Test("cached by operation and body: a second identical completion is a hit, the same body as chat is not")
    func cache() throws {
        let r = try router(mock, extra: #","cache":{"enabled":true}"#)
        defer { r.close() }
        let body = try JSONParser.parse(#"{"model":"m/x","prompt":"hi"}"#)
        let first = try #require(try r.call(.completions, body).objectValue)
        #expect(first["cached"] == nil)
        let second = try #require(try r.call(.completions, body).objectValue)
        #expect(second["cached"] == true && second["choices"]?.arrayValue?.first?["text"] == "mock: hi")
        var events: [ExecutionEvent] = []
        _ = try r.callStream(.completions, body) { events.append($0); return 0 }
        #expect(events.contains { if case .delta(let c, _) = $0 { c == "mock: hi" } else { false } })
        #expect(ResponseCache.key(for: .call(try OperationRequest.parse(.completions, body), stream: false))?.hasPrefix("completions.create\n") == true)
        #expect(ResponseCache.key(for: .call(try OperationRequest.parse(.openrouterCredits, .object(JSONObject())), stream: false)) == nil)
    }

    @Test("chat, embeddings and models by name are the existing calls")
    func existingPaths() throws {
        let r = try router(mock)
        defer { r.close() }
        let chat = try #require(try r.call(.chatCompletions, JSONParser.parse(#"{"model":"m/x","messages":[{"role":"user","content":"hi"}]}"#)).objectValue)
        #expect(chat["object"] == "chat.completion" && chat["choices"]?.arrayValue?.first?["message"]?["content"] == "mock: hi")
        let emb = try #require(try r.call(.embeddings, JSONParser.parse(#"{"model":"m/x","input":"hi"}"#)).objectValue)
        #expect(emb["object"] == "list")
        #expect(try r.call(.modelsList, .object(JSONObject()))["object"] == "list")
        var last: ExecutionEvent?
        _ = try r.callStream(.chatCompletions, JSONParser.parse(#"{"model":"m/x","messages":[{"role":"user","content":"hi"}]}"#)) { last = $0; return 0 }
        guard case .done(let o) = last else { Issue.record("no done"); return }
        #expect(o["object"] == "chat.completion")
    }
}
