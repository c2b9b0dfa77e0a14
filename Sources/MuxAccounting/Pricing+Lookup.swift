// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// How prices turn into costs: the computation over the pricing table that Config parses
/// (Config/Pricing.swift holds the data and its parsing).
extension ModelPrice {
    /// USD for one response. Cached tokens (`usage.cachedTokens`, a subset of the prompt
    /// tokens) are charged at the cached rate, tokens written to the cache
    /// (`usage.cacheWriteTokens`, also a subset) at the cache write rate, the rest of the
    /// prompt at the input rate; reasoning tokens are completion tokens.
    /// Always finite, in 0...`Usage.maxCostUSD` (a NaN price gives 0), whatever the counts and
    /// prices: a cost feeds sums (stats, budgets) that must stay finite.
    public func cost(_ usage: Usage) -> Double {
        let prompt = max(0, usage.promptTokens)
        let cached = min(prompt, max(0, usage.cachedTokens ?? 0))
        let written = min(prompt - cached, max(0, usage.cacheWriteTokens ?? 0))
        let uncached = prompt - cached - written
        let completion = max(0, usage.completionTokens)
        let usd = (Double(uncached) * inputPerMTok
            + Double(cached) * (cachedInputPerMTok ?? inputPerMTok)
            + Double(written) * (cacheWriteInputPerMTok ?? inputPerMTok)
            + Double(completion) * outputPerMTok) / 1_000_000
        return SafeNumbers.clampFinite(usd, 0, Usage.maxCostUSD)
    }
}

extension PricingTable {
    /// The price of `model` on `provider`, nil when unknown. Lookup order:
    /// overrides["provider/model"], overrides["provider/*"], overrides[model]; then a zero price
    /// for local provider types; then defaults[model]; then, for the model name with its
    /// decorations removed one at a time ("models/" or any "vendor/" prefix, "@version",
    /// "-latest", dates like "-2024-08-06" / "-20250929" / "-03-2025", versions like "-001" /
    /// "-2411", "-preview" / "-exp"), overrides[name] then defaults[name] (and defaults[name-latest]).
    /// Without overrides (the usual config) their lookups are skipped: the interpolated keys
    /// and their hashing cost ~2,500 instructions per call, twice per request (planning, cost).
    /// `listed`: the prices the provider itself published (OpenRouter's `/models`), read right
    /// after the overrides, so configured prices win and the provider's own beat the built-in list.
    public func price(provider: String, type: ProviderType, model: String, listed: ListedPrices? = nil) -> ModelPrice? {
        let overridden = !overrides.isEmpty
        if overridden {
            if let p = overrides["\(provider)/\(model)"] { return p }
            if let p = overrides["\(provider)/*"] { return p }
            if let p = overrides[model] { return p }
        }
        if let listed, let p = listed.price(model) { return p }
        if Self.localTypes.contains(type) { return .zero }
        if useDefaults, let p = Self.defaults[model] { return p }
        for name in Self.baseNames(of: model).dropFirst() {
            if overridden, let p = overrides[name] { return p }
            if useDefaults, let p = Self.defaults[name] ?? Self.defaults[name + "-latest"] { return p }
        }
        return nil
    }

    /// Is this provider free to call? A provider-wide override ("provider/*") decides when
    /// given (free if both its prices are 0); otherwise local provider types are free.
    public func isZeroCost(provider: String, type: ProviderType) -> Bool {
        if !overrides.isEmpty, let p = overrides["\(provider)/*"] { return p.inputPerMTok == 0 && p.outputPerMTok == 0 }
        return Self.localTypes.contains(type)
    }

    /// `model` followed by ever shorter forms of it, each with one more decoration removed.
    package static func baseNames(of model: String) -> [String] {
        var names = [model]
        var name = model
        if let at = name.firstIndex(of: "@") {
            name = String(name[..<at])
            names.append(name)
        }
        if let slash = name.lastIndex(of: "/") {
            name = String(name[name.index(after: slash)...])
            names.append(name)
        }
        var parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        while parts.count > 1, let drop = Self.decorationLength(parts) {
            parts.removeLast(drop)
            names.append(parts.joined(separator: "-"))
        }
        return names
    }

    /// How many trailing "-" parts form a date, version or release tag (nil when none).
    private static func decorationLength(_ parts: [String]) -> Int? {
        func digits(_ s: String, _ n: Int) -> Bool { s.utf8.count == n && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        let n = parts.count
        let last = parts[n - 1]
        if ["latest", "preview", "exp", "experimental"].contains(last) { return 1 }
        // 2024-08-06
        if n >= 4 && digits(parts[n - 3], 4) && digits(parts[n - 2], 2) && digits(last, 2) { return 3 }
        // 03-2025 (Cohere), 09-2025 (Gemini previews)
        if n >= 3 && digits(parts[n - 2], 2) && digits(last, 4) { return 2 }
        // preview-05-20
        if n >= 4 && ["preview", "exp"].contains(parts[n - 3]) && digits(parts[n - 2], 2) && digits(last, 2) { return 2 }
        // 20250929, 2411, 0125, 001
        if digits(last, 8) || digits(last, 4) || digits(last, 3) { return 1 }
        return nil
    }
}
