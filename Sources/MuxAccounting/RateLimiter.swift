// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Per-provider requests-per-minute and tokens-per-minute token buckets, plus a cooldown the
/// server asked for (Retry-After, x-ratelimit-reset-*).
///
/// Buckets start full (capacity = rpm / tpm) and refill continuously at capacity per 60 s.
/// The token bucket is charged with an estimate before the request and corrected with the
/// real usage afterwards, so it may go into debt (a negative level) when the estimate was low.
///
/// Pure and thread-safe: state behind one `Locked`, time passed in as `nowNs`.
public final class RateLimiter: Sendable {
    private struct Core {
        var requests: Double
        var tokens: Double
        var lastNs: UInt64?
        var cooldownUntilNs: UInt64 = 0
    }

    /// Slack for floating-point refill arithmetic: a bucket refilled to 0.9999999999 holds 1.
    private static let epsilon = 1e-6
    private static let minuteNs = 60_000_000_000.0

    public let settings: RateLimitSettings
    private let core: Locked<Core>

    public init(settings: RateLimitSettings) {
        self.settings = settings
        core = Locked(Core(requests: Double(settings.rpm ?? 0), tokens: Double(settings.tpm ?? 0)))
    }

    /// Takes one request and `estimatedTokens` from the buckets if both have room. A request
    /// estimated above the whole tpm capacity passes when the bucket is full (else it could never
    /// pass). Returns false and takes nothing when either bucket is short, or during a cooldown.
    public func tryAcquire(estimatedTokens: Int, nowNs: UInt64) -> Bool {
        let estimate = Double(max(0, estimatedTokens))
        return core.withLock { c in
            refill(&c, nowNs)
            guard nowNs >= c.cooldownUntilNs else { return false }
            if settings.rpm != nil && c.requests + Self.epsilon < 1 { return false }
            if let tpm = settings.tpm, c.tokens + Self.epsilon < min(estimate, Double(tpm)) { return false }
            if settings.rpm != nil { c.requests -= 1 }
            if settings.tpm != nil { c.tokens -= estimate }
            return true
        }
    }

    /// After the answer: charges (actual - estimated) tokens to the tpm bucket. An underestimate
    /// may leave the bucket in debt; an overestimate gives tokens back (up to capacity).
    public func settle(estimatedTokens: Int, actualTokens: Int, nowNs: UInt64) {
        guard let tpm = settings.tpm else { return }
        core.withLock { c in
            refill(&c, nowNs)
            // Subtracted as doubles: an upstream's usage near Int.max must not trap here.
            c.tokens = min(Double(tpm), c.tokens - (Double(actualTokens) - Double(estimatedTokens)))
        }
    }

    /// The server said wait: no request passes before nowNs + ms. Keeps the later of two cooldowns.
    public func coolDown(forMs ms: Int, nowNs: UInt64) {
        let target = nowNs.addingSaturated(SafeNumbers.nanos(ms: ms))
        core.withLock { c in c.cooldownUntilNs = max(c.cooldownUntilNs, target) }
    }

    /// Milliseconds until `tryAcquire(estimatedTokens:)` could pass (0 if it would pass now).
    public func waitMs(estimatedTokens: Int, nowNs: UInt64) -> Int {
        let estimate = Double(max(0, estimatedTokens))
        return core.withLock { c in
            refill(&c, nowNs)
            var waitNs = c.cooldownUntilNs > nowNs ? Double(c.cooldownUntilNs - nowNs) : 0
            if let rpm = settings.rpm, c.requests + Self.epsilon < 1 {
                waitNs = max(waitNs, (1 - c.requests) * Self.minuteNs / Double(rpm))
            }
            if let tpm = settings.tpm {
                let need = min(estimate, Double(tpm))
                if c.tokens + Self.epsilon < need {
                    waitNs = max(waitNs, (need - c.tokens) * Self.minuteNs / Double(tpm))
                }
            }
            // Whole nanoseconds first, so that float noise (1_000_000.0001 ns) does not add a millisecond.
            let ms = (waitNs.rounded() / 1_000_000).rounded(.up)
            return SafeNumbers.int(ms, lo: 0, hi: Int.max)
        }
    }

    /// {"rpm": n?, "tpm": n?, "requests_available": x?, "tokens_available": x?, "cooldown_ms": n}
    public func json(nowNs: UInt64) -> JSONValue {
        core.withLock { c in
            refill(&c, nowNs)
            var o = JSONObject()
            if let rpm = settings.rpm {
                o["rpm"] = .int(Int64(rpm))
            }
            if let tpm = settings.tpm {
                o["tpm"] = .int(Int64(tpm))
            }
            if settings.rpm != nil { o["requests_available"] = .double(roundedForDisplay(c.requests)) }
            if settings.tpm != nil { o["tokens_available"] = .double(roundedForDisplay(c.tokens)) }
            let leftNs = c.cooldownUntilNs > nowNs ? c.cooldownUntilNs - nowNs : 0
            o["cooldown_ms"] = .int(Int64(SafeNumbers.ceilMs(ns: leftNs)))  // ≤ 1.9e13: fits
            return .object(o)
        }
    }

    /// Adds what flowed in since the last call (capped at capacity). The clock never runs
    /// backwards here: an earlier `nowNs` than already seen adds nothing.
    private func refill(_ c: inout Core, _ nowNs: UInt64) {
        guard let last = c.lastNs else { c.lastNs = nowNs; return }
        guard nowNs > last else { return }
        let elapsed = Double(nowNs - last)
        if let rpm = settings.rpm {
            c.requests = min(Double(rpm), c.requests + elapsed * Double(rpm) / Self.minuteNs)
        }
        if let tpm = settings.tpm {
            c.tokens = min(Double(tpm), c.tokens + elapsed * Double(tpm) / Self.minuteNs)
        }
        c.lastNs = nowNs
    }
}

private func roundedForDisplay(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
