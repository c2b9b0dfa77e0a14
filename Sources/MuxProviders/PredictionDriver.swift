// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols

/// Attempts on a provider whose protocol answers a chat call with a job to follow
/// (`PredictionCodec`: Replicate). Complete: the create call, then — when the prediction is
/// still running — polls of its `get` URL (250 ms, doubling to 2 s) until it ends or the
/// attempt's `total_ms` has passed. Stream: the create call, then the events of its `stream`
/// URL through the codec's stream decoder, as any other stream. Every other operation goes
/// to the plain HTTP driver (the codec refuses what it lacks).
public struct PredictionDriver: AttemptDriver {
    package let http: CodecHTTPDriver
    package let codec: any PredictionCodec

    public init(http: CodecHTTPDriver, codec: any PredictionCodec) {
        self.http = http
        self.codec = codec
    }

    public func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
                      callbacks: AttemptCallbacks) -> AttemptHandle {
        guard case .chat(let request, let stream) = op else {
            return http.start(op, model: model, provider: provider, timeouts: timeouts, callbacks: callbacks)
        }
        let p = provider.config
        let limits = ExchangeLimits(timeouts, maxResponseBytes: http.maxResponseBytes, tls: p.tls)
        let attempt = PredictionAttempt(provider: p, model: model, codec: codec, stream: stream, limits: limits,
                                        loop: http.loop, callbacks: callbacks)
        do {
            let call = try codec.chatCall(try http.adapted(request, for: p), model: model, stream: stream, provider: p)
            if let size = call.body?.count, size > http.maxRequestBytes {
                throw PMXError(.invalidRequest, "request body of \(size) bytes is larger than the limit of \(http.maxRequestBytes) bytes (limits.max_request_bytes); not sent", provider: p.name)
            }
            attempt.start(call)
        } catch {
            attempt.failLater(error as? PMXError ?? PMXError(.internal, "\(error)", provider: p.name))
        }
        return attempt
    }
}

/// One prediction attempt: create, then poll or stream. Loop thread only.
package final class PredictionAttempt: AttemptHandle {
    private let provider: ProviderConfig
    private let model: String?
    private let codec: any PredictionCodec
    private let streaming: Bool
    private let limits: ExchangeLimits
    private let loop: EventLoop
    private var callbacks: AttemptCallbacks?
    private var transfer: HTTPTransfer?
    private var inner: HTTPAttempt?
    private var timer: UInt64?
    private let deadlineNs: UInt64
    private var pollDelayMs = 250.0

    package init(provider: ProviderConfig, model: String?, codec: any PredictionCodec, stream: Bool, limits: ExchangeLimits,
                 loop: EventLoop, callbacks: AttemptCallbacks) {
        self.provider = provider
        self.model = model
        self.codec = codec
        self.streaming = stream
        self.limits = limits
        self.loop = loop
        self.callbacks = callbacks
        deadlineNs = loop.nowNs &+ SafeNumbers.nanos(ms: limits.totalMs)
    }

    package func start(_ call: ProviderHTTPCall) { exchange(call) }

    /// A failure found before any I/O, reported from the loop like every other outcome.
    package func failLater(_ e: PMXError) {
        timer = loop.schedule(afterMs: 0) { [self] in timer = nil; fail(e, retryAfterMs: nil) }
    }

    package func cancel() {
        callbacks = nil
        transfer?.cancel()
        transfer = nil
        inner?.cancel()
        inner = nil
        if let t = timer { loop.cancelTimer(t); timer = nil }
    }

    package func resume() { inner?.resume() }

    private func exchange(_ call: ProviderHTTPCall) {
        transfer = ProviderExchange.start(call, limits, provider: provider.name, on: loop) { [self] answer in
            transfer = nil
            answered(answer)
        }
    }

    /// The create call's or a poll's answer.
    private func answered(_ a: ExchangeAnswer) {
        guard let cb = callbacks else { return }
        if let e = a.error(mappedBy: codec, provider: provider) {
            fail(e, retryAfterMs: a.failure == nil ? codec.retryAfterMs(a.head, body: a.body) : nil)
            return
        }
        do {
            switch try codec.prediction(a.body, model: model, provider: provider) {
            case .finished(let response):
                callbacks = nil
                cb.onSuccess(response)
            case .running(let poll, let stream):
                if streaming {
                    guard let stream else { throw PMXError(.upstreamProtocol, "replicate: the prediction has no stream URL", provider: provider.name) }
                    try startStream(stream, cb)
                } else {
                    guard let poll else { throw PMXError(.upstreamProtocol, "replicate: the prediction is running and has no get URL", provider: provider.name) }
                    try schedulePoll(poll)
                }
            }
        } catch {
            fail(error as? PMXError ?? PMXError(.upstreamProtocol, "\(error)", provider: provider.name), retryAfterMs: nil)
        }
    }

    private func schedulePoll(_ url: String) throws {
        let call = try codec.followCall(url, stream: false, provider: provider)
        guard loop.nowNs < deadlineNs else {
            throw PMXError(.timeout, "replicate: the prediction did not finish within \(limits.totalMs) ms (timeouts.total_ms)", provider: provider.name)
        }
        let delay = pollDelayMs
        pollDelayMs = min(pollDelayMs * 2, 2000)
        timer = loop.schedule(afterMs: delay) { [self] in
            timer = nil
            if callbacks != nil { exchange(call) }
        }
    }

    private func startStream(_ url: String, _ cb: AttemptCallbacks) throws {
        let call = try codec.followCall(url, stream: true, provider: provider)
        let relay = AttemptCallbacks(
            onEvent: cb.onEvent,
            onSuccess: { [self] response in callbacks = nil; inner = nil; cb.onSuccess(response) },
            onFailure: { [self] e, retryAfterMs in callbacks = nil; inner = nil; cb.onFailure(e, retryAfterMs) },
            shouldPause: cb.shouldPause)
        let attempt = HTTPAttempt(provider: provider, model: model, codec: codec,
                                  mode: .stream(codec.streamDecoder(model: model, provider: provider)), callbacks: relay)
        inner = attempt
        attempt.start(limits.request(call), on: loop)
    }

    private func fail(_ e: PMXError, retryAfterMs: Int?) {
        guard let cb = callbacks else { return }
        callbacks = nil
        cb.onFailure(e, retryAfterMs)
    }
}
