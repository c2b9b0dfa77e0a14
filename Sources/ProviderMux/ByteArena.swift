// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Bytes owned by one pulled stream that the views of pmx_stream_next point into: malloc'd
/// memory grown by doubling and reused across calls (`reset` keeps it), so a steady stream
/// allocates nothing per event. Addresses are only taken once a batch is written in full
/// (`base`), since growing may move the memory.
final class ByteArena {
    // One thread at a time (the writer's reader): no runtime exclusivity checks.
    @exclusivity(unchecked) private(set) var base: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private(set) var count = 0
    @exclusivity(unchecked) private var capacity = 0

    deinit { free(base) }

    func reset() { count = 0 }

    /// Makes room for `n` more bytes; the write position stays `count`.
    func reserve(_ n: Int) {
        let (need, overflow) = count.addingReportingOverflow(n)
        precondition(!overflow, "arena size overflow")
        guard need > capacity else { return }
        var cap = Swift.max(capacity, 4096)
        while cap < need { cap = cap.multipliedReportingOverflow(by: 2).overflow ? need : cap * 2 }
        guard let p = realloc(base, cap) else { fatalError("out of memory (\(cap) bytes)") }
        base = p
        capacity = cap
    }

    /// Appends `bytes`; returns where they start.
    @discardableResult
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let at = count
        reserve(bytes.count)
        if let src = bytes.baseAddress, bytes.count > 0, let base { (base + at).copyMemory(from: src, byteCount: bytes.count) }
        count = at + bytes.count
        return at
    }

    func appendByte(_ b: UInt8) {
        reserve(1)
        base!.storeBytes(of: b, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends `n` zero bytes; returns where they start.
    func appendZeros(_ n: Int) -> Int {
        let at = count
        reserve(n)
        if n > 0 { memset(base! + at, 0, n) }
        count = at + n
        return at
    }

    /// Aligns the write position to 8 bytes (for the tool-call structs placed among the text).
    func align8() {
        let pad = (8 - count & 7) & 7
        reserve(pad)
        count += pad
    }

    /// Forgets the bytes from `offset` on (a string about to be written again, masked).
    func truncate(to offset: Int) { count = Swift.min(count, Swift.max(0, offset)) }

    /// The bytes at offset..<offset+n: only between writes (a write may move them).
    func bytes(at offset: Int, count n: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.map { $0 + offset }, count: n)
    }
}
