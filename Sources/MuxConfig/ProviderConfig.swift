// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// One provider as configured: validated, secrets expanded, not yet bound to a router.
public struct ProviderConfig: Sendable {
    public var name: String
    public var type: ProviderType
    /// Base URL without a trailing slash; "" for in-process providers.
    public var baseURL: String
    public var apiKey: String? {
        didSet { keyRegistration = Secrets.register(apiKey) }
    }
    /// Keeps `apiKey` masked in every message while this definition (or a copy: a router's
    /// provider, a `pmx_provider` handle) lives; see `Secrets`.
    package var keyRegistration: Secrets.Registration?
    public var models: [String]?
    public var defaultModel: String?
    public var headers: [(String, String)]
    /// The provider's own `retry` / `timeouts` sections (parsed once, with the config), applied
    /// over the router's settings at routing time.
    public var retryOverride: RetryOverlay?
    public var timeoutsOverride: TimeoutOverlay?
    public var mock: MockOptions?
    /// Type-specific keys (the catalogue lists them per type), e.g. azure's `api_version`.
    public var options = JSONObject()
    /// Share of traffic under the `weighted` strategy (0 = only when the others failed).
    public var weight = 1.0
    /// What the provider can do; nil = not declared (capability filters let it through).
    public var capabilities: Set<Capability>?
    /// The context window in tokens, when declared; requests estimated larger skip the provider.
    public var contextLength: Int?
    /// Requests / tokens per minute this provider may be sent.
    public var rateLimits = RateLimitSettings()
    /// The provider's own `circuit_breaker` section, over the router's.
    public var breakerOverride: BreakerOverlay?
    /// Found by local discovery rather than configured.
    public var discovered = false
    /// The provider's `tls` section; the router's `tls` section fills the keys it leaves unset
    /// when the router takes the provider (`Router.resolvedTLS`).
    public var tls = TLSSettings()

    /// The fields every provider has; the others start at their defaults.
    package init(name: String, type: ProviderType, baseURL: String, apiKey: String?, models: [String]?,
                 defaultModel: String?, headers: [(String, String)], retryOverride: RetryOverlay?,
                 timeoutsOverride: TimeoutOverlay?, mock: MockOptions?) {
        self.name = name
        self.type = type
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.models = models
        self.defaultModel = defaultModel
        self.headers = headers
        self.retryOverride = retryOverride
        self.timeoutsOverride = timeoutsOverride
        self.mock = mock
    }

    /// Runs on this machine (no per-token price): the `local` lane and budget fallbacks use these.
    public var isLocal: Bool {
        switch type {
        case .ollama, .lmstudio, .llamacpp, .mock: return true
        default: return discovered
        }
    }

    /// Does this provider serve `model`? A provider without a `models` list serves any model.
    public func serves(_ model: String) -> Bool { models?.contains(model) ?? true }

    public func retry(over base: RetrySettings) -> RetrySettings { base.applying(retryOverride) }

    public func timeouts(over base: TimeoutSettings) -> TimeoutSettings { base.applying(timeoutsOverride) }
}

extension ProviderConfig {
    /// A standalone provider definition, as `pmx_provider_new` takes it: `${VAR}` expanded
    /// from `lookup` (a router config expands its whole document once, in RouterConfig.parse),
    /// then parsed; errors name the field as "provider.<field>".
    public static func parseDefinition(_ document: JSONValue,
                                       lookup: EnvExpansion.Lookup = EnvExpansion.processEnvironment) throws -> ProviderConfig {
        try parse(try EnvExpansion.expand(document, path: "provider", lookup: lookup), path: "provider", lookup: lookup)
    }

    /// Parses one provider object (env already expanded). `path` is e.g. "providers[2]".
    public static func parse(_ value: JSONValue, path: String,
                             lookup: EnvExpansion.Lookup = EnvExpansion.processEnvironment) throws -> ProviderConfig {
        var r = try FieldReader(value, path: path)
        let name = try r.requiredString("name")
        guard name.utf8.count <= 63,
              name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { throw r.fail("name", "must be 1 to 63 characters of A-Z a-z 0-9 . _ - (got \"\(name)\")") }
        let typeName = try r.requiredString("type")
        guard let type = ProviderType(named: typeName) else {
            throw PMXError(.unknownProviderType, "\(r.fieldPath("type")): unknown provider type \"\(typeName)\" (available: \(ProviderType.availableList))")
        }
        let entry = type.defaults

        var baseURL = try r.string("base_url") ?? entry.defaultBaseURL ?? ""
        if type.usesNetwork {
            guard !baseURL.isEmpty else { throw r.fail("base_url", "is required for type \"\(typeName)\"") }
            // The URL of every request to this provider starts with it (WireSafety.swift).
            if let problem = WireSafety.baseURLProblem(baseURL) {
                let shown = WireSafety.hasControl(baseURL) ? "" : " (got \"\(baseURL)\")"
                throw r.fail("base_url", problem + shown)
            }
            while baseURL.hasSuffix("/") { baseURL.removeLast() }
        } else if !baseURL.isEmpty {
            throw r.fail("base_url", "is not used by type \"\(typeName)\"")
        }

        let key = try ProviderKey.resolve(&r, entry: entry, lookup: lookup)
        let apiKey = key.value
        // Masked from here on (a later field's error cannot show it), for as long as the
        // returned config or a copy of it lives.
        let keyRegistration = Secrets.register(apiKey)

        let models = try r.stringArray("models")
        let defaultModel = try r.string("default_model")
        // Model names go into request URLs (Gemini, Azure) and documents.
        for (i, m) in (models ?? []).enumerated() where WireSafety.hasControl(m) {
            throw r.fail("models[\(i)]", "must not contain control characters (CR, LF, NUL, ...)")
        }
        if let m = defaultModel, WireSafety.hasControl(m) {
            throw r.fail("default_model", "must not contain control characters (CR, LF, NUL, ...)")
        }

        var headers: [(String, String)] = []
        if var h = try r.object("headers") {
            for key in h.object.keys {
                guard let v = try h.string(key, nonEmpty: false) else { continue }
                guard WireSafety.isHeaderName(key) else {
                    let reason = "is not a valid HTTP header name (A-Z a-z 0-9 !#$%&'*+-.^_`|~)"
                    if WireSafety.hasControl(key) { throw PMXError(.config, "\(r.fieldPath("headers")): a name with control characters \(reason)") }
                    throw h.fail(key, reason)
                }
                guard WireSafety.isHeaderValue(v) else {
                    throw h.fail(key, "header values must not contain line breaks, NUL or other control characters")
                }
                headers.append((key, v))
            }
        }

        // Parsed now, once: errors point at the config, not at a request.
        var retryOverride: RetryOverlay? = nil
        if var rr = try r.object("retry") { retryOverride = try RetryOverlay.parse(&rr) }
        var timeoutsOverride: TimeoutOverlay? = nil
        if var tr = try r.object("timeouts") { timeoutsOverride = try TimeoutOverlay.parse(&tr) }

        let weight = try r.double("weight", min: 0, max: 1_000_000) ?? 1
        var capabilities: Set<Capability>? = nil
        if let caps = try r.stringArray("capabilities") {
            capabilities = try Set(caps.enumerated().map { i, c in
                guard let cap = Capability(rawValue: c) else {
                    throw PMXError(.config, "\(r.fieldPath("capabilities"))[\(i)]: unknown capability \"\(c)\" (available: \(Capability.list))")
                }
                return cap
            })
        }
        let contextLength = try r.int("context_length", min: 1, max: NumericBounds.tokens)
        var rateLimits = RateLimitSettings()
        if var l = try r.object("limits") { rateLimits = try RateLimitSettings.parse(&l) }
        var breakerOverride: BreakerOverlay?
        if let o = r.raw("circuit_breaker") {
            var br = try FieldReader(o, path: r.fieldPath("circuit_breaker"))
            breakerOverride = try BreakerOverlay.parse(&br)
        }

        var tls = TLSSettings()
        if var t = try r.object("tls") { tls = try TLSSettings.parse(&t) }

        var mock: MockOptions? = nil
        if type == .mock { mock = try MockOptions.parse(&r) }
        var options = JSONObject()
        for (key, kind) in entry.options.sorted(by: { $0.key < $1.key }) {
            switch kind {
            case .string, .queryToken, .pathSegment:
                guard let v = try r.string(key) else { continue }
                // Sent as a header, a query value or a path segment (WireSafety.swift).
                guard !WireSafety.hasControl(v) else {
                    throw r.fail(key, "must not contain control characters (CR, LF, NUL, ...): it goes into the request's headers or URL")
                }
                if kind == .queryToken && !WireSafety.isQueryToken(v) {
                    throw r.fail(key, "must be 1 to 64 characters of A-Z a-z 0-9 . _ - (got \"\(v)\")")
                }
                if kind == .pathSegment && (v == "." || v == "..") {
                    throw r.fail(key, "\"\(v)\" is not a name (a dot segment would change the URL path)")
                }
                options[key] = .string(v)
            case .int: if let v = try r.int(key, min: 0, max: NumericBounds.tokens) { options[key] = .int(Int64(v)) }
            case .bool: if let v = try r.bool(key) { options[key] = .bool(v) }
            }
        }
        try r.finish()
        try key.requirePresent(r, typeName: typeName)

        var config = ProviderConfig(name: name, type: type, baseURL: baseURL, apiKey: apiKey, models: models,
                                    defaultModel: defaultModel, headers: entry.headers + headers, retryOverride: retryOverride,
                                    timeoutsOverride: timeoutsOverride, mock: mock)
        config.options = options
        config.weight = weight
        config.capabilities = capabilities
        config.contextLength = contextLength
        config.rateLimits = rateLimits
        config.breakerOverride = breakerOverride
        config.tls = tls
        config.keyRegistration = keyRegistration
        return config
    }
}
