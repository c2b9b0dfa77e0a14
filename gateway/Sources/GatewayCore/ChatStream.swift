// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols
import MuxRouting

/// One streamed chat request between the router's loop thread and the HTTP response: events
/// are encoded to SSE bytes on the loop thread (ChunkEncoder) and handed over as `Item`s.
///
/// The handler reads the first item before it answers: a request that fails before any output
/// (every provider rate-limited, unknown model, circuits open) gets its HTTP status (429, 404,
/// 503, …) and an OpenAI error body; once output has started the status is 200 and a failure
/// is the stream's error event. A client that goes away cancels the request (its consumer
/// returns non-zero on the next event; `cancel()` when the response writer fails).
///
/// The queue between the loop and the writer is not bounded here: a stream is at most
/// `limits.max_response_bytes` of upstream output, and the writer drains it as fast as the
/// client reads.
package final class ChatStream: @unchecked Sendable {
    package enum Item: Sendable {
        /// SSE bytes to send as they are.
        case frames([UInt8])
        /// The request failed before any output: answer with this error's status.
        case failedBeforeOutput(PMXError)
    }

    private let session: StreamSession
    private let items: AsyncStream<Item>
    /// The one reader's iterator: used by the handler (first item) and then by the response
    /// body writer, one after the other, never at once.
    private var iterator: AsyncStream<Item>.Iterator

    private init(session: StreamSession, items: AsyncStream<Item>) {
        self.session = session
        self.items = items
        iterator = items.makeAsyncIterator()
    }

    /// Starts the request. Throws what `StreamSession.start` throws (invalid input, routing
    /// refusals) before anything is streamed.
    package static func start(_ router: Router, _ request: ChatRequest, encoder: ChunkEncoder) throws -> ChatStream {
        let (items, continuation) = AsyncStream<Item>.makeStream()
        var outputStarted = false  // loop thread only
        let session = try StreamSession.start(router, request) { event in
            if case .error(let e) = event, !outputStarted {
                continuation.yield(.failedBeforeOutput(e))
                continuation.finish()
                return 0
            }
            let bytes = encoder.frames(for: event)
            var gone = false
            if !bytes.isEmpty {
                outputStarted = true
                if case .terminated = continuation.yield(.frames(bytes)) { gone = true }
            }
            if event.isTerminal { continuation.finish() }
            return gone ? 1 : 0  // non-zero: the client is gone, stop the request
        }
        return ChatStream(session: session, items: items)
    }

    /// The next item; nil after the last.
    package func next() async -> Item? { await iterator.next() }

    /// Stops the request (the client went away); idempotent, any thread.
    package func cancel() { session.cancel() }
}
