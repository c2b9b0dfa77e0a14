// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols
import MuxAccounting
import MuxProviders

/// One routed request as a state machine on the loop thread:
/// attempt → (stream) → retry after back-off / fail over to the next provider → done or error.
/// Time comes from a `Scheduler` and attempts from `AttemptDriver`s, so tests drive it with a
/// fake clock and fake providers.
public final class RequestExecution {
    public struct Candidate {
        public var provider: ProviderRuntime
        /// The model asked for here; nil = the provider's default.
        public var model: String?
        public init(provider: ProviderRuntime, model: String?) { self.provider = provider; self.model = model }

        /// The model name sent (explicit, else the provider's default, else its first listed model).
        public var effectiveModel: String? { model ?? provider.config.defaultModel ?? provider.config.models?.first }
        /// Stats and breakers are kept per provider+model; "default" when the provider picks the model.
        public var seriesKey: SeriesKey { SeriesKey(provider: provider.name, model: effectiveModel ?? "default") }
    }

    public let operation: AttemptOperation
    /// Grows when a fallback model's candidates are appended.
    public private(set) var candidates: [Candidate]
    /// Counters and the router's policies around each attempt.
    public let context: ExecutionContext
    package let scheduler: Scheduler
    package let driverFor: (ProviderRuntime) -> AttemptDriver
    package let retryBase: RetrySettings
    package let timeoutBase: TimeoutSettings
    package let maxAttemptsOverride: Int?
    /// Attempts this request may send in all (retries + failovers + fallbacks), and the field
    /// that set the cap (named in the error when it is reached).
    package let maxTotalAttempts: Int
    package let maxTotalAttemptsField: String
    package let timeoutOverrideMs: Int?
    /// The request's own `route.retry` / `route.timeouts` sections (parsed with the request),
    /// applied over the provider's.
    package var retryOverride: RetryOverlay?
    package var timeoutsOverride: TimeoutOverlay?
    /// Model or group names whose candidates were tried (for fallbacks): the request's first.
    private var labels: [String]
    package let random: () -> Double
    /// Receives every event; the terminal one last. Loop thread.
    /// Read per event, written at the start and the end only, on the loop thread: no runtime
    /// exclusivity check (~90 instructions per chunk each, with `secretGuard`).
    @exclusivity(unchecked) private var sink: ((ExecutionEvent) -> Void)?
    /// Keys streamed in pieces over several deltas (SecretStreamGuard.swift). Changed only
    /// inside `filtered`, which calls nothing outside the guard (the events are handed to the
    /// sink after it returns), so no access to it can overlap another.
    @exclusivity(unchecked) private var secretGuard = SecretStreamGuard()
    public var onFinished: (() -> Void)?
    /// This request's id (RequestID.swift), set by the router before `start`: its log lines
    /// begin with "[req <id>] ", its response and final error carry it as `request_id`.
    /// Empty (a bare execution in tests): no prefix, no field.
    public var requestID = ""
    /// Back-pressure from the consumer (the blocking stream's queue): asked by the attempt
    /// before it produces more events; `resume()` lets it go on. Loop thread.
    /// nil: no back-pressure (complete, embed, the async stream).
    public var shouldPause: (() -> Bool)?

    private var index = 0
    private var attemptsOnProvider = 0
    // Loop thread only, touched per event (no call back into this object while one of them
    // is being modified): no runtime exclusivity check (~180 instructions per access).
    @exclusivity(unchecked) private var attemptNumber = 0
    private var attempts: [AttemptRecord] = []
    /// Attempt records left out of `attempts` (it keeps the first ones and the latest).
    private var attemptsOmitted = 0
    /// The failure of the last attempt sent: what the request ends with when the cap stops it.
    private var lastFailure: PMXError?
    private var handle: AttemptHandle?
    private var retryTimer: UInt64?
    @exclusivity(unchecked) private var accumulator = StreamAccumulator()
    private var startNs: UInt64 = 0
    private var attemptStartNs: UInt64 = 0
    @exclusivity(unchecked) private var firstDeltaNs: UInt64?
    @exclusivity(unchecked) private var firstAttemptDeltaNs: UInt64?
    @exclusivity(unchecked) private var deltasEmitted = 0
    private var attemptModel = ""
    /// An admitted attempt has not reported its outcome to the context yet.
    private var attemptOpen = false
    /// Candidates passed over (breaker open, at a rate limit) and why.
    private var skipped: [PMXError] = []
    private var skippedCount = 0
    /// The soonest a circuit that refused a candidate half-opens (ms), for PMX_ERR_CIRCUIT_OPEN.
    private var firstHalfOpenMs: Int?
    @exclusivity(unchecked) public private(set) var finished = false

    public init(operation: AttemptOperation, candidates: [Candidate], scheduler: Scheduler,
                driverFor: @escaping (ProviderRuntime) -> AttemptDriver, retry: RetrySettings, timeouts: TimeoutSettings,
                maxAttemptsOverride: Int? = nil, timeoutOverrideMs: Int? = nil,
                maxTotalAttempts: Int = RouterConfig.defaultMaxTotalAttempts,
                maxTotalAttemptsField: String = "limits.max_total_attempts",
                context: ExecutionContext = ExecutionContext(), label: String? = nil,
                random: @escaping () -> Double = { Double.random(in: 0..<1) },
                sink: @escaping (ExecutionEvent) -> Void) {
        self.operation = operation
        if case .chat(let request, _) = operation { severalChoices = request.asksSeveralChoices } else { severalChoices = false }
        // A plan of thousands (a huge model group, every provider of a big router) is tried
        // in order until the caps stop it: only the first `maxCandidates` are kept.
        self.candidates = Array(candidates.prefix(Self.maxCandidates))
        self.context = context
        self.labels = label.map { [$0] } ?? []
        self.scheduler = scheduler
        self.driverFor = driverFor
        self.retryBase = retry
        self.timeoutBase = timeouts
        self.maxAttemptsOverride = maxAttemptsOverride
        self.maxTotalAttempts = max(1, maxTotalAttempts)
        self.maxTotalAttemptsField = maxTotalAttemptsField
        self.timeoutOverrideMs = timeoutOverrideMs
        self.random = random
        self.sink = sink
    }

    /// Candidates one request considers in all (planned + appended by fallbacks), sent or passed over.
    public static let maxCandidates = 1000
    /// Entries kept in a response's or error's `attempts` array: the first ones and always the
    /// latest; `attempts_omitted` counts the rest.
    public static let maxRecordedAttempts = 100
    /// Failures spelled out in a final error's message; the `attempts` array has them all.
    package static let maxMessageLines = 10

    /// The request asked for several choices (`n` > 1): its deltas name their choice.
    private let severalChoices: Bool

    /// What this request's log lines start with (built only when a line is logged).
    private var logPrefix: String { requestID.isEmpty ? "" : "[req \(requestID)] " }

    private var streaming: Bool {
        switch operation {
        case .chat(_, let stream), .call(_, let stream): return stream
        case .embed: return false
        }
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
        if attemptOpen {
            attemptOpen = false
            context.metrics.attemptAbandoned(current.seriesKey)
            context.attemptEnded(current, .abandoned)
        }
        if let t = retryTimer { scheduler.cancelTimer(t); retryTimer = nil }
        var e = PMXError(status, message, provider: attemptNumber > 0 ? current.provider.name : "")
        attach(to: &e)
        if deltasEmitted > 0 { e.partialUsage = partialUsage }
        finish(.error(e))
    }

    /// The consumer drained its queue: the current attempt may produce events again. Loop thread.
    public func resume() {
        guard !finished else { return }
        handle?.resume()
    }

    private func launch() {
        // Before admission: a refused launch must not hold a rate-limit slot or a probe.
        if capReached() { return }
        let c = current
        if let refusal = context.admit(c) {
            passOver(refusal)
            return
        }
        attemptNumber += 1
        attemptsOnProvider += 1
        attemptStartNs = scheduler.nowNs
        firstAttemptDeltaNs = nil
        accumulator = StreamAccumulator()
        attemptOpen = true
        context.metrics.attemptStarted(c.seriesKey)
        let modelName = c.effectiveModel
        attemptModel = modelName ?? ""
        emit(.start(provider: c.provider.name, model: modelName ?? "", attempt: attemptNumber))
        Log.debug(logPrefix + "attempt \(attemptNumber): provider \(c.provider.name), model \(modelName ?? "(provider default)")")
        var timeouts = c.provider.config.timeouts(over: timeoutBase).applying(timeoutsOverride)
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
            },
            shouldPause: shouldPause == nil ? nil : { [weak self] in self?.shouldPause?() ?? false })
        let started = driverFor(c.provider).start(operation, model: modelName, provider: c.provider, timeouts: timeouts,
                                                  callbacks: callbacks)
        // A driver may fail synchronously inside start, and the failover may already have
        // launched the next attempt: keep that one's handle, not this dead one.
        if attemptNumber == attemptID && !finished { handle = started }
    }

    private func providerEvent(_ e: ProviderEvent) {
        accumulator.apply(e)
        if severalChoices { return choiceEvent(e) }
        if case .delta(let content, let toolCalls) = e {
            noteOutput()
            emit(.delta(content: content, toolCalls: toolCalls))
        } else if case .reasoning(let text) = e {
            // Reasoning is the first output of a thinking model: it counts as the first token.
            noteOutput()
            emit(.reasoning(text))
        } else if case .operation(let event) = e {
            operationEvent(event)
        }
    }

    /// One output event (a delta, reasoning, a choice's delta) about to go out: the first of the
    /// request and of this attempt start the time-to-first-token clocks; each one counts.
    /// `firstDeltaNs` is never set without `firstAttemptDeltaNs` (only the latter is reset per
    /// attempt), so after an attempt's first output this is one test and one add.
    @inline(__always)
    private func noteOutput() {
        if firstAttemptDeltaNs == nil {
            let now = scheduler.nowNs
            if firstDeltaNs == nil { firstDeltaNs = now }
            firstAttemptDeltaNs = now
        }
        deltasEmitted += 1
    }

    /// An operation's own stream event goes out as it is; its `….delta` events are output
    /// (first token, no retry once one reached the caller), the others (created, added, done)
    /// are not.
    private func operationEvent(_ event: JSONObject) {
        if event["type"]?.stringValue?.hasSuffix(".delta") == true {
            noteOutput()
        }
        emit(.operation(event))
    }

    /// A provider event of an `n` > 1 request: deltas and reasoning of every choice go out
    /// as `choiceDelta`s naming their choice.
    private func choiceEvent(_ e: ProviderEvent) {
        var index = 0, inner = e
        if case .choice(let i, let wrapped) = e { index = i; inner = wrapped }
        let out: ExecutionEvent
        switch inner {
        case .delta(let content, let toolCalls): out = .choiceDelta(index: index, content: content, reasoning: nil, toolCalls: toolCalls)
        case .reasoning(let text): out = .choiceDelta(index: index, content: nil, reasoning: text, toolCalls: nil)
        default: return
        }
        noteOutput()
        emit(out)
    }

    private func msSince(_ ns: UInt64) -> Double {
        let now = scheduler.nowNs
        return now > ns ? Double(now - ns) / 1_000_000 : 0
    }

    private func record(_ outcome: PMXError?) {
        append(.sent(provider: current.provider.name, model: attemptModel, error: outcome, latencyMs: msSince(attemptStartNs)))
    }

    /// Keeps the first `maxRecordedAttempts - 1` records and the latest one.
    private func append(_ record: AttemptRecord) {
        if attempts.count < Self.maxRecordedAttempts {
            attempts.append(record)
        } else {
            attempts[attempts.count - 1] = record
            attemptsOmitted += 1
        }
    }

    private func attach(to e: inout PMXError) {
        e.attempts = attempts
        e.attemptCount = attempts.count + attemptsOmitted
        e.attemptsOmitted = attemptsOmitted
    }

    /// True (and the request ended) when no further attempt may be sent: the request ends with
    /// the last attempt's error, saying that the cap stopped it.
    private func capReached() -> Bool {
        guard attemptNumber >= maxTotalAttempts, let last = lastFailure else { return false }
        var e = finalError(last)
        e.message = "stopped after \(attemptNumber) attempt\(attemptNumber == 1 ? "" : "s"): the cap on attempts per request was reached "
            + "(\(maxTotalAttemptsField) = \(maxTotalAttempts)); last error: \(last.message)"
        Log.warn(logPrefix + "request stopped: \(maxTotalAttemptsField) = \(maxTotalAttempts) reached; last error \(last.status.nameString)")
        finish(.error(e))
        return true
    }

    private func succeeded(_ response: consuming JSONObject?) {
        handle = nil
        record(nil)
        let c = current
        var r = response ?? streamedResult()  // moved, not copied
        // provider, attempts, latency_ms (+ ttft_ms): one growth (and copy) of the shared list.
        r.reserveCapacity(r.count + 5)
        var usage = Usage(openAI: r["usage"])?.nonNegative
        if var u = usage, var fields = r["usage"]?.objectValue {
            // Added to the provider's usage object as it is (embeddings keep their shape).
            // `cost_usd` is the router's price only: an upstream's own figure moves to
            // `upstream_cost_usd` (reported, never trusted for budgets unless opted in).
            u.costUSD = context.cost(c, u)
            // The two members `Usage.json()` writes for them (absent when nil), without
            // building the whole usage object to read them back.
            fields["cost_usd"] = u.reportedCostUSD.map { .double($0) }
            fields["upstream_cost_usd"] = u.upstreamCostUSD.map { .double($0) }
            r["usage"] = .object(fields)
            usage = u
        }
        r["provider"] = .string(c.provider.name)
        if !requestID.isEmpty { r["request_id"] = .string(requestID) }
        AttemptRecord.write(attempts, omitted: attemptsOmitted, into: &r)
        r["latency_ms"] = .double((msSince(startNs) * 1000).rounded() / 1000)
        if streaming {
            if let f = firstDeltaNs { r["ttft_ms"] = .double((Double(f - startNs) / 1_000_000 * 1000).rounded() / 1000) }
            if let usage { emit(.usage(usage)) }
        }
        let ttft = firstAttemptDeltaNs.map { Double($0 - attemptStartNs) / 1_000_000 }
        context.metrics.attemptSucceeded(c.seriesKey, latencyMs: msSince(attemptStartNs), ttftMs: streaming ? ttft : nil,
                                         usage: usage, costUSD: usage?.costUSD)
        attemptOpen = false
        context.attemptEnded(c, .success(usage))
        finish(.done(r))
    }

    /// A streamed answer's result, from its events: a chat completion, or the operation's own
    /// shape (a `text_completion` for completions.create).
    private func streamedResult() -> JSONObject {
        if let whole = accumulator.operationResult { return whole }
        let chat = accumulator.response(fallbackModel: attemptModel)
        if case .call(let request, _) = operation { return request.streamedResult(chat) }
        return chat
    }

    private func failed(_ error: PMXError, retryAfterMs: Int?) {
        handle = nil
        var error = error
        if error.provider.isEmpty { error.provider = current.provider.name }
        record(error)
        lastFailure = error
        let c = current
        var partial = deltasEmitted > 0 ? partialUsage.nonNegative : nil
        if let u = partial, let cost = context.cost(c, u) { partial?.costUSD = cost }
        context.metrics.attemptFailed(c.seriesKey, status: error.status, usage: partial, costUSD: partial?.costUSD)
        attemptOpen = false
        context.attemptEnded(c, .failure(error, retryAfterMs: retryAfterMs, partialUsage: partial))

        // Output already reached the caller: retrying would duplicate it. Fail clearly.
        if deltasEmitted > 0 {
            var e = PMXError(.streamInterrupted, "stream from \(c.provider.name) failed after \(deltasEmitted) deltas: \(error.message)",
                             httpStatus: error.httpStatus, provider: c.provider.name)
            attach(to: &e)
            e.partialUsage = partialUsage
            finish(.error(e))
            return
        }

        var settings = c.provider.config.retry(over: retryBase).applying(retryOverride)
        if let m = maxAttemptsOverride { settings.maxAttempts = m }
        let decision = RetryPolicy.decide(error, retryAfterMs: retryAfterMs, attemptsOnProvider: attemptsOnProvider,
                                          settings: settings, random: random())
        switch decision {
        case .retry(let delay):
            if capReached() { return }  // no retry may be sent: do not wait for one
            context.metrics.retried(c.seriesKey)
            emit(.retry(provider: c.provider.name, attempt: attemptNumber, delayMs: delay, error: error))
            Log.info(logPrefix + "\(c.provider.name): attempt \(attemptNumber) failed (\(error.status.nameString): \(error.message)); retrying in \(delay) ms")
            retryTimer = scheduler.schedule(afterMs: Double(delay)) { [weak self] in
                guard let self, !self.finished else { return }
                self.retryTimer = nil
                self.retryOnSameCandidate()
            }
        case .failover, .stop:
            if decision == .stop, !(error.status == .contextLengthExceeded || error.status == .contentFiltered) {
                finish(.error(finalError(error)))
                return
            }
            let kind: FallbackKind = switch error.status {
            case .contextLengthExceeded: .contextWindow
            case .contentFiltered: .contentPolicy
            default: .general
            }
            moveOn(after: error, kind: kind, from: c)
        }
    }

    /// The breaker or the rate limiter refused `current`: try the next candidate without an attempt.
    private func passOver(_ refusal: PMXError) {
        var e = refusal
        if e.provider.isEmpty { e.provider = current.provider.name }
        Log.debug(logPrefix + "\(e.provider): passed over: \(e.message)")
        skippedCount += 1
        if skipped.count < Self.maxMessageLines { skipped.append(e) }
        if let ms = e.circuitHalfOpensInMs { firstHalfOpenMs = min(firstHalfOpenMs ?? ms, ms) }
        append(.skipped(provider: current.provider.name, model: current.effectiveModel ?? "", refusal: e))
        moveOn(after: e, kind: .general, from: current, skippedOnly: true)
    }

    private func retryOnSameCandidate() { launch() }

    /// Next candidate, else the next fallback model's candidates, else the end.
    /// A context-length or content-filter error only continues through its own fallbacks.
    private func moveOn(after error: PMXError, kind: FallbackKind, from c: Candidate, skippedOnly: Bool = false) {
        if capReached() { return }
        if kind == .general, index + 1 < candidates.count {
            let next = candidates[index + 1].provider.name
            if !skippedOnly {
                context.metrics.failedOver(c.seriesKey)
                emit(.fallback(from: c.provider.name, to: next, error: error))
                Log.info(logPrefix + "\(c.provider.name): \(error.status.nameString): \(error.message); failing over to \(next)")
            }
            index += 1
            attemptsOnProvider = 0
            launch()
            return
        }
        let room = Self.maxCandidates - candidates.count
        if room > 0, let source = context.fallback, let (label, found) = source(kind, labels, c), !found.isEmpty {
            let more = found.prefix(room)
            labels.append(label)
            let next = more[0].provider.name
            if !skippedOnly {
                context.metrics.failedOver(c.seriesKey)
                emit(.fallback(from: c.provider.name, to: next, error: error))
            }
            Log.info(logPrefix + "\(c.provider.name): \(error.status.nameString); falling back to \"\(label)\" on \(next)")
            candidates += more
            index += 1
            attemptsOnProvider = 0
            launch()
            return
        }
        let e = finalError(error)
        if e.status != .cancelled { Log.warn(logPrefix + "request failed: \(e.status.nameString): \(e.message)") }
        finish(.error(e))
    }

    /// The error that ends a request: the last failure's class, with every attempt listed.
    private func finalError(_ last: PMXError) -> PMXError {
        var e = last
        if attemptNumber == 0, !skipped.isEmpty {
            // Nothing was sent: every candidate was refused locally.
            let status: Status = skipped.allSatisfy { $0.status == .circuitOpen } ? .circuitOpen
                : skipped.contains { $0.status == .budgetExceeded } ? .budgetExceeded : .rateLimited
            let more = skippedCount - skipped.count
            // First, so that a message truncated to pmx_error's 512 bytes still says it.
            let when = status != .circuitOpen ? "" : firstHalfOpenMs.map {
                $0 > 0 ? " (the first circuit half-opens in \($0) ms)" : " (a circuit is half-open, its one probe still in flight)"
            } ?? ""
            e = PMXError(status, "no candidate could be tried\(when): " + skipped.map { "\($0.provider): \($0.message)" }.joined(separator: "; ")
                + (more > 0 ? "; and \(more) more" : ""))
        } else if attempts.count > 1 {
            let total = attempts.count + attemptsOmitted
            let lines = attempts.prefix(Self.maxMessageLines).map { "\($0.provider): \($0.message ?? "ok")" }
            let more = total - lines.count
            let providers = Set(attempts.map(\.provider)).count
            let counted = attemptsOmitted > 0 ? "at least \(providers)" : "\(providers)"
            e.message = "all \(total) attempts on \(counted) provider\(providers == 1 ? "" : "s") failed: " + lines.joined(separator: "; ")
                + (more > 0 ? "; and \(more) more" : "")
        }
        attach(to: &e)
        return e
    }

    /// Usage of output that reached the caller before a failure: the provider's own figures
    /// so far (prompt tokens often come before the output: Anthropic's message_start,
    /// Gemini's usageMetadata), with completion tokens never fewer than one per delta that
    /// reached the caller (the estimate when the provider has not counted them yet).
    private var partialUsage: Usage {
        guard var u = accumulator.usage else { return Usage(promptTokens: 0, completionTokens: deltasEmitted) }
        if u.completionTokens < deltasEmitted {
            var merged = Usage(promptTokens: u.promptTokens, completionTokens: deltasEmitted, cachedTokens: u.cachedTokens,
                               cacheWriteTokens: u.cacheWriteTokens, reasoningTokens: u.reasoningTokens)
            merged.tokensPerSecond = u.tokensPerSecond
            u = merged
        }
        return u
    }

    private func emit(_ e: ExecutionEvent) {
        guard let sink else { return }
        secretGuard.filtered(e).send(to: sink)  // the guard's access ends before the sink runs
    }

    private func finish(_ e: ExecutionEvent) {
        guard !finished else { return }
        finished = true
        let s = sink
        sink = nil
        var e = e
        if case .error(var failure) = e, !requestID.isEmpty {
            failure.requestID = requestID
            e = .error(failure)
        }
        if let s { secretGuard.filtered(e).send(to: s) } // held fragments go out before the terminal event
        onFinished?()
        onFinished = nil
    }
}
