// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols
import MuxProviders

/// One streamed chat request as its consumer sees it, for both stream calls: the blocking one
/// (`run`, pmx_router_stream: events on the caller's thread through the bounded `EventQueue`)
/// and the async one (`start`, pmx_router_stream_async: events on the loop thread). It starts
/// the request and hands every event to the consumer under the stop rule of the header's
/// `pmx_event_fn`, written here once for both:
///  - the consumer's non-zero return for a non-terminal event stops the stream: the request is
///    cancelled through its handle (a cached answer's replay stops too), and no further
///    non-terminal event is delivered;
///  - exactly one terminal event still follows. After a stop it is the cancellation
///    (PMX_ERR_CANCELLED), also when the request had already finished (a `done` that raced the
///    cancel: the caller asked to stop, so it does not get an answer); an `error` that ended
///    the request first stays as it was. A `done` turned into the cancellation counts as a
///    failure in the router's counters, as the caller saw it;
///  - the consumer's return for the terminal event is ignored (nothing follows it).
/// Cancel (`cancel`, pmx_stream_cancel / pmx_stream_free) works from any thread, also from
/// inside the consumer: the session stays alive while the request may still deliver (the
/// request's sink holds it), whoever else releases it.
public final class StreamSession: @unchecked Sendable {
    /// Receives one event; non-zero asks to stop. Called on one thread at a time.
    public typealias Consumer = (ExecutionEvent) -> Int32

    /// The error a consumer's stop ends the stream with.
    package static var stoppedByConsumer: PMXError { PMXError(.cancelled, "request cancelled by the event callback") }

    package let handle: Router.Handle
    private let consumer: Consumer
    private let counters: Router.RouterCountersBox
    /// Set by the consumer's stop. Read and written only by the thread delivering events (the
    /// loop thread for async streams, the caller's for blocking ones).
    private var stopped = false

    /// Internal for tests, which hand events to `deliver` themselves; callers use `start`/`run`.
    package init(router: Router, consumer: @escaping Consumer) {
        handle = router.makeHandle()
        self.consumer = consumer
        counters = router.counters
    }

    /// Requests cancellation: any thread, idempotent, a no-op after the terminal event. The
    /// terminal event (the cancellation, unless the request had already finished) follows on
    /// the loop thread.
    public func cancel() { handle.cancel() }

    /// Hands `event` to the consumer under the stop rule. Returns the terminal event as it was
    /// delivered (what the stream ended with), nil for a non-terminal one.
    @inline(__always)
    package func deliver(_ event: ExecutionEvent) -> ExecutionEvent? {
        if !event.isTerminal {
            if stopped { return nil }  // the consumer asked to stop: nothing but the terminal event
            if consumer(event) != 0 {
                stopped = true
                handle.cancel()
            }
            return nil
        }
        let terminal = stopped ? endedByStop(event) : event
        _ = consumer(terminal)
        return terminal
    }

    /// The terminal event of a stream the consumer stopped.
    private func endedByStop(_ event: ExecutionEvent) -> ExecutionEvent {
        guard case .done = event else { return event }
        counters.withLock { c in
            c.successes = max(0, c.successes - 1)
            c.failures = c.failures.addingSaturated(1)
        }
        return .error(Self.stoppedByConsumer)
    }

    // MARK: Starting

    /// Async: validates and starts the request and returns at once; events go to `consumer` on
    /// the loop thread, possibly before this returns. Input errors and routing refusals are
    /// thrown here, and then `consumer` is never called. Any thread, the loop's included.
    /// The C function a blocking stream of `operation` was called through (named in errors).
    private static func callName(_ operation: AttemptOperation) -> String {
        if case .chat = operation { return "pmx_router_stream" }
        return "pmx_router_call_stream"
    }

    public static func start(_ router: Router, _ request: ChatRequest, consumer: @escaping Consumer) throws -> StreamSession {
        // Made before the request starts: a consumer running before `start` returns can
        // already stop or cancel it through the session.
        let session = StreamSession(router: router, consumer: consumer)
        // The request's sink holds the session until the terminal event: a handle the host
        // frees from inside the consumer leaves it alive for the rest of that call.
        try router.start(.chat(request, stream: true), handle: session.handle) { event in _ = session.deliver(event) }
        return session
    }

    /// Blocking: runs the request with its events delivered to `consumer` on the CALLING thread
    /// through `queue` (bounded, with back-pressure: `Router.stream`), and returns the response
    /// of `done` or throws the terminal error. On a library I/O thread it throws
    /// `wouldDeadlock` before anything starts (Router+BlockingCalls.swift).
    package static func run(_ router: Router, _ request: ChatRequest, queue: EventQueue, consumer: Consumer) throws -> JSONObject {
        try run(router, .chat(request, stream: true), queue: queue, consumer: consumer)
    }

    /// `run` for any operation (pmx_router_call_stream): `operation` carries its own stream flag.
    package static func run(_ router: Router, _ operation: AttemptOperation, queue: EventQueue, consumer: Consumer) throws -> JSONObject {
        try router.refuseOnIOThread(Self.callName(operation))
        // The session lives in this call only (the loop's sink holds the queue, not the session).
        return try withoutActuallyEscaping(consumer) { consumer in
            let session = StreamSession(router: router, consumer: consumer)
            let handle = try router.start(operation, handle: session.handle, flow: queue) { event in queue.push(event) }
            queue.onDrained = { handle.resume() }
            var batch: [ExecutionEvent] = []
            while true {
                queue.popAll(into: &batch)
                for event in batch {
                    switch session.deliver(event) {
                    case .done(let response): return response
                    case .error(let e): throw e
                    default: continue
                    }
                }
            }
        }
    }
}
