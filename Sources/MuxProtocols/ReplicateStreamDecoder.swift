// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// Decodes a Replicate prediction's event stream (`urls.stream`, SSE) at any byte split:
/// `output` events carry raw text (no JSON; a piece with line breaks comes as several `data:`
/// lines, joined with "\n" by the SSE decoder), `logs` are the model's log lines (ignored),
/// `error` carries `{"detail": …}` (or text), and `done` ends the stream with `{}` or
/// `{"reason": "canceled" | "error"}`. Unknown event names are ignored. The stream has no
/// token counts: its answer carries no `usage` (the prediction's `metrics` do, for `complete`).
package final class ReplicateStreamDecoder: ChatStreamDecoding {
    private var sse = SSEDecoder()
    private let provider: String
    private var ended = false

    package init(provider: String) { self.provider = provider }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try sse.feedBorrowed(bytes) { event in try decode(event, emit) }
    }

    /// No `.end` here: a stream cut before `done` is incomplete, and the driver says so.
    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try sse.finishBorrowed { event in try decode(event, emit) }
    }

    private func decode(_ event: SSEEventView, _ emit: (ProviderEvent) -> Void) throws {
        if ended { return }
        if event.isEvent("output") {
            emit(.delta(content: String(decoding: event.data, as: UTF8.self), toolCalls: nil))
        } else if event.isEvent("error") {
            let json = try? JSONParser.parse(event.data)
            let detail = json?["detail"]?.stringValue ?? json?["error"]?.stringValue ?? String(decoding: event.data, as: UTF8.self)
            ended = true
            emit(.error(PMXError(.upstreamServer, "replicate: error event in stream: \(ErrorText.shorten(detail))", provider: provider)))
        } else if event.isEvent("done") {
            let json = try CodecSupport.parseEvent(event.data, provider: provider, prefix: "replicate: malformed done event: ")
            guard json.objectValue != nil else {
                throw PMXError(.upstreamProtocol, "replicate: done event is \(json.typeName), expected an object", provider: provider)
            }
            ended = true
            switch json["reason"]?.stringValue {
            case "canceled"?:
                emit(.error(PMXError(.upstreamServer, "replicate: the prediction was canceled", provider: provider)))
            case "error"?:
                emit(.error(PMXError(.upstreamServer, "replicate: the prediction failed", provider: provider)))
            default:
                emit(.finish(reason: "stop"))
                emit(.end)
            }
        }
    }
}
