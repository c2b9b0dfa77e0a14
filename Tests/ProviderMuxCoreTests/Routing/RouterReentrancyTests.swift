// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// Blocking calls made on a router's I/O thread (from inside a callback the loop runs) refuse
// at once with `wouldDeadlock` instead of waiting for the thread that runs them.

private func chat(_ text: String = "hi") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"\#(text)"}]}"#))
}

/// What each blocking call answered when made from inside the sink, on the loop thread.
private final class Outcomes: @unchecked Sendable {
    let lock = NSLock()
    var byCall: [String: Status] = [:]
    var messages: [String: String] = [:]
    var onIOThread = false
    var terminals = 0
    let done = DispatchSemaphore(value: 0)

    func record(_ name: String, _ body: () throws -> Any) {
        let status: Status, message: String
        do { _ = try body(); (status, message) = (.ok, "") } catch let e as PMXError { (status, message) = (e.status, e.message) } catch { (status, message) = (.internal, "\(error)") }
        lock.withLock { byCall[name] = status; messages[name] = message }
    }
}

/// Every blocking call of `target`, made from inside a stream of `host`'s sink.
private func callEverythingFromSink(host: Router, target: Router) throws -> Outcomes? {
    let o = Outcomes()
    let request = try chat()
    let embed = try EmbedRequest.parse(JSONParser.parse(#"{"input":"x"}"#))
    let manage = try ModelManagementRequest.parse(JSONParser.parse(#"{"action":"loaded","provider":"m"}"#))
    var first = true
    try host.start(.chat(try chat(), stream: true)) { event in
        if first {
            first = false
            o.onIOThread = IOThread.isCurrent
            o.record("complete") { try target.complete(request) }
            o.record("embed") { try target.embed(embed) }
            o.record("stream") { try target.stream(request) { _ in 0 } }
            o.record("models") { try target.models() }
            o.record("health") { try target.health() }
            o.record("manage") { try target.manageModel(manage, onEvent: nil) }
        }
        if event.isTerminal {
            o.lock.withLock { o.terminals += 1 }
            o.done.signal()
        }
    }
    // A regression hangs the loop thread: fail (and leak the routers) instead of hanging here.
    guard o.done.wait(timeout: .now() + 20) == .success else {
        Issue.record("the stream never ended: a blocking call waited on the I/O thread")
        return nil
    }
    return o
}

@Suite("Re-entrancy: blocking calls on an I/O thread")
struct ReentrancyTests {
    @Test("only a router's I/O thread counts as an I/O thread")
    func marker() throws {
        #expect(!IOThread.isCurrent)
        let r = try routerFromConfig()
        defer { r.close() }
        let seen = DispatchSemaphore(value: 0)
        final class Flag: @unchecked Sendable { var value = false }
        let flag = Flag()
        r.loop.execute { flag.value = IOThread.isCurrent; seen.signal() }
        #expect(seen.wait(timeout: .now() + 10) == .success)
        #expect(flag.value)
        #expect(!IOThread.isCurrent)
    }

    @Test("every blocking call made from an async callback refuses with wouldDeadlock, and the stream still ends once")
    func sameRouter() throws {
        let r = try routerFromConfig()
        guard let o = try callEverythingFromSink(host: r, target: r) else { return }
        defer { r.close() }
        #expect(o.onIOThread)
        for name in ["complete", "embed", "stream", "models", "health", "manage"] {
            #expect(o.byCall[name] == .wouldDeadlock, "\(name): \(String(describing: o.byCall[name]))")
        }
        #expect(o.messages["complete"]?.hasPrefix("pmx_router_complete called on the router's I/O thread") == true, "\(o.messages)")
        #expect(o.messages["stream"]?.contains("it would wait for itself") == true)
        #expect(o.terminals == 1)
        // The router keeps working, and from another thread the same calls go through.
        #expect(try r.complete(try chat("again"))["provider"] == "m")
        #expect(try r.health()["providers"]?.arrayValue?.count == 1)
    }

    @Test("a blocking call on another router from this router's I/O thread refuses too (no cross-router cycle)")
    func otherRouter() throws {
        let a = try routerFromConfig(), b = try routerFromConfig()
        guard let o = try callEverythingFromSink(host: a, target: b) else { return }
        defer { a.close(); b.close() }
        for name in ["complete", "embed", "stream", "models", "health", "manage"] {
            #expect(o.byCall[name] == .wouldDeadlock, "\(name)")
        }
        #expect(o.messages["complete"]?.contains("another router's I/O thread") == true, "\(o.messages)")
        #expect(try b.complete(try chat())["provider"] == "m")
    }

    @Test("wouldDeadlock is a usage error: invalid_request, named PMX_ERR_WOULD_DEADLOCK, -32")
    func status() {
        #expect(Status.wouldDeadlock.rawValue == -32)
        #expect(Status.wouldDeadlock.nameString == "PMX_ERR_WOULD_DEADLOCK")
        #expect(Status.wouldDeadlock.errorClass == "invalid_request")
    }
}

/// Events of one request, collected on whatever thread they arrive.
private final class Collected: @unchecked Sendable {
    let lock = NSLock()
    var events: [ExecutionEvent] = []
    let ended = DispatchSemaphore(value: 0)
    func add(_ e: ExecutionEvent) {
        lock.withLock { events.append(e) }
        if e.isTerminal { ended.signal() }
    }
    var kinds: [String] {
        lock.withLock {
            events.map { e in
                switch e {
                case .start: "start"
                case .delta: "delta"
                case .usage: "usage"
                case .done: "done"
                case .error(let err): "error \(err.status.nameString)"
                default: "other"
                }
            }
        }
    }
}

private let cachedRouterJSON = #"{"providers":[{"name":"m","type":"mock"}],"cache":{"enabled":true}}"#

@Suite("Re-entrancy: cancelling a cached answer from inside its callback")
struct CachedReplayCancelTests {
    /// A router whose cache holds the answer to `chat("cached")`.
    private func warmRouter() throws -> Router {
        let r = try routerFromConfig(cachedRouterJSON)
        _ = try r.complete(try chat("cached"))
        return r
    }

    @Test("async: cancel from inside the start event stops the replay; the one terminal event is the cancellation")
    func asyncCancelInside() throws {
        let r = try warmRouter()
        defer { r.close() }
        let got = Collected()
        let handle = r.makeHandle()
        try r.start(.chat(try chat("cached"), stream: true), handle: handle) { e in
            got.add(e)
            if case .start = e { handle.cancel() }
        }
        #expect(got.ended.wait(timeout: .now() + 10) == .success)
        #expect(got.kinds == ["start", "error PMX_ERR_CANCELLED"])
    }

    @Test("async: a cancel after the last delta still makes the terminal event the cancellation")
    func asyncCancelAtUsage() throws {
        let r = try warmRouter()
        defer { r.close() }
        let got = Collected()
        let handle = r.makeHandle()
        try r.start(.chat(try chat("cached"), stream: true), handle: handle) { e in
            got.add(e)
            if case .usage = e { handle.cancel() }
        }
        #expect(got.ended.wait(timeout: .now() + 10) == .success)
        #expect(got.kinds == ["start", "delta", "usage", "error PMX_ERR_CANCELLED"])
        // Not cancelled: the whole answer, marked cached.
        let again = Collected()
        try r.start(.chat(try chat("cached"), stream: true)) { again.add($0) }
        #expect(again.ended.wait(timeout: .now() + 10) == .success)
        #expect(again.kinds == ["start", "delta", "usage", "done"])
    }

    @Test("blocking stream: a non-zero return on a cached answer ends it as cancelled, no more deltas")
    func blockingNonZeroReturn() throws {
        let r = try warmRouter()
        defer { r.close() }
        var seen: [String] = []
        #expect(throws: PMXError.self) {
            _ = try r.stream(try chat("cached")) { e in
                if case .error(let err) = e { seen.append("error \(err.status.nameString)") } else if e.isTerminal { seen.append("done") } else { seen.append("event") }
                return 1
            }
        }
        #expect(seen == ["event", "error PMX_ERR_CANCELLED"])
        let stats = r.stats()
        #expect(stats["requests"] == 2 && stats["successes"] == 1 && stats["failures"] == 1, "\(stats)")
    }
}
