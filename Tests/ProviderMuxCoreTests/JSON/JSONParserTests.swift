// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// JSONParser (jansson underneath): the parser every document crossing the ABI goes through.

@Suite("JSONParser")
struct JSONParserTests {
    @Test("objects keep their key order, not sorted, not hashed")
    func keyOrder() throws {
        let v = try JSONParser.parse(#"{"zeta":1,"alpha":2,"mid":{"y":true,"b":false,"x":null},"beta":3}"#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["zeta", "alpha", "mid", "beta"])
        #expect(v["mid"]?.objectValue?.keys == ["y", "b", "x"])
        #expect(v["mid"]?["x"] == .null)
    }

    @Test("integers stay integers, numbers with a fraction or exponent are doubles")
    func intsVersusDoubles() throws {
        let v = try JSONParser.parse(#"[0, -5, 42, 9223372036854775807, -9223372036854775808, 1.0, 2.5, 1e2, -0.25, 3E-2]"#)
        let a = try #require(v.arrayValue)
        #expect(a[0] == .int(0))
        #expect(a[1] == .int(-5))
        #expect(a[2] == .int(42))
        #expect(a[3] == .int(Int64.max))
        #expect(a[4] == .int(Int64.min))
        #expect(a[5] == .double(1.0))
        #expect(a[6] == .double(2.5))
        #expect(a[7] == .double(100))
        #expect(a[8] == .double(-0.25))
        #expect(a[9] == .double(0.03))
        // One JSON number type for readers: an integral double reads as an int, not the reverse.
        #expect(a[5].intValue == 1)
        #expect(a[6].intValue == nil)
        #expect(a[2].doubleValue == 42.0)
    }

    @Test("scalars and nesting")
    func scalars() throws {
        #expect(try JSONParser.parse("true") == .bool(true))
        #expect(try JSONParser.parse("false") == .bool(false))
        #expect(try JSONParser.parse("null") == .null)
        #expect(try JSONParser.parse(#""x""#) == .string("x"))
        #expect(try JSONParser.parse("  [ [ ], { } ]  ") == .array([.array([]), .object(JSONObject())]))
    }

    @Test("unicode escapes, surrogate pairs and raw UTF-8 decode to the same text")
    func unicodeEscapes() throws {
        let v = try JSONParser.parse(#"["\u00e9\u4e16\ud83d\ude00", "é世😀", "\"\\\/\b\f\n\r\t"]"#)
        let a = try #require(v.arrayValue)
        #expect(a[0] == .string("é世😀"))
        #expect(a[1] == .string("é世😀"))
        #expect(a[2] == .string("\"\\/\u{08}\u{0C}\n\r\t"))
    }

    @Test("bytes and String inputs agree")
    func bytesInput() throws {
        let text = #"{"k":["v",1,2.5]}"#
        #expect(try JSONParser.parse(Array(text.utf8)) == JSONParser.parse(text))
    }

    @Test("invalid JSON: PMX_ERR_INVALID_JSON naming the line and the column")
    func invalidJSONLineColumn() throws {
        let e = try #require(pmxError { _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": }\n") })
        #expect(e.status == .invalidJSON)
        #expect(e.message.contains("line 3"), "\(e.message)")
        #expect(e.message.contains("column 8"), "\(e.message)")
        #expect(e.message.contains("invalid JSON"), "\(e.message)")
    }

    @Test("invalid JSON on the first line names line 1 and its column", arguments: [
        ("[1, 2", "line 1"),
        (#"{"a" 1}"#, "column 6"),
        ("", "line"),
        ("[1,]", "column 4"),
        (#"{"a":1} trailing"#, "line 1"),
    ])
    func invalidJSONVariants(text: String, fragment: String) throws {
        let e = try #require(pmxError { _ = try JSONParser.parse(text) })
        #expect(e.status == .invalidJSON)
        #expect(e.message.contains(fragment), "\(e.message)")
        #expect(e.message.contains("column"), "\(e.message)")
    }

    @Test("invalid UTF-8 inside a string is PMX_ERR_INVALID_UTF8, not INVALID_JSON")
    func invalidUTF8() throws {
        for bad: [UInt8] in [[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80]] {
            let bytes = Array(#"{"k":""#.utf8) + bad + Array(#""}"#.utf8)
            let e = try #require(pmxError { _ = try JSONParser.parse(bytes) })
            #expect(e.status == .invalidUTF8, "bytes \(bad): \(e)")
            #expect(e.message.contains("UTF-8"), "\(e.message)")
        }
    }

    @Test("an escaped NUL (\\u0000) inside a string is valid JSON")
    func escapedNul() throws {
        let v = try JSONParser.parse(#"{"content":"a\u0000b"}"#)
        #expect(v["content"] == .string("a\u{0}b"))
    }
}
