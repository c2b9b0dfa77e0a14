// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Marks the library's own I/O threads (one per router, `EventLoop`), so that code can tell
/// that it runs on one, whichever router's it is: a blocking call made there (from inside a
/// callback the loop runs) refuses to wait for an I/O thread (Router+BlockingCalls.swift), and
/// the log refuses to wait for a callback running on another thread (Log.swift).
/// A thread-specific value: one `pthread_getspecific` per check, no lock.
public enum IOThread {
    private static let key: pthread_key_t? = {
        var k = pthread_key_t()
        return pthread_key_create(&k, nil) == 0 ? k : nil
    }()

    /// Called once by each I/O thread before it runs anything else.
    package static func markCurrent() {
        guard let key else { return }
        _ = pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
    }

    /// True on any router's I/O thread, false on every other thread.
    public static var isCurrent: Bool {
        guard let key else { return false }
        return pthread_getspecific(key) != nil
    }
}
