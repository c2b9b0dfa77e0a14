/// Tracks spend against one budget over a sliding window: a ring of 60 buckets, each
/// window/60 long, so memory is constant and old spend slides out in steps of window/60.
///
/// Pure and thread-safe: state behind one `Locked`, time passed in as `nowNs`.
public final class BudgetTracker: Sendable {
    static let bucketCount = 60

    private struct Core {
        var epochs = [UInt64](repeating: .max, count: BudgetTracker.bucketCount)
        var amounts = [Double](repeating: 0, count: BudgetTracker.bucketCount)
        /// Latest time seen: the ring never moves backwards.
        var latestNs: UInt64 = 0
    }

    public let settings: BudgetSettings
    private let core = Locked(Core())
    private let bucketNs: UInt64

    public init(settings: BudgetSettings) {
        self.settings = settings
        let (windowNs, overflow) = UInt64(max(0, settings.windowMs)).multipliedReportingOverflow(by: 1_000_000)
        bucketNs = max(1, (overflow ? .max : windowNs) / UInt64(Self.bucketCount))
    }

    /// Adds the cost of one response (negative or non-finite amounts are ignored).
    public func record(costUSD: Double, nowNs: UInt64) {
        guard costUSD.isFinite, costUSD > 0 else { return }
        core.withLock { c in
            c.latestNs = max(c.latestNs, nowNs)
            let epoch = c.latestNs / bucketNs
            let slot = Int(epoch % UInt64(Self.bucketCount))
            if c.epochs[slot] != epoch {
                c.epochs[slot] = epoch
                c.amounts[slot] = 0
            }
            c.amounts[slot] += costUSD
        }
    }

    /// Spend within the last window.
    public func spent(nowNs: UInt64) -> Double {
        core.withLock { c in total(c, nowNs) }
    }

    /// Is the budget used up (spent ≥ usd)?
    public func exhausted(nowNs: UInt64) -> Bool {
        spent(nowNs: nowNs) >= settings.usd
    }

    public func reset() {
        core.withLock { $0 = Core() }
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

    private func total(_ c: Core, _ nowNs: UInt64) -> Double {
        let epoch = max(c.latestNs, nowNs) / bucketNs
        var sum = 0.0
        for i in 0..<Self.bucketCount {
            let e = c.epochs[i]
            guard e != .max, e <= epoch, epoch - e < UInt64(Self.bucketCount) else { continue }
            sum += c.amounts[i]
        }
        return sum
    }
}
