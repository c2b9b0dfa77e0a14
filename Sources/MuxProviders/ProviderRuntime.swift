import MuxConfig
import MuxAccounting

/// A provider inside a router: its config, its rate limiter, and the state its driver keeps
/// between requests (the mock's script cursor). Shared by in-flight requests; outlives its
/// removal from the router until they finish. (Counters live in the router's MetricsRegistry.)
public final class ProviderRuntime {
    public let config: ProviderConfig
    public let limiter: RateLimiter
    /// Starts this provider's attempts: made once, when the router takes the provider (its
    /// codec looked up in the catalogue then), not per attempt. nil for a runtime built
    /// outside a router (tests hand `RequestExecution` a driver of their own).
    public let driver: (any AttemptDriver)?
    /// Mock script progress; touched on the loop thread only.
    package var mockScriptIndex = 0
    package var mockScriptUsed = 0

    public init(_ config: ProviderConfig, driver: (any AttemptDriver)?) {
        self.config = config
        self.driver = driver
        limiter = RateLimiter(settings: config.rateLimits)
    }

    /// A runtime without a driver (outside a router).
    public convenience init(_ config: ProviderConfig) { self.init(config, driver: nil) }
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
