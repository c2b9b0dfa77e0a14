// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import MuxProtocols
import MuxAccounting
import MuxProviders
import MuxShared
import Synchronization

/// A router: providers, routing policy, one event loop. Safe to share between threads; every
/// request runs on the loop thread as a `RequestExecution`.
public final class Router: @unchecked Sendable {
    public let loop: EventLoop
    package let retry: RetrySettings
    package let timeouts: TimeoutSettings
    package let maxResponseBytes: Int
    package let maxRequestBytes: Int
    /// `limits.max_total_attempts` and `limits.max_cooldown_ms`.
    package let maxTotalAttempts: Int
    package let maxCooldownMs: Int
    /// The router's `tls` section: the default of every provider, added later ones included.
    package let tlsDefaults: TLSSettings
    package let unsupportedParams: UnsupportedParameterPolicy
    package let pricing: PricingTable
    package let breakerSettings: BreakerSettings
    package let cacheSettings: CacheSettings
    public let metrics = MetricsRegistry()
    public let cache: ResponseCache
    /// The per-request observer (pmx_router_set_observer): RequestObserver.swift.
    public let observers = ObserverSlot()
    package let routerBudget: BudgetTracker?
    /// State shared on Redis (`shared`), nil when not configured: then nothing below asks it.
    package let shared: SharedState?
    /// Guards `providers`, `routing` and `laneBudgets`: what requests are planned from.
    package let providersLock = ConditionLock()
    package var providers: [ProviderRuntime]
    /// The names in `providers` (kept with it under `providersLock`), so that adding one of
    /// 10,000 providers is not a search of all of them.
    package private(set) var providerNames = Set<String>()
    package var routing: RoutingConfig
    package var laneBudgets: [String: BudgetTracker] = [:]
    /// Round-robin turns, the random generator and the circuit breakers.
    package let policy: Locked<PolicyState>
    private let closed = Atomic<Bool>(false)
    // Loop thread only.
    private var live: [ObjectIdentifier: RequestExecution] = [:]
    package let counters = RouterCountersBox()
    package var healthMonitor: HealthMonitor?
    package var discovery: DiscoveryService?

    package struct PolicyState {
        package var turns: [String: Int] = [:]
        package var rng: SplitMix64
        package var breakers: [SeriesKey: CircuitBreaker] = [:]
        /// Caps on the maps keyed by request-supplied model names (same cap as metric series).
        package var turnCap = KeyCap(cap: MetricsRegistry.defaultMaxSeries)
        package var breakerCap = KeyCap(cap: MetricsRegistry.defaultMaxSeries)
        package var ordinaryBreakers = 0
        /// The round-robin key shared by route keys beyond `turnCap` (a route key equal to it only shares its turn).
        package static let overflowTurnKey = "\u{0}overflow"
    }

    package struct RouterCounters {
        package var requests = 0, successes = 0, failures = 0
        /// Requests per operation of pmx_router_call (chat and embeddings are the rest).
        package var operations: [OperationName: Int] = [:]
        package mutating func count(_ op: OperationName) { operations[op] = operations[op, default: 0].addingSaturated(1) }
    }
    package final class RouterCountersBox: Sendable {
        package let state = Locked(RouterCounters())
        package func withLock<T>(_ body: (inout RouterCounters) -> T) -> T { state.withLock { body(&$0) } }
    }

    public init(config: RouterConfig) throws {
        loop = try EventLoop()
        retry = config.retry
        timeouts = config.timeouts
        maxResponseBytes = config.maxResponseBytes
        maxRequestBytes = config.maxRequestBytes
        maxTotalAttempts = config.maxTotalAttempts
        maxCooldownMs = config.maxCooldownMs
        tlsDefaults = config.tls
        unsupportedParams = config.unsupportedParams
        pricing = config.pricing
        breakerSettings = config.breaker
        cacheSettings = config.cache
        // The store always works: `cache.enabled` is only the default for requests, and a
        // request may opt in with `route.cache: true` when the router's default is off.
        var store = config.cache
        store.enabled = true
        cache = ResponseCache(settings: store)
        routerBudget = config.budget.map(BudgetTracker.init)
        shared = try config.shared.map(SharedState.init)
        providers = []
        routing = config.routing
        policy = Locked(PolicyState(rng: SplitMix64(seed: config.routing.seed ?? MonotonicClock.nanos())))
        // Last: every stored property is set, so the router can make each provider's driver.
        providers = config.providers.map { [tls = config.tls] in makeRuntime(Self.resolvedTLS($0, defaults: tls)) }
        providerNames = Set(providers.map(\.name))
        laneBudgets = Self.budgets(for: config.routing, keeping: [:])
        Log.debug("router created with \(providers.count) providers: \(providers.map(\.name).joined(separator: ", "))")
        startBackgroundServices(config)
    }

    deinit { close() }

    public var providerSnapshot: [ProviderRuntime] { providersLock.withLock { providers } }

    /// The provider with the router's TLS defaults under its own keys; warns (once, here, when
    /// the provider is created) when verification is off.
    package static func resolvedTLS(_ config: ProviderConfig, defaults: TLSSettings) -> ProviderConfig {
        let c = overlaidTLS(config, defaults: defaults)
        warnIfUnverified(c)
        return c
    }

    package static func overlaidTLS(_ config: ProviderConfig, defaults: TLSSettings) -> ProviderConfig {
        var c = config
        c.tls = config.tls.overlaid(on: defaults)
        return c
    }

    package static func warnIfUnverified(_ c: ProviderConfig) {
        if !c.tls.verifies && c.type.usesNetwork {
            Log.warn("TLS verification disabled for provider \(c.name) (tls.verify: false): its certificate and host name are not checked")
        }
    }

    public func addProvider(_ config: ProviderConfig) throws {
        let config = Self.resolvedTLS(config, defaults: tlsDefaults)
        let runtime = makeRuntime(config)
        try providersLock.withLock {
            guard !providerNames.contains(config.name) else {
                throw PMXError(.duplicateProvider, "a provider named \"\(config.name)\" already exists")
            }
            providers.append(runtime)
            providerNames.insert(config.name)
        }
        Log.info("provider \(config.name) added")
        if Self.fetchesPricesAtStart(config) { fetchListedPrices(runtime) }
    }

    /// Requests already running on the provider finish there; new ones no longer see it (lanes
    /// that list it skip it).
    public func removeProvider(named name: String) throws {
        try providersLock.withLock {
            guard let i = providers.firstIndex(where: { $0.name == name }) else {
                throw PMXError(.providerNotFound, "no provider named \"\(name)\"")
            }
            providers.remove(at: i)
            providerNames.remove(name)
        }
        Log.info("provider \(name) removed")
    }

    /// Replaces discovered providers by `found`, leaving configured ones alone. A server still
    /// found under the same name and URL keeps its place, but takes the re-listed model set
    /// (a new runtime with the new `models`): a model pulled into it becomes routable, a removed
    /// one stops being routed. Requests already running keep the runtime they started with.
    /// Logs only after the lock is released: the host's log callback may call back into the
    /// router (add/remove_provider, stats, update_routing take this lock).
    package func replaceDiscovered(_ found: [ProviderConfig]) {
        let (added, removed, relisted) = providersLock.withLock { () -> ([ProviderConfig], [String], [ProviderConfig]) in
            var relisted: [ProviderConfig] = []
            let keep = providers.compactMap { p -> ProviderRuntime? in
                guard p.config.discovered else { return p }
                guard let c = found.first(where: { $0.name == p.name && $0.baseURL == p.config.baseURL }) else { return nil }
                guard c.models != p.config.models else { return p }
                var updated = p.config
                updated.models = c.models
                relisted.append(updated)
                return makeRuntime(updated)
            }
            var next = keep
            var added: [ProviderConfig] = []
            for c in found where !next.contains(where: { $0.name == c.name || $0.config.baseURL == c.baseURL }) {
                let resolved = Self.overlaidTLS(c, defaults: tlsDefaults)
                next.append(makeRuntime(resolved))
                added.append(resolved)
            }
            let removed = providers.filter { p in !next.contains { $0.name == p.name } }.map(\.name)
            providers = next
            providerNames = Set(next.map(\.name))
            return (added, removed, relisted)
        }
        for c in relisted { Log.info("discovered provider \(c.name) re-listed: \(c.models?.count ?? 0) models") }
        for c in added {
            Self.warnIfUnverified(c)
            Log.info("discovered \(c.type.rawValue) at \(c.baseURL) as provider \(c.name) (\(c.models?.count ?? 0) models)")
        }
        for name in removed { Log.info("discovered provider \(name) no longer answers; removed") }
    }

    /// Replaces the `routing` section (strategies, lanes, groups, fallbacks, order) while
    /// requests are in flight: each keeps the plan it started with. Lane budgets with unchanged
    /// settings keep their spend.
    public func updateRouting(_ document: JSONValue) throws {
        var r = try FieldReader(document, path: "routing")
        try providersLock.withLock {
            let configs = providers.map(\.config)
            let order = try r.stringArray("order")
            let parsed = try RoutingConfig.parse(&r, providerConfigs: configs)
            try r.finish()
            if let order { providers = try RouterConfig.applyOrder(order, to: providers, name: \.name) }
            laneBudgets = Self.budgets(for: parsed, keeping: laneBudgets)
            routing = parsed
        }
        Log.info("routing updated")
    }

    package static func budgets(for routing: RoutingConfig, keeping old: [String: BudgetTracker]) -> [String: BudgetTracker] {
        var out: [String: BudgetTracker] = [:]
        for lane in routing.lanes {
            guard let b = lane.budget else { continue }
            if let existing = old[lane.name], existing.settings == b { out[lane.name] = existing } else { out[lane.name] = BudgetTracker(settings: b) }
        }
        return out
    }

    /// A provider as this router runs it, with its driver made once here: every way a provider
    /// enters the router (config, `addProvider`, discovery) goes through this.
    package func makeRuntime(_ config: ProviderConfig) -> ProviderRuntime {
        let codec = ProviderCatalogue.codec(for: config.type)
        return ProviderRuntime(config, codec: codec, driver: makeDriver(codec))
    }

    /// The driver of `p`: its own, or (a runtime built outside a router) one made now.
    package func driver(for p: ProviderRuntime) -> AttemptDriver { p.driver ?? makeDriver(p.codec) }

    private func makeDriver(_ codec: (any WireCodec)?) -> AttemptDriver {
        if let codec {
            let http = CodecHTTPDriver(loop: loop, codec: codec, maxResponseBytes: maxResponseBytes, maxRequestBytes: maxRequestBytes,
                                       unsupportedParams: unsupportedParams)
            // A chat call that starts a job (Replicate's predictions) is followed up by polls or a stream.
            if let prediction = codec as? any PredictionCodec { return PredictionDriver(http: http, codec: prediction) }
            return http
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
        /// Set at once by `cancel`, from any thread: a cached answer's replay reads it before
        /// each event (a live request learns it from the loop task below).
        private let cancelRequested = Atomic<Bool>(false)
        fileprivate init(loop: EventLoop) { self.loop = loop }
        public func cancel() {
            cancelRequested.store(true, ordering: .releasing)
            loop.execute { [weak self] in self?.execution?.cancel() }
        }
        /// Lets an attempt paused for back-pressure go on. Any thread.
        public func resume() {
            loop.execute { [weak self] in self?.execution?.resume() }
        }
        package var isCancelled: Bool { cancelRequested.load(ordering: .acquiring) }
    }

    public func makeHandle() -> Handle { Handle(loop: loop) }

    /// Validates and starts a request; events go to `sink` on the loop thread. Input errors
    /// (and routing refusals: unknown lane, no capable provider, spent budget) are thrown here
    /// and the sink is never called.
    @discardableResult
    public func start(_ operation: AttemptOperation, handle: Handle? = nil, flow: EventQueue? = nil,
                      sink: @escaping (ExecutionEvent) -> Void) throws -> Handle {
        guard !closed.load(ordering: .acquiring) else { throw PMXError(.routerClosed, "the router is closed") }
        let model: String?, route: RouteOptions, streaming: Bool, metadata: JSONValue?
        var tags: [String] = []
        switch operation {
        case .chat(let r, let stream):
            model = r.model; route = r.route; streaming = stream; metadata = r.body["metadata"]
            tags = route.tags + Self.metadataTags(metadata)
        case .embed(let r): model = r.model; route = r.route; streaming = false; metadata = r.body["metadata"]
        case .call(let r, let stream):
            model = r.model; route = r.route; streaming = stream; metadata = r.body["metadata"]
            tags = route.tags + Self.metadataTags(metadata)
        }
        let requestID = RequestID.forRequest(metadata: metadata)
        // Only while an observer is set: otherwise a request pays one atomic load for it.
        let recorder = observers.isActive
            ? RequestRecorder(requestID: requestID, operation: Self.operationName(operation), stream: streaming,
                              metadata: metadata, requestedModel: model)
            : nil
        let handle = handle ?? makeHandle()
        let needs = RequestNeeds(operation)

        var cacheKey: String?
        if route.cache ?? cacheSettings.enabled, let key = ResponseCache.key(for: operation) {
            if let hit = sharedCacheGet(key) ?? cache.get(key, nowNs: MonotonicClock.nanos()) {
                replayCached(hit, handle: handle, requestID: requestID, recorder: recorder, sink: sink)
                return handle
            }
            cacheKey = key
        }

        let planner = makePlanner()
        let plan = try planner.plan(model: model, route: route, tags: tags, needs: needs, streaming: streaming)
        if case .call(let r, _) = operation {
            counters.withLock { $0.requests += 1; $0.count(r.operation) }
        } else {
            counters.withLock { $0.requests += 1 }
        }
        recorder?.lane = plan.lane
        let context = makeContext(plan: plan, planner: planner, needs: needs, streaming: streaming)
        let cacheRef = cache
        let execution = RequestExecution(
            operation: operation, candidates: plan.candidates, scheduler: loop,
            driverFor: { [unowned self] p in self.driver(for: p) }, retry: retry, timeouts: timeouts,
            maxAttemptsOverride: route.maxAttempts, timeoutOverrideMs: route.timeoutMs,
            maxTotalAttempts: route.maxTotalAttempts ?? maxTotalAttempts,
            maxTotalAttemptsField: route.maxTotalAttempts != nil ? "route.max_total_attempts" : "limits.max_total_attempts",
            context: context, label: plan.label,
            sink: { [counters, shared, cacheSettings, observers, typeOf = recorder == nil ? nil : providerTypeLookup()] event in
                // The record goes out before the terminal event: a blocking call returns after it.
                if let recorder, let typeOf, event.isTerminal { observers.deliver { recorder.record(event, typeOf: typeOf) } }
                if case .done(let response) = event {
                    counters.withLock { $0.successes += 1 }
                    if let cacheKey {
                        let stored = Self.cacheable(response)
                        if !Self.sharedCachePut(shared, cacheSettings, cacheKey, stored) {
                            cacheRef.put(cacheKey, response: stored, nowNs: MonotonicClock.nanos())
                        }
                    }
                }
                if case .error = event { counters.withLock { $0.failures += 1 } }
                sink(event)
            })
        if let flow { execution.shouldPause = { flow.shouldPause() } }
        execution.retryOverride = route.retry
        execution.timeoutsOverride = route.timeouts
        execution.requestID = requestID
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

    /// The type of the provider named `name` ("openai", ...), nil when the router has none of
    /// that name (any more). For observer records only: a search of the providers.
    package func providerType(_ name: String) -> String? {
        providersLock.withLock { providers.first { $0.name == name }?.config.type.rawValue }
    }

    /// `providerType` without keeping the router alive (a request's sink must not: the router
    /// holds its live requests). Made only for an observed request.
    private func providerTypeLookup() -> (String) -> String? {
        { [weak self] name in self?.providerType(name) }
    }

    /// The openai SDK's resource path of `operation` (the observer record's `operation`).
    package static func operationName(_ operation: AttemptOperation) -> String {
        switch operation {
        case .chat: "chat.completions.create"
        case .embed: "embeddings.create"
        case .call(let r, _): r.operation.rawValue
        }
    }

    /// `metadata.tags`: an array of strings, or one comma-separated string (OpenAI metadata values are strings).
    package static func metadataTags(_ metadata: JSONValue?) -> [String] {
        switch metadata?["tags"] {
        case .string(let s): return s.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        case .array(let a): return a.compactMap(\.stringValue)
        default: return []
        }
    }

    /// A cache hit: the stored answer, replayed on the loop thread like a real one — also in
    /// how it ends: a cancel (`handle.cancel()`: pmx_stream_cancel / pmx_stream_free, or a
    /// non-zero callback return, also from inside the callback) is looked at before every
    /// event, and stops the replay with the cancellation as its one terminal event.
    private func replayCached(_ stored: JSONObject, handle: Handle, requestID: String, recorder: RequestRecorder?,
                              sink: @escaping (ExecutionEvent) -> Void) {
        counters.withLock { $0.requests += 1 }
        var response = stored
        response["cached"] = true
        response["attempts"] = []
        response["latency_ms"] = 0
        response["request_id"] = .string(requestID)
        Log.debug("[req \(requestID)] cache hit: \(response["provider"]?.stringValue ?? "?")")
        loop.execute { [counters, observers, typeOf = recorder == nil ? nil : providerTypeLookup()] in
            for e in CacheReplay.events(for: response) + [.done(response)] {
                if handle.isCancelled {
                    counters.withLock { $0.failures += 1 }
                    var cancelled = PMXError(.cancelled, "request cancelled")
                    cancelled.requestID = requestID
                    if let recorder, let typeOf { observers.deliver { recorder.record(.error(cancelled), cacheHit: true, typeOf: typeOf) } }
                    sink(.error(cancelled))
                    return
                }
                if case .done = e {
                    counters.withLock { $0.successes += 1 }
                    if let recorder, let typeOf { observers.deliver { recorder.record(e, cacheHit: true, typeOf: typeOf) } }
                }
                sink(e)
            }
        }
    }

    /// What is stored: the answer without this request's attempts and timings.
    package static func cacheable(_ response: JSONObject) -> JSONObject {
        var r = response
        r["attempts"] = nil
        r["latency_ms"] = nil
        r["ttft_ms"] = nil
        r["request_id"] = nil
        return r
    }

    /// Blocking: runs a request and returns its response (or throws its terminal error).
    /// On a library I/O thread it throws `wouldDeadlock` at once (Router+BlockingCalls.swift),
    /// as do `embed`, `stream`, `models`, `health` and `manageModel`.
    public func complete(_ request: ChatRequest) throws -> JSONObject {
        try refuseOnIOThread("pmx_router_complete")
        return try runToCompletion(.chat(request, stream: false))
    }

    public func embed(_ request: EmbedRequest) throws -> JSONObject {
        try refuseOnIOThread("pmx_router_embed")
        return try runToCompletion(.embed(request))
    }

    package func runToCompletion(_ op: AttemptOperation) throws -> JSONObject {
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

    /// Blocking stream: events are handed to `onEvent` on the CALLING thread; a non-zero
    /// return stops the stream (the stop rule: StreamSession.swift). Returns the response, or
    /// throws the terminal error.
    /// Back-pressure: the queue between the loop and the caller holds at most
    /// `EventQueue.Limits.highWaterBytes` (+ the events of one network read); past it the
    /// attempt is paused (libcurl's write pause, or the mock's token timer) until the caller
    /// has drained it below the low-water mark. `queue` is for tests (smaller limits, the
    /// high-water counter).
    public func stream(_ request: ChatRequest, queue: EventQueue = EventQueue(),
                       onEvent: (ExecutionEvent) -> Int32) throws -> JSONObject {
        try StreamSession.run(self, request, queue: queue, consumer: onEvent)
    }

    // MARK: Shutdown

    /// Cancels every live request (each gets its terminal event) and stops the loop.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.execute { [self] in
            healthMonitor?.stop()
            discovery?.stop()
            for e in Array(live.values) { e.cancel(.cancelled, "the router was freed") }
            live.removeAll()
        }
        loop.shutdown()
    }

}

/// A one-shot result handed from the loop thread to a waiting caller.
package final class BlockingResult: @unchecked Sendable {
    private let lock = ConditionLock()
    private var result: Result<JSONObject, PMXError>?

    package func set(_ r: Result<JSONObject, PMXError>) {
        lock.withLock { result = r }
        // After unlocking: a waiter woken while the lock is still held would block on it again.
        lock.signal()
    }

    package func wait() -> Result<JSONObject, PMXError> {
        lock.lock()
        defer { lock.unlock() }
        while result == nil { lock.wait() }
        return result!
    }
}
