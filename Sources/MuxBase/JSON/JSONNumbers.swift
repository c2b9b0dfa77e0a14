// SPDX-License-Identifier: Apache-2.0
/// Numbers as jansson converts them: an integer (no '.', 'e', 'E') must fit Int64 (strtoll:
/// "too big integer" otherwise), a real is the correctly rounded Double of its text (strtod;
/// an overflow to infinity is refused, an underflow reads as 0 or a subnormal, `-0.0` stays
/// negative zero, `-0` is the integer 0).
enum JSONNumbers {
    /// The integer of `count` digits at `digits` (no sign), negated when `negative`; nil when
    /// it does not fit Int64.
    static func integer(_ digits: UnsafePointer<UInt8>, count: Int, negative: Bool) -> Int64? {
        var m: UInt64 = 0
        for k in 0..<count {
            let (a, o1) = m.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(UInt64(truncatingIfNeeded: digits[k] &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            m = b
        }
        if negative {
            if m > UInt64(bitPattern: Int64.max) &+ 1 { return nil }
            return Int64(truncatingIfNeeded: 0 &- m)
        }
        return m > UInt64(bitPattern: Int64.max) ? nil : Int64(truncatingIfNeeded: m)
    }

    /// Powers of ten a Double holds exactly.
    private static let exact: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The Double of a real's text (already checked against the grammar). Up to 19
    /// significant digits times an exact power of ten is computed directly (one rounding:
    /// exact); the rest goes to the C library's strtod in the C locale, as jansson does.
    static func real(_ text: UnsafePointer<UInt8>, count: Int) -> Double? {
        var i = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0  // significant digits in `mantissa`
        var scale = 0   // digits after the point
        var simple = true
        var afterPoint = false
        while i < count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                afterPoint = true
            } else if c &- UInt8(ascii: "0") < 10 {
                if mantissa != 0 || c != UInt8(ascii: "0") { digits &+= 1 }
                if digits > 19 { simple = false; break }
                mantissa = mantissa &* 10 &+ UInt64(truncatingIfNeeded: c &- UInt8(ascii: "0"))
                if afterPoint { scale &+= 1 }
            } else {
                break  // the exponent
            }
            i &+= 1
        }
        var exponent = 0
        if simple && i < count {
            i &+= 1  // 'e' / 'E'
            var expNegative = false
            if text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
                expNegative = text[i] == UInt8(ascii: "-")
                i &+= 1
            }
            while i < count {
                exponent = exponent &* 10 &+ Int(truncatingIfNeeded: text[i] &- UInt8(ascii: "0"))
                if exponent > 100_000 { simple = false; break }
                i &+= 1
            }
            if expNegative { exponent = 0 &- exponent }
        }
        if simple {
            if mantissa == 0 { return negative ? -0.0 : 0.0 }
            let e = exponent &- scale
            if mantissa <= 1 << 53 && e >= -22 && e <= 22 {
                let m = Double(mantissa)  // exact: below 2^53
                let v = e >= 0 ? m * exact[e] : m / exact[0 &- e]
                return negative ? -v : v
            }
        }
        return strtodC(text, count: count)
    }

    /// strtod in the C locale (the host may have set another decimal point).
    private static func strtodC(_ text: UnsafePointer<UInt8>, count: Int) -> Double? {
        Double(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
    }
}
