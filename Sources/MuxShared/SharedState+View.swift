// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The shared rate limits and circuit breakers as health shows them: read from Redis when
/// health is asked (one EVALSHA of the read-only `view` script), never on the request path.
extension SharedState {
    /// A provider's shared rpm / tpm buckets and 429 cooldown, refilled to now.
    package struct RateLimitView: Sendable, Equatable {
        package var requestsAvailable: Double
        package var tokensAvailable: Double
        package var cooldownMs: Int
    }

    /// One provider+model's shared breaker, moved to half-open when its cooldown has passed (as
    /// the next admission would), its window counted as the settle script counts it.
    package struct CircuitView: Sendable, Equatable {
        package enum State: Int, Sendable { case closed = 0, open = 1, halfOpen = 2 }
        package var state: State
        package var consecutiveFailures: Int
        package var windowRequests: Int
        package var windowFailures: Int
        package var openedCount: Int
        package var halfOpensInMs: Int
    }

    /// What `view` reads: the rate limits of some providers, the breakers of some series.
    package struct ViewRequest: Sendable {
        package var limits: [(provider: String, rpm: Int?, tpm: Int?)] = []
        package var circuits: [(provider: String, model: String, breaker: BreakerSettings)] = []
        package init() {}
    }

    /// The shared state of `request`'s rate limits and circuits, in its order; nil when the link
    /// is degraded or the reply is not the script's (the caller shows its local state).
    package func view(_ request: ViewRequest) -> (limits: [RateLimitView], circuits: [CircuitView])? {
        var keys: [String] = []
        var args = [String(request.limits.count)]
        keys.reserveCapacity(request.limits.count + request.circuits.count)
        for l in request.limits {
            keys.append(self.keys.rateLimit(provider: l.provider))
            args += [String(l.rpm ?? 0), String(l.tpm ?? 0)]
        }
        for c in request.circuits {
            keys.append(self.keys.breaker(provider: c.provider, model: c.model))
            args += [String(c.breaker.windowMs), String(c.breaker.cooldownMs)]
        }
        guard let reply = link.call(RedisLink.Command(.view, keys: keys, args: args)) else { return nil }
        return Self.parseView(reply, limits: request.limits.count, circuits: request.circuits.count)
    }

    /// The view script's reply: `limits` arrays {requests, tokens, cooldown ms}, then `circuits`
    /// arrays {state, consecutive failures, window attempts, window failures, opened count,
    /// ms until half-open}. Counts are clamped into 0...Int32.max (never a trap on a stray value).
    package static func parseView(_ reply: RedisValue, limits: Int, circuits: Int) -> (limits: [RateLimitView], circuits: [CircuitView])? {
        guard let rows = reply.array, rows.count == limits + circuits else { return nil }
        func count(_ v: RedisValue) -> Int? { v.double.map { SafeNumbers.int($0, lo: 0, hi: Int(Int32.max)) } }
        var l: [RateLimitView] = []
        var c: [CircuitView] = []
        for (i, row) in rows.enumerated() {
            guard let f = row.array else { return nil }
            if i < limits {
                guard f.count == 3, let r = f[0].double, let t = f[1].double, let cd = count(f[2]) else { return nil }
                l.append(RateLimitView(requestsAvailable: r, tokensAvailable: t, cooldownMs: cd))
            } else {
                guard f.count == 6, let code = count(f[0]), let state = CircuitView.State(rawValue: code),
                      let cf = count(f[1]), let a = count(f[2]), let fails = count(f[3]), let oc = count(f[4]),
                      let wait = count(f[5]) else { return nil }
                c.append(CircuitView(state: state, consecutiveFailures: cf, windowRequests: a, windowFailures: fails,
                                     openedCount: oc, halfOpensInMs: wait))
            }
        }
        return (l, c)
    }
}
