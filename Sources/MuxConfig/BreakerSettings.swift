// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Circuit breaker knobs. Router-wide in `circuit_breaker`, overridable per provider.
///
/// Two triggers open the breaker: a run of consecutive failures (a provider that is plainly
/// down), and a failure rate over a sliding window (a provider that fails often but not
/// always). Either can be switched off with 0.
public struct BreakerSettings: Sendable, Equatable {
    public var enabled = true
    /// Open after this many consecutive counted failures (0 disables this trigger).
    public var consecutiveFailures = 5
    /// Open when failures / attempts over the window reach this rate (0 disables this trigger)…
    public var failureRate = 0.5
    /// …counted over the last `windowMs`…
    public var windowMs = 60_000
    /// …once at least this many attempts were seen in the window (a rate over 2 attempts says little).
    public var minRequests = 10
    /// How long an open breaker refuses attempts before it lets one probe through (half-open).
    public var cooldownMs = 30_000
    public init() {}

    /// Reads the keys present in `r` over `self` (the router's section over the defaults).
    public func overlaid(with r: inout FieldReader) throws -> BreakerSettings {
        applying(try BreakerOverlay.parse(&r))
    }

    /// These settings with `overlay`'s keys over them (a provider's section over the router's).
    public func applying(_ overlay: BreakerOverlay?) -> BreakerSettings {
        guard let o = overlay else { return self }
        var s = self
        if let v = o.enabled { s.enabled = v }
        if let v = o.consecutiveFailures { s.consecutiveFailures = v }
        if let v = o.failureRate { s.failureRate = v }
        if let v = o.windowMs { s.windowMs = v }
        if let v = o.minRequests { s.minRequests = v }
        if let v = o.cooldownMs { s.cooldownMs = v }
        return s
    }
}

/// A `circuit_breaker` section as written: only the keys it gives, validated once when parsed,
/// so a provider's section is never parsed again when its breakers are made.
public struct BreakerOverlay: Sendable, Equatable {
    public var enabled: Bool?
    public var consecutiveFailures: Int?
    public var failureRate: Double?
    public var windowMs: Int?
    public var minRequests: Int?
    public var cooldownMs: Int?
    public init() {}

    /// Keys: enabled, consecutive_failures (0…1000), failure_rate (0…1), window_ms (1…1 year),
    /// min_requests (1…1e9), cooldown_ms (0…1 year). Unknown keys are rejected.
    public static func parse(_ r: inout FieldReader) throws -> BreakerOverlay {
        var o = BreakerOverlay()
        o.enabled = try r.bool("enabled")
        o.consecutiveFailures = try r.int("consecutive_failures", min: 0, max: 1000)
        o.failureRate = try r.double("failure_rate", min: 0, max: 1)
        o.windowMs = try r.int("window_ms", min: 1, max: NumericBounds.yearMs)
        o.minRequests = try r.int("min_requests", min: 1, max: NumericBounds.count)
        o.cooldownMs = try r.int("cooldown_ms", min: 0, max: NumericBounds.yearMs)
        try r.finish()
        return o
    }
}
