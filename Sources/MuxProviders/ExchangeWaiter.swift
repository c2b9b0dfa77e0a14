// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Hands a loop-thread result (and progress events before it) to a thread that waits for it.
/// `push` and `finish` may be called from any thread; the first `finish` wins, later ones are
/// ignored (a cancelled transfer's own end, for one).
public final class ExchangeWaiter<T>: @unchecked Sendable {
    private let lock = ConditionLock()
    private var events: [JSONValue] = []
    private var result: Result<T, PMXError>?

    public init() {}

    public func push(_ event: JSONValue) { lock.withLock { events.append(event); lock.signal() } }

    public func finish(_ r: Result<T, PMXError>) { lock.withLock { if result == nil { result = r }; lock.signal() } }

    /// Relays events to `onEvent` on this thread until the result; a non-zero return calls
    /// `onCancel` once, relays nothing more and keeps waiting for the (cancelled) result.
    public func wait(_ onEvent: (JSONValue) -> Int32 = { _ in 0 }, onCancel: (() -> Void)? = nil) -> Result<T, PMXError> {
        var cancelled = false
        while true {
            lock.lock()
            while events.isEmpty && result == nil { lock.wait() }
            let batch = events
            events.removeAll()
            let r = result
            lock.unlock()
            for e in batch where !cancelled {
                if onEvent(e) != 0 { cancelled = true; onCancel?() }
            }
            if let r { return r }
        }
    }
}
