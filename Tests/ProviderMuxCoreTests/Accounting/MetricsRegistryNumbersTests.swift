// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxAccounting
@testable import MuxRouting
import Testing

// Arithmetic on upstream figures (token counts, costs, speeds, latencies) never traps and never
// leaves the finite range, however large the figures and however long a router runs: costs
// clamped, sums saturating, averages computed so that they cannot overflow.

@Suite struct UpstreamAccountingNumbersTests {
    let key = SeriesKey(provider: "p", model: "m")

    @Test func costIsFiniteAndBoundedWhateverThePrice() {
        let most = Usage(promptTokens: .max, completionTokens: .max, cachedTokens: .max)
        // (An infinite price cannot come from a JSON config: jansson refuses 1e999.)
        for price in [1e308, .greatestFiniteMagnitude] {
            #expect(ModelPrice(inputPerMTok: price, outputPerMTok: price).cost(most) == Usage.maxCostUSD)
        }
        #expect(ModelPrice(inputPerMTok: .nan, outputPerMTok: 1).cost(most) == 0)
        #expect(ModelPrice(inputPerMTok: -5, outputPerMTok: -5).cost(most) == 0)
        #expect(ModelPrice(inputPerMTok: 2, outputPerMTok: 10).cost(Usage(promptTokens: 1_000_000, completionTokens: 100_000)) == 3)
    }

    @Test func usageSumsSaturate() {
        var c = SeriesSnapshot(key: key)
        c.promptTokens = .max - 5
        c.completionTokens = .max
        c.cachedTokens = .max - 1
        c.costUSD = .greatestFiniteMagnitude
        MetricsRegistry.addUsage(&c, Usage(promptTokens: .max, completionTokens: .max, cachedTokens: .max), 1e300)
        #expect(c.promptTokens == .max && c.completionTokens == .max && c.cachedTokens == .max)
        #expect(c.costUSD == .greatestFiniteMagnitude)
        var d = SeriesSnapshot(key: key)
        MetricsRegistry.addUsage(&d, nil, 1e300)  // an upstream cost of 1e300 counts as the cap
        #expect(d.costUSD == Usage.maxCostUSD)
        MetricsRegistry.addUsage(&d, nil, -.infinity)
        MetricsRegistry.addUsage(&d, nil, .nan)
        MetricsRegistry.addUsage(&d, nil, -3)
        #expect(d.costUSD == Usage.maxCostUSD)
    }

    @Test func speedIsBounded() {
        let u = Usage(promptTokens: 0, completionTokens: .max)
        #expect(MetricsRegistry.tokensPerSecond(latencyMs: 1e-9, ttftMs: nil, usage: u) == Usage.maxTokensPerSecond)
        #expect(MetricsRegistry.tokensPerSecond(latencyMs: 1e-300, ttftMs: nil, usage: u) == nil)  // +infinity: no speed
        #expect(MetricsRegistry.tokensPerSecond(latencyMs: 5, ttftMs: 1e308, usage: u) == nil)
    }

    @Test func registryStaysFiniteWithExtremeSamples() {
        let m = MetricsRegistry()
        for latency in [Double.greatestFiniteMagnitude, .greatestFiniteMagnitude, 1e308, -.greatestFiniteMagnitude] {
            m.attemptStarted(key)
            m.attemptSucceeded(key, latencyMs: latency, ttftMs: latency, usage: Usage(promptTokens: .max, completionTokens: .max),
                               costUSD: 1e300)
        }
        let s = m.snapshot()[0]
        #expect(s.latencySumMs.isFinite && s.ttftSumMs.isFinite && s.latencyCount == 4)
        #expect(s.latencyMs.mean?.isFinite == true && s.ttftMs.mean?.isFinite == true)
        #expect(s.ewmaLatencyMs?.isFinite == true)
        #expect(s.promptTokens == 4 * Usage.maxTokens && s.costUSD == 4 * Usage.maxCostUSD)
        let json = StatsRendering.seriesJSON(s)
        #expect(json["cost_usd"] == .double(4 * Usage.maxCostUSD))
        let text = JSONWriter.string(.object(json))
        #expect(!text.contains("inf") && !text.contains("nan"))
    }

    @Test func averagesCannotOverflow() {
        var w = SampleWindow(capacity: 8)
        for _ in 0..<8 { w.add(.greatestFiniteMagnitude) }
        #expect(w.mean == .greatestFiniteMagnitude)
        var e = EWMA(alpha: 0.5)
        e.add(.greatestFiniteMagnitude)
        e.add(-.greatestFiniteMagnitude)
        #expect(e.value?.isFinite == true)
    }

    @Test func roundingHugeFiguresKeepsThemFinite() {
        #expect(StatsRendering.rounded(1e300, 8) == .double(1e300))
        #expect(StatsRendering.rounded(.greatestFiniteMagnitude, 3) == .double(.greatestFiniteMagnitude))
        #expect(StatsRendering.rounded(1.123456789, 3) == .double(1.123))
        #expect(Router.finiteSum([.greatestFiniteMagnitude, .greatestFiniteMagnitude]) == .greatestFiniteMagnitude)
        #expect(Router.finiteSum([0.5, 0.25]) == 0.75)
    }
}
