// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxAccounting
import MuxShared
import MuxProviders

/// The shared-state seams: admission, an attempt's outcome, the budget check and the cache ask
/// Redis first when `shared` is configured. Each returns nil / false when there is nothing
/// shared or the link is degraded, and the caller goes on with the local state as before.
extension Router {
    private func series(_ c: RequestExecution.Candidate) -> SharedState.AttemptSeries {
        let limits = c.provider.limiter.settings
        return SharedState.AttemptSeries(provider: c.provider.name, model: c.seriesKey.model, rpm: limits.rpm, tpm: limits.tpm,
                                         breaker: breakerSettings.applying(c.provider.config.breakerOverride))
    }

    private func budgetRefs(lane: String?) -> (router: SharedState.BudgetRef?, lane: SharedState.BudgetRef?, laneTracker: BudgetTracker?) {
        let laneTracker = lane.flatMap { name in providersLock.withLock { laneBudgets[name] } }
        return (routerBudget.map { SharedState.BudgetRef(lane: nil, windowMs: $0.settings.windowMs) },
                laneTracker.map { SharedState.BudgetRef(lane: lane, windowMs: $0.settings.windowMs) }, laneTracker)
    }

    /// Admission on Redis. nil = decide locally; .some(nil) = admitted; .some(error) = refused.
    package func sharedAdmit(_ c: RequestExecution.Candidate, estimatedTokens: Int, lane: String?) -> PMXError?? {
        guard let shared else { return nil }
        let s = series(c)
        let refs = budgetRefs(lane: lane)
        guard let a = shared.admit(s, estimatedTokens: estimatedTokens, router: refs.router, lane: refs.lane) else { return nil }
        let label = "\(c.provider.name)/\(c.seriesKey.model)"
        switch a.verdict {
        case .circuitOpen(let ms):
            var e = PMXError(.circuitOpen, "circuit open for \(label) after repeated failures (shared); half-opens in \(ms) ms",
                             provider: c.provider.name)
            e.circuitHalfOpensInMs = ms
            return .some(e)
        case .probeInFlight:
            var e = PMXError(.circuitOpen, "circuit half-open for \(label) (shared), its one probe still in flight", provider: c.provider.name)
            e.circuitHalfOpensInMs = 0
            return .some(e)
        case .rateLimited(let ms):
            return .some(PMXError(.rateLimited, "at its configured rate limit or in a server-requested cooldown (shared); next slot in \(ms) ms",
                                  provider: c.provider.name))
        case .admitted:
            var actions: [BudgetSettings.OnExceeded] = []
            if let b = routerBudget, a.routerSpent >= b.settings.usd { actions.append(b.settings.onExceeded) }
            if let b = refs.laneTracker, a.laneSpent >= b.settings.usd { actions.append(b.settings.onExceeded) }
            let zeroCost = c.provider.config.isLocal || pricing.isZeroCost(provider: c.provider.name, type: c.provider.config.type)
            guard actions.contains(.fail) || (!actions.isEmpty && !zeroCost) else { return .some(nil) }
            // Spent elsewhere since this request was planned: hand back the probe and the tokens.
            shared.settle(s, outcome: .release, estimatedTokens: estimatedTokens, actualTokens: 0, cooldownMs: 0,
                          router: nil, routerCharge: 0, lane: nil, laneCharge: 0)
            return .some(PMXError(.budgetExceeded, "the shared budget is spent (\(actions.contains(.fail) ? "on_exceeded: fail" : "only zero-cost providers until it frees up"))",
                                  provider: c.provider.name))
        }
    }

    /// An attempt's outcome on Redis (write-behind). False = apply it to the local state.
    package func sharedAttemptEnded(_ c: RequestExecution.Candidate, _ outcome: AttemptOutcome, estimatedTokens: Int, lane: String?) -> Bool {
        guard let shared else { return false }
        var result = SharedState.Outcome.none
        var spent: Usage?
        var cooldownMs = 0
        switch outcome {
        case .success(let usage):
            result = .success
            spent = usage
        case .failure(let e, let retryAfterMs, let partial):
            result = CircuitBreaker.counts(e.status) ? .countedFailure : .release
            if e.status == .rateLimited, let ms = retryAfterMs, ms > 0 { cooldownMs = min(ms, maxCooldownMs) }
            spent = partial
        case .abandoned:
            result = .release
        }
        let u = spent?.nonNegative
        let refs = budgetRefs(lane: lane)
        return shared.settle(series(c), outcome: result, estimatedTokens: estimatedTokens, actualTokens: u?.totalTokens,
                             cooldownMs: cooldownMs,
                             router: refs.router, routerCharge: u.flatMap { routerBudget?.settings.charge(for: $0) } ?? 0,
                             lane: refs.lane, laneCharge: u.flatMap { refs.laneTracker?.settings.charge(for: $0) } ?? 0)
    }

    /// Is a budget spent as far as the shared state last said? (false without shared state)
    package func sharedBudgetExhausted(lane: String?, usd: Double) -> Bool {
        shared?.exhausted(lane: lane, usd: usd) ?? false
    }

    /// The shared cache's answer: nil = ask the local cache (no shared state, or degraded);
    /// .some(nil) = a shared miss.
    package func sharedCacheGet(_ key: String) -> JSONObject?? {
        guard let shared, let answer = shared.cacheGet(Self.sharedCacheKey(key)) else { return nil }
        guard let text = answer else {
            shared.countCache(hit: false)
            return .some(nil)
        }
        // A value that does not parse (another writer under the same prefix) is a miss.
        guard let stored = (try? JSONParser.parse(text))?.objectValue else {
            shared.countCache(hit: false)
            return .some(nil)
        }
        shared.countCache(hit: true)
        return .some(stored)
    }

    /// Stores an answer in the shared cache. False = store it locally. Static: the request's
    /// sink calls it, and may run while the router is being freed.
    package static func sharedCachePut(_ shared: SharedState?, _ settings: CacheSettings, _ key: String, _ response: JSONObject) -> Bool {
        guard let shared else { return false }
        // Masked like every document the library hands out: an answer that quotes a
        // configured API key must not carry it to Redis.
        let text = Secrets.mask(JSONWriter.string(.object(response)), surface: .json)
        guard key.utf8.count + text.utf8.count <= settings.maxBytes else { return true }  // too big for any cache
        return shared.cachePut(sharedCacheKey(key), json: text, ttlMs: settings.ttlMs, maxEntries: settings.maxEntries)
    }

    /// The request key as sent to Redis (hashed there): masked, so that a request quoting an
    /// API key does not carry it over the wire (MONITOR, SLOWLOG would show it).
    private static func sharedCacheKey(_ key: String) -> String { Secrets.mask(key, surface: .json) }

    /// The circuits and rate limit of one provider as health shows them.
    package struct PolicyJSON {
        package var circuits: JSONValue
        package var rateLimit: JSONValue
    }

    /// Health's view of the shared circuits and rate limits (read-only round-trips when health
    /// is asked, one per `maxKeysPerView` keys; never on the request path), by provider name.
    /// The circuits are the series this router has asked shared admission for or holds a local
    /// breaker of (the first `SharedState.maxSeriesShown`; a series folded into `__other__`
    /// locally has no shared breaker of that name and is left out). nil without shared state;
    /// a provider missing from it (Redis did not answer) shows its local state, which is what
    /// admission uses then.
    package func sharedPolicyView(_ providers: [ProviderRuntime], circuits: [String: [(SeriesKey, CircuitBreaker)]]) -> [String: PolicyJSON]? {
        guard let shared else { return nil }
        var out: [String: PolicyJSON] = [:]
        var batch: [(provider: ProviderRuntime, models: [String])] = []
        var keys = 0
        // One view call per batch of providers; the first that gets no answer ends the view
        // (those not read yet show their local state).
        func read() -> Bool {
            defer { batch.removeAll(keepingCapacity: true); keys = 0 }
            var request = SharedState.ViewRequest()
            for (p, models) in batch {
                let limits = p.limiter.settings
                request.limits.append((p.name, limits.rpm, limits.tpm))
                let breaker = breakerSettings.applying(p.config.breakerOverride)
                for m in models { request.circuits.append((p.name, m, breaker)) }
            }
            guard let view = shared.view(request) else { return false }
            var next = 0
            for (i, (p, models)) in batch.enumerated() {
                var circuits = JSONObject()
                for m in models {
                    circuits.appendUnchecked(m, Self.json(view.circuits[next]))  // models are distinct
                    next += 1
                }
                out[p.name] = PolicyJSON(circuits: .object(circuits), rateLimit: Self.json(view.limits[i], p.limiter.settings))
            }
            return true
        }
        for p in providers {
            let local = (circuits[p.name] ?? []).map(\.0.model).filter { $0 != SeriesKey.overflowModel }
            let models = shared.modelsSeen(provider: p.name).union(local).sorted()
            if keys > 0 && keys + 1 + models.count > Self.maxKeysPerView && !read() { return out }
            batch.append((p, models))
            keys += 1 + models.count
        }
        if !batch.isEmpty { _ = read() }
        return out
    }

    /// Most keys one view call reads (a provider's series are never split): a router with
    /// thousands of providers asks in several short calls, each within `timeout_ms`, rather than
    /// one that could outlast it and leave the link degraded.
    package static let maxKeysPerView = 256

    /// A shared breaker in the shape of `CircuitBreaker.json`.
    private static func json(_ c: SharedState.CircuitView) -> JSONValue {
        var o = JSONObject()
        let state: CircuitBreaker.State = switch c.state {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
        o["state"] = .string(state.rawValue)
        o["consecutive_failures"] = StatsRendering.int(c.consecutiveFailures)
        o["window_requests"] = StatsRendering.int(c.windowRequests)
        o["window_failures"] = StatsRendering.int(c.windowFailures)
        o["opened_count"] = StatsRendering.int(c.openedCount)
        if c.state == .open { o["retry_in_ms"] = StatsRendering.int(c.halfOpensInMs) }
        return .object(o)
    }

    /// A shared rate limit in the shape of `RateLimiter.json`.
    private static func json(_ r: SharedState.RateLimitView, _ settings: RateLimitSettings) -> JSONValue {
        var o = JSONObject()
        if let rpm = settings.rpm { o["rpm"] = StatsRendering.int(rpm) }
        if let tpm = settings.tpm { o["tpm"] = StatsRendering.int(tpm) }
        if settings.rpm != nil { o["requests_available"] = .double(Self.thousandths(r.requestsAvailable)) }
        if settings.tpm != nil { o["tokens_available"] = .double(Self.thousandths(r.tokensAvailable)) }
        o["cooldown_ms"] = StatsRendering.int(r.cooldownMs)
        return .object(o)
    }

    /// Rounded for display as `RateLimiter.json` rounds.
    private static func thousandths(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    /// The `shared` object of health and stats (nil without shared state).
    package func sharedJSON(probe: Bool) -> JSONValue? {
        guard let shared else { return nil }
        if probe { shared.link.probe() }
        return shared.json()
    }
}
