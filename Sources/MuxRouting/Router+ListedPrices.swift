// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxAccounting
import MuxProviders

/// Prices a provider publishes (OpenRouter's `/models`), learnt by the router so that its models
/// get `cost_usd` without a `pricing` section (configured prices still win).
extension Router {
    /// Does the router fetch `p`'s published prices on its own when it takes it? The provider
    /// option `fetch_pricing` decides; by default only the vendor's own endpoint is asked (a
    /// provider pointed elsewhere, a proxy or a test server, gets no request it did not expect).
    /// `pmx_router_models` learns the prices of every such provider whatever this says.
    package static func fetchesPricesAtStart(_ c: ProviderConfig) -> Bool {
        guard c.type.publishesPrices else { return false }
        if let v = c.options["fetch_pricing"]?.boolValue { return v }
        return c.baseURL == c.type.defaults.defaultBaseURL
    }

    /// One `/models` request in the background (loop thread); its prices replace the listed
    /// ones. A failure only logs: requests then go on without `cost_usd`, as before.
    package func fetchListedPrices(_ p: ProviderRuntime) {
        guard let listed = p.listedPrices else { return }
        loop.execute { [self] in
            startProbe(p, timeoutMs: timeouts.healthMs, call: { codec, c in codec.modelsCall(provider: c) }) { answer in
                guard let a = answer else { return }
                if let e = a.error(mappedBy: p.codec, provider: p.config) {
                    Log.warn("provider \(p.name): prices not fetched: \(e.message)")
                    return
                }
                Self.learnPrices(p, listed, from: a.body)
            }
        }
    }

    /// Takes the prices of a `/models` answer (any thread).
    package static func learnPrices(_ p: ProviderRuntime, _ listed: ListedPrices, from body: [UInt8]) {
        let prices = OpenRouterPricing.prices(fromModels: body)
        listed.replace(prices)
        Log.debug("provider \(p.name): \(prices.count) model prices from its model list")
    }
}
