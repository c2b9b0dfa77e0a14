// SPDX-License-Identifier: Apache-2.0
/// Where `JSONWriter` writes a whole document: a raw growable buffer, its bytes copied out once.
package typealias JSONByteSink = GrowableBuffer<UInt8>

extension GrowableBuffer: JSONOutput where Element == UInt8 {
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
