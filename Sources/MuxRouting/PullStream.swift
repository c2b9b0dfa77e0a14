// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols
import MuxTransport
import MuxProviders
import Synchronization

/// One streamed chat request whose events the caller PULLS (pmx_router_stream_open /
/// pmx_stream_next), next to StreamSession's pushed ones. The loop thread queues events in
/// the bounded `EventQueue` (the blocking stream's back-pressure: a reader that does not pull
/// pauses the transfer); the reader takes them in batches on a thread of its choice.
///
/// StreamSession's stop rule, as it applies without a consumer that can answer "stop": every
/// event is handed out in order, exactly one terminal event (`done` or `error`) ends the
/// stream and is the last one handed out; stopping early is `cancel` (any thread), whose
/// cancellation is that terminal event unless the request had already finished.
public final class PullStream: @unchecked Sendable {
    private let handle: Router.Handle
    private let queue: EventQueue
    private let loop: EventLoop
    /// Set while a reader is inside `next`: one at a time (the views it hands out are one
    /// buffer), and a second reader is refused rather than left to race.
    private let busy = Atomic<Bool>(false)
    /// The terminal event was handed out. Read and written under `busy`.
    private var ended = false
    /// The last batch taken; its storage is reused. Under `busy`.
    private var batch: [ExecutionEvent] = []

    private init(handle: Router.Handle, queue: EventQueue, loop: EventLoop) {
        self.handle = handle
        self.queue = queue
        self.loop = loop
    }

    /// Validates and starts the request and returns at once; input errors and routing
    /// refusals are thrown here, and nothing is queued then. Any thread (it does not wait).
    public static func open(_ router: Router, _ request: ChatRequest, queue: EventQueue = EventQueue()) throws -> PullStream {
        let handle = router.makeHandle()
        // The loop's sink holds the queue, not the stream: a stream freed unread lets its
        // request end (cancelled) without keeping the reader's side alive.
        try router.start(.chat(request, stream: true), handle: handle, flow: queue) { event in queue.push(event) }
        queue.onDrained = { handle.resume() }
        return PullStream(handle: handle, queue: queue, loop: router.loop)
    }

    /// Requests cancellation: any thread, idempotent, a no-op after the terminal event.
    public func cancel() { handle.cancel() }

    /// Takes up to `max` (≥ 1) queued events, waiting at most `waitNs` for the first (-1: as
    /// long as it takes; 0: not at all), and hands them to `body` while this reader still
    /// holds the stream (the views it writes belong to the stream until the next call).
    /// Returns false when the wait ran out (`body` is not called then).
    /// Throws `invalidArgument` after the terminal event was handed out or while another
    /// thread is inside `next`, and `wouldDeadlock` for a wait on a library I/O thread.
    public func next(max: Int, waitNs: Int64, _ body: ([ExecutionEvent]) -> Void) throws -> Bool {
        guard !busy.exchange(true, ordering: .acquiring) else {
            throw PMXError(.invalidArgument, "stream: another thread is inside pmx_stream_next on this stream (one reader at a time)")
        }
        defer { busy.store(false, ordering: .releasing) }
        guard !ended else {
            throw PMXError(.invalidArgument, "stream: the stream has ended (its terminal event was already returned)")
        }
        if waitNs != 0 { try ProviderExchange.refuseOnIOThread("pmx_stream_next", loop: loop) }
        guard queue.pop(into: &batch, max: max, waitNs: waitNs) else { return false }
        // Nothing is queued after the terminal event, so it is the batch's last.
        if batch.last?.isTerminal == true { ended = true }
        body(batch)
        return true
    }
}
