// SPDX-License-Identifier: Apache-2.0

/// Where request state machines get time and timers from: the event loop in production, a
/// manual fake clock in tests. All calls happen on one thread (the loop's).
public protocol Scheduler: AnyObject {
    var nowNs: UInt64 { get }
    @discardableResult
    func schedule(afterMs ms: Double, _ action: @escaping () -> Void) -> UInt64
    func cancelTimer(_ id: UInt64)
}
