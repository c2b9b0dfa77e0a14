// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// The router's policies end to end on its real event loop, over in-process mock providers:
// strategies, breakers, rate limits, budgets and costs, fallbacks, cache, stats, live routing.

private func chat(_ text: String = "hi", model: String? = nil, route: String? = nil, extra: String = "") throws -> ChatRequest {
    var fields = [#""messages":[{"role":"user","content":"\#(text)"}]"#]
    if let model { fields.append(#""model":"\#(model)""#) }
    if let route { fields.append(#""route":\#(route)"#) }
    if !extra.isEmpty { fields.append(extra) }
    return try ChatRequest.parse(JSONParser.parse("{" + fields.joined(separator: ",") + "}"))
}

private func provider(of r: Router, _ req: ChatRequest) throws -> String {
    try transcribed(callResult { try r.complete(req) }).get()["provider"]?.stringValue ?? "?"
}

private func failure(_ body: () throws -> Any) -> PMXError? {
    do { _ = try body(); return nil } catch let e as PMXError { Transcript.record(e); return e } catch { return PMXError(.internal, "\(error)") }
}

@Suite("Router policies (mock providers)")
struct RouterPolicyTests {
    @Test("round robin rotates the first provider request by request")
    func roundRobin() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock"},{"name":"b","type":"mock"},{"name":"c","type":"mock"}],"routing":{"strategy":"round_robin"}}"#)
        defer { r.close() }
        #expect(try (0..<6).map { _ in try provider(of: r, chat()) } == ["a", "b", "c", "a", "b", "c"])
    }

    @Test("weighted with a seed: shares follow the weights and a zero weight is only a fallback")
    func weighted() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","weight":1},{"name":"b","type":"mock","weight":3},{"name":"z","type":"mock","weight":0}],"routing":{"strategy":"weighted","seed":7}}"#)
        defer { r.close() }
        var counts: [String: Int] = [:]
        for _ in 0..<200 { counts[try provider(of: r, chat()), default: 0] += 1 }
        #expect(counts["z"] == nil)
        #expect((counts["b"] ?? 0) > 120 && (counts["a"] ?? 0) > 20, "\(counts)")
    }

    @Test("least latency prefers the measured-fast provider")
    func leastLatency() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"slow","type":"mock","latency_ms":40},{"name":"fast","type":"mock","latency_ms":1}],"routing":{"strategy":"least_latency","exploration":0}}"#)
        defer { r.close() }
        // The first two requests measure each (unmeasured go first), then fast wins.
        _ = try (0..<2).map { _ in try provider(of: r, chat()) }
        #expect(try (0..<5).map { _ in try provider(of: r, chat()) } == Array(repeating: "fast", count: 5))
    }

    @Test("lowest cost picks the cheapest priced model, and the response carries its cost")
    func lowestCostAndCost() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"pricey","type":"mock","models":["big"]},{"name":"cheap","type":"mock","models":["small"]}],
         "pricing":{"pricey/*":{"input_per_mtok":10,"output_per_mtok":30},"cheap/*":{"input_per_mtok":1,"output_per_mtok":2}},
         "routing":{"strategy":"lowest_cost","model_groups":{"g":["pricey/big","cheap/small"]}}}
        """#)
        defer { r.close() }
        let resp = try r.complete(try chat(model: "g"))
        #expect(resp["provider"] == "cheap")
        let usage = try #require(resp["usage"])
        let p = Double(usage["prompt_tokens"]?.intValue ?? 0), c = Double(usage["completion_tokens"]?.intValue ?? 0)
        let expected = (p * 1 + c * 2) / 1_000_000
        #expect(abs((usage["cost_usd"]?.doubleValue ?? -1) - expected) < 1e-9)
    }

    @Test("least busy sends to the provider with fewer requests in flight")
    func leastBusy() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","latency_ms":300},{"name":"b","type":"mock","latency_ms":300}],"routing":{"strategy":"least_busy"}}"#)
        defer { r.close() }
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var provider = "" }
        let box = Box()
        try r.start(.chat(try chat(), stream: false)) { e in
            if case .done(let resp) = e { box.provider = resp["provider"]?.stringValue ?? "" }
            if e.isTerminal { done.signal() }
        }
        Thread.sleep(forTimeInterval: 0.05)  // a's attempt is in flight
        #expect(try provider(of: r, chat()) == "b")
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(box.provider == "a")
    }

    @Test("the circuit opens after consecutive failures: the provider is passed over, then half-opens")
    func circuitBreaker() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"bad","type":"mock","script":[{"status":500,"times":100}]},{"name":"good","type":"mock"}],
         "retry":{"max_attempts":1},"circuit_breaker":{"consecutive_failures":2,"failure_rate":0,"cooldown_ms":150}}
        """#)
        defer { r.close() }
        for _ in 0..<2 {
            let resp = try r.complete(try chat())
            #expect(resp["attempts"]?.arrayValue?.first?["outcome"] == "error")
        }
        // Open: "bad" goes last in the order and is never reached while "good" answers.
        let next = try r.complete(try chat())
        #expect(next["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["good"])
        let health = try transcribed(.health, r.health())
        let bad = try #require(health["providers"]?.arrayValue?.first { $0["name"] == "bad" })
        #expect(bad["circuits"]?["default"]?["state"] == "open")
        #expect(r.stats()["providers"]?.arrayValue?.first?["models"]?.arrayValue?.first?["circuit"] == "open")
        #expect(r.stats()["providers"]?.arrayValue?.first?["requests"] == 2)
        Thread.sleep(forTimeInterval: 0.2)
        // Cooldown over: half-open, one probe goes to "bad" again (and fails, reopening the circuit).
        let probe = try r.complete(try chat())
        #expect(probe["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["bad", "good"])
        #expect(try r.complete(try chat())["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["good"])
    }

    @Test("a candidate whose circuit opened after planning is passed over at launch, recorded as skipped")
    func circuitSkipAtLaunch() throws {
        // Two requests planned together: the first opens the circuit; the second, already
        // ordered with "bad" first, finds it open when its attempt would start.
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"bad","type":"mock","latency_ms":50,"script":[{"status":500,"times":100}]},{"name":"good","type":"mock"}],
         "retry":{"max_attempts":1},"circuit_breaker":{"consecutive_failures":1,"cooldown_ms":60000}}
        """#)
        defer { r.close() }
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var attempts: [[String]] = [] ; let lock = NSLock() }
        let box = Box()
        for _ in 0..<2 {
            try r.start(.chat(try chat(), stream: false)) { e in
                if case .done(let resp) = e {
                    let a = resp["attempts"]?.arrayValue?.map { "\($0["provider"]?.stringValue ?? "?"):\($0["outcome"]?.stringValue ?? "?")" } ?? []
                    box.lock.lock(); box.attempts.append(a); box.lock.unlock()
                }
                if e.isTerminal { done.signal() }
            }
        }
        #expect(done.wait(timeout: .now() + 5) == .success && done.wait(timeout: .now() + 5) == .success)
        // Both start on "bad" (planned while closed): both fail there (consecutive 1 opens it
        // after the first), or the second is already refused. Either way "good" serves both.
        #expect(box.attempts.count == 2)
        #expect(box.attempts.allSatisfy { $0.last == "good:ok" })
        // A third request planned now never contacts "bad".
        #expect(try r.complete(try chat())["attempts"]?.arrayValue?.count == 1)
    }

    @Test("every circuit open: PMX_ERR_CIRCUIT_OPEN without sending anything")
    func allCircuitsOpen() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"bad","type":"mock","script":[{"status":503,"times":100}]}],"retry":{"max_attempts":1},"circuit_breaker":{"consecutive_failures":1,"cooldown_ms":60000}}"#)
        defer { r.close() }
        #expect(failure { try r.complete(try chat()) }?.status == .upstreamServer)
        let e = try #require(failure { try r.complete(try chat()) })
        #expect(e.status == .circuitOpen)
        #expect(e.message.contains("bad"))
    }

    @Test("a provider at its rpm limit is skipped, not sent to")
    func rateLimit() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","limits":{"rpm":2}},{"name":"b","type":"mock"}]}"#)
        defer { r.close() }
        #expect(try (0..<4).map { _ in try provider(of: r, chat()) } == ["a", "a", "b", "b"])
        let stats = r.stats()
        #expect(stats["providers"]?.arrayValue?.first?["requests"] == 2)
    }

    @Test("Retry-After on a 429 cools the provider down for other requests too")
    func retryAfterCooldown() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","script":[{"status":429,"retry_after_ms":5000}]},{"name":"b","type":"mock"}],"retry":{"max_retry_after_ms":1000}}"#)
        defer { r.close() }
        // 5 s > max_retry_after_ms: fail over to b; a now cools down for 5 s.
        #expect(try provider(of: r, chat()) == "b")
        let next = try r.complete(try chat())
        #expect(next["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["b"])  // a not contacted

        // Alone, a cooling provider is passed over: PMX_ERR_RATE_LIMITED, nothing sent.
        let alone = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","script":[{"status":429,"retry_after_ms":5000}]}],"retry":{"max_retry_after_ms":1000}}"#)
        defer { alone.close() }
        #expect(failure { try alone.complete(try chat()) }?.httpStatus == 429)
        let e = try #require(failure { try alone.complete(try chat()) })
        #expect(e.status == .rateLimited && e.httpStatus == 0)
        #expect(e.message.contains("cooldown"))
    }

    @Test("a spent router budget fails with PMX_ERR_BUDGET_EXCEEDED (on_exceeded fail)")
    func budgetFail() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"mock","models":["m"]}],"pricing":{"a/*":{"input_per_mtok":1000000,"output_per_mtok":0}},
         "budget":{"usd":1,"window":"1h","on_exceeded":"fail"}}
        """#)
        defer { r.close() }
        _ = try r.complete(try chat())  // costs ≥ 1 USD (1 USD per prompt token)
        let e = try #require(failure { try r.complete(try chat()) })
        #expect(e.status == .budgetExceeded)
        #expect(r.stats()["budget"]?["exceeded"] == true)
    }

    @Test("a spent lane budget routes to zero-cost providers (on_exceeded local)")
    func budgetLocal() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"cloud","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","models":["m"]},{"name":"home","type":"mock"}],
         "pricing":{"cloud/*":{"input_per_mtok":1,"output_per_mtok":1}},
         "routing":{"lanes":{"chat":{"providers":["cloud","home"],"budget":{"usd":0.000001,"window_ms":60000,"on_exceeded":"local"}}},"default_lane":"chat"}}
        """#)
        defer { r.close() }
        // Spend directly on the lane's tracker (the cloud provider is not reachable here).
        let lane = try #require(r.providersLock.withLock { r.laneBudgets["chat"] })
        lane.record(costUSD: 1, nowNs: MonotonicClock.nanos())
        let resp = try r.complete(try chat())
        #expect(resp["provider"] == "home")
        #expect(resp["attempts"]?.arrayValue?.count == 1)
    }

    @Test("context_length_exceeded falls over to the configured larger-context model")
    func contextWindowFallback() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"small","type":"mock","models":["mini"],"script":[{"status":400,"message":"This model's maximum context length is 8192 tokens","times":10}]},
                      {"name":"big","type":"mock","models":["large"]}],
         "routing":{"context_window_fallbacks":{"mini":["large"]}}}
        """#)
        defer { r.close() }
        let resp = try r.complete(try chat(model: "mini"))
        #expect(resp["provider"] == "big")
        let attempts = try #require(resp["attempts"]?.arrayValue)
        #expect(attempts.map { $0["status_name"]?.stringValue ?? "ok" } == ["PMX_ERR_CONTEXT_LENGTH_EXCEEDED", "ok"])
    }

    @Test("content_filtered follows content_policy_fallbacks; without one it stops")
    func contentPolicyFallback() throws {
        let config = #"""
        {"providers":[{"name":"strict","type":"mock","models":["s"],"script":[{"status":400,"message":"Your request was rejected as a result of our safety system","times":10}]},
                      {"name":"lenient","type":"mock","models":["l"]}] ROUTING}
        """#
        let with = try routerFromConfig(config.replacingOccurrences(of: "ROUTING", with: #","routing":{"content_policy_fallbacks":{"s":["l"]}}"#))
        defer { with.close() }
        #expect(try with.complete(try chat(model: "s"))["provider"] == "lenient")
        let without = try routerFromConfig(config.replacingOccurrences(of: "ROUTING", with: ""))
        defer { without.close() }
        #expect(failure { try without.complete(try chat(model: "s")) }?.status == .contentFiltered)
    }

    @Test("general fallbacks run after every candidate of the model failed")
    func generalFallback() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"mock","models":["m1"],"script":[{"status":503,"times":10}]},{"name":"b","type":"mock","models":["m2"]}],
         "retry":{"max_attempts":1},"routing":{"fallbacks":{"m1":["m2"]}}}
        """#)
        defer { r.close() }
        var events: [String] = []
        let resp = try r.stream(try chat(model: "m1")) { e in
            if case .fallback(let from, let to, _) = e { events.append("\(from)->\(to)") }
            return 0
        }
        #expect(resp["provider"] == "b")
        #expect(events == ["a->b"])
    }

    @Test("response cache: a repeat is served from the cache, streamed as events; errors are not cached")
    func cache() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","reply":"cached words"}],"cache":{"enabled":true,"ttl_ms":60000}}"#)
        defer { r.close() }
        let first = try r.complete(try chat("same"))
        #expect(first["cached"] == nil)
        let second = try r.complete(try chat("same"))
        #expect(second["cached"] == true)
        #expect(second["choices"] == first["choices"])
        var deltas: [String] = []
        let streamed = try r.stream(try chat("same")) { e in
            if case .delta(let c, _) = e, let c { deltas.append(c) }
            return 0
        }
        #expect(streamed["cached"] == true)
        #expect(deltas.joined() == "cached words")
        // Per-request opt-out, and a different request misses.
        #expect(try r.complete(try chat("same", route: #"{"cache":false}"#))["cached"] == nil)
        #expect(try r.complete(try chat("other"))["cached"] == nil)
        let s = r.stats()
        #expect(s["cache"]?["hits"] == 2)
        #expect(s["requests"] == 5)
    }

    @Test("errors are never cached")
    func cacheSkipsErrors() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","script":[{"status":503}]}],"retry":{"max_attempts":1},"cache":{"enabled":true}}"#)
        defer { r.close() }
        #expect(failure { try r.complete(try chat("x")) } != nil)
        #expect(try r.complete(try chat("x"))["cached"] == nil)
    }

    @Test("stats: figures match known traffic; Prometheus text carries them; reset zeroes them")
    func stats() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"mock","models":["m"],"script":[{"status":500,"times":1}]}],
         "pricing":{"a/m":{"input_per_mtok":1,"output_per_mtok":1}},"retry":{"initial_backoff_ms":1}}
        """#)
        defer { r.close() }
        var tokens = 0
        for _ in 0..<3 { tokens += Int(try r.complete(try chat())["usage"]?["total_tokens"]?.intValue ?? 0) }
        let s = r.stats()
        #expect(s["requests"] == 3 && s["successes"] == 3 && s["failures"] == 0 && s["retries"] == 1)
        let a = try #require(s["providers"]?.arrayValue?.first)
        #expect(a["requests"] == 4 && a["successes"] == 3 && a["failures"] == 1)
        #expect(a["failures_by_class"]?["unavailable"] == 1)
        let m = try #require(a["models"]?.arrayValue?.first)
        #expect(m["model"] == "m")
        #expect(Int(m["prompt_tokens"]?.intValue ?? 0) + Int(m["completion_tokens"]?.intValue ?? 0) == tokens)
        #expect(abs((s["cost_usd"]?.doubleValue ?? 0) - Double(tokens) / 1_000_000) < 1e-9)
        #expect(m["latency_ms"]?["p50"]?.doubleValue != nil)

        var opts = Router.StatsOptions()
        opts.format = .prometheus
        opts.reset = true
        let text = r.stats(opts)
        #expect(text.contains("pmx_router_requests_total 3"))
        #expect(text.contains(#"pmx_attempts_total{provider="a",model="m"} 4"#))
        #expect(r.stats()["requests"] == 0)
        #expect(r.stats()["providers"]?.arrayValue?.first?["requests"] == 0)
    }

    @Test("a cancelled attempt leaves nothing in flight, and frees a half-open probe slot")
    func cancelReleases() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","token_delay_ms":50}],"routing":{"strategy":"least_busy"}}"#)
        defer { r.close() }
        let done = DispatchSemaphore(value: 0)
        let handle = try r.start(.chat(try chat("one two three four five"), stream: true)) { e in
            if e.isTerminal { done.signal() }
        }
        Thread.sleep(forTimeInterval: 0.06)
        #expect(r.stats()["providers"]?.arrayValue?.first?["in_flight"] == 1)
        handle.cancel()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(r.stats()["providers"]?.arrayValue?.first?["in_flight"] == 0)
    }

    @Test("routing can be replaced while the router runs; bad routing changes nothing")
    func updateRouting() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock"},{"name":"b","type":"mock"}]}"#)
        defer { r.close() }
        #expect(try provider(of: r, chat()) == "a")
        try r.updateRouting(JSONParser.parse(#"{"lanes":{"only-b":{"providers":["b"]}},"default_lane":"only-b"}"#))
        #expect(try provider(of: r, chat()) == "b")
        let e = try #require(failure { try r.updateRouting(JSONParser.parse(#"{"lanes":{"x":{"providers":["ghost"]}}}"#)) })
        #expect(e.status == .config && e.message.contains("routing.lanes.x.providers[0]"))
        #expect(try provider(of: r, chat()) == "b")
        // A lane whose provider is removed just skips it.
        try r.updateRouting(JSONParser.parse(#"{"lanes":{"both":{"providers":["b","a"]}},"default_lane":"both"}"#))
        try r.removeProvider(named: "b")
        #expect(try provider(of: r, chat()) == "a")
    }

    @Test("routing replaced and a provider removed while a stream runs: the stream finishes untouched")
    func liveChangesDuringStream() throws {
        let r = try routerFromConfig(#"{"providers":[{"name":"a","type":"mock","token_delay_ms":20},{"name":"b","type":"mock"}]}"#)
        defer { r.close() }
        final class Box: @unchecked Sendable { var text = ""; var response: JSONObject?; var changed = false }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        try r.start(.chat(try chat("alpha beta gamma delta epsilon"), stream: true)) { e in
            switch e {
            case .delta(let c, _): box.text += c ?? ""
            case .done(let resp): box.response = resp
            default: break
            }
            if e.isTerminal { done.signal() }
        }
        Thread.sleep(forTimeInterval: 0.05)
        try r.updateRouting(JSONParser.parse(#"{"lanes":{"only-b":{"providers":["b"]}},"default_lane":"only-b"}"#))
        try r.removeProvider(named: "a")
        #expect(try provider(of: r, chat()) == "b")
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(box.response?["provider"] == "a")
        #expect(box.text == "mock: alpha beta gamma delta epsilon")
    }

    @Test("log lines report breaker transitions and never carry a key")
    func logs() throws {
        final class Lines: @unchecked Sendable { let lock = NSLock(); var all: [String] = [] }
        let lines = Lines()
        Log.setSink({ _, line in lines.lock.lock(); lines.all.append(line); lines.lock.unlock() }, minLevel: .debug)
        defer { Log.setSink(nil, minLevel: .error) }
        let r = try routerFromConfig(#"{"providers":[{"name":"bad","type":"mock","api_key":"sk-live-SECRETKEY9876","script":[{"status":500,"times":5}]},{"name":"good","type":"mock"}],"retry":{"max_attempts":1},"circuit_breaker":{"consecutive_failures":1}}"#)
        _ = try r.complete(try chat())
        r.close()
        lines.lock.lock(); let all = lines.all; lines.lock.unlock()
        #expect(all.contains { $0.contains("circuit bad/") && $0.contains("open") })
        #expect(!all.contains { $0.contains("sk-live-SECRETKEY9876") })
    }
}
