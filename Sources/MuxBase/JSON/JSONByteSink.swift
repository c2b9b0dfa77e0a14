/// A growable byte buffer written through a pointer, for `JSONWriter`: appending a byte is a
/// compare and a store. Appending to a `[UInt8]` checked uniqueness and capacity through the
/// array's buffer at every byte and every run (~20 instructions each, thousands per response).
/// Freed when it goes out of scope; the writer copies its bytes out once.
package struct JSONByteSink: JSONOutput, ~Copyable {
    package private(set) var base: UnsafeMutablePointer<UInt8>
    package private(set) var count = 0
    private var capacity: Int

    package init(capacity: Int) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    package mutating func append(_ b: UInt8) {
        if count == capacity { grow(1) }
        base[count] = b
        count &+= 1
    }

    @inline(__always)
    package mutating func append(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        if n > capacity &- count { grow(n) }
        (base + count).update(from: bytes, count: n)
        count &+= n
    }

    /// Room for `more` bytes beyond those held (doubling: amortized constant per byte).
    @inline(never)
    private mutating func grow(_ more: Int) {
        let grown = Swift.max(capacity &* 2, count &+ more)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        fresh.update(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    /// The bytes written, appended to `out` in one copy.
    package func copy(to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
    }

    /// The bytes written, as a new array. (`Array(unsafeUninitializedCapacity:)` is not
    /// specialized: it looked the array's type metadata up at run time, ~700 instructions a call.)
    package func array() -> [UInt8] {
        Array(UnsafeBufferPointer(start: base, count: count))
    }
}

/// Where `JSONWriter` writes: a byte array, or a `JSONByteSink`. The writer is generic over it
/// inside MuxBase (specialized for each); callers outside use the concrete entry points.
package protocol JSONOutput: ~Copyable {
    mutating func append(_ b: UInt8)
    mutating func append(_ bytes: UnsafePointer<UInt8>, count: Int)
}

extension Array: JSONOutput where Element == UInt8 {
    @inline(__always)
    package mutating func append(_ bytes: UnsafePointer<UInt8>, count: Int) {
        append(contentsOf: UnsafeBufferPointer(start: bytes, count: count))
    }
}
