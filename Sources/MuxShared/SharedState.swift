// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import Synchronization

/// The router's state kept on Redis: rate limits, breakers, cooldowns, budgets and the response
/// cache, under `key_prefix`. Each method returns nil (or false) when the link is degraded, and
/// the caller then uses its local state: the shared version sits behind the same seams
/// (admission, an attempt's outcome, the budget check, cache get and put).
///
/// Per request: one EVALSHA round-trip per attempt (admission); the outcome and a cache store
/// are write-behind (pipelined with the next call); a cache lookup, when the cache is on, is one
/// more round-trip before planning. Nothing on the per-chunk path.
package final class SharedState: Sendable {
    package let link: RedisLink
    package let keys: SharedKeys
    /// The latest budget spend seen in a script's reply (router: "", lanes by name): the planner
    /// refuses on it before it even admits an attempt.
    private let spentSeen = Locked<[String: Double]>([:])
    private let cacheHits = Atomic<Int>(0)
    /// The provider+model series this router has asked admission for (models by provider),
    /// for health's view: at most `maxSeriesShown` (model names come from requests).
    private let seriesSeen = Locked<(byProvider: [String: Set<String>], count: Int)>(([:], 0))
    package static let maxSeriesShown = 1000
    private let cacheMisses = Atomic<Int>(0)

    package init(settings: SharedSettings) throws {
        try RedisLink.requireClientLibrary()
        link = RedisLink(settings: settings)
        keys = SharedKeys(prefix: settings.keyPrefix)
        link.onDeferredReply = { [spentSeen, keys] reply in Self.noteSettled(reply, keys: keys, into: spentSeen) }
        link.probe()  // connect now: the first request should not pay for it
    }

    /// A budget of the request: its key's spend is read at admission and charged after.
    package struct BudgetRef: Sendable {
        package var lane: String?  // nil = the router's
        package var windowMs: Int
        package init(lane: String?, windowMs: Int) { self.lane = lane; self.windowMs = windowMs }
    }

    package enum Verdict: Equatable, Sendable {
        case admitted
        case circuitOpen(halfOpensInMs: Int)
        case probeInFlight
        case rateLimited(waitMs: Int)
    }

    package struct Admission: Sendable {
        package var verdict: Verdict
        package var routerSpent: Double
        package var laneSpent: Double
    }

    /// What the admit script needs of one attempt.
    package struct AttemptSeries: Sendable {
        package var provider: String
        package var model: String
        package var rpm: Int?
        package var tpm: Int?
        package var breaker: BreakerSettings
        package init(provider: String, model: String, rpm: Int?, tpm: Int?, breaker: BreakerSettings) {
            self.provider = provider
            self.model = model
            self.rpm = rpm
            self.tpm = tpm
            self.breaker = breaker
        }
    }

    /// Admission of one attempt, atomically: the breaker (claiming a half-open probe), the
    /// rate limits and cooldown (taking a request and the estimate), and the budgets' spend.
    package func admit(_ s: AttemptSeries, estimatedTokens: Int, router: BudgetRef?, lane: BudgetRef?) -> Admission? {
        let command = RedisLink.Command(.admit, keyCount: 4) { a in
            addSeriesKeys(s, lane: lane, to: &a)
            a.add(s.rpm ?? 0); a.add(s.tpm ?? 0); a.add(max(0, estimatedTokens))
            a.add(s.breaker.enabled); a.add(s.breaker.cooldownMs)
            a.add(router?.windowMs ?? 0); a.add(lane?.windowMs ?? 0)
        }
        seriesSeen.withLock { seen in
            guard seen.count < Self.maxSeriesShown, seen.byProvider[s.provider, default: []].insert(s.model).inserted else { return }
            seen.count += 1
        }
        guard let reply = link.call(command) else { return nil }
        guard let a = Self.parseAdmission(reply, series: "\(s.provider)/\(s.model)") else { return nil }
        spentSeen.withLock { seen in
            if router != nil { seen[""] = a.routerSpent }
            if let name = lane?.lane { seen[name] = a.laneSpent }
        }
        return a
    }

    /// The admit script's reply {verdict, wait ms, router spent, lane spent, transition}.
    package static func parseAdmission(_ reply: RedisValue, series: String = "") -> Admission? {
        guard let a = reply.array, a.count >= 4, let code = a[0].double, let wait = a[1].double,
              let rs = a[2].double, let ls = a[3].double else { return nil }
        let ms = SafeNumbers.int(wait, lo: 0, hi: Int(Int32.max))
        if a.count > 4, let change = a[4].text, !change.isEmpty { logTransition(change, series: series) }
        let verdict: Verdict
        switch code {
        case 0: verdict = .admitted
        case 1: verdict = .circuitOpen(halfOpensInMs: max(1, ms))
        case 2: verdict = .probeInFlight
        case 3: verdict = .rateLimited(waitMs: ms)
        default: return nil
        }
        return Admission(verdict: verdict, routerSpent: rs, laneSpent: ls)
    }

    package enum Outcome: String, Sendable {
        case success = "s", countedFailure = "f", release = "r", none = "n"
    }

    /// An attempt's outcome (write-behind). False when degraded: apply it locally.
    @discardableResult
    package func settle(_ s: AttemptSeries, outcome: Outcome, estimatedTokens: Int, actualTokens: Int?, cooldownMs: Int,
                        router: BudgetRef?, routerCharge: Double, lane: BudgetRef?, laneCharge: Double) -> Bool {
        let b = s.breaker
        let command = RedisLink.Command(.settle, keyCount: 4, capacity: 384) { a in
            addSeriesKeys(s, lane: lane, to: &a)
            a.add(outcome.rawValue); a.add(b.enabled); a.add(b.consecutiveFailures); a.add(b.failureRate)
            a.add(b.minRequests); a.add(b.windowMs); a.add(b.cooldownMs)
            a.add(s.rpm ?? 0); a.add(s.tpm ?? 0); a.add(max(0, estimatedTokens)); a.add(actualTokens ?? -1)
            a.add(max(0, cooldownMs))
            a.add(router == nil ? 0 : routerCharge); a.add(router?.windowMs ?? 0)
            a.add(lane == nil ? 0 : laneCharge); a.add(lane?.windowMs ?? 0)
        }
        return link.send(command)
    }

    /// The settle script's reply {router spent, lane spent, transition, breaker key, lane key}:
    /// remembers the spend, logs a breaker's change of state.
    package static func noteSettled(_ reply: RedisValue, keys: SharedKeys, into seen: Locked<[String: Double]>) {
        guard let a = reply.array, a.count >= 5 else { return }
        seen.withLock { s in
            if let rs = a[0].double { s[""] = rs }
            if let ls = a[1].double, let key = a[4].text, let lane = SharedKeys.suffix(of: key, after: keys.lanePrefix) {
                s[lane] = ls
            }
        }
        if let change = a[2].text, !change.isEmpty, let key = a[3].text {
            logTransition(change, series: SharedKeys.suffix(of: key, after: keys.breakerPrefix) ?? key)
        }
    }

    /// "closed>open" for series "p/m" → WARN "shared circuit p/m: closed → open".
    private static func logTransition(_ change: String, series: String) {
        let states = change.split(separator: ">")
        Log.warn("shared circuit \(series): \(states.joined(separator: " → "))")
    }

    /// Has the shared spend of a budget (nil lane = the router's) reached `usd`, as last seen?
    package func exhausted(lane: String?, usd: Double) -> Bool {
        guard link.linkState == .connected else { return false }
        return spentSeen.withLock { ($0[lane ?? ""] ?? 0) >= usd }
    }

    /// A cached answer's JSON text; .some(nil) = a miss; nil = degraded (ask the local cache).
    package func cacheGet(_ key: String) -> String?? {
        let command = RedisLink.Command(.cacheGet, keyCount: 0, capacity: key.utf8.count + 64) { a in
            a.add(keys.prefix); a.add(key)
        }
        guard let reply = link.call(command) else { return nil }
        if case .string(let bytes) = reply { return .some(String(decoding: bytes, as: UTF8.self)) }
        return .some(nil)
    }

    /// Stores an answer for `ttlMs` (write-behind), keeping at most `maxEntries` in the shared
    /// cache (the soonest to expire go first). False when degraded.
    @discardableResult
    package func cachePut(_ key: String, json: String, ttlMs: Int, maxEntries: Int) -> Bool {
        link.send(RedisLink.Command(.cachePut, keyCount: 0, capacity: key.utf8.count + json.utf8.count + 96) { a in
            a.add(keys.prefix); a.add(key); a.add(json); a.add(max(1, ttlMs)); a.add(max(0, maxEntries))
        })
    }

    package func countCache(hit: Bool) {
        if hit { cacheHits.add(1, ordering: .relaxed) } else { cacheMisses.add(1, ordering: .relaxed) }
    }

    /// The link's figures plus the shared cache's hits and misses.
    package func json() -> JSONValue {
        guard case .object(var o) = link.json() else { return .null }
        o["cache_hits"] = .int(Int64(cacheHits.load(ordering: .relaxed)))
        o["cache_misses"] = .int(Int64(cacheMisses.load(ordering: .relaxed)))
        return .object(o)
    }

    /// The models of `provider` this router has asked admission for.
    package func modelsSeen(provider: String) -> Set<String> { seriesSeen.withLock { $0.byProvider[provider] ?? [] } }

    /// The 4 keys of an attempt's scripts: rate limit, breaker, router budget, lane budget.
    private func addSeriesKeys(_ s: AttemptSeries, lane: BudgetRef?, to a: inout RESPArguments) {
        keys.addRateLimit(provider: s.provider, to: &a)
        keys.addBreaker(provider: s.provider, model: s.model, to: &a)
        a.add(keys.routerBudget)
        keys.addLaneBudget(lane?.lane ?? "", to: &a)
    }
}
