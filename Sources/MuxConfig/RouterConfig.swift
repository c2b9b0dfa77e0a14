// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// A validated router config.
public struct RouterConfig: Sendable {
    public var providers: [ProviderConfig]
    public var retry = RetrySettings()
    public var timeouts = TimeoutSettings()
    public var maxResponseBytes = 64 << 20
    /// Largest request body sent to a provider (`limits.max_request_bytes`).
    public var maxRequestBytes = 32 << 20
    /// Attempts one request may send in all: retries + failovers + fallbacks
    /// (`limits.max_total_attempts`, 1…1000; a request's `route.max_total_attempts` overrides it).
    public var maxTotalAttempts = RouterConfig.defaultMaxTotalAttempts
    public static let defaultMaxTotalAttempts = 32
    public static let maxTotalAttemptsRange: ClosedRange<Int64> = 1...1000
    /// Longest cooldown an upstream may impose on a provider with a 429's Retry-After or
    /// x-ratelimit-reset-* (`limits.max_cooldown_ms`, 0…86_400_000): a server asking for more is
    /// taken at this word, so one answer cannot take a provider out for years.
    public var maxCooldownMs = RouterConfig.defaultMaxCooldownMs
    public static let defaultMaxCooldownMs = 300_000
    /// Default TLS options of every provider (each provider's own keys win).
    public var tls = TLSSettings()
    public var unsupportedParams = UnsupportedParameterPolicy.drop
    public var routing = RoutingConfig()
    public var pricing = PricingTable()
    /// Router-wide spending limit.
    public var budget: BudgetSettings?
    public var breaker = BreakerSettings()
    public var cache = CacheSettings()
    public var health = HealthSettings()
    public var discovery = DiscoverySettings()
    /// Shared state on Redis (`shared`); nil = every router keeps its own.
    public var shared: SharedSettings?
    /// The `gateway` section (pmx-gateway's bearer keys); nil when absent. The library ignores it.
    public var gateway: GatewaySettings?

    public init(providers: [ProviderConfig]) { self.providers = providers }

    /// Parses and validates router config JSON text.
    public static func parse(_ text: String) throws -> RouterConfig {
        try parse(JSONParser.parse(text))
    }

    public static func parse(_ document: JSONValue, lookup: EnvExpansion.Lookup = EnvExpansion.processEnvironment) throws -> RouterConfig {
        let expanded = try EnvExpansion.expand(document, path: "", lookup: lookup)
        var r = try FieldReader(expanded, path: "")
        if let v = try r.int("schema_version", min: 0, max: 1_000_000), v != 1 {
            throw r.fail("schema_version", "this library reads schema_version 1, got \(v)")
        }
        guard let list = try r.array("providers") else { throw r.fail("providers", "is required (an array, may be empty)") }
        var providers: [ProviderConfig] = []
        var names = Set<String>()  // a set, not a search: 10,000 providers stay linear
        for (i, p) in list.enumerated() {
            let parsed = try ProviderConfig.parse(p, path: "providers[\(i)]", lookup: lookup)
            guard names.insert(parsed.name).inserted else {
                throw PMXError(.duplicateProvider, "providers[\(i)].name: provider \"\(parsed.name)\" is defined twice")
            }
            providers.append(parsed)
        }
        var config = RouterConfig(providers: providers)

        if var routing = try r.object("routing") {
            if let order = try routing.stringArray("order") {
                config.providers = try applyOrder(order, to: providers, name: \.name)
            }
            config.routing = try RoutingConfig.parse(&routing, providerConfigs: providers)
            try routing.finish()
        }
        if var p = try r.object("pricing") { config.pricing = try PricingTable.parse(&p) }
        if var b = try r.object("budget") { config.budget = try BudgetSettings.parse(&b) }
        if var b = try r.object("circuit_breaker") { config.breaker = try BreakerSettings().overlaid(with: &b) }
        if var c = try r.object("cache") { config.cache = try CacheSettings.parse(&c) }
        if var h = try r.object("health_checks") { config.health = try HealthSettings.parse(&h) }
        if var d = try r.object("discovery") { config.discovery = try DiscoverySettings.parse(&d) }
        if var s = try r.object("shared") { config.shared = try SharedSettings.parse(&s) }
        if var g = try r.object("gateway") { config.gateway = try GatewaySettings.parse(&g) }
        if let p = try parsePolicy(&r, "unsupported_params") { config.unsupportedParams = p }
        if var retry = try r.object("retry") { config.retry = try RetrySettings().overlaid(with: &retry) }
        if var t = try r.object("tls") { config.tls = try TLSSettings.parse(&t) }
        if var t = try r.object("timeouts") { config.timeouts = try TimeoutSettings().overlaid(with: &t) }
        if var limits = try r.object("limits") {
            if let v = try limits.int("max_response_bytes", min: 1024, max: Int64(Int32.max)) { config.maxResponseBytes = v }
            if let v = try limits.int("max_request_bytes", min: 1024, max: Int64(Int32.max)) { config.maxRequestBytes = v }
            if let v = try limits.int("max_total_attempts", min: maxTotalAttemptsRange.lowerBound, max: maxTotalAttemptsRange.upperBound) {
                config.maxTotalAttempts = v
            }
            if let v = try limits.int("max_cooldown_ms", min: 0, max: 86_400_000) { config.maxCooldownMs = v }
            try limits.finish()
        }
        try r.finish()
        return config
    }

    /// `routing.order`: the named providers first, in that order, then the rest as configured.
    /// One pass with a dictionary (names are unique): linear in the number of providers.
    package static func applyOrder<P>(_ order: [String], to items: [P], name: (P) -> String) throws -> [P] {
        var byName: [String: Int] = [:]
        byName.reserveCapacity(items.count)
        for (i, p) in items.enumerated() { byName[name(p)] = i }
        var taken = [Bool](repeating: false, count: items.count)
        var ordered: [P] = []
        ordered.reserveCapacity(items.count)
        for (i, n) in order.enumerated() {
            guard let at = byName[n] else { throw PMXError(.config, "routing.order[\(i)]: no provider named \"\(n)\"") }
            guard !taken[at] else { throw PMXError(.config, "routing.order[\(i)]: \"\(n)\" is listed twice") }
            taken[at] = true
            ordered.append(items[at])
        }
        for (i, p) in items.enumerated() where !taken[i] { ordered.append(p) }
        return ordered
    }
}
