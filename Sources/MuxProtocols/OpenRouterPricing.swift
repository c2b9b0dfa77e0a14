// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// OpenRouter's `/models` prices: `data[].pricing.prompt` / `.completion` (and
/// `.input_cache_read`, `.input_cache_write`) are USD PER TOKEN, sent as decimal STRINGS ("0.000003"). They become
/// `ModelPrice`s (USD per million tokens) keyed by the model's `id`, for `cost_usd`.
public enum OpenRouterPricing {
    /// Every model of the listing with a usable prompt and completion price. Entries whose
    /// prices are missing, not decimal numbers (strings or numbers), negative (OpenRouter lists
    /// "-1" for its router models, whose price depends on the model chosen) or absurd are left
    /// out: a wrong price must not turn into a cost. A body that is no listing gives [:].
    public static func prices(fromModels body: [UInt8]) -> [String: ModelPrice] {
        guard let json = try? JSONParser.parse(body), let data = json["data"]?.arrayValue else { return [:] }
        var out: [String: ModelPrice] = [:]
        for m in data {
            guard let id = m["id"]?.stringValue, let pricing = m["pricing"],
                  let prompt = perMTok(pricing["prompt"]), let completion = perMTok(pricing["completion"]) else { continue }
            out[id] = ModelPrice(inputPerMTok: prompt, outputPerMTok: completion, cachedInputPerMTok: perMTok(pricing["input_cache_read"]),
                                 cacheWriteInputPerMTok: perMTok(pricing["input_cache_write"]))
        }
        return out
    }

    /// A per-token price ("0.000003" or 0.000003) as USD per million tokens; nil when absent,
    /// not a finite number ≥ 0, or above `NumericBounds.usd`.
    package static func perMTok(_ v: JSONValue?) -> Double? {
        let perToken: Double?
        switch v {
        case .string(let s)?: perToken = s.utf8.count <= 64 ? Double(s) : nil
        case let n?: perToken = n.doubleValue
        case nil: perToken = nil
        }
        guard let t = perToken, t.isFinite, t >= 0 else { return nil }
        let m = t * 1_000_000
        return m <= NumericBounds.usd ? m : nil
    }
}
