// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Per-request routing overrides, from the request's `route` object.
public struct RouteOptions: Sendable {
    public var providers: [String]?
    public var maxAttempts: Int?
    /// `route.max_total_attempts`: this request's cap on attempts sent in all (over `limits.max_total_attempts`).
    public var maxTotalAttempts: Int?
    public var timeoutMs: Int?
    public var unsupportedParams: UnsupportedParameterPolicy?
    public var strategy: StrategyKind?
    public var lane: String?
    public var tags: [String] = []
    /// `retry` / `timeouts` sections, parsed and validated here once; each attempt applies
    /// them over its provider's settings (`RetrySettings.applying`).
    public var retry: RetryOverlay?
    public var timeouts: TimeoutOverlay?
    /// true / false: use / bypass the response cache for this request; nil = the router's setting.
    public var cache: Bool?
    /// Smallest context window (tokens) a provider must declare to be used.
    public var minContext: Int?
    public init() {}

    /// Reads a request's `route` object (`r` carries PMX_ERR_INVALID_REQUEST).
    public static func parse(_ r: inout FieldReader) throws -> RouteOptions {
        var o = RouteOptions()
        o.providers = try r.stringArray("providers")
        if o.providers?.isEmpty == true { throw r.fail("providers", "must not be empty") }
        o.maxAttempts = try r.int("max_attempts", min: 1, max: 100)
        o.maxTotalAttempts = try r.int("max_total_attempts", min: RouterConfig.maxTotalAttemptsRange.lowerBound,
                                       max: RouterConfig.maxTotalAttemptsRange.upperBound)
        o.timeoutMs = try r.int("timeout_ms", min: 1, max: 86_400_000)
        o.unsupportedParams = try parsePolicy(&r, "unsupported_params")
        o.strategy = try StrategyKind.parse(&r, "strategy")
        o.lane = try r.string("lane")
        o.tags = try r.stringArray("tags") ?? []
        if var rr = try r.object("retry") { o.retry = try RetryOverlay.parse(&rr) }
        if var tr = try r.object("timeouts") { o.timeouts = try TimeoutOverlay.parse(&tr) }
        o.cache = try r.bool("cache")
        o.minContext = try r.int("min_context", min: 1, max: NumericBounds.tokens)
        try r.finish()
        return o
    }
}
