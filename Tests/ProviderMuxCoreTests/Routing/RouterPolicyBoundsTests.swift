// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
@testable import MuxRouting
import Foundation
import Testing

// Upstreams inform policy within bounds (issue 12): a server-requested cooldown is capped, and one
// request sends a bounded number of attempts however long its fallback chain or model group.

private func chat(model: String? = nil, route: String? = nil) throws -> ChatRequest {
    var fields = [#""messages":[{"role":"user","content":"hi"}]"#]
    if let model { fields.append(#""model":"\#(model)""#) }
    if let route { fields.append(#""route":\#(route)"#) }
    return try ChatRequest.parse(JSONParser.parse("{" + fields.joined(separator: ",") + "}"))
}

private func failure(_ body: () throws -> Any) -> PMXError? {
    do { _ = try body(); return nil } catch let e as PMXError { return e } catch { return PMXError(.internal, "\(error)") }
}

/// Milliseconds of server-requested cooldown left on provider `name`.
private func cooldownMs(_ r: Router, _ name: String) -> Int64? {
    r.providerSnapshot.first { $0.name == name }?.limiter.json(nowNs: MonotonicClock.nanos())["cooldown_ms"]?.intValue
}

/// A router whose only (mock) provider fails every attempt, behind a fallback chain of `n` models.
private func failingChain(_ n: Int, limits: String = "") throws -> Router {
    let chain = (1...n).map { "\"m\($0)\"" }.joined(separator: ",")
    return try routerFromConfig(#"""
    {"providers":[{"name":"bad","type":"mock","script":[{"status":503,"times":1000000}]}],
     "retry":{"max_attempts":1},\#(limits)
     "routing":{"fallbacks":{"m0":[\#(chain)]}}}
    """#)
}

private func sent(_ e: PMXError) -> Int { e.attempts.filter { $0["outcome"] == "error" }.count }

@Suite("Policy bounds: cooldown cap and attempts cap")
struct PolicyBoundsTests {
    @Test("a 429 asking for a day cools the provider for at most limits.max_cooldown_ms")
    func cooldownCappedByConfig() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"mock","script":[{"status":429,"retry_after_ms":86400000}]},{"name":"b","type":"mock"}],
         "retry":{"max_retry_after_ms":1000},"limits":{"max_cooldown_ms":2000}}
        """#)
        defer { r.close() }
        #expect(try r.complete(try chat())["provider"] == "b")
        let left = try #require(cooldownMs(r, "a"))
        #expect(left > 0 && left <= 2000, "cooldown left: \(left) ms")
    }

    @Test("limits.max_cooldown_ms and max_total_attempts are validated, naming the field")
    func limitsValidated() {
        let e1 = failure { try routerFromConfig(#"{"providers":[],"limits":{"max_cooldown_ms":-1}}"#) }
        #expect(e1?.status == .config && e1?.message.contains("limits.max_cooldown_ms") == true)
        let e2 = failure { try routerFromConfig(#"{"providers":[],"limits":{"max_total_attempts":0}}"#) }
        #expect(e2?.status == .config && e2?.message.contains("limits.max_total_attempts") == true)
        let e3 = failure { try routerFromConfig(#"{"providers":[],"limits":{"max_total_attempts":1001}}"#) }
        #expect(e3?.status == .config)
        let e4 = failure { try chat(route: #"{"max_total_attempts":9223372036854775807}"#) }
        #expect(e4?.status == .invalidRequest && e4?.message.contains("route.max_total_attempts") == true)
    }

    @Test("a 5,000-entry fallback chain of failing models sends at most limits.max_total_attempts (default 32)")
    func longChainDefaultCap() throws {
        let r = try failingChain(5000)
        defer { r.close() }
        let e = try #require(failure { try r.complete(try chat(model: "m0")) })
        #expect(e.status == .upstreamServer)
        #expect(sent(e) == RouterConfig.defaultMaxTotalAttempts)
        #expect(e.message.contains("limits.max_total_attempts = 32"), "\(e.message)")
        #expect(e.message.count < 4000)
        let stats = r.stats()
        #expect(stats["providers"]?.arrayValue?.first?["requests"]?.intValue == Int64(RouterConfig.defaultMaxTotalAttempts))
    }

    @Test("route.max_total_attempts lowers (and raises) the cap for one request")
    func routeOverride() throws {
        let r = try failingChain(200, limits: #""limits":{"max_total_attempts":10},"#)
        defer { r.close() }
        let low = try #require(failure { try r.complete(try chat(model: "m0", route: #"{"max_total_attempts":3}"#)) })
        #expect(sent(low) == 3)
        #expect(low.message.contains("route.max_total_attempts = 3"))
        let config = try #require(failure { try r.complete(try chat(model: "m0")) })
        #expect(sent(config) == 10)
        let high = try #require(failure { try r.complete(try chat(model: "m0", route: #"{"max_total_attempts":50}"#)) })
        #expect(sent(high) == 50)
    }

    @Test("retries on one provider count too: the cap ends the request without waiting for the next retry")
    func retriesCount() throws {
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"bad","type":"mock","script":[{"status":503,"times":1000}]}],
         "retry":{"max_attempts":100,"initial_backoff_ms":1,"max_backoff_ms":1,"jitter":0},"limits":{"max_total_attempts":4}}
        """#)
        defer { r.close() }
        let e = try #require(failure { try r.complete(try chat()) })
        #expect(sent(e) == 4)
        #expect(e.status == .upstreamServer)
    }

    @Test("the attempts array is bounded: the first entries and the latest, attempts_omitted counts the rest")
    func attemptsArrayBounded() throws {
        let r = try failingChain(5000, limits: #""limits":{"max_total_attempts":1000},"#)
        defer { r.close() }
        let e = try #require(failure { try r.complete(try chat(model: "m0")) })
        #expect(e.attempts.count == RequestExecution.maxRecordedAttempts)
        #expect(e.attemptsOmitted == RequestExecution.maxCandidates - RequestExecution.maxRecordedAttempts)
        #expect(e.attemptCount == RequestExecution.maxCandidates)
        #expect(e.json()["attempts_omitted"]?.intValue == Int64(e.attemptsOmitted))
        // The latest attempt is the last entry.
        #expect(e.attempts.last?["model"] == "m999")
        #expect(e.message.count < 4000)
    }
}

@Suite("Policy bounds over HTTP: Retry-After from a real answer")
struct PolicyBoundsHTTPTests {
    @Test("a 429 with Retry-After: 1000000000 (seconds) cools the provider for at most the default cap")
    func hugeRetryAfterCapped() throws {
        let server = try FakeUpstreamServer.shared.get()
        let scope = "cooldown-" + String(UUID().uuidString.prefix(8)).lowercased()
        try server.script(scope, #"[{"status":429,"retry_after":1000000000}]"#)
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"openai-compatible","base_url":"\#(server.base(scope))","api_key":"k"},{"name":"b","type":"mock"}]}
        """#)
        defer { r.close() }
        let served = try #require(completeOnThread(r, try chat())).get()
        #expect(served["provider"] == "b")
        let left = try #require(cooldownMs(r, "a"))
        #expect(left > 0 && left <= Int64(RouterConfig.defaultMaxCooldownMs), "cooldown left: \(left) ms")
    }
}

@Suite("Policy bounds: budgets charged from the pricing table")
struct BudgetChargeTests {
    private func upstreamRouter(_ scope: String, budget: String, pricing: String = "") throws -> (Router, FakeUpstreamServer) {
        let server = try FakeUpstreamServer.shared.get()
        let body = #"{"id":"x","object":"chat.completion","created":1,"model":"fake-small","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost_usd":1e300,"cost":1e300}}"#
        let escaped = body.replacingOccurrences(of: "\"", with: "\\\"")
        try server.script(scope, #"[{"status":200,"body":"\#(escaped)","times":100}]"#)
        let r = try routerFromConfig(#"""
        {"providers":[{"name":"a","type":"openai-compatible","base_url":"\#(server.base(scope))","api_key":"k"}],
         "budget":\#(budget)\#(pricing)}
        """#)
        return (r, server)
    }

    @Test("an upstream cost of 1e300 spends nothing: cost_usd is the table's, the figure is reported as upstream_cost_usd")
    func upstreamCostNotTrusted() throws {
        let scope = "budget-" + String(UUID().uuidString.prefix(8)).lowercased()
        let (r, _) = try upstreamRouter(scope, budget: #"{"usd":1,"window":"1h"}"#,
                                        pricing: #","pricing":{"a/*":{"input_per_mtok":1000,"output_per_mtok":2000}}"#)
        defer { r.close() }
        // A model name, so that the table has something to price.
        let resp = try #require(completeOnThread(r, try chat(model: "fake-small"))).get()
        let usage = try #require(resp["usage"])
        #expect(abs((usage["cost_usd"]?.doubleValue ?? -1) - 0.02) < 1e-9)  // 10 × 1000 / 1e6 + 5 × 2000 / 1e6
        #expect(usage["upstream_cost_usd"]?.doubleValue == Usage.maxCostUSD)  // reported, bounded
        let spent = try #require(r.routerBudget?.spent(nowNs: MonotonicClock.nanos()))
        #expect(abs(spent - 0.02) < 1e-9)
        // The budget still has room: the next request is served.
        #expect((try? #require(completeOnThread(r, try chat())).get()) != nil)
        #expect(r.stats()["cost_usd"]?.doubleValue ?? 1e9 < 1)
    }

    @Test("with no price, an upstream's cost_usd is not taken as the router's cost")
    func noPriceNoCost() throws {
        let scope = "budget-" + String(UUID().uuidString.prefix(8)).lowercased()
        let (r, _) = try upstreamRouter(scope, budget: #"{"usd":1,"window":"1h"}"#)
        defer { r.close() }
        let resp = try #require(completeOnThread(r, try chat())).get()
        #expect(resp["usage"]?["cost_usd"] == nil)
        #expect(resp["usage"]?["upstream_cost_usd"]?.doubleValue == Usage.maxCostUSD)
        #expect(r.routerBudget?.spent(nowNs: MonotonicClock.nanos()) == 0)
    }

    @Test("budget.trust_upstream_cost charges the upstream's figure, clamped per response")
    func trustedClamped() throws {
        let scope = "budget-" + String(UUID().uuidString.prefix(8)).lowercased()
        let (r, _) = try upstreamRouter(scope, budget: #"{"usd":1000,"window":"1h","trust_upstream_cost":true}"#)
        defer { r.close() }
        _ = try #require(completeOnThread(r, try chat())).get()
        #expect(r.routerBudget?.spent(nowNs: MonotonicClock.nanos()) == Usage.maxTrustedUpstreamCostUSD)
    }

    @Test("charging rules: negative, NaN and infinite figures never reach a budget; negative counts are clamped")
    func chargingRules() {
        var u = Usage(promptTokens: -5, completionTokens: -1, totalTokens: -6)
        u.upstreamCostUSD = -3
        let n = u.nonNegative
        #expect(n.promptTokens == 0 && n.completionTokens == 0 && n.totalTokens == 0 && n.upstreamCostUSD == nil)
        var trust = BudgetSettings(usd: 1, windowMs: 1000)
        trust.trustUpstreamCost = true
        var v = Usage(promptTokens: 1, completionTokens: 1)
        v.costUSD = 0.5
        v.upstreamCostUSD = 7
        #expect(BudgetSettings(usd: 1, windowMs: 1000).charge(for: v) == 0.5)
        #expect(trust.charge(for: v) == 7)
        v.upstreamCostUSD = nil
        #expect(trust.charge(for: v) == 0.5)  // no upstream figure: the table's
        #expect(Usage.reportedCost(.double(.infinity)) == nil && Usage.reportedCost(.double(-1)) == nil)
        #expect(Usage.reportedCost(.double(.nan)) == nil && Usage.reportedCost(.int(3)) == 3)
    }
}
