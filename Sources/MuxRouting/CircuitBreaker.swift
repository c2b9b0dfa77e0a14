// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The per-provider circuit breaker: stops sending requests to a provider that keeps failing,
/// then lets a single probe through after a cooldown to find out whether it recovered.
///
/// closed ──(trip)──▶ open ──(cooldown passed)──▶ half_open ──(probe succeeds)──▶ closed
///                      ▲                              │
///                      └────────(probe fails)─────────┘
///
/// Pure and thread-safe: all state sits behind one `Locked`, time comes in as `nowNs`
/// (monotonic nanoseconds), so any thread may call it and tests drive it with a fake clock.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable {
        case closed, open
        case halfOpen = "half_open"
    }

    /// Number of time buckets the failure-rate window is split into: the window slides in steps
    /// of window/10, and memory stays constant however many requests pass.
    package static let bucketCount = 10

    private struct Core {
        var state: State = .closed
        var openedAtNs: UInt64 = 0
        var openedCount = 0
        var probeInFlight = false
        var consecutiveFailures = 0
        /// Attempts and failures within the failure-rate window.
        var window: SlidingWindow<AttemptTally>
    }

    /// One bucket's count of attempts and of the failures among them.
    package struct AttemptTally: AdditiveArithmetic, Sendable {
        package var attempts = 0
        package var failures = 0
        package static let zero = AttemptTally()
        // Saturating: a window's sum must never trap, however long a router runs.
        package static func + (a: Self, b: Self) -> Self {
            Self(attempts: a.attempts.addingSaturated(b.attempts), failures: a.failures.addingSaturated(b.failures))
        }
        package static func - (a: Self, b: Self) -> Self {
            Self(attempts: a.attempts.subtractingSaturated(b.attempts), failures: a.failures.subtractingSaturated(b.failures))
        }
    }

    public let settings: BreakerSettings
    private let core: Locked<Core>
    private let transitionHandler = Locked<(@Sendable (State, State) -> Void)?>(nil)
    private let cooldownNs: UInt64

    public init(settings: BreakerSettings) {
        self.settings = settings
        let window = SlidingWindow<AttemptTally>(windowNs: SafeNumbers.nanos(ms: settings.windowMs), buckets: Self.bucketCount)
        self.core = Locked(Core(window: window))
        self.cooldownNs = SafeNumbers.nanos(ms: settings.cooldownMs)
    }

    /// For logging transitions: called (outside the breaker's lock, on the thread that caused
    /// the change) with (old, new) whenever the state changes. Set it before use.
    public var onTransition: (@Sendable (State, State) -> Void)? {
        get { transitionHandler.withLock { $0 } }
        set { transitionHandler.withLock { $0 = newValue } }
    }

    /// Which failures count against a provider: provider-side ones only. A client error, a bad
    /// key or a cancel says nothing about the provider's health.
    public static func counts(_ status: Status) -> Bool {
        switch status {
        // 429 is not here: a rate-limited provider is healthy and says when to come back;
        // its Retry-After cools it down instead (the rate limiter's cooldown).
        case .timeout, .connection, .upstreamHTTP, .upstreamServer,
             .upstreamProtocol, .responseTooLarge, .streamInterrupted, .modelNotLoaded:
            return true
        default:
            return false
        }
    }

    /// May an attempt start now? closed → true. open → false until the cooldown passed; then
    /// the breaker is half_open and admits ONE probe (returns true and marks it in flight);
    /// while that probe is in flight further calls return false.
    public func allow(nowNs: UInt64) -> Bool { admits(nowNs, claim: true) }

    /// Like `allow` but claims nothing (for ordering candidates): would `allow` return true now?
    public func wouldAllow(nowNs: UInt64) -> Bool { admits(nowNs, claim: false) }

    private func admits(_ nowNs: UInt64, claim: Bool) -> Bool {
        guard settings.enabled else { return true }
        return transact(nowNs) { c in
            switch c.state {
            case .closed: return true
            case .open: return false
            case .halfOpen:
                if c.probeInFlight { return false }
                if claim { c.probeInFlight = true }
                return true
            }
        }
    }

    /// An attempt succeeded. A half-open probe's success closes the breaker (counters reset).
    public func recordSuccess(nowNs: UInt64) {
        guard settings.enabled else {
            core.withLock { c in countAttempt(&c, nowNs, failed: false); c.consecutiveFailures = 0 }
            return
        }
        transact(nowNs) { c, changes in
            switch c.state {
            case .closed:
                c.consecutiveFailures = 0
                countAttempt(&c, nowNs, failed: false)
            case .open:
                break  // a late answer to an attempt admitted before the breaker opened
            case .halfOpen:
                resetCounters(&c)
                c.probeInFlight = false
                c.state = .closed
                changes.append((.halfOpen, .closed))
            }
        }
    }

    /// An attempt failed in a way that counts (see `counts`). In closed state it may trip the
    /// breaker; a half-open probe's failure opens it again for another cooldown.
    public func recordFailure(nowNs: UInt64) {
        guard settings.enabled else {
            core.withLock { c in countAttempt(&c, nowNs, failed: true); c.consecutiveFailures += 1 }
            return
        }
        transact(nowNs) { c, changes in
            switch c.state {
            case .closed:
                c.consecutiveFailures += 1
                countAttempt(&c, nowNs, failed: true)
                if shouldTrip(&c, nowNs) {
                    open(&c, nowNs)
                    changes.append((.closed, .open))
                }
            case .open:
                break  // already open; a late failure changes nothing
            case .halfOpen:
                c.probeInFlight = false
                open(&c, nowNs)
                changes.append((.halfOpen, .open))
            }
        }
    }

    /// An admitted attempt ended without a verdict (cancelled, or its failure does not count):
    /// frees a half-open probe slot so that another attempt may probe.
    public func release(nowNs: UInt64) {
        guard settings.enabled else { return }
        transact(nowNs) { c in
            if c.state == .halfOpen { c.probeInFlight = false }
        }
    }

    /// When a breaker that refuses attempts lets a probe through: the milliseconds left of the
    /// cooldown (rounded up) while open, 0 when already half-open (its one probe in flight),
    /// nil when closed or disabled. The PMX_ERR_CIRCUIT_OPEN message states it (header promise).
    public func halfOpensInMs(nowNs: UInt64) -> Int? {
        guard settings.enabled else { return nil }
        return transact(nowNs) { c -> Int? in
            switch c.state {
            case .closed: return nil
            case .halfOpen: return 0
            case .open: return msLeftOfCooldown(c, nowNs)
            }
        }
    }

    /// The state now; reports half_open once the cooldown has passed, even before a probe.
    public func state(nowNs: UInt64) -> State {
        guard settings.enabled else { return .closed }
        return transact(nowNs) { c in c.state }
    }

    /// {"state", "consecutive_failures", "window_requests", "window_failures", "opened_count",
    ///  "retry_in_ms" (only when open)}
    public func json(nowNs: UInt64) -> JSONValue {
        let o = transact(nowNs, advancing: settings.enabled) { c -> JSONObject in
            let tally = c.window.total(nowNs: nowNs)
            var o = JSONObject()
            o["state"] = .string(c.state.rawValue)
            o["consecutive_failures"] = .int(Int64(c.consecutiveFailures))
            o["window_requests"] = .int(Int64(tally.attempts))
            o["window_failures"] = .int(Int64(tally.failures))
            o["opened_count"] = .int(Int64(c.openedCount))
            if c.state == .open { o["retry_in_ms"] = .int(Int64(msLeftOfCooldown(c, nowNs))) }
            return o
        }
        return .object(o)
    }

    // MARK: - Internals (called with the lock held)

    /// Runs `body` under the lock after moving open → half_open if the cooldown has passed, then
    /// reports every state change to `onTransition` outside the lock.
    private func transact<T>(_ nowNs: UInt64, advancing: Bool = true,
                             _ body: (inout Core, inout [(State, State)]) -> T) -> T {
        let (result, changes) = core.withLock { c -> (T, [(State, State)]) in
            var changes: [(State, State)] = []
            if advancing { advance(&c, nowNs, &changes) }
            return (body(&c, &changes), changes)
        }
        notify(changes)
        return result
    }

    private func transact<T>(_ nowNs: UInt64, advancing: Bool = true, _ body: (inout Core) -> T) -> T {
        transact(nowNs, advancing: advancing) { c, _ in body(&c) }
    }

    /// Milliseconds (rounded up) until an open breaker half-opens; at most a year (cooldown_ms).
    private func msLeftOfCooldown(_ c: Core, _ nowNs: UInt64) -> Int {
        let until = c.openedAtNs.addingSaturated(cooldownNs)
        return Int(clamping: SafeNumbers.ceilMs(ns: until > nowNs ? until - nowNs : 0))
    }

    /// open → half_open once the cooldown has passed.
    private func advance(_ c: inout Core, _ nowNs: UInt64, _ changes: inout [(State, State)]) {
        if c.state == .open && nowNs >= c.openedAtNs.addingSaturated(cooldownNs) {
            c.state = .halfOpen
            c.probeInFlight = false
            changes.append((.open, .halfOpen))
        }
    }

    private func open(_ c: inout Core, _ nowNs: UInt64) {
        c.state = .open
        c.openedAtNs = nowNs
        c.openedCount += 1
    }

    private func shouldTrip(_ c: inout Core, _ nowNs: UInt64) -> Bool {
        if settings.consecutiveFailures > 0 && c.consecutiveFailures >= settings.consecutiveFailures { return true }
        if settings.failureRate > 0 {
            let tally = c.window.total(nowNs: nowNs)
            if tally.attempts >= max(1, settings.minRequests) && Double(tally.failures) >= settings.failureRate * Double(tally.attempts) {
                return true
            }
        }
        return false
    }

    private func resetCounters(_ c: inout Core) {
        c.consecutiveFailures = 0
        c.window.clear()
    }

    private func countAttempt(_ c: inout Core, _ nowNs: UInt64, failed: Bool) {
        c.window.add(AttemptTally(attempts: 1, failures: failed ? 1 : 0), nowNs: nowNs)
    }

    private func notify(_ changes: [(State, State)]) {
        guard !changes.isEmpty, let handler = onTransition else { return }
        for (old, new) in changes { handler(old, new) }
    }
}
