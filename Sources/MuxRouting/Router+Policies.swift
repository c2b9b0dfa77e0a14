// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxAccounting
import MuxProviders

/// The router's policies around each request: planning (lanes, strategies, budgets),
/// admission (circuit breakers, rate limits), and what an attempt's outcome changes.
extension Router {
    /// A planner over the current providers and routing, reading live facts.
    package func makePlanner() -> RoutePlanner {
        let (routing, providers, laneBudgets) = providersLock.withLock { (self.routing, self.providers, self.laneBudgets) }
        var planner = RoutePlanner(routing: routing, providers: providers)
        planner.facts = { [unowned self] c, needs in facts(for: c, needs: needs) }
        planner.budgetAction = { [routerBudget, unowned self] lane in
            let now = MonotonicClock.nanos()
            var actions: [BudgetSettings.OnExceeded] = []
            if let b = routerBudget, b.exhausted(nowNs: now) || sharedBudgetExhausted(lane: nil, usd: b.settings.usd) {
                actions.append(b.settings.onExceeded)
            }
            if let lane, let b = laneBudgets[lane], b.exhausted(nowNs: now) || sharedBudgetExhausted(lane: lane, usd: b.settings.usd) {
                actions.append(b.settings.onExceeded)
            }
            if actions.contains(.fail) { return .fail }
            return actions.first
        }
        planner.isZeroCost = { [pricing] p in p.config.isLocal || pricing.isZeroCost(provider: p.name, type: p.config.type) }
        planner.turn = { [unowned self] key in
            policy.withLock { s in
                // Keys hold request-supplied model names: beyond the cap they share one turn.
                let k = s.turnCap.admit(key, count: s.turns.count, present: s.turns[key] != nil,
                                        overflow: PolicyState.overflowTurnKey, counting: false)
                let t = s.turns[k, default: 0]
                s.turns[k] = t &+ 1
                return t
            }
        }
        planner.random = { [unowned self] in policy.withLock { $0.rng.nextUnit() } }
        return planner
    }

    package func facts(for c: RequestExecution.Candidate, needs: RequestNeeds) -> CandidateFacts {
        let now = MonotonicClock.nanos()
        var f = CandidateFacts()
        let key = c.seriesKey
        f.weight = c.provider.config.weight
        f.latencyMs = metrics.ewmaLatencyMs(key)
        f.ttftMs = metrics.ewmaTTFTMs(key)
        if let model = c.effectiveModel, let price = pricing.price(provider: c.provider.name, type: c.provider.config.type, model: model, listed: c.provider.listedPrices) {
            f.costUSD = price.cost(Usage(promptTokens: needs.promptTokens, completionTokens: needs.outputTokens))
        } else if c.provider.config.isLocal {
            f.costUSD = 0
        }
        f.inFlight = metrics.inFlight(provider: c.provider.name)
        f.healthy = healthMonitor?.isHealthy(c.provider.name) ?? true
        f.available = breaker(for: key, provider: c.provider).wouldAllow(nowNs: now)
            && c.provider.limiter.waitMs(estimatedTokens: needs.estimatedTokens, nowNs: now) == 0
        return f
    }

    /// The breaker of one provider+model, created on first use.
    /// `provider` (the candidate's own runtime) spares a search of every provider for its
    /// breaker override: planning a request over 10,000 candidates would otherwise be quadratic.
    package func breaker(for key: SeriesKey, provider known: ProviderRuntime? = nil) -> CircuitBreaker {
        if let b = policy.withLock({ $0.breakers[key] }) { return b }
        // Not under `policy`: one lock at a time.
        let provider = known ?? providerSnapshot.first { $0.name == key.provider }
        return policy.withLock { s in
            if let b = s.breakers[key] { return b }
            // Model names come from requests: beyond the cap, new ones share their provider's
            // `__other__` breaker instead of each holding one for the router's lifetime.
            var key = key
            if key.model != SeriesKey.overflowModel {
                key = s.breakerCap.admit(key, count: s.ordinaryBreakers, present: false, overflow: key.overflow)
                if key.model == SeriesKey.overflowModel {
                    if let b = s.breakers[key] { return b }
                } else {
                    s.ordinaryBreakers += 1
                }
            }
            let b = CircuitBreaker(settings: breakerSettings.applying(provider?.config.breakerOverride))
            let label = "\(key.provider)/\(key.model)"
            b.onTransition = { old, new in
                Log.warn("circuit \(label): \(old.rawValue) → \(new.rawValue)")
            }
            s.breakers[key] = b
            return b
        }
    }

    package func breakerStates() -> [SeriesKey: CircuitBreaker] { policy.withLock { $0.breakers } }

    /// The breaker a series' state is read from: its own, or its provider's overflow breaker
    /// when its model was folded (nil when neither exists yet).
    package func existingBreaker(_ key: SeriesKey, in all: [SeriesKey: CircuitBreaker]) -> CircuitBreaker? {
        all[key] ?? all[key.overflow]
    }

    package func makeContext(plan: RoutePlan, planner: RoutePlanner, needs: RequestNeeds, streaming: Bool) -> ExecutionContext {
        let context = ExecutionContext(metrics: metrics)
        let tokens = needs.estimatedTokens
        context.admit = { [unowned self] c in admit(c, estimatedTokens: tokens, lane: plan.lane) }
        context.attemptEnded = { [unowned self] c, outcome in attemptEnded(c, outcome, estimatedTokens: tokens, lane: plan.lane) }
        context.cost = { [pricing] c, usage in
            guard let model = c.effectiveModel else { return nil }
            if c.provider.config.isLocal && pricing.price(provider: c.provider.name, type: c.provider.config.type, model: model, listed: c.provider.listedPrices) == nil { return 0 }
            return pricing.price(provider: c.provider.name, type: c.provider.config.type, model: model, listed: c.provider.listedPrices)?.cost(usage)
        }
        context.fallback = { kind, tried, failed in
            planner.nextFallback(kind, tried: tried, failedModel: failed.effectiveModel, lane: plan.lane,
                                 strategy: plan.strategy, needs: needs, streaming: streaming)
        }
        return context
    }

    /// Loop thread, right before an attempt: its circuit must let it through and its rate limits
    /// must have room. A refused candidate is passed over, not attempted.
    package func admit(_ c: RequestExecution.Candidate, estimatedTokens: Int, lane: String? = nil) -> PMXError? {
        if let verdict = sharedAdmit(c, estimatedTokens: estimatedTokens, lane: lane) { return verdict }
        let now = loop.nowNs
        let b = breaker(for: c.seriesKey, provider: c.provider)
        guard b.allow(nowNs: now) else {
            // The header promises that the message says when the circuit lets a probe through.
            let series = "\(c.provider.name)/\(c.seriesKey.model)"
            let inMs = b.halfOpensInMs(nowNs: now) ?? 0
            var e = PMXError(.circuitOpen, inMs > 0 ? "circuit open for \(series) after repeated failures; half-opens in \(inMs) ms"
                                                    : "circuit half-open for \(series), its one probe still in flight",
                             provider: c.provider.name)
            e.circuitHalfOpensInMs = inMs
            return e
        }
        guard c.provider.limiter.tryAcquire(estimatedTokens: estimatedTokens, nowNs: now) else {
            b.release(nowNs: now)
            let wait = c.provider.limiter.waitMs(estimatedTokens: estimatedTokens, nowNs: now)
            return PMXError(.rateLimited, "at its configured rate limit or in a server-requested cooldown; next slot in \(wait) ms",
                            provider: c.provider.name)
        }
        return nil
    }

    /// Loop thread: what one attempt's outcome changes in the breaker, the rate limiter and the budgets.
    package func attemptEnded(_ c: RequestExecution.Candidate, _ outcome: AttemptOutcome, estimatedTokens: Int, lane: String?) {
        if sharedAttemptEnded(c, outcome, estimatedTokens: estimatedTokens, lane: lane) { return }
        let now = loop.nowNs
        let b = breaker(for: c.seriesKey, provider: c.provider)
        var spent: Usage?
        switch outcome {
        case .success(let usage):
            b.recordSuccess(nowNs: now)
            spent = usage
        case .failure(let e, let retryAfterMs, let partial):
            if CircuitBreaker.counts(e.status) { b.recordFailure(nowNs: now) } else { b.release(nowNs: now) }
            // A server's Retry-After is a cooldown for every request, not only this one's retry,
            // within `limits.max_cooldown_ms`: an upstream informs the policy, it does not set it.
            if e.status == .rateLimited, let ms = retryAfterMs, ms > 0 {
                c.provider.limiter.coolDown(forMs: min(ms, maxCooldownMs), nowNs: now)
            }
            spent = partial
        case .abandoned:
            b.release(nowNs: now)
        }
        if let u = spent?.nonNegative {
            c.provider.limiter.settle(estimatedTokens: estimatedTokens, actualTokens: u.totalTokens, nowNs: now)
            // Each budget charges the pricing table's cost (or, opted in, the upstream's, clamped).
            routerBudget?.charge(u, nowNs: now)
            if let lane, let lb = providersLock.withLock({ laneBudgets[lane] }) { lb.charge(u, nowNs: now) }
        }
    }

    /// Health probes and local discovery, when configured; published prices (OpenRouter).
    package func startBackgroundServices(_ config: RouterConfig) {
        for p in providerSnapshot where Self.fetchesPricesAtStart(p.config) { fetchListedPrices(p) }
        if config.discovery.enabled {
            func configs(_ servers: [DiscoveredServer]) -> [ProviderConfig] {
                servers.map { s in var c = s.providerConfig(); c.discovered = true; return c }
            }
            let service = DiscoveryService(loop: loop, settings: config.discovery) { [weak self] servers in
                self?.replaceDiscovered(configs(servers))
            }
            discovery = service
            // The first round before the router is handed out, so its first request sees them.
            replaceDiscovered(configs(service.probeNow()))
            loop.execute { service.start() }
        }
        if config.health.enabled {
            let monitor = HealthMonitor(scheduler: loop, settings: config.health,
                                        targets: { [weak self] in self?.providerSnapshot.filter { $0.config.type.usesNetwork }.map(\.name) ?? [] },
                                        probe: { [weak self] name, done in
                                            guard let self, let p = self.providerSnapshot.first(where: { $0.name == name }) else {
                                                done(false, 0, "provider removed"); return
                                            }
                                            self.probeHealth(p) { healthy, latency, error in done(healthy, latency, error) }
                                        })
            monitor.onChange = { name, record in
                if record.healthy { Log.info("health: \(name) is healthy again") } else { Log.warn("health: \(name) is unhealthy: \(record.error ?? "")") }
            }
            healthMonitor = monitor
            loop.execute { monitor.start() }
        }
    }
}
