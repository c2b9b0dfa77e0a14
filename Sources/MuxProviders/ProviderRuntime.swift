// SPDX-License-Identifier: Apache-2.0
import MuxConfig
import MuxProtocols
import MuxAccounting

/// A provider inside a router: its config, its rate limiter, and the state its driver keeps
/// between requests (the mock's script cursor). Shared by in-flight requests; outlives its
/// removal from the router until they finish. (Counters live in the router's MetricsRegistry.)
public final class ProviderRuntime {
    public let config: ProviderConfig
    public let limiter: RateLimiter
    /// The codec that speaks this provider's wire protocol (nil for the mock): looked up once,
    /// when the runtime is made, for attempts, probes, model lists and model management alike.
    public let codec: (any WireCodec)?
    /// Starts this provider's attempts: made once, when the router takes the provider, not per
    /// attempt. nil for a runtime built
    /// outside a router (tests hand `RequestExecution` a driver of their own).
    public let driver: (any AttemptDriver)?
    /// The prices this provider publishes (OpenRouter's `/models`), for types that publish
    /// them; nil for the others, so their price lookups take no lock.
    public let listedPrices: ListedPrices?
    /// Mock script progress; touched on the loop thread only.
    package var mockScriptIndex = 0
    package var mockScriptUsed = 0

    public init(_ config: ProviderConfig, codec: (any WireCodec)?, driver: (any AttemptDriver)?) {
        self.config = config
        self.codec = codec
        self.driver = driver
        limiter = RateLimiter(settings: config.rateLimits)
        listedPrices = config.type.publishesPrices ? ListedPrices() : nil
    }

    /// A runtime without a driver (outside a router).
    public convenience init(_ config: ProviderConfig) {
        self.init(config, codec: ProviderCatalogue.codec(for: config.type), driver: nil)
    }
    public var name: String { config.name }

    /// The next scripted behaviour of a mock provider (loop thread only).
    package func nextMockFault() -> MockOptions.Fault {
        guard let script = config.mock?.script, mockScriptIndex < script.count else { return .ok }
        let entry = script[mockScriptIndex]
        mockScriptUsed += 1
        if mockScriptUsed >= entry.times {
            mockScriptIndex += 1
            mockScriptUsed = 0
        }
        return entry.fault
    }
}
