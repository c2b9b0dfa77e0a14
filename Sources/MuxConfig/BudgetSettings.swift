// SPDX-License-Identifier: Apache-2.0
import MuxBase

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
    package static func parseDurationMs(_ text: String) -> Int? {
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
