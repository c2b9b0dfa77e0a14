// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// pmx_router_stream's queue is bounded (issue 12, item 3): a consumer that blocks pauses the
// producer — libcurl's write pause for HTTP streams, the token timer for the mock — instead of
// letting events pile up; nothing is lost or reordered, and a pause is not an idle upstream.

private let limits = EventQueue.Limits(highWaterBytes: 16 << 10, lowWaterBytes: 4 << 10)

/// Runs a blocking stream whose consumer sleeps `blockMs` on the first delta (only there), and
/// collects what it got.
private func blockedStream(_ router: Router, _ request: ChatRequest, blockMs: UInt32,
                           sourceLocation: SourceLocation = #_sourceLocation) -> (EventQueue, [ExecutionEvent], Result<JSONObject, PMXError>)? {
    runOnThread(60, sourceLocation: sourceLocation) {
        let queue = EventQueue(limits: limits)
        var events: [ExecutionEvent] = []
        var blocked = false
        let result = callResult {
            try router.stream(request, queue: queue) { e in
                if case .delta = e, !blocked { blocked = true; usleep(blockMs * 1000) }
                events.append(e)
                return 0
            }
        }
        return (queue, events, result)
    }
}

private func words(_ n: Int) -> String { (0..<n).map { "w\($0)" }.joined(separator: " ") }

private func text(_ events: [ExecutionEvent]) -> String {
    events.compactMap { e -> String? in if case .delta(let c, _) = e { return c }; return nil }.joined()
}

@Suite("Back-pressure of the blocking stream")
struct BackPressureTests {
    @Test("HTTP stream of 20,000 chunks to a consumer blocked past idle_ms: paused, bounded, complete, in order, no idle timeout")
    func httpStreamIsPaused() throws {
        let server = try FakeUpstreamServer.shared.get()
        let scope = "bp-" + String(UUID().uuidString.prefix(8)).lowercased()
        let router = try Router(config: RouterConfig.parse(#"""
            {"providers":[{"name":"a","type":"openai-compatible","base_url":"\#(server.base(scope))","api_key":"sk-test-SECRET123"}],
             "retry":{"max_attempts":1},"timeouts":{"idle_ms":300}}
            """#))
        defer { router.close() }
        let prompt = words(20_000)
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"m","messages":[{"role":"user","content":"\#(prompt)"}]}"#))
        let (queue, events, result) = try #require(blockedStream(router, request, blockMs: 900))
        #expect(throws: Never.self) { try result.get() }
        // Every word arrived, in order, exactly once.
        let got = text(events), want = "echo: " + prompt
        let same = got == want  // compared outside #expect: a failure would print 150 KB twice
        #expect(same, "received \(got.utf8.count) of \(want.utf8.count) bytes of text")
        #expect(events.filter(\.isTerminal).count == 1)
        #expect(events.last?.isTerminal == true)
        // The transfer was paused, and the queue never held more than the high-water mark
        // plus the events of one network read (at most 16 KiB of SSE).
        #expect(queue.pauses > 0)
        #expect(queue.maxQueuedBytes <= limits.highWaterBytes + (32 << 10), "\(queue.maxQueuedBytes)")
        // The 20,000 deltas would have been ~1.4 MB of queued events without the bound.
        #expect(events.count > 20_000)
    }

    @Test("mock stream with no token delay: held back per token, bounded, complete")
    func mockStreamIsPaused() throws {
        let reply = words(20_000)
        let router = try Router(config: RouterConfig.parse(#"{"providers":[{"name":"m","type":"mock","reply":"\#(reply)"}]}"#))
        defer { router.close() }
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"x","messages":[{"role":"user","content":"hi"}]}"#))
        let (queue, events, result) = try #require(blockedStream(router, request, blockMs: 300))
        #expect(throws: Never.self) { try result.get() }
        let got = text(events)
        let same = got == reply
        #expect(same, "received \(got.utf8.count) of \(reply.utf8.count) bytes of text")
        #expect(queue.pauses > 0)
        #expect(queue.maxQueuedBytes <= limits.highWaterBytes + 512, "\(queue.maxQueuedBytes)")
    }

    @Test("the queue: shouldPause only at the high-water mark; the consumer resumes once below the low-water mark")
    func queueMarks() {
        let q = EventQueue(limits: EventQueue.Limits(highWaterBytes: 1000, lowWaterBytes: 100))
        var resumed = 0
        q.onDrained = { resumed += 1 }
        #expect(!q.shouldPause())
        for _ in 0..<15 { q.push(.delta(content: "x", toolCalls: nil)) }  // 15 × 65 = 975
        #expect(!q.shouldPause())
        q.push(.delta(content: "x", toolCalls: nil))
        #expect(q.shouldPause())
        var batch: [ExecutionEvent] = []
        q.popAll(into: &batch)  // takes the batch; the consumer has not delivered it yet
        #expect(batch.count == 16 && resumed == 0)
        q.push(.error(PMXError(.cancelled, "x")))  // terminal events cost nothing
        q.popAll(into: &batch)  // back for more: the previous batch was delivered
        #expect(resumed == 1)
        #expect(q.maxQueuedBytes == 16 * 65)
    }
}
