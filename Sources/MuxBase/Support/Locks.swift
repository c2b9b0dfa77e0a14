// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for the few places a thread must sleep until another
/// thread hands it something (blocking calls waiting for the I/O thread).
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }
    public func signal() { pthread_cond_broadcast(cond) }
    /// Waits (lock held) until signalled.
    public func wait() { pthread_cond_wait(cond, mutex) }
    /// Waits (lock held) until signalled or until MonotonicClock.nanos() reaches `deadline`
    /// (the condition runs on CLOCK_MONOTONIC, see init). False when the deadline passed.
    public func wait(untilNanos deadline: UInt64) -> Bool {
        var ts = timespec(tv_sec: Int(truncatingIfNeeded: deadline / 1_000_000_000),
                          tv_nsec: Int(truncatingIfNeeded: deadline % 1_000_000_000))
        return pthread_cond_timedwait(cond, mutex, &ts) != ETIMEDOUT
    }

    @inlinable public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A value guarded by a pthread mutex: the library's lock for shared state (use it, not
/// `Synchronization.Mutex`; `scripts/sanitize.sh` fails on a `Mutex` in Sources/).
///
/// Why not `Synchronization.Mutex`: on Linux it is a priority-inheritance futex. When it is
/// contended, the hand-over happens in the kernel (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI, called from
/// libswiftSynchronization, which is not instrumented), so ThreadSanitizer sees no
/// happens-before edge between two holders and reports the critical sections as a race. Every
/// contended lock becomes a false positive that would hide a real race. TSan intercepts
/// pthread_mutex_lock/unlock, so with this lock a reported race is a real one. The cost is the
/// same uncontended (one atomic each way), and glibc's plain mutex is cheaper than a PI futex
/// under contention. See docs/SANITIZERS.md.
@usableFromInline package final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Only touched inside `withLock`, under the mutex: the runtime's exclusivity check
    /// (~180 instructions per call) could only catch a nested `withLock` on the same lock,
    /// which the mutex already stops.
    @exclusivity(unchecked) @usableFromInline var value: Value

    package init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held and the value to read or change. Do not call back into
    /// the same lock from `body` (not recursive).
    @inlinable package func withLock<Result, E: Error>(_ body: (inout Value) throws(E) -> Result) throws(E) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// Monotonic time, immune to wall-clock changes.
public enum MonotonicClock {
    @inlinable public static func nanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
    public static func millis() -> Double { Double(nanos()) / 1_000_000 }
}

/// Wall-clock seconds since the epoch (for the `created` field of responses).
public func unixTimeSeconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
}
