// SPDX-License-Identifier: Apache-2.0
// Newline-delimited JSON (NDJSON / JSON Lines) splitter, operating on raw bytes.
//
// Lines are delimited by LF; a CR before the LF is stripped (CRLF streams). Whitespace-only lines
// are skipped. Lines are handed out as byte buffers, without parsing the JSON.

import Glibc

private let asciiLF: UInt8 = 0x0A
private let asciiCR: UInt8 = 0x0D

/// Incremental NDJSON line splitter.
///
/// Lines complete within one chunk are passed to the callback in place (no copy); only a line
/// spanning chunks is assembled in an internal buffer.
///
/// Error behaviour: when `.eventTooLarge` is thrown the decoder releases its buffer and stays
/// failed (every later `feed` throws the same error, `finish` delivers nothing) until `reset()`.
/// If the callback throws, the rest of that chunk is not decoded; discard or `reset()` the decoder.
public struct NDJSONDecoder: Sendable {
    /// Maximum length of one line, excluding its LF (a CR before the LF counts).
    public let maxLineBytes: Int

    private var lineBuffer: [UInt8] = []
    private var failed = false

    public init(maxLineBytes: Int = 16 << 20) {
        precondition(maxLineBytes > 0, "maxLineBytes must be positive")
        self.maxLineBytes = maxLineBytes
        lineBuffer.reserveCapacity(Swift.min(maxLineBytes, 4096))
    }

    /// Bytes of the partial line currently held.
    public var bufferedByteCount: Int { lineBuffer.count }

    /// Discards all state, including a failure, as if newly created.
    public mutating func reset() {
        lineBuffer.removeAll(keepingCapacity: true)
        failed = false
    }

    /// Feeds bytes as they arrive. Calls `onLine` with each non-empty line, without "\n" and
    /// without a trailing "\r"; whitespace-only lines are skipped. The buffer passed to `onLine`
    /// is only valid during the call.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer,
        _ onLine: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if failed { throw StreamDecodeError.eventTooLarge(limit: maxLineBytes) }
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return }
        var lineStart = 0
        var i = 0
        while i < n {
            // Line ends found with memchr: a streamed token's line is one vectorized search.
            guard let p = memchr(base + i, Int32(truncatingIfNeeded: asciiLF), n - i) else { break }
            i = base.distance(to: UnsafeRawPointer(p))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<i])
            if lineBuffer.isEmpty {
                guard piece.count <= maxLineBytes else { throw fail() }
                try Self.deliver(piece, onLine)
            } else {
                guard lineBuffer.count + piece.count <= maxLineBytes else { throw fail() }
                lineBuffer.append(contentsOf: piece)
                try lineBuffer.withUnsafeBytes { try Self.deliver($0, onLine) }
                lineBuffer.removeAll(keepingCapacity: true)
            }
            i += 1
            lineStart = i
        }
        if lineStart < n {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<n])
            guard lineBuffer.count + rest.count <= maxLineBytes else { throw fail() }
            lineBuffer.append(contentsOf: rest)
        }
    }

    /// Convenience: feeds `bytes` and returns copies of the lines they completed.
    public mutating func feed(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        try bytes.withUnsafeBytes { buffer in
            try feed(buffer) { lines.append(Array($0)) }
        }
        return lines
    }

    /// End of stream: a last line without "\n" is delivered (same trimming rules).
    /// Afterwards the decoder is ready for a new stream.
    public mutating func finish(_ onLine: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        defer {
            lineBuffer.removeAll(keepingCapacity: true)
            failed = false
        }
        if failed || lineBuffer.isEmpty { return }
        try lineBuffer.withUnsafeBytes { try Self.deliver($0, onLine) }
    }

    /// Convenience: ends the stream and returns the last line, if any.
    public mutating func finish() -> [[UInt8]] {
        var lines: [[UInt8]] = []
        finish { lines.append(Array($0)) }
        return lines
    }

    private mutating func fail() -> StreamDecodeError {
        failed = true
        lineBuffer = []
        return .eventTooLarge(limit: maxLineBytes)
    }

    /// Strips one trailing CR, skips whitespace-only lines, and hands the line on.
    @inline(__always)
    private static func deliver(
        _ line: UnsafeRawBufferPointer,
        _ onLine: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var end = line.count
        if end > 0 && line[end - 1] == asciiCR { end -= 1 }
        var k = 0
        while k < end {
            switch line[k] {
            case 0x20, 0x09, asciiCR: k += 1
            default:
                try onLine(UnsafeRawBufferPointer(rebasing: line[0..<end]))
                return
            }
        }
    }
}
