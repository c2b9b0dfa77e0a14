// SPDX-License-Identifier: Apache-2.0
/// Strict UTF-8 as jansson checks it (utf8_check_first / utf8_check_full): no continuation
/// byte first, no overlong form (C0, C1, E0 80–9F, F0 80–8F), no UTF-16 surrogate (ED A0–BF),
/// nothing above U+10FFFF (F4 90–BF, F5–FF), no sequence cut short.
enum JSONUTF8 {
    /// Length of the valid sequence starting with the non-ASCII byte at `p[i]`, or 0. Reads
    /// at most 3 bytes after it (the text's zero padding ends a truncated sequence).
    @inline(__always)
    static func sequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int) -> Int {
        let c = p[i]
        @inline(__always) func cont(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        if c < 0xC2 || c > 0xF4 { return 0 }
        let c1 = p[i &+ 1]
        if c < 0xE0 { return cont(c1) ? 2 : 0 }
        let c2 = p[i &+ 2]
        if c < 0xF0 {
            guard cont(c1), cont(c2) else { return 0 }
            if c == 0xE0 && c1 < 0xA0 { return 0 }  // overlong
            if c == 0xED && c1 >= 0xA0 { return 0 }  // a surrogate
            return 3
        }
        let c3 = p[i &+ 3]
        guard cont(c1), cont(c2), cont(c3) else { return 0 }
        if c == 0xF0 && c1 < 0x90 { return 0 }  // overlong
        if c == 0xF4 && c1 >= 0x90 { return 0 }  // above U+10FFFF
        return 4
    }

    /// Does `c` start a character (ASCII or a valid lead byte)? jansson counts columns so.
    @inline(__always)
    static func startsCharacter(_ c: UInt8) -> Bool { c < 0x80 || (c >= 0xC2 && c <= 0xF4) }
}
