// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// A validated request of one operation of pmx_router_call: the caller's JSON minus `route`.
/// The body goes to OpenAI-shaped upstreams as written (with the provider's model); other
/// protocols translate the fields they know.
public struct OperationRequest: Sendable {
    public var operation: OperationName
    public var body: JSONObject
    /// The `model` string as written ("provider/model", a bare model, or nil).
    public var model: String?
    public var route: RouteOptions

    public init(operation: OperationName, body: JSONObject, model: String?, route: RouteOptions) {
        self.operation = operation
        self.body = body
        self.model = model
        self.route = route
    }

    /// Validates the fields the router itself reads, per operation; errors name the field
    /// (PMX_ERR_INVALID_REQUEST). Fields the router does not read pass through unchecked.
    public static func parse(_ operation: OperationName, _ value: JSONValue) throws -> OperationRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let model = try r.string("model")
        try WireSafety.checkRequestModel(model, &r)
        _ = try r.bool("stream")
        switch operation {
        case .completions: try TextCompletionFields.validate(&r)
        case .responses: try ResponsesFields.validate(&r)
        default: try OperationFields.check(operation, r.object)
        }
        var route = RouteOptions()
        if var rr = try r.object("route") { route = try RouteOptions.parse(&rr) }
        var body = r.object
        body["route"] = nil
        return OperationRequest(operation: operation, body: body, model: model, route: route)
    }

    /// The caller's text the operation sends (prompt, input, query …), for the router's token
    /// estimates (rate limits, context windows, cost-based ordering).
    public var promptText: String {
        var parts: [String] = []
        for key in ["prompt", "suffix", "input", "query", "instructions"] {
            switch body[key] {
            case .string(let s): parts.append(s)
            case .array(let a):
                // Strings, or Responses input items (their text content).
                parts += a.compactMap { $0.stringValue ?? $0["content"].map(ChatRequest.text(of:)) ?? $0["output"]?.stringValue }
            default: break
            }
        }
        return parts.joined(separator: "\n")
    }
}

extension OperationRequest {
    /// A stream carries one answer: several prompts (each its own choice) cannot be streamed.
    public func checkStreamable() throws {
        guard operation == .completions, case .array(let a) = body["prompt"], a.count > 1 else { return }
        // An array of token ids is one prompt; an array of strings or of id arrays is several.
        if a.allSatisfy({ $0.intValue != nil }) { return }
        throw PMXError(.invalidRequest, "prompt: \(a.count) prompts cannot be streamed (one answer per stream); send them one at a time, or without streaming")
    }
}
