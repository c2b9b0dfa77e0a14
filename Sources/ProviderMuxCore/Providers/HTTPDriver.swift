/// Attempts over HTTP for providers speaking the OpenAI protocol.
public struct OpenAIHTTPDriver: AttemptDriver {
    let loop: EventLoop
    let maxResponseBytes: Int

    public func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
                      callbacks: AttemptCallbacks) -> AttemptHandle {
        let p = provider.config
        let streaming: Bool
        let path: String
        let body: [UInt8]
        switch op {
        case .chat(let request, let stream):
            streaming = stream
            path = "/chat/completions"
            body = OpenAIProtocol.chatBody(request, model: model, stream: stream)
        case .embed(let request):
            streaming = false
            path = "/embeddings"
            body = OpenAIProtocol.embeddingsBody(request, model: model)
        }
        let http = HTTPRequest(method: "POST", url: p.baseURL + path,
                               headers: OpenAIProtocol.headers(for: p, streaming: streaming), body: body,
                               connectTimeoutMs: timeouts.connectMs, totalTimeoutMs: timeouts.totalMs,
                               firstByteTimeoutMs: timeouts.firstByteMs, idleTimeoutMs: timeouts.idleMs,
                               maxResponseBytes: maxResponseBytes)
        let attempt = HTTPAttempt(provider: p.name, streaming: streaming, isEmbed: { if case .embed = op { return true }; return false }(),
                                  callbacks: callbacks)
        attempt.start(http, on: loop)
        return attempt
    }
}

/// One HTTP attempt: routes the response to the stream decoder or collects the body.
final class HTTPAttempt: AttemptHandle {
    private let provider: String
    private let streaming: Bool
    private let isEmbed: Bool
    private var callbacks: AttemptCallbacks?
    private var transfer: HTTPTransfer?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var decoder: OpenAIStreamDecoder
    private var sawEnd = false
    private var sawFinish = false

    init(provider: String, streaming: Bool, isEmbed: Bool, callbacks: AttemptCallbacks) {
        self.provider = provider
        self.streaming = streaming
        self.isEmbed = isEmbed
        self.callbacks = callbacks
        self.decoder = OpenAIStreamDecoder(provider: provider)
    }

    func start(_ request: HTTPRequest, on loop: EventLoop) {
        // The transfer's handlers own the attempt until the transfer ends (teardown drops them),
        // so a stream drained after [DONE] outlives the request that no longer needs it.
        let t = HTTPTransfer(request,
            onHead: { head in self.head = head },
            onBody: { chunk in self.body(chunk) },
            onComplete: { failure in self.completed(failure) })
        transfer = t
        t.start(on: loop)
    }

    func cancel() {
        callbacks = nil
        transfer?.cancel()
        transfer = nil
    }

    private var isSuccessStatus: Bool { (head?.status ?? 0) / 100 == 2 }

    /// Returns false to stop reading.
    private func body(_ chunk: UnsafeRawBufferPointer) -> Bool {
        // After [DONE] the rest of the body is drained so the connection can be reused.
        guard callbacks != nil else { return sawEnd }
        guard streaming && isSuccessStatus else {
            body.append(contentsOf: chunk)
            return true
        }
        do {
            try decoder.feed(chunk) { event in self.handle(event) }
        } catch {
            fail(Self.decodeError(error, provider: provider), retryAfterMs: nil)
            return false
        }
        return callbacks != nil || sawEnd
    }

    private func handle(_ event: ProviderEvent) {
        guard let cb = callbacks else { return }
        switch event {
        case .error(let e):
            fail(e, retryAfterMs: nil)
        case .end:
            sawEnd = true
            // Answer now; the transfer drains the rest of the body so the connection is reused.
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
            fail(HTTPErrorMapping.error(failure, provider: provider), retryAfterMs: nil)
            return
        }
        guard let head else {
            fail(PMXError(.upstreamProtocol, "no response", provider: provider), retryAfterMs: nil)
            return
        }
        guard isSuccessStatus else {
            fail(HTTPErrorMapping.error(status: head.status, body: body, provider: provider),
                 retryAfterMs: HTTPErrorMapping.retryAfterMs(head))
            return
        }
        if streaming {
            do { try decoder.finish { event in self.handle(event) } } catch {
                fail(Self.decodeError(error, provider: provider), retryAfterMs: nil)
                return
            }
            guard callbacks != nil else { return }
            if sawFinish {
                callbacks = nil  // some servers end with finish_reason but no [DONE]
                cb.onSuccess(nil)
            } else {
                fail(PMXError(.upstreamProtocol, "stream ended without [DONE] or a finish reason", httpStatus: head.status, provider: provider), retryAfterMs: nil)
            }
            return
        }
        do {
            let response = isEmbed ? try OpenAIProtocol.decodeEmbeddings(body, provider: provider)
                                   : try OpenAIProtocol.decodeChat(body, provider: provider)
            callbacks = nil
            cb.onSuccess(response)
        } catch let e as PMXError {
            fail(e, retryAfterMs: nil)
        } catch {
            fail(PMXError(.internal, "\(error)", provider: provider), retryAfterMs: nil)
        }
    }

    private func fail(_ e: PMXError, retryAfterMs: Int?) {
        guard let cb = callbacks else { return }
        callbacks = nil
        if let t = transfer { transfer = nil; t.cancel() }
        cb.onFailure(e, retryAfterMs)
    }

    static func decodeError(_ error: Error, provider: String) -> PMXError {
        if let e = error as? PMXError { return e }
        if case StreamDecodeError.eventTooLarge(let limit) = error {
            return PMXError(.responseTooLarge, "stream event larger than \(limit) bytes", provider: provider)
        }
        return PMXError(.upstreamProtocol, "\(error)", provider: provider)
    }
}
