// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

public enum LogLevel: Int32, Sendable, Comparable {
    case trace = 0, debug, info, warn, error
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process-wide log sink. The library never writes to stdout/stderr itself: lines go to
/// the host's callback, secrets masked. With the transcript on (`PMX_TRANSCRIPT_DIR`), every
/// line at every level also goes there. Delivery is `LogHub`'s (below).
public enum Log {
    public typealias Sink = @Sendable (LogLevel, String) -> Void
    package static let hub = LogHub()

    /// Later lines go to `sink`. Waits for a call of the previous sink running on another
    /// thread to return, except where waiting could deadlock (see `LogHub.replace`).
    public static func setSink(_ sink: Sink?, minLevel: LogLevel) {
        hub.replace(sink, minLevel: minLevel)
        _ = Transcript.isOn  // the transcript's variable is read at the latest here
    }

    /// Whether a line at `level` goes anywhere: the host's callback, or the transcript.
    public static func enabled(_ level: LogLevel) -> Bool {
        Transcript.isOn || hub.wants(level)
    }

    /// `message` is built only when the level is enabled.
    public static func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard enabled(level) else { return }
        let text = Secrets.mask(message())
        Transcript.record(log: level, text)
        hub.submit(level, text)
    }

    public static func trace(_ m: @autoclosure () -> String) { log(.trace, m()) }
    public static func debug(_ m: @autoclosure () -> String) { log(.debug, m()) }
    public static func info(_ m: @autoclosure () -> String) { log(.info, m()) }
    public static func warn(_ m: @autoclosure () -> String) { log(.warn, m()) }
    public static func error(_ m: @autoclosure () -> String) { log(.error, m()) }
}

/// Hands log lines to the host's callback with no library lock held while it runs, one call at
/// a time (never concurrently with itself, as the header promises), and without any thread
/// ever waiting for a callback to return — so a library call made from inside the callback
/// (one that logs, or sets the callback, or waits for an I/O thread that is logging) cannot
/// deadlock.
///
/// A line is queued. The thread that finds nobody delivering becomes the deliverer: it takes
/// lines from the queue and calls the callback (lock released) until the queue is empty. A
/// thread that finds another one delivering leaves its line queued and goes on: the deliverer
/// hands it over after the call in progress returns. A line logged from inside the callback is
/// queued the same way and delivered by the same thread right after the callback returns
/// (never nested). So a line may reach the callback on another thread than the one that logged
/// it, shortly after that thread went on; lines keep their order. The queue holds `maxQueued`
/// lines: when the callback cannot keep up, later lines are dropped and counted, and one
/// warning says how many.
package final class LogHub: @unchecked Sendable {
    /// Lines waiting for the callback at most (a slow callback drops the rest, counted).
    package static let maxQueued = 4096

    private let lock = ConditionLock()
    // Everything below is guarded by `lock`.
    private var sink: Log.Sink?
    private var minLevel: LogLevel = .error
    /// Bumped by every `replace`; tells a waiting `replace` when the old sink's call is over.
    private var generation: UInt64 = 0
    private var queue: [(LogLevel, String)] = []
    private var head = 0
    private var dropped = 0
    /// The thread draining the queue, nil when nobody is.
    private var deliverer: pthread_t?
    /// Generation of the sink being called right now (nil between calls).
    private var calling: UInt64?

    package func wants(_ level: LogLevel) -> Bool {
        lock.withLock { sink != nil && level >= minLevel }
    }

    package func replace(_ newSink: Log.Sink?, minLevel level: LogLevel) {
        lock.lock()
        defer { lock.unlock() }
        sink = newSink
        minLevel = level
        generation &+= 1
        let mine = generation
        if newSink == nil { clearQueue() }
        // The header promises that the previous callback is never called after this returns,
        // so that its userdata can be freed: wait for a call of it that another thread is
        // making right now. Not from inside the callback (this thread is making that call)
        // and not on an I/O thread: the callback may be waiting for this very thread (a
        // blocking call from a log callback waits for an I/O thread), and waiting would
        // deadlock. There, the old callback may still be running on the other thread.
        guard !isDeliverer(), !IOThread.isCurrent else { return }
        while let g = calling, g < mine { lock.wait() }
    }

    package func submit(_ level: LogLevel, _ text: String) {
        lock.lock()
        guard sink != nil, level >= minLevel else { lock.unlock(); return }
        if queue.count - head < Self.maxQueued {
            queue.append((level, text))
        } else {
            dropped += 1
        }
        // Somebody (maybe this thread, inside the callback) is delivering: it takes the line.
        guard deliverer == nil else { lock.unlock(); return }
        deliverer = pthread_self()
        drain()
        deliverer = nil
        lock.unlock()
    }

    /// Calls the sink for every queued line, the lock released around each call. Called and
    /// returns with the lock held.
    private func drain() {
        while true {
            let line: (LogLevel, String)
            if head < queue.count {
                line = queue[head]
                head += 1
                if head >= 1024 { queue.removeFirst(head); head = 0 }  // keep the storage small
            } else if dropped > 0 {
                line = (.warn, "\(dropped) log lines dropped: the log callback could not keep up (at most \(Self.maxQueued) wait for it)")
                dropped = 0
            } else {
                clearQueue()
                return
            }
            // The sink (and level) in force now: a line queued before a replace goes to the new one.
            guard let s = sink, line.0 >= minLevel else { continue }
            calling = generation
            lock.unlock()
            s(line.0, line.1)
            lock.lock()
            calling = nil
            lock.signal()  // a `replace` waiting for this call to end
        }
    }

    private func clearQueue() {
        queue.removeAll(keepingCapacity: queue.count <= 64)
        head = 0
        dropped = 0
    }

    private func isDeliverer() -> Bool {
        guard let d = deliverer else { return false }
        return pthread_equal(d, pthread_self()) != 0
    }
}
