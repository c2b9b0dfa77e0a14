// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// include/providermux.h promises for PMX_ERR_CIRCUIT_OPEN: "the error message says when the
// first one half-opens". The breaker's own answer (fake clock), then the router's message.

@Suite("PMX_ERR_CIRCUIT_OPEN says when the first circuit half-opens")
struct CircuitOpenMessageTests {
    @Test("halfOpensInMs: nil while closed, the cooldown left (rounded up) while open, 0 when half-open")
    func breakerAnswer() {
        var s = BreakerSettings()
        s.consecutiveFailures = 1
        s.failureRate = 0
        s.cooldownMs = 1_000
        let b = CircuitBreaker(settings: s)
        let t0: UInt64 = 5_000_000_000
        #expect(b.halfOpensInMs(nowNs: t0) == nil)
        b.recordFailure(nowNs: t0)
        #expect(b.halfOpensInMs(nowNs: t0) == 1_000)
        #expect(b.halfOpensInMs(nowNs: t0 + 250_000_001) == 750)
        #expect(b.allow(nowNs: t0 + 1_000_000_000))  // the probe
        #expect(b.halfOpensInMs(nowNs: t0 + 1_000_000_001) == 0)
    }

    @Test("every circuit open: the message names the soonest half-open time, and each candidate's")
    func routerMessage() throws {
        let r = try Router(config: RouterConfig.parse(JSONParser.parse(#"""
        {"providers":[{"name":"slow","type":"mock","script":[{"status":503,"times":100}],"circuit_breaker":{"cooldown_ms":600000}},
                      {"name":"soon","type":"mock","script":[{"status":503,"times":100}],"circuit_breaker":{"cooldown_ms":60000}}],
         "retry":{"max_attempts":1},"circuit_breaker":{"consecutive_failures":1,"failure_rate":0}}
        """#), lookup: { _ in nil }))
        defer { r.close() }
        let request = try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"hi"}]}"#))
        #expect(throws: PMXError.self) { try r.complete(request) }  // opens both circuits
        var message = ""
        do { _ = try r.complete(request) } catch let e as PMXError {
            #expect(e.status == .circuitOpen)
            message = e.message
        }
        let first = try #require(number(after: "(the first circuit half-opens in ", in: message), "\(message)")
        #expect(first > 59_000 && first <= 60_000, "\(message)")
        #expect(message.contains("circuit open for soon/"), "\(message)")
        let slow = try #require(number(after: "slow: circuit open for slow/default after repeated failures; half-opens in ", in: message), "\(message)")
        #expect(slow > 599_000 && slow <= 600_000, "\(message)")
    }
}

/// The integer right after `prefix` in `text`, or nil.
private func number(after prefix: String, in text: String) -> Int? {
    guard let range = text.range(of: prefix) else { return nil }
    return Int(String(text[range.upperBound...].prefix { $0.isNumber }))
}
