// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A `retry` section as written (router, provider or request `route`): only the keys it gives,
/// validated once when the section is parsed. Applied over settings with
/// `RetrySettings.applying(_:)`, a pure function, so nothing is parsed again per attempt.
public struct RetryOverlay: Sendable, Equatable {
    /// The numeric knobs a section (or one of its `classes` entries) may set; nil = not given.
    public struct Scalars: Sendable, Equatable {
        public var maxAttempts: Int?
        public var initialBackoffMs: Int?
        public var maxBackoffMs: Int?
        public var multiplier: Double?
        public var jitter: Double?
        public var maxRetryAfterMs: Int?
        public init() {}

        package static func parse(_ r: inout FieldReader) throws -> Scalars {
            var s = Scalars()
            s.maxAttempts = try r.int("max_attempts", min: 1, max: 100)
            s.initialBackoffMs = try r.int("initial_backoff_ms", min: 0, max: 3_600_000)
            s.maxBackoffMs = try r.int("max_backoff_ms", min: 0, max: 3_600_000)
            s.multiplier = try r.double("multiplier", min: 1, max: 100)
            s.jitter = try r.double("jitter", min: 0, max: 1)
            s.maxRetryAfterMs = try r.int("max_retry_after_ms", min: 0, max: 86_400_000)
            return s
        }
    }

    public var scalars = Scalars()
    /// `retry_on`: replaces the list of error classes retried.
    public var retryOn: Set<String>?
    /// `classes`: per error class knobs, each applied over the settings around it.
    public var classes: [String: Scalars] = [:]
    public init() {}

    /// Reads and validates a section; errors name the field and carry the reader's status
    /// (PMX_ERR_CONFIG in a config, PMX_ERR_INVALID_REQUEST in a request's `route`).
    public static func parse(_ r: inout FieldReader) throws -> RetryOverlay {
        var o = RetryOverlay()
        o.scalars = try Scalars.parse(&r)
        if let list = try r.stringArray("retry_on") {
            for (i, c) in list.enumerated() where !RetrySettings.retryableClassNames.contains(c) {
                throw r.fail("retry_on", "entry \(i): unknown error class \"\(c)\" (available: \(RetrySettings.retryableClassNames.sorted().joined(separator: ", ")))")
            }
            o.retryOn = Set(list)
        }
        if let classes = try r.object("classes") {
            for name in classes.object.keys {
                guard RetrySettings.retryableClassNames.contains(name) else {
                    throw classes.fail(name, "unknown error class (available: \(RetrySettings.retryableClassNames.sorted().joined(separator: ", ")))")
                }
                // A null entry is refused like any other non-object (FieldReader.init).
                var cr = try FieldReader(classes.object[name] ?? .null, path: classes.fieldPath(name), status: classes.errorStatus)
                o.classes[name] = try Scalars.parse(&cr)
                try cr.finish()
            }
        }
        try r.finish()
        return o
    }
}

extension RetrySettings {
    /// These settings with `overlay`'s keys over them. A class entry is applied over the
    /// settings around it: this settings' entry for the class if any, else the settings
    /// themselves (so a provider's class section refines the router's class entry).
    public func applying(_ overlay: RetryOverlay) -> RetrySettings {
        var s = self
        s.apply(overlay.scalars)
        if let list = overlay.retryOn { s.retryOn = list }
        for (name, scalars) in overlay.classes {
            var entry = s.classes[name] ?? s
            entry.classes = [:]
            entry.apply(scalars)
            s.classes[name] = entry
        }
        return s
    }

    /// `applying` for an optional overlay (a provider or request without a `retry` section).
    public func applying(_ overlay: RetryOverlay?) -> RetrySettings {
        guard let overlay else { return self }
        return applying(overlay)
    }

    private mutating func apply(_ o: RetryOverlay.Scalars) {
        if let v = o.maxAttempts { maxAttempts = v }
        if let v = o.initialBackoffMs { initialBackoffMs = v }
        if let v = o.maxBackoffMs { maxBackoffMs = v }
        if let v = o.multiplier { multiplier = v }
        if let v = o.jitter { jitter = v }
        if let v = o.maxRetryAfterMs { maxRetryAfterMs = v }
    }
}
