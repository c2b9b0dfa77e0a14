// SPDX-License-Identifier: Apache-2.0
import MuxBase
import Synchronization

/// Events handed from the loop thread to a caller's thread, in order, with back-pressure:
/// the producer (loop thread) asks `shouldPause()` before producing more; past the high-water
/// mark it pauses, and the consumer, once it has delivered its batch and the queue is below the
/// low-water mark, calls `onDrained` (which resumes the attempt through the loop).
public final class EventQueue: @unchecked Sendable {
    public struct Limits: Sendable {
        /// Above this many queued bytes (see `cost`) the producer pauses.
        public var highWaterBytes = 1 << 20
        /// A paused producer resumes once the consumer is back for more and the queue is below this.
        public var lowWaterBytes = 256 << 10
        public init(highWaterBytes: Int = 1 << 20, lowWaterBytes: Int = 256 << 10) {
            self.highWaterBytes = max(1, highWaterBytes)
            self.lowWaterBytes = max(0, min(lowWaterBytes, self.highWaterBytes))
        }
    }

    public let limits: Limits
    private let lock = ConditionLock()
    /// The queue is `events[head...]`: a bounded pop moves `head` on instead of removing from
    /// the front (which would move every event still queued, per batch); the taken prefix is
    /// dropped once it is as long as the rest, so the events moved then are paid for by as many
    /// taken: O(1) per event, and the array holds at most twice what is queued.
    /// `events`, `head` and `waiting` are only touched with `lock` held, which already keeps
    /// accesses apart: no runtime exclusivity checks (~90 instructions each, per event).
    @exclusivity(unchecked) private var events: [ExecutionEvent] = []
    @exclusivity(unchecked) private var head = 0
    /// The consumer sleeps on `lock` (set by it before waiting, cleared by the producer that
    /// wakes it): a producer signals only then, not for every batch.
    @exclusivity(unchecked) private var waiting = false
    /// Estimated bytes queued (`cost` of each event).
    private let bytes = Atomic<Int>(0)
    /// The producer was told to pause and nobody resumed it yet.
    private let paused = Atomic<Bool>(false)
    /// Test hook: the most bytes ever queued at once.
    public var maxQueuedBytes: Int { maxBytes.load(ordering: .relaxed) }
    private let maxBytes = Atomic<Int>(0)
    /// Test hook: how many times the producer was paused.
    public var pauses: Int { pauseCount.load(ordering: .relaxed) }
    private let pauseCount = Atomic<Int>(0)
    /// Called on the consumer's thread when a paused producer may go on.
    public var onDrained: (() -> Void)?

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// What an event is counted as: its text plus a fixed 64 bytes for the event itself (its
    /// Swift value, the JSON keys it will be written with). Terminal events are not counted
    /// against the bound (there is exactly one, and nothing is produced after it).
    package static func cost(_ e: ExecutionEvent) -> Int {
        switch e {
        case .delta(let content, let toolCalls):
            var n = 64 + (content?.utf8.count ?? 0)
            if let toolCalls { n += toolCalls.count * 64 + toolCalls.reduce(0) { $0 + approximateSize($1) } }
            return n
        case .reasoning(let text): return 64 + text.utf8.count
        case .choiceDelta(_, let content, let reasoning, let toolCalls):
            var n = 64 + (content?.utf8.count ?? 0) + (reasoning?.utf8.count ?? 0)
            if let toolCalls { n += toolCalls.count * 64 + toolCalls.reduce(0) { $0 + approximateSize($1) } }
            return n
        case .operation(let event): return 64 + approximateSize(.object(event))
        case .start, .retry, .fallback, .usage: return 256
        case .done, .error: return 0
        }
    }

    private static func approximateSize(_ v: JSONValue) -> Int {
        switch v {
        case .string(let s): return s.utf8.count + 16
        case .array(let a): return a.reduce(16) { $0 + approximateSize($1) }
        case .object(let o): return o.members.reduce(16) { $0 + $1.key.utf8.count + approximateSize($1.value) }
        default: return 16
        }
    }

    /// Loop thread, before producing: should the producer hold on? Marks the queue paused
    /// before looking at the level again, so that a consumer draining at the same moment
    /// either sees the mark (and resumes) or leaves a level this call sees as low.
    public func shouldPause() -> Bool {
        guard bytes.load(ordering: .sequentiallyConsistent) >= limits.highWaterBytes else { return false }
        paused.store(true, ordering: .sequentiallyConsistent)
        if bytes.load(ordering: .sequentiallyConsistent) >= limits.highWaterBytes {
            pauseCount.wrappingAdd(1, ordering: .relaxed)
            return true
        }
        return false  // drained meanwhile; a resume that may follow finds nothing paused
    }

    public func push(_ e: ExecutionEvent) {
        let cost = Self.cost(e)
        lock.lock()
        events.append(e)
        let now = bytes.wrappingAdd(cost, ordering: .sequentiallyConsistent).newValue
        if now > maxBytes.load(ordering: .relaxed) { maxBytes.store(now, ordering: .relaxed) }
        // Only a consumer asleep is woken (a busy one takes this event with its next batch),
        // once, and after unlocking, so that it does not wake only to wait for the lock.
        let wake = waiting
        waiting = false
        lock.unlock()
        if wake { lock.signal() }
    }

    /// Waits for at least one event, then swaps all queued into `batch` (whose old contents are
    /// dropped; its storage is reused, so a steady stream allocates nothing here). Coming back
    /// for more means the previous batch was delivered: a paused producer is resumed here when
    /// the queue is below the low-water mark.
    ///
    /// It sleeps at once on an empty queue, without spinning first. A time-bounded spin (20 µs)
    /// saved a futex wake-up per chunk only in loopback bursts (real tokens arrive milliseconds
    /// apart), delayed the first event under load, and made the instruction count that CI
    /// guards depend on scheduling (±3,000 per chunk between runs); bench/RESULTS.md, issue 14.
    public func popAll(into batch: inout [ExecutionEvent]) {
        _ = pop(into: &batch, max: Int.max, waitNs: -1)
    }

    /// The same for a consumer that takes at most `max` (≥ 1) events and waits at most
    /// `waitNs` for the first: -1 as long as it takes, 0 not at all (the pull stream,
    /// PullStream.swift). False when none came. The events left queued (past `max`) stay
    /// counted against the bound, so a reader pulling few at a time holds no more than one
    /// that takes everything.
    public func pop(into batch: inout [ExecutionEvent], max: Int, waitNs: Int64) -> Bool {
        batch.removeAll(keepingCapacity: true)
        if paused.load(ordering: .sequentiallyConsistent) && bytes.load(ordering: .sequentiallyConsistent) <= limits.lowWaterBytes {
            if paused.exchange(false, ordering: .sequentiallyConsistent) { onDrained?() }
        }
        let start = waitNs > 0 ? MonotonicClock.nanos() : 0
        lock.lock()
        defer { lock.unlock() }
        if waitNs < 0 {
            while events.count == head {
                waiting = true
                lock.wait()
            }
        } else if waitNs > 0 {
            let deadline = start.addingReportingOverflow(UInt64(clamping: waitNs))
            let until = deadline.overflow ? UInt64.max : deadline.partialValue
            while events.count == head {
                waiting = true
                if !lock.wait(untilNanos: until) { break }
            }
        }
        waiting = false
        if events.count == head { return false }
        if events.count - head <= max {
            if head == 0 {
                swap(&batch, &events)
            } else {
                batch.append(contentsOf: events[head...])
                events.removeAll(keepingCapacity: true)
                head = 0
            }
            bytes.store(0, ordering: .sequentiallyConsistent)
            return true
        }
        let end = head + max  // no overflow: max < events.count - head here
        batch.append(contentsOf: events[head..<end])
        head = end
        if head >= events.count - head {
            events.removeFirst(head)
            head = 0
        }
        let taken = batch.reduce(0) { $0 &+ Self.cost($1) }
        bytes.wrappingSubtract(taken, ordering: .sequentiallyConsistent)
        return true
    }
}
