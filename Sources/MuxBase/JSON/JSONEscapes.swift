// SPDX-License-Identifier: Apache-2.0
/// String escapes: read when a string is asked for (a tape node only records that its string
/// has escapes; the scanner has already checked every one of them).
enum JSONEscapes {
    /// The value of 4 hex digits at `p`, or nil.
    @inline(__always)
    static func hex4(_ p: UnsafePointer<UInt8>) -> UInt32? {
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = p[k]
            let d: UInt8
            if c &- UInt8(ascii: "0") < 10 { d = c &- UInt8(ascii: "0") }
            else if (c | 0x20) &- UInt8(ascii: "a") < 6 { d = (c | 0x20) &- UInt8(ascii: "a") &+ 10 }
            else { return nil }
            v = v << 4 | UInt32(truncatingIfNeeded: d)
        }
        return v
    }

    @inline(__always)
    static func hex4Digit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 || (c | 0x20) &- UInt8(ascii: "a") < 6 }

    /// Writes the unescaped form of `count` validated bytes at `src` into `dst` (room for
    /// `count` bytes: unescaping never lengthens) and returns the bytes written.
    static func unescape(_ src: UnsafePointer<UInt8>, count: Int, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        var i = 0, o = 0
        while i < count {
            let c = src[i]
            guard c == UInt8(ascii: "\\") else {
                dst[o] = c
                o &+= 1
                i &+= 1
                continue
            }
            let e = src[i &+ 1]
            i &+= 2
            let simple: UInt8
            switch e {
            case UInt8(ascii: "b"): simple = 0x08
            case UInt8(ascii: "f"): simple = 0x0C
            case UInt8(ascii: "n"): simple = 0x0A
            case UInt8(ascii: "r"): simple = 0x0D
            case UInt8(ascii: "t"): simple = 0x09
            case UInt8(ascii: "u"):
                var v = hex4(src + i) ?? 0xFFFD
                i &+= 4
                if v & 0xFC00 == 0xD800, let low = hex4(src + (i &+ 2)) {  // the scanner checked the pair
                    v = 0x10000 &+ ((v &- 0xD800) << 10) &+ (low &- 0xDC00)
                    i &+= 6
                }
                o &+= encode(v, dst + o)
                continue
            default: simple = e  // '"', '\' and '/'
            }
            dst[o] = simple
            o &+= 1
        }
        return o
    }

    /// UTF-8 of the scalar `v` at `dst`; returns its length.
    @inline(__always)
    private static func encode(_ v: UInt32, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        if v < 0x80 {
            dst[0] = UInt8(truncatingIfNeeded: v)
            return 1
        }
        if v < 0x800 {
            dst[0] = UInt8(truncatingIfNeeded: 0xC0 | v >> 6)
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | v & 0x3F)
            return 2
        }
        if v < 0x10000 {
            dst[0] = UInt8(truncatingIfNeeded: 0xE0 | v >> 12)
            dst[1] = UInt8(truncatingIfNeeded: 0x80 | v >> 6 & 0x3F)
            dst[2] = UInt8(truncatingIfNeeded: 0x80 | v & 0x3F)
            return 3
        }
        dst[0] = UInt8(truncatingIfNeeded: 0xF0 | v >> 18)
        dst[1] = UInt8(truncatingIfNeeded: 0x80 | v >> 12 & 0x3F)
        dst[2] = UInt8(truncatingIfNeeded: 0x80 | v >> 6 & 0x3F)
        dst[3] = UInt8(truncatingIfNeeded: 0x80 | v & 0x3F)
        return 4
    }
}
