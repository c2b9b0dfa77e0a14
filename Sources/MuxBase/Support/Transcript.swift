// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The transcript: with `PMX_TRANSCRIPT_DIR` set, a copy of every string the library hands to
/// its host, one line per item, appended to `$PMX_TRANSCRIPT_DIR/pmx-<pid>.log`: log lines at
/// every level (whatever the log callback's level, installed or not), errors, responses,
/// stream events, stats, model lists, health documents. For debugging a host, and the input
/// of the suite-wide secret scan (Tests/secret-scan.py): the scan proves that no API key ever
/// reaches a host, so the transcript records exactly what the host received, already masked,
/// and masks nothing itself.
///
/// The variable is read once, the first time the library has something to record or a
/// router or log callback is set up. Unset, each call site costs one atomic load and a branch.
/// Opening the file may fail: that is logged once (WARN) and the transcript stays off; a
/// failed write later turns it off the same way. Never a crash, never stdout/stderr.
public enum Transcript {
    /// The tag at the start of each line: what the host received.
    public enum Kind: String, Sendable {
        /// The file was opened (program, pid).
        case start
        /// A log line: level, then the message.
        case log
        /// An error returned to the host (`pmx_error`, an `error` document): status name,
        /// HTTP status, provider, message and attempts.
        case error
        /// A response document: chat completion, streamed response, embeddings.
        case response
        /// One stream or model-management event's JSON.
        case event
        /// A stats document, JSON or Prometheus text.
        case stats
        /// The model list.
        case models
        /// The health document.
        case health
        /// A model-management result.
        case manage
        /// A per-request observer record (pmx_router_set_observer).
        case record
    }

    private static let unknown: UInt8 = 0, off: UInt8 = 1, on: UInt8 = 2
    private static let state = Atomic<UInt8>(0)
    private static let writer = Locked<TranscriptWriter?>(nil)

    /// Whether lines are being recorded (reads the environment the first time).
    @inline(__always)
    public static var isOn: Bool {
        let s = state.load(ordering: .acquiring)
        if s == on { return true }
        return s == unknown && start()
    }

    /// Records one item; `text` may span lines (line breaks are written as `\n`).
    public static func record(_ kind: Kind, _ text: String) {
        guard isOn else { return }
        var t = text
        t.withUTF8 { write(kind, $0) }
    }

    public static func record(_ kind: Kind, _ bytes: [UInt8]) {
        guard isOn else { return }
        bytes.withUnsafeBufferPointer { write(kind, $0) }
    }

    public static func record(_ kind: Kind, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard isOn else { return }
        write(kind, bytes)
    }

    /// An error as its `error` document (status name, HTTP status, provider, masked message,
    /// attempts).
    public static func record(_ error: PMXError) {
        guard isOn else { return }
        record(.error, JSONWriter.bytes(error.json()))
    }

    /// A log line as the host's callback gets it (already masked).
    package static func record(log level: LogLevel, _ message: String) {
        guard isOn else { return }
        record(.log, level.name + " " + message)
    }

    private static func write(_ kind: Kind, _ payload: UnsafeBufferPointer<UInt8>) {
        let failure: String? = writer.withLock { w in
            guard let current = w else { return nil }
            if let error = current.append(kind, payload) {
                w = nil
                state.store(off, ordering: .releasing)
                return "transcript: writing \(current.path) failed (\(error)); transcript turned off"
            }
            return nil
        }
        // After unlocking: the warning goes through Log, which records to the transcript.
        if let failure { Log.warn(failure) }
    }

    /// First use: opens the file named by the environment, or turns the transcript off.
    private static func start() -> Bool {
        let failure: String? = writer.withLock { w in
            guard state.load(ordering: .acquiring) == unknown else { return nil }
            guard let dir = getenv("PMX_TRANSCRIPT_DIR").map({ String(cString: $0) }), !dir.isEmpty else {
                state.store(off, ordering: .releasing)
                return nil
            }
            do {
                let opened = try TranscriptWriter(directory: dir)
                w = opened
                state.store(on, ordering: .releasing)
                opened.append(.start, "pid \(getpid()) program \(TranscriptWriter.programPath())")
                return nil
            } catch {
                state.store(off, ordering: .releasing)
                return "transcript: cannot open a file in PMX_TRANSCRIPT_DIR=\(dir) (\(error)); transcript turned off"
            }
        }
        if let failure { Log.warn(failure) }
        return state.load(ordering: .acquiring) == on
    }
}

/// One open transcript file: one `write(2)` per line on an O_APPEND descriptor, so lines are
/// whole and in order even when several threads record at once (callers serialize) and other
/// processes share the directory.
public final class TranscriptWriter: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens (creating) `directory/pmx-<pid>.log`; missing directories are created with mode
    /// 0700. The file is created with mode 0600: it holds conversations.
    public init(directory: String) throws {
        path = directory + "/pmx-\(getpid()).log"
        var prefix = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw OpenError(description: "mkdir \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { throw OpenError(description: "open \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Appends `<kind> <UTC time> <payload>\n`; CR and LF inside the payload are written as
    /// `\r` and `\n`. Returns the error text when the write failed.
    @discardableResult
    public func append(_ kind: Transcript.Kind, _ payload: UnsafeBufferPointer<UInt8>) -> String? {
        var line: [UInt8] = []
        line.reserveCapacity(payload.count + 40)
        line.append(contentsOf: kind.rawValue.utf8)
        line.append(0x20)
        Self.appendTimestamp(into: &line)
        line.append(0x20)
        for b in payload {
            switch b {
            case 0x0A: line.append(0x5C); line.append(0x6E)  // \n
            case 0x0D: line.append(0x5C); line.append(0x72)  // \r
            default: line.append(b)
            }
        }
        line.append(0x0A)
        return line.withUnsafeBytes { buf -> String? in
            var done = 0
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                done += n
            }
            return nil
        }
    }

    @discardableResult
    public func append(_ kind: Transcript.Kind, _ text: String) -> String? {
        var t = text
        return t.withUTF8 { append(kind, $0) }
    }

    /// `2025-01-31T23:59:59.123Z`
    package static func appendTimestamp(into out: inout [UInt8]) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func digits(_ v: Int32, _ width: Int) {
            var d = [UInt8](repeating: 0x30, count: width)
            var x = Int(v)
            for i in stride(from: width - 1, through: 0, by: -1) { d[i] = UInt8(0x30 + x % 10); x /= 10 }
            out.append(contentsOf: d)
        }
        digits(parts.tm_year + 1900, 4); out.append(0x2D)
        digits(parts.tm_mon + 1, 2); out.append(0x2D)
        digits(parts.tm_mday, 2); out.append(0x54)
        digits(parts.tm_hour, 2); out.append(0x3A)
        digits(parts.tm_min, 2); out.append(0x3A)
        digits(parts.tm_sec, 2); out.append(0x2E)
        digits(Int32(ts.tv_nsec / 1_000_000), 3); out.append(0x5A)
    }

    /// This process's executable, for the `start` line.
    package static func programPath() -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { readlink("/proc/self/exe", $0.baseAddress!, $0.count) }
        }
        guard n > 0 else { return "?" }
        return String(decoding: buf[..<n], as: UTF8.self)
    }
}

extension LogLevel {
    /// `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`.
    public var name: String {
        switch self {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .warn: "WARN"
        case .error: "ERROR"
        }
    }
}
