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
    static let bucketCount = 10

    private struct Core {
        var state: State = .closed
        var openedAtNs: UInt64 = 0
        var openedCount = 0
        var probeInFlight = false
        var consecutiveFailures = 0
        /// Latest time seen: the ring never moves backwards if callers' clocks disagree slightly.
        var latestNs: UInt64 = 0
        var bucketEpoch = [UInt64](repeating: .max, count: CircuitBreaker.bucketCount)
        var bucketAttempts = [Int](repeating: 0, count: CircuitBreaker.bucketCount)
        var bucketFailures = [Int](repeating: 0, count: CircuitBreaker.bucketCount)
    }

    public let settings: BreakerSettings
    private let core = Locked(Core())
    private let transitionHandler = Locked<(@Sendable (State, State) -> Void)?>(nil)
    private let bucketNs: UInt64
    private let cooldownNs: UInt64

    public init(settings: BreakerSettings) {
        self.settings = settings
        let windowNs = breakerMsToNs(settings.windowMs)
        self.bucketNs = max(1, windowNs / UInt64(Self.bucketCount))
        self.cooldownNs = breakerMsToNs(settings.cooldownMs)
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
    public func allow(nowNs: UInt64) -> Bool {
        guard settings.enabled else { return true }
        let (ok, changes) = core.withLock { c -> (Bool, [(State, State)]) in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
            switch c.state {
            case .closed: return (true, changes)
            case .open: return (false, changes)
            case .halfOpen:
                if c.probeInFlight { return (false, changes) }
                c.probeInFlight = true
                return (true, changes)
            }
        }
        notify(changes)
        return ok
    }

    /// Like `allow` but claims nothing (for ordering candidates): would `allow` return true now?
    public func wouldAllow(nowNs: UInt64) -> Bool {
        guard settings.enabled else { return true }
        let (ok, changes) = core.withLock { c -> (Bool, [(State, State)]) in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
            switch c.state {
            case .closed: return (true, changes)
            case .open: return (false, changes)
            case .halfOpen: return (!c.probeInFlight, changes)
            }
        }
        notify(changes)
        return ok
    }

    /// An attempt succeeded. A half-open probe's success closes the breaker (counters reset).
    public func recordSuccess(nowNs: UInt64) {
        guard settings.enabled else {
            core.withLock { c in countAttempt(&c, nowNs, failed: false); c.consecutiveFailures = 0 }
            return
        }
        let changes = core.withLock { c -> [(State, State)] in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
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
            return changes
        }
        notify(changes)
    }

    /// An attempt failed in a way that counts (see `counts`). In closed state it may trip the
    /// breaker; a half-open probe's failure opens it again for another cooldown.
    public func recordFailure(nowNs: UInt64) {
        guard settings.enabled else {
            core.withLock { c in countAttempt(&c, nowNs, failed: true); c.consecutiveFailures += 1 }
            return
        }
        let changes = core.withLock { c -> [(State, State)] in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
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
            return changes
        }
        notify(changes)
    }

    /// An admitted attempt ended without a verdict (cancelled, or its failure does not count):
    /// frees a half-open probe slot so that another attempt may probe.
    public func release(nowNs: UInt64) {
        guard settings.enabled else { return }
        let changes = core.withLock { c -> [(State, State)] in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
            if c.state == .halfOpen { c.probeInFlight = false }
            return changes
        }
        notify(changes)
    }

    /// When a breaker that refuses attempts lets a probe through: the milliseconds left of the
    /// cooldown (rounded up) while open, 0 when already half-open (its one probe in flight),
    /// nil when closed or disabled. The PMX_ERR_CIRCUIT_OPEN message states it (header promise).
    public func halfOpensInMs(nowNs: UInt64) -> Int? {
        guard settings.enabled else { return nil }
        let (ms, changes) = core.withLock { c -> (Int?, [(State, State)]) in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
            switch c.state {
            case .closed: return (nil, changes)
            case .halfOpen: return (0, changes)
            case .open: return (msLeftOfCooldown(c, nowNs), changes)
            }
        }
        notify(changes)
        return ms
    }

    /// The state now; reports half_open once the cooldown has passed, even before a probe.
    public func state(nowNs: UInt64) -> State {
        guard settings.enabled else { return .closed }
        let (s, changes) = core.withLock { c -> (State, [(State, State)]) in
            var changes: [(State, State)] = []
            advance(&c, nowNs, &changes)
            return (c.state, changes)
        }
        notify(changes)
        return s
    }

    /// {"state", "consecutive_failures", "window_requests", "window_failures", "opened_count",
    ///  "retry_in_ms" (only when open)}
    public func json(nowNs: UInt64) -> JSONValue {
        let (o, changes) = core.withLock { c -> (JSONObject, [(State, State)]) in
            var changes: [(State, State)] = []
            if settings.enabled { advance(&c, nowNs, &changes) }
            let (attempts, failures) = windowTotals(c, nowNs)
            var o = JSONObject()
            o["state"] = .string(c.state.rawValue)
            o["consecutive_failures"] = .int(Int64(c.consecutiveFailures))
            o["window_requests"] = .int(Int64(attempts))
            o["window_failures"] = .int(Int64(failures))
            o["opened_count"] = .int(Int64(c.openedCount))
            if c.state == .open { o["retry_in_ms"] = .int(Int64(msLeftOfCooldown(c, nowNs))) }
            return (o, changes)
        }
        notify(changes)
        return .object(o)
    }

    // MARK: - Internals (called with the lock held)

    /// Milliseconds (rounded up) until an open breaker half-opens; at most a year (cooldown_ms).
    private func msLeftOfCooldown(_ c: Core, _ nowNs: UInt64) -> Int {
        let until = breakerAdd(c.openedAtNs, cooldownNs)
        return Int(clamping: SafeNumbers.ceilMs(ns: until > nowNs ? until - nowNs : 0))
    }

    /// open → half_open once the cooldown has passed.
    private func advance(_ c: inout Core, _ nowNs: UInt64, _ changes: inout [(State, State)]) {
        if c.state == .open && nowNs >= breakerAdd(c.openedAtNs, cooldownNs) {
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
            let (attempts, failures) = windowTotals(c, nowNs)
            if attempts >= max(1, settings.minRequests) && Double(failures) >= settings.failureRate * Double(attempts) {
                return true
            }
        }
        return false
    }

    private func resetCounters(_ c: inout Core) {
        c.consecutiveFailures = 0
        for i in 0..<Self.bucketCount {
            c.bucketEpoch[i] = .max
            c.bucketAttempts[i] = 0
            c.bucketFailures[i] = 0
        }
    }

    private func countAttempt(_ c: inout Core, _ nowNs: UInt64, failed: Bool) {
        c.latestNs = max(c.latestNs, nowNs)
        let epoch = c.latestNs / bucketNs
        let slot = Int(epoch % UInt64(Self.bucketCount))
        if c.bucketEpoch[slot] != epoch {
            c.bucketEpoch[slot] = epoch
            c.bucketAttempts[slot] = 0
            c.bucketFailures[slot] = 0
        }
        c.bucketAttempts[slot] += 1
        if failed { c.bucketFailures[slot] += 1 }
    }

    /// Attempts and failures in the buckets that are still inside the window.
    private func windowTotals(_ c: Core, _ nowNs: UInt64) -> (Int, Int) {
        let epoch = max(c.latestNs, nowNs) / bucketNs
        var attempts = 0, failures = 0
        for i in 0..<Self.bucketCount {
            let e = c.bucketEpoch[i]
            guard e != .max, e <= epoch, epoch - e < UInt64(Self.bucketCount) else { continue }
            attempts += c.bucketAttempts[i]
            failures += c.bucketFailures[i]
        }
        return (attempts, failures)
    }

    private func notify(_ changes: [(State, State)]) {
        guard !changes.isEmpty, let handler = onTransition else { return }
        for (old, new) in changes { handler(old, new) }
    }
}

/// Milliseconds to nanoseconds, saturating (config values are validated but public vars are not).
private func breakerMsToNs(_ ms: Int) -> UInt64 {
    SafeNumbers.nanos(ms: ms)
}

private func breakerAdd(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let (v, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : v
}
