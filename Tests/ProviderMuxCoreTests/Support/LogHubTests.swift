// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Foundation
import Testing

// LogHub: the host's log callback runs with no library lock held, never concurrently with
// itself, and no thread ever waits for it (so calls made from inside it cannot deadlock).
// Each test drives its own hub: the process-wide one is shared with tests running in parallel.

/// Lines a sink received, and how many calls overlapped.
private final class Received: @unchecked Sendable {
    let lock = NSLock()
    var lines: [String] = []
    var inside = 0
    var maxInside = 0
    var threads: Set<String> = []

    func enter() { lock.withLock { inside += 1; maxInside = max(maxInside, inside) } }
    func leave(_ line: String) { lock.withLock { inside -= 1; lines.append(line) } }
    var snapshot: [String] { lock.withLock { lines } }
}

/// Runs `body` on a new thread; false when it did not return within `seconds` (a deadlock).
private func returns(within seconds: Double = 10, _ body: @escaping @Sendable () -> Void) -> Bool {
    let done = DispatchSemaphore(value: 0)
    Thread { body(); done.signal() }.start()
    return done.wait(timeout: .now() + seconds) == .success
}

@Suite("Log delivery (re-entrancy)")
struct LogHubTests {
    @Test("a line logged from inside the callback is delivered after it returns, on the same thread, never nested")
    func nested() {
        let hub = LogHub()
        let got = Received()
        hub.replace({ _, line in
            got.enter()
            if line == "outer" { hub.submit(.info, "inner") }  // a library call that logs
            got.leave(line)
        }, minLevel: .debug)
        #expect(returns { hub.submit(.info, "outer") })
        #expect(got.snapshot == ["outer", "inner"])
        #expect(got.maxInside == 1)
    }

    @Test("setting the callback from inside the callback takes effect for later lines")
    func replaceFromInside() {
        let hub = LogHub()
        let first = Received(), second = Received()
        let secondSink: Log.Sink = { _, line in second.enter(); second.leave(line) }
        hub.replace({ _, line in
            first.enter()
            if line == "switch" {
                hub.replace(secondSink, minLevel: .debug)
                hub.submit(.info, "queued inside")
            }
            first.leave(line)
        }, minLevel: .debug)
        #expect(returns { hub.submit(.info, "switch"); hub.submit(.info, "after") })
        #expect(first.snapshot == ["switch"])
        #expect(second.snapshot == ["queued inside", "after"])
        hub.replace(nil, minLevel: .error)
        hub.submit(.error, "nobody")
        #expect(second.snapshot.count == 2)
    }

    @Test("a thread that logs while another is inside the callback does not wait for it")
    func noWaiting() {
        let hub = LogHub()
        let got = Received()
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        hub.replace({ _, line in
            got.enter()
            if line == "slow" { inside.signal(); _ = release.wait(timeout: .now() + 20) }
            got.leave(line)
        }, minLevel: .debug)
        Thread { hub.submit(.info, "slow") }.start()
        #expect(inside.wait(timeout: .now() + 10) == .success)
        // With the callback busy on the other thread (as if it waited for this one, e.g. a
        // blocking call waiting for an I/O thread that logs), this thread must go on.
        #expect(returns(within: 5) { hub.submit(.info, "while busy") })
        release.signal()
        #expect(returns { while got.snapshot.count < 2 { usleep(1000) } })
        #expect(got.snapshot == ["slow", "while busy"])  // delivered by the busy thread, in order
        #expect(got.maxInside == 1)
    }

    @Test("many threads logging at once: every line delivered, the callback never runs concurrently")
    func concurrent() {
        let hub = LogHub()
        let got = Received()
        hub.replace({ _, line in got.enter(); got.lock.withLock { _ = got.threads.insert(Thread.current.description) }; got.leave(line) }, minLevel: .trace)
        let group = DispatchGroup()
        for t in 0..<8 {
            group.enter()
            Thread { for i in 0..<400 { hub.submit(.debug, "\(t):\(i)") }; group.leave() }.start()
        }
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(returns { while got.snapshot.count < 3200 { usleep(1000) } })
        #expect(got.snapshot.count == 3200)
        #expect(got.maxInside == 1)
        // Each thread's lines arrive in the order it logged them.
        for t in 0..<8 {
            let mine = got.snapshot.filter { $0.hasPrefix("\(t):") }
            #expect(mine == (0..<400).map { "\(t):\($0)" })
        }
    }

    @Test("replacing the callback waits for a call of the old one on another thread to return")
    func replaceWaits() {
        let hub = LogHub()
        final class Flag: @unchecked Sendable { var returned = false; var seenAfterReplace = false }
        let flag = Flag()
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        hub.replace({ _, _ in
            inside.signal()
            _ = release.wait(timeout: .now() + 20)
            flag.returned = true
        }, minLevel: .debug)
        Thread { hub.submit(.info, "x") }.start()
        #expect(inside.wait(timeout: .now() + 10) == .success)
        let replaced = DispatchSemaphore(value: 0)
        Thread {
            hub.replace(nil, minLevel: .error)
            flag.seenAfterReplace = flag.returned  // the old call must be over by now
            replaced.signal()
        }.start()
        usleep(50_000)  // give replace the chance to return too early
        release.signal()
        #expect(replaced.wait(timeout: .now() + 10) == .success)
        #expect(flag.seenAfterReplace)
    }

    @Test("a callback that cannot keep up drops lines beyond the bound and says how many")
    func bounded() {
        let hub = LogHub()
        let got = Received()
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        hub.replace({ _, line in
            if line == "block" { inside.signal(); _ = release.wait(timeout: .now() + 20) }
            got.leave(line)
        }, minLevel: .debug)
        Thread { hub.submit(.info, "block") }.start()
        #expect(inside.wait(timeout: .now() + 10) == .success)
        let extra = 100
        for i in 0..<(LogHub.maxQueued + extra) { hub.submit(.debug, "l\(i)") }
        release.signal()
        #expect(returns { while got.snapshot.count < LogHub.maxQueued + 2 { usleep(1000) } })
        let lines = got.snapshot
        #expect(lines.count == LogHub.maxQueued + 2)
        #expect(lines[1] == "l0" && lines[LogHub.maxQueued] == "l\(LogHub.maxQueued - 1)")
        #expect(lines.last == "\(extra) log lines dropped: the log callback could not keep up (at most \(LogHub.maxQueued) wait for it)")
    }
}
