// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Testing

@Suite("SlidingWindow")
struct SlidingWindowTests {
    @Test("values slide out one bucket at a time")
    func slides() {
        var w = SlidingWindow<Int>(windowNs: 10_000, buckets: 10)  // 1 µs buckets
        w.add(1, nowNs: 0)
        w.add(2, nowNs: 5_000)
        #expect(w.total(nowNs: 5_000) == 3)
        #expect(w.total(nowNs: 9_999) == 3)
        #expect(w.total(nowNs: 10_000) == 2)   // the first bucket left the window
        #expect(w.total(nowNs: 15_000) == 0)
    }

    @Test("time never moves backwards: a late, older time lands in the latest bucket")
    func latestWins() {
        var w = SlidingWindow<Int>(windowNs: 10_000, buckets: 10)
        w.add(1, nowNs: 20_000)
        w.add(1, nowNs: 0)
        #expect(w.total(nowNs: 0) == 2)
        #expect(w.total(nowNs: 29_999) == 2)
        #expect(w.total(nowNs: 30_000) == 0)
    }

    @Test("a reused slot starts from zero; clear empties every bucket")
    func reuseAndClear() {
        var w = SlidingWindow<Double>(windowNs: 4, buckets: 2)  // 2 ns buckets
        w.add(1.5, nowNs: 0)
        w.add(2.5, nowNs: 4)  // same slot, next lap
        #expect(w.total(nowNs: 4) == 2.5)
        w.clear()
        #expect(w.total(nowNs: 4) == 0)
        w.add(1, nowNs: 0)  // still after the latest time seen
        #expect(w.total(nowNs: 5) == 1)
    }

    @Test("a zero window or zero buckets still work (one bucket of 1 ns)")
    func degenerate() {
        var w = SlidingWindow<Int>(windowNs: 0, buckets: 0)
        w.add(3, nowNs: 7)
        #expect(w.total(nowNs: 7) == 3)
        #expect(w.total(nowNs: 8) == 0)
    }
}
