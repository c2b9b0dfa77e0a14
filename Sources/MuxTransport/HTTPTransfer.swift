// SPDX-License-Identifier: Apache-2.0
import MuxBase
import CCurl

/// One HTTP exchange on an event loop. Created, started, fed and finished on the loop thread.
/// The owner gets: `onHead` once (status + headers), `onBody` per chunk as it arrives, then
/// exactly one `onComplete` (nil = the body ended normally, whatever the HTTP status) — unless
/// the owner cancels, after which nothing more is called.
public final class HTTPTransfer {
    public typealias HeadHandler = (HTTPResponseHead) -> Void
    /// Return false to stop the transfer (the owner has seen enough; no onComplete follows).
    public typealias BodyHandler = (UnsafeRawBufferPointer) -> Bool
    public typealias CompletionHandler = (TransportFailure?) -> Void

    package let request: HTTPRequest
    package var easy: UnsafeMutableRawPointer?
    package var attached = false
    private var headerList: CurlHeaderList?
    /// curl's error text (CURLOPT_ERRORBUFFER). Allocated, not `[CChar](repeating:count:)`:
    /// that array initializer is not specialized and looked its type metadata up at run time
    /// (~700 instructions per transfer).
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        p.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return p
    }()
    private var onHead: HeadHandler?
    private var onBody: BodyHandler?
    private var onComplete: CompletionHandler?
    private weak var loop: EventLoop?

    // Loop thread only, inside curl's callbacks (per header line, per body chunk): no
    // runtime exclusivity check (~180 instructions per access).
    @exclusivity(unchecked) private var status = 0
    /// The header lines of the current block, as received.
    @exclusivity(unchecked) private var headerLines: [UInt8] = []
    @exclusivity(unchecked) private var headDelivered = false
    @exclusivity(unchecked) private var receivedBytes = 0
    @exclusivity(unchecked) private var lastActivityNs: UInt64 = 0
    private var watchdog: UInt64?
    /// When the pending watchdog check runs (monotonic ns).
    private var watchdogDueNs: UInt64 = 0
    private var stopReason: TransportFailure?
    @exclusivity(unchecked) private var finished = false
    /// Completed, failed or cancelled: nothing more will happen (the loop skips a deferred add).
    package var isFinished: Bool { finished }
    private var selfRetain: Unmanaged<HTTPTransfer>?
    @exclusivity(unchecked) private var inCallback = false

    /// Flow control, generic (the transport knows nothing of who consumes the body): asked on
    /// the loop thread before each body chunk is handed over. True pauses the transfer —
    /// libcurl keeps that chunk and delivers it again after `resume()` — so a slow consumer
    /// holds the upstream back (TCP flow control) instead of queueing without end.
    public var shouldPause: (() -> Bool)?
    /// Paused by `shouldPause` and not resumed yet. While paused the idle and first-byte
    /// timeouts do not run (the upstream is not idle, the consumer is slow); the overall
    /// `CURLOPT_TIMEOUT_MS` deadline still does.
    package var paused = false

    public init(_ request: HTTPRequest, onHead: @escaping HeadHandler, onBody: @escaping BodyHandler,
                onComplete: @escaping CompletionHandler) {
        self.request = request
        self.onHead = onHead
        self.onBody = onBody
        self.onComplete = onComplete
    }

    deinit {
        if let easy {
            if let loop, !attached { loop.recycle(easy) } else { curl_easy_cleanup(easy) }
        }
        errorBuffer.deallocate()  // after the handle is cleaned up or reset for reuse
    }

    /// Configures curl and adds the transfer to the loop. Loop thread only.
    public func start(on loop: EventLoop) {
        self.loop = loop
        // Last line of defence behind WireSafety (config and request checks): a CR, LF or NUL
        // never reaches curl's URL or header list, whatever built the request.
        if let problem = request.wireProblem { fail(.connection("request not sent: \(problem)")); return }
        guard let easy = loop.takeEasy() else { fail(.connection("curl_easy_init failed")); return }
        self.easy = easy
        // The multi handle keeps a pointer to us until completion or cancel: hold ourselves.
        selfRetain = Unmanaged.passRetained(self)
        let me = selfRetain!.toOpaque()

        _ = pmx_curl_setopt_str(easy, CURLOPT_URL, request.url)
        _ = pmx_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = pmx_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)  // never replay credentials elsewhere
        _ = pmx_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMs)
        _ = pmx_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.totalTimeoutMs)
        _ = pmx_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        // TLS: verification stated explicitly (libcurl's default), off only by `tls.verify: false`.
        // Pooled handles are reset between uses, so every option is set on every transfer.
        let tls = request.tls
        _ = pmx_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, tls.verifies ? 1 : 0)
        _ = pmx_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, tls.verifies ? 2 : 0)
        if let ca = tls.caBundle { _ = pmx_curl_setopt_str(easy, CURLOPT_CAINFO, ca) }
        switch tls.minVersion {
        case .v1_2: _ = pmx_curl_setopt_long(easy, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        case .v1_3: _ = pmx_curl_setopt_long(easy, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_3))
        case nil: break
        }
        _ = pmx_curl_setopt_ptr(easy, CURLOPT_PRIVATE, me)
        _ = pmx_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)

        if request.method == "GET" {
            _ = pmx_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        } else {
            _ = pmx_curl_setopt_str(easy, CURLOPT_CUSTOMREQUEST, request.method == "POST" ? nil : request.method)
            let body = request.body ?? []
            _ = pmx_curl_setopt_long(easy, CURLOPT_POST, 1)
            _ = pmx_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            // COPYPOSTFIELDS: curl keeps its own copy, no lifetime coupling with our array.
            body.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { chars in
                    _ = pmx_curl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: chars.baseAddress ?? UnsafePointer(bitPattern: 1)))
                }
            }
        }
        // Held until the transfer is gone (curl reads it while the handle is in use).
        let headers = request.headerCache?.list(for: request.headers) ?? CurlHeaderList(request.headers)
        headerList = headers
        _ = pmx_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headers.list)

        _ = pmx_curl_setopt_datafn(easy, CURLOPT_HEADERFUNCTION, { ptr, size, n, ud in
            let t = Unmanaged<HTTPTransfer>.fromOpaque(ud!).takeUnretainedValue()
            t.inCallback = true
            defer { t.inCallback = false }
            return t.headerLine(UnsafeRawBufferPointer(start: ptr, count: size * n)) ? size * n : 0
        })
        _ = pmx_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, me)
        _ = pmx_curl_setopt_datafn(easy, CURLOPT_WRITEFUNCTION, { ptr, size, n, ud in
            let t = Unmanaged<HTTPTransfer>.fromOpaque(ud!).takeUnretainedValue()
            t.inCallback = true
            defer { t.inCallback = false }
            if let gate = t.shouldPause, !t.finished, gate() {
                t.paused = true
                return Int(CURL_WRITEFUNC_PAUSE)
            }
            return t.bodyChunk(UnsafeRawBufferPointer(start: ptr, count: size * n)) ? size * n : 0
        })
        _ = pmx_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, me)

        lastActivityNs = MonotonicClock.nanos()
        loop.add(self)
    }

    /// Stops the transfer without calling the owner back. Loop thread only; idempotent.
    public func cancel() {
        guard !finished else { return }
        finished = true
        // curl forbids removing a handle from inside its own callbacks: the callback returns
        // "stop" instead, and curl_multi_info_read hands the transfer back for teardown.
        if !inCallback { teardown() }
    }

    /// Lets a paused transfer run again: libcurl re-delivers the chunk it kept (possibly right
    /// here). Loop thread only (curl_easy_pause must run on the thread driving the multi
    /// handle; other threads go through `EventLoop.execute`). No-op unless paused.
    public func resume() {
        guard paused, !finished, let loop else { return }
        loop.resume(self)
    }

    /// Called by the loop around curl_easy_pause(CONT).
    package func unpause(_ easy: UnsafeMutableRawPointer) -> CURLcode {
        paused = false
        lastActivityNs = MonotonicClock.nanos()  // the pause was not upstream idleness
        return curl_easy_pause(easy, CURLPAUSE_CONT)
    }

    /// After a failed curl_easy_pause: end the transfer (its re-delivered chunk was refused).
    package func failAfterResume(_ code: CURLcode) {
        if finished {
            teardown()
        } else {
            fail(stopReason ?? Self.classify(code, detail: errorText(code)))
        }
    }

    // MARK: curl callbacks (loop thread, inside curl_multi_perform)

    private func headerLine(_ line: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return false }
        lastActivityNs = MonotonicClock.nanos()
        if line.count >= 5 && line[0] == 0x48 && line[1] == 0x54 && line[2] == 0x54 && line[3] == 0x50 && line[4] == 0x2F {
            // "HTTP/": a new status line; a 1xx interim answer's block is replaced by the final one.
            status = Self.statusCode(line)
            headerLines.removeAll(keepingCapacity: true)
            return true
        }
        if line.count <= 2 {  // the blank line ending a header block
            if status >= 200 { deliverHead() }
            return !finished
        }
        // Kept as received: split into pairs only if someone asks (HTTPResponseHead).
        if headerLines.capacity == 0 { headerLines.reserveCapacity(512) }  // one allocation for a usual head
        headerLines.append(contentsOf: line)
        return !finished
    }

    /// The status code of a status line ("HTTP/1.1 200 OK"): the second space-separated word
    /// when it is all digits, else 0 (then the code curl parsed is used).
    package static func statusCode(_ line: UnsafeRawBufferPointer) -> Int {
        func isEnd(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0D || b == 0x0A }
        var i = 0
        while i < line.count && line[i] != 0x20 { i += 1 }
        while i < line.count && line[i] == 0x20 { i += 1 }
        var code = 0, digits = 0
        while i < line.count && !isEnd(line[i]) {
            let d = line[i] &- 0x30
            guard d < 10, digits < 9 else { return 0 }
            code = code * 10 + Int(d)
            digits += 1
            i += 1
        }
        return code
    }

    private func bodyChunk(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard !finished else { return false }
        lastActivityNs = MonotonicClock.nanos()
        if !headDelivered { deliverHead() }
        receivedBytes += chunk.count
        if receivedBytes > request.maxResponseBytes {
            stopReason = .tooLarge(request.maxResponseBytes)
            return false
        }
        guard let onBody else { return false }
        if !onBody(chunk) {
            // The owner has what it needs (or gave up): end quietly, no completion.
            finished = true
            stopReason = .aborted
            return false
        }
        return !finished
    }

    private func deliverHead() {
        guard !headDelivered else { return }
        headDelivered = true
        if status == 0, let easy {
            var code = 0
            _ = pmx_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
            status = code
        }
        onHead?(HTTPResponseHead(status: status, lines: headerLines))
        if let loop, !finished { armWatchdog(loop) }  // from first-byte to idle checks
    }

    // MARK: completion

    /// Called by the loop when curl reports the transfer done.
    package func complete(_ code: CURLcode) {
        if finished { teardown(); return }
        finished = true
        var failure: TransportFailure?
        if let stopReason {
            failure = stopReason
        } else if code != CURLE_OK {
            failure = Self.classify(code, detail: errorText(code))
        } else if !headDelivered {
            deliverHead()
        }
        let done = onComplete
        teardown()
        done?(failure)
    }

    /// Fails before or instead of curl running (setup errors, watchdog timeouts).
    package func fail(_ failure: TransportFailure) {
        guard !finished else { return }
        finished = true
        let done = onComplete
        teardown()
        done?(failure)
    }

    private func teardown() {
        if let w = watchdog { loop?.cancelTimer(w); watchdog = nil }
        loop?.remove(self)
        onHead = nil
        onBody = nil
        onComplete = nil
        if let r = selfRetain { selfRetain = nil; r.release() }
    }

    private func errorText(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    package static func classify(_ code: CURLcode, detail: String) -> TransportFailure {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: .timeout(detail)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            .certificate("TLS certificate verification failed: \(detail) (trust a private CA with tls.ca_bundle)")
        default: .connection(detail)
        }
    }

    // MARK: first-byte and idle timeouts

    /// One timer per transfer, re-armed lazily: activity only moves a timestamp, the timer
    /// checks it when it fires (no timer churn per chunk). The limit depends on the phase:
    /// `first_byte_ms` until the response head, then `idle_ms`; 0 turns a phase's check off.
    private var currentLimitMs: Int { headDelivered ? request.idleTimeoutMs : request.firstByteTimeoutMs }

    package func armWatchdog(_ loop: EventLoop) {
        let limitMs = currentLimitMs
        guard limitMs > 0, !finished else {
            if let w = watchdog { loop.cancelTimer(w); watchdog = nil }
            return
        }
        let now = MonotonicClock.nanos()
        var deadline = lastActivityNs.addingSaturated(SafeNumbers.nanos(ms: limitMs))
        // Before the head, the check comes no later than the idle limit would need it once the
        // head is in: then the timer already pending serves the idle phase too, and the head
        // costs no cancel and no new timer (~3,000 instructions per request). The check itself
        // decides by the phase's own limit, so a check before the first-byte limit only re-arms.
        if !headDelivered, request.idleTimeoutMs > 0 {
            let early = lastActivityNs.addingSaturated(SafeNumbers.nanos(ms: request.idleTimeoutMs))
            if early > now { deadline = Swift.min(deadline, early) }
        }
        if let w = watchdog {
            if watchdogDueNs <= deadline { return }  // the pending check comes soon enough
            loop.cancelTimer(w)
            watchdog = nil
        }
        let waitMs = deadline > now ? Double(deadline - now) / 1_000_000 : 0
        watchdogDueNs = deadline
        watchdog = loop.schedule(afterMs: waitMs) { [weak self, weak loop] in
            guard let self, let loop, !self.finished else { return }
            self.watchdog = nil
            let limit = self.currentLimitMs
            guard limit > 0 else { return }
            // Paused for a slow consumer: not an idle upstream. The clock restarts on resume.
            if self.paused { self.lastActivityNs = MonotonicClock.nanos() }
            if MonotonicClock.nanos() >= self.lastActivityNs.addingSaturated(SafeNumbers.nanos(ms: limit)) {
                self.fail(.timeout(self.headDelivered
                    ? "no data for \(limit) ms (timeouts.idle_ms)"
                    : "no response within \(limit) ms (timeouts.first_byte_ms)"))
            } else {
                self.armWatchdog(loop)
            }
        }
    }
}
