// SPDX-License-Identifier: Apache-2.0
import MuxBase

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
    package static let retryableClassNames: Set<String> = ["rate_limited", "quota_exceeded", "timeout", "unavailable", "network", "protocol",
                                                  "model_not_loaded", "model_not_found", "auth", "permission", "unsupported"]

    /// The settings for one error class: the class's overrides over these.
    public func resolved(for errorClass: String) -> RetrySettings { classes[errorClass] ?? self }

    /// Reads the keys present in `reader` over `self` (so a provider's section overrides the router's).
    public func overlaid(with r: inout FieldReader) throws -> RetrySettings { applying(try RetryOverlay.parse(&r)) }
}

/// Timeouts in milliseconds. 0 disables the idle and first-byte checks.
public struct TimeoutSettings: Sendable, Equatable {
    public var connectMs = 10_000
    public var firstByteMs = 120_000
    public var idleMs = 60_000
    public var totalMs = 600_000
    public var healthMs = 3_000
    public init() {}

    public func overlaid(with r: inout FieldReader) throws -> TimeoutSettings { applying(try TimeoutOverlay.parse(&r)) }
}
