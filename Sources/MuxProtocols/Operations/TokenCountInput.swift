// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A `tokens.count` request as a chat request: `messages` (OpenAI chat messages, with `tools`
/// and `tool_choice` beside them) or `input`, a plain string counted as one user message. The
/// vendors' counters take their own chat shapes, so the chat translations of each protocol
/// are reused as they are.
public enum TokenCountInput {
    public static func chatBody(_ request: OperationRequest) -> JSONObject {
        var body = request.body
        if body["messages"] == nil, let text = body["input"]?.stringValue {
            body["messages"] = .array([.object(JSONObject([("role", "user"), ("content", .string(text))]))])
        }
        body["input"] = nil
        return body
    }

    /// Every message's text, one message a line: what a plain tokenizer (llama.cpp) counts.
    public static func plainText(_ request: OperationRequest) -> String {
        if request.body["messages"] == nil, let text = request.body["input"]?.stringValue { return text }
        return (request.body["messages"]?.arrayValue ?? []).map { ChatRequest.text(of: $0["content"]) }.joined(separator: "\n")
    }

    /// The result every counter gives: `{"input_tokens": N, "estimated": false}`.
    public static func result(_ n: Int64) -> JSONObject {
        JSONObject([("object", "tokens.count"), ("input_tokens", .int(n)), ("estimated", .bool(false))])
    }
}
