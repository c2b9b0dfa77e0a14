// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols

/// Decides what follows a failed attempt. Pure: time and randomness come in as arguments.
public enum RetryPolicy {
    public enum Decision: Equatable, Sendable {
        /// Try the same provider again after this many milliseconds.
        case retry(afterMs: Int)
        /// Move on to the next provider (or give up when there is none).
        case failover
        /// Stop routing (the caller cancelled).
        case stop
    }

    /// - Parameters:
    ///   - attemptsOnProvider: attempts already made on this provider, including the failed one.
    ///   - random: uniform in [0, 1), for jitter.
    public static func decide(_ error: PMXError, retryAfterMs: Int?, attemptsOnProvider: Int,
                              settings: RetrySettings, random: Double) -> Decision {
        if error.status == .cancelled || error.status == .routerClosed { return .stop }
        // The provider says the request itself is invalid: another provider would say the
        // same, so fail now with its message (explicit fallbacks for e.g. context length are
        // a routing feature, not a blanket retry).
        switch error.status {
        case .upstreamBadRequest, .contextLengthExceeded, .contentFiltered: return .stop
        default: break
        }
        // Known to fail the same way again (a certificate that failed verification).
        if error.retryable == false { return .failover }
        let settings = settings.resolved(for: error.status.errorClass)
        let retryable = settings.retryOn.map { $0.contains(error.status.errorClass) } ?? HTTPErrorMapping.isRetryable(error)
        guard retryable, attemptsOnProvider < settings.maxAttempts else { return .failover }
        // A server asking for a longer wait than we accept: better served elsewhere.
        if let ra = retryAfterMs, ra > settings.maxRetryAfterMs { return .failover }
        return .retry(afterMs: backoffMs(retry: attemptsOnProvider, retryAfterMs: retryAfterMs, settings: settings, random: random))
    }

    /// Exponential back-off with ± jitter for the n-th retry (n ≥ 1), never below Retry-After.
    public static func backoffMs(retry n: Int, retryAfterMs: Int?, settings: RetrySettings, random: Double) -> Int {
        let cap = Double(max(0, settings.maxBackoffMs))
        var base = Double(max(0, settings.initialBackoffMs))
        // Stops once at the cap, so n = 10^6 costs no more than the few steps to get there; the
        // step count is bounded too (multiplier 1, or NaN in settings built in code); config
        // allows at most 100 attempts, far inside it.
        var step = 1
        while step < n && base < cap && step < 10_000 { base *= settings.multiplier; step += 1 }
        base = SafeNumbers.clampFinite(base, 0, cap)
        let jitter = SafeNumbers.clampFinite(settings.jitter, 0, 1)
        let jittered = SafeNumbers.clampFinite(base * (1 + jitter * (2 * SafeNumbers.clampFinite(random, 0, 1) - 1)), 0, cap)
        var delay = SafeNumbers.int(jittered.rounded(), lo: 0, hi: Int.max)
        if let ra = retryAfterMs { delay = max(delay, ra) }  // Retry-After is a minimum
        return delay
    }
}
