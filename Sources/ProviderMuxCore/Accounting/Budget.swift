/// A spending cap over a sliding time window (e.g. "at most $5 per hour" for a lane).
public struct BudgetSettings: Sendable, Equatable {
    /// What happens once the budget is spent.
    public enum OnExceeded: String, Sendable {
        /// Route only to zero-cost (local) providers until spend slides back under the cap.
        case local
        /// Fail the request with budget_exceeded.
        case fail
    }

    public var usd: Double
    public var windowMs: Int
    public var onExceeded: OnExceeded = .fail
    /// `trust_upstream_cost`: charge the upstream's own cost figure (clamped) instead of the
    /// pricing table's. Off by default: an upstream reporting 1e300 USD must not spend a budget.
    public var trustUpstreamCost = false

    public init(usd: Double, windowMs: Int, onExceeded: OnExceeded = .fail) {
        self.usd = usd
        self.windowMs = windowMs
        self.onExceeded = onExceeded
    }

    /// Keys: usd (> 0 and ≤ 1e12, required); window_ms (1000…1 year) or window (≤ 1 year) (a duration string such as
    /// "30s", "15m", "1h", "1d", "7d") — exactly one of the two, required: a cap without a
    /// window has no meaning; on_exceeded ("local" | "fail", default "fail"). Unknown keys rejected.
    public static func parse(_ r: inout FieldReader) throws -> BudgetSettings {
        guard let usd = try r.double("usd", min: 0, max: NumericBounds.usd) else { throw r.fail("usd", "is required") }
        guard usd > 0 else { throw r.fail("usd", "must be greater than 0, got \(usd)") }
        let windowMs = try r.int("window_ms", min: 1000, max: NumericBounds.yearMs)
        let window = try r.string("window")
        let ms: Int
        switch (windowMs, window) {
        case (nil, nil):
            throw r.fail("window", "is required (window_ms or window such as \"1h\")")
        case (.some, .some):
            throw r.fail("window", "give either window_ms or window, not both")
        case (.some(let v), nil):
            ms = v
        case (nil, .some(let text)):
            guard let v = parseDurationMs(text) else {
                throw r.fail("window", "expected a duration such as \"30s\", \"15m\", \"1h\", \"1d\" or \"7d\", got \"\(text)\"")
            }
            guard v >= 1000 else { throw r.fail("window", "must be at least 1s, got \"\(text)\"") }
            guard v <= NumericBounds.yearMs else { throw r.fail("window", "must be at most 1 year (365d), got \"\(text)\"") }
            ms = v
        }
        var onExceeded = OnExceeded.fail
        if let s = try r.string("on_exceeded") {
            guard let v = OnExceeded(rawValue: s) else { throw r.fail("on_exceeded", "expected \"local\" or \"fail\", got \"\(s)\"") }
            onExceeded = v
        }
        let trust = try r.bool("trust_upstream_cost") ?? false
        try r.finish()
        var s = BudgetSettings(usd: usd, windowMs: ms, onExceeded: onExceeded)
        s.trustUpstreamCost = trust
        return s
    }

    /// "<integer><unit>" with unit s, m, h, d or w → milliseconds; nil when malformed or too large.
    static func parseDurationMs(_ text: String) -> Int? {
        guard let unit = text.last else { return nil }
        let unitMs: Int
        switch unit {
        case "s": unitMs = 1000
        case "m": unitMs = 60_000
        case "h": unitMs = 3_600_000
        case "d": unitMs = 86_400_000
        case "w": unitMs = 604_800_000
        default: return nil
        }
        let number = text.dropLast()
        guard !number.isEmpty, number.count <= 9, number.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let n = Int(number) else { return nil }
        let (ms, overflow) = n.multipliedReportingOverflow(by: unitMs)
        return overflow ? nil : ms
    }
}

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
