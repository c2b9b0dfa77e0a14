// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxAccounting

/// Why a request moves on to fallback models: after every candidate failed, or after an error
/// that only a different model can cure.
public enum FallbackKind: Sendable {
    case general, contextWindow, contentPolicy
}

/// How an admitted attempt ended, for the router's breakers, rate limiters and budgets.
public enum AttemptOutcome {
    case success(Usage?)
    case failure(PMXError, retryAfterMs: Int?, partialUsage: Usage?)
    /// Cancelled while running: no verdict on the provider.
    case abandoned
}

/// What the router lends one request: shared counters and the policies consulted around each
/// attempt. Every closure runs on the loop thread. The defaults admit everything and price
/// nothing, so a bare `RequestExecution` (tests) needs no router.
public final class ExecutionContext {
    public let metrics: MetricsRegistry
    /// nil = go ahead. Otherwise why this candidate is passed over right now (its circuit is
    /// open, it is at its rate limit); a candidate admitted here is later reported to
    /// `attemptEnded` exactly once.
    public var admit: (RequestExecution.Candidate) -> PMXError? = { _ in nil }
    public var attemptEnded: (RequestExecution.Candidate, AttemptOutcome) -> Void = { _, _ in }
    /// The cost in USD of `usage` on a candidate; nil when the model has no price.
    public var cost: (RequestExecution.Candidate, Usage) -> Double? = { _, _ in nil }
    /// The next fallback: given the model/group names tried so far (the request's first) and the
    /// candidate that failed last, the next name to try and its candidates; nil when there is none.
    public var fallback: ((FallbackKind, [String], RequestExecution.Candidate) -> (label: String, candidates: [RequestExecution.Candidate])?)?

    public init(metrics: MetricsRegistry = MetricsRegistry()) { self.metrics = metrics }
}
