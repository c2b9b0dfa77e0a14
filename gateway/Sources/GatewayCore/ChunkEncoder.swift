// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxRouting

/// Turns one stream's router events into OpenAI's Server-Sent Events: `data: {chunk}\n\n` lines
/// in the chat.completion.chunk shape, then `data: [DONE]\n\n`; a failure after the stream
/// started is one `data: {"error":{…}}` event instead of `[DONE]` (what the openai SDKs raise).
/// Runs on the router's loop thread, one event at a time, so it needs no lock.
package final class ChunkEncoder {
    private let id: String
    private let created: Int64
    private var model: String
    private let includeUsage: Bool
    private var roleSent = false

    package init(id: String, created: Int64, model: String, includeUsage: Bool) {
        self.id = id
        self.created = created
        self.model = model
        self.includeUsage = includeUsage
    }

    /// The SSE bytes for `event` (empty for events OpenAI's stream has no counterpart of:
    /// start, retry, fallback, the router's own usage event).
    package func frames(for event: ExecutionEvent) -> [UInt8] {
        var out: [UInt8] = []
        switch event {
        case .start(_, let m, _):
            if !m.isEmpty { model = m }
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
            if includeUsage, let usage = response["usage"] {
                var o = header()
                o["choices"] = []
                o["usage"] = usage
                append(.object(o), to: &out)
            }
            out.append(contentsOf: Array("data: [DONE]\n\n".utf8))
        case .error(let e):
            append(OpenAIError(e).json, to: &out)
        case .retry, .fallback, .usage:
            break
        }
        Secrets.mask(&out)
        if !out.isEmpty { Transcript.record(.event, out) }
        return out
    }

    private func header() -> JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = "chat.completion.chunk"
        o["created"] = .int(created)
        o["model"] = .string(model)
        return o
    }

    private func chunk(delta: JSONObject, finishReason: JSONValue, index: Int = 0) -> JSONValue {
        var o = header()
        o["choices"] = [["index": .int(Int64(index)), "delta": .object(delta), "finish_reason": finishReason]]
        return .object(o)
    }

    private func append(_ value: JSONValue, to out: inout [UInt8]) {
        out.append(contentsOf: Array("data: ".utf8))
        JSONWriter.write(value, into: &out)
        out.append(contentsOf: [0x0A, 0x0A])
    }
}
