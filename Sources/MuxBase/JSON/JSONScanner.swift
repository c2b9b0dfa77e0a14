// SPDX-License-Identifier: Apache-2.0
import Glibc

/// The byte-level grammar: one pass over the text writes the tape (`JSONNode`s). Accepts
/// exactly what jansson accepts with `JSON_DECODE_ANY | JSON_ALLOW_NUL` (RFC 8259, any
/// top-level value, strict UTF-8, `\u0000` allowed except in keys, integers within Int64,
/// reals within Double) — the differential tests hold it to that. Two deliberate differences:
/// a raw NUL byte is refused wherever it stands, while jansson 2.14 loses a NUL it puts back
/// after a number or a word and so accepts `[1\0]` as `[1]`; and nesting stops at 256 levels,
/// not jansson's 2,048 (`maxDepth`).
/// It runs without bounds checks: the text is followed by `JSONTape.padding` zero bytes, and a
/// zero byte stops every run (whitespace, digits, string content, UTF-8 continuation). Any
/// error goes to `JSONErrorLocator`, which finds the first error jansson would report.
struct JSONScanner {
    /// The deepest nesting accepted: a value at a deeper level (the root is level 1, as
    /// jansson counts) is refused with jansson's message, at the place jansson reports its own
    /// limit. 256, not jansson's JSON_PARSER_MAX_DEPTH of 2,048: the writer, the comparison and
    /// Swift's release of a nested `JSONValue` recurse once per level (~150 bytes of stack each
    /// in a release build), and the library runs on its host's threads — 2,048 levels crashed a
    /// thread with a 256 KiB stack, 256 levels run in 64 KiB (docs/HARDENING.md). Requests and
    /// answers seen in practice nest a few dozen levels at most, tool schemas included.
    static let maxDepth = 256

    let p: UnsafeMutablePointer<UInt8>
    let n: Int
    var nodes: UnsafeMutablePointer<JSONNode>
    var capacity: Int
    var used = 0

    init(text: UnsafeMutablePointer<UInt8>, count: Int, nodes: UnsafeMutablePointer<JSONNode>, capacity: Int) {
        p = text
        n = count
        self.nodes = nodes
        self.capacity = capacity
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

    mutating func run() throws {
        var cur = -1  // the open container (its node's body holds its parent while open)
        var inObject = false
        var depth = 0
        var i = skipSpace(0)
        value: while true {
            // A value starts at i.
            if depth >= Self.maxDepth { try fail(i, "maximum parsing depth reached") }
            let c = p[i]
            switch c {
            case Self.quote:
                i = try string(i, key: false)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let object = c == UInt8(ascii: "{")
                let kind = object ? JSONNode.Kind.object : .array
                let at = used
                try push(UInt64(truncatingIfNeeded: kind.rawValue), UInt64(truncatingIfNeeded: cur))
                i = skipSpace(i &+ 1)
                if p[i] == (object ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i &+= 1
                    nodes[at].body = UInt64(truncatingIfNeeded: used)  // empty: closed at once
                } else {
                    cur = at
                    inObject = object
                    depth &+= 1
                    if object { i = try key(i) }
                    continue value
                }
            case UInt8(ascii: "t"):
                try literal(i, 0x6575_7274, 4, .true)  // "true" read as a little-endian word
                i &+= 4
            case UInt8(ascii: "f"):
                try literal(i, 0x6573_6c61, 5, .false)  // "alse" after the f
                i &+= 5
            case UInt8(ascii: "n"):
                try literal(i, 0x6c6c_756e, 4, .null)
                i &+= 4
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                i = try number(i)
            default:
                try fail(i, i >= n ? "unexpected end of input, a value expected" : "invalid token, a value expected")
            }
            // A value ended at i: it is a member of `cur`.
            while true {
                if cur < 0 {
                    i = skipSpace(i)
                    if i != n { try fail(i, "end of file expected") }
                    return
                }
                nodes[cur].head &+= 0x100
                i = skipSpace(i)
                let c = p[i]
                if c == UInt8(ascii: ",") {
                    i = skipSpace(i &+ 1)
                    if inObject { i = try key(i) }
                    continue value
                }
                if c == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i &+= 1
                    let parent = Int(truncatingIfNeeded: Int64(bitPattern: nodes[cur].body))
                    nodes[cur].body = UInt64(truncatingIfNeeded: used)
                    cur = parent
                    depth &-= 1
                    inObject = cur >= 0 && nodes[cur].kindBits == JSONNode.Kind.object.rawValue
                    continue
                }
                try fail(i, inObject ? "',' or '}' expected" : "',' or ']' expected")
            }
        }
    }

    @inline(__always)
    private mutating func push(_ head: UInt64, _ body: UInt64) throws {
        if used == capacity { try grow() }
        nodes[used] = JSONNode(head: head, body: body)
        used &+= 1
    }

    private mutating func grow() throws {
        let next = capacity.multipliedReportingOverflow(by: 2)
        let bytes = next.partialValue.multipliedReportingOverflow(by: MemoryLayout<JSONNode>.stride)
        guard !next.overflow, !bytes.overflow, let grown = realloc(nodes, bytes.partialValue) else {
            throw PMXError(.internal, "out of memory parsing \(n) bytes of JSON")
        }
        nodes = grown.assumingMemoryBound(to: JSONNode.self)
        capacity = next.partialValue
    }

    @inline(__always)
    private func skipSpace(_ start: Int) -> Int {
        var i = start
        while true {
            let c = p[i]
            if c > 0x20 { return i }
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return i }
            i &+= 1
        }
    }

    @inline(__always)
    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) &- UInt8(ascii: "a") < 26 }

    @inline(__always)
    private static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// `true`, `false` or `null` at i (`word`: its 4 bytes after a leading `f`, as jansson
    /// reads a whole identifier: `truex` is one invalid token).
    @inline(__always)
    private mutating func literal(_ i: Int, _ word: UInt32, _ length: Int, _ kind: JSONNode.Kind) throws {
        let at = p + (length &- 4)
        let got = UnsafeRawPointer(at + i).loadUnaligned(as: UInt32.self).littleEndian
        guard got == word, !Self.isAlpha(p[i &+ length]) else { try fail(i, "invalid token") }
        try push(UInt64(truncatingIfNeeded: kind.rawValue), 0)
    }

    /// Object key at i, then ':' : returns where its value starts.
    @inline(__always)
    private mutating func key(_ i: Int) throws -> Int {
        guard p[i] == Self.quote else { try fail(i, i >= n ? "unexpected end of input, a string key expected" : "string key or '}' expected") }
        let j = skipSpace(try string(i, key: true))
        guard p[j] == UInt8(ascii: ":") else { try fail(j, "':' expected") }
        return skipSpace(j &+ 1)
    }

    /// A string whose quote is at `start`; returns the index after its closing quote.
    private mutating func string(_ start: Int, key: Bool) throws -> Int {
        var i = start &+ 1
        var escaped: UInt64 = 0
        while true {
            // Eight bytes at a time while none is '"', '\', a control byte or non-ASCII; then
            // straight to the first such byte (the lowest flag is exact: a false flag can
            // only follow a real one).
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self).littleEndian
            let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
            let q = w ^ (ones &* 0x22), b = w ^ (ones &* 0x5C)
            let special = (w | ((w &- ones &* 0x20) & ~w) | ((q &- ones) & ~q) | ((b &- ones) & ~b)) & highs
            if special == 0 {
                i &+= 8
                continue
            }
            i &+= special.trailingZeroBitCount &>> 3
            let c = p[i]
            if c == Self.quote { break }
            if c == Self.backslash {
                escaped = JSONNode.escapedFlag
                i = try escape(start, i, key: key)
            } else if c < 0x20 {
                try fail(start, i >= n ? "premature end of input" : "control character in a string")
            } else {
                i = try utf8(start, i)
            }
        }
        let offset = UInt64(truncatingIfNeeded: start &+ 1)
        try push(UInt64(truncatingIfNeeded: JSONNode.Kind.string.rawValue) | escaped | offset << 8, UInt64(truncatingIfNeeded: i &- start &- 1))
        return i &+ 1
    }

    /// The escape whose backslash is at i; returns the index after it.
    private func escape(_ start: Int, _ i: Int, key: Bool) throws -> Int {
        switch p[i &+ 1] {
        case Self.quote, Self.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return i &+ 2
        case UInt8(ascii: "u"):
            guard let v = JSONEscapes.hex4(p + (i &+ 2)) else { try fail(start, "invalid escape") }
            if v & 0xFC00 == 0xD800 {
                guard p[i &+ 6] == Self.backslash, p[i &+ 7] == UInt8(ascii: "u"), let low = JSONEscapes.hex4(p + (i &+ 8)),
                      low & 0xFC00 == 0xDC00
                else { try fail(start, "invalid Unicode: a high surrogate without its low surrogate") }
                return i &+ 12
            }
            if v & 0xFC00 == 0xDC00 { try fail(start, "invalid Unicode: a lone low surrogate") }
            if v == 0 && key { try fail(start, "NUL byte in object key not supported") }
            return i &+ 6
        default:
            try fail(start, "invalid escape")
        }
    }

    /// A UTF-8 sequence at i, validated (no overlong form, no surrogate, nothing above
    /// U+10FFFF, no truncation); returns the index after it.
    @inline(__always)
    private func utf8(_ start: Int, _ i: Int) throws -> Int {
        let length = JSONUTF8.sequenceLength(p, i)
        if length == 0 { try fail(start, "invalid UTF-8") }
        return i &+ length
    }

    /// A number at `start` ('-' or a digit); returns the index after it.
    private mutating func number(_ start: Int) throws -> Int {
        var i = start
        let negative = p[i] == UInt8(ascii: "-")
        if negative { i &+= 1 }
        let digits = i
        var c = p[i]
        var magnitude: UInt64 = 0
        if c == UInt8(ascii: "0") {
            i &+= 1
            c = p[i]
            if Self.isDigit(c) { try fail(start, "invalid number: a leading zero") }
        } else if Self.isDigit(c) {
            repeat {
                magnitude = magnitude &* 10 &+ UInt64(truncatingIfNeeded: c &- UInt8(ascii: "0"))
                i &+= 1
                c = p[i]
            } while Self.isDigit(c)
        } else {
            try fail(start, "invalid number")
        }
        if c != UInt8(ascii: "."), c | 0x20 != UInt8(ascii: "e") {
            // An integer: it must fit Int64 (jansson's strtoll).
            if i &- digits > 18 {
                guard let exact = JSONNumbers.integer(p + digits, count: i &- digits, negative: negative) else {
                    try fail(start, negative ? "too big negative integer" : "too big integer")
                }
                try push(UInt64(truncatingIfNeeded: JSONNode.Kind.int.rawValue), UInt64(bitPattern: exact))
            } else {
                let v = Int64(truncatingIfNeeded: magnitude)
                try push(UInt64(truncatingIfNeeded: JSONNode.Kind.int.rawValue), UInt64(bitPattern: negative ? 0 &- v : v))
            }
            return i
        }
        if c == UInt8(ascii: ".") {
            i &+= 1
            guard Self.isDigit(p[i]) else { try fail(start, "invalid number: no digit after '.'") }
            repeat { i &+= 1 } while Self.isDigit(p[i])
            c = p[i]
        }
        if c | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            if p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-") { i &+= 1 }
            guard Self.isDigit(p[i]) else { try fail(start, "invalid number: no digit in the exponent") }
            repeat { i &+= 1 } while Self.isDigit(p[i])
        }
        guard let d = JSONNumbers.real(UnsafePointer(p + start), count: i &- start), d.isFinite else {
            try fail(start, "real number overflow")
        }
        try push(UInt64(truncatingIfNeeded: JSONNode.Kind.real.rawValue), d.bitPattern)
        return i
    }

    /// Throws the error jansson reports for the token at `tokenStart` (see JSONErrorLocator).
    private func fail(_ tokenStart: Int, _ message: String) throws -> Never {
        throw JSONErrorLocator.error(UnsafePointer(p), count: n, token: tokenStart, message)
    }
}
