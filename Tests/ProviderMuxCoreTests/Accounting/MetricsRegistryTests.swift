// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxAccounting
import Testing

// MetricsRegistry: figures checked against known traffic.

@Suite("MetricsRegistry")
struct MetricsRegistryTests {
    let a = SeriesKey(provider: "a", model: "m1")
    let a2 = SeriesKey(provider: "a", model: "m2")
    let b = SeriesKey(provider: "b", model: "m1")

    private func series(_ r: MetricsRegistry, _ key: SeriesKey, sourceLocation: SourceLocation = #_sourceLocation) -> SeriesSnapshot {
        guard let s = r.snapshot().first(where: { $0.key == key }) else {
            Issue.record("no series \(key)", sourceLocation: sourceLocation)
            return SeriesSnapshot(key: key)
        }
        return s
    }

    /// 10 successful attempts with latencies 1…10 ms: nearest rank gives p50 = 5 (rank ⌈0.5·10⌉ = 5),
    /// p95 = p99 = 10; the mean is 5.5.
    @Test func latencyQuantilesOfTenAttempts() {
        let r = MetricsRegistry()
        for ms in 1...10 {
            r.attemptStarted(a)
            r.attemptSucceeded(a, latencyMs: Double(ms), ttftMs: nil, usage: nil, costUSD: nil)
        }
        let s = series(r, a)
        #expect(s.requests == 10)
        #expect(s.successes == 10)
        #expect(s.failures == 0)
        #expect(s.latencyMs == Quantiles(p50: 5, p95: 10, p99: 10, mean: 5.5))
        #expect(s.latencyCount == 10)
        #expect(s.latencySumMs == 55)
        #expect(s.ttftMs == Quantiles())
        #expect(s.ttftCount == 0)
        #expect(s.inFlight == 0)
        #expect(s.tokensPerSecond == nil)
    }

    @Test func usageAndCostAddUp() {
        let r = MetricsRegistry()
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 100, ttftMs: nil,
                           usage: Usage(promptTokens: 10, completionTokens: 5, cachedTokens: 4), costUSD: 0.25)
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 100, ttftMs: nil, usage: Usage(promptTokens: 1, completionTokens: 2), costUSD: 0.5)
        let s = series(r, a)
        #expect(s.promptTokens == 11)
        #expect(s.completionTokens == 7)
        #expect(s.cachedTokens == 4)
        #expect(s.costUSD == 0.75)
    }

    @Test func failuresCountByClassAndStatusWithPartialUsage() {
        let r = MetricsRegistry()
        for st in [Status.rateLimited, .rateLimited, .upstreamServer, .upstreamHTTP, .timeout] {
            r.attemptStarted(a)
            r.attemptFailed(a, status: st, usage: nil, costUSD: nil)
        }
        r.attemptStarted(a)
        r.attemptFailed(a, status: .streamInterrupted, usage: Usage(promptTokens: 20, completionTokens: 3), costUSD: 0.01)
        let s = series(r, a)
        #expect(s.requests == 6)
        #expect(s.failures == 6)
        #expect(s.successes == 0)
        #expect(s.failuresByClass == ["rate_limited": 2, "unavailable": 2, "timeout": 1, "protocol": 1])
        #expect(s.failuresByStatus == ["PMX_ERR_RATE_LIMITED": 2, "PMX_ERR_UPSTREAM_SERVER": 1, "PMX_ERR_UPSTREAM_HTTP": 1,
                                       "PMX_ERR_TIMEOUT": 1, "PMX_ERR_STREAM_INTERRUPTED": 1])
        #expect(s.promptTokens == 20)
        #expect(s.completionTokens == 3)
        #expect(s.costUSD == 0.01)
        #expect(s.latencyCount == 0)  // failures never feed the latency figures
        #expect(s.latencyMs.p50 == nil)
        #expect(s.inFlight == 0)
    }

    @Test func inFlightPerSeriesAndPerProvider() {
        let r = MetricsRegistry()
        r.attemptStarted(a)
        r.attemptStarted(a)
        r.attemptStarted(a2)
        r.attemptStarted(b)
        #expect(r.inFlight(provider: "a") == 3)
        #expect(r.inFlight(provider: "b") == 1)
        #expect(r.inFlight(provider: "c") == 0)
        #expect(series(r, a).inFlight == 2)
        #expect(series(r, a2).inFlight == 1)

        r.attemptSucceeded(a, latencyMs: 5, ttftMs: nil, usage: nil, costUSD: nil)
        r.attemptFailed(a2, status: .timeout, usage: nil, costUSD: nil)
        r.attemptAbandoned(b)
        #expect(r.inFlight(provider: "a") == 1)
        #expect(r.inFlight(provider: "b") == 0)
        #expect(series(r, a).inFlight == 1)
        #expect(series(r, a2).inFlight == 0)
    }

    @Test func abandonedAttemptCountsNothingElse() {
        let r = MetricsRegistry()
        r.attemptStarted(a)
        r.attemptAbandoned(a)
        let s = series(r, a)
        #expect(s.requests == 1)
        #expect(s.successes == 0)
        #expect(s.failures == 0)
        #expect(s.failuresByClass.isEmpty)
        #expect(s.inFlight == 0)
    }

    @Test func inFlightNeverGoesNegative() {
        let r = MetricsRegistry()
        r.attemptAbandoned(a)
        r.attemptSucceeded(a, latencyMs: 1, ttftMs: nil, usage: nil, costUSD: nil)
        #expect(r.inFlight(provider: "a") == 0)
        #expect(series(r, a).inFlight == 0)
    }

    @Test func retriesAndFallbacks() {
        let r = MetricsRegistry()
        r.retried(a)
        r.retried(a)
        r.failedOver(a)
        r.failedOver(b)
        #expect(series(r, a).retries == 2)
        #expect(series(r, a).fallbacks == 1)
        #expect(series(r, b).fallbacks == 1)
        #expect(series(r, b).retries == 0)
    }

    @Test func ewmaOfSuccessfulLatencyAndTTFT() {
        let r = MetricsRegistry()
        #expect(r.ewmaLatencyMs(a) == nil)
        #expect(r.ewmaTTFTMs(a) == nil)
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 100, ttftMs: 40, usage: nil, costUSD: nil)
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 200, ttftMs: nil, usage: nil, costUSD: nil)
        r.attemptStarted(a)
        r.attemptFailed(a, status: .timeout, usage: nil, costUSD: nil)  // not a latency sample
        #expect(r.ewmaLatencyMs(a) == 120)  // 100 + 0.2 × 100
        #expect(r.ewmaTTFTMs(a) == 40)
        #expect(r.ewmaLatencyMs(b) == nil)
        let s = series(r, a)
        #expect(s.ewmaLatencyMs == 120)
        #expect(s.ewmaTTFTMs == 40)
        #expect(s.ttftMs.p50 == 40)
        #expect(s.ttftMs.p95 == 40)
        #expect(s.ttftCount == 1)
        #expect(s.ttftSumMs == 40)
    }

    /// Provider-reported speed wins; else completion tokens over the generation time (latency
    /// minus TTFT); responses without tokens or without generation time give no sample.
    @Test func tokensPerSecond() {
        let r = MetricsRegistry()
        var measured = Usage(promptTokens: 1, completionTokens: 10)
        measured.tokensPerSecond = 50
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 1000, ttftMs: nil, usage: measured, costUSD: nil)
        #expect(series(r, a).tokensPerSecond == 50)

        r.attemptStarted(a)  // 100 tokens in 1000 − 500 ms = 200 tokens/s
        r.attemptSucceeded(a, latencyMs: 1000, ttftMs: 500, usage: Usage(promptTokens: 1, completionTokens: 100), costUSD: nil)
        #expect(series(r, a).tokensPerSecond == 125)  // mean of 50 and 200

        r.attemptStarted(a)  // no completion tokens
        r.attemptSucceeded(a, latencyMs: 1000, ttftMs: nil, usage: Usage(promptTokens: 1, completionTokens: 0), costUSD: nil)
        r.attemptStarted(a)  // no generation time
        r.attemptSucceeded(a, latencyMs: 300, ttftMs: 300, usage: Usage(promptTokens: 1, completionTokens: 5), costUSD: nil)
        r.attemptStarted(a)  // no usage
        r.attemptSucceeded(a, latencyMs: 300, ttftMs: nil, usage: nil, costUSD: nil)
        #expect(series(r, a).tokensPerSecond == 125)

        r.attemptStarted(b)  // non-streamed: the whole latency is generation time, 20 tokens in 0.5 s
        r.attemptSucceeded(b, latencyMs: 500, ttftMs: nil, usage: Usage(promptTokens: 1, completionTokens: 20), costUSD: nil)
        #expect(series(r, b).tokensPerSecond == 40)
    }

    @Test func snapshotIsSortedByProviderThenModel() {
        let r = MetricsRegistry()
        for k in [b, a2, SeriesKey(provider: "a", model: "a0"), a] { r.attemptStarted(k) }
        #expect(r.snapshot().map(\.key) == [SeriesKey(provider: "a", model: "a0"), a, a2, b])
    }

    @Test func resetClearsEverythingButInFlight() {
        let r = MetricsRegistry()
        r.attemptStarted(a)
        r.attemptSucceeded(a, latencyMs: 10, ttftMs: 5, usage: Usage(promptTokens: 3, completionTokens: 4), costUSD: 1)
        r.attemptStarted(a)
        r.attemptFailed(a, status: .auth, usage: nil, costUSD: nil)
        r.retried(a)
        r.failedOver(a)
        r.attemptStarted(a)  // still running across the reset
        r.attemptStarted(b)

        r.reset()
        var expected = SeriesSnapshot(key: a)
        expected.inFlight = 1
        #expect(series(r, a) == expected)
        #expect(series(r, b).inFlight == 1)
        #expect(series(r, b).requests == 0)
        #expect(r.inFlight(provider: "a") == 1)
        #expect(r.ewmaLatencyMs(a) == nil)
        #expect(r.ewmaTTFTMs(a) == nil)

        r.attemptSucceeded(a, latencyMs: 7, ttftMs: nil, usage: nil, costUSD: nil)  // the running attempt ends
        let s = series(r, a)
        #expect(s.inFlight == 0)
        #expect(s.successes == 1)
        #expect(s.latencyMs.p50 == 7)
        #expect(r.inFlight(provider: "a") == 0)
    }

    @Test func concurrentRecordingLosesNothing() async {
        let r = MetricsRegistry()
        let key = a
        await withTaskGroup(of: Void.self) { g in
            for _ in 0..<8 {
                g.addTask {
                    for i in 0..<500 {
                        r.attemptStarted(key)
                        if i % 2 == 0 {
                            r.attemptSucceeded(key, latencyMs: Double(i), ttftMs: nil, usage: nil, costUSD: nil)
                        } else {
                            r.attemptFailed(key, status: .timeout, usage: nil, costUSD: nil)
                        }
                    }
                }
            }
        }
        let s = series(r, a)
        #expect(s.requests == 4000)
        #expect(s.successes == 2000)
        #expect(s.failures == 2000)
        #expect(s.inFlight == 0)
    }
}
