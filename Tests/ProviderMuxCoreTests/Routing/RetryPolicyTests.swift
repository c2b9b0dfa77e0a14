// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// RetryPolicy.decide / backoffMs: which failures are retried, how long to wait, when to fail over.

private func settings(maxAttempts: Int = 3, initial: Int = 100, max: Int = 1000, multiplier: Double = 2,
                      jitter: Double = 0, maxRetryAfter: Int = 60_000) -> RetrySettings {
    var s = RetrySettings()
    s.maxAttempts = maxAttempts
    s.initialBackoffMs = initial
    s.maxBackoffMs = max
    s.multiplier = multiplier
    s.jitter = jitter
    s.maxRetryAfterMs = maxRetryAfter
    return s
}

/// The error an HTTP answer with this status maps to (as the HTTP driver builds it).
private func http(_ code: Int) -> PMXError { HTTPErrorMapping.error(status: code, body: [], provider: "p") }

@Suite("RetryPolicy")
struct RetryPolicyTests {
    static let retryable: [PMXError] = [
        PMXError(.connection, "refused"), PMXError(.timeout, "slow"),
        http(429), http(500), http(502), http(503), http(504), http(599), http(408), http(409),
    ]
    static let notRetryable: [PMXError] = [
        http(401), http(403), http(404), http(418),
        PMXError(.upstreamProtocol, "garbage"), PMXError(.responseTooLarge, "big"), PMXError(.internal, "x"),
    ]

    @Test("retryable classes are retried until max_attempts, then fail over", arguments: retryable)
    func retryableUntilMax(error: PMXError) {
        let s = settings(maxAttempts: 3)
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 1, settings: s, random: 0.5) == .retry(afterMs: 100))
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 2, settings: s, random: 0.5) == .retry(afterMs: 200))
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 3, settings: s, random: 0.5) == .failover)
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(maxAttempts: 1), random: 0.5) == .failover)
    }

    @Test("non-retryable classes fail over at once", arguments: notRetryable)
    func notRetried(error: PMXError) {
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(maxAttempts: 10), random: 0.5) == .failover)
        #expect(RetryPolicy.decide(error, retryAfterMs: 10, attemptsOnProvider: 1, settings: settings(maxAttempts: 10), random: 0.5) == .failover)
    }

    @Test("a connection error marked not retryable (a TLS certificate that failed verification) fails over at once")
    func certificateFailsOver() {
        let cert = HTTPErrorMapping.error(.certificate("TLS certificate verification failed: self-signed certificate"), provider: "p")
        #expect(cert.status == .connection)
        #expect(cert.retryable == false)
        #expect(RetryPolicy.decide(cert, retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(maxAttempts: 10), random: 0.5) == .failover)
        // Even when the class is listed in retry_on.
        var s = settings(maxAttempts: 10)
        s.retryOn = ["network"]
        #expect(RetryPolicy.decide(cert, retryAfterMs: nil, attemptsOnProvider: 1, settings: s, random: 0.5) == .failover)
        #expect(RetryPolicy.decide(PMXError(.connection, "refused"), retryAfterMs: nil, attemptsOnProvider: 1, settings: s, random: 0.5) == .retry(afterMs: 100))
    }

    static let invalidRequest: [PMXError] = [http(400), http(413), http(422)]

    @Test("the provider calling the request invalid stops routing: no retry, no failover", arguments: invalidRequest)
    func invalidRequestStops(error: PMXError) {
        #expect(RetryPolicy.decide(error, retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(maxAttempts: 10), random: 0.5) == .stop)
    }

    @Test("HTTP statuses map to the documented classes")
    func classes() {
        #expect(http(429).status == .rateLimited)
        #expect(http(408).status == .timeout)
        #expect(http(409).status == .upstreamHTTP)
        #expect(http(503).status == .upstreamServer)
        #expect(http(401).status == .auth)
        #expect(http(404).status == .modelNotFound)
        #expect(http(400).status == .upstreamBadRequest)
        #expect(HTTPErrorMapping.isRetryable(http(409)))
        #expect(!HTTPErrorMapping.isRetryable(http(418)))
    }

    @Test("a cancelled request (or a closing router) stops: no retry, no failover")
    func cancelled() {
        #expect(RetryPolicy.decide(PMXError(.cancelled, "c"), retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(), random: 0.5) == .stop)
        #expect(RetryPolicy.decide(PMXError(.routerClosed, "c"), retryAfterMs: nil, attemptsOnProvider: 1, settings: settings(), random: 0.5) == .stop)
        #expect(RetryPolicy.decide(PMXError(.cancelled, "c"), retryAfterMs: nil, attemptsOnProvider: 9, settings: settings(), random: 0.5) == .stop)
    }

    @Test("exponential growth by the multiplier, capped at max_backoff_ms")
    func exponential() {
        let s = settings(initial: 100, max: 1000, multiplier: 2, jitter: 0)
        let delays = (1...8).map { RetryPolicy.backoffMs(retry: $0, retryAfterMs: nil, settings: s, random: 0.5) }
        #expect(delays == [100, 200, 400, 800, 1000, 1000, 1000, 1000])
        let s3 = settings(initial: 10, max: 100_000, multiplier: 3, jitter: 0)
        #expect((1...5).map { RetryPolicy.backoffMs(retry: $0, retryAfterMs: nil, settings: s3, random: 0.3) } == [10, 30, 90, 270, 810])
        let s15 = settings(initial: 200, max: 100_000, multiplier: 1.5, jitter: 0)
        #expect((1...4).map { RetryPolicy.backoffMs(retry: $0, retryAfterMs: nil, settings: s15, random: 0) } == [200, 300, 450, 675])
        // Multiplier 1 is constant back-off; a huge retry number does not overflow.
        #expect(RetryPolicy.backoffMs(retry: 50, retryAfterMs: nil, settings: settings(multiplier: 1), random: 0.5) == 100)
        #expect(RetryPolicy.backoffMs(retry: 10_000, retryAfterMs: nil, settings: settings(max: 5000, multiplier: 100), random: 0.5) == 5000)
        #expect(RetryPolicy.backoffMs(retry: 3, retryAfterMs: nil, settings: settings(initial: 0), random: 0.9) == 0)
    }

    @Test("decide() uses the attempt count as the retry number")
    func decideGrows() {
        let s = settings(maxAttempts: 10, initial: 50, max: 10_000, multiplier: 2, jitter: 0)
        let e = http(503)
        #expect((1...5).map { RetryPolicy.decide(e, retryAfterMs: nil, attemptsOnProvider: $0, settings: s, random: 0) }
                == [50, 100, 200, 400, 800].map { .retry(afterMs: $0) })
    }

    @Test("jitter: ± jitter × base, from random 0 (lowest) to ~1 (highest), 0.5 = none")
    func jitter() {
        let s = settings(initial: 1000, max: 100_000, jitter: 0.2)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: s, random: 0) == 800)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: s, random: 0.5) == 1000)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: s, random: 0.999_999) == 1200)
        #expect(RetryPolicy.backoffMs(retry: 2, retryAfterMs: nil, settings: s, random: 0) == 1600)
        #expect(RetryPolicy.backoffMs(retry: 2, retryAfterMs: nil, settings: s, random: 0.999_999) == 2400)
        for r in stride(from: 0.0, to: 1.0, by: 0.05) {
            let d = RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: s, random: r)
            #expect(d >= 800 && d <= 1200, "random \(r) → \(d)")
        }
        // Full jitter (1.0) reaches 0 at random 0 and never goes negative.
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: settings(initial: 100, jitter: 1), random: 0) == 0)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: nil, settings: settings(initial: 100, jitter: 1), random: 0.999_999) == 200)
    }

    @Test("Retry-After is a minimum, never a replacement for a longer back-off")
    func retryAfterMinimum() {
        let s = settings(initial: 100, max: 10_000, jitter: 0)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: 5000, settings: s, random: 0.5) == 5000)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: 30, settings: s, random: 0.5) == 100)
        #expect(RetryPolicy.backoffMs(retry: 4, retryAfterMs: 500, settings: s, random: 0.5) == 800)
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: 0, settings: s, random: 0.5) == 100)
        // Above max_backoff_ms too: the server's wait wins over the cap.
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: 20_000, settings: s, random: 0.5) == 20_000)
        #expect(RetryPolicy.decide(http(429), retryAfterMs: 5000, attemptsOnProvider: 1, settings: s, random: 0.5) == .retry(afterMs: 5000))
        // Jitter never takes the delay below Retry-After.
        #expect(RetryPolicy.backoffMs(retry: 1, retryAfterMs: 100, settings: settings(initial: 100, jitter: 0.5), random: 0) == 100)
    }

    @Test("a Retry-After above max_retry_after_ms fails over instead of waiting")
    func retryAfterTooLong() {
        let s = settings(maxAttempts: 5, maxRetryAfter: 2000)
        #expect(RetryPolicy.decide(http(429), retryAfterMs: 2001, attemptsOnProvider: 1, settings: s, random: 0.5) == .failover)
        #expect(RetryPolicy.decide(http(503), retryAfterMs: 60_000, attemptsOnProvider: 1, settings: s, random: 0.5) == .failover)
        #expect(RetryPolicy.decide(http(429), retryAfterMs: 2000, attemptsOnProvider: 1, settings: s, random: 0.5) == .retry(afterMs: 2000))
    }
}
