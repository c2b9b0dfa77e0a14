import Synchronization

/// A router: providers, routing policy, one event loop. Safe to share between threads; every
/// request runs on the loop thread as a `RequestExecution`.
public final class Router: @unchecked Sendable {
    public let loop: EventLoop
    let retry: RetrySettings
    let timeouts: TimeoutSettings
    let maxResponseBytes: Int
    let unsupportedParams: UnsupportedParameterPolicy
    private let providersLock = ConditionLock()
    private var providers: [ProviderRuntime]
    private let closed = Atomic<Bool>(false)
    // Loop thread only.
    private var live: [ObjectIdentifier: RequestExecution] = [:]
    private let counters = RouterCountersBox()

    struct RouterCounters { var requests = 0, successes = 0, failures = 0 }
    final class RouterCountersBox: Sendable {
        let state = Mutex(RouterCounters())
        func withLock<T>(_ body: (inout RouterCounters) -> T) -> T { state.withLock { body(&$0) } }
    }

    public init(config: RouterConfig) throws {
        loop = try EventLoop()
        retry = config.retry
        timeouts = config.timeouts
        maxResponseBytes = config.maxResponseBytes
        unsupportedParams = config.unsupportedParams
        providers = config.providers.map(ProviderRuntime.init)
        Log.debug("router created with \(providers.count) providers: \(providers.map(\.name).joined(separator: ", "))")
    }

    deinit { close() }

    public var providerSnapshot: [ProviderRuntime] { providersLock.withLock { providers } }

    public func addProvider(_ config: ProviderConfig) throws {
        try providersLock.withLock {
            guard !providers.contains(where: { $0.name == config.name }) else {
                throw PMXError(.duplicateProvider, "a provider named \"\(config.name)\" already exists")
            }
            providers.append(ProviderRuntime(config))
        }
    }

    public func removeProvider(named name: String) throws {
        try providersLock.withLock {
            guard let i = providers.firstIndex(where: { $0.name == name }) else {
                throw PMXError(.providerNotFound, "no provider named \"\(name)\"")
            }
            providers.remove(at: i)
        }
    }

    func driver(for p: ProviderRuntime) -> AttemptDriver {
        if let codec = ProviderCatalogue.entry(for: p.config.type).codec {
            return CodecHTTPDriver(loop: loop, codec: codec, maxResponseBytes: maxResponseBytes, unsupportedParams: unsupportedParams)
        }
        return MockDriver(scheduler: loop)
    }

    // MARK: Requests

    /// A started request; `cancel` is safe from any thread and idempotent.
    /// Created before the request starts, so that a callback running on the loop thread
    /// before `start` returns can already cancel through it.
    public final class Handle: @unchecked Sendable {
        // Set once by `start` before the request is handed to the loop; read on the loop thread.
        fileprivate weak var execution: RequestExecution?
        fileprivate let loop: EventLoop
        fileprivate init(loop: EventLoop) { self.loop = loop }
        public func cancel() {
            loop.execute { [weak self] in self?.execution?.cancel() }
        }
    }

    public func makeHandle() -> Handle { Handle(loop: loop) }

    /// Validates and starts a request; events go to `sink` on the loop thread. Input errors
    /// are thrown here and the sink is never called.
    @discardableResult
    public func start(_ operation: AttemptOperation, handle: Handle? = nil,
                      sink: @escaping (ExecutionEvent) -> Void) throws -> Handle {
        guard !closed.load(ordering: .acquiring) else { throw PMXError(.routerClosed, "the router is closed") }
        let model: String?, route: RouteOptions
        switch operation {
        case .chat(let r, _): model = r.model; route = r.route
        case .embed(let r): model = r.model; route = r.route
        }
        let candidates = try CandidateResolver.resolve(model: model, route: route, providers: providerSnapshot)
        counters.withLock { $0.requests += 1 }
        let execution = RequestExecution(
            operation: operation, candidates: candidates, scheduler: loop,
            driverFor: { [unowned self] p in self.driver(for: p) }, retry: retry, timeouts: timeouts,
            maxAttemptsOverride: route.maxAttempts, timeoutOverrideMs: route.timeoutMs,
            sink: { [counters] event in
                if case .done = event { counters.withLock { $0.successes += 1 } }
                if case .error = event { counters.withLock { $0.failures += 1 } }
                sink(event)
            })
        let handle = handle ?? makeHandle()
        handle.execution = execution
        loop.execute { [self] in
            if closed.load(ordering: .acquiring) {
                execution.cancel(.cancelled, "the router was freed")
                return
            }
            let id = ObjectIdentifier(execution)
            live[id] = execution
            execution.onFinished = { [unowned self] in live[id] = nil }
            execution.start()
        }
        return handle
    }

    /// Blocking: runs a request and returns its response (or throws its terminal error).
    public func complete(_ request: ChatRequest) throws -> JSONObject {
        var r = request
        r.stream = false
        return try runToCompletion(.chat(r, stream: false))
    }

    public func embed(_ request: EmbedRequest) throws -> JSONObject {
        try runToCompletion(.embed(request))
    }

    private func runToCompletion(_ op: AttemptOperation) throws -> JSONObject {
        let box = BlockingResult()
        _ = try start(op) { event in
            switch event {
            case .done(let r): box.set(.success(r))
            case .error(let e): box.set(.failure(e))
            default: break
            }
        }
        return try box.wait().get()
    }

    /// Blocking stream: events are handed to `onEvent` on the CALLING thread. A non-zero
    /// return cancels. Returns the response, or throws the terminal error.
    public func stream(_ request: ChatRequest, onEvent: (ExecutionEvent) -> Int32) throws -> JSONObject {
        var r = request
        r.stream = true
        let queue = EventQueue()
        let handle = try start(.chat(r, stream: true)) { event in queue.push(event) }
        var cancelled = false
        while true {
            let batch = queue.popAll()
            for event in batch {
                if !event.isTerminal {
                    if cancelled { continue }  // the caller asked to stop: no more deltas
                    if onEvent(event) != 0 { cancelled = true; handle.cancel() }
                    continue
                }
                _ = onEvent(event)
                switch event {
                case .done(let response): return response
                case .error(let e): throw e
                default: break
                }
            }
        }
    }

    // MARK: Shutdown

    /// Cancels every live request (each gets its terminal event) and stops the loop.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.execute { [self] in
            for e in Array(live.values) { e.cancel(.cancelled, "the router was freed") }
            live.removeAll()
        }
        loop.shutdown()
    }

    // MARK: Stats

    public func stats() -> JSONValue {
        let c = counters.withLock { $0 }
        var o = JSONObject()
        o["requests"] = .int(Int64(c.requests))
        o["successes"] = .int(Int64(c.successes))
        o["failures"] = .int(Int64(c.failures))
        var retries = 0, fallbacks = 0
        var list: [JSONValue] = []
        for p in providerSnapshot {
            let s = p.stats.snapshot
            retries += s.retries
            fallbacks += s.fallbacks
            var po = JSONObject()
            po["name"] = .string(p.name)
            po["type"] = .string(p.config.type.rawValue)
            po["requests"] = .int(Int64(s.requests))
            po["successes"] = .int(Int64(s.successes))
            po["failures"] = .int(Int64(s.failures))
            po["retries"] = .int(Int64(s.retries))
            po["fallbacks"] = .int(Int64(s.fallbacks))
            po["prompt_tokens"] = .int(Int64(s.promptTokens))
            po["completion_tokens"] = .int(Int64(s.completionTokens))
            po["latency_ms_avg"] = .double(s.successes > 0 ? (s.latencyMsTotal / Double(s.successes) * 1000).rounded() / 1000 : 0)
            var byStatus = JSONObject()
            for (k, v) in s.failuresByStatus.sorted(by: { $0.key < $1.key }) { byStatus[k] = .int(Int64(v)) }
            po["failures_by_status"] = .object(byStatus)
            list.append(.object(po))
        }
        o["retries"] = .int(Int64(retries))
        o["fallbacks"] = .int(Int64(fallbacks))
        o["providers"] = .array(list)
        return .object(o)
    }
}

/// A one-shot result handed from the loop thread to a waiting caller.
final class BlockingResult: @unchecked Sendable {
    private let lock = ConditionLock()
    private var result: Result<JSONObject, PMXError>?

    func set(_ r: Result<JSONObject, PMXError>) {
        lock.withLock { result = r; lock.signal() }
    }

    func wait() -> Result<JSONObject, PMXError> {
        lock.lock()
        defer { lock.unlock() }
        while result == nil { lock.wait() }
        return result!
    }
}

/// Events handed from the loop thread to a caller's thread, in order.
final class EventQueue: @unchecked Sendable {
    private let lock = ConditionLock()
    private var events: [ExecutionEvent] = []

    func push(_ e: ExecutionEvent) {
        lock.withLock { events.append(e); lock.signal() }
    }

    /// Waits for at least one event, then takes all queued.
    func popAll() -> [ExecutionEvent] {
        lock.lock()
        defer { lock.unlock() }
        while events.isEmpty { lock.wait() }
        let out = events
        events.removeAll(keepingCapacity: true)
        return out
    }
}
