// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Foundation
import Testing

// Masking works on UTF-8 bytes (Secrets.swift). Every key here is unique to its test: other
// tests register keys concurrently.

private func key(_ tag: String, _ length: Int = 32) -> String {
    let base = "sk-\(tag)-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    return String(base.prefix(length))
}

private func masked(_ text: String, _ surface: Secrets.Surface = .message) -> String { Secrets.mask(text, surface: surface) }

@Suite("Secrets: masking on bytes")
struct SecretsBytesTests {
    @Test("a key followed by a combining mark or a zero-width joiner, or preceded by a prepend character, is masked")
    func graphemeClusters() {
        let k = key("cluster")
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        for text in ["a \(k)\u{301} b", "\(k)\u{200D}\u{1F600}", "\u{0600}\(k)", "e\u{301}\(k)\u{20DD}", "\u{1F1FA}\(k)\u{1F1F8}"] {
            // The old String-based mask: `contains` works on grapheme clusters and misses these.
            let out = masked(text)
            #expect(!out.utf8.elementsEqual(text.utf8), "not masked: \(Array(text.unicodeScalars))")
            #expect(out.utf8.firstRange(of: Array(k.utf8)) == nil)
            #expect(out.contains("****"))
        }
        // The same through the bytes API, on a JSON event.
        let event = JSONWriter.bytes(["type": "delta", "content": .string("echo \(k)\u{301}\u{200D}")])
        let out = event.withUnsafeBytes { Secrets.mask(bytes: $0) }
        #expect(out != nil && out!.firstRange(of: Array(k.utf8)) == nil)
        #expect((try? JSONParser.parse(out!)) != nil, "still valid JSON")
    }

    @Test("nothing to mask: the bytes API returns nil (no copy)")
    func noCopy() {
        let k = key("nocopy")
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let bytes = Array(#"{"type":"delta","content":"hello sk- world"}"#.utf8)
        #expect(bytes.withUnsafeBytes { Secrets.mask(bytes: $0) } == nil)
    }

    @Test("lengths: 16+ bytes show their last 4, 8 to 15 are masked in full")
    func maskedForms() {
        #expect(Secrets.masked("abcdefghijklmnop") == "****mnop")
        #expect(Secrets.masked("abcdefghijklmno") == "****")
        #expect(Secrets.masked("abcdefgh") == "****")
        #expect(Secrets.masked("abcde") == "****")
        #expect(Secrets.masked("abcdefghijkl\"nop") == "****", "a suffix that is not [A-Za-z0-9_-] is not shown")
        #expect(Secrets.masked("abcdefghijklmn\u{e9}") == "****")
        let k = key("eight", 8), k12 = key("twelve", 12)
        let r = (Secrets.register(k), Secrets.register(k12))
        defer { withExtendedLifetime(r) {} }
        #expect(masked("x\(k)y") == "x****y", "8 bytes and more: anywhere, also inside a word")
        #expect(masked("[\"\(k12)\"]", .json) == "[\"****\"]")
    }

    @Test("a short key (1 to 7 bytes) is masked in full as a whole word in messages, not inside words or in documents")
    func shortKeys() {
        let r = (Secrets.register("q7z"), Secrets.register("Zq9-w"))
        defer { withExtendedLifetime(r) {} }
        #expect(masked("invalid key q7z.") == "invalid key ****.")
        #expect(masked("key=q7z") == "key=****")
        #expect(masked(#"{"key":"q7z"}"#) == #"{"key":"****"}"#)
        #expect(masked("q7z\u{301}") == "****\u{301}", "a combining mark is not a word character")
        #expect(masked("aq7z q7zb q7z_ q7z-x") == "aq7z q7zb q7z_ q7z-x", "inside a word: ordinary text")
        #expect(masked("Bearer Zq9-w") == "Bearer ****")
        #expect(masked(#"{"content":"q7z"}"#, .json) == #"{"content":"q7z"}"#, "not in successful documents")
    }

    @Test("a key cut by a truncation is masked before the cut: no prefix of it survives")
    func maskBeforeTruncation() {
        let k = key("cut", 40)
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        let head = String(k.prefix(10))
        // Non-JSON body: the first 200 bytes were kept, cutting the key at byte 200.
        for pad in [180, 185, 190, 195, 199] {
            let body = Array((String(repeating: "x", count: pad) + k + " trailing").utf8)
            let e = HTTPErrorMapping.error(status: 401, body: body, provider: "p")
            #expect(!e.message.contains(head), "pad \(pad): \(e.message)")
        }
        // A JSON error message cut at 300.
        for pad in [280, 290, 295] {
            let m = String(repeating: "y", count: pad) + k
            let body = JSONWriter.bytes(["error": ["message": .string(m)]])
            let e = HTTPErrorMapping.error(status: 400, body: body, provider: "p")
            #expect(!e.message.contains(head), "pad \(pad): \(e.message)")
            #expect(e.message.contains("****"))
        }
        // The helper itself: cut on a UTF-8 boundary after masking.
        let cut = Secrets.shorten("é" + k + String(repeating: "é", count: 200), maxBytes: 101)
        #expect(cut.hasPrefix("é****") && cut.hasSuffix("…"))
        #expect(cut.utf8.count <= 101 + "…".utf8.count)
        #expect(Secrets.utf8Boundary(Array("aé".utf8), atMost: 2) == 1)
    }

    @Test("a key with JSON-escaped characters is masked in its raw and escaped spellings; documents stay valid JSON")
    func jsonEscapes() throws {
        let k = "sk-\"quote\\slash/é-" + UUID().uuidString + "/é"  // no suffix shown: masked in full
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        // Our writer escapes " and \ only.
        let doc = JSONWriter.bytes(["content": .string("echo: \(k)!"), "n": 1])
        var out = doc
        Secrets.mask(&out)
        let parsed = try JSONParser.parse(out)
        #expect(parsed["content"]?.stringValue == "echo: ****!")
        // Other writers: `\/`, `\u00e9`, `\u00E9` (as a provider's body quoted in a message).
        let escaped = k.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        for spelling in [escaped.replacingOccurrences(of: "/", with: "\\/"),
                         escaped.replacingOccurrences(of: "é", with: "\\u00e9"),
                         escaped.replacingOccurrences(of: "/", with: "\\/").replacingOccurrences(of: "é", with: "\\u00E9")] {
            let text = #"HTTP 401: {"error":"bad key \#(spelling)"}"#
            #expect(masked(text) == #"HTTP 401: {"error":"bad key ****"}"#, "\(spelling)")
        }
        #expect(masked("raw \(k) end") == "raw **** end")
    }

    @Test("in a JSON document only string contents are masked: a digits-only key matching a number is left, the JSON stays valid")
    func jsonStructureKept() throws {
        let k = "7301945528"
        let r = Secrets.register(k)
        defer { withExtendedLifetime(r) {} }
        var doc = Array(#"{"created":17301945528,"text":"id 7301945528","esc":"\\7301945528"}"#.utf8)
        Secrets.mask(&doc)
        #expect(String(decoding: doc, as: UTF8.self) == #"{"created":17301945528,"text":"id ****","esc":"\\****"}"#)
        #expect((try? JSONParser.parse(doc)) != nil)
    }

    @Test("many keys: one pass masks each; overlapping keys are masked as one region, a key inside another whole")
    func manyKeys() {
        let keys = (0..<300).map { key("many\($0)", 24 + $0 % 16) }
        let regs = keys.map { Secrets.register($0) }
        defer { withExtendedLifetime(regs) {} }
        let picked = [keys[0], keys[17], keys[150], keys[299]]
        let text = picked.map { "<\($0)>" }.joined(separator: " and ")
        let out = masked(text)
        #expect(picked.allSatisfy { !out.contains($0) })
        #expect(out.components(separatedBy: "****").count == picked.count + 1)

        // Two keys overlapping: "AAAA1111" + "1111BBBB" in "AAAA1111BBBB".
        let a = "ovA-" + UUID().uuidString.prefix(8), b = a.suffix(6) + "-ovB-" + UUID().uuidString.prefix(8)
        let ra = (Secrets.register(String(a)), Secrets.register(String(b)))
        defer { withExtendedLifetime(ra) {} }
        let both = masked("[" + a + b.dropFirst(6) + "]")
        #expect(both == "[****]", "\(both)")
    }

    @Test("a key registered through a config with a CR or LF is refused before it can be used")
    func keyWithLineBreak() {
        for bad in ["sk-abc\r\nX-Evil: 1", "sk-abc\n", "sk-\u{0}abc"] {
            let json: JSONValue = ["name": "p", "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "api_key": .string(bad)]
            #expect(throws: PMXError.self) { try ProviderConfig.parse(json, path: "providers[0]") }
        }
    }
}
