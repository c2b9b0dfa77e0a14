// SPDX-License-Identifier: Apache-2.0
@testable import MuxAccounting
import Testing

// EWMA and SampleWindow: nearest-rank quantiles on known data, ring-buffer wrap-around.

@Suite("LatencyTracker")
struct LatencyTrackerTests {
    @Test func ewmaStartsEmptyThenTakesFirstSample() {
        var e = EWMA(alpha: 0.5)
        #expect(e.value == nil)
        e.add(100)
        #expect(e.value == 100)
    }

    @Test func ewmaWeighsNewSamplesByAlpha() {
        var e = EWMA(alpha: 0.5)
        e.add(100)
        e.add(200)  // 100 + 0.5 × 100
        #expect(e.value == 150)
        e.add(50)  // 150 + 0.5 × (−100)
        #expect(e.value == 100)

        var d = EWMA()  // alpha 0.2
        d.add(10)
        d.add(20)
        #expect(abs(d.value! - 12) < 1e-12)
    }

    @Test func ewmaIgnoresNonFiniteSamples() {
        var e = EWMA()
        e.add(.nan)
        #expect(e.value == nil)
        e.add(5)
        e.add(.infinity)
        #expect(e.value == 5)
    }

    @Test func emptyWindowHasNoFigures() {
        let w = SampleWindow()
        #expect(w.count == 0)
        #expect(w.quantile(0.5) == nil)
        #expect(w.mean == nil)
    }

    /// Nearest rank: the q-quantile of n samples is the sample of rank ⌈q·n⌉.
    @Test func nearestRankQuantilesOfOneToTen() {
        var w = SampleWindow()
        for x in [7.0, 3, 10, 1, 5, 9, 2, 8, 4, 6] { w.add(x) }  // order must not matter
        #expect(w.count == 10)
        #expect(w.quantile(0.5) == 5)  // ⌈5⌉ = 5
        #expect(w.quantile(0.9) == 9)
        #expect(w.quantile(0.95) == 10)  // ⌈9.5⌉ = 10
        #expect(w.quantile(0.99) == 10)
        #expect(w.quantile(0) == 1)
        #expect(w.quantile(1) == 10)
        #expect(w.quantile(0.1) == 1)
        #expect(w.quantile(0.11) == 2)
        #expect(w.mean == 5.5)
        #expect(w.quantiles([0.5, 0.95]) == [5, 10])
    }

    @Test func quantileOfExactProductIsNotBumpedByRounding() {
        var w = SampleWindow()
        for x in 1...20 { w.add(Double(x)) }
        #expect(w.quantile(0.95) == 19)  // 0.95 × 20 is 19.000000000000004 in binary
        #expect(w.quantile(0.5) == 10)
    }

    @Test func outOfRangeQuantilesAreClamped() {
        var w = SampleWindow()
        for x in [1.0, 2, 3] { w.add(x) }
        #expect(w.quantile(-1) == 1)
        #expect(w.quantile(2) == 3)
    }

    @Test func ringBufferKeepsOnlyTheLastCapacitySamples() {
        var w = SampleWindow(capacity: 4)
        for x in 1...10 { w.add(Double(x)) }  // keeps 7, 8, 9, 10
        #expect(w.count == 4)
        #expect(w.quantile(0) == 7)
        #expect(w.quantile(1) == 10)
        #expect(w.mean == 8.5)
        w.add(100)  // replaces 7
        #expect(w.quantile(0) == 8)
        #expect(w.quantile(1) == 100)
        #expect(w.count == 4)
    }

    @Test func singleSampleIsEveryQuantile() {
        var w = SampleWindow(capacity: 1)
        w.add(3)
        w.add(42)
        #expect(w.quantile(0.5) == 42)
        #expect(w.quantile(0.99) == 42)
        #expect(w.mean == 42)
    }
}
