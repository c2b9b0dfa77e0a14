// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Cohere's reasoning in OpenAI's words, both ways.
///
/// Request: Cohere v2 chat takes `thinking: {"type": "enabled" | "disabled", "token_budget"}`
/// (docs.cohere.com/v2/docs/reasoning; cohere-python `types/thinking.py`: the budget is a
/// positive integer, thinking stops there and the answer follows). It comes from the caller's
/// own `thinking` object (Cohere's shape as is; Anthropic's `budget_tokens` read as
/// `token_budget`, so one request thinks on either vendor), else from `reasoning_effort` with
/// the budgets every protocol uses (ReasoningEffort.budget; "none" turns thinking off).
///
/// Answer: thinking arrives as content items `{"type": "thinking", "thinking": "…"}` before the
/// text, and in a stream as `content-start` with a thinking item then `content-delta`s whose
/// `delta.message.content.thinking` carries the pieces (cohere-python
/// `chat_content_delta_event_delta_message_content.py`). Cohere's usage has no separate
/// reasoning count (`usage.tokens` / `billed_units` are input and output only): thinking is
/// inside `output_tokens`, and `reasoning_tokens` is left out rather than guessed.
package enum CohereThinking {
    /// The `thinking` object to send, or nil to leave the model's default.
    package static func request(_ openai: JSONObject, provider: ProviderConfig) throws -> JSONValue? {
        if let t = openai["thinking"], !t.isNull {
            guard var object = t.objectValue else {
                throw PMXError(.invalidRequest, "thinking: expected an object such as {\"type\":\"enabled\",\"token_budget\":2048}, got \(t.typeName)",
                               provider: provider.name)
            }
            if object["token_budget"] == nil, let budget = object["budget_tokens"] {
                guard budget.intValue != nil else {
                    throw PMXError(.invalidRequest, "thinking.budget_tokens: expected an integer, got \(budget.typeName)", provider: provider.name)
                }
                object["token_budget"] = budget
                object["budget_tokens"] = nil
            }
            return .object(object)
        }
        guard let effort = try ReasoningEffort.effort(openai, provider: provider.name) else { return nil }
        guard let budget = ReasoningEffort.budget(effort) else { return ["type": "disabled"] }
        return ["type": "enabled", "token_budget": .int(Int64(clamping: budget))]
    }

    /// An assistant turn's `reasoning_content` as the thinking item Cohere takes back in
    /// history (cohere-python `assistant_message_v2content_one_item.py`); nil when it has none.
    package static func historyItem(_ message: JSONValue) -> JSONValue? {
        guard let text = message["reasoning_content"]?.stringValue, !text.isEmpty else { return nil }
        return ["type": "thinking", "thinking": .string(text)]
    }
}
