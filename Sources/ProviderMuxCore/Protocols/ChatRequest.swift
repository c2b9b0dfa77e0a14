/// A validated chat request: the OpenAI body the caller wrote, minus the router's own `route`.
public struct ChatRequest: Sendable {
    /// The OpenAI request body as given (without `route`); forwarded to OpenAI-shaped providers.
    public var body: JSONObject
    /// The `model` string as written ("provider/model", a bare model, or nil).
    public var model: String?
    public var route: RouteOptions
    public var stream: Bool

    /// Validates an OpenAI Chat Completions request. Errors name the field (`messages[2].role`).
    public static func parse(_ value: JSONValue) throws -> ChatRequest {
        var value = value
        var renamed: [String: String] = [:]
        if case .object(var o) = value {
            renamed = try ParameterAliases.canonicalize(&o)
            value = .object(o)
        }
        do {
            return try parseCanonical(value)
        } catch let e as PMXError {
            // An error about a renamed parameter names it as the caller wrote it.
            for (canonical, alias) in renamed where e.message.hasPrefix("\(canonical):") {
                var named = e
                named.message = "\(alias) (\(canonical))" + e.message.dropFirst(canonical.count)
                throw named
            }
            throw e
        }
    }

    private static func parseCanonical(_ value: JSONValue) throws -> ChatRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let model = try r.string("model")
        try WireSafety.checkRequestModel(model, &r)
        guard let messages = try r.array("messages") else { throw r.fail("messages", "is required") }
        guard !messages.isEmpty else { throw r.fail("messages", "must not be empty") }
        for (i, m) in messages.enumerated() {
            let path = "messages[\(i)]"
            guard let o = m.objectValue else { throw PMXError(.invalidRequest, "\(path): expected an object, got \(m.typeName)") }
            guard let role = o["role"] else { throw PMXError(.invalidRequest, "\(path).role: is required") }
            guard role.stringValue != nil else { throw PMXError(.invalidRequest, "\(path).role: expected a string, got \(role.typeName)") }
            if let c = o["content"] {
                switch c {
                case .string, .array, .null: break
                default: throw PMXError(.invalidRequest, "\(path).content: expected a string or an array of parts, got \(c.typeName)")
                }
            }
        }
        _ = try r.double("temperature", min: 0, max: 2)
        _ = try r.double("top_p", min: 0, max: 1)
        _ = try r.int("max_tokens", min: 1, max: NumericBounds.tokens)
        _ = try r.int("max_completion_tokens", min: 1, max: NumericBounds.tokens)
        _ = try r.int("n", min: 1, max: 1)  // one choice: the router merges one answer
        _ = try r.int("seed", min: Int64.min, max: Int64.max)  // passed through, never computed with
        _ = try r.int("num_ctx", min: 1, max: NumericBounds.tokens)
        _ = try r.double("frequency_penalty", min: -2, max: 2)
        _ = try r.double("presence_penalty", min: -2, max: 2)
        _ = try r.int("top_k", min: 0, max: NumericBounds.tokens)
        if let stop = r.raw("stop"), stop.stringValue == nil, stop.arrayValue == nil {
            throw r.fail("stop", "expected a string or an array of strings, got \(stop.typeName)")
        }
        _ = try r.array("tools")
        let stream = try r.bool("stream") ?? false
        var route = RouteOptions()
        if var rr = try r.object("route") { route = try RouteOptions.parse(&rr) }

        var body = r.object
        body["route"] = nil
        return ChatRequest(body: body, model: model, route: route, stream: stream)
    }

    /// Text of the last user message (string content, or the text parts joined).
    public var lastUserText: String {
        guard let messages = body["messages"]?.arrayValue else { return "" }
        for m in messages.reversed() where m["role"]?.stringValue == "user" {
            return Self.text(of: m["content"])
        }
        return ""
    }

    /// Text of a message `content` (string or an array of `{"type":"text","text":…}` parts).
    public static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let s): return s
        case .array(let parts): return parts.compactMap { $0["text"]?.stringValue }.joined(separator: " ")
        default: return ""
        }
    }
}

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
    /// `retry` / `timeouts` sections over the provider's (validated here, applied per attempt).
    public var retry: JSONValue?
    public var timeouts: JSONValue?
    /// true / false: use / bypass the response cache for this request; nil = the router's setting.
    public var cache: Bool?
    /// Smallest context window (tokens) a provider must declare to be used.
    public var minContext: Int?
    public init() {}

    static func parse(_ r: inout FieldReader) throws -> RouteOptions {
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
        o.retry = r.raw("retry")
        if let v = o.retry { var rr = try FieldReader(v, path: r.fieldPath("retry"), status: .invalidRequest); _ = try RetrySettings().overlaid(with: &rr) }
        o.timeouts = r.raw("timeouts")
        if let v = o.timeouts { var tr = try FieldReader(v, path: r.fieldPath("timeouts"), status: .invalidRequest); _ = try TimeoutSettings().overlaid(with: &tr) }
        o.cache = try r.bool("cache")
        o.minContext = try r.int("min_context", min: 1, max: NumericBounds.tokens)
        try r.finish()
        return o
    }
}

/// A validated embeddings request.
public struct EmbedRequest: Sendable {
    public var body: JSONObject
    public var model: String?
    public var inputs: [String]
    public var route: RouteOptions

    public static func parse(_ value: JSONValue) throws -> EmbedRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let model = try r.string("model")
        try WireSafety.checkRequestModel(model, &r)
        guard let input = r.raw("input") else { throw r.fail("input", "is required") }
        var inputs: [String]
        switch input {
        case .string(let s): inputs = [s]
        case .array(let a):
            inputs = try a.enumerated().map { i, e in
                guard let s = e.stringValue else { throw PMXError(.invalidRequest, "input[\(i)]: expected a string, got \(e.typeName)") }
                return s
            }
            if inputs.isEmpty { throw r.fail("input", "must not be empty") }
        default: throw r.fail("input", "expected a string or an array of strings, got \(input.typeName)")
        }
        _ = try r.int("dimensions", min: 1, max: 65_536)
        var route = RouteOptions()
        if var rr = try r.object("route") { route = try RouteOptions.parse(&rr) }
        var body = r.object
        body["route"] = nil
        return EmbedRequest(body: body, model: model, inputs: inputs, route: route)
    }
}
