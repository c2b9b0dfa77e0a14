// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxAccounting
import Testing

// BudgetSettings parsing and BudgetTracker's sliding-window spend, on a fake clock.

private let t0: UInt64 = 3_000_000_000_000
private func at(ms: Int) -> UInt64 { t0 + UInt64(ms) * 1_000_000 }

private func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as PMXError { return e.message } catch { return "\(error)" }
    return nil
}

private func parse(_ json: JSONValue) throws -> BudgetSettings {
    var r = try FieldReader(json, path: "routing.lanes.code.budget")
    return try BudgetSettings.parse(&r)
}

@Suite("Budget")
struct BudgetTests {
    static let errorCases: [(JSONValue, String)] = [
        (["usd": 5], "routing.lanes.code.budget.window: is required (window_ms or window such as \"1h\")"),
        (["window": "1h"], "routing.lanes.code.budget.usd: is required"),
        (["usd": -1, "window": "1h"], "routing.lanes.code.budget.usd: must be between 0 and 1000000000000, got -1"),
        (["usd": 0, "window": "1h"], "routing.lanes.code.budget.usd: must be greater than 0, got 0.0"),
        (["usd": 5, "window": "soon"], "routing.lanes.code.budget.window: expected a duration such as \"30s\", \"15m\", \"1h\", \"1d\" or \"7d\", got \"soon\""),
        (["usd": 5, "window": "h"], "routing.lanes.code.budget.window: expected a duration such as \"30s\", \"15m\", \"1h\", \"1d\" or \"7d\", got \"h\""),
        (["usd": 5, "window": "-1h"], "routing.lanes.code.budget.window: expected a duration such as \"30s\", \"15m\", \"1h\", \"1d\" or \"7d\", got \"-1h\""),
        (["usd": 5, "window": "0s"], "routing.lanes.code.budget.window: must be at least 1s, got \"0s\""),
        (["usd": 5, "window_ms": 999], "routing.lanes.code.budget.window_ms: must be between 1000 and 31536000000, got 999"),
        (["usd": 5, "window_ms": 60_000, "window": "1h"], "routing.lanes.code.budget.window: give either window_ms or window, not both"),
        (["usd": 5, "window": "1h", "on_exceeded": "warn"], "routing.lanes.code.budget.on_exceeded: expected \"local\" or \"fail\", got \"warn\""),
        (["usd": 5, "window": "1h", "limit": 3], "routing.lanes.code.budget.limit: unknown key"),
    ]

    static let windowCases: [(JSONValue, Int)] = [
        (["usd": 5, "window_ms": 60_000], 60_000),
        (["usd": 5, "window": "30s"], 30_000),
        (["usd": 5, "window": "15m"], 900_000),
        (["usd": 5, "window": "1h"], 3_600_000),
        (["usd": 5, "window": "1d"], 86_400_000),
        (["usd": 5, "window": "7d"], 604_800_000),
    ]

    @Test("spend accumulates; exhausted once spent ≥ usd")
    func accumulates() {
        let b = BudgetTracker(settings: BudgetSettings(usd: 1.0, windowMs: 60_000))
        #expect(b.spent(nowNs: at(ms: 0)) == 0)
        b.record(costUSD: 0.25, nowNs: at(ms: 0))
        b.record(costUSD: 0.5, nowNs: at(ms: 10_000))
        #expect(b.spent(nowNs: at(ms: 10_000)) == 0.75)
        #expect(!b.exhausted(nowNs: at(ms: 10_000)))
        b.record(costUSD: 0.25, nowNs: at(ms: 20_000))
        #expect(b.exhausted(nowNs: at(ms: 20_000)))
        // Negative and non-finite costs are ignored.
        b.record(costUSD: -5, nowNs: at(ms: 20_000))
        b.record(costUSD: .nan, nowNs: at(ms: 20_000))
        #expect(b.spent(nowNs: at(ms: 20_000)) == 1.0)
    }

    @Test("spend slides out of the window")
    func slides() {
        let b = BudgetTracker(settings: BudgetSettings(usd: 1.0, windowMs: 60_000))  // 1 s buckets
        b.record(costUSD: 0.6, nowNs: at(ms: 0))
        b.record(costUSD: 0.6, nowNs: at(ms: 30_000))
        #expect(b.exhausted(nowNs: at(ms: 30_000)))
        #expect(b.exhausted(nowNs: at(ms: 59_000)))
        #expect(b.spent(nowNs: at(ms: 61_000)) == 0.6)
        #expect(!b.exhausted(nowNs: at(ms: 61_000)))
        #expect(b.spent(nowNs: at(ms: 91_000)) == 0)
        // A bucket reused after a full turn of the ring starts from zero.
        b.record(costUSD: 0.1, nowNs: at(ms: 120_000))
        #expect(b.spent(nowNs: at(ms: 120_000)) == 0.1)
    }

    @Test("reset forgets all spend")
    func reset() {
        let b = BudgetTracker(settings: BudgetSettings(usd: 1.0, windowMs: 60_000, onExceeded: .local))
        b.record(costUSD: 2, nowNs: at(ms: 0))
        #expect(b.exhausted(nowNs: at(ms: 0)))
        b.reset()
        #expect(b.spent(nowNs: at(ms: 0)) == 0)
        #expect(b.settings.onExceeded == .local)
    }

    @Test("json shape")
    func json() {
        let b = BudgetTracker(settings: BudgetSettings(usd: 2.0, windowMs: 3_600_000, onExceeded: .local))
        b.record(costUSD: 0.5, nowNs: at(ms: 0))
        #expect(b.json(nowNs: at(ms: 1)) == ["usd": 2.0, "window_ms": 3_600_000, "spent_usd": 0.5, "remaining_usd": 1.5,
                                             "exceeded": false, "on_exceeded": "local"])
        b.record(costUSD: 2.5, nowNs: at(ms: 1))
        #expect(b.json(nowNs: at(ms: 1))["remaining_usd"] == 0.0)
        #expect(b.json(nowNs: at(ms: 1))["exceeded"] == true)
    }

    @Test("parse: window_ms or a window string", arguments: BudgetTests.windowCases)
    func parseWindow(json: JSONValue, ms: Int) throws {
        let s = try parse(json)
        #expect(s.windowMs == ms)
        #expect(s.usd == 5)
        #expect(s.onExceeded == .fail)
    }

    @Test("parse: on_exceeded")
    func parseOnExceeded() throws {
        #expect(try parse(["usd": 0.5, "window": "1h", "on_exceeded": "local"]).onExceeded == .local)
        #expect(try parse(["usd": 0.5, "window": "1h", "on_exceeded": "fail"]).onExceeded == .fail)
    }

    @Test("parse errors name the field", arguments: BudgetTests.errorCases)
    func parseErrors(json: JSONValue, message: String) {
        #expect(thrownMessage { _ = try parse(json) } == message)
    }
}
