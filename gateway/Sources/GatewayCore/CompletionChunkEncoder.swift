// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxRouting

/// A streamed `/v1/completions` as OpenAI sends it: `data: {text_completion}` events, each
/// with `choices: [{"text", "index", "logprobs": null, "finish_reason"}]`, the last one
/// carrying the finish reason, a usage event (`choices: []`) when
/// `stream_options.include_usage` asked for it, then `data: [DONE]`; a failure after output
/// started is one `data: {"error":{…}}` event instead. Loop thread, one event at a time.
package final class CompletionChunkEncoder {
    private var header: ChunkHeader
    private let includeUsage: Bool
    /// The choices some text was streamed for. A provider without a streamed form answers
    /// with `done` only: its text then goes out in the closing chunk.
    private var streamed = Set<Int>()

    package init(id: String, created: Int64, model: String, includeUsage: Bool) {
        header = ChunkHeader(id: id, object: "text_completion", created: created, model: model)
        self.includeUsage = includeUsage
    }

    /// The SSE bytes for `event` (empty for the router's own start, retry, fallback, usage).
    package func frames(for event: ExecutionEvent) -> [UInt8] {
        var out: [UInt8] = []
        switch event {
        case .start(_, let m, _):
            header.started(model: m)
        case .delta(let content, _):
            text(content, index: 0, into: &out)
        case .choiceDelta(let index, let content, _, _):
            text(content, index: index, into: &out)
        case .done(let response):
            // One closing chunk per choice, with its finish reason (and its text if none streamed).
            let choices = response["choices"]?.arrayValue ?? []
            for (n, choice) in (choices.isEmpty ? [JSONValue.null] : choices).enumerated() {
                let index = choice["index"]?.intValue.flatMap { Int(exactly: $0) } ?? n
                let rest = streamed.contains(index) ? "" : choice["text"]?.stringValue ?? ""
                SSEFrames.data(chunk(text: rest, index: index, finishReason: choice["finish_reason"] ?? "stop"), into: &out)
            }
            header.usageChunk(response, requested: includeUsage, into: &out)
            SSEFrames.done(into: &out)
        case .error(let e):
            SSEFrames.data(OpenAIError(e).json, into: &out)
        case .reasoning, .retry, .fallback, .usage, .operation:
            break
        }
        SSEFrames.seal(&out)
        return out
    }

    private func text(_ content: String?, index: Int, into out: inout [UInt8]) {
        guard let content, !content.isEmpty else { return }
        streamed.insert(index)
        SSEFrames.data(chunk(text: content, index: index, finishReason: .null), into: &out)
    }

    private func chunk(text: String, index: Int, finishReason: JSONValue) -> JSONValue {
        var o = header.fields()
        o["choices"] = [["text": .string(text), "index": .int(Int64(index)), "logprobs": .null, "finish_reason": finishReason]]
        return .object(o)
    }
}
