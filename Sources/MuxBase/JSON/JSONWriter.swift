
/// Serializes `JSONValue` to compact JSON text. Written directly into a byte buffer: no
/// intermediate jansson tree per event on the streaming hot path.
public enum JSONWriter {
    public static func string(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(value, into: &out)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: literal("null", into: &out)
        case .bool(let b): literal(b ? "true" : "false", into: &out)
        case .int(let i): writeInt(i, into: &out)
        case .double(let d):
            if d.isFinite {
                if d.rounded() == d && abs(d) < 1e15 {
                    writeInt(Int64(d), into: &out)
                    literal(".0", into: &out)
                } else {
                    out.append(contentsOf: String(d).utf8)
                }
            } else {
                literal("null", into: &out)  // JSON has no NaN/Infinity
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for i in a.indices {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(a[i], into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let members = o.members
            for i in members.indices {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(members[i].key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[i].value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A fixed ASCII token, copied as bytes (appending a `String`'s UTF8View went through the
    /// generic sequence path: ~160 instructions per `null`).
    @inline(__always)
    package static func literal(_ text: StaticString, into out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Decimal digits without an intermediate String.
    package static func writeInt(_ value: Int64, into out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, no heap
        var magnitude = value.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while magnitude > 0 {
                buf[23 - n] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
                n += 1
            }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[(24 - n)...]))
        }
    }

    /// Copies runs of bytes that need no escape in one go; escapes the rest. Reads the string's
    /// own contiguous UTF-8 (small strings included) without copying or mutating it.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        if let done: Void = s.utf8.withContiguousStorageIfAvailable({ writeString(bytes: $0, into: &out) }) { return done }
        Array(s.utf8).withUnsafeBufferPointer { writeString(bytes: $0, into: &out) }
    }

    private static func writeString(bytes u: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for at in 0..<u.count {
            let b = u[at]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            if at > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<at])) }
            runStart = at + 1
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
            case 0x0A: literal("\\n", into: &out)
            case 0x0D: literal("\\r", into: &out)
            case 0x09: literal("\\t", into: &out)
            default:
                literal("\\u00", into: &out)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        if u.count > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
        out.append(UInt8(ascii: "\""))
    }
}
