// SPDX-License-Identifier: Apache-2.0

/// Token usage of one response, in OpenAI's terms.
///
/// Every figure is bounded where it is built, whatever the upstream wrote: counts in
/// 0...`maxTokens` (negative → 0, fractions truncated), `tokensPerSecond` finite in
/// 0...`maxTokensPerSecond`, `costUSD` finite in 0...`maxCostUSD` (non-finite or negative rates
/// and costs are dropped). So sums over responses never overflow before saturating adds stop
/// them, and cost arithmetic stays finite.
public struct Usage: Sendable, Equatable {
    /// The largest token count kept: 10^12 (a trillion tokens, far above any real answer, and
    /// exact in every JSON reader's doubles). 9.2 million such counts fit in an Int64 sum.
    public static let maxTokens = 1_000_000_000_000
    /// The largest generation speed kept, in tokens per second.
    public static let maxTokensPerSecond = 1e12
    /// The largest cost of one response kept, in USD (an upstream-reported `cost_usd` of 1e300
    /// is reported as this; budgets trust upstream figures only where the config says so).
    public static let maxCostUSD = 1_000_000.0

    public var promptTokens: Int
    public var completionTokens: Int
    /// `prompt + completion` unless the provider gave its own; in 0...maxTokens like every count
    /// (so a usage read back from its own JSON is the same usage).
    public var totalTokens: Int
    /// Prompt tokens served from the provider's prompt cache, where it reports them
    /// (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`,
    /// Gemini `cachedContentTokenCount`).
    public var cachedTokens: Int?
    /// Prompt tokens written to the provider's prompt cache (Anthropic
    /// `cache_creation_input_tokens`), also inside `promptTokens`; reported as
    /// `prompt_tokens_details.cache_creation_tokens` (LiteLLM's name) and priced at the cache
    /// write rate.
    public var cacheWriteTokens: Int?
    /// Completion tokens spent reasoning, inside `completionTokens` (OpenAI
    /// `completion_tokens_details.reasoning_tokens`, Gemini `thoughtsTokenCount`).
    public var reasoningTokens: Int?
    /// Generation speed as the provider measured it (Ollama's eval_count / eval_duration).
    public var tokensPerSecond: Double? { didSet { tokensPerSecond = Self.rate(tokensPerSecond) } }
    /// What this usage cost in USD by the router's pricing table; nil when the model has no price.
    public var costUSD: Double? { didSet { costUSD = Self.cost(costUSD) } }
    /// What the upstream said this response cost (`usage.cost_usd`, OpenRouter's `usage.cost`),
    /// reported as `upstream_cost_usd`; bounded like `costUSD`. Never charged to a budget unless
    /// that budget says `trust_upstream_cost` (see UsagePolicy.swift).
    public var upstreamCostUSD: Double? { didSet { upstreamCostUSD = Self.cost(upstreamCostUSD) } }

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil,
                cacheWriteTokens: Int? = nil, reasoningTokens: Int? = nil) {
        self.promptTokens = Self.count(promptTokens)
        self.completionTokens = Self.count(completionTokens)
        self.totalTokens = Self.count(totalTokens ?? self.promptTokens + self.completionTokens)
        self.cachedTokens = cachedTokens.map(Self.count)
        self.cacheWriteTokens = cacheWriteTokens.map(Self.count)
        self.reasoningTokens = reasoningTokens.map(Self.count)
    }

    /// Reads an OpenAI `usage` object; nil when absent or null. Numbers are clamped (see the
    /// type); a field that is not a number counts as absent.
    public init?(openAI value: JSONValue?) {
        guard let o = value?.objectValue else { return nil }
        let prompt = o["prompt_tokens"]
        if prompt == nil, o["input_tokens"] != nil { self.init(responses: o); return }
        let p = prompt.flatMap(Self.count) ?? 0
        let c = o["completion_tokens"].flatMap(Self.count) ?? 0
        let promptDetails = o["prompt_tokens_details"]
        self.init(promptTokens: p, completionTokens: c, totalTokens: o["total_tokens"].flatMap(Self.count),
                  cachedTokens: promptDetails?["cached_tokens"].flatMap(Self.count),
                  cacheWriteTokens: promptDetails?["cache_creation_tokens"].flatMap(Self.count),
                  reasoningTokens: o["completion_tokens_details"]?["reasoning_tokens"].flatMap(Self.count))
        tokensPerSecond = Self.rate(o["tokens_per_second"]?.doubleValue)
        // An upstream's figure is not the router's price: kept apart, costUSD comes from the table.
        upstreamCostUSD = Self.reportedCost(o["cost_usd"] ?? o["cost"] ?? o["upstream_cost_usd"])
    }

    /// The Responses API's usage (`input_tokens`, `output_tokens`, `input_tokens_details.
    /// cached_tokens` / `cache_write_tokens`, `output_tokens_details.reasoning_tokens`), read by
    /// `init(openAI:)` when `prompt_tokens` is absent: a Response is priced like a chat answer.
    private init(responses o: JSONObject) {
        let input = o["input_tokens_details"]
        self.init(promptTokens: o["input_tokens"].flatMap(Self.count) ?? 0,
                  completionTokens: o["output_tokens"].flatMap(Self.count) ?? 0,
                  totalTokens: o["total_tokens"].flatMap(Self.count),
                  cachedTokens: input?["cached_tokens"].flatMap(Self.count),
                  cacheWriteTokens: input?["cache_write_tokens"].flatMap(Self.count).flatMap { $0 > 0 ? $0 : nil },
                  reasoningTokens: o["output_tokens_details"]?["reasoning_tokens"].flatMap(Self.count))
        upstreamCostUSD = Self.reportedCost(o["cost_usd"] ?? o["cost"] ?? o["upstream_cost_usd"])
    }

    /// `costUSD` as every document reports it (`cost_usd`): rounded to 8 decimals (1e-8 USD).
    public var reportedCostUSD: Double? { costUSD.map { ($0 * 1e8).rounded() / 1e8 } }

    public func json() -> JSONValue {
        var o = JSONObject()
        o.reserveCapacity(8)  // every key below: one allocation, not one per doubling
        o["prompt_tokens"] = .int(Int64(promptTokens))
        o["completion_tokens"] = .int(Int64(completionTokens))
        o["total_tokens"] = .int(Int64(totalTokens))
        if cachedTokens != nil || cacheWriteTokens != nil {
            var details = JSONObject()
            if let cachedTokens { details["cached_tokens"] = .int(Int64(cachedTokens)) }
            if let cacheWriteTokens { details["cache_creation_tokens"] = .int(Int64(cacheWriteTokens)) }
            o["prompt_tokens_details"] = .object(details)
        }
        if let reasoningTokens { o["completion_tokens_details"] = ["reasoning_tokens": .int(Int64(reasoningTokens))] }
        if let tokensPerSecond { o["tokens_per_second"] = .double(tokensPerSecond) }
        if let reportedCostUSD { o["cost_usd"] = .double(reportedCostUSD) }
        if let upstreamCostUSD { o["upstream_cost_usd"] = .double(upstreamCostUSD) }
        return .object(o)
    }
}

// MARK: - Bounding upstream figures

extension Usage {
    /// A token count in 0...maxTokens.
    public static func count(_ n: Int) -> Int { SafeNumbers.clamp(n, 0, maxTokens) }

    /// A token count from a JSON number: negative → 0, above maxTokens → maxTokens, a fraction
    /// truncated; nil when the value is not a number (the caller decides whether that breaks
    /// the protocol). Numbers jansson cannot hold (a 40-digit integer, 1e999) never get here:
    /// it refuses the whole document, a protocol error of that attempt.
    public static func count(_ v: JSONValue) -> Int? {
        switch v {
        case .int(let i): return Int(SafeNumbers.clamp(i, 0, Int64(maxTokens)))
        case .double(let d): return SafeNumbers.int(d, lo: 0, hi: maxTokens)
        default: return nil
        }
    }

    /// A speed in tokens per second: finite and ≥ 0 (else nil), at most maxTokensPerSecond.
    public static func rate(_ d: Double?) -> Double? {
        guard let d, d.isFinite, d >= 0 else { return nil }
        return Swift.min(d, maxTokensPerSecond)
    }

    /// A cost in USD: finite and ≥ 0 (else nil), at most maxCostUSD.
    public static func cost(_ d: Double?) -> Double? {
        guard let d, d.isFinite, d >= 0 else { return nil }
        return Swift.min(d, maxCostUSD)
    }

    /// An upstream cost figure as reported: finite, ≥ 0 and at most `maxCostUSD`, else nil.
    public static func reportedCost(_ v: JSONValue?) -> Double? { cost(v?.doubleValue) }

    /// An upstream's OpenAI-shaped `usage` object with every number in it (and in its
    /// `*_details` objects) bounded: keys containing `cost` as costs (dropped when negative),
    /// `tokens_per_second` as a speed, integers and `*tokens` / `*_count` keys as token counts,
    /// any other fractional figure (Groq's `queue_time`, `total_time` in seconds) kept as a
    /// fraction in 0...maxTokens. Other members are kept as they are. Applied where a protocol
    /// passes the upstream's object through to the caller.
    public static func sanitized(_ value: JSONValue) -> JSONValue {
        guard let o = value.objectValue else { return value }
        return .object(sanitized(o, depth: 0))
    }

    private static func sanitized(_ o: JSONObject, depth: Int) -> JSONObject {
        var out = JSONObject()
        out.reserveCapacity(o.count)
        for m in o.members {
            switch m.value {
            case .int, .double:
                if bytes(of: m.key, contain: "cost") {
                    if let c = cost(m.value.doubleValue) { out.appendUnchecked(m.key, .double(c)) }
                } else if m.key == "tokens_per_second" {
                    if let r = rate(m.value.doubleValue) { out.appendUnchecked(m.key, .double(r)) }
                } else if case .double(let d) = m.value, !(bytes(of: m.key, endWith: "tokens") || bytes(of: m.key, endWith: "_count")) {
                    out.appendUnchecked(m.key, .double(SafeNumbers.clampFinite(d, 0, Double(maxTokens))))
                } else {
                    out.appendUnchecked(m.key, .int(Int64(count(m.value) ?? 0)))
                }
            case .object(let inner) where depth < 2:
                out.appendUnchecked(m.key, .object(sanitized(inner, depth: depth + 1)))
            default:
                out.appendUnchecked(m.key, m.value)
            }
        }
        return out
    }

    // Member names are tested on their UTF-8 bytes: `String.contains` / `hasSuffix` compare
    // grapheme clusters, which cost ~60,000 instructions per usage object, once per response;
    // walking `String.UTF8View` by index still cost ~4,000: the contiguous bytes are compared.
    private static func bytes(of key: String, contain part: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: part.utf8Start, count: part.utf8CodeUnitCount)
        return withBytes(of: key) { k in
            guard p.count <= k.count else { return false }
            for start in 0...(k.count - p.count) where UnsafeBufferPointer(rebasing: k[start..<(start + p.count)]).elementsEqual(p) {
                return true
            }
            return false
        }
    }

    private static func bytes(of key: String, endWith part: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: part.utf8Start, count: part.utf8CodeUnitCount)
        return withBytes(of: key) { k in
            p.count <= k.count && UnsafeBufferPointer(rebasing: k[(k.count - p.count)...]).elementsEqual(p)
        }
    }

    private static func withBytes(of key: String, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        if let r = key.utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(key.utf8).withUnsafeBufferPointer(body)
    }
}
