// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// REAL libcurl over loopback against Tests/upstream/fake_upstream.py. One server for the whole
// suite (started on first use, gone when this process exits: it runs with --exit-on-stdin-eof);
// every test uses its own scopes, so the suite's tests are isolated from each other.

// MARK: - Helpers

private let apiKey = "sk-test-SECRET123"
private let fastRetry = #"{"initial_backoff_ms":10,"max_backoff_ms":50,"jitter":0}"#

/// Runs a blocking call on its own thread and waits for it at most `seconds` (IntegrationSupport.swift).
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }

/// Collects the events of an async request (delivered on the router's loop thread).
private final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [ExecutionEvent] = []
    private let terminal = DispatchSemaphore(value: 0)
    private let started = DispatchSemaphore(value: 0)

    func push(_ e: ExecutionEvent) {
        transcribe(e)
        lock.withLock { list.append(e) }
        if case .start = e { started.signal() }
        if e.isTerminal { terminal.signal() }
    }

    var events: [ExecutionEvent] { lock.withLock { list } }
    var terminals: [ExecutionEvent] { events.filter(\.isTerminal) }

    func waitForTerminal(_ seconds: Double) -> Bool { terminal.wait(timeout: .now() + seconds) == .success }
    func waitForStart(_ seconds: Double) -> Bool { started.wait(timeout: .now() + seconds) == .success }
}

private struct StreamOutcome {
    var events: [ExecutionEvent]
    var result: Result<JSONObject, PMXError>
    var response: JSONObject? { try? result.get() }
    var error: PMXError? { if case .failure(let e) = result { return e }; return nil }
    var text: String {
        events.compactMap { e -> String? in if case .delta(let c, _) = e { return c }; return nil }.joined()
    }
    var lines: [String] { events.map(ExecutionRecorder.line) }
}

private func chatRequest(_ prompt: String, model: String = "fake-small", extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private func runComplete(_ router: Router, _ request: ChatRequest, sourceLocation: SourceLocation = #_sourceLocation)
    -> Result<JSONObject, PMXError>?
{
    onThread(sourceLocation: sourceLocation) { transcribed(callResult { try router.complete(request) }) }
}

private func runStream(_ router: Router, _ request: ChatRequest, sourceLocation: SourceLocation = #_sourceLocation) -> StreamOutcome? {
    onThread(sourceLocation: sourceLocation) {
        var events: [ExecutionEvent] = []
        let result = transcribed(callResult { try router.stream(request) { e in transcribe(e); events.append(e); return 0 } })
        return StreamOutcome(events: events, result: result)
    }
}

/// Seconds elapsed while running `body`.
private func timed<T>(_ body: () -> T) -> (T, Double) {
    let t0 = MonotonicClock.nanos()
    let r = body()
    return (r, Double(MonotonicClock.nanos() - t0) / 1e9)
}

// MARK: - Suite

@Suite("Integration: libcurl against the fake upstream", .serialized)
final class IntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    /// A scope unique to this test.
    func scope(_ name: String) -> String { "\(name)-\(id)" }

    func providerJSON(_ name: String, scope: String? = nil, extra: String = "") -> String {
        #"{"name":"\#(name)","type":"openai-compatible","base_url":"\#(server.base(scope ?? self.scope(name)))","api_key":"\#(apiKey)"\#(extra)}"#
    }

    func makeRouter(_ providers: [String], retry: String = fastRetry, extra: String = "") throws -> Router {
        try Router(config: RouterConfig.parse(#"{"providers":[\#(providers.joined(separator: ","))],"retry":\#(retry)\#(extra)}"#))
    }

    @Test("the request the provider sees: include_usage, stream, model, Bearer key, no route")
    func requestLog() throws {
        let router = try makeRouter([providerJSON("a", extra: #","headers":{"X-Team":"search"}"#)])
        defer { router.close() }
        let req = try chatRequest("hi", model: "a/fake-large", extra: #","temperature":0.5,"route":{"providers":["a"]},"stream_options":{"x_keep":1}"#)
        let out = try #require(runStream(router, req))
        #expect(out.error == nil)
        let log = try server.requests(scope("a"))
        let entry = try #require(log.first)
        let json = try #require(entry["json"])
        #expect(json["stream"] == true)
        #expect(json["stream_options"] == ["x_keep": 1, "include_usage": true])
        #expect(json["model"] == "fake-large")
        #expect(json["temperature"] == 0.5)
        #expect(json["route"] == nil)
        #expect(entry["headers"]?["authorization"] == .string("Bearer \(apiKey)"))
        #expect(entry["headers"]?["x-team"] == "search")
        #expect(entry["headers"]?["accept"] == "text/event-stream")
        #expect(entry["method"] == "POST")
    }

    @Test("a connection closed by the server (Connection: close) is replaced: both requests succeed")
    func reconnect() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"close_connection":true}]"#)
        let first = try #require(runComplete(router, try chatRequest("one"))).get()
        let second = try #require(runComplete(router, try chatRequest("two"))).get()
        let third = try #require(runStream(router, try chatRequest("three")))
        #expect(first["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: one")
        #expect(second["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: two")
        #expect(third.text == "echo: three")
        #expect(first["attempts"]?.arrayValue?.count == 1 && second["attempts"]?.arrayValue?.count == 1)
        #expect(try server.requests(scope("a")).count == 3)
    }

    @Test("429 twice with Retry-After 0.2 s, then success: 3 attempts, ≥ 0.35 s")
    func rateLimitedRetryAfter() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"status":429,"retry_after":0.2,"times":2}]"#)
        let (result, seconds) = timed { runComplete(router, try! chatRequest("again")) }
        let r = try #require(result).get()
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.count == 3)
        #expect(attempts.map { $0["status_name"]?.stringValue } == ["PMX_ERR_RATE_LIMITED", "PMX_ERR_RATE_LIMITED", nil])
        #expect(attempts.map { $0["http_status"]?.intValue } == [429, 429, 200])
        #expect(attempts[0]["message"] == "HTTP 429: fake fault 429")
        #expect(seconds >= 0.35, "took \(seconds) s")
        #expect(try server.requests(scope("a")).count == 3)
    }

    @Test("retry events carry the Retry-After delay on a stream")
    func retryEvents() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"status":503,"retry_after_ms":120}]"#)
        let out = try #require(runStream(router, try chatRequest("x")))
        #expect(out.error == nil)
        #expect(out.lines.prefix(3) == ["start a fake-small #1", "retry a #1 120ms PMX_ERR_UPSTREAM_SERVER", "start a fake-small #2"])
    }

    @Test("500 forever on a: failover to b with a fallback event")
    func failover() throws {
        let router = try makeRouter([providerJSON("a"), providerJSON("b")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"status":500,"times":1000}]"#)
        let out = try #require(runStream(router, try chatRequest("fail over")))
        let r = try out.result.get()
        #expect(r["provider"] == "b")
        #expect(out.text == "echo: fail over")
        #expect(out.lines.prefix(7) == [
            "start a fake-small #1", "retry a #1 10ms PMX_ERR_UPSTREAM_SERVER",
            "start a fake-small #2", "retry a #2 20ms PMX_ERR_UPSTREAM_SERVER",
            "start a fake-small #3", "fallback a->b PMX_ERR_UPSTREAM_SERVER", "start b fake-small #4",
        ])
        #expect(try server.requests(scope("a")).count == 3)
        #expect(try server.requests(scope("b")).count == 1)
    }

    @Test("every provider fails: the thrown PMXError lists both, with the last failure's class")
    func allFail() throws {
        let router = try makeRouter([providerJSON("a"), providerJSON("b")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"status":500,"times":1000}]"#)
        try server.script(scope("b"), #"[{"status":401,"message":"bad key","times":1000}]"#)
        let result = try #require(runComplete(router, try chatRequest("doomed")))
        guard case .failure(let e) = result else { Issue.record("succeeded: \(result)"); return }
        #expect(e.status == .auth)
        #expect(e.httpStatus == 401)
        #expect(e.provider == "b")
        #expect(e.attemptCount == 4)
        #expect(e.message.contains("4 attempts on 2 providers"))
        #expect(e.message.contains("a: HTTP 500: fake fault 500"))
        #expect(e.message.contains("b: HTTP 401: bad key"))
        #expect(!e.message.contains(apiKey))
    }

    @Test("disconnect before the first delta is retried (nothing reached the caller)", arguments: [0, 1])
    func disconnectBeforeOutput(chunks: Int) throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"disconnect_after_chunks":\#(chunks)}]"#)
        let out = try #require(runStream(router, try chatRequest("retry me")))
        let r = try out.result.get()
        #expect(out.text == "echo: retry me")  // exactly once
        #expect(out.lines.contains("retry a #1 10ms PMX_ERR_CONNECTION"), "\(out.lines)")
        #expect(r["attempts"]?.arrayValue?.count == 2)
    }

    @Test("an error event before output with one attempt per provider: b's only attempt is sent and succeeds")
    func errorEventFailsOverFromCallback() throws {
        let router = try makeRouter([providerJSON("a"), providerJSON("b")], retry: #"{"max_attempts":1}"#)
        defer { router.close() }
        try server.script(scope("a"), #"[{"error_event_after_chunks":1}]"#)
        let out = try #require(runStream(router, try chatRequest("alpha")))
        let r = try out.result.get()
        #expect(r["provider"] == "b")
        #expect(out.text == "echo: alpha")
        #expect(r["attempts"]?.arrayValue?.map { $0["outcome"]?.stringValue ?? "" } == ["error", "ok"])
    }

    @Test("an error event before any output is retried like a server error")
    func errorEventBeforeOutput() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"error_event_after_chunks":1}]"#)
        let out = try #require(runStream(router, try chatRequest("alpha")))
        #expect(out.error == nil)
        #expect(out.text == "echo: alpha")
        #expect(out.lines.contains("retry a #1 10ms PMX_ERR_UPSTREAM_SERVER"), "\(out.lines)")
    }

    @Test("headers delayed 1.5 s with first_byte_ms 300: PMX_ERR_TIMEOUT, promptly")
    func firstByteTimeout() throws {
        let router = try makeRouter([providerJSON("a", extra: #","timeouts":{"first_byte_ms":300}"#)])
        defer { router.close() }
        try server.script(scope("a"), #"[{"delay_headers_ms":1500}]"#)
        let (result, seconds) = timed { runComplete(router, try! chatRequest("slow", extra: #","route":{"max_attempts":1}"#)) }
        guard case .failure(let e) = try #require(result) else { Issue.record("succeeded"); return }
        #expect(e.status == .timeout)
        #expect(e.message.contains("first_byte_ms"), "\(e.message)")
        #expect(seconds < 1.4, "took \(seconds) s")
    }

    @Test("chunks 1.5 s apart with idle_ms 300: a timeout")
    func idleTimeout() throws {
        let router = try makeRouter([providerJSON("a", extra: #","timeouts":{"idle_ms":300,"total_ms":4000}"#)])
        defer { router.close() }
        try server.script(scope("a"), #"[{"chunk_delay_ms":1500}]"#)
        let (out, seconds) = timed { runStream(router, try! chatRequest("slow drip", extra: #","route":{"max_attempts":1}"#)) }
        let outcome = try #require(out)
        let e = try #require(outcome.error)
        #expect([Status.timeout, .streamInterrupted].contains(e.status), "\(e)")
        #expect(e.message.contains("idle_ms"), "\(e.message)")
        #expect(seconds < 1.4, "took \(seconds) s")
    }

    @Test("chunks 1.5 s apart with idle_ms 300 (first_byte_ms 300 too): a timeout")
    func idleTimeoutWithFirstByte() throws {
        let router = try makeRouter([providerJSON("a", extra: #","timeouts":{"first_byte_ms":300,"idle_ms":300,"total_ms":4000}"#)])
        defer { router.close() }
        try server.script(scope("a"), #"[{"chunk_delay_ms":1500}]"#)
        let (out, seconds) = timed { runStream(router, try! chatRequest("slow drip", extra: #","route":{"max_attempts":1}"#)) }
        let outcome = try #require(out)
        let e = try #require(outcome.error)
        #expect([Status.timeout, .streamInterrupted].contains(e.status), "\(e)")
        #expect(e.message.contains("idle_ms"), "\(e.message)")
        #expect(seconds < 1.4, "took \(seconds) s")
    }

    @Test("first_byte_ms 300 with idle_ms 0 (idle check off): a steady 0.7 s stream completes")
    func idleOffIsOff() throws {
        let router = try makeRouter([providerJSON("a", extra: #","timeouts":{"first_byte_ms":300,"idle_ms":0}"#)])
        defer { router.close() }
        try server.script(scope("a"), #"[{"chunk_delay_ms":100}]"#)
        let out = try #require(runStream(router, try chatRequest("a b c", extra: #","route":{"max_attempts":1}"#)))
        #expect(out.error == nil, "\(out.error.map { "\($0)" } ?? "")")
        #expect(out.text == "echo: a b c")
    }

    @Test("hang + Handle.cancel() from another thread: CANCELLED in well under 2 s")
    func cancelHanging() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"hang":true}]"#)
        let events = EventCollector()
        let handle = try router.start(.chat(try chatRequest("wait forever"), stream: true)) { events.push($0) }
        #expect(try server.waitForRequests(scope("a")))
        let t0 = MonotonicClock.nanos()
        Thread { handle.cancel() }.start()
        #expect(events.waitForTerminal(2), "no terminal event within 2 s of cancel")
        let seconds = Double(MonotonicClock.nanos() - t0) / 1e9
        #expect(seconds < 2)
        guard case .error(let e) = events.terminals.first else { Issue.record("no error event: \(events.events)"); return }
        #expect(e.status == .cancelled)
        #expect(e.provider == "a")
        handle.cancel()  // idempotent
        router.close()
        #expect(events.terminals.count == 1)
    }

    @Test("router closed with a hanging async request: exactly one terminal CANCELLED before close() returns")
    func closeWithRequestInFlight() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"hang":true}]"#)
        let events = EventCollector()
        _ = try router.start(.chat(try chatRequest("never answered"), stream: true)) { events.push($0) }
        #expect(try server.waitForRequests(scope("a")))
        let closed = onThread(5) { router.close(); return true }
        #expect(closed == true)
        // Checked the moment close() returned, without waiting.
        #expect(events.terminals.count == 1)
        guard case .error(let e) = events.events.last else { Issue.record("last event: \(events.events.map(ExecutionRecorder.line))"); return }
        #expect(e.status == .cancelled)
        // A closed router refuses new requests.
        #expect(throws: PMXError.self) { _ = try router.start(.chat(try chatRequest("late"), stream: false)) { _ in } }
    }

    @Test("route.timeout_ms bounds a hanging attempt: PMX_ERR_TIMEOUT")
    func routeTimeout() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"hang":true}]"#)
        let (result, seconds) = timed {
            runComplete(router, try! chatRequest("hang", extra: #","route":{"timeout_ms":300,"max_attempts":1}"#))
        }
        guard case .failure(let e) = try #require(result) else { Issue.record("succeeded"); return }
        #expect(e.status == .timeout)
        #expect(seconds < 1.4, "took \(seconds) s")
    }

    @Test("a response above limits.max_response_bytes: PMX_ERR_RESPONSE_TOO_LARGE")
    func responseTooLarge() throws {
        let router = try makeRouter([providerJSON("a")], extra: #","limits":{"max_response_bytes":1024}"#)
        defer { router.close() }
        let prompt = String(repeating: "word ", count: 400)
        let result = try #require(runComplete(router, try chatRequest(prompt)))
        guard case .failure(let e) = result else { Issue.record("succeeded"); return }
        #expect(e.status == .responseTooLarge)
        #expect(e.message.contains("1024"))
        #expect(try server.requests(scope("a")).count == 1)  // not retried
    }

    @Test("Router.stream: a non-zero callback return cancels; the terminal event is CANCELLED")
    func streamCallbackCancels() throws {
        let router = try makeRouter([#"{"name":"m","type":"mock","reply":"a b c d e f","token_delay_ms":30}"#])
        defer { router.close() }
        let req = try chatRequest("x")
        let out = try #require(onThread { () -> StreamOutcome in
            var events: [ExecutionEvent] = []
            do {
                let r = try router.stream(req) { e in
                    events.append(e)
                    if case .delta = e { return 1 }
                    return 0
                }
                return StreamOutcome(events: events, result: .success(r))
            } catch let e as PMXError {
                return StreamOutcome(events: events, result: .failure(e))
            } catch {
                return StreamOutcome(events: events, result: .failure(PMXError(.internal, "")))
            }
        })
        #expect(out.error?.status == .cancelled)
        #expect(out.lines == ["start m fake-small #1", "delta \"a \"", "error PMX_ERR_CANCELLED"])
    }

    @Test("50 concurrent streams on one router all succeed")
    func concurrentStreams() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        // Each stream lasts ~1 s (150 ms between chunks), so all 50 are in flight together.
        // They are started in small batches: the fake server (Python http.server) listens with
        // a backlog of 5, and a burst of 50 SYNs would mostly be dropped and retransmitted
        // seconds later by the kernel, which measures TCP back-off, not the router.
        try server.script(scope("a"), #"[{"chunk_delay_ms":150,"times":50}]"#)
        let collectors = (0..<50).map { _ in EventCollector() }
        for batch in stride(from: 0, to: 50, by: 4) {
            for i in batch..<min(batch + 4, 50) {
                let c = collectors[i]
                _ = try router.start(.chat(try chatRequest("stream number \(i)"), stream: true)) { c.push($0) }
            }
            #expect(try server.waitForRequests(scope("a"), count: min(batch + 4, 50), seconds: 10))
        }
        // The first streams are still running when the last one reaches the server.
        let inFlight = collectors.filter { $0.terminals.isEmpty }.count
        #expect(inFlight >= 25, "only \(inFlight) streams in flight together")
        let deadline = Date().addingTimeInterval(20)
        for (i, c) in collectors.enumerated() {
            #expect(c.waitForTerminal(max(0.1, deadline.timeIntervalSinceNow)), "stream \(i) did not finish")
        }
        for (i, c) in collectors.enumerated() {
            let text = c.events.compactMap { e -> String? in if case .delta(let t, _) = e { return t }; return nil }.joined()
            #expect(text == "echo: stream number \(i)")
            guard case .done(let r) = c.events.last else { Issue.record("stream \(i): \(c.events.last.map(ExecutionRecorder.line) ?? "none")"); continue }
            #expect(r["provider"] == "a")
            #expect(r["attempts"]?.arrayValue?.count == 1)
            #expect(c.terminals.count == 1)
        }
        let stats = transcribed(.stats, router.stats())
        #expect(stats["requests"] == 50)
        #expect(stats["successes"] == 50)
        #expect(try server.requests(scope("a")).count == 50)
    }

    @Test("embeddings over HTTP")
    func embeddings() throws {
        let router = try makeRouter([providerJSON("a")])
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"text-embedding-3-small","input":["alpha","beta"]}"#))
        let result = try #require(onThread { () -> Result<JSONObject, PMXError> in
            do { return .success(try router.embed(req)) } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "")) }
        })
        let r = try result.get()
        #expect(r["object"] == "list")
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        for d in data {
            let v = try #require(d["embedding"]?.arrayValue)
            #expect(v.count == 8)
            #expect(v.allSatisfy { ($0.doubleValue ?? 9) >= -1 && ($0.doubleValue ?? 9) <= 1 })
        }
        #expect(data[0]["embedding"] != data[1]["embedding"])
        #expect(r["provider"] == "a")
        #expect(r["attempts"]?.arrayValue?.count == 1)
        let log = try server.requests(scope("a"))
        #expect(log.first?["path"] == .string("/\(scope("a"))/v1/embeddings"))
        #expect(log.first?["json"]?["model"] == "text-embedding-3-small")
    }

    @Test("models(): asked from providers without a list, listed otherwise, failures under errors")
    func models() throws {
        try server.setModels(scope("a"), #"[{"id":"custom-1","object":"model"},{"id":"custom-2","object":"model"}]"#)
        let router = try makeRouter([
            providerJSON("a"),
            providerJSON("b", extra: #","models":["only-this"]"#),
            #"{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:1/v1","timeouts":{"connect_ms":1000}}"#,
        ], extra: #","timeouts":{"health_ms":2000}"#)
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        let ids = doc["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids == ["a/custom-1", "a/custom-2", "b/only-this"])
        #expect(doc["data"]?.arrayValue?.first?["provider"] == "a")
        #expect(doc["data"]?.arrayValue?.first?["model"] == "custom-1")
        let errors = try #require(doc["errors"]?.arrayValue)
        #expect(errors.count == 1)
        #expect(errors.first?["provider"] == "dead")
        #expect(errors.first?["status_name"] == "PMX_ERR_CONNECTION")
        #expect(try server.requests(scope("b")).isEmpty)
        let log = try server.requests(scope("a"))
        #expect(log.first?["method"] == "GET")
        #expect(log.first?["headers"]?["authorization"] == .string("Bearer \(apiKey)"))
    }

    @Test("a provider removed while it streams: the stream finishes there; new requests go elsewhere")
    func removeProviderDuringStream() throws {
        let router = try makeRouter([providerJSON("a"), providerJSON("b")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"chunk_delay_ms":40}]"#)
        final class Seen: @unchecked Sendable { var deltas = 0; var removed = false }
        let seen = Seen()
        let outcome = try #require(onThread {
            do {
                let r = try router.stream(try chatRequest("one two three four five six")) { e in
                    if case .delta = e {
                        seen.deltas += 1
                        if seen.deltas == 1 { try? router.removeProvider(named: "a"); seen.removed = true }
                    }
                    return 0
                }
                return Result<JSONObject, PMXError>.success(r)
            } catch let e as PMXError { return .failure(e) } catch { return .failure(PMXError(.internal, "\(error)")) }
        })
        let r = try outcome.get()
        #expect(seen.removed)
        #expect(r["provider"] == "a")
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: one two three four five six")
        #expect(router.providerSnapshot.map(\.name) == ["b"])
        let next = try #require(runComplete(router, try chatRequest("after"))).get()
        #expect(next["provider"] == "b")
    }

    @Test("health(): healthy for the live scope, unhealthy for a closed port")
    func health() throws {
        let router = try makeRouter([
            providerJSON("a"),
            #"{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:1/v1"}"#,
            #"{"name":"m","type":"mock"}"#,
        ], extra: #","timeouts":{"health_ms":2000}"#)
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.health, (try? router.health()) ?? .null) })
        let list = try #require(doc["providers"]?.arrayValue)
        #expect(list.map { $0["name"]?.stringValue } == ["a", "dead", "m"])
        #expect(list[0]["healthy"] == true)
        #expect(list[0]["http_status"] == 200)
        #expect(list[0]["type"] == "openai-compatible")
        #expect(list[0]["error"] == nil)
        #expect(list[1]["healthy"] == false)
        #expect((list[1]["error"]?.stringValue ?? "").isEmpty == false)
        #expect(list[2]["healthy"] == true)
    }

    @Test("stats count requests, retries and fallbacks, and never contain the api key")
    func statsWithoutSecrets() throws {
        let router = try makeRouter([providerJSON("a"), providerJSON("b")])
        defer { router.close() }
        try server.script(scope("a"), #"[{"status":500,"times":1000}]"#)
        _ = try #require(runComplete(router, try chatRequest("count me"))).get()
        let stats = transcribed(.stats, router.stats())
        let text = JSONWriter.string(stats)
        #expect(!text.contains(apiKey))
        #expect(!text.contains("SECRET123"))
        #expect(stats["requests"] == 1 && stats["successes"] == 1 && stats["failures"] == 0)
        #expect(stats["retries"] == 2 && stats["fallbacks"] == 1)
        let providers = try #require(stats["providers"]?.arrayValue)
        #expect(providers.map { $0["name"]?.stringValue } == ["a", "b"])
        #expect(providers[0]["requests"] == 3 && providers[0]["failures"] == 3)
        #expect(providers[0]["failures_by_status"] == ["PMX_ERR_UPSTREAM_SERVER": 3])
        #expect(providers[1]["successes"] == 1 && providers[1]["completion_tokens"] == 3)
    }

    @Test("Secrets.mask masks a configured api key")
    func secretsMask() throws {
        let config = try ProviderConfig.parse(JSONParser.parse(providerJSON("a")), path: "p")  // registers the key
        defer { withExtendedLifetime(config) {} }
        #expect(Secrets.mask("Authorization: Bearer \(apiKey)") == "Authorization: Bearer ****T123")
        #expect(Secrets.masked("sk-abcdef123456") == "****", "under 16 bytes: masked in full")
        #expect(Secrets.masked("sk-abcdef1234567") == "****4567")
        #expect(!Secrets.mask("x \(apiKey) y \(apiKey)").contains(apiKey))
        #expect(Secrets.mask("nothing secret") == "nothing secret")
    }
}
