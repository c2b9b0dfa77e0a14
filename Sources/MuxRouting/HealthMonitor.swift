// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig
import Synchronization

/// The latest probe outcome of one target.
public struct HealthRecord: Sendable, Equatable {
    public var healthy: Bool
    public var consecutiveFailures: Int
    /// Scheduler time (monotonic ns) when the probe finished.
    public var lastCheckedNs: UInt64
    public var latencyMs: Double
    /// Why the last probe failed (nil when healthy).
    public var error: String?
    /// From `lastCheckedNs` to the next probe.
    public var nextProbeInMs: Double

    public init(healthy: Bool, consecutiveFailures: Int, lastCheckedNs: UInt64, latencyMs: Double,
                error: String?, nextProbeInMs: Double) {
        self.healthy = healthy
        self.consecutiveFailures = consecutiveFailures
        self.lastCheckedNs = lastCheckedNs
        self.latencyMs = latencyMs
        self.error = error
        self.nextProbeInMs = nextProbeInMs
    }
}

/// Periodic lightweight health probes per target (provider name), with exponential back-off
/// on failure. It knows nothing of HTTP: `probe` does the work, so the schedule is tested on a
/// fake clock. Every timer and probe callback runs on the scheduler's thread; `record(for:)`
/// and `isHealthy` may be read from any thread.
///
/// Each target has its own timer (probe → wait → probe). A round timer every `intervalMs`
/// asks `targets()` for the current names: a removed one is dropped (timer and record), a new
/// one is probed at once.
public final class HealthMonitor: @unchecked Sendable {
    public typealias Probe = (_ target: String, _ done: @escaping (_ healthy: Bool, _ latencyMs: Double, _ error: String?) -> Void) -> Void

    public let settings: HealthSettings
    /// Called on the scheduler thread when a target's `healthy` flips, and after a target's
    /// first probe when it is unhealthy (a target starting healthy is the expected state).
    /// Set it before `start()`.
    public var onChange: ((String, HealthRecord) -> Void)?

    private let scheduler: Scheduler
    private let targets: () -> [String]
    private let probe: Probe
    private let records = Locked<[String: HealthRecord]>([:])
    private let stopped = Atomic<Bool>(false)

    // Scheduler-thread state.
    private struct Slot {
        /// Distinguishes a re-added target from its removed namesake (late callbacks are ignored).
        var generation: UInt64
        var timer: UInt64?
        var failures = 0
    }
    private var slots: [String: Slot] = [:]
    private var roundTimer: UInt64?
    private var started = false
    private var generations: UInt64 = 0

    /// `targets` is asked each round for the names to probe; `probe` starts one probe (on the
    /// scheduler's thread) and calls `done` once, on that thread (extra calls are ignored).
    public init(scheduler: Scheduler, settings: HealthSettings, targets: @escaping () -> [String], probe: @escaping Probe) {
        self.scheduler = scheduler
        self.settings = settings
        self.targets = targets
        self.probe = probe
    }

    /// Probes every target now, then each on its own schedule. Call on the scheduler's thread
    /// (an `EventLoop` scheduler: any thread). A second call, or a call after `stop()`, does nothing.
    public func start() {
        onSchedulerThread { [self] in
            guard !started, !stopped.load(ordering: .relaxed) else { return }
            started = true
            round()
        }
    }

    /// Cancels every timer; results of probes still running are dropped. Records stay readable.
    /// Idempotent; same threading as `start()`.
    public func stop() {
        stopped.store(true, ordering: .relaxed)
        onSchedulerThread { [self] in
            if let t = roundTimer { scheduler.cancelTimer(t); roundTimer = nil }
            for (_, slot) in slots { if let t = slot.timer { scheduler.cancelTimer(t) } }
            slots.removeAll()
        }
    }

    /// The latest record of `target`; nil when it was never probed (or was removed).
    public func record(for target: String) -> HealthRecord? {
        records.withLock { $0[target] }
    }

    /// nil = unknown (not probed yet).
    public func isHealthy(_ target: String) -> Bool? {
        record(for: target)?.healthy
    }

    /// Every current record (any thread).
    public var allRecords: [String: HealthRecord] { records.withLock { $0 } }

    // MARK: scheduler thread

    /// An `EventLoop`'s timers may only be touched on its thread: hop there when needed.
    private func onSchedulerThread(_ body: @escaping () -> Void) {
        if let loop = scheduler as? EventLoop, !loop.isOnLoopThread {
            loop.execute(body)
        } else {
            body()
        }
    }

    private func round() {
        guard !stopped.load(ordering: .relaxed) else { return }
        var names: [String] = []
        var seen = Set<String>()
        for n in targets() where seen.insert(n).inserted { names.append(n) }
        for (name, slot) in slots where !seen.contains(name) {
            if let t = slot.timer { scheduler.cancelTimer(t) }
            slots[name] = nil
        }
        records.withLock { r in r = r.filter { seen.contains($0.key) } }
        roundTimer = scheduler.schedule(afterMs: Double(settings.intervalMs)) { [weak self] in
            guard let self else { return }
            self.roundTimer = nil
            self.round()
        }
        for name in names where slots[name] == nil {
            generations += 1
            slots[name] = Slot(generation: generations)
            runProbe(name)
        }
    }

    private func runProbe(_ name: String) {
        guard !stopped.load(ordering: .relaxed), var slot = slots[name] else { return }
        slot.timer = nil
        slots[name] = slot
        let generation = slot.generation
        let startedNs = scheduler.nowNs
        var answered = false
        probe(name) { [weak self] healthy, latencyMs, error in
            guard let self, !answered else { return }
            answered = true
            self.finish(name, generation: generation, startedNs: startedNs, healthy: healthy, latencyMs: latencyMs, error: error)
        }
    }

    private func finish(_ name: String, generation: UInt64, startedNs: UInt64, healthy: Bool, latencyMs: Double, error: String?) {
        guard !stopped.load(ordering: .relaxed), var slot = slots[name], slot.generation == generation else { return }
        slot.failures = healthy ? 0 : slot.failures + 1
        let now = scheduler.nowNs
        // The period runs from the probe's start, so a slow probe does not stretch the schedule.
        let elapsedMs = now > startedNs ? Double(now - startedNs) / 1_000_000 : 0
        let waitMs = max(0, settings.delayMs(afterFailures: slot.failures) - elapsedMs)
        let record = HealthRecord(healthy: healthy, consecutiveFailures: slot.failures, lastCheckedNs: now, latencyMs: latencyMs,
                                  error: healthy ? nil : (error ?? "health probe failed"), nextProbeInMs: waitMs)
        slot.timer = scheduler.schedule(afterMs: waitMs) { [weak self] in self?.runProbe(name) }
        slots[name] = slot
        let previous = records.withLock { r -> HealthRecord? in
            let old = r[name]
            r[name] = record
            return old
        }
        if previous.map({ $0.healthy != healthy }) ?? !healthy {
            onChange?(name, record)
        }
    }
}
