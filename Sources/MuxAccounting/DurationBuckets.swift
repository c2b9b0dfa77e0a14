// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Per-bucket counts of durations for a Prometheus histogram (`_bucket{le="…"}`), over a fixed
/// bucket list: a series' memory is bounded by the list, whatever the traffic, and every process
/// uses the same bounds, so the buckets of many processes add up (which quantile summaries do
/// not). The sample count and sum live beside it in `SeriesSnapshot` (`_count`, `_sum`); the
/// `+Inf` bucket is that count.
public struct DurationBuckets: Sendable, Equatable {
    /// Upper bounds in milliseconds (inclusive, as Prometheus's `le`), exposed in seconds:
    /// 5 ms … 120 s. Fine steps below a second for time to first token and local models,
    /// coarse ones up to the 120 s default `first_byte_ms` for long generations. Changing the
    /// list breaks aggregation with processes running the old one: documented in the README.
    public static let boundsMs: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000, 30000, 60000, 120_000]

    /// `counts[i]`: samples in (boundsMs[i−1], boundsMs[i]] (not cumulative); samples above the
    /// last bound are only in the count beside. Empty until the first sample, so a series that
    /// never succeeds (or never streams) costs nothing here.
    public internal(set) var counts: [Int] = []

    public init() {}

    /// Counts one sample (milliseconds). Non-finite samples are ignored (the caller skips them
    /// for the count and sum too); negative ones fall in the first bucket. Saturating: a
    /// long-lived router counts without end.
    public mutating func add(_ ms: Double) {
        guard ms.isFinite else { return }
        guard let i = Self.boundsMs.firstIndex(where: { ms <= $0 }) else { return }
        if counts.isEmpty { counts = Array(repeating: 0, count: Self.boundsMs.count) }
        counts[i] = counts[i].addingSaturated(1)
    }

    /// Cumulative counts per bound, as `_bucket` wants them: each is the samples ≤ its bound,
    /// never above `total` (the `+Inf` bucket), so the exposition stays monotonic even for a
    /// snapshot put together by hand.
    public func cumulative(total: Int) -> [Int] {
        var running = 0
        return Self.boundsMs.indices.map { i in
            if i < counts.count { running = running.addingSaturated(counts[i]) }
            return min(running, total)
        }
    }
}
