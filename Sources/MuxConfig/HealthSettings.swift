// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The router config section "health_checks". Off by default: probes cost requests.
public struct HealthSettings: Sendable, Equatable {
    public var enabled = false
    public var intervalMs = 30_000
    /// Failing targets are probed at interval × 2^(failures-1), capped here: a dead provider
    /// is not hammered, and is still noticed when it comes back.
    public var maxBackoffMs = 300_000

    public init() {}

    /// Keys: enabled, interval_ms (≥ 100), max_backoff_ms (≥ interval_ms; when omitted it is at
    /// least interval_ms). Unknown keys are rejected.
    public static func parse(_ r: inout FieldReader) throws -> HealthSettings {
        var s = HealthSettings()
        if let v = try r.bool("enabled") { s.enabled = v }
        if let v = try r.int("interval_ms", min: 100, max: 86_400_000) { s.intervalMs = v }
        if let v = try r.int("max_backoff_ms", min: 100, max: 86_400_000) {
            guard v >= s.intervalMs else { throw r.fail("max_backoff_ms", "must be at least interval_ms (\(s.intervalMs)), got \(v)") }
            s.maxBackoffMs = v
        } else {
            s.maxBackoffMs = max(s.maxBackoffMs, s.intervalMs)
        }
        try r.finish()
        return s
    }

    /// The wait before the next probe of a target with `failures` consecutive failures.
    public func delayMs(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return Double(intervalMs) }
        let factor = Double(1 << UInt64(min(failures - 1, 40)))
        return min(Double(intervalMs) * factor, Double(max(maxBackoffMs, intervalMs)))
    }
}
