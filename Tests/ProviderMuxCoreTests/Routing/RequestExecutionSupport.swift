// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
@testable import MuxProviders
@testable import MuxRouting
import Testing

// The fake clock, scripted driver and harness that RequestExecutionTests, MockProviderTests and
// HealthMonitorTests drive: time only moves when a test calls `advance(ms:)`, so every retry
// delay, failover and terminal event is asserted exactly, with no sleeps.

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
        case .reasoning(let r): "reasoning \"\(r)\""
        case .choiceDelta(let i, let c, _, _): "delta #\(i) \(c.map { "\"\($0)\"" } ?? "-")"
        case .retry(let p, let n, let d, let err): "retry \(p) #\(n) \(d)ms \(err.status.nameString)"
        case .fallback(let f, let t, let err): "fallback \(f)->\(t) \(err.status.nameString)"
        case .usage(let u): "usage \(u.promptTokens)/\(u.completionTokens)/\(u.totalTokens)"
        case .operation(let o): "\(o["type"]?.stringValue ?? "operation")"
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
