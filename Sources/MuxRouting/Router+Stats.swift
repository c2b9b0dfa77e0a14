// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxAccounting
import MuxShared

/// `pmx_router_stats`: counters per router, per provider and per provider+model, as JSON or
/// Prometheus text; reset on demand.
extension Router {
    public enum StatsFormat: String, Sendable { case json, prometheus }

    public struct StatsOptions: Sendable {
        public var format = StatsFormat.json
        /// Zero the counters after taking this snapshot (in-flight counts and budgets stay).
        public var reset = false
        public init() {}

        public static func parse(_ value: JSONValue) throws -> StatsOptions {
            var r = try FieldReader(value, path: "", status: .invalidArgument)
            var o = StatsOptions()
            if let f = try r.string("format") {
                guard let k = StatsFormat(rawValue: f) else { throw r.fail("format", "expected \"json\" or \"prometheus\", got \"\(f)\"") }
                o.format = k
            }
            o.reset = try r.bool("reset") ?? false
            try r.finish()
            return o
        }
    }

    public func stats() -> JSONValue { statsDocument() }

    /// The snapshot in the asked format, then the reset if asked (one call, so a scraper never
    /// loses counts between reading and zeroing).
    public func stats(_ options: StatsOptions) -> String {
        let text: String
        switch options.format {
        case .json: text = JSONWriter.string(statsDocument())
        case .prometheus: text = prometheusText()
        }
        if options.reset { resetStats() }
        return text
    }

    public func resetStats() {
        metrics.reset()
        counters.withLock { $0 = RouterCounters() }
        cache.resetCounters()
        Log.info("stats reset")
    }

    private func totals(_ series: [SeriesSnapshot]) -> RouterTotals {
        let c = counters.withLock { $0 }
        let cs = cache.stats
        var t = RouterTotals()
        t.requests = c.requests
        t.successes = c.successes
        t.failures = c.failures
        t.operations = c.operations.map { OperationCount(name: $0.key.rawValue, count: $0.value) }.sorted { $0.name < $1.name }
        t.cacheHits = cs.hits
        t.cacheMisses = cs.misses
        t.cacheEntries = cs.entries
        t.cacheBytes = cs.bytes
        t.costUSD = Self.finiteSum(series.map(\.costUSD))
        t.foldedAttempts = metrics.foldedAttempts
        if let link = shared?.link {
            t.sharedConnected = link.linkState == .connected
            t.sharedTransitions = link.transitions
            t.sharedFallbacks = link.fallbacks
        }
        if let b = routerBudget {
            t.budgetSpentUSD = b.spent(nowNs: MonotonicClock.nanos())
            t.budgetLimitUSD = b.settings.usd
        }
        return t
    }

    package func statsDocument() -> JSONValue {
        let series = metrics.snapshot()
        let t = totals(series)
        let now = MonotonicClock.nanos()
        let breakers = breakerStates()
        var o = JSONObject()
        o["requests"] = .int(Int64(t.requests))
        o["successes"] = .int(Int64(t.successes))
        o["failures"] = .int(Int64(t.failures))
        var operations = JSONObject()
        for op in t.operations { operations[op.name] = .int(Int64(op.count)) }
        o["operations"] = .object(operations)
        o["retries"] = .int(Int64(series.reduce(0) { $0.addingSaturated($1.retries) }))
        o["fallbacks"] = .int(Int64(series.reduce(0) { $0.addingSaturated($1.fallbacks) }))
        o["cost_usd"] = .double(rounded(t.costUSD, 8))
        let cs = cache.stats
        o["cache"] = ["enabled": .bool(cacheSettings.enabled), "hits": .int(Int64(cs.hits)), "misses": .int(Int64(cs.misses)),
                      "entries": .int(Int64(cs.entries)), "bytes": .int(Int64(cs.bytes)), "evictions": .int(Int64(cs.evictions)),
                      "expirations": .int(Int64(cs.expirations))]
        o["budget"] = routerBudget?.json(nowNs: now) ?? .null
        var lanes = JSONObject()
        for (name, b) in providersLock.withLock({ laneBudgets }).sorted(by: { $0.key < $1.key }) {
            lanes[name] = ["budget": b.json(nowNs: now)]
        }
        o["lanes"] = .object(lanes)
        // Series are capped (model names come from requests): how many exist and how many
        // attempts were counted in a provider's "__other__" series instead of their own.
        o["metric_series"] = ["count": .int(Int64(series.count)), "max": .int(Int64(metrics.maxSeries)),
                              "folded_attempts": .int(Int64(t.foldedAttempts))]

        // Series grouped by provider once, in their order (not a scan of every series per provider:
        // 10,000 providers with a series each would make that quadratic).
        var byProvider: [String: [SeriesSnapshot]] = [:]
        for s in series { byProvider[s.key.provider, default: []].append(s) }
        var list: [JSONValue] = []
        for p in providerSnapshot {
            let mine = byProvider[p.name] ?? []
            var po = JSONObject()
            po["name"] = .string(p.name)
            po["type"] = .string(p.config.type.rawValue)
            if p.config.discovered { po["discovered"] = true }
            // Saturating: token sums are upstream figures, each series already stuck at Int.max at worst.
            func sum(_ f: (SeriesSnapshot) -> Int) -> JSONValue { .int(Int64(mine.reduce(0) { $0.addingSaturated(f($1)) })) }
            po["requests"] = sum(\.requests)
            po["successes"] = sum(\.successes)
            po["failures"] = sum(\.failures)
            po["retries"] = sum(\.retries)
            po["fallbacks"] = sum(\.fallbacks)
            po["prompt_tokens"] = sum(\.promptTokens)
            po["completion_tokens"] = sum(\.completionTokens)
            po["in_flight"] = .int(Int64(metrics.inFlight(provider: p.name)))
            po["cost_usd"] = .double(rounded(Self.finiteSum(mine.map(\.costUSD)), 8))
            var byStatus: [String: Int] = [:], byClass: [String: Int] = [:]
            for s in mine {
                for (k, v) in s.failuresByStatus { byStatus[k] = byStatus[k, default: 0].addingSaturated(v) }
                for (k, v) in s.failuresByClass { byClass[k] = byClass[k, default: 0].addingSaturated(v) }
            }
            po["failures_by_status"] = .object(JSONObject(byStatus.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))
            po["failures_by_class"] = .object(JSONObject(byClass.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))
            if let healthy = healthMonitor?.isHealthy(p.name) { po["healthy"] = .bool(healthy) }
            po["rate_limit"] = p.limiter.json(nowNs: now)
            po["models"] = .array(mine.map { s in
                var m = StatsRendering.seriesJSON(s)
                if let b = existingBreaker(s.key, in: breakers) { m["circuit"] = .string(b.state(nowNs: now).rawValue) }
                return .object(m)
            })
            list.append(.object(po))
        }
        o["providers"] = .array(list)
        if let s = sharedJSON(probe: false) { o["shared"] = s }
        return .object(o)
    }

    package func prometheusText() -> String {
        let series = metrics.snapshot()
        let now = MonotonicClock.nanos()
        let facts = providerSnapshot.map { p in
            ProviderFacts(name: p.name, type: p.config.type.rawValue, healthy: healthMonitor?.isHealthy(p.name))
        }
        let states = breakerStates().mapValues { $0.state(nowNs: now).rawValue }
        return StatsRendering.prometheus(totals: totals(series), series: series, providers: facts, breakerStates: states)
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let scaled = x * p
        return scaled.isFinite ? scaled.rounded() / p : x  // above ~1e300 there is no fraction left to round
    }

    /// A sum of costs that stays finite (each is finite already; their sum need not be).
    package static func finiteSum(_ xs: [Double]) -> Double {
        xs.reduce(0) { SafeNumbers.clampFinite($0 + $1, -.greatestFiniteMagnitude, .greatestFiniteMagnitude) }
    }
}
