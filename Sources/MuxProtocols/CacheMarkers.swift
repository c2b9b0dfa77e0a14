// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Anthropic's prompt-caching breakpoints (`cache_control`) in an OpenAI-shaped request: on a
/// message, on its content parts, on a tool (or its function). Anthropic and OpenRouter take
/// them; every other vendor's API has no such key (openai's, groq's, mistral's request types
/// refuse it), so it is taken out before those requests are written.
enum CacheMarkers {
    /// Whether any message, content part or tool carries a marker. Read once, at parse time,
    /// so a request without markers (nearly all) costs one lookup per message and tool.
    static func present(messages: [JSONValue], tools: [JSONValue]?) -> Bool {
        for m in messages {
            guard case .object(let o) = m else { continue }
            if o["cache_control"] != nil { return true }
            if case .array(let parts)? = o["content"], parts.contains(where: { $0["cache_control"] != nil }) { return true }
        }
        return tools?.contains { $0["cache_control"] != nil || $0["function"]?["cache_control"] != nil } ?? false
    }

    /// `value` (a message or a tool) without markers on it, its parts or its function.
    static func unmarked(_ value: JSONValue) -> JSONValue {
        guard case .object(var o) = value else { return value }
        o["cache_control"] = nil
        if case .array(let parts)? = o["content"] {
            o["content"] = .array(parts.map { part in
                guard case .object(var p) = part, p["cache_control"] != nil else { return part }
                p["cache_control"] = nil
                return .object(p)
            })
        }
        if case .object(var f)? = o["function"], f["cache_control"] != nil {
            f["cache_control"] = nil
            o["function"] = .object(f)
        }
        return .object(o)
    }

    /// Whether an OpenAI-shaped server of `type` keeps the markers: OpenRouter documents them,
    /// and an `openai-compatible` server may be a gateway that hands them on to Anthropic
    /// (LiteLLM's proxy does), so both get the request as written.
    static func kept(by type: ProviderType) -> Bool {
        type == .openrouter || type == .openaiCompatible
    }
}

extension ChatRequest {
    /// The request as an OpenAI-shaped server of `provider`'s type takes it: without
    /// `cache_control` markers unless that type keeps them (`CacheMarkers.kept`). The request
    /// itself when it has none.
    public func forOpenAIServer(_ provider: ProviderConfig) -> ChatRequest {
        guard hasCacheMarkers, !CacheMarkers.kept(by: provider.type) else { return self }
        var r = self
        if case .array(let messages)? = body["messages"] { r.body["messages"] = .array(messages.map(CacheMarkers.unmarked)) }
        if case .array(let tools)? = body["tools"] { r.body["tools"] = .array(tools.map(CacheMarkers.unmarked)) }
        r.hasCacheMarkers = false
        return r
    }
}
