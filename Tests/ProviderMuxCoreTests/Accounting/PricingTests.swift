// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxAccounting
import Testing

// PricingTable lookup order, suffix stripping, local zero prices, costs, and the "pricing" config section.

private func thrownMessage(_ body: () throws -> Void) -> String? {
    do { try body() } catch let e as PMXError { return e.message } catch { return "\(error)" }
    return nil
}

private func table(_ json: JSONValue) throws -> PricingTable {
    var r = try FieldReader(json, path: "pricing")
    return try PricingTable.parse(&r)
}

@Suite("Pricing")
struct PricingTests {
    static let strippingCases: [(String, String)] = [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("gemini-2.0-flash-001", "gemini-2.0-flash"),
        ("gemini-2.5-flash-preview-09-2025", "gemini-2.5-flash"),
        ("command-a-03-2025", "command-a"),
        ("command-r-plus-08-2024", "command-r-plus"),
        ("mistral-large-2411", "mistral-large-latest"),
        ("openai/gpt-4.1-mini", "gpt-4.1-mini"),
    ]

    static let errorCases: [(JSONValue, String)] = [
        (["gpt-4o": ["input_per_mtok": -1, "output_per_mtok": 1]], "pricing.gpt-4o.input_per_mtok: must be between 0 and 1000000000000, got -1"),
        (["gpt-4o": ["input_per_mtok": 1, "output_per_mtok": -0.5]], "pricing.gpt-4o.output_per_mtok: must be between 0 and 1000000000000, got -0.5"),
        (["m": ["input_per_mtok": 1, "output_per_mtok": 1, "cached_input_per_mtok": -1]], "pricing.m.cached_input_per_mtok: must be between 0 and 1000000000000, got -1"),
        (["m": ["output_per_mtok": 1]], "pricing.m.input_per_mtok: is required"),
        (["m": ["input_per_mtok": 1]], "pricing.m.output_per_mtok: is required"),
        (["m": ["input_per_mtok": "1", "output_per_mtok": 1]], "pricing.m.input_per_mtok: expected a number, got string"),
        (["m": ["input_per_mtok": 1, "output_per_mtok": 1, "currency": "EUR"]], "pricing.m.currency: unknown key"),
        (["m": 3], "pricing.m: expected an object, got number"),
        (["use_defaults": "no"], "pricing.use_defaults: expected true or false, got string"),
        (["*": ["input_per_mtok": 1, "output_per_mtok": 1]], "pricing.*: a wildcard is only allowed as \"<provider>/*\""),
        (["gpt-*": ["input_per_mtok": 1, "output_per_mtok": 1]], "pricing.gpt-*: a wildcard is only allowed as \"<provider>/*\""),
    ]

    let defaults = PricingTable()

    @Test("defaults cover the listed models")
    func defaultsPresent() {
        for m in ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3", "o3-mini", "o4-mini",
                  "gpt-5", "gpt-5-mini", "gpt-5-nano", "text-embedding-3-small", "text-embedding-3-large",
                  "claude-opus-4-1", "claude-sonnet-4-5", "claude-sonnet-4", "claude-3-7-sonnet", "claude-3-5-haiku",
                  "claude-haiku-4-5", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash",
                  "mistral-large-latest", "mistral-small-latest", "deepseek-chat", "deepseek-reasoner",
                  "command-r", "command-r-plus", "command-a"] {
            let p = PricingTable.defaults[m]
            #expect(p != nil, "\(m)")
            if let p { #expect(p.inputPerMTok > 0 && p.outputPerMTok >= 0, "\(m)") }
        }
        #expect(defaults.price(provider: "oa", type: .openai, model: "gpt-4o") == PricingTable.defaults["gpt-4o"])
    }

    @Test("date, version and prefix decorations are stripped", arguments: PricingTests.strippingCases)
    func suffixStripping(model: String, base: String) {
        let p = defaults.price(provider: "p", type: .openaiCompatible, model: model)
        #expect(p != nil)
        #expect(p == PricingTable.defaults[base])
    }

    @Test("unknown models have no price; stripping never invents one")
    func unknown() {
        #expect(defaults.price(provider: "p", type: .openai, model: "my-finetune") == nil)
        #expect(defaults.price(provider: "p", type: .openai, model: "gpt-4o-mini-tts") == nil)
        #expect(defaults.price(provider: "p", type: .openai, model: "gpt-4") == nil)
        #expect(PricingTable(useDefaults: false).price(provider: "p", type: .openai, model: "gpt-4o") == nil)
    }

    @Test("lookup order: provider/model, provider/*, model, local zero, defaults")
    func lookupOrder() {
        let a = ModelPrice(inputPerMTok: 1, outputPerMTok: 1)
        let b = ModelPrice(inputPerMTok: 2, outputPerMTok: 2)
        let c = ModelPrice(inputPerMTok: 3, outputPerMTok: 3)
        let full = PricingTable(overrides: ["azure/gpt-4o": a, "azure/*": b, "gpt-4o": c])
        #expect(full.price(provider: "azure", type: .azure, model: "gpt-4o") == a)
        #expect(full.price(provider: "azure", type: .azure, model: "gpt-4.1") == b)
        #expect(full.price(provider: "openai", type: .openai, model: "gpt-4o") == c)
        #expect(full.price(provider: "openai", type: .openai, model: "gpt-4.1") == PricingTable.defaults["gpt-4.1"])
        // Overrides apply to local providers too; without one, a local provider is free.
        let local = PricingTable(overrides: ["gpu-box/*": b, "llama3": c])
        #expect(local.price(provider: "gpu-box", type: .ollama, model: "llama3") == b)
        #expect(local.price(provider: "ollama", type: .ollama, model: "llama3") == c)
        #expect(local.price(provider: "ollama", type: .ollama, model: "gpt-4o") == ModelPrice.zero)
        #expect(local.price(provider: "lms", type: .lmstudio, model: "whatever") == ModelPrice.zero)
        #expect(local.price(provider: "m", type: .mock, model: "x") == ModelPrice.zero)
        #expect(local.price(provider: "l", type: .llamacpp, model: "x") == ModelPrice.zero)
        // An override of the base name applies to dated versions.
        let dated = PricingTable(overrides: ["gpt-4o": a])
        #expect(dated.price(provider: "oa", type: .openai, model: "gpt-4o-2024-11-20") == a)
    }

    @Test("zero-cost providers: local types, or a provider/* override priced at 0")
    func zeroCost() {
        let t = PricingTable(overrides: ["free/*": ModelPrice(inputPerMTok: 0, outputPerMTok: 0),
                                         "cheap/*": ModelPrice(inputPerMTok: 0, outputPerMTok: 0.1),
                                         "rented-gpu/*": ModelPrice(inputPerMTok: 0.5, outputPerMTok: 0.5)])
        #expect(t.isZeroCost(provider: "free", type: .openaiCompatible))
        #expect(!t.isZeroCost(provider: "cheap", type: .openaiCompatible))
        #expect(!t.isZeroCost(provider: "oa", type: .openai))
        #expect(t.isZeroCost(provider: "ollama", type: .ollama))
        #expect(t.isZeroCost(provider: "mock", type: .mock))
        #expect(!t.isZeroCost(provider: "rented-gpu", type: .llamacpp))
    }

    @Test("cost: cached prompt tokens at the cached rate")
    func cost() {
        let p = ModelPrice(inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5)
        #expect(p.cost(Usage(promptTokens: 1_000_000, completionTokens: 500_000)) == 6.0)
        // 400k uncached × 2 + 600k cached × 0.5 + 500k × 8 = 0.8 + 0.3 + 4
        #expect(abs(p.cost(Usage(promptTokens: 1_000_000, completionTokens: 500_000, cachedTokens: 600_000)) - 5.1) < 1e-9)
        // No cached rate: cached tokens cost the input rate.
        let q = ModelPrice(inputPerMTok: 2, outputPerMTok: 8)
        #expect(q.cost(Usage(promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 600_000)) == 2.0)
        // A cached count above the prompt count is capped.
        #expect(p.cost(Usage(promptTokens: 100, completionTokens: 0, cachedTokens: 1_000)) == 0.00005)
        #expect(ModelPrice.zero.cost(Usage(promptTokens: 5, completionTokens: 5)) == 0)
    }

    @Test("parse: overrides, wildcards and use_defaults")
    func parse() throws {
        let t = try table([
            "gpt-4o": ["input_per_mtok": 2, "output_per_mtok": 9, "cached_input_per_mtok": 1],
            "azure/gpt-4.1": ["input_per_mtok": 1.5, "output_per_mtok": 6],
            "vllm/*": ["input_per_mtok": 0, "output_per_mtok": 0],
            "use_defaults": false,
        ])
        #expect(!t.useDefaults)
        #expect(t.overrides["gpt-4o"] == ModelPrice(inputPerMTok: 2, outputPerMTok: 9, cachedInputPerMTok: 1))
        #expect(t.overrides["azure/gpt-4.1"] == ModelPrice(inputPerMTok: 1.5, outputPerMTok: 6))
        #expect(t.isZeroCost(provider: "vllm", type: .openaiCompatible))
        #expect(t.price(provider: "oa", type: .openai, model: "gpt-4o-mini") == nil)
        #expect(try table([:]).useDefaults)
    }

    @Test("parse errors name the field", arguments: PricingTests.errorCases)
    func parseErrors(json: JSONValue, message: String) {
        #expect(thrownMessage { _ = try table(json) } == message)
    }
}
