// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting
import Foundation
import Testing

// The reasoning delta on the router's side: its JSON, the key guard over its own channel, and
// a cached answer's replay.

@Suite("Reasoning events")
struct ReasoningEventTests {
    @Test("a reasoning delta is a delta event with `reasoning`")
    func json() {
        var bytes: [UInt8] = []
        ExecutionEvent.reasoning("Let me think — 👋").writeJSON(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"type":"delta","reasoning":"Let me think — 👋"}"#)
        #expect(EventQueue.cost(.reasoning("abcd")) == 68)
    }

    @Test("a key streamed in pieces inside the reasoning is held and masked like content")
    func keyInReasoning() throws {
        let k = "sk-guard-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let text = Array("the key is \(k) ok".utf8)
        for cut in [14, 16, 20, 30] {
            var guardian = SecretStreamGuard()
            var out: [ExecutionEvent] = []
            for piece in [text[..<cut], text[cut...]] {
                guardian.pass(.reasoning(String(decoding: piece, as: UTF8.self))) { out.append($0) }
            }
            guardian.pass(.delta(content: "done", toolCalls: nil)) { out.append($0) }
            var all = ""
            for e in out {
                var bytes: [UInt8] = []
                e.writeJSON(into: &bytes)
                Secrets.mask(&bytes)
                all += String(decoding: bytes, as: UTF8.self)
            }
            #expect(!all.contains(String(k.dropFirst(3).prefix(5))), "cut \(cut): \(all)")
            #expect(all.contains("****") && all.contains(#""content":"done""#), "cut \(cut): \(all)")
        }
    }

    @Test("reasoning held when the reasoning stops inside a key goes out masked, before the next event")
    func heldReasoningFlushed() throws {
        let k = "sk-guard-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        var guardian = SecretStreamGuard()
        var out: [ExecutionEvent] = []
        guardian.pass(.reasoning("so " + String(k.prefix(6)))) { out.append($0) }
        guardian.pass(.delta(content: "answer", toolCalls: nil)) { out.append($0) }
        let lines = out.map { e -> String in
            var bytes: [UInt8] = []
            e.writeJSON(into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(lines == [#"{"type":"delta","reasoning":"so "}"#, #"{"type":"delta","reasoning":"****"}"#, #"{"type":"delta","content":"answer"}"#])
    }

    @Test("a cached answer replays its reasoning first")
    func replay() throws {
        let response = try #require(JSONParser.parse(#"{"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"4","reasoning_content":"2+2"},"finish_reason":"stop"}]}"#).objectValue)
        let events = CacheReplay.events(for: response)
        #expect(events.count == 3)
        guard events.count == 3, case .reasoning(let r) = events[1], case .delta(let c, _) = events[2] else { return }
        #expect(r == "2+2" && c == "4")
    }
}
