// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxAccounting
import Testing

// Prompt-cache writes and reads priced at their own rates (issue 16 item 2).

@Suite("Pricing: prompt cache writes and reads")
struct CachePricingTests {
    @Test("cache writes at the write rate, reads at the cached rate, the rest at the input rate")
    func rates() throws {
        let p = ModelPrice(inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWriteInputPerMTok: 3.75)
        // 1M prompt tokens: 200k read, 500k written, 300k plain; 100k completion.
        let u = Usage(promptTokens: 1_000_000, completionTokens: 100_000, cachedTokens: 200_000, cacheWriteTokens: 500_000)
        #expect(abs(p.cost(u) - (0.3 * 3 + 0.2 * 0.3 + 0.5 * 3.75 + 0.1 * 15)) < 1e-9)
        // Without a write price, writes cost the input rate.
        let q = ModelPrice(inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3)
        #expect(abs(q.cost(u) - (0.8 * 3 + 0.2 * 0.3 + 0.1 * 15)) < 1e-9)
        // Counts beyond the prompt are bounded by it.
        let over = Usage(promptTokens: 100, completionTokens: 0, cachedTokens: 60, cacheWriteTokens: 1_000)
        #expect(abs(p.cost(over) - (60 * 0.3 + 40 * 3.75) / 1_000_000) < 1e-12)
    }

    @Test("the pricing section takes cache_write_input_per_mtok; Claude's list prices have one")
    func config() throws {
        var r = try FieldReader(["m": ["input_per_mtok": 1, "output_per_mtok": 2, "cache_write_input_per_mtok": 1.25]], path: "pricing")
        let t = try PricingTable.parse(&r)
        #expect(t.overrides["m"]?.cacheWriteInputPerMTok == 1.25)
        #expect(t.overrides["m"]?.json()["cache_write_input_per_mtok"] == 1.25)
        #expect(PricingTable.defaults["claude-sonnet-4-5"]?.cacheWriteInputPerMTok == 3.75)
    }
}
