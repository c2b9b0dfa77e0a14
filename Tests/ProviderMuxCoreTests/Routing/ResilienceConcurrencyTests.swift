// SPDX-License-Identifier: Apache-2.0
@testable import MuxConfig
@testable import MuxAccounting
@testable import MuxRouting
import Dispatch
import Synchronization
import Testing

// The resilience components are called from many threads: their guarantees must hold under contention.

private let t0: UInt64 = 9_000_000_000_000

@Suite("ResilienceConcurrency")
struct ResilienceConcurrencyTests {
    @Test("a half-open breaker admits exactly one probe however many threads ask")
    func singleProbe() {
        var s = BreakerSettings()
        s.consecutiveFailures = 1
        s.cooldownMs = 10
        let b = CircuitBreaker(settings: s)
        b.recordFailure(nowNs: t0)
        let later = t0 + 10_000_000
        let admitted = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            if b.allow(nowNs: later) { admitted.add(1, ordering: .relaxed) }
        }
        #expect(admitted.load(ordering: .relaxed) == 1)
    }

    @Test("rpm admits exactly its capacity under contention")
    func rpmUnderContention() {
        var s = RateLimitSettings()
        s.rpm = 50
        let l = RateLimiter(settings: s)
        let admitted = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 500) { _ in
            if l.tryAcquire(estimatedTokens: 1, nowNs: t0) { admitted.add(1, ordering: .relaxed) }
        }
        #expect(admitted.load(ordering: .relaxed) == 50)
    }

    @Test("concurrent budget records all count")
    func budgetUnderContention() {
        let b = BudgetTracker(settings: BudgetSettings(usd: 100, windowMs: 60_000))
        DispatchQueue.concurrentPerform(iterations: 1_000) { i in
            b.record(costUSD: 0.5, nowNs: t0 + UInt64(i % 10) * 1_000_000_000)
        }
        #expect(b.spent(nowNs: t0 + 10_000_000_000) == 500)
        #expect(b.exhausted(nowNs: t0 + 10_000_000_000))
    }
}
