/// Retry policy knobs. Router-wide in `retry`, overridable per provider and per request.
public struct RetrySettings: Sendable, Equatable {
    public var maxAttempts = 3
    public var initialBackoffMs = 200
    public var maxBackoffMs = 10_000
    public var multiplier = 2.0
    public var jitter = 0.2
    public var maxRetryAfterMs = 60_000
    /// Error classes retried on the same provider (`retry_on`); nil = the built-in set
    /// (rate_limited, timeout, unavailable, network, model_not_loaded, and 408/409).
    public var retryOn: Set<String>?
    /// Per error class overrides (`classes`: {"rate_limited": {"max_attempts": 6, ...}}).
    public var classes: [String: RetrySettings] = [:]
    public init() {}

    /// Classes a retry policy may name: every `error_class` a failed attempt can carry.
    static let retryableClassNames: Set<String> = ["rate_limited", "quota_exceeded", "timeout", "unavailable", "network", "protocol",
                                                  "model_not_loaded", "model_not_found", "auth", "permission", "unsupported"]

    /// The settings for one error class: the class's overrides over these.
    public func resolved(for errorClass: String) -> RetrySettings { classes[errorClass] ?? self }

    /// Reads the keys present in `reader` over `self` (so a provider's section overrides the router's).
    public func overlaid(with r: inout FieldReader) throws -> RetrySettings {
        var s = self
        try s.readScalars(&r)
        if let list = try r.stringArray("retry_on") {
            for (i, c) in list.enumerated() where !Self.retryableClassNames.contains(c) {
                throw r.fail("retry_on", "entry \(i): unknown error class \"\(c)\" (available: \(Self.retryableClassNames.sorted().joined(separator: ", ")))")
            }
            s.retryOn = Set(list)
        }
        if let classes = try r.object("classes") {
            for name in classes.object.keys {
                guard Self.retryableClassNames.contains(name) else {
                    throw classes.fail(name, "unknown error class (available: \(Self.retryableClassNames.sorted().joined(separator: ", ")))")
                }
                // A class section is read over the settings around it (a provider's class
                // section over the router's class entry, if any).
                var cr = try FieldReader(classes.object[name]!, path: classes.fieldPath(name))
                var entry = s.classes[name] ?? s
                entry.classes = [:]
                try entry.readScalars(&cr)
                try cr.finish()
                s.classes[name] = entry
            }
        }
        try r.finish()
        return s
    }

    private mutating func readScalars(_ r: inout FieldReader) throws {
        if let v = try r.int("max_attempts", min: 1, max: 100) { maxAttempts = v }
        if let v = try r.int("initial_backoff_ms", min: 0, max: 3_600_000) { initialBackoffMs = v }
        if let v = try r.int("max_backoff_ms", min: 0, max: 3_600_000) { maxBackoffMs = v }
        if let v = try r.double("multiplier", min: 1, max: 100) { multiplier = v }
        if let v = try r.double("jitter", min: 0, max: 1) { jitter = v }
        if let v = try r.int("max_retry_after_ms", min: 0, max: 86_400_000) { maxRetryAfterMs = v }
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
