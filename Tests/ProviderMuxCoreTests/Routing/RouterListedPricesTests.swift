// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting
import Testing

// When the router asks a provider for its published prices on its own (OpenRouter's /models).

@Suite("Router: listed prices")
struct RouterListedPricesTests {
    func config(_ json: String) throws -> ProviderConfig {
        try ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
    }

    @Test("only openrouter, by default only at openrouter.ai; fetch_pricing decides either way")
    func fetchesAtStart() throws {
        #expect(Router.fetchesPricesAtStart(try config(#"{"name":"or","type":"openrouter","api_key":"k"}"#)))
        #expect(!Router.fetchesPricesAtStart(try config(#"{"name":"or","type":"openrouter","api_key":"k","base_url":"http://127.0.0.1:9/v1"}"#)))
        #expect(Router.fetchesPricesAtStart(try config(#"{"name":"or","type":"openrouter","api_key":"k","base_url":"http://127.0.0.1:9/v1","fetch_pricing":true}"#)))
        #expect(!Router.fetchesPricesAtStart(try config(#"{"name":"or","type":"openrouter","api_key":"k","fetch_pricing":false}"#)))
        #expect(!Router.fetchesPricesAtStart(try config(#"{"name":"o","type":"openai","api_key":"k"}"#)))
        // The option is openrouter's alone.
        #expect(throws: PMXError.self) { _ = try config(#"{"name":"o","type":"openai","api_key":"k","fetch_pricing":true}"#) }
    }
}
