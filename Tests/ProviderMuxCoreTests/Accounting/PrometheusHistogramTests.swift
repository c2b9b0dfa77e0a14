// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxAccounting
import Testing

// Durations as Prometheus histograms in seconds (issue 15, item 6): the fixed buckets, their
// inclusive bounds, cumulative counts with +Inf equal to _count, _sum in seconds, saturation.

@Suite("PrometheusHistogram")
struct PrometheusHistogramTests {
    static let key = SeriesKey(provider: "p", model: "m")

    /// Samples of `family` as [suffix + labels: value], e.g. `_bucket{…,le="1"}` → 4.
    static func samples(_ text: String, _ family: String) -> [(String, Double)] {
        text.split(separator: "\n").filter { $0.hasPrefix(family + "_") }.map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0].dropFirst(family.count)), Double(String(parts[1]))!)
        }
    }

    @Test func boundsAreInclusiveAndSamplesLandInOneBucket() {
        var b = DurationBuckets()
        #expect(b.counts.isEmpty)  // no memory before the first sample
        b.add(5)  // exactly on the first bound: counted in it (le is ≤)
        b.add(5.000001)  // just above: the next one
        b.add(-3)  // a clock step backwards: the first bucket, no trap
        b.add(250)
        b.add(120_000)  // the last bound
        b.add(120_000.5)  // above every bound: only in +Inf (the count)
        b.add(.nan)
        b.add(.infinity)
        #expect(b.counts.count == DurationBuckets.boundsMs.count)
        #expect(b.counts[0] == 2 && b.counts[1] == 1 && b.counts[5] == 1 && b.counts[14] == 1)
        #expect(b.counts.reduce(0, +) == 5)
        let c = b.cumulative(total: 6)
        #expect(c == [2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5])
    }

    @Test func bucketListIsFixedAndSorted() {
        #expect(DurationBuckets.boundsMs.first == 5 && DurationBuckets.boundsMs.last == 120_000)
        #expect(DurationBuckets.boundsMs == DurationBuckets.boundsMs.sorted())
        #expect(Set(DurationBuckets.boundsMs).count == DurationBuckets.boundsMs.count)
    }

    @Test func countsSaturateAndCumulativeNeverExceedsTheTotal() {
        var b = DurationBuckets()
        b.add(1)
        b.counts[0] = .max
        b.counts[3] = .max
        b.add(1)  // stays at Int.max, no trap
        #expect(b.counts[0] == .max)
        #expect(b.cumulative(total: .max).allSatisfy { $0 == .max })
        // A snapshot whose count is below its buckets (put together by hand) stays monotonic.
        #expect(b.cumulative(total: 7).allSatisfy { $0 == 7 })
        #expect(DurationBuckets().cumulative(total: 3) == Array(repeating: 0, count: DurationBuckets.boundsMs.count))
    }

    /// Known traffic through the registry: latencies 5, 250, 250.5, 1000 and 200,000 ms; TTFT 10
    /// and 25 ms on two of them.
    @Test func registryTrafficRendersCumulativeHistogramsInSeconds() throws {
        let r = MetricsRegistry()
        for (ms, ttft) in [(5.0, 10.0), (250, nil), (250.5, 25), (1000, nil), (200_000, nil)] as [(Double, Double?)] {
            r.attemptStarted(Self.key)
            r.attemptSucceeded(Self.key, latencyMs: ms, ttftMs: ttft, usage: nil, costUSD: nil)
        }
        r.attemptStarted(Self.key)
        r.attemptFailed(Self.key, status: .timeout, usage: nil, costUSD: nil)  // failures add no sample
        let text = StatsRendering.prometheus(totals: RouterTotals(), series: r.snapshot(), providers: [], breakerStates: [:])
        #expect(text.contains("# TYPE pmx_attempt_duration_seconds histogram\n"))
        #expect(text.contains("# TYPE pmx_time_to_first_token_seconds histogram\n"))
        #expect(!text.contains("quantile") && !text.contains("_ms"))

        let lat = Dictionary(uniqueKeysWithValues: Self.samples(text, "pmx_attempt_duration_seconds"))
        let l = #"provider="p",model="m""#
        #expect(lat["_bucket{\(l),le=\"0.005\"}"] == 1)  // 5 ms exactly on the bound
        #expect(lat["_bucket{\(l),le=\"0.1\"}"] == 1)
        #expect(lat["_bucket{\(l),le=\"0.25\"}"] == 2)  // 250 ms in, 250.5 ms not
        #expect(lat["_bucket{\(l),le=\"0.5\"}"] == 3)
        #expect(lat["_bucket{\(l),le=\"1\"}"] == 4)
        #expect(lat["_bucket{\(l),le=\"120\"}"] == 4)  // 200 s only in +Inf
        #expect(lat["_bucket{\(l),le=\"+Inf\"}"] == 5)
        #expect(lat["_count{\(l)}"] == 5)
        let sum = try #require(lat["_sum{\(l)}"])
        #expect(abs(sum - 201.5055) < 1e-9)  // seconds, not milliseconds

        // Cumulative: non-decreasing in le order, the last one (+Inf) equal to _count.
        let buckets = Self.samples(text, "pmx_attempt_duration_seconds").filter { $0.0.hasPrefix("_bucket") }.map(\.1)
        #expect(buckets.count == DurationBuckets.boundsMs.count + 1)
        #expect(buckets == buckets.sorted())
        #expect(buckets.last == lat["_count{\(l)}"])

        let ttft = Dictionary(uniqueKeysWithValues: Self.samples(text, "pmx_time_to_first_token_seconds"))
        #expect(ttft["_bucket{\(l),le=\"0.005\"}"] == 0)
        #expect(ttft["_bucket{\(l),le=\"0.01\"}"] == 1)
        #expect(ttft["_bucket{\(l),le=\"0.025\"}"] == 2)
        #expect(ttft["_bucket{\(l),le=\"+Inf\"}"] == 2)
        #expect(ttft["_count{\(l)}"] == 2)
        #expect(ttft["_sum{\(l)}"] == 0.035)
    }

    @Test func resetEmptiesTheBuckets() {
        let r = MetricsRegistry()
        r.attemptStarted(Self.key)
        r.attemptSucceeded(Self.key, latencyMs: 40, ttftMs: 20, usage: nil, costUSD: nil)
        #expect(r.snapshot()[0].latencyBuckets.counts[3] == 1)
        r.reset()
        let s = r.snapshot()[0]
        #expect(s.latencyBuckets == DurationBuckets() && s.ttftBuckets == DurationBuckets())
        let text = StatsRendering.prometheus(totals: RouterTotals(), series: [s], providers: [], breakerStates: [:])
        #expect(!text.contains("pmx_attempt_duration_seconds") && !text.contains("pmx_time_to_first_token_seconds"))
    }

    /// Label values in the bucket lines are escaped like every other sample's, `le` last.
    @Test func bucketLabelsAreEscaped() {
        let odd = SeriesKey(provider: "o\"p", model: "a\\b\nc\u{0}d")
        let r = MetricsRegistry()
        r.attemptStarted(odd)
        r.attemptSucceeded(odd, latencyMs: 7, ttftMs: nil, usage: nil, costUSD: nil)
        let text = StatsRendering.prometheus(totals: RouterTotals(), series: r.snapshot(), providers: [], breakerStates: [:])
        #expect(text.contains(#"pmx_attempt_duration_seconds_bucket{provider="o\"p",model="a\\b\nc"# + "\u{FFFD}" + #"d",le="0.01"} 1"# + "\n"))
        #expect(text.contains(#"pmx_attempt_duration_seconds_count{provider="o\"p",model="a\\b\nc"# + "\u{FFFD}" + #"d"} 1"# + "\n"))
    }
}
