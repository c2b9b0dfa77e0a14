// SPDX-License-Identifier: Apache-2.0
import MuxConfig

/// What a strategy knows about one candidate when it orders them.
public struct CandidateFacts: Sendable, Equatable {
    public var weight = 1.0
    /// EWMA of successful attempts' latency; nil until measured.
    public var latencyMs: Double?
    /// EWMA of time to first token; nil until a stream was measured.
    public var ttftMs: Double?
    /// Estimated cost of this request there; nil when the model has no price.
    public var costUSD: Double?
    public var inFlight = 0
    /// false: the health monitor saw it fail (moved after the healthy ones, still tried).
    public var healthy = true
    /// false: its circuit breaker is open or it is at its rate limit right now (moved last; skipped at launch).
    public var available = true
    public init() {}
}

/// Orders a route's candidates by a strategy. Pure: state and randomness come in as
/// arguments, so each strategy's choices are tested deterministically.
public enum StrategySelector {
    /// - Parameters:
    ///   - turn: a per-route counter, one step per request (round robin).
    ///   - random: uniform in [0, 1) (weighted draw, exploration).
    ///   - exploration: least_latency's probability of trying a random other candidate first.
    ///   - streaming: least_latency ranks streams by time to first token.
    /// - Returns: indices into `facts`, best first. Candidates that cannot be used now go last,
    ///   unhealthy ones just before them; each group keeps the strategy's order.
    public static func order(_ strategy: StrategyKind, facts: [CandidateFacts], turn: Int, exploration: Double,
                             streaming: Bool, random: () -> Double) -> [Int] {
        let n = facts.count
        guard n > 1 else { return Array(0..<n) }
        var order: [Int]
        switch strategy {
        case .priority:
            order = Array(0..<n)
        case .roundRobin:
            let start = ((turn % n) + n) % n
            order = (0..<n).map { (start + $0) % n }
        case .weighted:
            order = weightedOrder(facts.map(\.weight), random: random)
        case .leastLatency:
            order = leastLatencyOrder(facts, exploration: exploration, streaming: streaming, random: random)
        case .lowestCost:
            // Unpriced candidates after priced ones; ties keep the configured order.
            order = (0..<n).sorted { a, b in
                switch (facts[a].costUSD, facts[b].costUSD) {
                case let (x?, y?): return x != y ? x < y : a < b
                case (_?, nil): return true
                case (nil, _?): return false
                case (nil, nil): return a < b
                }
            }
        case .leastBusy:
            order = (0..<n).sorted { a, b in
                facts[a].inFlight != facts[b].inFlight ? facts[a].inFlight < facts[b].inFlight : a < b
            }
        }
        // Usable and healthy first, then unhealthy, then unavailable; stable within each.
        func rank(_ i: Int) -> Int { !facts[i].available ? 2 : (facts[i].healthy ? 0 : 1) }
        return order.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
    }

    /// Weighted random order without replacement: each next pick has probability weight/remaining.
    /// Zero-weight candidates come last, in their configured order.
    package static func weightedOrder(_ weights: [Double], random: () -> Double) -> [Int] {
        var pool = weights.indices.filter { weights[$0] > 0 }
        var out: [Int] = []
        while !pool.isEmpty {
            let total = pool.reduce(0) { $0 + weights[$1] }
            var x = random() * total
            var pick = pool.count - 1
            for (j, i) in pool.enumerated() {
                if x < weights[i] { pick = j; break }
                x -= weights[i]
            }
            out.append(pool.remove(at: pick))
        }
        return out + weights.indices.filter { weights[$0] <= 0 }
    }

    /// Unmeasured candidates first (so each gets measured), then fastest first; with probability
    /// `exploration` a random non-first candidate is moved to the front, so a provider that was slow
    /// once (or has recovered) gets measured again.
    package static func leastLatencyOrder(_ facts: [CandidateFacts], exploration: Double, streaming: Bool, random: () -> Double) -> [Int] {
        func score(_ f: CandidateFacts) -> Double? { streaming ? (f.ttftMs ?? f.latencyMs) : f.latencyMs }
        var order = facts.indices.sorted { a, b in
            switch (score(facts[a]), score(facts[b])) {
            case let (x?, y?): return x != y ? x < y : a < b
            case (nil, _?): return true
            case (_?, nil): return false
            case (nil, nil): return a < b
            }
        }
        if exploration > 0, order.count > 1, random() < exploration {
            let j = 1 + min(order.count - 2, Int(random() * Double(order.count - 1)))
            order.insert(order.remove(at: j), at: 0)
        }
        return order
    }
}

/// A small seedable generator (SplitMix64) for the router's random choices: reproducible
/// when `routing.seed` is set.
public struct SplitMix64: Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
