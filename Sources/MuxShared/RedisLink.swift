// SPDX-License-Identifier: Apache-2.0
import CHiredis
import MuxBase
import MuxConfig
import Synchronization

/// One router's connection to Redis: hiredis's synchronous context. Each call has `timeout_ms`
/// in all — the wait for the lock, a reconnect, its write and its read: every socket operation
/// gets what is left (`arm`) — so no call waits longer than that for the server.
///
/// Calls run on the thread that needs the answer (the router's loop thread for admission, the
/// caller's thread for a cache lookup) under one mutex: a Redis round-trip on loopback costs
/// tens of microseconds, far less than a thread hop would add. Updates whose answer nobody
/// waits for (an attempt's outcome, a cache store) are written at once and their replies read
/// with the next call's ("write-behind": pipelined, no round-trip of their own).
///
/// Failure is not an outage: any error closes the connection and the link is `degraded` —
/// callers use their local state — until a call made `reconnect_ms` later connects again
/// (reloading the scripts). A call that only ran out of time keeps the connection instead
/// ("stalled"): the link is degraded just the same, but the first later call that finds the
/// late replies arrived reads them and goes on shared — a server held up for 25 ms by a busy
/// machine costs the calls of those 25 ms, not `reconnect_ms` of local state; one still silent
/// after `reconnect_ms` is closed and reconnected. One WARN per change of state; `transitions`
/// and `fallbacks` count them.
package final class RedisLink: @unchecked Sendable {
    package enum LinkState: String, Sendable { case connected, degraded }

    package let settings: SharedSettings
    /// Guards every var below. Nothing is logged and no handler runs while it is held: the
    /// host's log callback may call back into the router (stats, health).
    private let lock = ConditionLock()
    private var context: UnsafeMutablePointer<redisContext>?
    /// Per script, the start of its EVALSHA in RESP: `$7\r\nEVALSHA\r\n$40\r\n<sha>\r\n`.
    private var evalshaHeads: [[UInt8]] = []
    /// The command being handed to hiredis, reused from call to call.
    private var out: [UInt8] = []
    /// Write-behind commands sent whose replies are not read yet, oldest first.
    private var pending: [Command] = []
    private var state: LinkState?
    private var nextConnectNs: UInt64 = 0
    /// Log lines and write-behind replies met under the lock, handed out after it.
    private var logLines: [(LogLevel, String)] = []
    /// The running call's deadline, what the socket's timeout is set to now, and whether the
    /// call ran out of time (then the error says so).
    private var deadlineNs: UInt64 = 0
    private var socketTimeoutMs = 0
    private var spent = false
    /// The last `read` only ran out of time (the stream is whole: its reply may come later).
    private var readTimedOut = false
    /// A call ran out of time waiting: the connection is kept, `pending` holds the replies the
    /// server still owes, and the link is degraded until they have arrived.
    private var stalled = false
    private var replies: [RedisValue] = []
    /// Read by `json()` without the lock (stats must not wait for a Redis call in flight).
    private let shownState = Atomic<Bool>(false)
    private let lastError = Locked<String?>(nil)
    private let transitionCount = Atomic<Int>(0)
    private let fallbackCount = Atomic<Int>(0)
    /// Called with each write-behind command's reply once it is read (after the lock is
    /// released, on the thread of the call that read it).
    package var onDeferredReply: (@Sendable (RedisValue) -> Void)?

    /// Most write-behind replies left unread before a call reads them all.
    package static let maxPending = 64

    /// One EVALSHA: its script, then numkeys, the keys and the arguments, already in RESP.
    package struct Command: Sendable {
        package var script: SharedScripts.Name
        package var arguments: RESPArguments
        package var retried = false
        /// Its caller ran out of time and went on locally: its reply is read and dropped.
        var abandoned = false

        /// `keyCount` keys, then the arguments, written by `build` (keys first).
        package init(_ script: SharedScripts.Name, keyCount: Int, capacity: Int = 256, _ build: (inout RESPArguments) -> Void) {
            self.script = script
            arguments = RESPArguments(capacity: capacity)
            arguments.add(keyCount)
            build(&arguments)
        }

        package init(_ script: SharedScripts.Name, keys: [String], args: [String]) {
            self.init(script, keyCount: keys.count) { a in
                for k in keys { a.add(k) }
                for v in args { a.add(v) }
            }
        }
    }

    package init(settings: SharedSettings) {
        self.settings = settings
    }

    deinit { if let c = context { pmx_hiredis_free(c) } }

    /// Checks that hiredis can be loaded at all: a router configured with `shared` on a machine
    /// without it is a config error, not a silent local-only router.
    package static func requireClientLibrary() throws {
        var err = [CChar](repeating: 0, count: 256)
        if pmx_hiredis_load(&err, err.count) != 0 {
            throw PMXError(.config, "shared.redis: the Redis client library is missing: \(String(cString: err))")
        }
    }

    // MARK: Calls

    /// Runs one script and returns its reply; nil when the link is degraded (use local state).
    package func call(_ command: Command) -> RedisValue? {
        locked {
            guard msLeft() != nil, connectIfDue() else { return fallback() }
            guard let reply = roundTrip(command) else { return fallback() }
            return reply
        }
    }

    /// Sends one script without waiting for its reply (read with a later call). False when the
    /// link is degraded: the caller applies the update locally.
    @discardableResult
    package func send(_ command: Command) -> Bool {
        locked {
            guard msLeft() != nil, connectIfDue(), let c = context else { fallback(); return false }
            guard append(c, command), flush(c) else { fail(c); fallback(); return false }
            pending.append(command)
            if pending.count > Self.maxPending && !drainPending(c) { return true }  // sent; its answer is lost with the link
            return true
        }
    }

    /// For health: PING when connected (finds a server that went away), else a reconnect if due.
    package func probe() {
        locked {
            guard connectIfDue(), let c = context else { return }
            guard drainPending(c) else { return }
            guard appendRaw(c, ["PING"]), flush(c), let r = read(c) else { fail(c); return }
            if case .error(let e) = r { fail(c, e) }
        }
    }

    package var linkState: LinkState { shownState.load(ordering: .acquiring) ? .connected : .degraded }
    package var transitions: Int { transitionCount.load(ordering: .relaxed) }
    package var fallbacks: Int { fallbackCount.load(ordering: .relaxed) }

    /// {"redis": "connected"|"degraded", "url" (password masked), "key_prefix", "timeout_ms",
    ///  "transitions", "fallbacks", "last_error" (while degraded)}
    package func json() -> JSONValue {
        let s = linkState, err = lastError.withLock { $0 }
        var o = JSONObject()
        o["redis"] = .string(s.rawValue)
        o["url"] = .string(settings.displayURL)
        o["key_prefix"] = .string(settings.keyPrefix)
        o["timeout_ms"] = .int(Int64(settings.timeoutMs))
        o["transitions"] = .int(Int64(transitions))
        o["fallbacks"] = .int(Int64(fallbacks))
        if s == .degraded, let err { o["last_error"] = .string(err) }
        return .object(o)
    }

    // MARK: Internals (lock held)

    /// Runs `body` under the lock, then logs what it noted and hands on the replies it read.
    /// Everything `body` does with the socket ends by `timeout_ms` after this was called.
    private func locked<T>(_ body: () -> T) -> T {
        let entryNs = MonotonicClock.nanos()
        let (result, lines, read) = lock.withLock { () -> (T, [(LogLevel, String)], [RedisValue]) in
            // The time budget starts before the wait for the lock: another thread's call counts.
            deadlineNs = entryNs.addingSaturated(SafeNumbers.nanos(ms: settings.timeoutMs))
            spent = false
            let r = body()
            defer { logLines.removeAll(); replies.removeAll() }
            return (r, logLines, replies)
        }
        for (level, line) in lines { Log.log(level, line) }
        if let handler = onDeferredReply { for r in read { handler(r) } }
        return result
    }

    @discardableResult
    private func fallback() -> RedisValue? {
        fallbackCount.add(1, ordering: .relaxed)
        return nil
    }

    /// Connected now, or connects when the reconnect interval has passed. False = degraded.
    private func connectIfDue() -> Bool {
        if let c = context { return stalled ? resume(c) : true }
        let now = MonotonicClock.nanos()
        guard now >= nextConnectNs else { return false }
        nextConnectNs = now.addingSaturated(SafeNumbers.nanos(ms: settings.reconnectMs))
        var err = [CChar](repeating: 0, count: 256)
        let ms = msLeft() ?? 1
        guard let c = pmx_hiredis_connect(settings.host, Int32(clamping: settings.port), Int32(clamping: ms), &err, err.count) else {
            setState(.degraded, String(cString: err))
            return false
        }
        context = c
        socketTimeoutMs = ms
        guard handshake(c) else { return false }
        setState(.connected, nil)
        return true
    }

    /// A stalled connection: usable again once the replies still owed are there — read at once
    /// (never waited for: no bytes, no wait) — or closed for a reconnect after `reconnect_ms`.
    private func resume(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        if pmx_hiredis_has_input(c) != 0 {
            guard drainPending(c) else { return false }  // one still missing (stalled) or the link failed
            stalled = false
            setState(.connected, nil, how: "late replies read from")
            return true
        }
        guard MonotonicClock.nanos() >= nextConnectNs else { return false }
        pmx_hiredis_free(c)
        context = nil
        pending.removeAll()
        stalled = false
        return connectIfDue()
    }

    /// AUTH, SELECT and SCRIPT LOAD of every script, pipelined: one round-trip.
    private func handshake(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        var commands: [[String]] = []
        if let password = settings.password {
            commands.append(settings.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if settings.db != 0 { commands.append(["SELECT", String(settings.db)]) }
        for name in SharedScripts.Name.allCases { commands.append(["SCRIPT", "LOAD", SharedScripts.source(name)]) }
        for cmd in commands { guard appendRaw(c, cmd) else { fail(c); return false } }
        guard flush(c) else { fail(c); return false }
        var loaded: [String] = []
        for cmd in commands {
            guard let r = read(c) else { fail(c); return false }
            if case .error(let e) = r {
                // Names the step, never its arguments (AUTH's are the credentials).
                fail(c, "\(cmd[0]) \(cmd[0] == "SCRIPT" ? "LOAD " : "")failed: \(e)")
                return false
            }
            if cmd[0] == "SCRIPT" {
                guard let sha = r.text, sha.utf8.count == 40 else { fail(c, "SCRIPT LOAD answered no SHA1"); return false }
                loaded.append(sha)
            }
        }
        setScripts(loaded)
        pending.removeAll()
        return true
    }

    /// Sends `command` and reads its reply. Replies arrive in order: first those of the
    /// write-behind commands sent before, then this one's.
    private func roundTrip(_ command: Command) -> RedisValue? {
        guard let c = context else { return nil }
        guard append(c, command), flush(c) else { fail(c); return nil }
        var lost: [Command] = []
        guard readPending(c, lost: &lost), let reply = read(c) else { stallOrFail(c, owed: command); return nil }
        let oursLost = reply.isNoScript && !command.retried
        if oursLost || !lost.isEmpty {
            // The server lost the scripts (SCRIPT FLUSH, or another server behind the address):
            // load them, send again what met NOSCRIPT (this command last, and waited for).
            guard reloadScripts(c), resend(c, lost) else { return nil }
            if oursLost {
                var ours = command
                ours.retried = true
                return roundTrip(ours)
            }
        }
        if case .error(let e) = reply {
            // A script error is a bug or a server refusing (OOM, READONLY replica): go local.
            fail(c, "EVALSHA \(command.script): \(e)")
            return nil
        }
        return reply
    }

    /// Reads the replies of every write-behind command sent so far, handing them on (those of
    /// abandoned calls dropped); those answered NOSCRIPT (not yet retried) go to `lost`. False
    /// when a read failed: the caller fails or stalls the link; what is unread stays pending.
    private func readPending(_ c: UnsafeMutablePointer<redisContext>, lost: inout [Command]) -> Bool {
        while let command = pending.first {
            guard let reply = read(c) else { return false }
            pending.removeFirst()
            if command.abandoned { continue }
            if reply.isNoScript && !command.retried { lost.append(command) } else { replies.append(reply) }
        }
        return true
    }

    /// Reads every write-behind reply; what met NOSCRIPT is sent again after a reload and its
    /// reply read too. Afterwards no reply is outstanding.
    private func drainPending(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        var lost: [Command] = []
        guard readPending(c, lost: &lost) else { stallOrFail(c, owed: nil); return false }
        guard !lost.isEmpty else { return true }
        var again: [Command] = []  // stays empty: resent commands are never retried twice
        guard reloadScripts(c), resend(c, lost) else { return false }
        guard readPending(c, lost: &again) else { stallOrFail(c, owed: nil); return false }
        return true
    }

    /// Sends `commands` again as write-behind (once: they are marked retried).
    private func resend(_ c: UnsafeMutablePointer<redisContext>, _ commands: [Command]) -> Bool {
        for var command in commands {
            command.retried = true
            guard append(c, command) else { fail(c); return false }
            pending.append(command)
        }
        guard commands.isEmpty || flush(c) else { fail(c); return false }
        return true
    }

    /// SCRIPT LOAD of every script, pipelined; no reply may be outstanding (drained before).
    private func reloadScripts(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        logLines.append((.info, "shared state: Redis lost the scripts (NOSCRIPT); loading them again"))
        for name in SharedScripts.Name.allCases {
            guard appendRaw(c, ["SCRIPT", "LOAD", SharedScripts.source(name)]) else { fail(c); return false }
        }
        guard flush(c) else { fail(c); return false }
        var loaded: [String] = []
        for _ in SharedScripts.Name.allCases {
            guard let r = read(c), let sha = r.text, sha.utf8.count == 40 else { fail(c, "SCRIPT LOAD failed"); return false }
            loaded.append(sha)
        }
        setScripts(loaded)
        return true
    }

    /// The scripts' SHA1s (in `SharedScripts.Name` order) as the heads of their EVALSHAs.
    private func setScripts(_ shas: [String]) {
        evalshaHeads = shas.map { sha in
            var head = RESPArguments(capacity: 64)
            head.add("EVALSHA")
            head.add(sha)
            return head.bytes
        }
    }

    /// `EVALSHA <sha> <numkeys> <keys…> <args…>`, written into `out` and queued as it is.
    private func append(_ c: UnsafeMutablePointer<redisContext>, _ command: Command) -> Bool {
        out.removeAll(keepingCapacity: true)
        RESPArguments.arrayHeader(count: 2 + command.arguments.count, into: &out)
        let i = command.script.rawValue
        out.append(contentsOf: evalshaHeads.indices.contains(i) ? evalshaHeads[i] : [36, 48, 13, 10, 13, 10])  // "$0\r\n\r\n": NOSCRIPT
        out.append(contentsOf: command.arguments.bytes)
        return queue(c)
    }

    /// A command that is not a script's (handshake, PING): binary-safe like every argument.
    private func appendRaw(_ c: UnsafeMutablePointer<redisContext>, _ argv: [String]) -> Bool {
        out.removeAll(keepingCapacity: true)
        RESPArguments.command(RESPArguments(argv), into: &out)
        return queue(c)
    }

    private func queue(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        out.withUnsafeBufferPointer { pmx_hiredis_append(c, $0.baseAddress, $0.count) == 0 }
    }

    private func read(_ c: UnsafeMutablePointer<redisContext>) -> RedisValue? {
        readTimedOut = false
        guard arm(c) else { readTimedOut = spent; return nil }  // out of time before reading: nothing consumed
        var timedOut: Int32 = 0
        guard let r = pmx_hiredis_read(c, &timedOut) else { readTimedOut = timedOut != 0; return nil }
        defer { pmx_hiredis_reply_free(r) }
        return RedisValue(r)
    }

    private func flush(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        arm(c) && pmx_hiredis_flush(c) == 0
    }

    /// Milliseconds left of this call's `timeout_ms` (at least 1), nil once spent.
    private func msLeft() -> Int? {
        let now = MonotonicClock.nanos()
        guard now < deadlineNs else { return nil }
        return max(1, Int(clamping: SafeNumbers.ceilMs(ns: deadlineNs - now)))
    }

    /// Gives the socket what is left of the call's time: a call is one write and one read (a
    /// reconnect a connect, a write and a read), and all of it stays within `timeout_ms`.
    private func arm(_ c: UnsafeMutablePointer<redisContext>) -> Bool {
        guard let ms = msLeft() else { spent = true; return false }
        if ms != socketTimeoutMs {
            guard pmx_hiredis_set_timeout(c, Int32(clamping: ms)) == 0 else { return false }
            socketTimeoutMs = ms
        }
        return true
    }

    /// After a failed read: when it only ran out of time, the connection stays (stalled, see
    /// `resume`) with `owed` — the call's own command, sent and not answered — abandoned in
    /// `pending`; any other failure closes it.
    private func stallOrFail(_ c: UnsafeMutablePointer<redisContext>, owed: Command?) {
        guard readTimedOut else { fail(c); return }
        if var o = owed {
            o.abandoned = true
            pending.append(o)
        }
        if !stalled {
            stalled = true
            nextConnectNs = MonotonicClock.nanos().addingSaturated(SafeNumbers.nanos(ms: settings.reconnectMs))
        }
        setState(.degraded, "no answer within timeout_ms (\(settings.timeoutMs) ms)")
    }

    /// Closes the connection after an error; degraded until a later reconnect.
    private func fail(_ c: UnsafeMutablePointer<redisContext>, _ reason: String? = nil) {
        // A socket timeout fires at the deadline (hiredis then says "Resource temporarily unavailable").
        let outOfTime = spent || msLeft() == nil
        var why = reason ?? (outOfTime ? "no answer within timeout_ms (\(settings.timeoutMs) ms)" : String(cString: pmx_hiredis_error(c)))
        if why.isEmpty { why = "connection lost" }
        pmx_hiredis_free(c)
        context = nil
        pending.removeAll()
        stalled = false
        nextConnectNs = MonotonicClock.nanos().addingSaturated(SafeNumbers.nanos(ms: settings.reconnectMs))
        setState(.degraded, why)
    }

    private func setState(_ new: LinkState, _ reason: String?, how: String = "reconnected to") {
        let why = reason.map { Secrets.mask($0) }
        if new == .degraded { lastError.withLock { $0 = why } }
        let old = state
        guard old != new else { return }
        state = new
        shownState.store(new == .connected, ordering: .releasing)
        if old != nil { transitionCount.add(1, ordering: .relaxed) }
        switch new {
        case .connected:
            logLines.append(old == nil ? (.info, "shared state: connected to \(settings.displayURL) (prefix \"\(settings.keyPrefix)\")")
                                       : (.warn, "shared state: \(how) \(settings.displayURL); sharing resumed"))
        case .degraded:
            logLines.append((.warn, "shared state: Redis at \(settings.displayURL) unavailable (\(why ?? "?")); using local state until it answers"))
        }
    }
}
