// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// A validated chat request: the OpenAI body the caller wrote, minus the router's own `route`.
public struct ChatRequest: Sendable {
    /// The OpenAI request body as given (without `route`); forwarded to OpenAI-shaped providers.
    public var body: JSONObject
    /// The `model` string as written ("provider/model", a bare model, or nil).
    public var model: String?
    /// The request's `route` object, parsed once here (Config/RouteOptions.swift).
    public var route: RouteOptions
    /// Whether a message, content part or tool carries Anthropic's `cache_control` (set by
    /// `parse`; `forOpenAIServer` reads it so a request without markers is never walked again).
    public var hasCacheMarkers = false
    /// The body's `stream` flag as the caller wrote it. Not what the router does: the call
    /// chosen (complete / stream) decides that, and each codec writes its own `stream` key.
    public var stream: Bool { body["stream"]?.boolValue ?? false }

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
            var path: String { "messages[\(i)]" }  // built only for an error message
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
        // Several choices: OpenAI-shaped providers take `n`, Gemini `candidateCount`; the
        // other protocols refuse it (PMX_ERR_UNSUPPORTED, the request fails over). 128 is OpenAI's cap.
        _ = try r.int("n", min: 1, max: 128)
        _ = try r.int("seed", min: Int64.min, max: Int64.max)  // passed through, never computed with
        _ = try r.int("num_ctx", min: 1, max: NumericBounds.tokens)
        _ = try r.double("frequency_penalty", min: -2, max: 2)
        _ = try r.double("presence_penalty", min: -2, max: 2)
        _ = try r.int("top_k", min: 0, max: NumericBounds.tokens)
        if let stop = r.raw("stop"), stop.stringValue == nil, stop.arrayValue == nil {
            throw r.fail("stop", "expected a string or an array of strings, got \(stop.typeName)")
        }
        let tools = try r.array("tools")
        _ = try r.bool("stream")
        var route = RouteOptions()
        if var rr = try r.object("route") { route = try RouteOptions.parse(&rr) }

        var body = r.object
        body["route"] = nil
        return ChatRequest(body: body, model: model, route: route,
                           hasCacheMarkers: CacheMarkers.present(messages: messages, tools: tools))
    }

    /// The caller asked for more than one choice (`n` > 1).
    public var asksSeveralChoices: Bool { (body["n"]?.doubleValue ?? 1) > 1 }

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
