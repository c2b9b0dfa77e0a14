// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxRouting

/// Turns one stream's router events into OpenAI's Server-Sent Events: `data: {chunk}\n\n` lines
/// in the chat.completion.chunk shape, then `data: [DONE]\n\n`; a failure after the stream
/// started is one `data: {"error":{…}}` event instead of `[DONE]` (what the openai SDKs raise).
/// Runs on the router's loop thread, one event at a time, so it needs no lock.
package final class ChunkEncoder {
    private var header: ChunkHeader
    private let includeUsage: Bool
    private var roleSent = false

    package init(id: String, created: Int64, model: String, includeUsage: Bool) {
        header = ChunkHeader(id: id, object: "chat.completion.chunk", created: created, model: model)
        self.includeUsage = includeUsage
    }

    /// The SSE bytes for `event` (empty for events OpenAI's stream has no counterpart of:
    /// start, retry, fallback, the router's own usage event).
    package func frames(for event: ExecutionEvent) -> [UInt8] {
        var out: [UInt8] = []
        switch event {
        case .start(_, let m, _):
            header.started(model: m)
        case .delta(let content, let toolCalls):
            var delta = JSONObject()
            if !roleSent { delta["role"] = "assistant"; roleSent = true }
            if let content { delta["content"] = .string(content) }
            if let toolCalls { delta["tool_calls"] = .array(toolCalls) }
            append(chunk(delta: delta, finishReason: .null), to: &out)
        case .reasoning(let text):
            // As DeepSeek and OpenRouter stream it, and as responses carry it (`reasoning_content`).
            var delta = JSONObject()
            if !roleSent { delta["role"] = "assistant"; roleSent = true }
            delta["reasoning_content"] = .string(text)
            append(chunk(delta: delta, finishReason: .null), to: &out)
        case .choiceDelta(let index, let content, let reasoning, let toolCalls):
            // A request with n > 1: each choice's pieces under its own index, as OpenAI streams them.
            var delta = JSONObject()
            if let reasoning { delta["reasoning_content"] = .string(reasoning) }
            if let content { delta["content"] = .string(content) }
            if let toolCalls { delta["tool_calls"] = .array(toolCalls) }
            append(chunk(delta: delta, finishReason: .null, index: index), to: &out)
        case .done(let response):
            let choice = response["choices"]?.arrayValue?.first
            if !roleSent { append(chunk(delta: JSONObject([("role", "assistant"), ("content", "")]), finishReason: .null), to: &out); roleSent = true }
            append(chunk(delta: JSONObject(), finishReason: choice?["finish_reason"] ?? "stop"), to: &out)
            header.usageChunk(response, requested: includeUsage, into: &out)
            SSEFrames.done(into: &out)
        case .error(let e):
            append(OpenAIError(e).json, to: &out)
        case .retry, .fallback, .usage, .operation:
            break
        }
        SSEFrames.seal(&out)
        return out
    }

    private func chunk(delta: JSONObject, finishReason: JSONValue, index: Int = 0) -> JSONValue {
        var o = header.fields()
        o["choices"] = [["index": .int(Int64(index)), "delta": .object(delta), "finish_reason": finishReason]]
        return .object(o)
    }

    private func append(_ value: JSONValue, to out: inout [UInt8]) { SSEFrames.data(value, into: &out) }
}
