// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxRouting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// REAL libcurl over loopback against fake_upstream.py processes started with --personality:
// each answers as exactly one kind of local server (or as an HTML page), at its root.

/// One fake_upstream.py process with a personality; it exits when this object goes (stdin EOF)
/// or on `terminate()`.
final class PersonalityUpstream: @unchecked Sendable {
    let personality: String
    let port: Int
    private let child: ChildServer

    init(_ personality: String) throws {
        self.personality = personality
        let script = FakeUpstreamServer.repoRoot.appendingPathComponent("Tests/upstream/fake_upstream.py").path
        child = try ChildServer(["python3", script, "--port", "0", "--exit-on-stdin-eof", "--personality", personality],
                                label: "fake upstream (\(personality))")
        port = child.port
    }

    deinit { terminate() }

    var root: String { "http://127.0.0.1:\(port)" }

    /// Stops the server and waits until it has exited (its port then refuses).
    func terminate() { child.terminate() }
}

/// A blocking request through the library's own transport (for the control API).
private func call(_ loop: EventLoop, _ method: String, _ url: String, body: String? = nil) -> (status: Int, body: String) {
    final class Answer: @unchecked Sendable { var status = 0; var body: [UInt8] = []; let done = DispatchSemaphore(value: 0) }
    let r = Answer()
    loop.execute {
        let request = HTTPRequest(method: method, url: url, headers: [("Content-Type", "application/json")],
                                  body: body.map { Array($0.utf8) }, connectTimeoutMs: 5000, totalTimeoutMs: 5000)
        HTTPTransfer(request, onHead: { r.status = $0.status }, onBody: { r.body.append(contentsOf: $0); return true },
                     onComplete: { _ in r.done.signal() }).start(on: loop)
    }
    _ = r.done.wait(timeout: .now() + 10)
    return (r.status, String(decoding: r.body, as: UTF8.self))
}

/// Paths the server at `root` received (its personality logs into scope "default").
private func requestPaths(_ loop: EventLoop, _ root: String) throws -> [String] {
    let log = try JSONParser.parse(call(loop, "GET", root + "/_control/default/requests").body)
    return (log["requests"]?.arrayValue ?? []).compactMap { $0["path"]?.stringValue }
}

/// A port nothing listens on (bound, then closed).
private func closedPort() -> Int { closedLoopbackPort() }

private func settings(_ targets: [DiscoveryTarget], timeoutMs: Int = 2000, intervalMs: Int = 0, modelsTTLMs: Int = 300_000) -> DiscoverySettings {
    var s = DiscoverySettings()
    s.enabled = true
    s.targets = targets
    s.timeoutMs = timeoutMs
    s.intervalMs = intervalMs
    s.modelsTTLMs = modelsTTLMs
    return s
}

@Suite("Discovery integration: fake servers with personalities", .serialized)
struct DiscoveryIntegrationTests {
    @Test("each kind probed on every port: exactly the three real kinds are found, with their models")
    func everyKindOnEveryPort() throws {
        let servers = try ["ollama", "lmstudio", "llamacpp", "other"].map { try PersonalityUpstream($0) }
        let loop = try EventLoop(name: "pmx-discovery-test")
        defer { loop.shutdown() }
        var targets: [DiscoveryTarget] = []
        for kind in LocalServerKind.allCases {
            for s in servers { targets.append(DiscoveryTarget(kind: kind, port: s.port)) }
        }
        let service = DiscoveryService(loop: loop, settings: settings(targets), onUpdate: { _ in })
        let found = try #require(runOnThread { service.probeNow() })
        let port = Dictionary(uniqueKeysWithValues: servers.map { ($0.personality, $0.port) })
        #expect(found == [
            DiscoveredServer(kind: .ollama, baseURL: "http://127.0.0.1:\(port["ollama"]!)", models: ["fake-small", "fake-large"],
                             version: "0.12.6", providerName: "ollama-\(port["ollama"]!)"),
            DiscoveredServer(kind: .lmstudio, baseURL: "http://127.0.0.1:\(port["lmstudio"]!)",
                             models: ["qwen2.5-7b-instruct", "text-embedding-nomic-embed-text-v1.5"], providerName: "lmstudio-\(port["lmstudio"]!)"),
            DiscoveredServer(kind: .llamacpp, baseURL: "http://127.0.0.1:\(port["llamacpp"]!)", models: ["x.gguf"],
                             providerName: "llamacpp-\(port["llamacpp"]!)"),
        ])
        #expect(!found.contains { $0.baseURL.hasSuffix(":\(port["other"]!)") })
        #expect(service.servers == found)
        // The registered configs point at the right API roots.
        #expect(found.map { $0.providerConfig().baseURL } == [
            "http://127.0.0.1:\(port["ollama"]!)", "http://127.0.0.1:\(port["lmstudio"]!)/v1", "http://127.0.0.1:\(port["llamacpp"]!)/v1",
        ])
        // The "other" server was asked (it answers 200 everywhere) and still registers nothing.
        #expect(try requestPaths(loop, servers[3].root).sorted() == ["/api/v0/models", "/api/version", "/props"])
    }

    @Test("a refused port yields nothing, at once")
    func refusedPort() throws {
        let loop = try EventLoop(name: "pmx-discovery-test")
        defer { loop.shutdown() }
        let port = closedPort()
        let service = DiscoveryService(loop: loop, settings: settings(LocalServerKind.allCases.map { DiscoveryTarget(kind: $0, port: port) },
                                                                      timeoutMs: 1000), onUpdate: { _ in })
        let started = Date()
        let found = try #require(runOnThread { service.probeNow() })
        #expect(found == [])
        #expect(Date().timeIntervalSince(started) < 1.0)
    }

    @Test("a server that never answers yields nothing within the timeout")
    func silentServer() throws {
        let server = try PersonalityUpstream("llamacpp")
        let loop = try EventLoop(name: "pmx-discovery-test")
        defer { loop.shutdown() }
        #expect(call(loop, "POST", server.root + "/_control/default/script", body: #"{"entries":[{"hang":true}]}"#).status == 200)
        let service = DiscoveryService(loop: loop, settings: settings([DiscoveryTarget(kind: .llamacpp, port: server.port)], timeoutMs: 300),
                                       onUpdate: { _ in })
        let started = Date()
        let found = try #require(runOnThread { service.probeNow() })
        let elapsed = Date().timeIntervalSince(started)
        #expect(found == [])
        #expect(elapsed >= 0.25 && elapsed < 2.0)
        // The next round finds it (the hang was a one-off).
        #expect(runOnThread { service.probeNow() }?.map(\.kind) == [.llamacpp])
    }

    @Test("model lists are reused for models_ttl_ms; the identity probe runs every round")
    func modelsTTL() throws {
        let server = try PersonalityUpstream("ollama")
        let loop = try EventLoop(name: "pmx-discovery-test")
        defer { loop.shutdown() }
        let target = [DiscoveryTarget(kind: .ollama, port: server.port)]
        let cached = DiscoveryService(loop: loop, settings: settings(target), onUpdate: { _ in })
        for _ in 0..<3 { #expect(runOnThread { cached.probeNow() }?.first?.models == ["fake-small", "fake-large"]) }
        #expect(try requestPaths(loop, server.root) == ["/api/version", "/api/tags", "/api/version", "/api/version"])

        // A changed list is seen once the TTL has passed (0: every round).
        #expect(call(loop, "POST", server.root + "/_control/reset").status == 200)
        let fresh = DiscoveryService(loop: loop, settings: settings(target, modelsTTLMs: 0), onUpdate: { _ in })
        #expect(runOnThread { fresh.probeNow() }?.first?.models == ["fake-small", "fake-large"])
        #expect(call(loop, "POST", server.root + "/_control/default/models", body: #"{"data":[{"id":"qwen3:8b"}]}"#).status == 200)
        #expect(runOnThread { fresh.probeNow() }?.first?.models == ["qwen3:8b"])
        #expect(try requestPaths(loop, server.root) == ["/api/version", "/api/tags", "/api/version", "/api/tags"])
    }

    @Test("start: onUpdate on the loop thread with the list, again when a server goes away; stop ends it")
    func periodic() throws {
        let lm = try PersonalityUpstream("lmstudio")
        let llama = try PersonalityUpstream("llamacpp")
        let loop = try EventLoop(name: "pmx-discovery-test")
        defer { loop.shutdown() }
        final class Updates: @unchecked Sendable {
            let lock = NSLock()
            var lists: [[String]] = []
            var offLoop = false
            let signal = DispatchSemaphore(value: 0)
        }
        let updates = Updates()
        let service = DiscoveryService(
            loop: loop,
            settings: settings([DiscoveryTarget(kind: .lmstudio, port: lm.port), DiscoveryTarget(kind: .llamacpp, port: llama.port)],
                               timeoutMs: 1000, intervalMs: 100),
            onUpdate: { list in
                updates.lock.lock()
                updates.lists.append(list.map(\.providerName))
                if !loop.isOnLoopThread { updates.offLoop = true }
                updates.lock.unlock()
                updates.signal.signal()
            })
        service.start()
        #expect(updates.signal.wait(timeout: .now() + 10) == .success)
        // Unchanged rounds report nothing.
        #expect(updates.signal.wait(timeout: .now() + 0.5) == .timedOut)
        lm.terminate()
        #expect(updates.signal.wait(timeout: .now() + 10) == .success)
        service.stop()
        service.stop()
        llama.terminate()
        #expect(updates.signal.wait(timeout: .now() + 0.5) == .timedOut)
        updates.lock.lock()
        defer { updates.lock.unlock() }
        #expect(updates.lists == [["lmstudio-\(lm.port)", "llamacpp-\(llama.port)"], ["llamacpp-\(llama.port)"]])
        #expect(!updates.offLoop)
    }
}
