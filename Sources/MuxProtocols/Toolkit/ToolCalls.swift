// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Tool calls between OpenAI's shape and the others'. OpenAI carries a call's arguments as JSON
/// *text*; Anthropic, Gemini and Ollama want the object itself, and answer with one.
public enum ToolCalls {
    /// The arguments of a call in a request (OpenAI's JSON text) as the object other protocols
    /// send: absent, null or blank text is `{}` (a call without arguments); an object passes as
    /// it is; text that is not a JSON object, or any other type, is an invalid request naming
    /// `path`.
    public static func argumentsObject(_ value: JSONValue?, path: String, provider: String = "") throws -> JSONObject {
        switch value {
        case nil, .null?: return JSONObject()
        case .object(let o)?: return o
        case .string(let s)?:
            if s.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return JSONObject() }
            guard let parsed = try? JSONParser.parse(s), let o = parsed.objectValue else {
                throw PMXError(.invalidRequest, "\(path): must be a JSON object encoded as a string", provider: provider)
            }
            return o
        case let other?:
            throw PMXError(.invalidRequest, "\(path): expected a string of JSON, got \(other.typeName)", provider: provider)
        }
    }

    /// Arguments from an answer as OpenAI's JSON text: absent or null is "{}", an object is
    /// serialized, text passes as it is (already JSON, as some proxies re-encode). nil for any
    /// other type: the caller says what that breaks.
    public static func argumentsText(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?: "{}"
        case .object?: JSONWriter.string(value!)
        case .string(let s)?: s
        default: nil
        }
    }

    /// A whole tool call as one OpenAI delta (`index`, `id`, `type`, `function.name`,
    /// `function.arguments`): the start of a streamed call, or a call that arrives whole.
    @inline(__always)
    public static func delta(index: Int, id: String, name: String, arguments: String) -> JSONValue {
        ["index": .int(Int64(index)), "id": .string(id), "type": "function",
         "function": ["name": .string(name), "arguments": .string(arguments)]]
    }

    /// A piece of a streamed call's arguments, for the call at `index`.
    @inline(__always)
    public static func argumentsDelta(index: Int, piece: String) -> JSONValue {
        ["index": .int(Int64(index)), "function": ["arguments": .string(piece)]]
    }
}
