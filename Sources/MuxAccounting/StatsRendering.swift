// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Router-wide figures the router owns (requests = routed requests, not attempts).
public struct RouterTotals: Sendable, Equatable {
    public var requests = 0, successes = 0, failures = 0
    public var cacheHits = 0, cacheMisses = 0, cacheEntries = 0, cacheBytes = 0
    public var costUSD = 0.0
    /// Attempts counted in a provider's "__other__" series because the series cap was reached.
    public var foldedAttempts = 0
    public var budgetSpentUSD: Double?, budgetLimitUSD: Double?
    /// Shared state on Redis (nil without `shared`): the link's state and its counters.
    public var sharedConnected: Bool?
    public var sharedTransitions = 0, sharedFallbacks = 0
    /// Requests per operation of pmx_router_call other than chat and embeddings, by name.
    public var operations: [OperationCount] = []
    public init() {}
}

/// One operation's request count (`RouterTotals.operations`).
public struct OperationCount: Sendable, Equatable {
    public var name: String
    public var count: Int
    public init(name: String, count: Int) {
        self.name = name
        self.count = count
    }
}

/// Per-provider facts for rendering beside the per-series counters. Circuit breaker states are
/// per provider+model and passed separately (`breakerStates`).
public struct ProviderFacts: Sendable, Equatable {
    public var name: String
    /// The provider type ("openai", "anthropic", …): exported as `pmx_provider_info`.
    public var type: String
    /// Result of the last health check; nil when never checked.
    public var healthy: Bool?
    public init(name: String, type: String, healthy: Bool? = nil) {
        self.name = name
        self.type = type
        self.healthy = healthy
    }
}

/// Renders metrics as the stats JSON and as Prometheus text. Pure functions of their inputs:
/// the router gathers the figures, these only format them.
public enum StatsRendering {
    /// JSON for one series (the provider is the enclosing key):
    /// {"model","requests","successes","failures","retries","fallbacks","failures_by_class":{},
    /// "failures_by_status":{},"prompt_tokens","completion_tokens","cached_tokens","cost_usd","in_flight",
    /// "latency_ms":{"p50","p95","p99","mean"},"ttft_ms":{"p50","p95"},"tokens_per_second"}.
    /// Absent figures are null; numbers are rounded to 3 decimals, the cost to 8.
    public static func seriesJSON(_ s: SeriesSnapshot) -> JSONObject {
        var o = JSONObject()
        o["model"] = .string(s.key.model)
        o["requests"] = int(s.requests)
        o["successes"] = int(s.successes)
        o["failures"] = int(s.failures)
        o["retries"] = int(s.retries)
        o["fallbacks"] = int(s.fallbacks)
        o["failures_by_class"] = counts(s.failuresByClass)
        o["failures_by_status"] = counts(s.failuresByStatus)
        o["prompt_tokens"] = int(s.promptTokens)
        o["completion_tokens"] = int(s.completionTokens)
        o["cached_tokens"] = int(s.cachedTokens)
        o["cost_usd"] = rounded(s.costUSD, 8)
        o["in_flight"] = int(s.inFlight)
        o["latency_ms"] = [
            "p50": rounded(s.latencyMs.p50, 3), "p95": rounded(s.latencyMs.p95, 3),
            "p99": rounded(s.latencyMs.p99, 3), "mean": rounded(s.latencyMs.mean, 3),
        ]
        o["ttft_ms"] = ["p50": rounded(s.ttftMs.p50, 3), "p95": rounded(s.ttftMs.p95, 3)]
        o["tokens_per_second"] = rounded(s.tokensPerSecond, 3)
        return o
    }

    /// Prometheus text exposition format 0.0.4. Each family is written once, HELP and TYPE
    /// first, then all its samples (the format requires a family's lines to be contiguous);
    /// families without samples are left out. Series are ordered by provider then model, label
    /// values escaped (backslash, double quote, newline; other control characters → U+FFFD).
    public static func prometheus(totals: RouterTotals, series: [SeriesSnapshot], providers: [ProviderFacts],
                                  breakerStates: [SeriesKey: String]) -> String
    {
        var out = PrometheusWriter()
        let series = series.sorted { ($0.key.provider, $0.key.model) < ($1.key.provider, $1.key.model) }
        func labels(_ s: SeriesSnapshot) -> [(String, String)] { [("provider", s.key.provider), ("model", s.key.model)] }

        // Router-wide.
        out.family("pmx_router_requests_total", .counter, "Requests routed (not attempts).", [([], Double(totals.requests))])
        out.family("pmx_router_successes_total", .counter, "Routed requests that succeeded.", [([], Double(totals.successes))])
        out.family("pmx_router_failures_total", .counter, "Routed requests that failed.", [([], Double(totals.failures))])
        if !totals.operations.isEmpty {  // only once pmx_router_call ran an operation beyond chat
            out.family("pmx_router_operation_requests_total", .counter, "Requests per operation of pmx_router_call (beyond chat and embeddings).",
                       totals.operations.map { ([("operation", $0.name)], Double($0.count)) })
        }
        out.family("pmx_cache_hits_total", .counter, "Response cache hits.", [([], Double(totals.cacheHits))])
        out.family("pmx_cache_misses_total", .counter, "Response cache misses.", [([], Double(totals.cacheMisses))])
        out.family("pmx_cache_entries", .gauge, "Entries in the response cache.", [([], Double(totals.cacheEntries))])
        out.family("pmx_cache_bytes", .gauge, "Bytes held by the response cache.", [([], Double(totals.cacheBytes))])
        out.family("pmx_cost_usd_total", .counter, "Estimated cost of all attempts in US dollars.", [([], totals.costUSD)])
        out.family("pmx_metric_series_folded_total", .counter,
                   "Attempts counted in a provider's model=\"__other__\" series because the series cap was reached.",
                   [([], Double(totals.foldedAttempts))])
        if let v = totals.budgetSpentUSD {
            out.family("pmx_budget_spent_usd", .gauge, "Spend counted against the budget in US dollars.", [([], v)])
        }
        if let v = totals.budgetLimitUSD {
            out.family("pmx_budget_limit_usd", .gauge, "Budget limit in US dollars.", [([], v)])
        }
        if let up = totals.sharedConnected {
            out.family("pmx_shared_redis_connected", .gauge, "Shared state: 1 while Redis is connected, 0 while degraded (local state).",
                       [([], up ? 1 : 0)])
            out.family("pmx_shared_transitions_total", .counter, "Shared state: changes between connected and degraded.",
                       [([], Double(totals.sharedTransitions))])
            out.family("pmx_shared_fallbacks_total", .counter, "Shared state: operations that used local state because Redis was unavailable.",
                       [([], Double(totals.sharedFallbacks))])
        }

        // Per provider+model.
        out.family("pmx_attempts_total", .counter, "Attempts started.", series.map { (labels($0), Double($0.requests)) })
        out.family("pmx_attempt_successes_total", .counter, "Attempts that succeeded.",
                   series.map { (labels($0), Double($0.successes)) })
        out.family("pmx_attempt_failures_total", .counter, "Attempts that failed, by error class.", series.flatMap { s in
            s.failuresByClass.sorted { $0.key < $1.key }.map { (labels(s) + [("class", $0.key)], Double($0.value)) }
        })
        out.family("pmx_retries_total", .counter, "Retries of the same provider.", series.map { (labels($0), Double($0.retries)) })
        out.family("pmx_fallbacks_total", .counter, "Failovers away from a provider.", series.map { (labels($0), Double($0.fallbacks)) })
        out.family("pmx_tokens_total", .counter, "Tokens by direction (cached = prompt tokens served from the provider's cache).",
                   series.flatMap { s in
                       [("prompt", s.promptTokens), ("completion", s.completionTokens), ("cached", s.cachedTokens)]
                           .map { (labels(s) + [("direction", $0.0)], Double($0.1)) }
                   })
        out.family("pmx_provider_cost_usd_total", .counter, "Estimated cost in US dollars.", series.map { (labels($0), $0.costUSD) })
        out.family("pmx_in_flight", .gauge, "Attempts in flight.", series.map { (labels($0), Double($0.inFlight)) })
        // Durations as histograms in seconds (Prometheus conventions: base units, buckets that
        // add up across processes); a series without a sample has no lines here.
        out.histogram("pmx_attempt_duration_seconds", "Duration of successful attempts in seconds.", series.compactMap { s in
            s.latencyCount > 0 ? (labels(s), s.latencyBuckets, s.latencySumMs / 1000, s.latencyCount) : nil
        })
        out.histogram("pmx_time_to_first_token_seconds", "Time to first token of streamed successes in seconds.",
                      series.compactMap { s in
                          s.ttftCount > 0 ? (labels(s), s.ttftBuckets, s.ttftSumMs / 1000, s.ttftCount) : nil
                      })
        out.family("pmx_tokens_per_second", .gauge, "Mean generation speed in completion tokens per second.",
                   series.compactMap { s in s.tokensPerSecond.map { (labels(s), $0) } })

        // Per provider.
        let providers = providers.sorted { $0.name < $1.name }
        out.family("pmx_provider_info", .gauge, "Configured providers and their types (always 1).",
                   providers.map { ([("provider", $0.name), ("type", $0.type)], 1.0) })
        out.family("pmx_provider_healthy", .gauge, "Last health check: 1 healthy, 0 unhealthy.",
                   providers.compactMap { p in p.healthy.map { ([("provider", p.name)], $0 ? 1.0 : 0.0) } })
        let breakers = breakerStates.sorted { ($0.key.provider, $0.key.model) < ($1.key.provider, $1.key.model) }
        out.family("pmx_circuit_state", .gauge, "Circuit breaker state: 1 for the current state, 0 for the others.",
                   breakers.flatMap { key, state in
                       let states = Self.breakerStateNames.contains(state) ? Self.breakerStateNames : Self.breakerStateNames + [state]
                       return states.map {
                           ([("provider", key.provider), ("model", key.model), ("state", $0)], $0 == state ? 1.0 : 0.0)
                       }
                   })
        return out.text
    }

    package static let breakerStateNames = ["closed", "open", "half_open"]

    // MARK: - JSON helpers

    package static func int(_ i: Int) -> JSONValue { .int(Int64(i)) }

    package static func rounded(_ d: Double?, _ places: Int) -> JSONValue {
        guard let d, d.isFinite else { return .null }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = d * scale
        guard scaled.isFinite else { return .double(d) }  // above ~1e300: nothing left to round
        let r = scaled.rounded() / scale
        return .double(r == 0 ? 0 : r)  // no "-0.0"
    }

    package static func counts(_ m: [String: Int]) -> JSONValue {
        var o = JSONObject()
        for (k, v) in m.sorted(by: { $0.key < $1.key }) { o[k] = .int(Int64(v)) }
        return .object(o)
    }
}

/// Accumulates Prometheus text: one family at a time.
package struct PrometheusWriter {
    package enum Kind: String { case counter, gauge, histogram }
    package typealias Labels = [(String, String)]
    package private(set) var text = ""

    mutating func family(_ name: String, _ kind: Kind, _ help: String, _ samples: [(Labels, Double)]) {
        guard !samples.isEmpty else { return }
        header(name, kind, help)
        for (labels, value) in samples { sample(name, labels, value) }
    }

    /// A histogram over `DurationBuckets.boundsMs`, per label set: the cumulative `_bucket`
    /// lines with `le` in seconds, `+Inf` (= `count`), then `_sum` (seconds) and `_count`.
    package mutating func histogram(_ name: String, _ help: String,
                                    _ rows: [(labels: Labels, buckets: DurationBuckets, sumSeconds: Double, count: Int)])
    {
        guard !rows.isEmpty else { return }
        header(name, .histogram, help)
        let bounds = DurationBuckets.boundsMs.map { Self.format($0 / 1000) }
        for row in rows {
            for (le, n) in zip(bounds, row.buckets.cumulative(total: row.count)) {
                sample(name + "_bucket", row.labels + [("le", le)], Double(n))
            }
            sample(name + "_bucket", row.labels + [("le", "+Inf")], Double(row.count))
            sample(name + "_sum", row.labels, row.sumSeconds)
            sample(name + "_count", row.labels, Double(row.count))
        }
    }

    private mutating func header(_ name: String, _ kind: Kind, _ help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    private mutating func sample(_ name: String, _ labels: Labels, _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + Self.format(value) + "\n"
    }

    /// Label values: backslash, double quote and line feed escaped (the format's only three
    /// escapes). Every other control character — NUL, CR, the rest of C0, DEL and C1 — has no
    /// escape in the format and would truncate or corrupt the exposition in some parsers, so
    /// it becomes U+FFFD (the replacement character). Strings are valid UTF-8 by construction
    /// (bytes that were not are already U+FFFD).
    package static func escapeLabel(_ s: String) -> String {
        escape(s, quote: true)
    }

    /// HELP text: backslash and line feed escaped, other control characters as in label values.
    package static func escapeHelp(_ s: String) -> String {
        escape(s, quote: false)
    }

    private static func escape(_ s: String, quote: Bool) -> String {
        // Fast path: nothing to change (the usual provider and model names).
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") || (quote && $0 == UInt8(ascii: "\""))
            || $0 == 0xC2 }) {
            return s
        }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"" where quote: out += "\\\""
            case "\n": out += "\\n"
            case _ where c.value < 0x20 || (0x7F...0x9F).contains(c.value):
                out.unicodeScalars.append("\u{FFFD}")
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Integers without a fraction, other values in Swift's shortest round-trip form (which
    /// Prometheus parses), and the format's own spellings of the non-finite values.
    package static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v.rounded() == v && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
