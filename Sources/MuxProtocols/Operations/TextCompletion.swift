// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// `completions.create`: the OpenAI `text_completion` object every protocol's answer becomes,
/// and the request fields the router checks before anything is sent.
public enum TextCompletion {
    /// A `text_completion` object with one choice.
    public static func object(id: String?, model: String, text: String, finishReason: String?, usage: Usage?) -> JSONObject {
        var choice = JSONObject()
        choice["text"] = .string(text)
        choice["index"] = 0
        choice["logprobs"] = .null
        choice["finish_reason"] = finishReason.map { .string($0) } ?? .null
        var o = JSONObject()
        o["id"] = .string(id ?? "cmpl-" + StreamAccumulator.generatedID().dropFirst("chatcmpl-".count))
        o["object"] = "text_completion"
        o["created"] = .int(unixTimeSeconds())
        o["model"] = .string(model)
        o["choices"] = .array([.object(choice)])
        if let usage { o["usage"] = usage.json() }
        return o
    }

    /// A chat-shaped answer (a streamed answer as the router accumulated it, or Mistral FIM's
    /// `chat.completion`) → `text_completion`: `message.content` becomes `text`; id, model,
    /// created and usage are kept.
    public static func fromChat(_ chat: JSONObject) -> JSONObject {
        var o = chat
        o["object"] = "text_completion"
        o["choices"] = .array((chat["choices"]?.arrayValue ?? []).enumerated().map { n, c in
            var choice = JSONObject()
            choice["text"] = .string(c["message"]?["content"]?.stringValue ?? c["delta"]?["content"]?.stringValue ?? "")
            choice["index"] = OpenAIProtocol.positionIndex(c["index"], at: n)
            choice["logprobs"] = .null
            choice["finish_reason"] = c["finish_reason"] ?? .null
            return .object(choice)
        })
        if let id = chat["id"]?.stringValue, id.hasPrefix("chatcmpl-") { o["id"] = .string("cmpl-" + id.dropFirst("chatcmpl-".count)) }
        return o
    }

    /// The one prompt string of a request, for protocols that take a single text (Ollama,
    /// llama.cpp infill, Mistral FIM): a string, or an array of exactly one string.
    public static func singlePrompt(_ request: OperationRequest, provider: ProviderConfig) throws -> String {
        switch request.body["prompt"] {
        case .string(let s): return s
        case .array(let a) where a.count == 1:
            if let s = a[0].stringValue { return s }
        default: break
        }
        throw OperationSupport.unsupported(.completions, provider: provider,
                                           why: "it takes one prompt string; several prompts or token ids need an OpenAI-shaped /completions")
    }

    /// `stop` as a list of strings (a string or an array of strings).
    public static func stops(_ request: OperationRequest) -> [String]? {
        switch request.body["stop"] {
        case .string(let s): return [s]
        case .array(let a): return a.compactMap(\.stringValue)
        default: return nil
        }
    }
}

/// The fields of a `completions.create` request the router reads or bounds.
package enum TextCompletionFields {
    package static func validate(_ r: inout FieldReader) throws {
        guard let prompt = r.raw("prompt") else { throw r.fail("prompt", "is required") }
        try checkPrompt(prompt)
        _ = try r.string("suffix", nonEmpty: false)
        _ = try r.int("max_tokens", min: 0, max: NumericBounds.tokens)
        _ = try r.double("temperature", min: 0, max: 2)
        _ = try r.double("top_p", min: 0, max: 1)
        _ = try r.int("n", min: 1, max: 1)  // one choice: the router merges one answer
        _ = try r.int("best_of", min: 1, max: 1)
        _ = try r.int("logprobs", min: 0, max: 5)
        _ = try r.int("seed", min: Int64.min, max: Int64.max)  // passed through, never computed with
        _ = try r.double("frequency_penalty", min: -2, max: 2)
        _ = try r.double("presence_penalty", min: -2, max: 2)
        _ = try r.bool("echo")
        _ = try r.bool("raw")
        if let stop = r.raw("stop"), stop.stringValue == nil, stop.arrayValue == nil {
            throw r.fail("stop", "expected a string or an array of strings, got \(stop.typeName)")
        }
    }

    /// A string, an array of strings, an array of token ids, or an array of token-id arrays.
    private static func checkPrompt(_ prompt: JSONValue) throws {
        switch prompt {
        case .string: return
        case .array(let a):
            guard !a.isEmpty else { throw PMXError(.invalidRequest, "prompt: must not be empty") }
            if a.allSatisfy({ $0.stringValue != nil }) || a.allSatisfy(isTokenID) { return }
            if a.allSatisfy({ $0.arrayValue?.allSatisfy(isTokenID) ?? false }) { return }
            throw PMXError(.invalidRequest, "prompt: expected a string, an array of strings, of token ids or of token-id arrays")
        default:
            throw PMXError(.invalidRequest, "prompt: expected a string or an array, got \(prompt.typeName)")
        }
    }

    private static func isTokenID(_ v: JSONValue) -> Bool {
        if case .int(let i) = v { return i >= 0 }
        return false
    }
}
