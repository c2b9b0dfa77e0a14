// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
import Testing

// The parser's rules, each written out with its expected outcome (so a case fails when the
// parser is wrong even where jansson is not asked), and each checked against jansson too.

struct JSONEdgeCase: CustomTestStringConvertible, Sendable {
    enum Expected: Sendable {
        case value(JSONValue)
        case invalidJSON(String)  // a fragment of the message
        /// Refused here, accepted by jansson 2.14: it loses a NUL byte it puts back after a
        /// number or a word (a NUL in its stream buffer reads as "empty"), so `[1\0]` is `[1]`
        /// to it. A raw NUL is never JSON; we refuse it wherever it stands. Also nesting
        /// deeper than our 256 levels and within jansson's 2,048.
        case invalidJSONUnlikeJansson(String)
        case invalidUTF8
    }

    let name: String
    let bytes: [UInt8]
    let expected: Expected
    var testDescription: String { name }

    init(_ name: String, _ text: String, _ expected: Expected) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.expected = expected
    }

    init(_ name: String, bytes: [UInt8], _ expected: Expected) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }
}

private func nested(_ depth: Int, open: String, close: String, inner: String = "") -> String {
    String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
}

private let q = #"""#

let jsonEdgeCases: [JSONEdgeCase] = [
    // Grammar
    .init("empty input", "", .invalidJSON("end of input")),
    .init("only whitespace", " \t\r\n", .invalidJSON("end of input")),
    .init("whitespace around a value", " \t\r\n1 \t\r\n", .value(.int(1))),
    .init("any top-level value: a string", #""x""#, .value("x")),
    .init("two values", "1 2", .invalidJSON("end of file expected")),
    .init("trailing comma in an array", "[1,]", .invalidJSON("value expected")),
    .init("leading comma", "[,1]", .invalidJSON("value expected")),
    .init("trailing comma in an object", #"{"a":1,}"#, .invalidJSON("string key")),
    .init("a key without a value", #"{"a"}"#, .invalidJSON("':' expected")),
    .init("a number as key", "{1:2}", .invalidJSON("string key")),
    .init("missing comma", "[1 2]", .invalidJSON("',' or ']' expected")),
    .init("unclosed array", "[1", .invalidJSON("',' or ']' expected")),
    .init("unclosed object", #"{"a":1"#, .invalidJSON("',' or '}' expected")),
    .init("closing the wrong container", "[1}", .invalidJSON("',' or ']' expected")),
    .init("a cut word", "tru", .invalidJSON("invalid token")),
    .init("a longer word", "truex", .invalidJSON("invalid token")),
    .init("capitalised literal", "True", .invalidJSON("invalid token")),
    .init("a word then a number", "[null1]", .invalidJSON("',' or ']' expected")),
    .init("single quotes", "'a'", .invalidJSON("invalid token")),
    .init("garbage after the value", #"{"a":1} x"#, .invalidJSON("end of file expected")),
    .init("a raw NUL byte outside strings", bytes: [0x5B, 0x00, 0x5D], .invalidJSON("invalid token")),
    .init("a raw NUL byte after a number", bytes: [0x5B, 0x31, 0x00, 0x5D], .invalidJSONUnlikeJansson("',' or ']' expected")),
    .init("a raw NUL byte after a literal at the end", bytes: Array("true".utf8) + [0x00], .invalidJSONUnlikeJansson("end of file expected")),
    .init("literals", "[true,false,null]", .value([true, false, nil])),
    .init("empty containers", #"[[],{},"",{"":[]}]"#, .value([.array([]), .object(JSONObject()), "", ["": .array([])]])),
    // Strings
    .init("unterminated string", #""abc"#, .invalidJSON("premature end of input")),
    .init("unknown escape", #""\x""#, .invalidJSON("invalid escape")),
    .init("short \\u escape", #""\u12""#, .invalidJSON("invalid escape")),
    .init("non-hex \\u escape", #""\u12G4""#, .invalidJSON("invalid escape")),
    .init("raw tab in a string", "\"a\tb\"", .invalidJSON("control character")),
    .init("raw newline in a string", "\"a\nb\"", .invalidJSON("newline")),
    .init("raw NUL in a string", bytes: [0x22, 0x61, 0x00, 0x22], .invalidJSON("control character")),
    .init("DEL is allowed raw", "\"a\u{7F}b\"", .value("a\u{7F}b")),
    .init("every simple escape", #""\"\\\/\b\f\n\r\t""#, .value("\"\\/\u{08}\u{0C}\n\r\t")),
    .init("\\u escapes, upper and lower case hex", #""\u00e9\u00C9\u4E16""#, .value("éÉ世")),
    .init("a surrogate pair", #""\ud83d\ude00""#, .value("😀")),
    .init("a lone high surrogate", #""\ud800""#, .invalidJSON("invalid Unicode")),
    .init("a lone low surrogate", #""\udc00""#, .invalidJSON("invalid Unicode")),
    .init("a high surrogate before a non-surrogate", #""\ud800\u0041""#, .invalidJSON("invalid Unicode")),
    .init("a high surrogate before text", #""\ud800x""#, .invalidJSON("invalid Unicode")),
    .init("\\u0000 in a value", #"["a\u0000b"]"#, .value(["a\u{0}b"])),
    .init("\\u0000 in a key", #"{"a\u0000":1}"#, .invalidJSON("NUL byte in object key")),
    .init("a long string (the 8-byte fast path and its tail)", q + String(repeating: "abcdefg", count: 50) + "é" + q, .value(.string(String(repeating: "abcdefg", count: 50) + "é"))),
    // UTF-8
    .init("raw UTF-8 of every length", #""é世😀""#, .value("é世😀")),
    .init("overlong 2-byte (C0 80)", bytes: [0x22, 0xC0, 0x80, 0x22], .invalidUTF8),
    .init("overlong 3-byte (E0 80 80)", bytes: [0x22, 0xE0, 0x80, 0x80, 0x22], .invalidUTF8),
    .init("overlong 4-byte (F0 80 80 80)", bytes: [0x22, 0xF0, 0x80, 0x80, 0x80, 0x22], .invalidUTF8),
    .init("UTF-8-encoded surrogate (ED A0 80)", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], .invalidUTF8),
    .init("above U+10FFFF (F4 90 80 80)", bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidUTF8),
    .init("F5 lead byte", bytes: [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidUTF8),
    .init("a lone continuation byte", bytes: [0x22, 0x80, 0x22], .invalidUTF8),
    .init("a sequence cut by the quote", bytes: [0x22, 0xE2, 0x82, 0x22], .invalidUTF8),
    .init("a sequence cut by the end of input", bytes: [0x22, 0xE2, 0x82], .invalidUTF8),
    .init("invalid UTF-8 outside strings", bytes: [0x5B, 0xFF, 0x5D], .invalidUTF8),
    .init("valid UTF-8 outside strings", "[é]", .invalidJSON("value expected")),
    .init("invalid UTF-8 right after a number (jansson reads one byte ahead)", bytes: Array("[1".utf8) + [0xFF, 0x5D], .invalidUTF8),
    .init("invalid UTF-8 after a cut word", bytes: Array("[tru".utf8) + [0xFF], .invalidUTF8),
    .init("invalid UTF-8 later in a string with a lone surrogate (lexing comes first)", bytes: Array(#""\ud800"#.utf8) + [0xFF, 0x22], .invalidUTF8),
    .init("invalid UTF-8 after the document's first error", bytes: Array("[1,]".utf8) + [0xFF], .invalidJSON("value expected")),
    .init("max code point U+10FFFF", bytes: [0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22], .value(.string("\u{10FFFF}"))),
    // Numbers
    .init("integers stay integers", "[0,-0,7,-7]", .value([0, 0, 7, -7])),
    .init("Int64.max", "9223372036854775807", .value(.int(Int64.max))),
    .init("Int64.max + 1", "9223372036854775808", .invalidJSON("too big integer")),
    .init("Int64.min", "-9223372036854775808", .value(.int(Int64.min))),
    .init("Int64.min - 1", "-9223372036854775809", .invalidJSON("too big negative integer")),
    .init("a 40-digit integer", String(repeating: "9", count: 40), .invalidJSON("too big integer")),
    .init("leading zero", "[01]", .invalidJSON("number")),
    .init("a lone minus", "-", .invalidJSON("number")),
    .init("no digit after the point", "1.", .invalidJSON("number")),
    .init("no digit before the point", ".5", .invalidJSON("invalid token")),
    .init("empty exponent", "1e", .invalidJSON("number")),
    .init("signed empty exponent", "1e+", .invalidJSON("number")),
    .init("a plus sign", "+1", .invalidJSON("invalid token")),
    .init("hex", "0x1", .invalidJSON("end of file expected")),
    .init("NaN", "NaN", .invalidJSON("invalid token")),
    .init("Infinity", "-Infinity", .invalidJSON("number")),
    .init("reals", "[0.5,1E2,1e-2,-0.25,2.5e+3]", .value([0.5, 100.0, 0.01, -0.25, 2500.0])),
    .init("negative zero real", "-0.0", .value(.double(-0.0))),
    .init("the largest Double", "1.7976931348623157e308", .value(.double(.greatestFiniteMagnitude))),
    .init("real overflow", "1e309", .invalidJSON("real number overflow")),
    .init("negative real overflow", "-1e309", .invalidJSON("real number overflow")),
    .init("real underflow reads as zero", "1e-400", .value(.double(0))),
    .init("negative underflow reads as negative zero", "-1e-400", .value(.double(-0.0))),
    .init("the smallest subnormal", "4.9e-324", .value(.double(.leastNonzeroMagnitude))),
    .init("more digits than a Double holds (strtod)", "3.14159265358979323846264338327950288", .value(.double(3.141592653589793))),
    .init("a real beyond the exact powers", "1.5e300", .value(.double(1.5e300))),
    .init("an integral real", "100000000000000000000.0", .value(.double(1e20))),
    .init("0.1 is the nearest Double", "0.1", .value(.double(0.1))),
    .init("a huge exponent on zero", "0e999999999999", .value(.double(0))),
    // Depth (as jansson counts: the root at level 1). Ours stops at 256 levels, jansson at 2,048;
    // the reference is jansson as if its limit were ours (JanssonOracle.reference).
    .init("256 nested empty arrays", nested(256, open: "[", close: "]"), .value(JanssonDepth.arrays(256))),
    .init("257 nested arrays", nested(257, open: "[", close: "]"), .invalidJSON("maximum parsing depth")),
    .init("a scalar at depth 256", nested(255, open: "[", close: "]", inner: "1"), .value(JanssonDepth.arrays(255, inner: 1))),
    .init("a scalar at depth 257", nested(256, open: "[", close: "]", inner: "1"), .invalidJSON("maximum parsing depth")),
    .init("a scalar in 255 nested objects (level 256)", nested(255, open: #"{"k":"#, close: "}", inner: "1"), .value(JanssonDepth.objects(255, inner: 1))),
    .init("257 nested objects", nested(257, open: #"{"k":"#, close: "}", inner: "1"), .invalidJSON("maximum parsing depth")),
    .init("257 levels on line 3, after whitespace", "\n \n" + nested(257, open: "[ ", close: "]"), .invalidJSON("maximum parsing depth")),
    .init("too deep before a later syntax error", nested(300, open: "[", close: "]") + "x", .invalidJSON("maximum parsing depth")),
    .init("a syntax error before the depth limit", "[" + nested(5, open: "[", close: "]") + "x" + nested(300, open: "[", close: "]"), .invalidJSON("']' expected")),
    .init("2,048 nested empty arrays (jansson's limit: accepted there)", nested(2048, open: "[", close: "]"), .invalidJSONUnlikeJansson("maximum parsing depth")),
    .init("2,049 nested arrays", nested(2049, open: "[", close: "]"), .invalidJSON("maximum parsing depth")),
    // Duplicate keys: the last value, at the first key's place
    .init("a repeated key", #"{"a":1,"b":2,"a":3}"#, .value(.object(JSONObject([("a", 3), ("b", 2)])))),
    .init("a key repeated through an escape", #"{"a":1,"\u0061":2}"#, .value(["a": 2])),
    .init("canonically equal keys stay two keys (bytes differ)", "{\"é\":1,\"e\u{301}\":2}", .value(.object(JSONObject([("é", 1), ("e\u{301}", 2)])))),
    .init("a repeated key in a large object (hashed)", "{" + (0..<40).map { #""k\#($0 % 20)":\#($0)"# }.joined(separator: ",") + "}",
          .value(.object(JSONObject((0..<20).map { ("k\($0)", JSONValue.int(Int64($0 + 20))) })))),
    .init("a repeated key whose value is a container", #"{"a":[1,{"x":2}],"b":0,"a":{"y":[]}}"#, .value(.object(JSONObject([("a", ["y": .array([])]), ("b", 0)])))),
]

enum JanssonDepth {
    static func arrays(_ depth: Int, inner: JSONValue? = nil) -> JSONValue {
        var v: JSONValue = .array(inner.map { [$0] } ?? [])
        for _ in 1..<depth { v = .array([v]) }
        return v
    }

    static func objects(_ depth: Int, inner: JSONValue) -> JSONValue {
        var v = inner
        for _ in 0..<depth { v = ["k": v] }
        return v
    }
}

@Suite("JSON scanner rules")
struct JSONScannerEdgeTests {
    @Test("each rule gives its written outcome, and jansson's", arguments: jsonEdgeCases)
    func rule(_ c: JSONEdgeCase) throws {
        try DeepStack.run { try Self.check(c) }
    }

    private static func check(_ c: JSONEdgeCase) throws {
        let ours = JanssonOracle.ours(c.bytes)
        let theirs = JanssonOracle.reference(c.bytes)
        switch c.expected {
        case .value(let v):
            guard case .value(let got) = ours else { Issue.record("expected a value, got \(ours)"); return }
            #expect(JanssonOracle.same(got, v), "\(got) != \(v)")
            guard case .value(let oracle) = theirs else { Issue.record("jansson: \(theirs)"); return }
            #expect(JanssonOracle.same(oracle, v), "jansson: \(oracle) != \(v)")
            let doc = try JSONDocument(c.bytes)
            #expect(JanssonOracle.refMismatch(doc.ref, v) == nil, "\(JanssonOracle.refMismatch(doc.ref, v) ?? "")")
        case .invalidJSON(let fragment):
            guard case .failure(let status, _, _, _, let text) = ours else { Issue.record("expected invalid JSON, got \(ours)"); return }
            #expect(status == .invalidJSON && text.contains(fragment), "\(ours)")
            #expect(theirs.status == .invalidJSON, "jansson: \(theirs)")
        case .invalidJSONUnlikeJansson(let fragment):
            guard case .failure(let status, _, _, _, let text) = ours else { Issue.record("expected invalid JSON, got \(ours)"); return }
            #expect(status == .invalidJSON && text.contains(fragment), "\(ours)")
            #expect(JanssonOracle.parse(c.bytes).status == nil, "jansson 2.14 accepts this: \(theirs)")
            return
        case .invalidUTF8:
            #expect(ours.status == .invalidUTF8, "\(ours)")
            #expect(theirs.status == .invalidUTF8, "jansson: \(theirs)")
        }
        // Where jansson fails (with our depth limit), we fail at the same line, column and byte.
        if case .failure(_, let l1, let c1, let b1, _) = ours, case .failure(_, let l2, let c2, let b2, let t2) = theirs {
            #expect(l1 == l2 && c1 == c2 && b1 == b2, "ours \(ours), jansson \(l2):\(c2):\(b2) \(t2)")
        }
    }

    @Test("a reused document parses chunk after chunk; refs read the current one; an error leaves it null")
    func reuse() throws {
        let doc = JSONDocument()
        #expect(doc.ref.isNull)
        for (text, content) in [(#"{"choices":[{"delta":{"content":"Hel"}}]}"#, "Hel"), (#"{"choices":[{"delta":{"content":"lo, \u00e9"}}]}"#, "lo, é")] {
            var t = text
            try t.withUTF8 { try doc.load(UnsafeRawBufferPointer($0)) }
            #expect(doc.ref["choices"]?[0]?["delta"]?["content"]?.stringValue == content)
        }
        var bad = #"{"choices":[}"#
        #expect(throws: PMXError.self) { try bad.withUTF8 { try doc.load(UnsafeRawBufferPointer($0)) } }
        #expect(doc.ref.isNull)
        var big = "[" + String(repeating: "1,", count: 5000) + "1]"
        try big.withUTF8 { try doc.load(UnsafeRawBufferPointer($0)) }
        #expect(doc.ref.count == 5001 && doc.ref[5000]?.intValue == 1)
    }
}
