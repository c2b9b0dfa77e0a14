// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxAccounting
import Testing

// RateLimiter (rpm / tpm token buckets, server cooldowns) on a fake clock.

private let t0: UInt64 = 7_000_000_000_000
private func at(ms: Int) -> UInt64 { t0 + UInt64(ms) * 1_000_000 }

private func limiter(rpm: Int? = nil, tpm: Int? = nil) -> RateLimiter {
    var s = RateLimitSettings()
    s.rpm = rpm
    s.tpm = tpm
    return RateLimiter(settings: s)
}

private func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as PMXError { return e.message } catch { return "\(error)" }
    return nil
}

@Suite("RateLimiter")
struct RateLimiterTests {
    @Test("rpm: the bucket starts full, empties, and refills continuously")
    func rpmExhaustionAndRefill() {
        let l = limiter(rpm: 3)
        #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 0)))
        #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 0)))
        #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 0)))
        #expect(!l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 0)))
        #expect(l.waitMs(estimatedTokens: 10, nowNs: at(ms: 0)) == 20_000)  // one request per 20 s
        #expect(!l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 19_999)))
        #expect(l.waitMs(estimatedTokens: 10, nowNs: at(ms: 19_999)) == 1)
        #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 20_000)))
        #expect(!l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 20_000)))
        // A long pause refills to capacity, not beyond.
        for _ in 0..<3 { #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 600_000))) }
        #expect(!l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 600_000)))
    }

    @Test("a refused request takes nothing")
    func refusalTakesNothing() {
        let l = limiter(rpm: 10, tpm: 100)
        #expect(l.tryAcquire(estimatedTokens: 101, nowNs: at(ms: 1)))  // oversized passes when full
        #expect(l.json(nowNs: at(ms: 1))["tokens_available"] == -1.0)
        #expect(!l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 1)))
        #expect(l.json(nowNs: at(ms: 1))["requests_available"] == 9.0)  // the refusal took no request
    }

    @Test("tpm: estimates are taken up front")
    func tpmEstimates() {
        let l = limiter(tpm: 600)  // 10 tokens per second
        #expect(l.tryAcquire(estimatedTokens: 400, nowNs: at(ms: 0)))
        #expect(!l.tryAcquire(estimatedTokens: 300, nowNs: at(ms: 0)))
        #expect(l.tryAcquire(estimatedTokens: 200, nowNs: at(ms: 0)))
        #expect(!l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 0)))
        #expect(l.waitMs(estimatedTokens: 50, nowNs: at(ms: 0)) == 5_000)
        #expect(l.tryAcquire(estimatedTokens: 50, nowNs: at(ms: 5_000)))
    }

    @Test("tpm: settle charges the difference and may leave the bucket in debt")
    func settleDebt() {
        let l = limiter(tpm: 600)
        #expect(l.tryAcquire(estimatedTokens: 100, nowNs: at(ms: 0)))
        l.settle(estimatedTokens: 100, actualTokens: 1_100, nowNs: at(ms: 0))  // 600 - 1100 = -500
        #expect(l.json(nowNs: at(ms: 0))["tokens_available"] == -500.0)
        #expect(!l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 50_000)))     // -500 + 500 = 0
        #expect(l.waitMs(estimatedTokens: 10, nowNs: at(ms: 50_000)) == 1_000)
        #expect(l.tryAcquire(estimatedTokens: 10, nowNs: at(ms: 51_000)))
        // An overestimate gives tokens back, up to capacity.
        l.settle(estimatedTokens: 10, actualTokens: 0, nowNs: at(ms: 51_000))
        #expect(l.json(nowNs: at(ms: 51_000))["tokens_available"] == 10.0)
        l.settle(estimatedTokens: 5_000, actualTokens: 0, nowNs: at(ms: 51_000))
        #expect(l.json(nowNs: at(ms: 51_000))["tokens_available"] == 600.0)
    }

    @Test("a request above the whole tpm capacity passes only when the bucket is full")
    func oversized() {
        let l = limiter(tpm: 600)
        #expect(l.tryAcquire(estimatedTokens: 1_000, nowNs: at(ms: 0)))
        #expect(!l.tryAcquire(estimatedTokens: 1_000, nowNs: at(ms: 0)))
        // From -400 it takes 100 s to be full again.
        #expect(l.waitMs(estimatedTokens: 1_000, nowNs: at(ms: 0)) == 100_000)
        #expect(!l.tryAcquire(estimatedTokens: 1_000, nowNs: at(ms: 99_000)))
        #expect(l.tryAcquire(estimatedTokens: 1_000, nowNs: at(ms: 100_000)))
    }

    @Test("a server cooldown blocks everything until it ends; the later of two wins")
    func cooldown() {
        let l = limiter(rpm: 100)
        l.coolDown(forMs: 2_000, nowNs: at(ms: 0))
        #expect(!l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 1_999)))
        #expect(l.waitMs(estimatedTokens: 1, nowNs: at(ms: 1_500)) == 500)
        #expect(l.json(nowNs: at(ms: 1_500))["cooldown_ms"] == 500)
        l.coolDown(forMs: 100, nowNs: at(ms: 1_500))  // earlier than the current one: ignored
        #expect(l.waitMs(estimatedTokens: 1, nowNs: at(ms: 1_500)) == 500)
        l.coolDown(forMs: 1_000, nowNs: at(ms: 1_500))  // later: extends to 2_500
        #expect(!l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 2_000)))
        #expect(l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 2_500)))
        #expect(l.json(nowNs: at(ms: 2_500))["cooldown_ms"] == 0)
    }

    @Test("a limiter without limits only enforces cooldowns")
    func unlimited() {
        let l = limiter()
        for _ in 0..<1_000 { #expect(l.tryAcquire(estimatedTokens: 1_000_000, nowNs: at(ms: 0))) }
        #expect(l.waitMs(estimatedTokens: 5, nowNs: at(ms: 0)) == 0)
        #expect(l.json(nowNs: at(ms: 0)) == ["cooldown_ms": 0])
        l.coolDown(forMs: 10, nowNs: at(ms: 0))
        #expect(!l.tryAcquire(estimatedTokens: 1, nowNs: at(ms: 5)))
    }

    @Test("waitMs takes the longest of cooldown, rpm and tpm")
    func waitCombined() {
        let l = limiter(rpm: 1, tpm: 60)
        #expect(l.waitMs(estimatedTokens: 60, nowNs: at(ms: 0)) == 0)
        #expect(l.tryAcquire(estimatedTokens: 60, nowNs: at(ms: 0)))
        #expect(l.waitMs(estimatedTokens: 30, nowNs: at(ms: 0)) == 60_000)  // rpm: 60 s; tpm: 30 s
        l.coolDown(forMs: 90_000, nowNs: at(ms: 0))
        #expect(l.waitMs(estimatedTokens: 30, nowNs: at(ms: 0)) == 90_000)
    }

    @Test("json shape")
    func jsonShape() {
        let l = limiter(rpm: 60, tpm: 1000)
        #expect(l.tryAcquire(estimatedTokens: 250, nowNs: at(ms: 0)))
        #expect(l.json(nowNs: at(ms: 500)) == ["rpm": 60, "tpm": 1000, "requests_available": 59.5,
                                               "tokens_available": 758.333, "cooldown_ms": 0])
    }

    @Test("settings parse: rpm, tpm, errors naming the field")
    func parse() throws {
        var r = try FieldReader(["rpm": 60, "tpm": 90_000], path: "providers[0].rate_limit")
        let s = try RateLimitSettings.parse(&r)
        #expect(s.rpm == 60 && s.tpm == 90_000)
        var empty = try FieldReader([:], path: "x")
        #expect(try RateLimitSettings.parse(&empty) == RateLimitSettings())
        for (bad, field) in [(["rpm": 0] as JSONValue, "rpm"), (["tpm": -5], "tpm"), (["tpm": "many"], "tpm"),
                             (["rps": 1], "rps")] {
            var r = try FieldReader(bad, path: "providers[0].rate_limit")
            let msg = thrownMessage { _ = try RateLimitSettings.parse(&r) }
            #expect(msg?.hasPrefix("providers[0].rate_limit.\(field):") == true, "\(msg ?? "no error")")
        }
    }
}
