// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProviders
import MuxRouting
import Synchronization

/// One streamed request (chat, text completions, responses) between the router's loop thread
/// and the HTTP response: events are encoded to SSE bytes on the loop thread (ChunkEncoder,
/// CompletionChunkEncoder, …) into a StreamQueue, which the response writer empties one
/// batch at a time.
///
/// The handler takes the first batch before it answers: a request that fails before any
/// output (every provider rate-limited, unknown model, circuits open) gets its HTTP status
/// (429, 404, 503, …) and an OpenAI error body; once output has started the status is 200 and
/// a failure is the stream's error event. A client that goes away cancels the request (its
/// consumer returns non-zero on the next event; `cancel()` when the response writer fails).
///
/// What waits for the client is bounded (StreamQueue, `--max-queued-bytes`): a client that
/// lets more wait (it stopped reading) makes the stream overrun, and then the request is
/// cancelled (the consumer returns non-zero: the router stops the upstream transfer) instead
/// of the queue growing. `overran` tells the writer to end the connection without the
/// stream's normal end, so the client cannot take a cut stream for a whole one.
package final class GatewayStream: Sendable {
    private let session: StreamSession
    private let queue: StreamQueue
    private let overrun: Flag

    private init(session: StreamSession, queue: StreamQueue, overrun: Flag) {
        self.session = session
        self.queue = queue
        self.overrun = overrun
    }

    /// Starts `operation` (its stream flag set). Throws what `StreamSession.start` throws
    /// (invalid input, routing refusals) before anything is streamed. `encode` runs on the
    /// loop thread, one event at a time.
    package static func start(_ router: Router, _ operation: AttemptOperation, maxQueuedBytes: Int,
                              metrics: GatewayMetrics, encode: @escaping (ExecutionEvent) -> [UInt8]) throws -> GatewayStream {
        let queue = StreamQueue(limit: maxQueuedBytes, metrics: metrics)
        let overrun = Flag()
        var outputStarted = false  // loop thread only
        // StreamSession.start's steps for any operation (it takes chat requests only): the
        // session applies the stop rule of pmx_event_fn to `consumer`, the sink holds it.
        let session = StreamSession(router: router) { event in
            if case .error(let e) = event, !outputStarted {
                queue.fail(e)
                return 0
            }
            let bytes = encode(event)
            var stop = false
            if !bytes.isEmpty {
                outputStarted = true
                switch queue.push(bytes) {
                case .queued:
                    break
                case .full:
                    overrun.set()
                    metrics.streamOverran()
                    Log.warn("a stream's client read too slowly: more than \(queue.limit) bytes waited for it (--max-queued-bytes); its request is cancelled")
                    queue.finish()
                    return 1
                case .closed:
                    stop = true  // the client is gone (or the stream already overran): stop the request
                }
            }
            if event.isTerminal { queue.finish() }
            return stop ? 1 : 0
        }
        try router.start(operation, handle: session.handle) { event in _ = session.deliver(event) }
        return GatewayStream(session: session, queue: queue, overrun: overrun)
    }

    /// The bytes queued since the last call, the failure before any output, or `.end`.
    package func next() async -> StreamQueue.Take { await queue.take() }

    /// Whether the stream was stopped because its client did not read (see the type's comment).
    package var overran: Bool { overrun.isSet }

    /// Stops the request (the client went away); idempotent, any thread.
    package func cancel() { session.cancel() }

    /// The response is over (sent, failed or abandoned): what is still queued is dropped and
    /// later events are not queued.
    package func close() { queue.close() }
}

/// A flag set once, read from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
