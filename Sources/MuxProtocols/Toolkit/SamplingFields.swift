// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The generation settings of an OpenAI request that every other protocol also takes, under
/// its own names: stop sequences, the output token limit, JSON mode, and plain values copied
/// across (`temperature`, `top_p`, ...). `ChatRequest.parse` has checked their types and
/// ranges; what is left here is the shape each protocol wants.
public enum SamplingFields {
    /// `stop` as a list of strings: a string is a list of one; an empty list or none is nil.
    /// An entry that is not a string is an invalid request naming it (`stop[1]`).
    public static func stopSequences(_ request: JSONObject, provider: String = "") throws -> [JSONValue]? {
        switch request["stop"] {
        case nil, .null?: return nil
        case .string(let s)?: return [.string(s)]
        case .array(let list)?:
            for (i, v) in list.enumerated() where v.stringValue == nil {
                throw PMXError(.invalidRequest, "stop[\(i)]: expected a string, got \(v.typeName)", provider: provider)
            }
            return list.isEmpty ? nil : list
        case let other?:
            throw PMXError(.invalidRequest, "stop: expected a string or an array of strings, got \(other.typeName)", provider: provider)
        }
    }

    /// The output token limit: OpenAI's newer `max_completion_tokens`, else `max_tokens`.
    public static func maxTokens(_ request: JSONObject) -> JSONValue? {
        for key in ["max_completion_tokens", "max_tokens"] {
            if let v = request[key], !v.isNull { return v }
        }
        return nil
    }

    /// Copies each present, non-null `from` value of the request to `to` in `out`.
    public static func copy(_ names: [(from: String, to: String)], from request: JSONObject, into out: inout JSONObject) {
        for (from, to) in names {
            if let v = request[from], !v.isNull { out[to] = v }
        }
    }

    /// The same keys on both sides.
    public static func copy(_ keys: [String], from request: JSONObject, into out: inout JSONObject) {
        for key in keys {
            if let v = request[key], !v.isNull { out[key] = v }
        }
    }

    /// What `response_format` asks for.
    public enum ResponseFormat: Equatable, Sendable {
        case text
        case jsonObject
        /// `json_schema.schema`, a JSON Schema object.
        case jsonSchema(JSONValue)
    }

    /// `response_format`, or nil when absent or null. A `json_schema` without a schema object
    /// is an invalid request; a type other than text, json_object and json_schema is one the
    /// protocol does not take (`PMX_ERR_UNSUPPORTED`, so the router can fail over).
    public static func responseFormat(_ request: JSONObject, protocolName: String, provider: String = "") throws -> ResponseFormat? {
        guard let format = request["response_format"], !format.isNull else { return nil }
        switch format["type"]?.stringValue {
        case "text", nil: return .text
        case "json_object": return .jsonObject
        case "json_schema":
            guard let schema = format["json_schema"]?["schema"], schema.objectValue != nil else {
                throw PMXError(.invalidRequest, "response_format.json_schema.schema: expected an object", provider: provider)
            }
            return .jsonSchema(schema)
        case let other?:
            throw PMXError(.unsupported, "response_format.type: \"\(other)\" is not supported by \(protocolName) (text, json_object, json_schema)",
                           provider: provider)
        }
    }
}
