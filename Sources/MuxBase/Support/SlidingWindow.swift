// SPDX-License-Identifier: Apache-2.0

/// A sliding time window kept as a ring of buckets, each window/buckets long: memory stays
/// constant however many values are added, and old values slide out in steps of one bucket.
/// Time only moves forward — the latest time seen wins — so callers whose clocks disagree
/// slightly never reopen a bucket that already slid out. Used for the circuit breaker's failure
/// rate and a budget's spend.
///
/// `Value`'s `+` must not trap: the window adds whatever it is given. The two users satisfy
/// that: a budget's `Double` (finite costs, each clamped to 100 USD; a Double sum cannot trap)
/// and the breaker's `AttemptTally`, whose `+` saturates.
///
/// A value type without a lock: it lives inside its owner's locked state.
public struct SlidingWindow<Value: AdditiveArithmetic & Sendable>: Sendable {
    /// The epoch (time / bucket length) each bucket holds; .max marks a bucket never used.
    private var epochs: [UInt64]
    private var values: [Value]
    private var latestNs: UInt64 = 0
    private let bucketNs: UInt64

    /// `windowNs` is split into `buckets` (at least one) of at least 1 ns each.
    public init(windowNs: UInt64, buckets: Int) {
        let count = max(1, buckets)
        epochs = [UInt64](repeating: .max, count: count)
        values = [Value](repeating: .zero, count: count)
        bucketNs = max(1, windowNs / UInt64(count))
    }

    /// Adds `value` to the bucket of `nowNs` (or of the latest time seen, if that is later).
    public mutating func add(_ value: Value, nowNs: UInt64) {
        latestNs = max(latestNs, nowNs)
        let epoch = latestNs / bucketNs
        let slot = Int(epoch % UInt64(epochs.count))
        if epochs[slot] != epoch {
            epochs[slot] = epoch
            values[slot] = .zero
        }
        values[slot] += value
    }

    /// The sum of the buckets still inside the window at `nowNs`.
    public func total(nowNs: UInt64) -> Value {
        let epoch = max(latestNs, nowNs) / bucketNs
        let count = UInt64(epochs.count)
        var sum = Value.zero
        for i in epochs.indices {
            let e = epochs[i]
            guard e != .max, e <= epoch, epoch - e < count else { continue }
            sum += values[i]
        }
        return sum
    }

    /// Empties every bucket; the latest time seen is kept (time still only moves forward).
    public mutating func clear() {
        for i in epochs.indices {
            epochs[i] = .max
            values[i] = .zero
        }
    }
}
