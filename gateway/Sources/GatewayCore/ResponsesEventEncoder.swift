// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxRouting

/// A streamed `/v1/responses` as OpenAI sends it: each of the router's Responses events
/// (`response.created`, `response.output_item.added`, `response.output_text.delta`, …,
/// `response.completed` or `response.incomplete`) as `event: <type>` + `data: {event}`, with no
/// `[DONE]` (the Responses stream ends with its last `response.*` event). A failure after
/// output started is OpenAI's `error` event (`{"type": "error", "code", "message", "param",
/// "sequence_number"}`). Loop thread, one event at a time.
package final class ResponsesEventEncoder {
    /// The last `sequence_number` sent, so that the error event continues the sequence.
    private var sequence: Int64 = -1

    package init() {}

    /// The SSE bytes for `event` (empty for the router's own start, retry, fallback, usage and
    /// `done`, whose Response the last `response.*` event already carried).
    package func frames(for event: ExecutionEvent) -> [UInt8] {
        var out: [UInt8] = []
        switch event {
        case .operation(let o):
            if let n = o["sequence_number"]?.intValue { sequence = n }
            SSEFrames.event(Self.eventName(o["type"]?.stringValue), .object(o), into: &out)
        case .error(let e):
            let error = OpenAIError(e)
            var o = JSONObject()
            o["type"] = "error"
            o["code"] = error.code.map { .string($0) } ?? .null
            o["message"] = .string(error.message)
            o["param"] = error.param.map { .string($0) } ?? .null
            o["sequence_number"] = .int(sequence.addingSaturated(1))
            SSEFrames.event("error", .object(o), into: &out)
        default:
            break
        }
        SSEFrames.seal(&out)
        return out
    }

    /// The `event:` line's name: the event's type when it is one plain token (an upstream's
    /// passed-through type must not be able to start a line of its own), else "message".
    static func eventName(_ type: String?) -> String {
        guard let type, !type.isEmpty, type.utf8.count <= 128,
              type.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return "message" }
        return type
    }
}
