// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// JSONWriter: compact output that JSONParser reads back to the same value.

@Suite("JSONWriter")
struct JSONWriterTests {
    @Test("compact output, key order kept")
    func compact() {
        var o = JSONObject()
        o["z"] = 1
        o["a"] = [true, false, nil]
        o["m"] = ["k": "v"]
        #expect(JSONWriter.string(.object(o)) == #"{"z":1,"a":[true,false,null],"m":{"k":"v"}}"#)
        #expect(JSONWriter.bytes(.object(o)) == Array(JSONWriter.string(.object(o)).utf8))
    }

    @Test("control characters are escaped, and parse back to the same string")
    func controlCharacters() throws {
        let s = "a\u{00}b\u{01}\u{08}\u{0C}\n\r\t\u{1F}z"
        let text = JSONWriter.string(.string(s))
        #expect(text == #""a\u0000b\u0001\u0008\u000c\n\r\t\u001fz""#)
        #expect(!text.utf8.contains(where: { $0 < 0x20 }))
        // jansson refuses a NUL even escaped (see JSONParserTests.escapedNul); the rest round-trips.
        let noNul = "b\u{01}\u{08}\u{0C}\n\r\t\u{1F}z"
        #expect(try JSONParser.parse(JSONWriter.string(.string(noNul))) == .string(noNul))
    }

    @Test("every byte that needs an escape is found at every position of a long string (the 8-byte scan)")
    func escapeAtEveryPosition() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\u{00}", "\u{1F}", "\t"]
        for special in specials {
            for length in [1, 7, 8, 9, 16, 17, 31] {
                for at in 0..<length {
                    var chars = Array(repeating: Character("é"), count: length / 2) + Array(repeating: Character("a"), count: length - length / 2)
                    chars[at] = special
                    let s = String(chars)
                    let text = JSONWriter.string(.string(s))
                    #expect(!text.dropFirst().dropLast().utf8.contains(where: { $0 < 0x20 }), "\(length) \(at)")
                    #expect(text.utf8.filter { $0 == UInt8(ascii: "\\") }.count >= 1, "\(length) \(at)")
                    if special != "\u{00}" { #expect(try JSONParser.parse(text) == .string(s), "\(length) \(at)") }
                }
            }
        }
        // No escape needed: the text is the string's bytes in quotes, whatever its length.
        for length in 0..<40 {
            let s = String(repeating: "x", count: length) + "✓"
            #expect(JSONWriter.string(.string(s)) == "\"" + s + "\"")
        }
        // Bytes just around the specials are not escaped.
        let near = "\u{20}!#[]^_\u{7F}"
        #expect(JSONWriter.string(.string(near + near)) == "\"" + near + near + "\"")
    }

    @Test("quotes and backslashes")
    func quotesAndBackslashes() throws {
        let s = #"say "hi" \ C:\path\ "#
        let text = JSONWriter.string(.string(s))
        #expect(text == #""say \"hi\" \\ C:\\path\\ ""#)
        #expect(try JSONParser.parse(text) == .string(s))
    }

    @Test("non-ASCII is written as raw UTF-8, not as \\u escapes")
    func nonASCIIKept() throws {
        let s = "héllo wörld 世界 👋 — ∑"
        let text = JSONWriter.string(.string(s))
        #expect(text == "\"" + s + "\"")
        #expect(!text.contains("\\u"))
        #expect(try JSONParser.parse(text) == .string(s))
        // Keys too.
        var o = JSONObject()
        o["clé"] = "valeur"
        #expect(JSONWriter.string(.object(o)) == #"{"clé":"valeur"}"#)
    }

    @Test("numbers: ints as ints, integral doubles keep a fraction so they parse back as doubles")
    func numbers() throws {
        #expect(JSONWriter.string(.int(-42)) == "-42")
        #expect(JSONWriter.string(.int(Int64.max)) == "9223372036854775807")
        #expect(JSONWriter.string(.double(2)) == "2.0")
        #expect(JSONWriter.string(.double(0.5)) == "0.5")
        #expect(JSONWriter.string(.double(.nan)) == "null")
        #expect(JSONWriter.string(.double(.infinity)) == "null")
        for d in [2.0, 0.5, -1.25, 1e-7, 1e20, 123456.789, 0.1] {
            #expect(try JSONParser.parse(JSONWriter.string(.double(d))) == .double(d), "\(d)")
        }
        #expect(try JSONParser.parse(JSONWriter.string(.int(7))) == .int(7))
    }

    @Test("a document round-trips through writer and parser unchanged")
    func roundTrip() throws {
        let text = #"{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Line 1\nTab\t\"q\" \\ é 😀"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7},"temperature":0.7,"n":null,"ok":true}"#
        let v = try JSONParser.parse(text)
        #expect(JSONWriter.string(v) == text)
        #expect(try JSONParser.parse(JSONWriter.bytes(v)) == v)
    }
}
