// SPDX-License-Identifier: Apache-2.0

/// Exponentially weighted moving average: a cheap "recent typical value" for least-latency
/// routing. The first sample is taken as is (no bias towards zero); each later sample moves the
/// value by `alpha` of the difference, so older samples fade geometrically.
public struct EWMA: Sendable, Equatable {
    public let alpha: Double
    public private(set) var value: Double?

    /// `alpha` in (0, 1]: the weight of the newest sample (clamped into that range).
    public init(alpha: Double = 0.2) {
        self.alpha = min(1, max(Double.leastNonzeroMagnitude, alpha.isNaN ? 0.2 : alpha))
    }

    public mutating func add(_ x: Double) {
        guard x.isFinite else { return }
        if let v = value {
            // x - v overflows to ±infinity for samples of opposite sign near ±1.8e308: then
            // the newest sample stands alone rather than poisoning the average.
            let next = v + alpha * (x - v)
            value = next.isFinite ? next : x
        } else {
            value = x
        }
    }
}

/// The last `capacity` samples in a ring buffer. Recording is O(1); quantiles are computed on
/// demand from a sorted copy (stats are read rarely, recorded once per attempt), using the
/// nearest-rank method: the q-quantile of n sorted samples is the sample of rank ⌈q·n⌉
/// (1-based, at least 1). E.g. for 1…10, p50 = 5, p95 = 10, p99 = 10.
public struct SampleWindow: Sendable, Equatable {
    public let capacity: Int
    private var samples: [Double] = []
    /// Where the next sample goes once the buffer is full (the oldest sample).
    private var next = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(1, capacity)
        // No reserveCapacity: a window grows with its samples, so a series seen once (a model
        // name used in one request) costs a few hundred bytes, not 8 KB per window.
    }

    public mutating func add(_ x: Double) {
        guard x.isFinite else { return }
        if samples.count < capacity {
            samples.append(x)
        } else {
            samples[next] = x
            next = (next + 1) % capacity
        }
    }

    public var count: Int { samples.count }

    /// Nearest-rank quantile; nil when empty. `q` is clamped into [0, 1].
    public func quantile(_ q: Double) -> Double? {
        quantiles([q])[0]
    }

    /// Several quantiles from one sort.
    public func quantiles(_ qs: [Double]) -> [Double?] {
        guard !samples.isEmpty else { return qs.map { _ in nil } }
        let sorted = samples.sorted()
        return qs.map { Self.nearestRank($0, sorted) }
    }

    public var mean: Double? {
        guard !samples.isEmpty else { return nil }
        // Each sample divided first: a plain sum of 1024 finite samples can overflow to infinity.
        let n = Double(samples.count)
        return samples.reduce(0) { $0 + $1 / n }
    }

    package static func nearestRank(_ q: Double, _ sorted: [Double]) -> Double {
        let q = q.isNaN ? 0 : min(1, max(0, q))
        // A tiny tolerance so that 0.95 × 20 (19.000000000000004 in binary) is rank 19, not 20.
        let rank = Int((q * Double(sorted.count) - 1e-9).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }
}
