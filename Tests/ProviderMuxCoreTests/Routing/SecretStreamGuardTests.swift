// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxRouting
import Foundation
import Testing

// A key streamed in pieces over several deltas (a model echoing it token by token) never
// reaches the host whole or in large part: SecretStreamGuard holds back a fragment ending in a
// key's start, and the per-event mask (applied at the ABI, reproduced here) does the rest.

private func key() -> String { "sk-guard-" + UUID().uuidString.replacingOccurrences(of: "-", with: "") }

/// What the host receives: each event serialized and masked like the ABI does.
private func delivered(_ events: [ExecutionEvent]) -> (content: String, args: String, json: [String]) {
    var guardian = SecretStreamGuard()
    var out: [ExecutionEvent] = []
    for e in events { guardian.pass(e) { out.append($0) } }
    var content = "", args = "", json: [String] = []
    for e in out {
        var bytes: [UInt8] = []
        e.writeJSON(into: &bytes)
        Secrets.mask(&bytes)
        json.append(String(decoding: bytes, as: UTF8.self))
        let v = try! JSONParser.parse(bytes)
        content += v["content"]?.stringValue ?? ""
        for call in v["tool_calls"]?.arrayValue ?? [] { args += call["function"]?["arguments"]?.stringValue ?? "" }
    }
    return (content, args, json)
}

private func deltas(_ pieces: [String]) -> [ExecutionEvent] {
    pieces.map { .delta(content: $0, toolCalls: nil) } + [.done(JSONObject())]
}

@Suite("Secrets: keys streamed in pieces")
struct SecretStreamGuardTests {
    @Test("a key split over two deltas at every byte, or over three, shows at most its first 3 bytes")
    func splitAnywhere() {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let text = "your key is \(k), keep it safe"
        let bytes = Array(text.utf8)
        let start = 12
        var cuts: [[Int]] = (start...(start + k.utf8.count)).map { [$0] }
        cuts += [[start + 2, start + 9], [start + 5, start + 20], [start + 1, start + 3], [start + 4, start + 30]]
        for cut in cuts {
            var pieces: [String] = [], at = 0
            for c in cut + [bytes.count] { pieces.append(String(decoding: bytes[at..<c], as: UTF8.self)); at = c }
            let got = delivered(deltas(pieces))
            #expect(!got.content.contains(String(k.dropFirst(3).prefix(5))), "cut \(cut): \(got.json)")
            #expect(!got.json.joined().contains(String(k.dropFirst(3).prefix(5))))
            #expect(got.content.contains("****") && got.content.hasSuffix(", keep it safe"), "cut \(cut): \(got.content)")
        }
    }

    @Test("one key character per delta (a model echoing it token by token)")
    func characterByCharacter() {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let got = delivered(deltas(["key: "] + k.map { String($0) } + ["."]))
        #expect(!got.content.contains(String(k.dropFirst(3).prefix(4))), "\(got.content)")
        #expect(got.content.hasPrefix("key: sk-****") && got.content.hasSuffix("."), "\(got.content)")
    }

    @Test("tool-call arguments split over deltas are guarded per tool call")
    func toolArguments() {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let args = #"{"city":"Paris","token":"\#(k)"}"#
        let b = Array(args.utf8)
        let cuts = [0, 20, 30, 41, b.count]
        var events: [ExecutionEvent] = []
        for i in 0..<(cuts.count - 1) {
            let piece = String(decoding: b[cuts[i]..<cuts[i + 1]], as: UTF8.self)
            events.append(.delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": .string(piece)]]]))
        }
        let got = delivered(events + [.done(JSONObject())])
        #expect(!got.args.contains(String(k.dropFirst(3).prefix(5))), "\(got.json)")
        #expect(got.args.hasPrefix(#"{"city":"Paris","token":"#) && got.args.contains("****"), "\(got.args)")
    }

    @Test("a stream that ends on a held key prefix sends it masked before the terminal event")
    func flushBeforeDone() {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let got = delivered(deltas(["ends with ", String(k.prefix(12))]))
        #expect(got.content == "ends with ****", "\(got.json)")
        #expect(got.json.last?.contains(#""type":"done""#) == true)
    }

    @Test("text that is not a key passes unchanged, one event per delta")
    func untouched() {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let pieces = ["Ask", " me", " about sk", "-rays and sk-g", "uards"]
        let got = delivered(deltas(pieces))
        #expect(got.content == pieces.joined())
        // "sk-g" is 4 bytes of the key's start: held once, then sent with the next delta.
        #expect(got.json.count == pieces.count + 1, "one event per delta, then done")
    }

    @Test("responses.create's text deltas (response.output_text.delta …) are guarded per item part")
    func operationDeltas() throws {
        let k = key()
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let text = "key: \(k)."
        let b = Array(text.utf8)
        var events: [ExecutionEvent] = [.operation(JSONObject([("type", "response.created"), ("sequence_number", 0)]))]
        for (n, i) in stride(from: 0, to: b.count, by: 3).enumerated() {
            let piece = String(decoding: b[i..<min(i + 3, b.count)], as: UTF8.self)
            events.append(.operation(JSONObject([("type", "response.output_text.delta"), ("sequence_number", .int(Int64(n + 1))),
                                                 ("item_id", "msg_1"), ("output_index", 0), ("content_index", 0), ("delta", .string(piece))])))
        }
        events.append(.operation(JSONObject([("type", "response.output_text.done"), ("item_id", "msg_1"), ("text", .string(text))])))
        events.append(.done(JSONObject()))
        var guardian = SecretStreamGuard()
        var out: [ExecutionEvent] = []
        for e in events { guardian.pass(e) { out.append($0) } }
        var streamed = "", all = ""
        for e in out {
            var bytes: [UInt8] = []
            e.writeJSON(into: &bytes)
            Secrets.mask(&bytes)
            all += String(decoding: bytes, as: UTF8.self)
            let v = try JSONParser.parse(bytes)
            if v["type"] == "response.output_text.delta" { streamed += v["delta"]?.stringValue ?? "" }
        }
        #expect(!all.contains(String(k.dropFirst(3).prefix(5))), "\(all)")
        #expect(streamed.hasPrefix("key: s") && streamed.contains("****") && streamed.hasSuffix("."), "\(streamed)")
        // Other operation events pass untouched.
        #expect(out.first.map { if case .operation(let o) = $0 { o["type"] == "response.created" } else { false } } == true)
    }
}
