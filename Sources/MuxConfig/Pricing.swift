// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The price of one model, in USD per million tokens.
public struct ModelPrice: Sendable, Equatable {
    /// USD per million prompt tokens.
    public var inputPerMTok: Double
    /// USD per million completion tokens.
    public var outputPerMTok: Double
    /// USD per million cached prompt tokens; nil = same as input.
    public var cachedInputPerMTok: Double?
    /// USD per million prompt tokens written to the prompt cache (Anthropic's 5-minute cache
    /// writes cost 1.25 × input); nil = same as input.
    public var cacheWriteInputPerMTok: Double?

    public init(inputPerMTok: Double, outputPerMTok: Double, cachedInputPerMTok: Double? = nil, cacheWriteInputPerMTok: Double? = nil) {
        self.inputPerMTok = inputPerMTok
        self.outputPerMTok = outputPerMTok
        self.cachedInputPerMTok = cachedInputPerMTok
        self.cacheWriteInputPerMTok = cacheWriteInputPerMTok
    }

    public static let zero = ModelPrice(inputPerMTok: 0, outputPerMTok: 0)

    /// {"input_per_mtok": x, "output_per_mtok": y, "cached_input_per_mtok": z?, "cache_write_input_per_mtok": w?}
    public func json() -> JSONValue {
        var o = JSONObject()
        o["input_per_mtok"] = .double(inputPerMTok)
        o["output_per_mtok"] = .double(outputPerMTok)
        if let cachedInputPerMTok { o["cached_input_per_mtok"] = .double(cachedInputPerMTok) }
        if let cacheWriteInputPerMTok { o["cache_write_input_per_mtok"] = .double(cacheWriteInputPerMTok) }
        return .object(o)
    }
}

/// Model prices for cost accounting and budgets: built-in list prices, overridden by the
/// router config's `pricing` section. Local providers (Ollama, LM Studio, llama.cpp, the mock)
/// cost nothing unless the config says otherwise.
public struct PricingTable: Sendable {
    /// Built-in LIST prices (USD per 1M tokens) as published by the vendors in late 2025, for
    /// standard (non-batch, short-context) use. They are a starting point for cost estimates
    /// only: prices change and contracts differ, so override them in the `pricing` config section.
    public static let defaults: [String: ModelPrice] = [
        // OpenAI
        "gpt-4o": ModelPrice(inputPerMTok: 2.50, outputPerMTok: 10.00, cachedInputPerMTok: 1.25),
        "gpt-4o-mini": ModelPrice(inputPerMTok: 0.15, outputPerMTok: 0.60, cachedInputPerMTok: 0.075),
        "gpt-4.1": ModelPrice(inputPerMTok: 2.00, outputPerMTok: 8.00, cachedInputPerMTok: 0.50),
        "gpt-4.1-mini": ModelPrice(inputPerMTok: 0.40, outputPerMTok: 1.60, cachedInputPerMTok: 0.10),
        "gpt-4.1-nano": ModelPrice(inputPerMTok: 0.10, outputPerMTok: 0.40, cachedInputPerMTok: 0.025),
        "o3": ModelPrice(inputPerMTok: 2.00, outputPerMTok: 8.00, cachedInputPerMTok: 0.50),
        "o3-mini": ModelPrice(inputPerMTok: 1.10, outputPerMTok: 4.40, cachedInputPerMTok: 0.55),
        "o4-mini": ModelPrice(inputPerMTok: 1.10, outputPerMTok: 4.40, cachedInputPerMTok: 0.275),
        "gpt-5": ModelPrice(inputPerMTok: 1.25, outputPerMTok: 10.00, cachedInputPerMTok: 0.125),
        "gpt-5-mini": ModelPrice(inputPerMTok: 0.25, outputPerMTok: 2.00, cachedInputPerMTok: 0.025),
        "gpt-5-nano": ModelPrice(inputPerMTok: 0.05, outputPerMTok: 0.40, cachedInputPerMTok: 0.005),
        "text-embedding-3-small": ModelPrice(inputPerMTok: 0.02, outputPerMTok: 0),
        "text-embedding-3-large": ModelPrice(inputPerMTok: 0.13, outputPerMTok: 0),
        "text-embedding-ada-002": ModelPrice(inputPerMTok: 0.10, outputPerMTok: 0),
        // Anthropic (cached = cache reads; cache writes: the 5-minute cache, 1.25 × input)
        "claude-opus-4-1": ModelPrice(inputPerMTok: 15.00, outputPerMTok: 75.00, cachedInputPerMTok: 1.50, cacheWriteInputPerMTok: 18.75),
        "claude-opus-4": ModelPrice(inputPerMTok: 15.00, outputPerMTok: 75.00, cachedInputPerMTok: 1.50, cacheWriteInputPerMTok: 18.75),
        "claude-sonnet-4-5": ModelPrice(inputPerMTok: 3.00, outputPerMTok: 15.00, cachedInputPerMTok: 0.30, cacheWriteInputPerMTok: 3.75),
        "claude-sonnet-4": ModelPrice(inputPerMTok: 3.00, outputPerMTok: 15.00, cachedInputPerMTok: 0.30, cacheWriteInputPerMTok: 3.75),
        "claude-3-7-sonnet": ModelPrice(inputPerMTok: 3.00, outputPerMTok: 15.00, cachedInputPerMTok: 0.30, cacheWriteInputPerMTok: 3.75),
        "claude-3-5-haiku": ModelPrice(inputPerMTok: 0.80, outputPerMTok: 4.00, cachedInputPerMTok: 0.08, cacheWriteInputPerMTok: 1.00),
        "claude-haiku-4-5": ModelPrice(inputPerMTok: 1.00, outputPerMTok: 5.00, cachedInputPerMTok: 0.10, cacheWriteInputPerMTok: 1.25),
        // Google Gemini (prompts ≤ 200k tokens)
        "gemini-2.5-pro": ModelPrice(inputPerMTok: 1.25, outputPerMTok: 10.00, cachedInputPerMTok: 0.125),
        "gemini-2.5-flash": ModelPrice(inputPerMTok: 0.30, outputPerMTok: 2.50, cachedInputPerMTok: 0.03),
        "gemini-2.5-flash-lite": ModelPrice(inputPerMTok: 0.10, outputPerMTok: 0.40, cachedInputPerMTok: 0.01),
        "gemini-2.0-flash": ModelPrice(inputPerMTok: 0.10, outputPerMTok: 0.40, cachedInputPerMTok: 0.025),
        // Mistral
        "mistral-large-latest": ModelPrice(inputPerMTok: 2.00, outputPerMTok: 6.00),
        "mistral-small-latest": ModelPrice(inputPerMTok: 0.10, outputPerMTok: 0.30),
        // DeepSeek (V3.2 prices; cached = cache hits)
        "deepseek-chat": ModelPrice(inputPerMTok: 0.28, outputPerMTok: 0.42, cachedInputPerMTok: 0.028),
        "deepseek-reasoner": ModelPrice(inputPerMTok: 0.28, outputPerMTok: 0.42, cachedInputPerMTok: 0.028),
        // Cohere
        "command-r": ModelPrice(inputPerMTok: 0.15, outputPerMTok: 0.60),
        "command-r-plus": ModelPrice(inputPerMTok: 2.50, outputPerMTok: 10.00),
        "command-a": ModelPrice(inputPerMTok: 2.50, outputPerMTok: 10.00),
    ]

    /// Provider types that run on the caller's own hardware (or in-process): free to call.
    public static let localTypes: Set<ProviderType> = [.ollama, .lmstudio, .llamacpp, .mock]

    public let overrides: [String: ModelPrice]
    public let useDefaults: Bool

    public init(overrides: [String: ModelPrice] = [:], useDefaults: Bool = true) {
        self.overrides = overrides
        self.useDefaults = useDefaults
    }

    /// The router config's "pricing" section:
    /// {"<model>" | "<provider>/<model>" | "<provider>/*": {"input_per_mtok": x, "output_per_mtok": y,
    ///  "cached_input_per_mtok": z?, "cache_write_input_per_mtok": w?}, …, "use_defaults": bool?}. Prices must be ≥ 0.
    public static func parse(_ r: inout FieldReader) throws -> PricingTable {
        var overrides: [String: ModelPrice] = [:]
        var useDefaults = true
        for key in r.object.keys {
            if key == "use_defaults" {
                if let v = try r.bool(key) { useDefaults = v }
                continue
            }
            if key.contains("*") && !(key.hasSuffix("/*") && key.count > 2 && key.dropLast(2).allSatisfy { $0 != "*" }) {
                throw r.fail(key, "a wildcard is only allowed as \"<provider>/*\"")
            }
            guard var pr = try r.object(key) else { throw r.fail(key, "expected an object, got null") }
            func nonNegative(_ field: String, required: Bool) throws -> Double? {
                guard let v = try pr.double(field, min: 0, max: NumericBounds.usd) else {
                    if required { throw pr.fail(field, "is required") }
                    return nil
                }
                guard v >= 0 else { throw pr.fail(field, "must be ≥ 0") }
                return v
            }
            let input = try nonNegative("input_per_mtok", required: true)!
            let output = try nonNegative("output_per_mtok", required: true)!
            let cached = try nonNegative("cached_input_per_mtok", required: false)
            let written = try nonNegative("cache_write_input_per_mtok", required: false)
            try pr.finish()
            overrides[key] = ModelPrice(inputPerMTok: input, outputPerMTok: output, cachedInputPerMTok: cached, cacheWriteInputPerMTok: written)
        }
        try r.finish()
        return PricingTable(overrides: overrides, useDefaults: useDefaults)
    }
}
