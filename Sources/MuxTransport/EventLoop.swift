// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import MuxBase
import Glibc
#endif
import CCurl
import Synchronization

/// One I/O thread driving one `curl_multi` handle: every transfer, timer and request state
/// machine of a router lives here. Other threads talk to it only through `execute`, which
/// queues a task and wakes the loop (`curl_multi_wakeup`). No thread per request.
public final class EventLoop: Scheduler, @unchecked Sendable {
    package let multi: UnsafeMutableRawPointer
    private var thread = pthread_t()
    // Tasks from other threads; guarded by inboxLock (closures are not Sendable, so no `Locked`).
    private let inboxLock = ConditionLock()
    private var inbox: [() -> Void] = []
    private let stopRequested = Atomic<Bool>(false)
    private let threadID = Locked<pthread_t?>(nil)
    // Loop-thread state.
    private var timers = TimerQueue()
    private var attached: [ObjectIdentifier: HTTPTransfer] = [:]
    /// True while `curl_multi_perform` runs, i.e. inside curl's callbacks. curl refuses to add
    /// or remove a handle then (CURLM_RECURSIVE_API_CALL), yet a callback can start the next
    /// attempt (a stream that fails on a malformed event fails over from inside its write
    /// callback) or cancel another transfer: those wait in the lists below until it returns.
    private var performing = false
    private var deferredAdds: [HTTPTransfer] = []
    /// Kept alive here (with their easy handles) until curl lets go of them.
    private var deferredRemovals: [HTTPTransfer] = []
    private var joined = false
    /// Finished easy handles, reset and kept for the next transfer: curl_easy_init and cleanup
    /// cost more than curl_easy_reset. Any thread (a transfer may be freed off the loop).
    private let easyPool = Locked<[UInt]>([])
    private static let easyPoolLimit = 64

    /// The I/O thread's stack is at least this large. The default comes from the host (glibc:
    /// `ulimit -s` or `pthread_setattr_default_np`; musl: 128 KiB), and this thread runs
    /// libcurl, TLS and the decoding of every answer (a 256-deep JSON answer included). Only
    /// raised, never lowered; the pages are committed only as they are touched.
    package static let minimumStackBytes = 1 << 20

    public init(name: String = "pmx-io") throws {
        guard CurlGlobal.initialized, let m = curl_multi_init() else {
            throw PMXError(.internal, "libcurl initialisation failed")
        }
        multi = m
        let box = Unmanaged.passRetained(self).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        var stack = 0
        pthread_attr_getstacksize(&attr, &stack)
        if stack < Self.minimumStackBytes { pthread_attr_setstacksize(&attr, Self.minimumStackBytes) }
        let rc = pthread_create(&thread, &attr, { arg in
            let loop = Unmanaged<EventLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.run()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<EventLoop>.fromOpaque(box).release()
            curl_multi_cleanup(m)
            throw PMXError(.internal, "could not start the I/O thread (pthread_create: \(rc))")
        }
    }

    deinit {
        drainEasyPool()
        curl_multi_cleanup(multi)
    }

    /// An easy handle for a new transfer: a recycled one when available.
    package func takeEasy() -> UnsafeMutableRawPointer? {
        if let p = easyPool.withLock({ $0.popLast() }), let easy = UnsafeMutableRawPointer(bitPattern: p) { return easy }
        return curl_easy_init()
    }

    /// Takes back a finished transfer's handle (already removed from the multi handle).
    package func recycle(_ easy: UnsafeMutableRawPointer) {
        curl_easy_reset(easy)
        let kept = easyPool.withLock { pool -> Bool in
            guard !stopRequested.load(ordering: .relaxed), pool.count < Self.easyPoolLimit else { return false }
            pool.append(UInt(bitPattern: easy))
            return true
        }
        if !kept { curl_easy_cleanup(easy) }
    }

    private func drainEasyPool() {
        for p in easyPool.withLock({ pool -> [UInt] in defer { pool.removeAll() }; return pool }) {
            if let easy = UnsafeMutableRawPointer(bitPattern: p) { curl_easy_cleanup(easy) }
        }
    }

    public var isOnLoopThread: Bool {
        guard let t = threadID.withLock({ $0 }) else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }

    /// Runs `task` on the loop thread soon. Safe from any thread.
    public func execute(_ task: @escaping () -> Void) {
        let wasEmpty = inboxLock.withLock { () -> Bool in
            let empty = inbox.isEmpty
            inbox.append(task)
            return empty
        }
        // The loop looks at its inbox before every poll, so a task queued from the loop thread
        // itself needs no wake-up, and neither does one queued behind a task whose wake-up is
        // still pending (curl's wake-ups are sticky until the next poll).
        if wasEmpty && !isOnLoopThread { curl_multi_wakeup(multi) }
    }

    /// Stops the loop after the tasks queued so far, and waits for the thread to end.
    /// From the loop thread itself (a callback freeing its router) it cannot wait: the thread
    /// is detached and ends as soon as the current callback returns.
    public func shutdown() {
        guard !joined else { return }
        joined = true
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        curl_multi_wakeup(multi)
        if isOnLoopThread {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    // MARK: Scheduler (loop thread only)

    public var nowNs: UInt64 { MonotonicClock.nanos() }

    @discardableResult
    public func schedule(afterMs ms: Double, _ action: @escaping () -> Void) -> UInt64 {
        // Saturating: a delay of 1e300 ms (or NaN) must not trap or wrap round to "now".
        return timers.schedule(at: MonotonicClock.nanos().addingSaturated(SafeNumbers.nanos(ms: ms)), action)
    }

    public func cancelTimer(_ id: UInt64) { timers.cancel(id) }

    // MARK: Transfers (loop thread only)

    package func add(_ transfer: HTTPTransfer) {
        guard transfer.easy != nil else { return }
        if performing {
            deferredAdds.append(transfer)
            return
        }
        attach(transfer)
    }

    private func attach(_ transfer: HTTPTransfer) {
        guard let easy = transfer.easy, !transfer.isFinished else { return }
        let rc = curl_multi_add_handle(multi, easy)
        if rc != CURLM_OK {
            transfer.fail(.connection("curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(rc)))"))
            return
        }
        attached[ObjectIdentifier(transfer)] = transfer
        transfer.attached = true
        transfer.armWatchdog(self)
    }

    /// Detaches a transfer from the multi handle (no callbacks).
    package func remove(_ transfer: HTTPTransfer) {
        guard transfer.attached, let easy = transfer.easy else { return }
        if performing {
            // Its callbacks refuse further data meanwhile (the transfer is finished).
            if !deferredRemovals.contains(where: { $0 === transfer }) { deferredRemovals.append(transfer) }
            return
        }
        curl_multi_remove_handle(multi, easy)
        transfer.attached = false
        attached[ObjectIdentifier(transfer)] = nil
    }

    /// Un-pauses a transfer paused by its flow control. curl_easy_pause(CONT) may deliver the
    /// kept chunk right away, through the transfer's callbacks: that counts as inside curl
    /// (adds and removals wait), as during curl_multi_perform.
    package func resume(_ transfer: HTTPTransfer) {
        guard transfer.attached, !transfer.isFinished, let easy = transfer.easy else { return }
        let outer = performing
        performing = true
        let rc = transfer.unpause(easy)
        performing = outer
        if rc != CURLE_OK { transfer.failAfterResume(rc) }
        if !outer { applyDeferred() }
    }

    /// The adds and removals asked for inside curl's callbacks, now that curl allows them.
    private func applyDeferred() {
        while !deferredRemovals.isEmpty || !deferredAdds.isEmpty {
            let removals = deferredRemovals
            deferredRemovals.removeAll()
            for t in removals { remove(t) }
            let adds = deferredAdds
            deferredAdds.removeAll()
            for t in adds { attach(t) }  // skips a transfer cancelled while it waited
        }
    }

    // MARK: The loop

    private func run() {
        IOThread.markCurrent()
        threadID.withLock { $0 = pthread_self() }
        var stillRunning: Int32 = 0
        while true {
            let tasks = inboxLock.withLock { () -> [() -> Void] in
                let t = inbox
                inbox.removeAll(keepingCapacity: true)
                return t
            }
            for t in tasks { t() }
            if stopRequested.load(ordering: .sequentiallyConsistent) && inboxLock.withLock({ inbox.isEmpty }) { break }

            performing = true
            curl_multi_perform(multi, &stillRunning)
            performing = false
            applyDeferred()
            var pending: Int32 = 0
            while let msg = curl_multi_info_read(multi, &pending) {
                guard pmx_curlmsg_is_done(msg) != 0, let easy = pmx_curlmsg_handle(msg) else { continue }
                let result = pmx_curlmsg_result(msg)
                var priv: UnsafeMutableRawPointer?
                _ = pmx_curl_getinfo_ptr(easy, CURLINFO_PRIVATE, &priv)
                guard let priv else { continue }
                let transfer = Unmanaged<HTTPTransfer>.fromOpaque(priv).takeUnretainedValue()
                remove(transfer)
                transfer.complete(result)
            }

            let now = MonotonicClock.nanos()
            for action in timers.popDue(now: now) { action() }
            if !inboxLock.withLock({ inbox.isEmpty }) { continue }

            var waitMs: Int32 = 1000
            if let next = timers.nextDeadline() {
                let now2 = MonotonicClock.nanos()
                waitMs = next <= now2 ? 0 : Int32(min(1000, SafeNumbers.ceilMs(ns: next - now2)))
            }
            if waitMs > 0 { curl_multi_poll(multi, nil, 0, waitMs, nil) }
        }
        // Transfers nobody waits for any more (bodies drained after [DONE], probes) end here,
        // so no easy handle outlives the multi handle.
        for t in Array(attached.values) { t.cancel() }
        timers = TimerQueue()
        drainEasyPool()
    }
}
