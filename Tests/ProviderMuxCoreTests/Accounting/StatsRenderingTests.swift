// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxAccounting
import Testing

// StatsRendering: the per-series stats JSON and the Prometheus text exposition, exact output
// for small known inputs.

@Suite("StatsRendering")
struct StatsRenderingTests {
    /// A model name with a double quote, a backslash and a newline: all three must be escaped in label values.
    static let oddKey = SeriesKey(provider: "openai", model: "we\"ird\\m\nx")

    static func sampleSeries() -> SeriesSnapshot {
        var s = SeriesSnapshot(key: oddKey)
        s.requests = 3
        s.successes = 1
        s.failures = 2
        s.retries = 1
        s.fallbacks = 1
        s.failuresByClass = ["timeout": 1, "rate_limited": 1]
        s.failuresByStatus = ["PMX_ERR_TIMEOUT": 1, "PMX_ERR_RATE_LIMITED": 1]
        s.promptTokens = 10
        s.completionTokens = 5
        s.cachedTokens = 2
        s.costUSD = 0.0125
        s.inFlight = 1
        s.latencyMs = Quantiles(p50: 120.5, p95: 120.5, p99: 120.5, mean: 120.5)
        s.latencyCount = 1
        s.latencySumMs = 120.5
        s.latencyBuckets.add(120.5)
        return s
    }

    @Test func seriesJSONExact() {
        var s = Self.sampleSeries()
        s.latencyMs.mean = 1.0 / 3
        s.ttftMs = Quantiles(p50: 40, p95: nil, p99: 41, mean: 40)
        s.costUSD = 0.123456789
        s.tokensPerSecond = 2.0 / 3
        let json = JSONWriter.string(.object(StatsRendering.seriesJSON(s)))
        #expect(json == #"{"model":"we\"ird\\m\nx","requests":3,"successes":1,"failures":2,"retries":1,"fallbacks":1,"#
            + #""failures_by_class":{"rate_limited":1,"timeout":1},"#
            + #""failures_by_status":{"PMX_ERR_RATE_LIMITED":1,"PMX_ERR_TIMEOUT":1},"#
            + #""prompt_tokens":10,"completion_tokens":5,"cached_tokens":2,"cost_usd":0.12345679,"in_flight":1,"#
            + #""latency_ms":{"p50":120.5,"p95":120.5,"p99":120.5,"mean":0.333},"ttft_ms":{"p50":40.0,"p95":null},"#
            + #""tokens_per_second":0.667}"#)
    }

    @Test func seriesJSONOfAnEmptySeriesHasNulls() {
        let o = StatsRendering.seriesJSON(SeriesSnapshot(key: SeriesKey(provider: "p", model: "m")))
        #expect(o["latency_ms"] == ["p50": nil, "p95": nil, "p99": nil, "mean": nil])
        #expect(o["ttft_ms"] == ["p50": nil, "p95": nil])
        #expect(o["tokens_per_second"] == .null)
        #expect(o["cost_usd"] == .double(0))
        #expect(o["failures_by_class"] == .object(JSONObject()))
    }

    @Test func prometheusExactOutput() {
        var totals = RouterTotals()
        totals.requests = 3
        totals.successes = 2
        totals.failures = 1
        totals.cacheHits = 1
        totals.cacheMisses = 2
        totals.cacheEntries = 1
        totals.cacheBytes = 512
        totals.costUSD = 0.0125
        let text = StatsRendering.prometheus(
            totals: totals, series: [Self.sampleSeries()],
            providers: [ProviderFacts(name: "openai", type: "openai", healthy: true)],
            breakerStates: [Self.oddKey: "open"])
        let l = #"provider="openai",model="we\"ird\\m\nx""#
        let expected = """
            # HELP pmx_router_requests_total Requests routed (not attempts).
            # TYPE pmx_router_requests_total counter
            pmx_router_requests_total 3
            # HELP pmx_router_successes_total Routed requests that succeeded.
            # TYPE pmx_router_successes_total counter
            pmx_router_successes_total 2
            # HELP pmx_router_failures_total Routed requests that failed.
            # TYPE pmx_router_failures_total counter
            pmx_router_failures_total 1
            # HELP pmx_cache_hits_total Response cache hits.
            # TYPE pmx_cache_hits_total counter
            pmx_cache_hits_total 1
            # HELP pmx_cache_misses_total Response cache misses.
            # TYPE pmx_cache_misses_total counter
            pmx_cache_misses_total 2
            # HELP pmx_cache_entries Entries in the response cache.
            # TYPE pmx_cache_entries gauge
            pmx_cache_entries 1
            # HELP pmx_cache_bytes Bytes held by the response cache.
            # TYPE pmx_cache_bytes gauge
            pmx_cache_bytes 512
            # HELP pmx_cost_usd_total Estimated cost of all attempts in US dollars.
            # TYPE pmx_cost_usd_total counter
            pmx_cost_usd_total 0.0125
            # HELP pmx_metric_series_folded_total Attempts counted in a provider's model="__other__" series because the series cap was reached.
            # TYPE pmx_metric_series_folded_total counter
            pmx_metric_series_folded_total 0
            # HELP pmx_attempts_total Attempts started.
            # TYPE pmx_attempts_total counter
            pmx_attempts_total{\(l)} 3
            # HELP pmx_attempt_successes_total Attempts that succeeded.
            # TYPE pmx_attempt_successes_total counter
            pmx_attempt_successes_total{\(l)} 1
            # HELP pmx_attempt_failures_total Attempts that failed, by error class.
            # TYPE pmx_attempt_failures_total counter
            pmx_attempt_failures_total{\(l),class="rate_limited"} 1
            pmx_attempt_failures_total{\(l),class="timeout"} 1
            # HELP pmx_retries_total Retries of the same provider.
            # TYPE pmx_retries_total counter
            pmx_retries_total{\(l)} 1
            # HELP pmx_fallbacks_total Failovers away from a provider.
            # TYPE pmx_fallbacks_total counter
            pmx_fallbacks_total{\(l)} 1
            # HELP pmx_tokens_total Tokens by direction (cached = prompt tokens served from the provider's cache).
            # TYPE pmx_tokens_total counter
            pmx_tokens_total{\(l),direction="prompt"} 10
            pmx_tokens_total{\(l),direction="completion"} 5
            pmx_tokens_total{\(l),direction="cached"} 2
            # HELP pmx_provider_cost_usd_total Estimated cost in US dollars.
            # TYPE pmx_provider_cost_usd_total counter
            pmx_provider_cost_usd_total{\(l)} 0.0125
            # HELP pmx_in_flight Attempts in flight.
            # TYPE pmx_in_flight gauge
            pmx_in_flight{\(l)} 1
            # HELP pmx_attempt_duration_seconds Duration of successful attempts in seconds.
            # TYPE pmx_attempt_duration_seconds histogram
            pmx_attempt_duration_seconds_bucket{\(l),le="0.005"} 0
            pmx_attempt_duration_seconds_bucket{\(l),le="0.01"} 0
            pmx_attempt_duration_seconds_bucket{\(l),le="0.025"} 0
            pmx_attempt_duration_seconds_bucket{\(l),le="0.05"} 0
            pmx_attempt_duration_seconds_bucket{\(l),le="0.1"} 0
            pmx_attempt_duration_seconds_bucket{\(l),le="0.25"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="0.5"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="1"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="2.5"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="5"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="10"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="20"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="30"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="60"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="120"} 1
            pmx_attempt_duration_seconds_bucket{\(l),le="+Inf"} 1
            pmx_attempt_duration_seconds_sum{\(l)} 0.1205
            pmx_attempt_duration_seconds_count{\(l)} 1
            # HELP pmx_provider_info Configured providers and their types (always 1).
            # TYPE pmx_provider_info gauge
            pmx_provider_info{provider="openai",type="openai"} 1
            # HELP pmx_provider_healthy Last health check: 1 healthy, 0 unhealthy.
            # TYPE pmx_provider_healthy gauge
            pmx_provider_healthy{provider="openai"} 1
            # HELP pmx_circuit_state Circuit breaker state: 1 for the current state, 0 for the others.
            # TYPE pmx_circuit_state gauge
            pmx_circuit_state{\(l),state="closed"} 0
            pmx_circuit_state{\(l),state="open"} 1
            pmx_circuit_state{\(l),state="half_open"} 0

            """
        #expect(text == expected)
        if text != expected {
            for (x, y) in zip(text.split(separator: "\n"), expected.split(separator: "\n")) where x != y {
                Issue.record("first difference:\n got  \(x)\n want \(y)")
                break
            }
        }
    }

    /// Every family's HELP and TYPE lines appear exactly once, even with several series, and
    /// all of a family's samples are contiguous.
    @Test func prometheusFamiliesAreWrittenOnceAndContiguously() {
        var s1 = SeriesSnapshot(key: SeriesKey(provider: "b", model: "m"))
        s1.requests = 1
        s1.failuresByClass = ["auth": 1]
        s1.ttftMs = Quantiles(p50: 10, p95: 20)
        s1.ttftCount = 2
        s1.ttftSumMs = 30
        s1.ttftBuckets.add(10)
        s1.ttftBuckets.add(20)
        s1.tokensPerSecond = 12.5
        var s2 = SeriesSnapshot(key: SeriesKey(provider: "a", model: "m"))
        s2.requests = 2
        s2.failuresByClass = ["network": 2, "auth": 1]
        let text = StatsRendering.prometheus(totals: RouterTotals(), series: [s1, s2],
                                             providers: [ProviderFacts(name: "b", type: "ollama", healthy: false),
                                                         ProviderFacts(name: "a", type: "openai")],
                                             breakerStates: [:])
        let lines = text.split(separator: "\n").map(String.init)
        let helps = lines.filter { $0.hasPrefix("# HELP ") }.map { String($0.split(separator: " ")[2]) }
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) }
        #expect(helps == types)
        #expect(Set(helps).count == helps.count)
        #expect(!helps.contains("pmx_budget_spent_usd"))
        #expect(!helps.contains("pmx_circuit_state"))

        // Samples sorted by provider, in one block per family.
        let attempts = lines.filter { $0.hasPrefix("pmx_attempts_total") }
        #expect(attempts == [#"pmx_attempts_total{provider="a",model="m"} 2"#, #"pmx_attempts_total{provider="b",model="m"} 1"#])
        var family: [String] = []
        for line in lines where !line.hasPrefix("#") {
            var name = String(line.prefix { $0 != "{" && $0 != " " })
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && helps.contains(String(name.dropLast(suffix.count))) {
                name = String(name.dropLast(suffix.count))
            }
            if family.last != name {
                #expect(!family.contains(name), "family \(name) is split")
                family.append(name)
            }
        }
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_bucket{provider="b",model="m",le="0.005"} 0"#))
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_bucket{provider="b",model="m",le="0.01"} 1"#))
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_bucket{provider="b",model="m",le="0.025"} 2"#))
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_bucket{provider="b",model="m",le="+Inf"} 2"#))
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_sum{provider="b",model="m"} 0.03"#))
        #expect(lines.contains(#"pmx_time_to_first_token_seconds_count{provider="b",model="m"} 2"#))
        // Series "a" never streamed: no TTFT lines at all; neither series succeeded: no latency histogram.
        #expect(!lines.contains { $0.hasPrefix(#"pmx_time_to_first_token_seconds_bucket{provider="a""#) })
        #expect(!lines.contains { $0.hasPrefix(#"pmx_time_to_first_token_seconds_count{provider="a""#) })
        #expect(!helps.contains("pmx_attempt_duration_seconds"))
        #expect(lines.contains(#"pmx_tokens_per_second{provider="b",model="m"} 12.5"#))
        #expect(!lines.contains { $0.hasPrefix(#"pmx_tokens_per_second{provider="a""#) })
        #expect(lines.contains(#"pmx_provider_healthy{provider="b"} 0"#))
        #expect(!lines.contains { $0.hasPrefix(#"pmx_provider_healthy{provider="a""#) })
        #expect(lines.filter { $0.hasPrefix("pmx_attempt_failures_total") } == [
            #"pmx_attempt_failures_total{provider="a",model="m",class="auth"} 1"#,
            #"pmx_attempt_failures_total{provider="a",model="m",class="network"} 2"#,
            #"pmx_attempt_failures_total{provider="b",model="m",class="auth"} 1"#,
        ])
    }

    @Test func prometheusBudgetGaugesOnlyWhenSet() {
        var totals = RouterTotals()
        totals.budgetLimitUSD = 10
        var text = StatsRendering.prometheus(totals: totals, series: [], providers: [], breakerStates: [:])
        #expect(text.contains("# TYPE pmx_budget_limit_usd gauge\npmx_budget_limit_usd 10\n"))
        #expect(!text.contains("pmx_budget_spent_usd"))
        #expect(!text.contains("pmx_attempts_total"))  // no series: no per-series families
        totals.budgetSpentUSD = 2.5
        text = StatsRendering.prometheus(totals: totals, series: [], providers: [], breakerStates: [:])
        #expect(text.contains("# TYPE pmx_budget_spent_usd gauge\npmx_budget_spent_usd 2.5\n"))
    }

    @Test func prometheusNumberFormatting() {
        #expect(PrometheusWriter.format(3) == "3")
        #expect(PrometheusWriter.format(-2) == "-2")
        #expect(PrometheusWriter.format(0.25) == "0.25")
        #expect(PrometheusWriter.format(.infinity) == "+Inf")
        #expect(PrometheusWriter.format(-.infinity) == "-Inf")
        #expect(PrometheusWriter.format(.nan) == "NaN")
        #expect(PrometheusWriter.escapeLabel("a\\b\"c\nd") == #"a\\b\"c\nd"#)
    }
}
