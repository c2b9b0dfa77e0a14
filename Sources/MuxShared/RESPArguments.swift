// SPDX-License-Identifier: Apache-2.0

/// A Redis command's arguments written as RESP bulk strings (`$<length>\r\n<bytes>\r\n`) into
/// one byte array as they are added: numbers go in as digits without a `String` in between, and
/// the link hands the finished command to hiredis as it is (`redisAppendFormattedCommand`), so
/// neither Swift nor hiredis builds an argument vector per call. hiredis still owns the
/// connection, the I/O and the parsing of replies; this is only the request's framing, which
/// RESP defines as an array of bulk strings. Binary-safe: a bulk string carries its length.
package struct RESPArguments: Sendable, Equatable {
    /// The bulk strings, one after the other (without the array's `*<count>\r\n` header).
    package private(set) var bytes: [UInt8] = []
    package private(set) var count = 0

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package init(_ strings: [String]) {
        self.init(capacity: strings.reduce(16) { $0 + $1.utf8.count + 16 })
        for s in strings { add(s) }
    }

    package mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { add(bytes: $0) }
    }

    /// One argument made of parts (a key's head and its names), without joining them first.
    package mutating func add(_ a: String, _ b: String, _ c: String = "", _ d: String = "") {
        beginBulk(length: a.utf8.count + b.utf8.count + c.utf8.count + d.utf8.count)
        bytes.append(contentsOf: a.utf8)
        bytes.append(contentsOf: b.utf8)
        bytes.append(contentsOf: c.utf8)
        bytes.append(contentsOf: d.utf8)
        endBulk()
    }

    package mutating func add(bytes raw: UnsafeBufferPointer<UInt8>) {
        beginBulk(length: raw.count)
        bytes.append(contentsOf: raw)
        endBulk()
    }

    /// `$<length>\r\n<digits>\r\n`, composed right to left in a scratch buffer on the stack
    /// and appended at once (per-byte appends and a String cost more than the number).
    package mutating func add(_ n: Int) {
        count += 1
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.scratch) { buf in
            var i = Self.scratch - 2
            buf[i] = 13; buf[i + 1] = 10
            i = Self.writeDigits(n.magnitude, into: buf, end: i)
            if n < 0 { i -= 1; buf[i] = UInt8(ascii: "-") }
            let length = Self.scratch - 2 - i
            i = Self.writeHeader(UInt8(ascii: "$"), length, into: buf, end: i)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i...]))
        }
    }

    /// Whole numbers as integers ("5", as Lua's tonumber reads them), others as Swift prints a
    /// Double (shortest round-trip form, which tonumber reads back exactly).
    package mutating func add(_ d: Double) {
        if abs(d) < 1e15, let n = Int(exactly: d) { add(n) } else { add(d.description) }
    }

    package mutating func add(_ flag: Bool) { add(flag ? 1 : 0) }

    /// The whole command: the array header, then the arguments.
    package static func command(_ args: RESPArguments, into out: inout [UInt8]) {
        arrayHeader(count: args.count, into: &out)
        out.append(contentsOf: args.bytes)
    }

    /// `*<count>\r\n`, the start of a command of `count` bulk strings.
    package static func arrayHeader(count: Int, into out: inout [UInt8]) {
        appendHeader(UInt8(ascii: "*"), count, to: &out)
    }

    private mutating func beginBulk(length: Int) {
        count += 1
        Self.appendHeader(UInt8(ascii: "$"), length, to: &bytes)
    }

    private mutating func endBulk() {
        bytes.append(13)
        bytes.append(10)
    }

    /// Room for `$<20 digits>\r\n-<19 digits>\r\n`, the longest number argument.
    private static let scratch = 48

    /// `<mark><n>\r\n` appended to `out` (n ≥ 0: a count or a length).
    private static func appendHeader(_ mark: UInt8, _ n: Int, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratch) { buf in
            let i = writeHeader(mark, n, into: buf, end: scratch)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i...]))
        }
    }

    /// Writes `<mark><n>\r\n` so that it ends just before `end`; returns where it starts.
    private static func writeHeader(_ mark: UInt8, _ n: Int, into buf: UnsafeMutableBufferPointer<UInt8>, end: Int) -> Int {
        var i = end - 2
        buf[i] = 13; buf[i + 1] = 10
        i = writeDigits(n.magnitude, into: buf, end: i)
        i -= 1
        buf[i] = mark
        return i
    }

    /// Writes `m` in decimal so that it ends just before `end`; returns where it starts.
    private static func writeDigits(_ m: UInt, into buf: UnsafeMutableBufferPointer<UInt8>, end: Int) -> Int {
        var m = m, i = end
        repeat {
            i -= 1
            buf[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: m % 10)
            m /= 10
        } while m > 0
        return i
    }
}
