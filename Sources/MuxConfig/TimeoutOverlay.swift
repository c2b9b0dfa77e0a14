// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A `timeouts` section as written (router, provider or request `route`): only the keys it
/// gives, validated once when parsed; `TimeoutSettings.applying(_:)` puts it over settings.
public struct TimeoutOverlay: Sendable, Equatable {
    public var connectMs: Int?
    public var firstByteMs: Int?
    public var idleMs: Int?
    public var totalMs: Int?
    public var healthMs: Int?
    public init() {}

    /// Reads and validates a section; errors name the field and carry the reader's status.
    public static func parse(_ r: inout FieldReader) throws -> TimeoutOverlay {
        var o = TimeoutOverlay()
        o.connectMs = try r.int("connect_ms", min: 1, max: 3_600_000)
        o.firstByteMs = try r.int("first_byte_ms", min: 0, max: 86_400_000)
        o.idleMs = try r.int("idle_ms", min: 0, max: 86_400_000)
        o.totalMs = try r.int("total_ms", min: 1, max: 86_400_000)
        o.healthMs = try r.int("health_ms", min: 1, max: 3_600_000)
        try r.finish()
        return o
    }
}

extension TimeoutSettings {
    /// These settings with `overlay`'s keys over them.
    public func applying(_ overlay: TimeoutOverlay?) -> TimeoutSettings {
        guard let o = overlay else { return self }
        var s = self
        if let v = o.connectMs { s.connectMs = v }
        if let v = o.firstByteMs { s.firstByteMs = v }
        if let v = o.idleMs { s.idleMs = v }
        if let v = o.totalMs { s.totalMs = v }
        if let v = o.healthMs { s.healthMs = v }
        return s
    }
}
