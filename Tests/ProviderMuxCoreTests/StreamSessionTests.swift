// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// StreamSession (Routing/StreamSession.swift): one stream's lifecycle for pmx_router_stream and
// pmx_router_stream_async — the stop rule of the header's pmx_event_fn, async start, cancel and
// release from inside the consumer — tested without the C layer.

private func mockRouter(_ provider: String = #"{"name":"m","type":"mock"}"#) throws -> Router {
    try Router(config: RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(provider)],"retry":{"max_attempts":1}}"#), lookup: { _ in nil }))
}

private func chat(_ text: String = "one two three four five six seven eight") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"\#(text)"}]}"#))
}

private func counters(_ r: Router) -> Router.RouterCounters { r.counters.withLock { $0 } }

private func isDelta(_ e: ExecutionEvent) -> Bool { if case .delta = e { return true }; return false }

private func status(_ e: ExecutionEvent?) -> Status? {
    switch e {
    case .done?: .ok
    case .error(let err)?: err.status
    default: nil
    }
}

/// A blocking stream on its own thread (bounded wait); the consumer stops at the first delta
/// when `stop` is set. Returns what it was handed and what the call returned.
private func blockingStream(_ r: Router, _ request: ChatRequest, stop: Bool,
                            sourceLocation: SourceLocation = #_sourceLocation) -> ([ExecutionEvent], Result<JSONObject, PMXError>)? {
    runOnThread(30, sourceLocation: sourceLocation) {
        var events: [ExecutionEvent] = []
        let result = callResult { try r.stream(request) { e in events.append(e); return stop && isDelta(e) ? 1 : 0 } }
        return (events, result)
    }
}

/// A stream stopped by its consumer: exactly one delta, then the cancellation as the one
/// terminal event, counted as a failure and not as a success.
private func expectStopped(_ events: [ExecutionEvent], _ r: Router, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(events.filter(isDelta).count == 1, sourceLocation: sourceLocation)
    #expect(events.filter(\.isTerminal).count == 1, sourceLocation: sourceLocation)
    #expect(status(events.last) == .cancelled, sourceLocation: sourceLocation)
    #expect(counters(r).successes == 0, sourceLocation: sourceLocation)
    #expect(counters(r).failures == 1, sourceLocation: sourceLocation)
}

/// What an async consumer saw, filled on the loop thread, read after the terminal event.
private final class Seen: @unchecked Sendable {
    let lock = NSLock()
    var events: [ExecutionEvent] = []
    let terminal = DispatchSemaphore(value: 0)
    let firstDelta = DispatchSemaphore(value: 0)
    /// Stands for the host's pmx_stream handle (a retained session), released from a callback.
    var handle: Unmanaged<StreamSession>?

    func record(_ e: ExecutionEvent) {
        let deltas = lock.withLock { () -> Int in events.append(e); return events.filter(isDelta).count }
        if isDelta(e) && deltas == 1 { firstDelta.signal() }
        if e.isTerminal { terminal.signal() }
    }
    var snapshot: [ExecutionEvent] { lock.withLock { events } }
    var terminals: [ExecutionEvent] { snapshot.filter(\.isTerminal) }
    var deltas: Int { snapshot.filter(isDelta).count }
    func waitForTerminal() -> Bool { terminal.wait(timeout: .now() + 20) == .success }
}

@Suite("Stream session: the stop rule, event by event")
struct StreamSessionRuleTests {
    /// A session on an idle router; events are handed to `deliver` by the test itself.
    private func session(_ router: Router, stopAt: Int?) -> (StreamSession, () -> [ExecutionEvent]) {
        final class Log: @unchecked Sendable { var events: [ExecutionEvent] = [] }
        let log = Log()
        let s = StreamSession(router: router) { e in
            log.events.append(e)
            return log.events.count == stopAt ? 1 : 0
        }
        return (s, { log.events })
    }

    private var done: ExecutionEvent {
        var response = JSONObject()
        response["provider"] = "m"
        return .done(response)
    }

    @Test("without a stop every event is delivered as it is, the terminal one returned")
    func noStop() throws {
        let r = try mockRouter()
        defer { r.close() }
        let (s, delivered) = session(r, stopAt: nil)
        #expect(s.deliver(.start(provider: "m", model: "x", attempt: 1)) == nil)
        #expect(s.deliver(.delta(content: "a", toolCalls: nil)) == nil)
        #expect(status(s.deliver(done)) == .ok)
        #expect(delivered().count == 3)
        #expect(!s.handle.isCancelled)
    }

    @Test("a non-zero return cancels, drops later non-terminal events, and turns a racing done into the cancellation counted as a failure")
    func stopThenDone() throws {
        let r = try mockRouter()
        defer { r.close() }
        let (s, delivered) = session(r, stopAt: 2)
        _ = s.deliver(.start(provider: "m", model: "x", attempt: 1))
        _ = s.deliver(.delta(content: "a", toolCalls: nil))  // returns 1: stop
        #expect(s.handle.isCancelled)
        _ = s.deliver(.delta(content: "b", toolCalls: nil))
        _ = s.deliver(.usage(Usage(promptTokens: 1, completionTokens: 1)))
        let terminal = s.deliver(done)
        #expect(status(terminal) == .cancelled)
        guard case .error(let e)? = terminal else { return }
        #expect(e.message == "request cancelled by the event callback")
        let seen = delivered()
        #expect(seen.count == 3)
        #expect(status(seen.last) == .cancelled)
        #expect(counters(r).failures == 1)
        #expect(counters(r).successes == 0)
    }

    @Test("after a stop, an error that ended the request first stays as it was")
    func stopThenError() throws {
        let r = try mockRouter()
        defer { r.close() }
        let (s, delivered) = session(r, stopAt: 1)
        _ = s.deliver(.delta(content: "a", toolCalls: nil))
        let terminal = s.deliver(.error(PMXError(.upstreamServer, "boom", httpStatus: 502)))
        #expect(status(terminal) == .upstreamServer)
        #expect(status(delivered().last) == .upstreamServer)
        #expect(counters(r).failures == 0)  // the execution counted it; the session adds nothing
    }

    @Test("a stop asked by the start event counts like one asked by a delta")
    func stopAtStart() throws {
        let r = try mockRouter()
        defer { r.close() }
        let (s, delivered) = session(r, stopAt: 1)
        _ = s.deliver(.start(provider: "m", model: "x", attempt: 1))
        _ = s.deliver(.delta(content: "a", toolCalls: nil))
        #expect(status(s.deliver(done)) == .cancelled)
        #expect(delivered().count == 2)
    }

    @Test("the consumer's return for the terminal event is ignored")
    func terminalReturnIgnored() throws {
        let r = try mockRouter()
        defer { r.close() }
        let (s, _) = session(r, stopAt: 1)
        #expect(status(s.deliver(done)) == .ok)
        #expect(!s.handle.isCancelled)
        #expect(counters(r).failures == 0)
    }
}

@Suite("Stream session: blocking and async streams on the mock")
struct StreamSessionMockTests {
    @Test("blocking: a stop at the first delta ends the call with PMX_ERR_CANCELLED after exactly that delta")
    func blockingStop() throws {
        let r = try mockRouter()
        defer { r.close() }
        let request = try chat()
        let outcome = try #require(blockingStream(r, request, stop: true))
        expectStopped(outcome.0, r)
        if case .failure(let e) = outcome.1 { #expect(e.status == .cancelled) } else { Issue.record("the stream succeeded") }
    }

    @Test("blocking without a stop: every delta, then done, and the call returns the response")
    func blockingComplete() throws {
        let r = try mockRouter()
        defer { r.close() }
        let request = try chat()
        let outcome = try #require(blockingStream(r, request, stop: false))
        #expect(outcome.0.filter(isDelta).count > 1)
        #expect(status(outcome.0.last) == .ok)
        #expect(try outcome.1.get()["provider"]?.stringValue == "m")
    }

    @Test("async: a stop at the first delta delivers no further delta, and the done that raced it becomes the cancellation")
    func asyncStopRacingDone() throws {
        // token_delay_ms 0: the mock produces every delta and `done` in one loop turn, before
        // the cancel reaches it — the race the rule exists for, every time.
        let r = try mockRouter()
        defer { r.close() }
        let seen = Seen()
        _ = try StreamSession.start(r, try chat()) { e in seen.record(e); return isDelta(e) ? 1 : 0 }
        #expect(seen.waitForTerminal())
        expectStopped(seen.snapshot, r)
    }

    @Test("async: cancel from another thread mid-stream ends it with the cancellation")
    func asyncCancel() throws {
        let r = try mockRouter(#"{"name":"m","type":"mock","token_delay_ms":50}"#)
        defer { r.close() }
        let seen = Seen()
        let session = try StreamSession.start(r, try chat(Array(repeating: "w", count: 200).joined(separator: " "))) { e in seen.record(e); return 0 }
        #expect(seen.firstDelta.wait(timeout: .now() + 20) == .success)
        session.cancel()
        session.cancel()  // idempotent
        #expect(seen.waitForTerminal())
        #expect(seen.terminals.count == 1)
        #expect(status(seen.snapshot.last) == .cancelled)
        #expect(seen.deltas < 200)
    }

    @Test("async: the handle cancelled and released from inside the consumer (pmx_stream_free there) still ends with one terminal event")
    func asyncFreeFromCallback() throws {
        let r = try mockRouter(#"{"name":"m","type":"mock","token_delay_ms":20}"#)
        defer { r.close() }
        let seen = Seen()
        // The only reference outside the request is the retained one the consumer releases.
        let started = try StreamSession.start(r, try chat()) { e in
            seen.record(e)
            guard !e.isTerminal else { return 0 }
            // The first event that finds the handle: what pmx_stream_free does, from here.
            if let h = seen.lock.withLock({ () -> Unmanaged<StreamSession>? in defer { seen.handle = nil }; return seen.handle }) {
                h.takeUnretainedValue().cancel()
                h.release()
            }
            return 0
        }
        seen.lock.withLock { seen.handle = Unmanaged.passRetained(started) }
        #expect(seen.waitForTerminal())
        #expect(seen.terminals.count == 1)
        #expect(status(seen.snapshot.last) == .cancelled)
        #expect(seen.lock.withLock { seen.handle == nil })
    }

    @Test("async start: refusals are thrown and the consumer is never called")
    func asyncStartRefused() throws {
        let r = try mockRouter()
        r.close()
        let seen = Seen()
        #expect(throws: PMXError.self) { _ = try StreamSession.start(r, try chat()) { e in seen.record(e); return 0 } }
        do { _ = try StreamSession.start(r, try chat()) { e in seen.record(e); return 0 } } catch let e as PMXError { #expect(e.status == .routerClosed) }
        #expect(seen.snapshot.isEmpty)
    }

    @Test("async start from inside a consumer (on the loop thread) works; blocking run there refuses before calling its consumer")
    func startFromConsumer() throws {
        let r = try mockRouter()
        defer { r.close() }
        let outer = Seen(), inner = Seen()
        final class Refusal: @unchecked Sendable { var status: Status?; var called = false }
        let refusal = Refusal()
        let request = try chat()
        var first = true
        _ = try StreamSession.start(r, request) { e in
            outer.record(e)
            if first {
                first = false
                _ = try? StreamSession.start(r, request) { e in inner.record(e); return 0 }
                do { _ = try r.stream(request) { _ in refusal.called = true; return 0 } } catch let e as PMXError { refusal.status = e.status } catch {}
            }
            return 0
        }
        #expect(outer.waitForTerminal())
        #expect(inner.waitForTerminal())
        #expect(status(outer.snapshot.last) == .ok)
        #expect(status(inner.snapshot.last) == .ok)
        #expect(refusal.status == .wouldDeadlock)
        #expect(!refusal.called)
    }
}

@Suite("Stream session: HTTP streams against the fake upstream", .serialized)
struct StreamSessionHTTPTests {
    private func httpRouter(_ scope: String) throws -> (Router, FakeUpstreamServer) {
        let server = try FakeUpstreamServer.shared.get()
        let router = try Router(config: RouterConfig.parse(#"""
            {"providers":[{"name":"a","type":"openai-compatible","base_url":"\#(server.base(scope))","api_key":"sk-test-SECRET123"}],
             "retry":{"max_attempts":1}}
            """#))
        return (router, server)
    }

    private func scope() -> String { "ss-" + String(UUID().uuidString.prefix(8)).lowercased() }

    private let words = (0..<60).map { "w\($0)" }.joined(separator: " ")

    @Test("blocking: a stop at the first delta cancels the live transfer; PMX_ERR_CANCELLED, one delta, one terminal")
    func blockingStopCancelsTransfer() throws {
        let s = scope()
        let (r, server) = try httpRouter(s)
        defer { r.close() }
        // Slow chunks: the transfer is still running when the cancel reaches it.
        try server.script(s, #"[{"chunk_delay_ms":100}]"#)
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"m","messages":[{"role":"user","content":"\#(words)"}]}"#))
        let outcome = try #require(blockingStream(r, request, stop: true))
        expectStopped(outcome.0, r)
        if case .failure(let e) = outcome.1 { #expect(e.status == .cancelled) } else { Issue.record("the stream succeeded") }
    }

    @Test("async: a stop at the first delta cancels the live transfer; the terminal event is the cancellation")
    func asyncStopCancelsTransfer() throws {
        let s = scope()
        let (r, server) = try httpRouter(s)
        defer { r.close() }
        try server.script(s, #"[{"chunk_delay_ms":100}]"#)
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"m","messages":[{"role":"user","content":"\#(words)"}]}"#))
        let seen = Seen()
        _ = try StreamSession.start(r, request) { e in seen.record(e); return isDelta(e) ? 1 : 0 }
        #expect(seen.waitForTerminal())
        expectStopped(seen.snapshot, r)
    }

    @Test("async without a stop: the whole echo arrives, then done")
    func asyncComplete() throws {
        let s = scope()
        let (r, _) = try httpRouter(s)
        defer { r.close() }
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"m","messages":[{"role":"user","content":"\#(words)"}]}"#))
        let seen = Seen()
        _ = try StreamSession.start(r, request) { e in seen.record(e); return 0 }
        #expect(seen.waitForTerminal())
        let text = seen.snapshot.compactMap { e -> String? in if case .delta(let c, _) = e { return c }; return nil }.joined()
        #expect(text == "echo: " + words)
        #expect(status(seen.snapshot.last) == .ok)
    }
}
