// SPDX-License-Identifier: Apache-2.0
/// Turns a parse failure into the error jansson would report, so that the error class
/// (invalid UTF-8 or invalid JSON) and the place do not depend on which parser ran.
///
/// jansson reads its input as a stream, one token at a time, validating UTF-8 as it reads
/// and looking one byte past a number or a word; the first error it meets wins. The scanner
/// fails fast at the first thing it cannot accept, which may lie inside a token jansson would
/// have finished lexing first (a lone surrogate before invalid UTF-8 in the same string, a
/// too big integer followed by a broken UTF-8 byte). So on failure the token that starts at
/// the failure is lexed here again byte for byte as jansson lexes it: an error met on the way
/// is the one reported; otherwise the scanner's message stands, placed after the token.
/// Cold path: runs once per rejected document.
enum JSONErrorLocator {
    enum Outcome {
        case badUTF8(at: Int)
        case lexical(at: Int, String)
        case token(end: Int)
    }

    static func error(_ p: UnsafePointer<UInt8>, count n: Int, token s: Int, _ message: String) -> PMXError {
        switch lex(p, n, s) {
        case .badUTF8(let at):
            let byte = String(p[at], radix: 16)
            return PMXError(.invalidUTF8, "invalid UTF-8 at \(place(p, at)): unable to decode byte 0x\(byte)")
        case .lexical(let at, let what):
            return PMXError(.invalidJSON, "invalid JSON at \(place(p, at)): \(what)\(near(p, n, s, at))")
        case .token(let end):
            return PMXError(.invalidJSON, "invalid JSON at \(place(p, end)): \(message)\(near(p, n, s, end))")
        }
    }

    /// jansson's context: the token's text when it is short, or "end of file".
    private static func near(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int, _ end: Int) -> String {
        if s >= n { return " near end of file" }
        guard end > s, end &- s <= 20 else { return "" }
        return " near '\(String(decoding: UnsafeBufferPointer(start: p + s, count: end &- s), as: UTF8.self))'"
    }

    /// "line L, column C, byte B" for a byte offset: lines from 1, columns counted in
    /// characters from 0 before the first (jansson's convention).
    static func place(_ p: UnsafePointer<UInt8>, _ position: Int) -> String {
        var line = 1, column = 0
        for k in 0..<position {
            let c = p[k]
            if c == 0x0A {
                line &+= 1
                column = 0
            } else if JSONUTF8.startsCharacter(c) {
                column &+= 1
            }
        }
        return "line \(line), column \(column), byte \(position)"
    }

    /// jansson's reading of the byte at `i` (stream_get): nil when it is readable, else the
    /// invalid UTF-8 outcome.
    private static func read(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int) -> Outcome? {
        guard i < n, p[i] >= 0x80, JSONUTF8.sequenceLength(p, i) == 0 else { return nil }
        return .badUTF8(at: i)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }
    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) &- UInt8(ascii: "a") < 26 }

    /// Lexes the token at `s` as jansson's lex_scan does.
    static func lex(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> Outcome {
        if s >= n { return .token(end: n) }
        let c = p[s]
        if c >= 0x80 {
            let length = JSONUTF8.sequenceLength(p, s)
            return length == 0 ? .badUTF8(at: s) : .token(end: s &+ length)
        }
        if c == UInt8(ascii: "\"") { return string(p, n, s) }
        if c == UInt8(ascii: "-") || isDigit(c) { return number(p, n, s) }
        if isAlpha(c) {
            var j = s &+ 1
            while j < n && isAlpha(p[j]) { j &+= 1 }
            return read(p, n, j) ?? .token(end: j)
        }
        return .token(end: s &+ 1)
    }

    /// lex_scan_number: every byte it looks at is read (and so UTF-8 checked), the last one
    /// put back.
    private static func number(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> Outcome {
        var j = s
        func next() -> Outcome? { read(p, n, j) }
        func at() -> UInt8 { j < n ? p[j] : 0 }
        if at() == UInt8(ascii: "-") { j &+= 1; if let e = next() { return e } }
        if at() == UInt8(ascii: "0") {
            j &+= 1
            if let e = next() { return e }
            if isDigit(at()) { return .token(end: j) }
        } else if isDigit(at()) {
            repeat { j &+= 1; if let e = next() { return e } } while isDigit(at())
        } else {
            return .token(end: j)
        }
        if at() == UInt8(ascii: ".") {
            j &+= 1
            if let e = next() { return e }
            if !isDigit(at()) { return .token(end: j) }
            repeat { j &+= 1; if let e = next() { return e } } while isDigit(at())
        }
        if at() | 0x20 == UInt8(ascii: "e") {
            j &+= 1
            if let e = next() { return e }
            if at() == UInt8(ascii: "+") || at() == UInt8(ascii: "-") { j &+= 1; if let e = next() { return e } }
            if !isDigit(at()) { return .token(end: j) }
            repeat { j &+= 1; if let e = next() { return e } } while isDigit(at())
        }
        return .token(end: j)
    }

    /// lex_scan_string: first the lexing (UTF-8, control characters, escape syntax, end of
    /// input), then the decoding of \u escapes (surrogate pairs).
    private static func string(_ p: UnsafePointer<UInt8>, _ n: Int, _ s: Int) -> Outcome {
        var j = s &+ 1
        while true {
            if j >= n { return .lexical(at: n, "premature end of input") }
            let c = p[j]
            if c >= 0x80 {
                let length = JSONUTF8.sequenceLength(p, j)
                if length == 0 { return .badUTF8(at: j) }
                j &+= length
                continue
            }
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 {
                return .lexical(at: j, c == 0x0A ? "unexpected newline" : "control character 0x\(String(c, radix: 16))")
            }
            j &+= 1
            guard c == UInt8(ascii: "\\") else { continue }
            if j >= n { return .lexical(at: n, "premature end of input") }
            if let e = read(p, n, j) { return e }
            let e = p[j]
            j &+= 1
            if e == UInt8(ascii: "u") {
                for _ in 0..<4 {
                    if let bad = read(p, n, j) { return bad }
                    guard j < n, JSONEscapes.hex4Digit(p[j]) else { return .lexical(at: min(j &+ 1, n), "invalid escape") }
                    j &+= 1
                }
            } else if !"\"\\/bfnrt".utf8.contains(e) {
                return .lexical(at: j, "invalid escape")
            }
        }
        let end = j &+ 1
        // The decoding pass over the (lexically valid) content.
        var k = s &+ 1
        while k < j {
            guard p[k] == UInt8(ascii: "\\") else { k &+= 1; continue }
            guard p[k &+ 1] == UInt8(ascii: "u"), let v = JSONEscapes.hex4(p + (k &+ 2)) else { k &+= 2; continue }
            k &+= 6
            if v & 0xFC00 == 0xD800 {
                if k &+ 1 < j, p[k] == UInt8(ascii: "\\"), p[k &+ 1] == UInt8(ascii: "u"), let low = JSONEscapes.hex4(p + (k &+ 2)) {
                    k &+= 6
                    if low & 0xFC00 != 0xDC00 { return .lexical(at: end, "invalid Unicode '\\u\(hex(v))\\u\(hex(low))'") }
                } else {
                    return .lexical(at: end, "invalid Unicode '\\u\(hex(v))'")
                }
            } else if v & 0xFC00 == 0xDC00 {
                return .lexical(at: end, "invalid Unicode '\\u\(hex(v))'")
            }
        }
        return .token(end: end)
    }

    private static func hex(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 &- h.count)) + h
    }
}
