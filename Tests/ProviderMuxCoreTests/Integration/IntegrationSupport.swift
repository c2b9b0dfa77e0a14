// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// Shared by the per-protocol integration suites: every blocking router call runs on its own
// thread with a bounded wait, so a hang fails the test instead of stalling the run.

final class ThreadHandoff<T>: @unchecked Sendable {
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

func runOnThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: @escaping @Sendable () -> T) -> T? {
    let h = ThreadHandoff<T>()
    Thread {
        h.value = body()
        h.done.signal()
    }.start()
    guard h.done.wait(timeout: .now() + seconds) == .success else {
        Issue.record("blocking call did not return within \(seconds) s", sourceLocation: sourceLocation)
        return nil
    }
    return h.value
}

/// Everything one blocking stream produced.
struct ProtocolStream {
    var events: [ExecutionEvent]
    var result: Result<JSONObject, PMXError>
    var error: PMXError? { if case .failure(let e) = result { return e }; return nil }
    var text: String { events.compactMap { if case .delta(let c, _) = $0 { return c }; return nil }.joined() }
    var reasoning: String { events.compactMap { if case .reasoning(let r) = $0 { return r }; return nil }.joined() }
    var toolDeltas: [JSONValue] { events.flatMap { e -> [JSONValue] in if case .delta(_, let t) = e { return t ?? [] }; return [] } }
    var terminals: Int { events.filter(\.isTerminal).count }
    var lines: [String] {
        events.map { e in
            switch e {
            case .start(let p, let m, let n): "start \(p) \(m) #\(n)"
            case .delta: "delta"
            case .reasoning: "reasoning"
            case .choiceDelta(let i, _, _, _): "delta #\(i)"
            case .retry(let p, let n, _, let err): "retry \(p) #\(n) \(err.status.nameString)"
            case .fallback(let f, let t, let err): "fallback \(f)->\(t) \(err.status.nameString)"
            case .usage(let u): "usage \(u.promptTokens)/\(u.completionTokens)/\(u.totalTokens)"
            case .operation(let o): o["type"]?.stringValue ?? "operation"
            case .done(let r): "done \(r["provider"]?.stringValue ?? "?")"
            case .error(let err): "error \(err.status.nameString)"
            }
        }
    }
}

func completeOnThread(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? {
    runOnThread { transcribed(callResult { try router.complete(request) }) }
}

func embedOnThread(_ router: Router, _ request: EmbedRequest) -> Result<JSONObject, PMXError>? {
    runOnThread { transcribed(callResult { try router.embed(request) }) }
}

func streamOnThread(_ router: Router, _ request: ChatRequest) -> ProtocolStream? {
    runOnThread {
        var events: [ExecutionEvent] = []
        let result = transcribed(callResult { try router.stream(request) { e in transcribe(e); events.append(e); return 0 } })
        return ProtocolStream(events: events, result: result)
    }
}

/// A blocking router call's outcome; any other error is an internal one.
func callResult(_ body: () throws -> JSONObject) -> Result<JSONObject, PMXError> {
    do { return .success(try body()) } catch let e as PMXError { return .failure(e) } catch {
        return .failure(PMXError(.internal, "\(error)"))
    }
}

// What the core hands these tests goes to the transcript (PMX_TRANSCRIPT_DIR) like what the
// C ABI hands its callers, so the suite-wide secret scan covers the Swift tests too.

/// Records a router call's outcome (a response or an error) and returns it.
@discardableResult
func transcribed(_ result: Result<JSONObject, PMXError>) -> Result<JSONObject, PMXError> {
    switch result {
    case .success(let r): Transcript.record(.response, JSONWriter.bytes(.object(r)))
    case .failure(let e): Transcript.record(e)
    }
    return result
}

/// Records one stream event as its JSON.
func transcribe(_ event: ExecutionEvent) {
    guard Transcript.isOn else { return }
    var bytes: [UInt8] = []
    event.writeJSON(into: &bytes)
    Transcript.record(.event, bytes)
}

/// Records a document (stats, models, health) and returns it.
@discardableResult
func transcribed(_ kind: Transcript.Kind, _ document: JSONValue) -> JSONValue {
    Transcript.record(kind, JSONWriter.bytes(document))
    return document
}

/// A usage object without its `cost_usd` (which depends on the built-in price list).
func withoutCost(_ usage: JSONValue?) -> JSONValue? {
    guard var o = usage?.objectValue else { return usage }
    o["cost_usd"] = nil
    return .object(o)
}

/// A test server run as a child process (`/usr/bin/env <arguments>`) that prints `PORT n` on
/// its first stdout line. Its stdin stays open for its lifetime: the servers exit on EOF, so
/// none outlives the test process. Shared by the fake upstream, the personality servers and
/// the TLS server.
final class ChildServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let stdin: Pipe

    init(_ arguments: [String], label: String) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()

        // Read the "PORT n" line, bounded.
        final class Line: @unchecked Sendable { var text = ""; let done = DispatchSemaphore(value: 0) }
        let line = Line()
        let reader = stdout.fileHandleForReading
        Thread {
            var buffer = Data()
            while !buffer.contains(UInt8(ascii: "\n")) {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
            }
            line.text = String(decoding: buffer, as: UTF8.self)
            line.done.signal()
        }.start()
        guard line.done.wait(timeout: .now() + 15) == .success else {
            process.terminate()
            throw PMXError(.internal, "\(label) did not print its port within 15 s")
        }
        let parts = line.text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, parts[0] == "PORT", let p = Int(parts[1]) else {
            process.terminate()
            throw PMXError(.internal, "\(label) printed \"\(line.text)\"")
        }
        port = p
    }

    /// Stops the server and waits until it has exited (its port then refuses).
    func terminate() {
        guard process.isRunning else { return }
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }
}

/// A loopback port with nothing listening (bound, then closed).
func closedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a -> Int32 in
            _ = bind(fd, a, len)
            return getsockname(fd, a, &len)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
