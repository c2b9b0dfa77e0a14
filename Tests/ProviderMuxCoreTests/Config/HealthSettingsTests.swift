// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// HealthSettings.parse: the health_checks block of a router config, errors naming the field.

@Suite("Health: settings")
struct HealthSettingsTests {
    private func parse(_ text: String) throws -> HealthSettings {
        var r = try FieldReader(JSONParser.parse(text), path: "health_checks")
        return try HealthSettings.parse(&r)
    }

    private func failure(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch { return (error as? PMXError)?.message ?? "\(error)" }
    }

    @Test("defaults, every key, and the back-off a long interval implies")
    func parsing() throws {
        #expect(try parse("{}") == HealthSettings())
        let s = try parse(#"{"enabled":true,"interval_ms":100,"max_backoff_ms":100}"#)
        #expect(s.enabled && s.intervalMs == 100 && s.maxBackoffMs == 100)
        #expect(try parse(#"{"interval_ms":600000}"#).maxBackoffMs == 600_000)
    }

    @Test("errors name the field")
    func errors() {
        #expect(failure(#"{"interval_ms":99}"#)?.hasPrefix("health_checks.interval_ms: must be between 100 and") == true)
        #expect(failure(#"{"interval_ms":1000,"max_backoff_ms":999}"#) == "health_checks.max_backoff_ms: must be at least interval_ms (1000), got 999")
        #expect(failure(#"{"interval":1000}"#) == "health_checks.interval: unknown key")
        #expect(failure(#"{"enabled":"yes"}"#) == "health_checks.enabled: expected true or false, got string")
    }

    @Test("delay: the interval, doubled per further failure, capped")
    func delays() {
        var s = HealthSettings()
        s.intervalMs = 1000
        s.maxBackoffMs = 5000
        #expect([0, 1, 2, 3, 4, 5, 1000].map { s.delayMs(afterFailures: $0) } == [1000, 1000, 2000, 4000, 5000, 5000, 5000])
    }
}
