// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
@testable import MuxRouting
import Testing

// Issue 12, item 1: every number from a config or a request has a range, checked where it is
// read, and the arithmetic on config-derived values saturates instead of trapping. A trap here
// kills the test runner: that is a failing test too.

/// The hostile values every numeric field is fed, as JSON text.
private let int64Max = "9223372036854775807"
private let fortyDigits = "1234567890123456789012345678901234567890"
private let hostile = [int64Max, "-1", "1e308", fortyDigits, "-" + fortyDigits, fortyDigits + ".0", "1.5e300"]

/// A field: the document with `$V` where the value goes, the path an error must name, and the
/// hostile values that are legitimately accepted (a seed takes any Int64).
struct NumericField: CustomStringConvertible, Sendable {
    var template: String
    var path: String
    var accepts: Set<String> = []
    var description: String { path }
}

private func mock(_ extra: String) -> String { #"{"providers":[{"name":"m","type":"mock"\#(extra)}]}"# }

private let configFields: [NumericField] = [
    NumericField(template: #"{"schema_version":$V,"providers":[]}"#, path: "schema_version"),
    NumericField(template: #"{"providers":[],"retry":{"max_attempts":$V}}"#, path: "retry.max_attempts"),
    NumericField(template: #"{"providers":[],"retry":{"initial_backoff_ms":$V}}"#, path: "retry.initial_backoff_ms"),
    NumericField(template: #"{"providers":[],"retry":{"max_backoff_ms":$V}}"#, path: "retry.max_backoff_ms"),
    NumericField(template: #"{"providers":[],"retry":{"multiplier":$V}}"#, path: "retry.multiplier"),
    NumericField(template: #"{"providers":[],"retry":{"jitter":$V}}"#, path: "retry.jitter"),
    NumericField(template: #"{"providers":[],"retry":{"max_retry_after_ms":$V}}"#, path: "retry.max_retry_after_ms"),
    NumericField(template: #"{"providers":[],"retry":{"classes":{"rate_limited":{"max_backoff_ms":$V}}}}"#, path: "retry.classes.rate_limited.max_backoff_ms"),
    NumericField(template: #"{"providers":[],"timeouts":{"connect_ms":$V}}"#, path: "timeouts.connect_ms"),
    NumericField(template: #"{"providers":[],"timeouts":{"first_byte_ms":$V}}"#, path: "timeouts.first_byte_ms"),
    NumericField(template: #"{"providers":[],"timeouts":{"idle_ms":$V}}"#, path: "timeouts.idle_ms"),
    NumericField(template: #"{"providers":[],"timeouts":{"total_ms":$V}}"#, path: "timeouts.total_ms"),
    NumericField(template: #"{"providers":[],"timeouts":{"health_ms":$V}}"#, path: "timeouts.health_ms"),
    NumericField(template: #"{"providers":[],"limits":{"max_response_bytes":$V}}"#, path: "limits.max_response_bytes"),
    NumericField(template: #"{"providers":[],"limits":{"max_request_bytes":$V}}"#, path: "limits.max_request_bytes"),
    NumericField(template: #"{"providers":[],"limits":{"max_total_attempts":$V}}"#, path: "limits.max_total_attempts"),
    NumericField(template: #"{"providers":[],"limits":{"max_cooldown_ms":$V}}"#, path: "limits.max_cooldown_ms"),
    NumericField(template: #"{"providers":[],"routing":{"exploration":$V}}"#, path: "routing.exploration"),
    NumericField(template: #"{"providers":[],"routing":{"seed":$V}}"#, path: "routing.seed", accepts: [int64Max]),
    NumericField(template: #"{"providers":[],"pricing":{"x":{"input_per_mtok":$V,"output_per_mtok":1}}}"#, path: "pricing.x.input_per_mtok"),
    NumericField(template: #"{"providers":[],"pricing":{"x":{"input_per_mtok":1,"output_per_mtok":$V}}}"#, path: "pricing.x.output_per_mtok"),
    NumericField(template: #"{"providers":[],"pricing":{"x":{"input_per_mtok":1,"output_per_mtok":1,"cached_input_per_mtok":$V}}}"#, path: "pricing.x.cached_input_per_mtok"),
    NumericField(template: #"{"providers":[],"pricing":{"x":{"input_per_mtok":1,"output_per_mtok":1,"cache_write_input_per_mtok":$V}}}"#, path: "pricing.x.cache_write_input_per_mtok"),
    NumericField(template: #"{"providers":[],"budget":{"usd":$V,"window_ms":60000}}"#, path: "budget.usd"),
    NumericField(template: #"{"providers":[],"budget":{"usd":1,"window_ms":$V}}"#, path: "budget.window_ms"),
    NumericField(template: #"{"providers":[],"routing":{"lanes":{"l":{"budget":{"usd":1,"window_ms":$V}}}}}"#, path: "routing.lanes.l.budget.window_ms"),
    NumericField(template: #"{"providers":[],"circuit_breaker":{"consecutive_failures":$V}}"#, path: "circuit_breaker.consecutive_failures"),
    NumericField(template: #"{"providers":[],"circuit_breaker":{"failure_rate":$V}}"#, path: "circuit_breaker.failure_rate"),
    NumericField(template: #"{"providers":[],"circuit_breaker":{"window_ms":$V}}"#, path: "circuit_breaker.window_ms"),
    NumericField(template: #"{"providers":[],"circuit_breaker":{"min_requests":$V}}"#, path: "circuit_breaker.min_requests"),
    NumericField(template: #"{"providers":[],"circuit_breaker":{"cooldown_ms":$V}}"#, path: "circuit_breaker.cooldown_ms"),
    NumericField(template: #"{"providers":[],"cache":{"ttl_ms":$V}}"#, path: "cache.ttl_ms"),
    NumericField(template: #"{"providers":[],"cache":{"max_entries":$V}}"#, path: "cache.max_entries"),
    NumericField(template: #"{"providers":[],"cache":{"max_bytes":$V}}"#, path: "cache.max_bytes"),
    NumericField(template: #"{"providers":[],"health_checks":{"interval_ms":$V}}"#, path: "health_checks.interval_ms"),
    NumericField(template: #"{"providers":[],"health_checks":{"max_backoff_ms":$V}}"#, path: "health_checks.max_backoff_ms"),
    NumericField(template: #"{"providers":[],"discovery":{"interval_ms":$V}}"#, path: "discovery.interval_ms"),
    NumericField(template: #"{"providers":[],"discovery":{"timeout_ms":$V}}"#, path: "discovery.timeout_ms"),
    NumericField(template: #"{"providers":[],"discovery":{"models_ttl_ms":$V}}"#, path: "discovery.models_ttl_ms"),
    NumericField(template: #"{"providers":[],"discovery":{"targets":[{"type":"ollama","port":$V}]}}"#, path: "discovery.targets[0].port"),
    NumericField(template: mock(#","weight":$V"#), path: "providers[0].weight"),
    NumericField(template: mock(#","context_length":$V"#), path: "providers[0].context_length"),
    NumericField(template: mock(#","limits":{"rpm":$V}"#), path: "providers[0].limits.rpm"),
    NumericField(template: mock(#","limits":{"tpm":$V}"#), path: "providers[0].limits.tpm"),
    NumericField(template: mock(#","retry":{"max_attempts":$V}"#), path: "providers[0].retry.max_attempts"),
    NumericField(template: mock(#","timeouts":{"total_ms":$V}"#), path: "providers[0].timeouts.total_ms"),
    NumericField(template: mock(#","circuit_breaker":{"cooldown_ms":$V}"#), path: "providers[0].circuit_breaker.cooldown_ms"),
    NumericField(template: mock(#","latency_ms":$V"#), path: "providers[0].latency_ms"),
    NumericField(template: mock(#","token_delay_ms":$V"#), path: "providers[0].token_delay_ms"),
    NumericField(template: mock(#","embedding_dimensions":$V"#), path: "providers[0].embedding_dimensions"),
    NumericField(template: mock(#","script":[{"ok":true,"times":$V}]"#), path: "providers[0].script[0].times"),
    NumericField(template: mock(#","script":[{"status":$V}]"#), path: "providers[0].script[0].status"),
    NumericField(template: mock(#","script":[{"status":429,"retry_after_ms":$V}]"#), path: "providers[0].script[0].retry_after_ms"),
    NumericField(template: mock(#","script":[{"drop_after_deltas":$V}]"#), path: "providers[0].script[0].drop_after_deltas"),
    NumericField(template: #"{"providers":[{"name":"a","type":"anthropic","base_url":"http://127.0.0.1:1","api_key":"","default_max_tokens":$V}]}"#,
          path: "providers[0].default_max_tokens"),
]

private let requestFields: [NumericField] = [
    NumericField(template: #"{"temperature":$V}"#, path: "temperature"),
    NumericField(template: #"{"top_p":$V}"#, path: "top_p"),
    NumericField(template: #"{"max_tokens":$V}"#, path: "max_tokens"),
    NumericField(template: #"{"max_completion_tokens":$V}"#, path: "max_completion_tokens"),
    NumericField(template: #"{"n":$V}"#, path: "n"),
    NumericField(template: #"{"seed":$V}"#, path: "seed", accepts: [int64Max, "-1"]),
    NumericField(template: #"{"num_ctx":$V}"#, path: "num_ctx"),
    NumericField(template: #"{"frequency_penalty":$V}"#, path: "frequency_penalty", accepts: ["-1"]),
    NumericField(template: #"{"presence_penalty":$V}"#, path: "presence_penalty", accepts: ["-1"]),
    NumericField(template: #"{"top_k":$V}"#, path: "top_k"),
    NumericField(template: #"{"max_new_tokens":$V}"#, path: "max_new_tokens (max_tokens)"),
    NumericField(template: #"{"ctx":$V}"#, path: "ctx (num_ctx)"),
    NumericField(template: #"{"temp":$V}"#, path: "temp (temperature)"),
    NumericField(template: #"{"route":{"max_attempts":$V}}"#, path: "route.max_attempts"),
    NumericField(template: #"{"route":{"timeout_ms":$V}}"#, path: "route.timeout_ms"),
    NumericField(template: #"{"route":{"max_total_attempts":$V}}"#, path: "route.max_total_attempts"),
    NumericField(template: #"{"route":{"min_context":$V}}"#, path: "route.min_context"),
    NumericField(template: #"{"route":{"retry":{"initial_backoff_ms":$V}}}"#, path: "route.retry.initial_backoff_ms"),
    NumericField(template: #"{"route":{"retry":{"multiplier":$V}}}"#, path: "route.retry.multiplier"),
    NumericField(template: #"{"route":{"timeouts":{"total_ms":$V}}}"#, path: "route.timeouts.total_ms"),
]

/// The error parsing `text` as a router config gives, or nil (parsed).
private func configOutcome(_ text: String) -> PMXError? {
    do {
        _ = try RouterConfig.parse(JSONParser.parse(text), lookup: { _ in nil })
        return nil
    } catch let e as PMXError { return e } catch { return PMXError(.internal, "\(error)") }
}

/// The error parsing a chat request with `fields` merged in gives, or nil.
private func requestOutcome(_ fields: String, embed: Bool = false) -> PMXError? {
    do {
        var o = try JSONParser.parse(fields).objectValue ?? JSONObject()
        if embed { o["input"] = "x" } else { o["messages"] = [["role": "user", "content": "hi"]] }
        if embed { _ = try EmbedRequest.parse(.object(o)) } else { _ = try ChatRequest.parse(.object(o)) }
        return nil
    } catch let e as PMXError { return e } catch { return PMXError(.internal, "\(error)") }
}

/// A 40-digit integer does not reach the field: jansson refuses it as a "too big integer"
/// (PMX_ERR_INVALID_JSON naming the line and column). Every other value fails at the field.
private func expectRefused(_ e: PMXError?, _ status: Status, _ field: NumericField, _ value: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e else {
        Issue.record("\(field.path) = \(value) was accepted", sourceLocation: sourceLocation)
        return
    }
    if value == fortyDigits || value == "-" + fortyDigits {
        #expect(e.status == .invalidJSON && e.message.contains("too big"), "\(field.path) = \(value): \(e)", sourceLocation: sourceLocation)
        return
    }
    #expect(e.status == status, "\(field.path) = \(value): \(e)", sourceLocation: sourceLocation)
    #expect(e.message.hasPrefix(field.path + ":") || e.message.contains(" " + field.path + ":") || e.message.hasPrefix(field.path),
            "\(field.path) = \(value): message \"\(e.message)\" does not name the field", sourceLocation: sourceLocation)
}

@Suite("Numeric bounds: config")
struct NumericConfigBoundsTests {
    @Test("every numeric config field refuses INT64_MAX, -1, 1e308 and 40-digit numbers, naming the field", arguments: configFields)
    func hostileValues(_ field: NumericField) {
        for value in hostile where !field.accepts.contains(value) {
            expectRefused(configOutcome(field.template.replacingOccurrences(of: "$V", with: value)), .config, field, value)
        }
    }

    @Test("a range error says the allowed range")
    func messageGivesTheRange() throws {
        let e = try #require(configOutcome(#"{"providers":[],"cache":{"ttl_ms":9223372036854775807}}"#))
        #expect(e.message == "cache.ttl_ms: must be between 1 and 31536000000, got 9223372036854775807")
        let f = try #require(configOutcome(#"{"providers":[],"cache":{"ttl_ms":1e300}}"#))
        #expect(f.message == "cache.ttl_ms: must be between 1 and 31536000000, got 1e+300")
        let g = try #require(configOutcome(#"{"providers":[],"retry":{"jitter":1e308}}"#))
        #expect(g.message == "retry.jitter: must be between 0 and 1, got 1e+308")
    }

    @Test("the largest allowed values are accepted")
    func largestAccepted() throws {
        let c = try RouterConfig.parse(JSONParser.parse(#"""
            {"providers":[{"name":"m","type":"mock","limits":{"rpm":1000000000,"tpm":1000000000},"context_length":2147483647}],
             "cache":{"ttl_ms":31536000000,"max_entries":1000000000,"max_bytes":1099511627776},
             "circuit_breaker":{"window_ms":31536000000,"cooldown_ms":31536000000,"min_requests":1000000000},
             "budget":{"usd":1e12,"window_ms":31536000000}}
            """#), lookup: { _ in nil })
        #expect(c.cache.ttlMs == 31_536_000_000)
        #expect(c.providers[0].contextLength == 2_147_483_647)
    }

    @Test("a budget window string is bounded to a year")
    func budgetWindowString() throws {
        let e = try #require(configOutcome(#"{"providers":[],"budget":{"usd":1,"window":"999999999w"}}"#))
        #expect(e.status == .config && e.message.hasPrefix("budget.window:"), "\(e)")
    }
}

@Suite("Numeric bounds: requests")
struct NumericRequestBoundsTests {
    @Test("every numeric request field refuses hostile numbers with PMX_ERR_INVALID_REQUEST naming the field", arguments: requestFields)
    func hostileValues(_ field: NumericField) {
        for value in hostile where !field.accepts.contains(value) {
            expectRefused(requestOutcome(field.template.replacingOccurrences(of: "$V", with: value)), .invalidRequest, field, value)
        }
    }

    @Test("embedding dimensions and route numbers are bounded too")
    func embed() {
        for value in hostile {
            expectRefused(requestOutcome(#"{"dimensions":\#(value)}"#, embed: true), .invalidRequest, NumericField(template: "", path: "dimensions"), value)
            expectRefused(requestOutcome(#"{"route":{"timeout_ms":\#(value)}}"#, embed: true), .invalidRequest,
                          NumericField(template: "", path: "route.timeout_ms"), value)
        }
    }

    @Test("max_tokens INT64_MAX: a clean error giving the range")
    func maxTokensMessage() throws {
        let e = try #require(requestOutcome(#"{"max_tokens":9223372036854775807}"#))
        #expect(e.status == .invalidRequest)
        #expect(e.message == "max_tokens: must be between 1 and 2147483647, got 9223372036854775807")
        let a = try #require(requestOutcome(#"{"max_new_tokens":9223372036854775807}"#))
        #expect(a.message == "max_new_tokens (max_tokens): must be between 1 and 2147483647, got 9223372036854775807")
    }

    @Test("the token estimate of a request built in code (not parsed) saturates")
    func estimateSaturates() {
        var body = JSONObject()
        body["messages"] = [["role": "user", "content": "hi"]]
        body["max_tokens"] = .int(Int64.max)
        let r = ChatRequest(body: body, model: nil, route: RouteOptions())
        #expect(TokenEstimate.expectedOutput(r) == Int(NumericBounds.tokens))
        #expect(TokenEstimate.total(r) > Int(NumericBounds.tokens))
        let needs = RequestNeeds(.chat(r, stream: false))
        #expect(needs.estimatedTokens == TokenEstimate.total(r))
    }
}

@Suite("Numeric bounds: saturating arithmetic")
struct SaturatingArithmeticTests {
    @Test("a response cache whose TTL is Int.max (settings built in code) keeps entries, no trap")
    func cacheTTLMax() {
        var s = CacheSettings()
        s.enabled = true
        s.ttlMs = Int.max
        let cache = ResponseCache(settings: s)
        var response = JSONObject()
        response["id"] = "x"
        cache.put("k", response: response, nowNs: 5)
        #expect(cache.get("k", nowNs: UInt64.max) != nil)
    }

    @Test("back-off at attempt 10^6 with the largest settings stays at the cap, no trap")
    func backoffHuge() {
        var s = RetrySettings()
        s.initialBackoffMs = Int.max
        s.maxBackoffMs = Int.max
        s.multiplier = 100
        s.jitter = 1
        let d = RetryPolicy.backoffMs(retry: 1_000_000, retryAfterMs: nil, settings: s, random: 0.999_999)
        #expect(d > 0)
        s.initialBackoffMs = 1000
        s.maxBackoffMs = 3_600_000
        #expect(RetryPolicy.backoffMs(retry: 1_000_000, retryAfterMs: nil, settings: s, random: 0.5) == 3_600_000)
        s.multiplier = .nan
        s.jitter = .infinity
        #expect(RetryPolicy.backoffMs(retry: 5, retryAfterMs: Int.max, settings: s, random: .nan) == Int.max)
    }

    @Test("ms → ns conversions saturate; ceilMs never overflows")
    func conversions() {
        #expect(SafeNumbers.nanos(ms: Int.max) == UInt64.max)
        #expect(SafeNumbers.nanos(ms: -5) == 0)
        #expect(SafeNumbers.nanos(ms: 31_536_000_000) == 31_536_000_000_000_000)
        #expect(SafeNumbers.nanos(ms: Double.infinity) == UInt64.max)
        #expect(SafeNumbers.nanos(ms: 1e300) == UInt64.max)
        #expect(SafeNumbers.nanos(ms: Double.nan) == 0)
        #expect(SafeNumbers.nanos(ms: 1.5) == 1_500_000)
        #expect(SafeNumbers.ceilMs(ns: UInt64.max) == UInt64.max / 1_000_000 + 1)
        #expect(SafeNumbers.ceilMs(ns: 1_000_000) == 1)
        #expect(SafeNumbers.ceilMs(ns: 1_000_001) == 2)
    }

    @Test("a rate limiter cooled down for Int.max ms and settled with huge usage reports, no trap")
    func rateLimiterExtremes() {
        var s = RateLimitSettings()
        s.rpm = Int(NumericBounds.count)
        s.tpm = Int(NumericBounds.count)
        let l = RateLimiter(settings: s)
        l.coolDown(forMs: Int.max, nowNs: 10)
        l.settle(estimatedTokens: Int.min, actualTokens: Int.max, nowNs: 20)
        #expect(l.tryAcquire(estimatedTokens: Int.max, nowNs: 30) == false)
        #expect(l.waitMs(estimatedTokens: Int.max, nowNs: 40) > 0)
        #expect(l.json(nowNs: 50)["cooldown_ms"]?.intValue ?? 0 > 0)
    }

    @Test("a circuit breaker with Int.max windows and cooldown reports, no trap")
    func breakerExtremes() {
        var s = BreakerSettings()
        s.windowMs = Int.max
        s.cooldownMs = Int.max
        s.consecutiveFailures = 1
        let b = CircuitBreaker(settings: s)
        b.recordFailure(nowNs: 1)
        #expect(b.state(nowNs: 2) == .open)
        #expect(b.json(nowNs: 3)["retry_in_ms"]?.intValue ?? 0 > 0)
    }

    @Test("health back-off after Int.max failures stays at the cap")
    func healthDelay() {
        var s = HealthSettings()
        s.intervalMs = 86_400_000
        s.maxBackoffMs = 86_400_000
        #expect(s.delayMs(afterFailures: Int.max) == 86_400_000)
    }
}
