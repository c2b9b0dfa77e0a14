// SPDX-License-Identifier: Apache-2.0
@testable import MuxConfig
@testable import MuxRouting
import Testing

// Each strategy's choices, deterministically: facts and randomness are arguments.

@Suite("StrategySelector")
struct StrategySelectorTests {
    private func facts(_ n: Int, _ edit: (Int, inout CandidateFacts) -> Void = { _, _ in }) -> [CandidateFacts] {
        (0..<n).map { i in var f = CandidateFacts(); edit(i, &f); return f }
    }

    private func order(_ s: StrategyKind, _ f: [CandidateFacts], turn: Int = 0, exploration: Double = 0,
                       streaming: Bool = false, randoms: [Double] = [0.5]) -> [Int] {
        var queue = randoms
        return StrategySelector.order(s, facts: f, turn: turn, exploration: exploration, streaming: streaming) {
            queue.isEmpty ? 0.5 : queue.removeFirst()
        }
    }

    @Test("priority keeps the configured order")
    func priority() {
        #expect(order(.priority, facts(4)) == [0, 1, 2, 3])
    }

    @Test("round robin starts one further each turn and wraps")
    func roundRobin() {
        let f = facts(3)
        #expect((0..<5).map { order(.roundRobin, f, turn: $0) } == [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2], [1, 2, 0]])
    }

    @Test("weighted: the draw picks by cumulative weight, without replacement; zero weights last")
    func weighted() {
        let f = facts(3) { i, f in f.weight = [1, 3, 0][i] }
        // total 4: x = 0.1*4 = 0.4 < 1 → index 0; then only index 1 left with weight.
        #expect(order(.weighted, f, randoms: [0.1, 0.9]) == [0, 1, 2])
        // x = 0.5*4 = 2 → past weight 1 → index 1; then index 0.
        #expect(order(.weighted, f, randoms: [0.5, 0.0]) == [1, 0, 2])
        // Over many seeded draws the shares follow the weights (1:3).
        var rng = SplitMix64(seed: 42)
        var firsts = [0, 0, 0]
        for _ in 0..<4000 {
            let o = StrategySelector.order(.weighted, facts: f, turn: 0, exploration: 0, streaming: false) { rng.nextUnit() }
            firsts[o[0]] += 1
        }
        #expect(firsts[2] == 0)
        #expect(firsts[1] > 2700 && firsts[1] < 3300, "index 1 first \(firsts[1]) of 4000 (expected ~3000)")
    }

    @Test("least latency: unmeasured first, then fastest; streams rank by time to first token")
    func leastLatency() {
        let f = facts(4) { i, f in
            f.latencyMs = [300, 100, nil, 200][i]
            f.ttftMs = [10, 90, nil, 50][i]
        }
        #expect(order(.leastLatency, f) == [2, 1, 3, 0])
        #expect(order(.leastLatency, f, streaming: true) == [2, 0, 3, 1])
    }

    @Test("least latency explores: with probability `exploration` a random other candidate goes first")
    func leastLatencyExplores() {
        let f = facts(3) { i, f in f.latencyMs = [10, 20, 30][i] }
        // First random (0.01) < exploration (0.05): explore; second picks among the 2 others.
        #expect(order(.leastLatency, f, exploration: 0.05, randoms: [0.01, 0.99]) == [2, 0, 1])
        #expect(order(.leastLatency, f, exploration: 0.05, randoms: [0.01, 0.0]) == [1, 0, 2])
        // Not exploring: fastest first.
        #expect(order(.leastLatency, f, exploration: 0.05, randoms: [0.5]) == [0, 1, 2])
    }

    @Test("lowest cost: cheapest first, unpriced after priced, ties in configured order")
    func lowestCost() {
        let f = facts(4) { i, f in f.costUSD = [0.02, nil, 0.001, 0.001][i] }
        #expect(order(.lowestCost, f) == [2, 3, 0, 1])
    }

    @Test("least busy: fewest in flight first, ties in configured order")
    func leastBusy() {
        let f = facts(3) { i, f in f.inFlight = [5, 0, 0][i] }
        #expect(order(.leastBusy, f) == [1, 2, 0])
    }

    @Test("unhealthy candidates go after healthy ones, unavailable ones last, whatever the strategy")
    func availabilityPartition() {
        let f = facts(4) { i, f in
            f.latencyMs = [1, 2, 3, 4][i]
            f.available = i != 0
            f.healthy = i != 1
        }
        #expect(order(.leastLatency, f) == [2, 3, 1, 0])
        #expect(order(.priority, f) == [2, 3, 1, 0])
    }

    @Test("SplitMix64 is reproducible from its seed and uniform in [0, 1)")
    func splitMix() {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        let xs = (0..<100).map { _ in a.nextUnit() }
        #expect(xs == (0..<100).map { _ in b.nextUnit() })
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Set(xs).count == 100)
    }
}
