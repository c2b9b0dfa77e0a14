import Synchronization

/// Counters of one provider in one router. Written on the loop thread, read from any thread.
public final class ProviderStats: Sendable {
    public struct Snapshot: Sendable {
        public var requests = 0, successes = 0, failures = 0, retries = 0, fallbacks = 0
        public var promptTokens = 0, completionTokens = 0
        public var latencyMsTotal = 0.0
        public var failuresByStatus: [String: Int] = [:]
    }
    private let state = Mutex(Snapshot())

    public init() {}

    public func attemptStarted() { state.withLock { $0.requests += 1 } }
    public func retried() { state.withLock { $0.retries += 1 } }
    public func failedOver() { state.withLock { $0.fallbacks += 1 } }

    public func succeeded(latencyMs: Double, usage: Usage?) {
        state.withLock {
            $0.successes += 1
            $0.latencyMsTotal += latencyMs
            $0.promptTokens += usage?.promptTokens ?? 0
            $0.completionTokens += usage?.completionTokens ?? 0
        }
    }

    public func failed(_ status: Status, usage: Usage? = nil) {
        state.withLock {
            $0.failures += 1
            $0.failuresByStatus[status.nameString, default: 0] += 1
            $0.promptTokens += usage?.promptTokens ?? 0
            $0.completionTokens += usage?.completionTokens ?? 0
        }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}
