import Testing
@testable import ProviderMuxCore

// The routing state machine (RequestExecution) on a FAKE clock: attempts come from a scripted
// driver (or the real MockDriver), time only moves when a test calls `advance(ms:)`, so every
// retry delay, failover and terminal event is asserted exactly, with no sleeps.

// MARK: - Fake clock

/// A manual clock. `advance(ms:)` fires every timer that comes due, earliest first (ties in
/// scheduling order), each with the clock set to its own deadline.
final class FakeScheduler: Scheduler {
    private struct Timer {
        let id: UInt64
        let deadlineNs: UInt64
        let action: () -> Void
    }

    static let originNs: UInt64 = 5_000_000_000
    private(set) var nowNs: UInt64 = FakeScheduler.originNs
    private var timers: [Timer] = []
    private var nextID: UInt64 = 1

    /// Milliseconds since the clock was created.
    var nowMs: Double { Double(nowNs - Self.originNs) / 1_000_000 }
    var pendingTimers: Int { timers.count }

    @discardableResult
    func schedule(afterMs ms: Double, _ action: @escaping () -> Void) -> UInt64 {
        let id = nextID
        nextID += 1
        timers.append(Timer(id: id, deadlineNs: nowNs + UInt64((max(0, ms) * 1_000_000).rounded()), action: action))
        return id
    }

    func cancelTimer(_ id: UInt64) { timers.removeAll { $0.id == id } }

    func advance(ms: Double) {
        let target = nowNs + UInt64((ms * 1_000_000).rounded())
        while let next = timers.filter({ $0.deadlineNs <= target })
            .min(by: { ($0.deadlineNs, $0.id) < ($1.deadlineNs, $1.id) })
        {
            timers.removeAll { $0.id == next.id }
            nowNs = max(nowNs, next.deadlineNs)
            next.action()
        }
        nowNs = target
    }
}

// MARK: - Scripted driver

/// One step of a scripted attempt. Steps before the first `.wait` run synchronously inside
/// `AttemptDriver.start`.
enum AttemptStep {
    case wait(Double)
    case event(ProviderEvent)
    case succeed(JSONObject?)
    case fail(PMXError, retryAfterMs: Int?)

    static func delta(_ text: String) -> AttemptStep { .event(.delta(content: text, toolCalls: nil)) }
    static func fail(_ e: PMXError) -> AttemptStep { .fail(e, retryAfterMs: nil) }
    static func http(_ code: Int, retryAfterMs: Int? = nil) -> AttemptStep {
        .fail(HTTPErrorMapping.error(status: code, body: Array(#"{"error":{"message":"fake \#(code)"}}"#.utf8), provider: ""),
              retryAfterMs: retryAfterMs)
    }
    static let ok = AttemptStep.succeed(chatCompletion("ok"))
}

/// A non-streamed provider answer.
func chatCompletion(_ text: String, id: String = "chatcmpl-test") -> JSONObject {
    var message = JSONObject()
    message["role"] = "assistant"
    message["content"] = .string(text)
    var o = JSONObject()
    o["id"] = .string(id)
    o["object"] = "chat.completion"
    o["model"] = "served-model"
    o["choices"] = [["index": 0, "message": .object(message), "finish_reason": "stop"]]
    o["usage"] = ["prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4]
    return o
}

final class ScriptedAttempt: AttemptHandle {
    let provider: String
    let model: String?
    let timeouts: TimeoutSettings
    let startedAtMs: Double
    private(set) var cancelled = false
    private var steps: [AttemptStep]
    private let clock: FakeScheduler
    private let callbacks: AttemptCallbacks
    private let honoursCancel: Bool
    private var timer: UInt64?

    init(provider: String, model: String?, timeouts: TimeoutSettings, steps: [AttemptStep], clock: FakeScheduler,
         callbacks: AttemptCallbacks, honoursCancel: Bool) {
        self.provider = provider
        self.model = model
        self.timeouts = timeouts
        self.steps = steps
        self.clock = clock
        self.callbacks = callbacks
        self.honoursCancel = honoursCancel
        self.startedAtMs = clock.nowMs
    }

    func cancel() {
        cancelled = true
        if honoursCancel, let t = timer { clock.cancelTimer(t); timer = nil }
    }

    func run() {
        while !steps.isEmpty {
            if cancelled && honoursCancel { return }
            switch steps.removeFirst() {
            case .wait(let ms):
                timer = clock.schedule(afterMs: ms) { [self] in timer = nil; run() }
                return
            case .event(let e): callbacks.onEvent(e)
            case .succeed(let r): callbacks.onSuccess(r); return
            case .fail(let e, let ra): callbacks.onFailure(e, ra); return
            }
        }
        // Out of steps: the attempt hangs until cancelled.
    }
}

/// Attempts follow a per-provider script, one step list per attempt, consumed in order.
/// A provider with no script left hangs.
final class ScriptedDriver: AttemptDriver {
    let clock: FakeScheduler
    var scripts: [String: [[AttemptStep]]]
    /// Attempts that ignore `cancel()` (a misbehaving driver): the execution must still ignore them.
    var honoursCancel = true
    private(set) var attempts: [ScriptedAttempt] = []

    init(clock: FakeScheduler, scripts: [String: [[AttemptStep]]]) {
        self.clock = clock
        self.scripts = scripts
    }

    func start(_ op: AttemptOperation, model: String?, provider: ProviderRuntime, timeouts: TimeoutSettings,
               callbacks: AttemptCallbacks) -> AttemptHandle {
        var steps: [AttemptStep] = []
        if var list = scripts[provider.name], !list.isEmpty {
            steps = list.removeFirst()
            scripts[provider.name] = list
        }
        let a = ScriptedAttempt(provider: provider.name, model: model, timeouts: timeouts, steps: steps, clock: clock,
                                callbacks: callbacks, honoursCancel: honoursCancel)
        attempts.append(a)
        a.run()
        return a
    }
}

// MARK: - Harness

func providerRuntime(_ json: String) throws -> ProviderRuntime {
    ProviderRuntime(try ProviderConfig.parse(JSONParser.parse(json), path: "provider"))
}

func retrySettings(maxAttempts: Int = 3, initial: Int = 100, max: Int = 10_000, multiplier: Double = 2,
                   jitter: Double = 0.2, maxRetryAfter: Int = 60_000) -> RetrySettings {
    var s = RetrySettings()
    s.maxAttempts = maxAttempts
    s.initialBackoffMs = initial
    s.maxBackoffMs = max
    s.multiplier = multiplier
    s.jitter = jitter
    s.maxRetryAfterMs = maxRetryAfter
    return s
}

/// Records every event with its fake time; renders them as compact lines for exact comparison.
final class ExecutionRecorder {
    let clock: FakeScheduler
    private(set) var events: [(ms: Double, event: ExecutionEvent)] = []
    init(clock: FakeScheduler) { self.clock = clock }

    func record(_ e: ExecutionEvent) { events.append((clock.nowMs, e)) }

    static func line(_ e: ExecutionEvent) -> String {
        switch e {
        case .start(let p, let m, let n): "start \(p) \(m) #\(n)"
        case .delta(let c, let t): "delta \(c.map { "\"\($0)\"" } ?? "-")\(t == nil ? "" : " tools:\(t!.count)")"
        case .retry(let p, let n, let d, let err): "retry \(p) #\(n) \(d)ms \(err.status.nameString)"
        case .fallback(let f, let t, let err): "fallback \(f)->\(t) \(err.status.nameString)"
        case .usage(let u): "usage \(u.promptTokens)/\(u.completionTokens)/\(u.totalTokens)"
        case .done(let r): "done \(r["provider"]?.stringValue ?? "?")"
        case .error(let err): "error \(err.status.nameString)"
        }
    }

    /// "@<ms> <event>" lines.
    var trace: [String] {
        events.map { "@\(Int($0.ms)) " + Self.line($0.event) }
    }

    var terminals: [ExecutionEvent] { events.map(\.event).filter(\.isTerminal) }

    var done: JSONObject? {
        if case .done(let r) = events.last?.event { return r }
        return nil
    }

    var error: PMXError? {
        if case .error(let e) = events.last?.event { return e }
        return nil
    }

    /// Exactly one terminal event, and it is the last one.
    func expectOneTerminal(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(terminals.count == 1, "terminal events: \(terminals.map(Self.line))", sourceLocation: sourceLocation)
        #expect(events.last?.event.isTerminal == true, sourceLocation: sourceLocation)
    }
}

/// A RequestExecution over scripted providers on a fake clock.
final class ExecutionHarness {
    let clock = FakeScheduler()
    let driver: ScriptedDriver
    let recorder: ExecutionRecorder
    let providers: [ProviderRuntime]
    let execution: RequestExecution
    let metrics = MetricsRegistry()

    /// The counters of one provider (all its models summed: tests use one model).
    func series(_ provider: String) -> SeriesSnapshot {
        metrics.snapshot().first { $0.key.provider == provider } ?? SeriesSnapshot(key: SeriesKey(provider: provider, model: ""))
    }

    init(providers: [String], scripts: [String: [[AttemptStep]]], stream: Bool = false,
         request: String = #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
         model: String? = "m", retry: RetrySettings = retrySettings(), timeouts: TimeoutSettings = TimeoutSettings(),
         maxAttemptsOverride: Int? = nil, timeoutOverrideMs: Int? = nil, random: Double = 0.5) throws {
        driver = ScriptedDriver(clock: clock, scripts: scripts)
        recorder = ExecutionRecorder(clock: clock)
        self.providers = try providers.map(providerRuntime)
        let req = try ChatRequest.parse(JSONParser.parse(request))
        let d = driver, rec = recorder
        execution = RequestExecution(
            operation: .chat(req, stream: stream),
            candidates: self.providers.map { .init(provider: $0, model: model) },
            scheduler: clock, driverFor: { _ in d }, retry: retry, timeouts: timeouts,
            maxAttemptsOverride: maxAttemptsOverride, timeoutOverrideMs: timeoutOverrideMs,
            context: ExecutionContext(metrics: metrics), random: { random }, sink: { rec.record($0) })
    }

    var trace: [String] { recorder.trace }
    func start() { execution.start() }
    func advance(_ ms: Double) { clock.advance(ms: ms) }
}

private let a = #"{"name":"a","type":"openai-compatible","base_url":"http://a.invalid/v1"}"#
private let b = #"{"name":"b","type":"openai-compatible","base_url":"http://b.invalid/v1"}"#
private let c = #"{"name":"c","type":"openai-compatible","base_url":"http://c.invalid/v1"}"#

// MARK: - Tests

@Suite("RequestExecution (fake clock, scripted providers)")
struct RequestExecutionTests {
    @Test("429 twice then success: start, retry(100), start, retry(200), start, done — on the fake clock's schedule")
    func retryThenSuccess() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [
            [.wait(10), .http(429)], [.wait(10), .http(429)], [.wait(10), .ok],
        ]])
        h.start()
        #expect(h.trace == ["@0 start a m #1"])
        h.advance(10)
        #expect(h.trace == ["@0 start a m #1", "@10 retry a #1 100ms PMX_ERR_RATE_LIMITED"])
        h.advance(99)  // t = 109: the back-off has not elapsed
        #expect(h.trace.count == 2)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)  // t = 110
        #expect(h.trace.last == "@110 start a m #2")
        #expect(h.driver.attempts.count == 2)
        h.advance(10)
        #expect(h.trace.last == "@120 retry a #2 200ms PMX_ERR_RATE_LIMITED")
        h.advance(199)
        #expect(h.driver.attempts.count == 2)
        h.advance(1)
        #expect(h.trace.last == "@320 start a m #3")
        h.advance(10)
        #expect(h.trace == [
            "@0 start a m #1",
            "@10 retry a #1 100ms PMX_ERR_RATE_LIMITED",
            "@110 start a m #2",
            "@120 retry a #2 200ms PMX_ERR_RATE_LIMITED",
            "@320 start a m #3",
            "@330 done a",
        ])
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["id"] == "chatcmpl-test")  // the provider's answer, plus the router's fields
        #expect(r["provider"] == "a")
        #expect(r["latency_ms"]?.doubleValue == 330)
        #expect(r["ttft_ms"] == nil)  // not a stream
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 3)
        #expect(attempts.map { $0["outcome"]?.stringValue } == ["error", "error", "ok"])
        #expect(attempts.map { $0["http_status"]?.intValue } == [429, 429, 200])
        #expect(attempts.map { $0["latency_ms"]?.doubleValue } == [10, 10, 10])
        #expect(attempts[0]["status_name"] == "PMX_ERR_RATE_LIMITED")
        #expect(attempts[0]["code"]?.intValue == Int64(Status.rateLimited.rawValue))
        #expect(attempts[0]["message"]?.stringValue?.contains("fake 429") == true)
        #expect(attempts[0]["provider"] == "a" && attempts[0]["model"] == "m")
        #expect(attempts[2]["code"] == nil && attempts[2]["message"] == nil)
        let s = h.series("a")
        #expect(s.requests == 3 && s.retries == 2 && s.failures == 2 && s.successes == 1)
        #expect(s.failuresByStatus == ["PMX_ERR_RATE_LIMITED": 2])
    }

    @Test("the random source drives the jitter of the delay")
    func jitterFromRandom() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.http(503)], [.ok]]], random: 0)
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 80ms PMX_ERR_UPSTREAM_SERVER"])
        h.advance(79)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)
        #expect(h.trace.suffix(2) == ["@80 start a m #2", "@80 done a"])
    }

    @Test("Retry-After 5000 ms is a minimum: nothing happens at 4999 ms")
    func retryAfterRespected() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429, retryAfterMs: 5000)], [.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 5000ms PMX_ERR_RATE_LIMITED"])
        h.advance(4999)
        #expect(h.trace.count == 2)
        #expect(h.driver.attempts.count == 1)
        h.advance(1)
        #expect(h.trace.suffix(2) == ["@5000 start a m #2", "@5000 done a"])
        h.recorder.expectOneTerminal()
    }

    @Test("a Retry-After beyond max_retry_after_ms fails over at once")
    func retryAfterTooLong() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429, retryAfterMs: 90_000)]], "b": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_RATE_LIMITED", "@0 start b m #2", "@0 done b"])
    }

    @Test("failover a → b: fallback event, then b's start; b answers")
    func failover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.wait(5), .http(401)]], "b": [[.wait(7), .ok]]])
        h.start()
        h.advance(5)
        #expect(h.trace == ["@0 start a m #1", "@5 fallback a->b PMX_ERR_AUTH", "@5 start b m #2"])
        h.advance(7)
        #expect(h.trace.last == "@12 done b")
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["provider"] == "b")
        #expect(r["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["a", "b"])
        #expect(h.series("a").fallbacks == 1)
        // The fallback event's JSON.
        guard case .fallback(let from, let to, let err) = h.recorder.events[1].event else {
            Issue.record("no fallback event"); return
        }
        let j = ExecutionEvent.fallback(from: from, to: to, error: err).json()
        #expect(j["type"] == "fallback" && j["from"] == "a" && j["to"] == "b")
        #expect(j["status_name"] == "PMX_ERR_AUTH" && j["http_status"] == 401)
        #expect(j["code"]?.intValue == Int64(Status.auth.rawValue))
    }

    @Test("retryable failures exhaust max_attempts on a provider before failing over")
    func exhaustThenFailover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(500)], [.http(502)]], "b": [[.ok]]],
                                     retry: retrySettings(maxAttempts: 2, initial: 40, jitter: 0))
        h.start()
        h.advance(40)
        #expect(h.trace == [
            "@0 start a m #1", "@0 retry a #1 40ms PMX_ERR_UPSTREAM_SERVER",
            "@40 start a m #2", "@40 fallback a->b PMX_ERR_UPSTREAM_SERVER",
            "@40 start b m #3", "@40 done b",
        ])
    }

    @Test("all providers fail: ONE error, status of the last failure, message listing every attempt")
    func allFail() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.wait(1), .http(503)], [.wait(1), .fail(PMXError(.connection, "connection refused"))]],
            "b": [[.wait(1), .http(401)]],
        ], retry: retrySettings(maxAttempts: 2, initial: 10, jitter: 0))
        h.start()
        h.advance(1000)
        #expect(h.trace == [
            "@0 start a m #1", "@1 retry a #1 10ms PMX_ERR_UPSTREAM_SERVER",
            "@11 start a m #2", "@12 fallback a->b PMX_ERR_CONNECTION",
            "@12 start b m #3", "@13 error PMX_ERR_AUTH",
        ])
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.status == .auth)
        #expect(e.httpStatus == 401)
        #expect(e.provider == "b")
        #expect(e.attemptCount == 3)
        #expect(e.attempts.count == 3)
        #expect(e.message.contains("3 attempts"))
        #expect(e.message.contains("a: HTTP 503: fake 503"))
        #expect(e.message.contains("a: connection refused"))
        #expect(e.message.contains("b: HTTP 401: fake 401"))
        let j = e.json()
        #expect(j["type"] == "error" && j["status_name"] == "PMX_ERR_AUTH" && j["provider"] == "b")
        #expect(j["attempts"]?.arrayValue?.count == 3)
        #expect(j["usage"] == nil)  // no output had started
    }

    @Test("a single failed attempt keeps its own message")
    func singleFailure() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.http(404)]]])
        h.start()
        let e = try #require(h.recorder.error)
        #expect(e.status == .modelNotFound)
        #expect(e.message == "HTTP 404: fake 404")
        #expect(e.attemptCount == 1)
    }

    @Test("a stream that fails BEFORE its first delta fails over (nothing reached the caller)")
    func streamFailsBeforeFirstDelta() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.event(.meta(id: "x", model: "m")), .wait(5),
                   .fail(PMXError(.upstreamProtocol, "malformed stream event"))]],
            "b": [[.wait(5), .delta("Hi"), .wait(5), .delta(" there"), .event(.finish(reason: "stop")), .succeed(nil)]],
        ], stream: true)
        h.start()
        h.advance(100)
        #expect(h.trace == [
            "@0 start a m #1", "@5 fallback a->b PMX_ERR_UPSTREAM_PROTOCOL", "@5 start b m #2",
            "@10 delta \"Hi\"", "@15 delta \" there\"", "@15 done b",
        ])
        let r = try #require(h.recorder.done)
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "Hi there")
        #expect(r["ttft_ms"]?.doubleValue == 10)
    }

    @Test("a retryable stream failure before the first delta is retried on the same provider")
    func streamRetriedBeforeFirstDelta() throws {
        let h = try ExecutionHarness(providers: [a], scripts: [
            "a": [[.wait(5), .fail(PMXError(.connection, "reset"))], [.delta("ok"), .succeed(nil)]],
        ], stream: true)
        h.start()
        h.advance(105)
        #expect(h.trace == ["@0 start a m #1", "@5 retry a #1 100ms PMX_ERR_CONNECTION", "@105 start a m #2",
                            "@105 delta \"ok\"", "@105 done a"])
    }

    @Test("a stream failing AFTER a delta: STREAM_INTERRUPTED, no retry, no failover, partial usage")
    func streamFailsAfterDelta() throws {
        let usage = Usage(promptTokens: 5, completionTokens: 1)
        let h = try ExecutionHarness(providers: [a, b], scripts: [
            "a": [[.wait(3), .event(.usage(usage)), .delta("Hel"), .wait(4), .fail(PMXError(.connection, "reset by peer"))]],
            "b": [[.ok]],
        ], stream: true)
        h.start()
        h.advance(60_000)
        #expect(h.trace == ["@0 start a m #1", "@3 delta \"Hel\"", "@7 error PMX_ERR_STREAM_INTERRUPTED"])
        #expect(h.driver.attempts.count == 1)
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.provider == "a")
        #expect(e.partialUsage == usage)
        #expect(e.message.contains("reset by peer"))
        #expect(e.attemptCount == 1)
        #expect(e.json()["usage"]?["prompt_tokens"] == 5)
        #expect(h.clock.pendingTimers == 0)
    }

    @Test("partial usage: the provider's prompt tokens kept, completion tokens at least one per delta delivered")
    func partialUsageMerged() throws {
        // Prompt tokens reported before the output (Anthropic's message_start, Gemini's
        // usageMetadata), no completion count yet: 3 deltas reached the caller.
        let early = Usage(promptTokens: 7, completionTokens: 1, cachedTokens: 2)
        let h = try ExecutionHarness(providers: [a], scripts: [
            "a": [[.event(.usage(early)), .delta("a"), .delta("b"), .delta("c"), .fail(PMXError(.connection, "reset"))]],
        ], stream: true)
        h.start()
        h.advance(1_000)
        let e = try #require(h.recorder.error)
        #expect(e.status == .streamInterrupted)
        #expect(e.partialUsage == Usage(promptTokens: 7, completionTokens: 3, cachedTokens: 2))
        // Nothing reported: completion tokens estimated, prompt unknown (0).
        let none = try ExecutionHarness(providers: [a], scripts: ["a": [[.delta("a"), .delta("b"), .fail(PMXError(.connection, "reset"))]]], stream: true)
        none.start()
        none.advance(1_000)
        #expect(try #require(none.recorder.error).partialUsage == Usage(promptTokens: 0, completionTokens: 2))
    }

    @Test("cancel during back-off: error CANCELLED, the retry timer never starts an attempt")
    func cancelDuringBackoff() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429)], [.ok]], "b": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 retry a #1 100ms PMX_ERR_RATE_LIMITED"])
        h.advance(50)
        h.execution.cancel()
        #expect(h.trace.last == "@50 error PMX_ERR_CANCELLED")
        #expect(h.clock.pendingTimers == 0)
        h.advance(10_000)
        #expect(h.driver.attempts.count == 1)
        h.recorder.expectOneTerminal()
        let e = try #require(h.recorder.error)
        #expect(e.attemptCount == 1)
        #expect(e.provider == "a")
        // Idempotent: a second cancel emits nothing.
        h.execution.cancel()
        #expect(h.recorder.events.count == 3)
        #expect(h.execution.finished)
    }

    @Test("cancel during an attempt cancels the driver's attempt; late callbacks are ignored")
    func cancelDuringAttempt() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.wait(100), .delta("late"), .succeed(nil)]]], stream: true)
        h.driver.honoursCancel = false  // a driver that keeps calling back after cancel
        h.start()
        h.advance(30)
        h.execution.cancel()
        #expect(h.driver.attempts.first?.cancelled == true)
        h.advance(1000)
        #expect(h.trace == ["@0 start a m #1", "@30 error PMX_ERR_CANCELLED"])
        h.recorder.expectOneTerminal()
    }

    @Test("cancel after the terminal event is a no-op")
    func cancelAfterDone() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.ok]]])
        h.start()
        h.execution.cancel()
        #expect(h.trace == ["@0 start a m #1", "@0 done a"])
    }

    @Test("cancel with another status (router closing)")
    func cancelWithStatus() throws {
        let h = try ExecutionHarness(providers: [a], scripts: [:])
        h.start()
        h.execution.cancel(.cancelled, "the router was freed")
        #expect(h.recorder.error?.message == "the router was freed")
        h.recorder.expectOneTerminal()
    }

    @Test("a provider that succeeds synchronously inside start() still gives one done")
    func synchronousSuccess() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 done a"])
        h.recorder.expectOneTerminal()
    }

    @Test("synchronous failures chain through every provider to one error")
    func synchronousFailures() throws {
        let h = try ExecutionHarness(providers: [a, b, c], scripts: ["a": [[.http(401)]], "b": [[.http(404)]], "c": [[.http(400)]]])
        h.start()
        #expect(h.trace == [
            "@0 start a m #1", "@0 fallback a->b PMX_ERR_AUTH", "@0 start b m #2",
            "@0 fallback b->c PMX_ERR_MODEL_NOT_FOUND", "@0 start c m #3", "@0 error PMX_ERR_UPSTREAM_BAD_REQUEST",
        ])
        h.recorder.expectOneTerminal()
    }

    @Test("cancel after a synchronous failover cancels the attempt that is actually running")
    func cancelAfterSynchronousFailover() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(401)]], "b": [[.wait(1000), .ok]]])
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_AUTH", "@0 start b m #2"])
        h.advance(10)
        h.execution.cancel()
        #expect(h.driver.attempts.count == 2)
        #expect(h.driver.attempts[1].cancelled, "b's running attempt was not cancelled")
        #expect(h.clock.pendingTimers == 0, "b's attempt is still running")
    }

    @Test("stream done: deltas, usage event, then done with provider, attempts, latency_ms and ttft_ms")
    func streamDone() throws {
        let usage = Usage(promptTokens: 4, completionTokens: 2)
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[
            .event(.meta(id: "chatcmpl-s1", model: "served")), .wait(30), .delta("Hello"), .wait(20), .delta(" world"),
            .event(.finish(reason: "stop")), .event(.usage(usage)), .wait(5), .event(.end), .succeed(nil),
        ]]], stream: true)
        h.start()
        h.advance(29)
        #expect(h.trace == ["@0 start a m #1"])
        h.advance(1)
        #expect(h.trace.last == "@30 delta \"Hello\"")
        h.advance(25)
        #expect(h.trace == ["@0 start a m #1", "@30 delta \"Hello\"", "@50 delta \" world\"", "@55 usage 4/2/6", "@55 done a"])
        h.recorder.expectOneTerminal()
        let r = try #require(h.recorder.done)
        #expect(r["id"] == "chatcmpl-s1")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "served")
        #expect(r["provider"] == "a")
        #expect(r["latency_ms"]?.doubleValue == 55)
        #expect(r["ttft_ms"]?.doubleValue == 30)
        #expect(r["usage"]?["total_tokens"] == 6)
        #expect(r["attempts"]?.arrayValue?.count == 1)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "Hello world")
        #expect(choice["finish_reason"] == "stop")
        let s = h.series("a")
        #expect(s.successes == 1 && s.promptTokens == 4 && s.completionTokens == 2)
    }

    @Test("ttft_ms counts from the start of the request, back-off included")
    func ttftAcrossRetries() throws {
        let h = try ExecutionHarness(providers: [a], scripts: ["a": [[.wait(10), .http(500)], [.wait(15), .delta("x"), .succeed(nil)]]],
                                     stream: true)
        h.start()
        h.advance(1000)
        let r = try #require(h.recorder.done)
        #expect(r["ttft_ms"]?.doubleValue == 125)
        #expect(r["latency_ms"]?.doubleValue == 125)
    }

    @Test("the model: the candidate's, else the provider's default_model, else its first listed model")
    func modelChoice() throws {
        let d = #"{"name":"d","type":"openai-compatible","base_url":"http://d.invalid/v1","default_model":"dm","models":["x","dm"]}"#
        let l = #"{"name":"l","type":"openai-compatible","base_url":"http://l.invalid/v1","models":["first","second"]}"#
        let h = try ExecutionHarness(providers: [d, l, a], scripts: ["d": [[.http(401)]], "l": [[.http(401)]], "a": [[.ok]]], model: nil)
        h.start()
        #expect(h.trace.filter { $0.contains("start") } == ["@0 start d dm #1", "@0 start l first #2", "@0 start a  #3"])
        #expect(h.driver.attempts.map(\.model) == ["dm", "first", nil])
    }

    @Test("route overrides: max_attempts replaces the retry count, timeout_ms the total timeout")
    func routeOverrides() throws {
        let h = try ExecutionHarness(providers: [a, b], scripts: ["a": [[.http(429)]], "b": [[.ok]]],
                                     maxAttemptsOverride: 1, timeoutOverrideMs: 1234)
        h.start()
        #expect(h.trace == ["@0 start a m #1", "@0 fallback a->b PMX_ERR_RATE_LIMITED", "@0 start b m #2", "@0 done b"])
        #expect(h.driver.attempts.map(\.timeouts.totalMs) == [1234, 1234])
    }

    @Test("per-provider retry and timeouts overrides apply to that provider only")
    func providerOverrides() throws {
        let a1 = #"{"name":"a","type":"openai-compatible","base_url":"http://a.invalid/v1","retry":{"max_attempts":1},"timeouts":{"idle_ms":77}}"#
        var base = TimeoutSettings()
        base.idleMs = 5000
        let h = try ExecutionHarness(providers: [a1, b], scripts: ["a": [[.http(503)]], "b": [[.http(503)], [.ok]]], timeouts: base)
        h.start()
        h.advance(100)
        #expect(h.trace == [
            "@0 start a m #1", "@0 fallback a->b PMX_ERR_UPSTREAM_SERVER", "@0 start b m #2",
            "@0 retry b #2 100ms PMX_ERR_UPSTREAM_SERVER", "@100 start b m #3", "@100 done b",
        ])
        #expect(h.driver.attempts.map(\.timeouts.idleMs) == [77, 5000, 5000])
    }

    @Test("no candidates: one error PMX_ERR_NO_PROVIDER")
    func noCandidates() throws {
        let h = try ExecutionHarness(providers: [], scripts: [:])
        h.start()
        #expect(h.trace == ["@0 error PMX_ERR_NO_PROVIDER"])
    }

    @Test("event JSON: start and retry carry the documented fields")
    func eventJSON() throws {
        let start = ExecutionEvent.start(provider: "a", model: "m", attempt: 2).json()
        #expect(start == ["type": "start", "provider": "a", "model": "m", "attempt": 2])
        let e = HTTPErrorMapping.error(status: 429, body: [], provider: "a")
        let retry = ExecutionEvent.retry(provider: "a", attempt: 1, delayMs: 250, error: e).json()
        #expect(retry["type"] == "retry" && retry["delay_ms"] == 250 && retry["attempt"] == 1)
        #expect(retry["status_name"] == "PMX_ERR_RATE_LIMITED" && retry["http_status"] == 429 && retry["message"] == "HTTP 429")
        let delta = ExecutionEvent.delta(content: "x", toolCalls: nil).json()
        #expect(delta == ["type": "delta", "content": "x"])
        #expect(ExecutionEvent.usage(Usage(promptTokens: 1, completionTokens: 2)).json()["usage"]?["total_tokens"] == 3)
    }
}

// MARK: - The real MockDriver on the fake clock

/// A RequestExecution over real mock providers.
final class MockHarness {
    let clock = FakeScheduler()
    let recorder: ExecutionRecorder
    let providers: [ProviderRuntime]
    let execution: RequestExecution

    init(providers: [String], operation: AttemptOperation, retry: RetrySettings = retrySettings()) throws {
        recorder = ExecutionRecorder(clock: clock)
        self.providers = try providers.map(providerRuntime)
        let driver = MockDriver(scheduler: clock)
        let rec = recorder
        execution = RequestExecution(operation: operation, candidates: self.providers.map { .init(provider: $0, model: nil) },
                                     scheduler: clock, driverFor: { _ in driver }, retry: retry, timeouts: TimeoutSettings(),
                                     random: { 0.5 }, sink: { rec.record($0) })
    }

    static func chat(_ text: String = "hi there", stream: Bool) throws -> AttemptOperation {
        .chat(try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"\#(text)"}]}"#)), stream: stream)
    }

    var trace: [String] { recorder.trace }
}

@Suite("MockDriver on the fake clock")
struct MockDriverTests {
    @Test("token_delay_ms: deltas appear only as the clock advances")
    func tokenDelay() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"one two three","token_delay_ms":100}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        #expect(h.trace == ["@0 start mk  #1"])
        h.clock.advance(ms: 0)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"one \""])
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 2)
        h.clock.advance(ms: 1)
        #expect(h.trace.last == "@100 delta \"two \"")
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 3)
        h.clock.advance(ms: 1)
        // The last token, then usage and done at once: no extra token delay at the end.
        #expect(Array(h.trace.suffix(3)) == ["@200 delta \"three\"", "@200 usage 2/3/5", "@200 done mk"])
        let r = try #require(h.recorder.done)
        h.recorder.expectOneTerminal()
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "one two three")
        #expect(r["model"] == "mock")
        #expect(r["ttft_ms"]?.doubleValue == 0)
        #expect((r["latency_ms"]?.doubleValue ?? 0) >= 200)
        let deltas = h.recorder.events.compactMap { e -> String? in if case .delta(let c, _) = e.event { return c }; return nil }
        #expect(deltas == ["one ", "two ", "three"])
        // usage comes right before done: 2 prompt words, 3 reply words.
        #expect(h.trace.suffix(2).first?.hasSuffix("usage 2/3/5") == true)
    }

    @Test("latency_ms delays the whole answer")
    func latency() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","latency_ms":500}"#], operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 499)
        #expect(h.recorder.terminals.isEmpty)
        h.clock.advance(ms: 1)
        #expect(h.trace == ["@0 start mk  #1", "@500 done mk"])
        #expect(h.recorder.done?["choices"]?.arrayValue?.first?["message"]?["content"] == "mock: hi there")
        #expect(h.recorder.done?["usage"]?["completion_tokens"] == 3)
    }

    @Test("script {status:429, times:2} then a normal answer: two retries, then done")
    func scripted429() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"status":429,"times":2,"message":"slow down"}]}"#],
                                operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 0)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_RATE_LIMITED"])
        h.clock.advance(ms: 99)
        #expect(h.trace.count == 2)
        h.clock.advance(ms: 301)
        #expect(h.trace == [
            "@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_RATE_LIMITED",
            "@100 start mk  #2", "@100 retry mk #2 200ms PMX_ERR_RATE_LIMITED",
            "@300 start mk  #3", "@300 done mk",
        ])
        let attempts = try #require(h.recorder.done?["attempts"]?.arrayValue)
        #expect(attempts.map { $0["http_status"]?.intValue } == [429, 429, 200])
        #expect(attempts[0]["message"] == "HTTP 429: slow down")
    }

    @Test("script retry_after_ms is honoured as the minimum delay")
    func scriptedRetryAfter() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"status":503,"retry_after_ms":700}]}"#],
                                operation: MockHarness.chat(stream: false))
        h.execution.start()
        h.clock.advance(ms: 699)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 700ms PMX_ERR_UPSTREAM_SERVER"])
        h.clock.advance(ms: 1)
        #expect(h.trace.suffix(2) == ["@700 start mk  #2", "@700 done mk"])
    }

    @Test("drop_after_deltas: the stream is interrupted after that many deltas, not retried")
    func dropAfterDeltas() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"a b c d","token_delay_ms":10,"script":[{"drop_after_deltas":2}]}"#,
                                            #"{"name":"other","type":"mock"}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"a \"", "@10 delta \"b \"", "@20 error PMX_ERR_STREAM_INTERRUPTED"])
        h.recorder.expectOneTerminal()
        #expect(h.recorder.error?.provider == "mk")
    }

    @Test("drop_after_deltas 0 fails before any output: retried, and the next attempt answers")
    func dropBeforeOutput() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"x y","script":[{"drop_after_deltas":0}]}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 100ms PMX_ERR_CONNECTION", "@100 start mk  #2",
                            "@100 delta \"x \"", "@100 delta \"y\"", "@100 usage 2/2/4", "@100 done mk"])
    }

    @Test("error timeout / connection scripts fail that attempt with that class, then fail over")
    func errorScripts() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","script":[{"error":"timeout"},{"error":"connection"}],"retry":{"max_attempts":2}}"#,
                                            #"{"name":"other","type":"mock","reply":"fine"}"#],
                                operation: MockHarness.chat(stream: false), retry: retrySettings(initial: 10, jitter: 0))
        h.execution.start()
        h.clock.advance(ms: 100)
        #expect(h.trace == ["@0 start mk  #1", "@0 retry mk #1 10ms PMX_ERR_TIMEOUT", "@10 start mk  #2",
                            "@10 fallback mk->other PMX_ERR_CONNECTION", "@10 start other  #3", "@10 done other"])
    }

    @Test("embeddings: deterministic vectors of embedding_dimensions")
    func embeddings() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"input":["alpha","beta"]}"#))
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","embedding_dimensions":4}"#], operation: .embed(req))
        h.execution.start()
        h.clock.advance(ms: 0)
        let r = try #require(h.recorder.done)
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data.map { $0["embedding"]?.arrayValue?.count } == [4, 4])
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(data[0]["embedding"]?.arrayValue == MockReply.embedding("alpha", dimensions: 4))
        #expect(r["provider"] == "mk")
    }

    @Test("cancel while a mock stream is between tokens stops it")
    func cancelMockStream() throws {
        let h = try MockHarness(providers: [#"{"name":"mk","type":"mock","reply":"a b c","token_delay_ms":50}"#],
                                operation: MockHarness.chat(stream: true))
        h.execution.start()
        h.clock.advance(ms: 60)
        h.execution.cancel()
        h.clock.advance(ms: 1000)
        #expect(h.trace == ["@0 start mk  #1", "@0 delta \"a \"", "@50 delta \"b \"", "@60 error PMX_ERR_CANCELLED"])
        #expect(h.clock.pendingTimers == 0)
    }
}
