// SPDX-License-Identifier: Apache-2.0
@testable import MuxConfig
@testable import MuxRouting
import Testing

/// A scripted probe: records when each target was probed, answers from `outcome` (at once) or
/// keeps the `done` callbacks for the test to call later (`deferred`).
private final class ScriptedProbe {
    struct Call: Equatable { var target: String; var atMs: Double }
    let clock: FakeScheduler
    var calls: [Call] = []
    var outcome: (String) -> (Bool, String?) = { _ in (true, nil) }
    var deferred = false
    var pending: [(String, (Bool, Double, String?) -> Void)] = []

    init(_ clock: FakeScheduler) { self.clock = clock }

    func probe(_ target: String, _ done: @escaping (Bool, Double, String?) -> Void) {
        calls.append(Call(target: target, atMs: clock.nowMs))
        if deferred {
            pending.append((target, done))
        } else {
            let (healthy, error) = outcome(target)
            done(healthy, 1.5, error)
        }
    }

    func times(_ target: String) -> [Double] { calls.filter { $0.target == target }.map(\.atMs) }
}

@Suite("Health monitor")
struct HealthMonitorTests {
    private func make(_ names: [String], interval: Int = 1000, maxBackoff: Int = 5000)
        -> (HealthMonitor, FakeScheduler, ScriptedProbe, TargetList)
    {
        let clock = FakeScheduler()
        let probe = ScriptedProbe(clock)
        let targets = TargetList(names)
        var s = HealthSettings()
        s.enabled = true
        s.intervalMs = interval
        s.maxBackoffMs = maxBackoff
        let monitor = HealthMonitor(scheduler: clock, settings: s, targets: { targets.value }, probe: probe.probe)
        return (monitor, clock, probe, targets)
    }

    @Test("start probes every target at once; nothing is known before")
    func probesAtStart() {
        let (m, _, probe, _) = make(["a", "b"])
        #expect(m.isHealthy("a") == nil && m.record(for: "a") == nil)
        m.start()
        #expect(probe.calls == [.init(target: "a", atMs: 0), .init(target: "b", atMs: 0)])
        let r = m.record(for: "a")
        #expect(r == HealthRecord(healthy: true, consecutiveFailures: 0, lastCheckedNs: FakeScheduler.originNs, latencyMs: 1.5,
                                  error: nil, nextProbeInMs: 1000))
        #expect(m.isHealthy("b") == true)
        #expect(m.isHealthy("c") == nil)
        m.start()  // a second start is a no-op
        #expect(probe.calls.count == 2)
    }

    @Test("a healthy target is probed every interval")
    func interval() {
        let (m, clock, probe, _) = make(["a"])
        m.start()
        clock.advance(ms: 999)
        #expect(probe.times("a") == [0])
        clock.advance(ms: 1)
        #expect(probe.times("a") == [0, 1000])
        clock.advance(ms: 3000)
        #expect(probe.times("a") == [0, 1000, 2000, 3000, 4000])
    }

    @Test("a failing target backs off: interval × 2^(failures-1), capped at max_backoff_ms")
    func backoff() {
        let (m, clock, probe, _) = make(["a", "ok"])
        probe.outcome = { $0 == "a" ? (false, "connection refused") : (true, nil) }
        m.start()
        clock.advance(ms: 30_000)
        // after 1, 2, 3, 4… failures: waits 1000, 2000, 4000, then 5000 (the cap) each time
        #expect(probe.times("a") == [0, 1000, 3000, 7000, 12_000, 17_000, 22_000, 27_000])
        #expect(probe.times("ok").count == 31)
        let r = m.record(for: "a")
        #expect(r?.healthy == false)
        #expect(r?.consecutiveFailures == 8)
        #expect(r?.error == "connection refused")
        #expect(r?.nextProbeInMs == 5000)
        #expect(r?.lastCheckedNs == FakeScheduler.originNs + 27_000_000_000)
        #expect(m.isHealthy("ok") == true && m.record(for: "ok")?.nextProbeInMs == 1000)
    }

    @Test("recovery resets the failure count and the interval")
    func recovery() {
        let (m, clock, probe, _) = make(["a"])
        var healthy = false
        probe.outcome = { _ in (healthy, nil) }
        m.start()
        clock.advance(ms: 4000)  // probes at 0, 1000, 3000; the next at 7000
        #expect(m.record(for: "a")?.consecutiveFailures == 3)
        #expect(m.record(for: "a")?.error == "health probe failed")
        #expect(m.record(for: "a")?.nextProbeInMs == 4000)
        healthy = true
        clock.advance(ms: 3000)
        #expect(probe.times("a") == [0, 1000, 3000, 7000])
        #expect(m.record(for: "a") == HealthRecord(healthy: true, consecutiveFailures: 0, lastCheckedNs: FakeScheduler.originNs + 7_000_000_000,
                                                   latencyMs: 1.5, error: nil, nextProbeInMs: 1000))
        clock.advance(ms: 1000)
        #expect(probe.times("a") == [0, 1000, 3000, 7000, 8000])
    }

    @Test("a removed target is dropped and no longer probed; a new one is probed at the next round")
    func membership() {
        let (m, clock, probe, targets) = make(["a", "b"])
        m.start()
        targets.value = ["b", "c"]
        clock.advance(ms: 999)
        #expect(m.record(for: "a") != nil)
        #expect(probe.times("c") == [])
        clock.advance(ms: 1)  // the round at 1000
        #expect(m.record(for: "a") == nil)
        #expect(m.isHealthy("c") == true)
        #expect(probe.times("c") == [1000])
        clock.advance(ms: 5000)
        #expect(probe.times("a") == [0])
        #expect(probe.times("b") == [0, 1000, 2000, 3000, 4000, 5000, 6000])
        #expect(probe.times("c") == [1000, 2000, 3000, 4000, 5000, 6000])
        // Back again: a fresh record, no memory of the old one.
        targets.value = ["a"]
        clock.advance(ms: 1000)
        #expect(m.record(for: "b") == nil && m.record(for: "c") == nil)
        #expect(m.record(for: "a")?.lastCheckedNs == FakeScheduler.originNs + 7_000_000_000)
    }

    @Test("onChange fires when healthy flips, and for a target that starts unhealthy")
    func onChange() {
        let (m, clock, probe, _) = make(["a", "b"])
        var changes: [String] = []
        m.onChange = { name, r in changes.append("\(name) \(r.healthy) \(r.consecutiveFailures)") }
        var aHealthy = true
        probe.outcome = { $0 == "a" ? (aHealthy, "down") : (false, "down") }
        m.start()
        #expect(changes == ["b false 1"])
        clock.advance(ms: 1000)
        aHealthy = false
        clock.advance(ms: 1000)
        #expect(changes == ["b false 1", "a false 1"])
        clock.advance(ms: 1000)  // a fails again: no change
        #expect(changes.count == 2)
        aHealthy = true
        clock.advance(ms: 2000)
        #expect(changes == ["b false 1", "a false 1", "a true 0"])
    }

    @Test("a slow probe: the period runs from its start; late and repeated answers are ignored")
    func asyncProbes() {
        let (m, clock, probe, targets) = make(["a", "b"])
        probe.deferred = true
        m.start()
        #expect(probe.pending.count == 2)
        clock.advance(ms: 300)
        let (_, doneA) = probe.pending.removeFirst()
        doneA(true, 300, nil)
        doneA(false, 1, "again")  // a second answer is ignored
        #expect(m.record(for: "a")?.healthy == true)
        #expect(m.record(for: "a")?.nextProbeInMs == 700)
        clock.advance(ms: 700)
        #expect(probe.times("a") == [0, 1000])
        // "b" never answered and is removed; its late answer must not bring it back.
        targets.value = ["a"]
        clock.advance(ms: 1000)  // the round at 2000 drops "b"
        let (nameB, doneB) = probe.pending.removeFirst()
        #expect(nameB == "b")
        #expect(m.record(for: "b") == nil)
        doneB(true, 5, nil)
        #expect(m.record(for: "b") == nil)
        #expect(probe.times("b") == [0])
    }

    @Test("stop: no probe after it, in-flight answers dropped, records kept")
    func stop() {
        let (m, clock, probe, _) = make(["a"])
        m.start()
        clock.advance(ms: 1000)
        probe.deferred = true
        clock.advance(ms: 1000)
        #expect(probe.times("a") == [0, 1000, 2000])
        m.stop()
        m.stop()
        probe.pending.first?.1(false, 1, "late")
        #expect(m.isHealthy("a") == true)
        clock.advance(ms: 10_000)
        #expect(probe.times("a") == [0, 1000, 2000])
        #expect(clock.pendingTimers == 0)
        m.start()  // stopped for good
        #expect(probe.times("a").count == 3)
    }
}

/// The monitor's target list, changed by the test between rounds.
private final class TargetList {
    var value: [String]
    init(_ value: [String]) { self.value = value }
}
