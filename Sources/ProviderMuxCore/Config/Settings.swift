/// Retry policy knobs. Router-wide in `retry`, overridable per provider and per request.
public struct RetrySettings: Sendable, Equatable {
    public var maxAttempts = 3
    public var initialBackoffMs = 200
    public var maxBackoffMs = 10_000
    public var multiplier = 2.0
    public var jitter = 0.2
    public var maxRetryAfterMs = 60_000
    public init() {}

    /// Reads the keys present in `reader` over `self` (so a provider's section overrides the router's).
    public func overlaid(with r: inout FieldReader) throws -> RetrySettings {
        var s = self
        if let v = try r.int("max_attempts", min: 1, max: 100) { s.maxAttempts = v }
        if let v = try r.int("initial_backoff_ms", min: 0, max: 3_600_000) { s.initialBackoffMs = v }
        if let v = try r.int("max_backoff_ms", min: 0, max: 3_600_000) { s.maxBackoffMs = v }
        if let v = try r.double("multiplier", min: 1, max: 100) { s.multiplier = v }
        if let v = try r.double("jitter", min: 0, max: 1) { s.jitter = v }
        if let v = try r.int("max_retry_after_ms", min: 0, max: 86_400_000) { s.maxRetryAfterMs = v }
        try r.finish()
        return s
    }
}

/// Timeouts in milliseconds. 0 disables the idle and first-byte checks.
public struct TimeoutSettings: Sendable, Equatable {
    public var connectMs = 10_000
    public var firstByteMs = 120_000
    public var idleMs = 60_000
    public var totalMs = 600_000
    public var healthMs = 3_000
    public init() {}

    public func overlaid(with r: inout FieldReader) throws -> TimeoutSettings {
        var s = self
        if let v = try r.int("connect_ms", min: 1, max: 3_600_000) { s.connectMs = v }
        if let v = try r.int("first_byte_ms", min: 0, max: 86_400_000) { s.firstByteMs = v }
        if let v = try r.int("idle_ms", min: 0, max: 86_400_000) { s.idleMs = v }
        if let v = try r.int("total_ms", min: 1, max: 86_400_000) { s.totalMs = v }
        if let v = try r.int("health_ms", min: 1, max: 3_600_000) { s.healthMs = v }
        try r.finish()
        return s
    }
}
