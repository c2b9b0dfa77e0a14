// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols

/// One HTTP exchange outside routing: the calls that are not a routed attempt (health and
/// model-list probes, model management, discovery) go through here, so the request is built,
/// bounded, timed and mapped to an error in one place. No retries, no failover, no breaker:
/// the caller decides what an answer means.
///
/// Two forms: `start` runs on the loop thread and calls back there (probes, discovery);
/// `perform` / `wait` block the calling thread until the loop has the answer (inspection and
/// model management). Blocking is refused on any router's I/O thread (issue 12's rule, see
/// Routing/Router+BlockingCalls.swift): it would wait for itself.
public enum ProviderExchange {
    /// Starts `call` on `loop` (loop thread only). `done` runs once, on the loop thread, with
    /// whatever came back: any status, the whole body (bounded by `limits.maxResponseBytes`), or
    /// the transport failure mapped to an error attributed to `provider`. With `onChunk`, a 2xx
    /// body goes there chunk by chunk instead of into the answer (a long download's progress),
    /// while a non-2xx body is still collected for the error mapping.
    /// Returns the transfer, to `cancel()` on the loop thread (then `done` is not called).
    @discardableResult
    public static func start(_ call: ProviderHTTPCall, _ limits: ExchangeLimits, provider: String, on loop: EventLoop,
                             onChunk: ((UnsafeRawBufferPointer) -> Void)? = nil,
                             done: @escaping (ExchangeAnswer) -> Void) -> HTTPTransfer {
        let started = MonotonicClock.nanos()
        var answer = ExchangeAnswer()
        let transfer = HTTPTransfer(limits.request(call),
            onHead: { answer.head = $0 },
            onBody: { chunk in
                if let onChunk, answer.head.status / 100 == 2 { onChunk(chunk) } else { answer.body.append(contentsOf: chunk) }
                return true
            },
            onComplete: { failure in
                if let failure { answer.failure = HTTPErrorMapping.error(failure, provider: provider) }
                answer.latencyMs = Double(MonotonicClock.nanos() &- started) / 1_000_000
                done(answer)
            })
        transfer.start(on: loop)
        return transfer
    }

    /// Blocking: runs `call` on `loop` and waits for a 2xx answer; anything else throws (the
    /// transport failure, or `codec`'s mapping of the status and body). `caller` is the C
    /// function the user called, for the re-entrancy refusal's message.
    public static func perform(_ call: ProviderHTTPCall, _ limits: ExchangeLimits, provider: ProviderConfig,
                               codec: any WireCodec, on loop: EventLoop, caller: String) throws -> ExchangeAnswer {
        try wait(caller: caller, on: loop) { waiter in
            start(call, limits, provider: provider.name, on: loop) { answer in
                waiter.finish(answer.checked(by: codec, provider: provider))
            }
            return nil
        }
    }

    /// The blocking primitive under `perform`: refuses on an I/O thread, then runs `body` on the
    /// loop and waits until it calls `waiter.finish`. Events it `push`es reach `onEvent` on
    /// THIS thread, in order; a non-zero return cancels: on the loop, the transfer `body`
    /// returned is cancelled and the result becomes `cancelled` (nothing else is relayed).
    public static func wait<T>(caller: String, on loop: EventLoop, onEvent: ((JSONValue) -> Int32)? = nil,
                               cancelled: PMXError = PMXError(.cancelled, "cancelled"),
                               _ body: @escaping (ExchangeWaiter<T>) -> HTTPTransfer?) throws -> T {
        try refuseOnIOThread(caller, loop: loop)
        let waiter = ExchangeWaiter<T>()
        var transfer: HTTPTransfer?  // loop thread only
        loop.execute { transfer = body(waiter) }
        let result = waiter.wait(onEvent ?? { _ in 0 }) {
            loop.execute {
                transfer?.cancel()
                waiter.finish(.failure(cancelled))
            }
        }
        return try result.get()
    }

    /// Throws `wouldDeadlock` on a library I/O thread (any router's): a blocking call there
    /// would wait for the thread that is running it, or hold one router's loop while waiting
    /// for another's. `name` is the C function the caller called.
    public static func refuseOnIOThread(_ name: String, loop: EventLoop) throws {
        guard IOThread.isCurrent else { return }
        if loop.isOnLoopThread {
            throw PMXError(.wouldDeadlock, "\(name) called on the router's I/O thread (from inside a callback the library runs there, "
                + "e.g. an async stream's event callback): it would wait for itself; call it from another thread")
        }
        throw PMXError(.wouldDeadlock, "\(name) called on another router's I/O thread (from inside a callback the library runs there, "
            + "e.g. an async stream's event callback): it would hold that router's I/O thread while waiting for this one's, "
            + "and two routers doing so wait for each other forever; call it from another thread")
    }
}

/// What one exchange got back.
public struct ExchangeAnswer: Sendable {
    /// Status line and headers; status 0 when no answer arrived.
    public var head = HTTPResponseHead(status: 0, headers: [])
    /// The whole body (a streamed 2xx body handed to `onChunk` is not kept).
    public var body: [UInt8] = []
    /// From the start to the end of the exchange, failed or not.
    public var latencyMs = 0.0
    /// Why the exchange did not finish (refused, timed out, too large, ...), already an error
    /// in the taxonomy; nil when an answer arrived, whatever its status.
    public var failure: PMXError?

    public init(failure: PMXError? = nil) { self.failure = failure }

    public var status: Int { head.status }

    /// nil for a 2xx answer; else the transport failure, or `codec`'s error for the status and
    /// body (the generic mapping without a codec).
    public func error(mappedBy codec: (any WireCodec)?, provider: ProviderConfig) -> PMXError? {
        if let failure { return failure }
        if status / 100 == 2 { return nil }
        return codec?.error(status: status, head: head, body: body, provider: provider)
            ?? HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
    }

    /// This answer when it is a 2xx, else its error.
    public func checked(by codec: (any WireCodec)?, provider: ProviderConfig) -> Result<ExchangeAnswer, PMXError> {
        if let e = error(mappedBy: codec, provider: provider) { return .failure(e) }
        return .success(self)
    }
}

/// The bounds of one exchange: timeouts, the response size limit, TLS.
public struct ExchangeLimits: Sendable, Equatable {
    public var connectMs: Int
    public var totalMs: Int
    /// Max silence before the first response byte, and between body chunks (0 = off).
    public var firstByteMs = 0
    public var idleMs = 0
    public var maxResponseBytes: Int
    public var tls = TLSSettings()

    public init(connectMs: Int, totalMs: Int, firstByteMs: Int = 0, idleMs: Int = 0, maxResponseBytes: Int,
                tls: TLSSettings = TLSSettings()) {
        self.connectMs = connectMs
        self.totalMs = totalMs
        self.firstByteMs = firstByteMs
        self.idleMs = idleMs
        self.maxResponseBytes = maxResponseBytes
        self.tls = tls
    }

    /// Every timeout of `timeouts` (already resolved for the provider), the byte limit, `tls`.
    public init(_ timeouts: TimeoutSettings, maxResponseBytes: Int, tls: TLSSettings) {
        self.init(connectMs: timeouts.connectMs, totalMs: timeouts.totalMs, firstByteMs: timeouts.firstByteMs,
                  idleMs: timeouts.idleMs, maxResponseBytes: maxResponseBytes, tls: tls)
    }

    /// The transport's request for `call` under these bounds.
    public func request(_ call: ProviderHTTPCall) -> HTTPRequest {
        HTTPRequest(method: call.method, url: call.url, headers: call.headers, body: call.body,
                    connectTimeoutMs: connectMs, totalTimeoutMs: totalMs, firstByteTimeoutMs: firstByteMs,
                    idleTimeoutMs: idleMs, maxResponseBytes: maxResponseBytes, tls: tls)
    }
}
