// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
import Testing

// OpenRouter's /models prices (USD per token, as strings) → ModelPrice (USD per MTok).

@Suite("OpenRouterPricing")
struct OpenRouterPricingTests {
    @Test("per-token strings become per-MTok prices keyed by id; unusable entries are left out")
    func prices() {
        let body = #"""
        {"data":[
          {"id":"anthropic/claude-sonnet-4","pricing":{"prompt":"0.000003","completion":"0.000015","input_cache_read":"0.0000003","input_cache_write":"0.00000375"}},
          {"id":"num/model","pricing":{"prompt":0.000001,"completion":0.000002}},
          {"id":"openrouter/auto","pricing":{"prompt":"-1","completion":"-1"}},
          {"id":"bad/text","pricing":{"prompt":"free","completion":"0"}},
          {"id":"no/pricing"},
          {"id":"half/priced","pricing":{"prompt":"0.000001"}},
          {"id":"huge/price","pricing":{"prompt":"1e300","completion":"0"}},
          {"pricing":{"prompt":"0","completion":"0"}}
        ]}
        """#
        let p = OpenRouterPricing.prices(fromModels: Array(body.utf8))
        #expect(Set(p.keys) == ["anthropic/claude-sonnet-4", "num/model"])
        let c = p["anthropic/claude-sonnet-4"]!
        #expect(abs(c.inputPerMTok - 3) < 1e-9 && abs(c.outputPerMTok - 15) < 1e-9)
        #expect(abs((c.cachedInputPerMTok ?? 0) - 0.3) < 1e-9)
        #expect(abs((c.cacheWriteInputPerMTok ?? 0) - 3.75) < 1e-9)
        #expect(p["num/model"]?.cachedInputPerMTok == nil && p["num/model"]?.cacheWriteInputPerMTok == nil)
    }

    @Test("a body that is no listing gives no prices")
    func notAListing() {
        #expect(OpenRouterPricing.prices(fromModels: Array("not json".utf8)).isEmpty)
        #expect(OpenRouterPricing.prices(fromModels: Array(#"{"data":5}"#.utf8)).isEmpty)
    }

    @Test("listed prices come after configured ones and before the built-in list")
    func lookupOrder() {
        let listed = ListedPrices()
        listed.replace(["anthropic/claude-sonnet-4": ModelPrice(inputPerMTok: 4, outputPerMTok: 20)])
        let plain = PricingTable()
        #expect(plain.price(provider: "or", type: .openrouter, model: "anthropic/claude-sonnet-4")?.inputPerMTok == 3, "built-in")
        #expect(plain.price(provider: "or", type: .openrouter, model: "anthropic/claude-sonnet-4", listed: listed)?.inputPerMTok == 4)
        let configured = PricingTable(overrides: ["or/anthropic/claude-sonnet-4": ModelPrice(inputPerMTok: 1, outputPerMTok: 1)])
        #expect(configured.price(provider: "or", type: .openrouter, model: "anthropic/claude-sonnet-4", listed: listed)?.inputPerMTok == 1)
        listed.replace([:])
        #expect(listed.count == 1, "an empty listing keeps the last prices")
    }
}
