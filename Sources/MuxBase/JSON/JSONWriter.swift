// SPDX-License-Identifier: Apache-2.0

/// Serializes `JSONValue` to compact JSON text. A whole document is written into a
/// `JSONByteSink` (a raw growable buffer: a compare and a store per byte) and copied out once;
/// appending to a `[UInt8]` paid the array's uniqueness and capacity checks at every byte and
/// run (~10,000 instructions for one ~400-byte answer). Pieces appended to a caller's array
/// (an event's fields, a body built member by member) are written into that array directly.
public enum JSONWriter {
    public static func string(_ value: JSONValue) -> String {
        var sink = JSONByteSink(capacity: 1024)
        put(value, into: &sink)
        return String(decoding: UnsafeBufferPointer(start: sink.base, count: sink.count), as: UTF8.self)
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var sink = JSONByteSink(capacity: 1024)
        put(value, into: &sink)
        return sink.array()
    }

    /// Appends `value`'s JSON to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) { put(value, into: &out) }

    package static func write(_ value: JSONValue, into out: inout JSONByteSink) { put(value, into: &out) }

    /// Recursive per nesting level (the parser's depth limit bounds it), with a small frame.
    static func put<Out: JSONOutput & ~Copyable>(_ value: JSONValue, into out: inout Out) {
        switch value {
        case .null: putLiteral("null", into: &out)
        case .bool(let b): if b { putLiteral("true", into: &out) } else { putLiteral("false", into: &out) }
        case .int(let i): putInt(i, into: &out)
        case .double(let d): putDouble(d, into: &out)
        case .string(let s): putString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            a.withUnsafeBufferPointer { items in
                for i in items.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    put(items[i], into: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            o.members.withUnsafeBufferPointer { members in
                for i in members.indices {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    putString(members[i].key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    put(members[i].value, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(never)
    private static func putDouble<Out: JSONOutput & ~Copyable>(_ d: Double, into out: inout Out) {
        guard d.isFinite else { return putLiteral("null", into: &out) }  // JSON has no NaN/Infinity
        if d.rounded() == d && abs(d) < 1e15 {
            putInt(Int64(d), into: &out)
            putLiteral(".0", into: &out)
        } else {
            var text = String(d)
            text.withUTF8 { if let p = $0.baseAddress { out.append(p, count: $0.count) } }
        }
    }

    /// A fixed ASCII token, copied as bytes (appending a `String`'s UTF8View went through the
    /// generic sequence path: ~160 instructions per `null`).
    @inline(__always)
    package static func literal(_ text: StaticString, into out: inout [UInt8]) { putLiteral(text, into: &out) }

    package static func literal(_ text: StaticString, into out: inout JSONByteSink) { putLiteral(text, into: &out) }

    @inline(__always)
    static func putLiteral<Out: JSONOutput & ~Copyable>(_ text: StaticString, into out: inout Out) {
        out.append(text.utf8Start, count: text.utf8CodeUnitCount)
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// Decimal digits without an intermediate String.
    package static func writeInt(_ value: Int64, into out: inout [UInt8]) { putInt(value, into: &out) }

    static func putInt<Out: JSONOutput & ~Copyable>(_ value: Int64, into out: inout Out) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, no heap
        var magnitude = value.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            guard let p = buf.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            while magnitude > 0 {
                p[23 &- n] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
                n &+= 1
            }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            out.append(p + (24 &- n), count: n)
        }
    }

    /// Copies runs of bytes that need no escape in one go; escapes the rest. Reads the string's
    /// own contiguous UTF-8 (small strings included) without copying or mutating it.
    public static func writeString(_ s: String, into out: inout [UInt8]) { putString(s, into: &out) }

    package static func writeString(_ s: String, into out: inout JSONByteSink) { putString(s, into: &out) }

    @inline(__always)
    static func putString<Out: JSONOutput & ~Copyable>(_ s: String, into out: inout Out) {
        if let done: Void = s.utf8.withContiguousStorageIfAvailable({ putString(bytes: $0, into: &out) }) { return done }
        Array(s.utf8).withUnsafeBufferPointer { putString(bytes: $0, into: &out) }
    }

    private static func putString<Out: JSONOutput & ~Copyable>(bytes u: UnsafeBufferPointer<UInt8>, into out: inout Out) {
        out.append(UInt8(ascii: "\""))
        guard let p = u.baseAddress else { out.append(UInt8(ascii: "\"")); return }
        var runStart = 0
        for at in 0..<u.count {
            let b = p[at]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            if at > runStart { out.append(p + runStart, count: at &- runStart) }
            runStart = at &+ 1
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: putLiteral("\\n", into: &out)
            case 0x0D: putLiteral("\\r", into: &out)
            case 0x09: putLiteral("\\t", into: &out)
            default:
                putLiteral("\\u00", into: &out)
                out.append(hex.utf8Start[Int(b >> 4)])
                out.append(hex.utf8Start[Int(b & 0xF)])
            }
        }
        if u.count > runStart { out.append(p + runStart, count: u.count &- runStart) }
        out.append(UInt8(ascii: "\""))
    }
}
