/// One routed request as a state machine on the loop thread:
/// attempt → (stream) → retry after back-off / fail over to the next provider → done or error.
/// Time comes from a `Scheduler` and attempts from `AttemptDriver`s, so tests drive it with a
/// fake clock and fake providers.
public final class RequestExecution {
    public struct Candidate {
        public var provider: ProviderRuntime
        public var model: String?
        public init(provider: ProviderRuntime, model: String?) { self.provider = provider; self.model = model }
    }

    public let operation: AttemptOperation
    public let candidates: [Candidate]
    let scheduler: Scheduler
    let driverFor: (ProviderRuntime) -> AttemptDriver
    let retryBase: RetrySettings
    let timeoutBase: TimeoutSettings
    let maxAttemptsOverride: Int?
    let timeoutOverrideMs: Int?
    let random: () -> Double
    /// Receives every event; the terminal one last. Loop thread.
    private var sink: ((ExecutionEvent) -> Void)?
    public var onFinished: (() -> Void)?

    private var index = 0
    private var attemptsOnProvider = 0
    private var attemptNumber = 0
    private var attempts: [JSONValue] = []
    private var handle: AttemptHandle?
    private var retryTimer: UInt64?
    private var accumulator = StreamAccumulator()
    private var startNs: UInt64 = 0
    private var attemptStartNs: UInt64 = 0
    private var firstDeltaNs: UInt64?
    private var deltasEmitted = 0
    private var attemptModel = ""
    public private(set) var finished = false

    public init(operation: AttemptOperation, candidates: [Candidate], scheduler: Scheduler,
                driverFor: @escaping (ProviderRuntime) -> AttemptDriver, retry: RetrySettings, timeouts: TimeoutSettings,
                maxAttemptsOverride: Int? = nil, timeoutOverrideMs: Int? = nil,
                random: @escaping () -> Double = { Double.random(in: 0..<1) },
                sink: @escaping (ExecutionEvent) -> Void) {
        self.operation = operation
        self.candidates = candidates
        self.scheduler = scheduler
        self.driverFor = driverFor
        self.retryBase = retry
        self.timeoutBase = timeouts
        self.maxAttemptsOverride = maxAttemptsOverride
        self.timeoutOverrideMs = timeoutOverrideMs
        self.random = random
        self.sink = sink
    }

    private var streaming: Bool {
        if case .chat(_, let stream) = operation { return stream }
        return false
    }

    private var current: Candidate { candidates[index] }

    public func start() {
        startNs = scheduler.nowNs
        guard !candidates.isEmpty else {
            finish(.error(PMXError(.noProvider, "no provider to try")))
            return
        }
        launch()
    }

    /// Stops the request; the terminal event is an error with `status`. Idempotent.
    public func cancel(_ status: Status = .cancelled, _ message: String = "request cancelled") {
        guard !finished else { return }
        handle?.cancel()
        handle = nil
        if let t = retryTimer { scheduler.cancelTimer(t); retryTimer = nil }
        var e = PMXError(status, message, provider: attemptNumber > 0 ? current.provider.name : "")
        e.attempts = attempts
        e.attemptCount = attempts.count
        if deltasEmitted > 0 { e.partialUsage = partialUsage }
        finish(.error(e))
    }

    private func launch() {
        let c = current
        attemptNumber += 1
        attemptsOnProvider += 1
        attemptStartNs = scheduler.nowNs
        accumulator = StreamAccumulator()
        c.provider.stats.attemptStarted()
        let modelName = c.model ?? c.provider.config.defaultModel ?? c.provider.config.models?.first
        attemptModel = modelName ?? ""
        emit(.start(provider: c.provider.name, model: modelName ?? "", attempt: attemptNumber))
        Log.debug("attempt \(attemptNumber): provider \(c.provider.name), model \(modelName ?? "(provider default)")")
        var timeouts = c.provider.config.timeouts(over: timeoutBase)
        if let t = timeoutOverrideMs { timeouts.totalMs = t }
        let attemptID = attemptNumber
        let callbacks = AttemptCallbacks(
            onEvent: { [weak self] e in
                guard let self, self.attemptNumber == attemptID, !self.finished else { return }
                self.providerEvent(e)
            },
            onSuccess: { [weak self] response in
                guard let self, self.attemptNumber == attemptID, !self.finished else { return }
                self.succeeded(response)
            },
            onFailure: { [weak self] error, retryAfter in
                guard let self, self.attemptNumber == attemptID, !self.finished else { return }
                self.failed(error, retryAfterMs: retryAfter)
            })
        let started = driverFor(c.provider).start(operation, model: modelName, provider: c.provider, timeouts: timeouts,
                                                  callbacks: callbacks)
        // A driver may fail synchronously inside start, and the failover may already have
        // launched the next attempt: keep that one's handle, not this dead one.
        if attemptNumber == attemptID && !finished { handle = started }
    }

    private func providerEvent(_ e: ProviderEvent) {
        accumulator.apply(e)
        if case .delta(let content, let toolCalls) = e {
            if firstDeltaNs == nil { firstDeltaNs = scheduler.nowNs }
            deltasEmitted += 1
            emit(.delta(content: content, toolCalls: toolCalls))
        }
    }

    private func msSince(_ ns: UInt64) -> Double {
        let now = scheduler.nowNs
        return now > ns ? Double(now - ns) / 1_000_000 : 0
    }

    private func record(_ outcome: PMXError?) {
        let c = current
        var a = JSONObject()
        a["provider"] = .string(c.provider.name)
        a["model"] = .string(attemptModel)
        a["outcome"] = outcome == nil ? "ok" : "error"
        if let e = outcome {
            a["code"] = .int(Int64(e.status.rawValue))
            a["status_name"] = .string(e.status.nameString)
            a["error_class"] = .string(e.status.errorClass)
            a["http_status"] = .int(Int64(e.httpStatus))
            a["message"] = .string(e.message)
        } else {
            a["http_status"] = 200
        }
        a["latency_ms"] = .double((msSince(attemptStartNs) * 1000).rounded() / 1000)
        attempts.append(.object(a))
    }

    private func succeeded(_ response: JSONObject?) {
        handle = nil
        record(nil)
        let c = current
        var r: JSONObject
        if let response { r = response } else { r = accumulator.response(fallbackModel: attemptModel) }
        let usage = Usage(openAI: r["usage"])
        r["provider"] = .string(c.provider.name)
        r["attempts"] = .array(attempts)
        r["latency_ms"] = .double((msSince(startNs) * 1000).rounded() / 1000)
        if streaming {
            if let f = firstDeltaNs { r["ttft_ms"] = .double((Double(f - startNs) / 1_000_000 * 1000).rounded() / 1000) }
            if let usage { emit(.usage(usage)) }
        }
        c.provider.stats.succeeded(latencyMs: msSince(attemptStartNs), usage: usage)
        finish(.done(r))
    }

    private func failed(_ error: PMXError, retryAfterMs: Int?) {
        handle = nil
        var error = error
        if error.provider.isEmpty { error.provider = current.provider.name }
        record(error)
        let c = current
        c.provider.stats.failed(error.status, usage: deltasEmitted > 0 ? accumulator.usage : nil)

        // Output already reached the caller: retrying would duplicate it. Fail clearly.
        if deltasEmitted > 0 {
            var e = PMXError(.streamInterrupted, "stream from \(c.provider.name) failed after \(deltasEmitted) deltas: \(error.message)",
                             httpStatus: error.httpStatus, provider: c.provider.name)
            e.attempts = attempts
            e.attemptCount = attempts.count
            e.partialUsage = partialUsage
            finish(.error(e))
            return
        }

        var settings = c.provider.config.retry(over: retryBase)
        if let m = maxAttemptsOverride { settings.maxAttempts = m }
        switch RetryPolicy.decide(error, retryAfterMs: retryAfterMs, attemptsOnProvider: attemptsOnProvider,
                                  settings: settings, random: random()) {
        case .retry(let delay):
            c.provider.stats.retried()
            emit(.retry(provider: c.provider.name, attempt: attemptNumber, delayMs: delay, error: error))
            Log.info("\(c.provider.name): attempt \(attemptNumber) failed (\(error.status.nameString): \(error.message)); retrying in \(delay) ms")
            retryTimer = scheduler.schedule(afterMs: Double(delay)) { [weak self] in
                guard let self, !self.finished else { return }
                self.retryTimer = nil
                self.launch()
            }
        case .failover where index + 1 < candidates.count:
            let next = candidates[index + 1].provider.name
            c.provider.stats.failedOver()
            emit(.fallback(from: c.provider.name, to: next, error: error))
            Log.info("\(c.provider.name): \(error.status.nameString): \(error.message); failing over to \(next)")
            index += 1
            attemptsOnProvider = 0
            launch()
        case .failover, .stop:
            let e = finalError(error)
            if e.status != .cancelled { Log.warn("request failed: \(e.status.nameString): \(e.message)") }
            finish(.error(e))
        }
    }

    /// The error that ends a request: the last failure's class, with every attempt listed.
    private func finalError(_ last: PMXError) -> PMXError {
        var e = last
        if attempts.count > 1 {
            let lines = attempts.map { a -> String in
                let provider = a["provider"]?.stringValue ?? "?"
                return "\(provider): \(a["message"]?.stringValue ?? "ok")"
            }
            let providers = Set(attempts.compactMap { $0["provider"]?.stringValue }).count
            e.message = "all \(attempts.count) attempts on \(providers) provider\(providers == 1 ? "" : "s") failed: " + lines.joined(separator: "; ")
        }
        e.attempts = attempts
        e.attemptCount = attempts.count
        return e
    }

    /// Usage of output that reached the caller before a failure: the provider's own figures
    /// when it sent them, else completion tokens estimated as one per delta.
    private var partialUsage: Usage {
        accumulator.usage ?? Usage(promptTokens: 0, completionTokens: deltasEmitted)
    }

    private func emit(_ e: ExecutionEvent) { sink?(e) }

    private func finish(_ e: ExecutionEvent) {
        guard !finished else { return }
        finished = true
        let s = sink
        sink = nil
        s?(e)
        onFinished?()
        onFinished = nil
    }
}
