// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols

/// Attempts over HTTP for every network provider: the provider type's `WireCodec` builds the
/// call and reads the answer; the transport moves the bytes.
public struct CodecHTTPDriver: AttemptDriver {
    package let loop: EventLoop
    package let codec: any WireCodec
    package let maxResponseBytes: Int
    /// Bodies larger than this are refused before anything is sent (`limits.max_request_bytes`).
    package var maxRequestBytes = 32 << 20
    package let unsupportedParams: UnsupportedParameterPolicy
    /// This provider's curl header lists, reused by its attempts that send the same headers.
    package let headerCache = CurlHeaderCache()

    /// The request as this provider can take it: router extension parameters it does not
    /// support are dropped, or the attempt is refused, per the policy.
    package func adapted(_ request: ChatRequest, for provider: ProviderConfig) throws -> ChatRequest {
        var r = request
        for key in ParameterAliases.extensions where r.body[key] != nil && !codec.supportedExtensions.contains(key) {
            switch request.route.unsupportedParams ?? unsupportedParams {
            case .drop:
                Log.debug("\(provider.name): dropping parameter \(key), which \(provider.type.rawValue) cannot take")
                r.body[key] = nil
            case .reject:
                throw PMXError(.unsupported, "provider \(provider.name) (\(provider.type.rawValue)) cannot take parameter \(key) (unsupported_params: reject)", provider: provider.name)
            }
        }
        return r
    }

    public init(loop: EventLoop, codec: any WireCodec, maxResponseBytes: Int, maxRequestBytes: Int = 32 << 20,
                unsupportedParams: UnsupportedParameterPolicy) {
        self.loop = loop
        self.codec = codec
        self.maxResponseBytes = maxResponseBytes
        self.maxRequestBytes = maxRequestBytes
        self.unsupportedParams = unsupportedParams
    }

    public func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
                      callbacks: AttemptCallbacks) -> AttemptHandle {
        let p = provider.config
        let call: ProviderHTTPCall
        let mode: HTTPAttempt.Mode
        do {
            switch op {
            case .chat(let request, let stream):
                call = try codec.chatCall(try adapted(request, for: p), model: model, stream: stream, provider: p)
                mode = stream ? .stream(codec.streamDecoder(model: model, provider: p)) : .chat
            case .embed(let request):
                call = try codec.embedCall(request, model: model, provider: p)
                mode = .embed(request)
            case .call(let request, let stream):
                guard let op = codec.operationCodec(request.operation, provider: p) else {
                    throw OperationSupport.unsupported(request.operation, provider: p)
                }
                // A streamed call where the protocol does not stream this operation: one plain
                // call, its result the `done` event's.
                let decoder = stream ? op.streamDecoder(request, model: model, provider: p) : nil
                call = try op.call(request, model: model, stream: decoder != nil, provider: p)
                mode = decoder.map { .stream($0) } ?? .operation(op, request)
            }
            if let size = call.body?.count, size > maxRequestBytes {
                throw PMXError(.invalidRequest, "request body of \(size) bytes is larger than the limit of \(maxRequestBytes) bytes (limits.max_request_bytes); not sent", provider: p.name)
            }
        } catch {
            let e = error as? PMXError ?? PMXError(.internal, "\(error)", provider: p.name)
            let attempt = HTTPAttempt(provider: p, model: model, codec: codec, mode: .chat, callbacks: callbacks)
            attempt.failLater(e, on: loop)
            return attempt
        }
        var http = ExchangeLimits(timeouts, maxResponseBytes: maxResponseBytes, tls: p.tls).request(call)
        http.headerCache = headerCache
        let attempt = HTTPAttempt(provider: p, model: model, codec: codec, mode: mode, callbacks: callbacks)
        attempt.start(http, on: loop)
        return attempt
    }
}

/// One HTTP attempt: routes a 2xx stream to the codec's decoder, collects other bodies.
package final class HTTPAttempt: AttemptHandle {
    package enum Mode {
        case chat
        case stream(ChatStreamDecoding)
        case embed(EmbedRequest)
        /// A non-streamed operation of pmx_router_call, decoded by its codec.
        case operation(any OperationCodec, OperationRequest)
    }

    private let provider: ProviderConfig
    private let model: String?
    private let codec: any WireCodec
    private let mode: Mode
    private var callbacks: AttemptCallbacks?
    private var transfer: HTTPTransfer?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var sawEnd = false
    private var sawFinish = false

    package init(provider: ProviderConfig, model: String?, codec: any WireCodec, mode: Mode, callbacks: AttemptCallbacks) {
        self.provider = provider
        self.model = model
        self.codec = codec
        self.mode = mode
        self.callbacks = callbacks
    }

    package func start(_ request: HTTPRequest, on loop: EventLoop) {
        // The transfer's handlers own the attempt until the transfer ends (teardown drops them),
        // so a stream drained after its end marker outlives the request that no longer needs it.
        let t = HTTPTransfer(request,
            onHead: { head in self.head = head },
            onBody: { chunk in self.body(chunk) },
            onComplete: { failure in self.completed(failure) })
        // Only streams produce events for a consumer; other bodies are bounded by max_response_bytes.
        if case .stream = mode, let gate = callbacks?.shouldPause { t.shouldPause = gate }
        transfer = t
        t.start(on: loop)
    }

    /// A failure found before any I/O (the codec refused the request): reported from the loop,
    /// never from inside `start`, so the state machine sees every outcome the same way.
    package func failLater(_ e: PMXError, on loop: EventLoop) {
        loop.schedule(afterMs: 0) { self.fail(e, retryAfterMs: nil) }
    }

    package func cancel() {
        callbacks = nil
        transfer?.cancel()
        transfer = nil
    }

    package func resume() { transfer?.resume() }

    private var isSuccessStatus: Bool { (head?.status ?? 0) / 100 == 2 }

    private var decoder: ChatStreamDecoding? {
        if case .stream(let d) = mode { return d }
        return nil
    }

    /// Returns false to stop reading.
    private func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
        // After the end marker the rest of the body is drained so the connection can be reused.
        guard callbacks != nil else { return sawEnd }
        guard let decoder, isSuccessStatus else {
            body.append(contentsOf: chunk)
            return true
        }
        do {
            try decoder.feed(chunk) { event in self.handle(event) }
        } catch {
            fail(decodeError(error), retryAfterMs: nil)
            return false
        }
        return callbacks != nil || sawEnd
    }

    private func handle(_ event: ProviderEvent) {
        guard let cb = callbacks else { return }
        switch event {
        case .error(var e):
            if e.provider.isEmpty { e.provider = provider.name }
            fail(e, retryAfterMs: nil)
        case .end:
            sawEnd = true
            callbacks = nil
            cb.onSuccess(nil)
        case .finish:
            sawFinish = true
            cb.onEvent(event)
        default:
            cb.onEvent(event)
        }
    }

    private func completed(_ failure: TransportFailure?) {
        transfer = nil
        guard let cb = callbacks else { return }
        if let failure {
            fail(HTTPErrorMapping.error(failure, provider: provider.name), retryAfterMs: nil)
            return
        }
        guard let head else {
            fail(PMXError(.upstreamProtocol, "no response", provider: provider.name), retryAfterMs: nil)
            return
        }
        if head.status / 100 == 3 {
            // Redirects are never followed (credentials must not travel to another host): a
            // 3xx is an upstream error, and the request moves on to the next provider.
            let target = head.header("location").map { " to \($0)" } ?? ""
            fail(PMXError(.upstreamHTTP, "HTTP \(head.status): redirect\(target) NOT followed (redirects are never followed; point base_url at the final address)",
                          httpStatus: head.status, provider: provider.name), retryAfterMs: nil)
            return
        }
        guard isSuccessStatus else {
            fail(codec.error(status: head.status, head: head, body: body, provider: provider), retryAfterMs: codec.retryAfterMs(head, body: body))
            return
        }
        do {
            switch mode {
            case .stream(let decoder):
                try decoder.finish { event in self.handle(event) }
                guard callbacks != nil else { return }
                if sawFinish {
                    callbacks = nil  // some servers end with a finish reason but no end marker
                    cb.onSuccess(nil)
                } else {
                    fail(PMXError(.upstreamProtocol, "stream ended without an end marker or a finish reason", httpStatus: head.status, provider: provider.name), retryAfterMs: nil)
                }
            case .chat:
                let response = try codec.decodeChat(body, model: model, provider: provider)
                callbacks = nil
                cb.onSuccess(response)
            case .embed(let request):
                let response = try codec.decodeEmbeddings(body, request: request, model: model, provider: provider)
                callbacks = nil
                cb.onSuccess(response)
            case .operation(let op, let request):
                let response = try op.decode(body, head: head, request: request, model: model, provider: provider)
                callbacks = nil
                cb.onSuccess(response)
            }
        } catch {
            fail(decodeError(error), retryAfterMs: nil)
        }
    }

    private func fail(_ e: PMXError, retryAfterMs: Int?) {
        guard let cb = callbacks else { return }
        callbacks = nil
        if let t = transfer { transfer = nil; t.cancel() }
        cb.onFailure(e, retryAfterMs)
    }

    private func decodeError(_ error: Error) -> PMXError {
        if var e = error as? PMXError {
            if e.provider.isEmpty { e.provider = provider.name }
            return e
        }
        if case StreamDecodeError.eventTooLarge(let limit) = error {
            return PMXError(.responseTooLarge, "stream event larger than \(limit) bytes", provider: provider.name)
        }
        return PMXError(.upstreamProtocol, "\(error)", provider: provider.name)
    }
}
