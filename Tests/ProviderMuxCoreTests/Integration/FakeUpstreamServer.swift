// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The fake upstream (Tests/upstream/fake_upstream.py) as one process for the whole test run
// (started on first use, gone when this process exits: it runs with --exit-on-stdin-eof), and its
// control API. Every suite uses its own scopes, so tests are isolated from each other.

final class FakeUpstreamServer: @unchecked Sendable {
    let port: Int
    private let child: ChildServer

    static let shared: Result<FakeUpstreamServer, PMXError> = {
        do { return .success(try FakeUpstreamServer()) } catch let e as PMXError { return .failure(e) } catch {
            return .failure(PMXError(.internal, "\(error)"))
        }
    }()

    /// This file is Tests/ProviderMuxCoreTests/Integration/FakeUpstreamServer.swift: four levels below the root.
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    private init() throws {
        let script = Self.repoRoot.appendingPathComponent("Tests/upstream/fake_upstream.py").path
        child = try ChildServer(["python3", script, "--port", "0", "--exit-on-stdin-eof"], label: "fake upstream")
        port = child.port
    }

    func base(_ scope: String) -> String { "http://127.0.0.1:\(port)/\(scope)/v1" }

    /// A minimal HTTP/1.1 client over a raw socket (Connection: close), every wait bounded.
    func http(_ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PMXError(.connection, "socket() failed") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port)).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw PMXError(.connection, "connect to the fake upstream failed") }
        let payload = Array((body ?? "").utf8)
        let head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let request = Array(head.utf8) + payload
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw PMXError(.connection, "send to the fake upstream failed") }
            sent += n
        }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buf[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw PMXError(.upstreamProtocol, "bad control answer: \(text)") }
        let statusLine = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, String(text[split.upperBound...]))
    }

    /// Replaces a scope's fault queue.
    func script(_ scope: String, _ entries: String) throws {
        let r = try http("POST", "/_control/\(scope)/script", body: #"{"entries":\#(entries)}"#)
        guard r.status == 200 else { throw PMXError(.internal, "script rejected (\(r.status)): \(r.body)") }
    }

    func setModels(_ scope: String, _ data: String) throws {
        let r = try http("POST", "/_control/\(scope)/models", body: #"{"data":\#(data)}"#)
        guard r.status == 200 else { throw PMXError(.internal, "models rejected (\(r.status)): \(r.body)") }
    }

    /// The requests a scope received, as logged by the server.
    func requests(_ scope: String) throws -> [JSONValue] {
        let r = try http("GET", "/_control/\(scope)/requests")
        return try JSONParser.parse(r.body)["requests"]?.arrayValue ?? []
    }

    /// Polls (bounded) until the scope has logged `count` requests.
    func waitForRequests(_ scope: String, count: Int = 1, seconds: Double = 5) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try requests(scope).count >= count { return true }
            usleep(10_000)
        }
        return false
    }
}
