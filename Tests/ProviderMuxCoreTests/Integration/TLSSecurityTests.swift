// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// Issue 7 (security): TLS verification on by default, `tls.ca_bundle` / `tls.verify` /
// `tls.min_version`, redirects never followed, `limits.max_request_bytes`. Real libcurl against
// a local HTTPS server (python3 `ssl`) whose self-signed certificate is generated at test time
// with the openssl CLI, and the fake upstream for the redirect and size tests.

/// A tiny OpenAI-compatible HTTPS server on 127.0.0.1 with a fresh self-signed certificate.
final class LocalTLSServer: @unchecked Sendable {
    let port: Int
    let dir: URL
    var certPath: String { dir.appendingPathComponent("cert.pem").path }
    private let child: ChildServer

    static let shared: Result<LocalTLSServer, PMXError> = {
        do { return .success(try LocalTLSServer()) } catch let e as PMXError { return .failure(e) } catch {
            return .failure(PMXError(.internal, "\(error)"))
        }
    }()

    static let script = #"""
import json, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        body = json.dumps({"id": "chatcmpl-tls", "object": "chat.completion", "created": 0, "model": "tls-model",
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": "tls ok"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("PORT", srv.server_address[1], flush=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sys.stdin.read()
"""#

    private init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pmx-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("key.pem").path
        let cert = dir.appendingPathComponent("cert.pem").path
        let gen = Process()
        gen.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gen.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                         "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", key, "-out", cert]
        gen.standardOutput = FileHandle.nullDevice
        gen.standardError = FileHandle.nullDevice
        try gen.run()
        gen.waitUntilExit()
        guard gen.terminationStatus == 0 else { throw PMXError(.internal, "openssl req failed (\(gen.terminationStatus))") }
        let scriptPath = dir.appendingPathComponent("tls_server.py")
        try Self.script.write(to: scriptPath, atomically: true, encoding: .utf8)

        child = try ChildServer(["python3", scriptPath.path, cert, key], label: "TLS server")
        port = child.port
    }

    var baseURL: String { "https://127.0.0.1:\(port)/v1" }
}

private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [(LogLevel, String)] = []
    func add(_ level: LogLevel, _ line: String) { lock.withLock { all.append((level, line)) } }
    var lines: [(LogLevel, String)] { lock.withLock { all } }
}

private func chat(_ prompt: String = "hello") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"fake-small","messages":[{"role":"user","content":"\#(prompt)"}]}"#))
}

@Suite("TLSSecurity: TLS verification, redirects, request size", .serialized)
struct TLSSecurityTests {
    let tls: LocalTLSServer

    init() throws { tls = try LocalTLSServer.shared.get() }

    func tlsRouter(provider extra: String = "", router routerExtra: String = "") throws -> Router {
        let p = #"{"name":"secure","type":"openai-compatible","base_url":"\#(tls.baseURL)","api_key":"sk-tls-test-KEY"\#(extra)}"#
        return try Router(config: RouterConfig.parse(#"{"providers":[\#(p)],"retry":{"max_attempts":1}\#(routerExtra)}"#))
    }

    @Test("default: a self-signed certificate is refused with a connection error naming the certificate")
    func defaultRejectsSelfSigned() throws {
        let router = try tlsRouter()
        defer { router.close() }
        let r = try #require(completeOnThread(router, try chat()))
        guard case .failure(let e) = r else { Issue.record("expected a TLS failure, got success"); return }
        #expect(e.status == .connection)
        #expect(e.message.lowercased().contains("certificate"))
        #expect(e.message.contains("tls.ca_bundle"))
        #expect(router.providerSnapshot[0].config.tls.verifies)
    }

    @Test("a certificate that fails verification is not retried: straight on to the next provider")
    func certificateFailureFailsOverAtOnce() throws {
        let secure = #"{"name":"secure","type":"openai-compatible","base_url":"\#(tls.baseURL)","api_key":"sk-tls-test-KEY"}"#
        let backup = #"{"name":"backup","type":"mock"}"#
        let router = try Router(config: RouterConfig.parse(#"{"providers":[\#(secure),\#(backup)],"retry":{"max_attempts":3,"initial_backoff_ms":10}}"#))
        defer { router.close() }
        let out = try #require(completeOnThread(router, try chat())).get()
        #expect(out["provider"] == "backup")
        let attempts = try #require(out["attempts"]?.arrayValue)
        #expect(attempts.map { $0["provider"]?.stringValue ?? "" } == ["secure", "backup"])
        #expect(attempts.first?["status_name"] == "PMX_ERR_CONNECTION")
        #expect(attempts.first?["message"]?.stringValue?.contains("certificate") == true)
    }

    @Test("tls.ca_bundle trusts the test CA (also with min_version 1.3, and from the router-level default)")
    func caBundleSucceeds() throws {
        for (provider, router) in [(#","tls":{"ca_bundle":"\#(tls.certPath)"}"#, ""),
                                   (#","tls":{"ca_bundle":"\#(tls.certPath)","min_version":"1.3"}"#, ""),
                                   ("", #","tls":{"ca_bundle":"\#(tls.certPath)","min_version":"1.2"}"#)] {
            let r = try tlsRouter(provider: provider, router: router)
            defer { r.close() }
            let out = try #require(completeOnThread(r, try chat())).get()
            #expect(out["choices"]?.arrayValue?.first?["message"]?["content"] == "tls ok")
            #expect(out["provider"] == "secure")
        }
    }

    @Test("tls.verify false: succeeds, and a WARN line says verification is disabled")
    func verifyFalseWarns() throws {
        // The log sink is process-wide: another suite may swap it while this runs, so try a
        // few times before calling the line missing.
        var warned = false
        for _ in 0..<3 where !warned {
            let lines = LogLines()
            Log.setSink({ level, line in lines.add(level, line) }, minLevel: .warn)
            let router = try tlsRouter(provider: #","tls":{"verify":false}"#)
            Log.setSink(nil, minLevel: .error)
            defer { router.close() }
            warned = lines.lines.contains { $0.0 == .warn && $0.1.contains("TLS verification disabled for provider secure") }
            let out = try #require(completeOnThread(router, try chat())).get()
            #expect(out["choices"]?.arrayValue?.first?["message"]?["content"] == "tls ok")
        }
        #expect(warned)
    }

    @Test("provider tls keys override the router's one by one")
    func overlay() throws {
        let router = try tlsRouter(provider: #","tls":{"verify":true}"#, router: #","tls":{"verify":false,"min_version":"1.2"}"#)
        defer { router.close() }
        let t = router.providerSnapshot[0].config.tls
        #expect(t.verify == true && t.minVersion == .v1_2 && t.caBundle == nil)
    }

    @Test("a bad tls section is a config error naming the field")
    func badConfig() throws {
        func configError(_ providerTLS: String, router: String = "") -> PMXError? {
            let text = #"{"providers":[{"name":"p","type":"openai-compatible","base_url":"https://127.0.0.1:1/v1"\#(providerTLS)}]\#(router)}"#
            do { _ = try RouterConfig.parse(text); return nil } catch let e as PMXError { return e } catch { return nil }
        }
        let missing = try #require(configError(#","tls":{"ca_bundle":"/nonexistent/pmx-ca.pem"}"#))
        #expect(missing.status == .config)
        #expect(missing.message.contains("providers[0].tls.ca_bundle"))
        #expect(missing.message.contains("/nonexistent/pmx-ca.pem"))
        let directory = try #require(configError(#","tls":{"ca_bundle":"/tmp"}"#))
        #expect(directory.message.contains("providers[0].tls.ca_bundle"))
        let routerLevel = try #require(configError("", router: #","tls":{"ca_bundle":"/nonexistent/pmx-ca.pem"}"#))
        #expect(routerLevel.status == .config && routerLevel.message.contains("tls.ca_bundle"))
        let version = try #require(configError(#","tls":{"min_version":"1.1"}"#))
        #expect(version.message.contains("providers[0].tls.min_version"))
        let unknown = try #require(configError(#","tls":{"verify_peer":false}"#))
        #expect(unknown.message.contains("verify_peer"))
        let verifyType = try #require(configError(#","tls":{"verify":"no"}"#))
        #expect(verifyType.message.contains("providers[0].tls.verify"))
    }
}

@Suite("TLSSecurity: redirects and request size against the fake upstream", .serialized)
struct RequestSecurityTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws { server = try FakeUpstreamServer.shared.get() }

    func scope(_ name: String) -> String { "\(name)-sec-\(id)" }

    func provider(_ name: String, scope: String) -> String {
        #"{"name":"\#(name)","type":"openai-compatible","base_url":"\#(server.base(scope))","api_key":"sk-redirect-SECRET42"}"#
    }

    @Test("a 302 is not followed: the target never sees the request, the attempt fails over with a clear error")
    func redirectNotFollowed() throws {
        let target = server.base(scope("target")) + "/chat/completions"
        try server.script(scope("a"), #"[{"status":302,"headers":{"Location":"\#(target)"},"body":"","times":1000}]"#)
        // Alone: the request fails with the redirect named.
        let alone = try Router(config: RouterConfig.parse(#"{"providers":[\#(provider("a", scope: scope("a")))],"retry":{"max_attempts":1}}"#))
        defer { alone.close() }
        let r = try #require(completeOnThread(alone, try chat()))
        guard case .failure(let e) = r else { Issue.record("a redirect must not succeed"); return }
        #expect(e.status == .upstreamHTTP)
        #expect(e.httpStatus == 302)
        #expect(e.message.contains("NOT followed"))
        #expect(e.message.contains(target))

        // With a second provider: failover to it.
        let both = try Router(config: RouterConfig.parse(
            #"{"providers":[\#(provider("a", scope: scope("a"))),\#(provider("b", scope: scope("b")))],"retry":{"max_attempts":1}}"#))
        defer { both.close() }
        let ok = try #require(completeOnThread(both, try chat("after redirect"))).get()
        #expect(ok["provider"] == "b")
        let attempts = try #require(ok["attempts"]?.arrayValue)
        #expect(attempts.count == 2)
        #expect(attempts.first?["message"]?.stringValue?.contains("NOT followed") == true)

        #expect(try server.requests(scope("a")).count == 2)
        #expect(try server.requests(scope("target")).isEmpty)  // neither the request nor the key went there
    }

    @Test("limits.max_request_bytes: a larger body is refused before sending, naming the limit")
    func requestSizeLimit() throws {
        let router = try Router(config: RouterConfig.parse(
            #"{"providers":[\#(provider("a", scope: scope("size")))],"retry":{"max_attempts":1},"limits":{"max_request_bytes":1024}}"#))
        defer { router.close() }
        let big = String(repeating: "x", count: 2000)
        let r = try #require(completeOnThread(router, try chat(big)))
        guard case .failure(let e) = r else { Issue.record("an oversized body must be refused"); return }
        #expect(e.status == .invalidRequest)
        #expect(e.message.contains("limits.max_request_bytes"))
        #expect(e.message.contains("1024"))
        #expect(try server.requests(scope("size")).isEmpty)
        // A small request under the same limit goes through.
        let ok = try #require(completeOnThread(router, try chat("small"))).get()
        #expect(ok["provider"] == "a")

        #expect(try RouterConfig.parse(#"{"providers":[]}"#).maxRequestBytes == 32 << 20)
        #expect(throws: PMXError.self) { try RouterConfig.parse(#"{"providers":[],"limits":{"max_request_bytes":100}}"#) }
    }
}
