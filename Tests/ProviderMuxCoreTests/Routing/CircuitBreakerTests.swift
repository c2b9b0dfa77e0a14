// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting
import Testing

// CircuitBreaker: closed → open → half_open → closed/open, driven by a fake clock (nowNs).

private let t0: UInt64 = 1_000_000_000_000
private func at(ms: Int) -> UInt64 { t0 + UInt64(ms) * 1_000_000 }

private func breaker(consecutive: Int = 3, rate: Double = 0, window: Int = 10_000, minRequests: Int = 4,
                     cooldown: Int = 1_000, enabled: Bool = true) -> CircuitBreaker {
    var s = BreakerSettings()
    s.enabled = enabled
    s.consecutiveFailures = consecutive
    s.failureRate = rate
    s.windowMs = window
    s.minRequests = minRequests
    s.cooldownMs = cooldown
    return CircuitBreaker(settings: s)
}

/// Records transitions reported through onTransition.
private final class TransitionLog: Sendable {
    let entries = Locked<[String]>([])
    func attach(to b: CircuitBreaker) {
        b.onTransition = { [self] old, new in entries.withLock { $0.append("\(old.rawValue)>\(new.rawValue)") } }
    }
    var all: [String] { entries.withLock { $0 } }
}

private func reader(_ v: JSONValue) throws -> FieldReader { try FieldReader(v, path: "circuit_breaker") }

private func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as PMXError { return e.message } catch { return "\(error)" }
    return nil
}

@Suite("CircuitBreaker")
struct CircuitBreakerTests {
    @Test("consecutive failures open the breaker; a success in between resets the run")
    func consecutiveTrip() {
        let b = breaker(consecutive: 3)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordFailure(nowNs: at(ms: 1))
        b.recordSuccess(nowNs: at(ms: 2))
        b.recordFailure(nowNs: at(ms: 3))
        b.recordFailure(nowNs: at(ms: 4))
        #expect(b.state(nowNs: at(ms: 5)) == .closed)
        #expect(b.allow(nowNs: at(ms: 5)))
        b.recordFailure(nowNs: at(ms: 6))
        #expect(b.state(nowNs: at(ms: 7)) == .open)
        #expect(!b.allow(nowNs: at(ms: 7)))
        #expect(!b.wouldAllow(nowNs: at(ms: 7)))
    }

    @Test("failure rate trips only once min_requests attempts were seen in the window")
    func rateTrip() {
        let b = breaker(consecutive: 0, rate: 0.5, minRequests: 4)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordFailure(nowNs: at(ms: 1))
        b.recordFailure(nowNs: at(ms: 2))
        #expect(b.state(nowNs: at(ms: 3)) == .closed)  // 3/3 failed, but only 3 attempts
        b.recordSuccess(nowNs: at(ms: 3))
        #expect(b.state(nowNs: at(ms: 4)) == .closed)  // a success never trips
        b.recordFailure(nowNs: at(ms: 4))
        #expect(b.state(nowNs: at(ms: 5)) == .open)     // 4/5 ≥ 0.5 with 5 ≥ 4 attempts
    }

    @Test("failure rate below the threshold does not trip")
    func rateBelowThreshold() {
        let b = breaker(consecutive: 0, rate: 0.5, minRequests: 4)
        for i in 0..<20 {
            if i % 3 == 1 { b.recordFailure(nowNs: at(ms: i)) } else { b.recordSuccess(nowNs: at(ms: i)) }
        }
        #expect(b.state(nowNs: at(ms: 30)) == .closed)
        #expect(b.json(nowNs: at(ms: 30))["window_requests"] == 20)
        #expect(b.json(nowNs: at(ms: 30))["window_failures"] == 7)
    }

    @Test("old failures age out of the window")
    func windowSlides() {
        let b = breaker(consecutive: 0, rate: 0.5, window: 10_000, minRequests: 4)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordFailure(nowNs: at(ms: 100))
        b.recordFailure(nowNs: at(ms: 200))
        #expect(b.json(nowNs: at(ms: 300))["window_failures"] == 3)
        // 11 s later those three are out of the 10 s window: one more failure is 1 attempt, not 4.
        b.recordFailure(nowNs: at(ms: 11_300))
        #expect(b.state(nowNs: at(ms: 11_300)) == .closed)
        #expect(b.json(nowNs: at(ms: 11_300))["window_requests"] == 1)
        // Within the window they still count.
        let c = breaker(consecutive: 0, rate: 0.5, window: 10_000, minRequests: 4)
        for ms in [0, 100, 200] { c.recordFailure(nowNs: at(ms: ms)) }
        c.recordFailure(nowNs: at(ms: 5_000))
        #expect(c.state(nowNs: at(ms: 5_000)) == .open)
    }

    @Test("open turns half_open after the cooldown and admits exactly one probe")
    func halfOpenOneProbe() {
        let b = breaker(consecutive: 1, cooldown: 1_000)
        b.recordFailure(nowNs: at(ms: 0))
        #expect(b.state(nowNs: at(ms: 999)) == .open)
        #expect(!b.allow(nowNs: at(ms: 999)))
        #expect(b.json(nowNs: at(ms: 400))["retry_in_ms"] == 600)
        #expect(b.state(nowNs: at(ms: 1_000)) == .halfOpen)
        #expect(b.json(nowNs: at(ms: 1_000))["retry_in_ms"] == nil)
        #expect(b.wouldAllow(nowNs: at(ms: 1_000)))
        #expect(b.wouldAllow(nowNs: at(ms: 1_000)))  // claims nothing
        #expect(b.allow(nowNs: at(ms: 1_000)))
        #expect(!b.allow(nowNs: at(ms: 1_001)))
        #expect(!b.wouldAllow(nowNs: at(ms: 1_001)))
        #expect(b.state(nowNs: at(ms: 1_001)) == .halfOpen)
    }

    @Test("a probe's success closes the breaker and resets the counters")
    func probeSuccess() {
        let b = breaker(consecutive: 2, cooldown: 1_000)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordFailure(nowNs: at(ms: 1))
        #expect(b.allow(nowNs: at(ms: 1_001)))
        b.recordSuccess(nowNs: at(ms: 1_100))
        #expect(b.state(nowNs: at(ms: 1_100)) == .closed)
        let j = b.json(nowNs: at(ms: 1_100))
        #expect(j["consecutive_failures"] == 0)
        #expect(j["window_requests"] == 0)
        #expect(j["opened_count"] == 1)
        #expect(b.allow(nowNs: at(ms: 1_101)))
        #expect(b.allow(nowNs: at(ms: 1_101)))
        b.recordFailure(nowNs: at(ms: 1_200))
        #expect(b.state(nowNs: at(ms: 1_200)) == .closed)  // the run starts over
    }

    @Test("a probe's failure opens the breaker again for a full cooldown")
    func probeFailure() {
        let b = breaker(consecutive: 1, cooldown: 1_000)
        b.recordFailure(nowNs: at(ms: 0))
        #expect(b.allow(nowNs: at(ms: 1_000)))
        b.recordFailure(nowNs: at(ms: 1_500))
        #expect(b.state(nowNs: at(ms: 1_500)) == .open)
        #expect(!b.allow(nowNs: at(ms: 2_400)))
        #expect(b.json(nowNs: at(ms: 2_400))["retry_in_ms"] == 100)
        #expect(b.json(nowNs: at(ms: 2_400))["opened_count"] == 2)
        #expect(b.allow(nowNs: at(ms: 2_500)))
    }

    @Test("release frees the half-open probe slot")
    func releaseFreesProbe() {
        let b = breaker(consecutive: 1, cooldown: 1_000)
        b.recordFailure(nowNs: at(ms: 0))
        #expect(b.allow(nowNs: at(ms: 1_000)))
        #expect(!b.allow(nowNs: at(ms: 1_001)))
        b.release(nowNs: at(ms: 1_002))
        #expect(b.state(nowNs: at(ms: 1_002)) == .halfOpen)
        #expect(b.allow(nowNs: at(ms: 1_003)))
        #expect(!b.allow(nowNs: at(ms: 1_004)))
    }

    @Test("late results while open change nothing")
    func lateResultsWhileOpen() {
        let b = breaker(consecutive: 1, cooldown: 1_000)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordSuccess(nowNs: at(ms: 10))
        #expect(b.state(nowNs: at(ms: 10)) == .open)
        b.recordFailure(nowNs: at(ms: 20))
        #expect(b.json(nowNs: at(ms: 20))["opened_count"] == 1)
        #expect(b.json(nowNs: at(ms: 20))["retry_in_ms"] == 980)
    }

    @Test("a disabled breaker always allows and never trips")
    func disabled() {
        let b = breaker(consecutive: 1, rate: 0.1, minRequests: 1, enabled: false)
        for i in 0..<50 { b.recordFailure(nowNs: at(ms: i)) }
        #expect(b.allow(nowNs: at(ms: 100)))
        #expect(b.allow(nowNs: at(ms: 100)))
        #expect(b.wouldAllow(nowNs: at(ms: 100)))
        #expect(b.state(nowNs: at(ms: 100)) == .closed)
        #expect(b.json(nowNs: at(ms: 100))["state"] == "closed")
    }

    @Test("only provider-side failures count")
    func classification() {
        let counted: [Status] = [.timeout, .connection, .upstreamHTTP, .upstreamServer,
                                 .upstreamProtocol, .responseTooLarge, .streamInterrupted, .modelNotLoaded]
        for s in Status.allCases {
            #expect(CircuitBreaker.counts(s) == counted.contains(s), "\(s)")
        }
        #expect(!CircuitBreaker.counts(.cancelled))
        #expect(!CircuitBreaker.counts(.auth))
        #expect(!CircuitBreaker.counts(.upstreamBadRequest))
        #expect(!CircuitBreaker.counts(.rateLimited))  // Retry-After cools it down instead
        #expect(!CircuitBreaker.counts(.contextLengthExceeded))
    }

    @Test("onTransition reports every state change")
    func transitions() {
        let b = breaker(consecutive: 1, cooldown: 1_000)
        let log = TransitionLog()
        log.attach(to: b)
        b.recordFailure(nowNs: at(ms: 0))             // closed > open
        #expect(b.allow(nowNs: at(ms: 1_000)))        // open > half_open
        b.recordFailure(nowNs: at(ms: 1_100))         // half_open > open
        _ = b.state(nowNs: at(ms: 2_100))             // open > half_open (observed)
        _ = b.state(nowNs: at(ms: 2_200))             // no change
        #expect(b.allow(nowNs: at(ms: 2_200)))
        b.recordSuccess(nowNs: at(ms: 2_300))         // half_open > closed
        #expect(log.all == ["closed>open", "open>half_open", "half_open>open", "open>half_open", "half_open>closed"])
    }

    @Test("json shape")
    func jsonShape() {
        let b = breaker(consecutive: 5)
        b.recordFailure(nowNs: at(ms: 0))
        b.recordSuccess(nowNs: at(ms: 1))
        b.recordFailure(nowNs: at(ms: 2))
        #expect(b.json(nowNs: at(ms: 3)) == ["state": "closed", "consecutive_failures": 1, "window_requests": 3,
                                             "window_failures": 2, "opened_count": 0])
    }

    @Test("settings overlay: keys, ranges, unknown keys")
    func settingsParse() throws {
        var r = try reader(["enabled": false, "consecutive_failures": 7, "failure_rate": 0.25, "window_ms": 5000,
                            "min_requests": 3, "cooldown_ms": 0])
        let s = try BreakerSettings().overlaid(with: &r)
        #expect(!s.enabled && s.consecutiveFailures == 7 && s.failureRate == 0.25)
        #expect(s.windowMs == 5000 && s.minRequests == 3 && s.cooldownMs == 0)

        var partial = try reader(["cooldown_ms": 10])
        var base = BreakerSettings()
        base.consecutiveFailures = 9
        let p = try base.overlaid(with: &partial)
        #expect(p.consecutiveFailures == 9 && p.cooldownMs == 10 && p.windowMs == 60_000)

        for (bad, field) in [(["consecutive_failures": 1001] as JSONValue, "consecutive_failures"),
                             (["failure_rate": 1.5], "failure_rate"), (["window_ms": 0], "window_ms"),
                             (["min_requests": 0], "min_requests"), (["cooldown_ms": -1], "cooldown_ms"),
                             (["enabled": "yes"], "enabled"), (["cooldown": 5], "cooldown")] {
            var r = try reader(bad)
            let msg = thrownMessage { _ = try BreakerSettings().overlaid(with: &r) }
            #expect(msg?.hasPrefix("circuit_breaker.\(field):") == true, "\(bad) → \(msg ?? "no error")")
        }
    }

    @Test("zero cooldown: the next call is already half-open")
    func zeroCooldown() {
        let b = breaker(consecutive: 1, cooldown: 0)
        b.recordFailure(nowNs: at(ms: 0))
        #expect(b.allow(nowNs: at(ms: 0)))
        #expect(!b.allow(nowNs: at(ms: 0)))
    }
}

@Suite("CircuitBreaker.AttemptTally")
struct AttemptTallyTests {
    @Test("sums saturate instead of trapping")
    func saturates() {
        let big = CircuitBreaker.AttemptTally(attempts: Int.max, failures: Int.max - 1)
        let one = CircuitBreaker.AttemptTally(attempts: 1, failures: 5)
        let sum = big + one
        #expect(sum.attempts == Int.max && sum.failures == Int.max)
        var w = SlidingWindow<CircuitBreaker.AttemptTally>(windowNs: 10, buckets: 2)
        w.add(big, nowNs: 0)
        w.add(one, nowNs: 0)
        w.add(one, nowNs: 6)
        #expect(w.total(nowNs: 6).attempts == Int.max)
    }
}
