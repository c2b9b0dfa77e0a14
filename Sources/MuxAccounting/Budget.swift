// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Tracks spend against one budget over a sliding window of 60 buckets (`SlidingWindow`), so
/// memory is constant and old spend slides out in steps of window/60.
///
/// Pure and thread-safe: state behind one `Locked`, time passed in as `nowNs`.
public final class BudgetTracker: Sendable {
    package static let bucketCount = 60

    public let settings: BudgetSettings
    private let spend: Locked<SlidingWindow<Double>>

    public init(settings: BudgetSettings) {
        self.settings = settings
        spend = Locked(Self.emptyWindow(settings))
    }

    private static func emptyWindow(_ settings: BudgetSettings) -> SlidingWindow<Double> {
        SlidingWindow(windowNs: SafeNumbers.nanos(ms: settings.windowMs), buckets: bucketCount)
    }

    /// Adds the cost of one response (negative or non-finite amounts are ignored).
    public func record(costUSD: Double, nowNs: UInt64) {
        guard costUSD.isFinite, costUSD > 0 else { return }
        spend.withLock { $0.add(costUSD, nowNs: nowNs) }
    }

    /// Spend within the last window.
    public func spent(nowNs: UInt64) -> Double {
        spend.withLock { $0.total(nowNs: nowNs) }
    }

    /// Is the budget used up (spent ≥ usd)?
    public func exhausted(nowNs: UInt64) -> Bool {
        spent(nowNs: nowNs) >= settings.usd
    }

    public func reset() {
        spend.withLock { $0 = Self.emptyWindow(settings) }
    }

    /// {"usd", "window_ms", "spent_usd", "remaining_usd" (≥ 0), "exceeded", "on_exceeded"}
    public func json(nowNs: UInt64) -> JSONValue {
        let spent = spent(nowNs: nowNs)
        var o = JSONObject()
        o["usd"] = .double(settings.usd)
        o["window_ms"] = .int(Int64(settings.windowMs))
        o["spent_usd"] = .double(spent)
        o["remaining_usd"] = .double(max(0, settings.usd - spent))
        o["exceeded"] = .bool(spent >= settings.usd)
        o["on_exceeded"] = .string(settings.onExceeded.rawValue)
        return .object(o)
    }
}
