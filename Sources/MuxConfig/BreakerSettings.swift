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

    /// Reads the keys present in `r` over `self` (so a provider's section overrides the router's).
    /// Keys: enabled, consecutive_failures (0…1000), failure_rate (0…1), window_ms (1…1 year),
    /// min_requests (1…1e9), cooldown_ms (0…1 year). Unknown keys are rejected.
    public func overlaid(with r: inout FieldReader) throws -> BreakerSettings {
        var s = self
        if let v = try r.bool("enabled") { s.enabled = v }
        if let v = try r.int("consecutive_failures", min: 0, max: 1000) { s.consecutiveFailures = v }
        if let v = try r.double("failure_rate", min: 0, max: 1) { s.failureRate = v }
        if let v = try r.int("window_ms", min: 1, max: NumericBounds.yearMs) { s.windowMs = v }
        if let v = try r.int("min_requests", min: 1, max: NumericBounds.count) { s.minRequests = v }
        if let v = try r.int("cooldown_ms", min: 0, max: NumericBounds.yearMs) { s.cooldownMs = v }
        try r.finish()
        return s
    }
}
