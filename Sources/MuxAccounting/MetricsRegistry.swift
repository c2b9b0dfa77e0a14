// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// One metrics series: a provider and the model an attempt asked it for.
public struct SeriesKey: Hashable, Sendable {
    public var provider: String
    public var model: String
    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    /// The model label of a provider's overflow series: where attempts for models beyond a
    /// router's series cap are counted (model names come from requests, so their number is
    /// not ours to choose). Not a name any provider uses.
    public static let overflowModel = "__other__"

    /// This provider's overflow series.
    public var overflow: SeriesKey { SeriesKey(provider: provider, model: Self.overflowModel) }
}

/// A map keyed by provider+model (or any key derived from request-supplied strings) that never
/// holds more than `cap` ordinary keys: once full, a new key is folded into its overflow key
/// (`fold`), which is always admitted — so the map holds at most `cap` plus one overflow entry
/// per provider, and a flood of distinct model names in requests costs no memory.
public struct KeyCap: Sendable {
    public let cap: Int
    /// Folds counted (when the caller asks to count them). Distinct folded keys cannot be
    /// told apart later (remembering them would grow without bound again), so this counts
    /// events — for metrics, attempts recorded in an overflow series.
    public var folded = 0

    public init(cap: Int) { self.cap = max(1, cap) }

    /// The key to use for `key` in a map holding `count` ordinary keys; `present`: `key` is
    /// already there (kept, whatever the count).
    public mutating func admit<K>(_ key: K, count: Int, present: Bool, overflow: @autoclosure () -> K, counting: Bool = true) -> K {
        if present || count < cap { return key }
        if counting { folded &+= 1 }
        return overflow()
    }
}

/// Summary statistics of a latency-like sample window (milliseconds). Fields are nil while
/// there are no samples.
public struct Quantiles: Sendable, Equatable {
    public var p50: Double?
    public var p95: Double?
    public var p99: Double?
    public var mean: Double?
    public init(p50: Double? = nil, p95: Double? = nil, p99: Double? = nil, mean: Double? = nil) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.mean = mean
    }

    package init(_ w: SampleWindow) {
        let q = w.quantiles([0.5, 0.95, 0.99])
        self.init(p50: q[0], p95: q[1], p99: q[2], mean: w.mean)
    }
}

/// A copy of one series' figures at one moment.
public struct SeriesSnapshot: Sendable, Equatable {
    public var key: SeriesKey
    /// Attempts started.
    public var requests = 0
    public var successes = 0, failures = 0, retries = 0, fallbacks = 0
    /// `Status.errorClass` → count.
    public var failuresByClass: [String: Int] = [:]
    /// `Status.nameString` → count.
    public var failuresByStatus: [String: Int] = [:]
    public var promptTokens = 0, completionTokens = 0, cachedTokens = 0
    public var costUSD = 0.0
    /// Latency of successful attempts: quantiles and mean over the last 1024.
    public var latencyMs = Quantiles()
    /// Time to first token of streamed successes that had one: quantiles and mean over the last 1024.
    public var ttftMs = Quantiles()
    /// Every latency / TTFT sample since the last reset (count and sum: a Prometheus
    /// histogram's `_count` and `_sum`, which the windowed quantiles cannot give).
    public var latencyCount = 0, latencySumMs = 0.0
    public var ttftCount = 0, ttftSumMs = 0.0
    /// The same samples in fixed buckets: the histograms' `_bucket` lines.
    public var latencyBuckets = DurationBuckets(), ttftBuckets = DurationBuckets()
    /// Mean of per-response generation speed (completion tokens per second) over the last 1024 responses.
    public var tokensPerSecond: Double?
    public var ewmaLatencyMs: Double?, ewmaTTFTMs: Double?
    public var inFlight = 0

    public init(key: SeriesKey) { self.key = key }
}

/// Per provider+model counters of one router. Recorded once per attempt on the I/O thread (one
/// uncontended lock, a dictionary lookup and a few additions), read from any thread by stats,
/// the Prometheus exposition and the least-busy / least-latency strategies.
public final class MetricsRegistry: Sendable {
    /// The live state of one series: counters plus the sample windows and averages.
    package struct Series: Sendable {
        package var counters: SeriesSnapshot
        package var latency = SampleWindow()
        package var ttft = SampleWindow()
        package var speed = SampleWindow()
        package var ewmaLatency = EWMA()
        package var ewmaTTFT = EWMA()

        package init(_ key: SeriesKey) { counters = SeriesSnapshot(key: key) }

        package var snapshot: SeriesSnapshot {
            var s = counters
            s.latencyMs = Quantiles(latency)
            s.ttftMs = Quantiles(ttft)
            s.tokensPerSecond = speed.mean
            s.ewmaLatencyMs = ewmaLatency.value
            s.ewmaTTFTMs = ewmaTTFT.value
            return s
        }
    }

    /// Series per router before new provider+model pairs fold into their provider's
    /// `__other__` series (documented in README "Behaviour choices").
    public static let defaultMaxSeries = 1000

    package struct State: Sendable {
        package var series: [SeriesKey: Series] = [:]
        /// In-flight attempts per provider, kept alongside the per-series counts so that
        /// `inFlight(provider:)` is one lookup.
        package var inFlightByProvider: [String: Int] = [:]
        package var cap: KeyCap

        /// Ordinary series (the overflow series do not count against the cap).
        package var ordinary = 0

        /// The series `key` is counted in: itself while there is room (or it exists), else its
        /// provider's overflow series.
        package mutating func resolve(_ key: SeriesKey, counting: Bool) -> SeriesKey {
            if series[key] != nil || key.model == SeriesKey.overflowModel { return key }
            let k = cap.admit(key, count: ordinary, present: false, overflow: key.overflow, counting: counting)
            if k == key { ordinary += 1 }
            return k
        }

        /// `counting`: a fold here is counted in `foldedAttempts` (once per attempt: its start).
        package mutating func update(_ key: SeriesKey, counting: Bool = false, _ body: (inout Series) -> Void) {
            let key = resolve(key, counting: counting)
            body(&series[key, default: Series(key)])
        }

        package mutating func finish(_ key: SeriesKey) {
            update(key) { s in
                if s.counters.inFlight > 0 { s.counters.inFlight -= 1 }
            }
            if let n = inFlightByProvider[key.provider], n > 0 { inFlightByProvider[key.provider] = n - 1 }
        }
    }

    private let state: Locked<State>

    /// `maxSeries`: ordinary provider+model series kept before folding (at least 1).
    public init(maxSeries: Int = MetricsRegistry.defaultMaxSeries) {
        state = Locked(State(cap: KeyCap(cap: maxSeries)))
    }

    /// Ordinary series kept before folding.
    public var maxSeries: Int { state.withLock { $0.cap.cap } }

    /// Number of series held (ordinary and overflow).
    public var seriesCount: Int { state.withLock { $0.series.count } }

    /// Attempts recorded into an overflow series because the cap was reached (since the last reset).
    public var foldedAttempts: Int { state.withLock { $0.cap.folded } }

    /// An attempt went out: requests += 1, inFlight += 1.
    public func attemptStarted(_ key: SeriesKey) {
        state.withLock { st in
            st.update(key, counting: true) { s in
                s.counters.requests += 1
                s.counters.inFlight += 1
            }
            st.inFlightByProvider[key.provider, default: 0] += 1
        }
    }

    /// inFlight -= 1 and the success is counted. `ttftMs` is given for streams that produced a
    /// first token (nil otherwise); `usage` may be nil. Generation speed: `usage.tokensPerSecond`
    /// when the provider measured it, else completionTokens / ((latencyMs − (ttftMs ?? 0)) / 1000)
    /// when that duration and the completion tokens are both positive.
    public func attemptSucceeded(_ key: SeriesKey, latencyMs: Double, ttftMs: Double?, usage: Usage?, costUSD: Double?) {
        let speed = Self.tokensPerSecond(latencyMs: latencyMs, ttftMs: ttftMs, usage: usage)
        state.withLock { st in
            st.finish(key)
            st.update(key) { s in
                s.counters.successes += 1
                Self.addUsage(&s.counters, usage, costUSD)
                if latencyMs.isFinite {
                    s.latency.add(latencyMs)
                    s.ewmaLatency.add(latencyMs)
                    s.counters.latencyBuckets.add(latencyMs)
                    s.counters.latencyCount = s.counters.latencyCount.addingSaturated(1)
                    s.counters.latencySumMs = SafeNumbers.clampFinite(s.counters.latencySumMs + latencyMs, -.greatestFiniteMagnitude, .greatestFiniteMagnitude)
                }
                if let ttftMs, ttftMs.isFinite {
                    s.ttft.add(ttftMs)
                    s.ewmaTTFT.add(ttftMs)
                    s.counters.ttftBuckets.add(ttftMs)
                    s.counters.ttftCount = s.counters.ttftCount.addingSaturated(1)
                    s.counters.ttftSumMs = SafeNumbers.clampFinite(s.counters.ttftSumMs + ttftMs, -.greatestFiniteMagnitude, .greatestFiniteMagnitude)
                }
                if let speed { s.speed.add(speed) }
            }
        }
    }

    /// inFlight -= 1 and the failure is counted by class and by status. Partial usage (tokens
    /// already streamed before the failure) and its cost still count: they were billed.
    public func attemptFailed(_ key: SeriesKey, status: Status, usage: Usage?, costUSD: Double?) {
        state.withLock { st in
            st.finish(key)
            st.update(key) { s in
                s.counters.failures += 1
                s.counters.failuresByClass[status.errorClass, default: 0] += 1
                s.counters.failuresByStatus[status.nameString, default: 0] += 1
                Self.addUsage(&s.counters, usage, costUSD)
            }
        }
    }

    /// inFlight -= 1 with no outcome (the caller cancelled): counts nothing else.
    public func attemptAbandoned(_ key: SeriesKey) {
        state.withLock { $0.finish(key) }
    }

    public func retried(_ key: SeriesKey) {
        state.withLock { $0.update(key) { $0.counters.retries += 1 } }
    }

    public func failedOver(_ key: SeriesKey) {
        state.withLock { $0.update(key) { $0.counters.fallbacks += 1 } }
    }

    /// Attempts in flight to a provider, over all its models (for least-busy routing).
    public func inFlight(provider: String) -> Int {
        state.withLock { $0.inFlightByProvider[provider] ?? 0 }
    }

    /// EWMA of successful attempts' latency (for least-latency routing); nil before the first success.
    public func ewmaLatencyMs(_ key: SeriesKey) -> Double? {
        state.withLock { $0.series[key]?.ewmaLatency.value ?? $0.series[key.overflow]?.ewmaLatency.value }
    }

    /// EWMA of streamed successes' time to first token; nil before the first one.
    public func ewmaTTFTMs(_ key: SeriesKey) -> Double? {
        state.withLock { $0.series[key]?.ewmaTTFT.value ?? $0.series[key.overflow]?.ewmaTTFT.value }
    }

    /// Every series, sorted by provider then model. The sample windows are copied under the
    /// lock and sorted for quantiles outside it.
    public func snapshot() -> [SeriesSnapshot] {
        let all = state.withLock { Array($0.series.values) }
        return all.map(\.snapshot).sorted {
            ($0.key.provider, $0.key.model) < ($1.key.provider, $1.key.model)
        }
    }

    /// Clears every counter and sample. In-flight counts are kept: those attempts are still
    /// running and will report their outcome later.
    public func reset() {
        state.withLock { st in
            st.cap.folded = 0
            for (key, old) in st.series {
                var fresh = Series(key)
                fresh.counters.inFlight = old.counters.inFlight
                st.series[key] = fresh
            }
        }
    }

    /// Saturating: counts and costs come from upstreams (bounded per response by `Usage`), and a
    /// long-lived router adds them up without end.
    package static func addUsage(_ c: inout SeriesSnapshot, _ usage: Usage?, _ costUSD: Double?) {
        if let usage {
            c.promptTokens = c.promptTokens.addingSaturated(Usage.count(usage.promptTokens))
            c.completionTokens = c.completionTokens.addingSaturated(Usage.count(usage.completionTokens))
            c.cachedTokens = c.cachedTokens.addingSaturated(Usage.count(usage.cachedTokens ?? 0))
        }
        if let cost = Usage.cost(costUSD) { c.costUSD = SafeNumbers.clampFinite(c.costUSD + cost, 0, .greatestFiniteMagnitude) }
    }

    package static func tokensPerSecond(latencyMs: Double, ttftMs: Double?, usage: Usage?) -> Double? {
        guard let usage else { return nil }
        if let tps = Usage.rate(usage.tokensPerSecond), tps > 0 { return tps }
        let generationMs = latencyMs - (ttftMs ?? 0)
        guard generationMs > 0, generationMs.isFinite, usage.completionTokens > 0 else { return nil }
        return Usage.rate(Double(usage.completionTokens) / (generationMs / 1000))
    }
}
