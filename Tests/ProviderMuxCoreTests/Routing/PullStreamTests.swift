// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// PullStream (Routing/PullStream.swift) and EventQueue.pop, the pull side of
// pmx_router_stream_open / pmx_stream_next, without the C layer (Tests/c/test_events.c has the
// typed views).

/// A router with one provider (a mock by default), no retries.
private func router(_ provider: String = #"{"name":"m","type":"mock"}"#) throws -> Router {
    let config = try RouterConfig.parse(JSONParser.parse(#"{"providers":[\#(provider)],"retry":{"max_attempts":1}}"#), lookup: { _ in nil })
    return try Router(config: config)
}

private let sixWords = #"{"messages":[{"role":"user","content":"one two three four five six"}]}"#

private func delta(_ s: String) -> ExecutionEvent { .delta(content: s, toolCalls: nil) }

@Suite("Event queue: taking a bounded batch, waiting with a timeout")
struct EventQueuePopTests {
    @Test("pop takes at most max events, in order; the rest stay queued and counted against the bound")
    func boundedBatch() {
        let q = EventQueue(limits: EventQueue.Limits(highWaterBytes: 1000, lowWaterBytes: 100))
        for i in 0..<10 { q.push(delta("\(i)")) }  // 10 × 65 bytes
        var batch: [ExecutionEvent] = []
        #expect(q.pop(into: &batch, max: 3, waitNs: 0))
        #expect(batch.count == 3)
        guard case .delta(let first?, _) = batch.first else { Issue.record("not a delta"); return }
        #expect(first == "0")
        for _ in 0..<9 { q.push(delta("y")) }  // 7 left + 9 = 16 × 65 = 1040: past the mark
        #expect(q.shouldPause())
        #expect(q.pop(into: &batch, max: 100, waitNs: 0))
        #expect(batch.count == 16)
        guard case .delta(let fourth?, _) = batch.first else { Issue.record("not a delta"); return }
        #expect(fourth == "3")
    }

    @Test("small batches interleaved with pushes keep every event once, in order, and the byte count")
    func smallBatchesKeepOrder() {
        let q = EventQueue()
        var batch: [ExecutionEvent] = []
        var seen: [String] = []
        var next = 0
        for round in 0..<50 {
            for _ in 0..<(round % 7 + 1) { q.push(delta("\(next)")); next += 1 }
            if q.pop(into: &batch, max: round % 3 + 1, waitNs: 0) {
                for case .delta(let s?, _) in batch { seen.append(s) }
            }
        }
        while q.pop(into: &batch, max: 4, waitNs: 0) {
            for case .delta(let s?, _) in batch { seen.append(s) }
        }
        #expect(seen == (0..<next).map { "\($0)" })
        #expect(!q.shouldPause())
        q.push(delta("last"))
        #expect(q.pop(into: &batch, max: 1, waitNs: 0) && batch.count == 1)
    }

    @Test("pop with waitNs 0 does not wait; with a timeout it comes back empty; with an event it returns it")
    func timeouts() {
        let q = EventQueue()
        var batch: [ExecutionEvent] = [delta("stale")]
        #expect(!q.pop(into: &batch, max: 8, waitNs: 0))
        #expect(batch.isEmpty)
        #expect(!q.pop(into: &batch, max: 8, waitNs: 2_000_000))
        let producer = Thread { usleep(20_000); q.push(delta("late")) }
        producer.start()
        #expect(q.pop(into: &batch, max: 8, waitNs: 20_000_000_000))
        #expect(batch.count == 1)
    }
}

@Suite("Pull stream: every event in order, one terminal event last, then the end")
struct PullStreamTests {
    @Test("events are pulled in batches up to max; the terminal one is last; a call after it is refused")
    func wholeStream() throws {
        let r = try router()
        defer { r.close() }
        let s = try PullStream.open(r, try ChatRequest.parse(JSONParser.parse(sixWords)))
        var all: [ExecutionEvent] = []
        var calls = 0
        while !(all.last?.isTerminal ?? false) && calls < 1000 {
            calls += 1
            let got = try s.next(max: 2, waitNs: -1) { batch in
                #expect(batch.count >= 1 && batch.count <= 2)
                all.append(contentsOf: batch)
            }
            #expect(got)
        }
        #expect(all.filter(\.isTerminal).count == 1)
        guard case .done = all.last else { Issue.record("no done: \(all)"); return }
        let text = all.compactMap { e -> String? in if case .delta(let c, _) = e { return c }; return nil }.joined()
        #expect(text == "mock: one two three four five six")
        #expect(throws: PMXError.self) { try s.next(max: 2, waitNs: -1) { _ in Issue.record("called after the end") } }
    }

    @Test("cancel ends a waiting reader with the cancellation as its terminal event")
    func cancelWakesReader() throws {
        let r = try router(#"{"name":"m","type":"mock","latency_ms":60000}"#)
        defer { r.close() }
        let s = try PullStream.open(r, try ChatRequest.parse(JSONParser.parse(sixWords)))
        final class Box: @unchecked Sendable { var terminal: ExecutionEvent? }  // written by the reader, read after `done`
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            while box.terminal == nil {
                _ = try? s.next(max: 8, waitNs: -1) { batch in box.terminal = batch.last(where: \.isTerminal) }
            }
            done.signal()
        }
        reader.start()
        s.cancel()
        #expect(done.wait(timeout: .now() + 20) == .success)
        guard case .error(let e)? = box.terminal else { Issue.record("no error: \(String(describing: box.terminal))"); return }
        #expect(e.status == .cancelled)
    }

    @Test("a bad request is refused at open and nothing starts")
    func refusedAtOpen() throws {
        let r = try router(#"{"name":"m","type":"mock","models":["only-this"]}"#)
        defer { r.close() }
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"other","messages":[{"role":"user","content":"x"}]}"#))
        #expect(throws: PMXError.self) { _ = try PullStream.open(r, request) }
        #expect(r.counters.withLock { $0.requests } == 0)
    }
}
