// SPDX-License-Identifier: Apache-2.0
// Server-Sent Events decoder (WHATWG HTML, "event stream interpretation"), operating on raw bytes.
//
// Bytes may arrive split anywhere: mid-line, between CR and LF, inside a UTF-8 sequence.
// Lines are assembled as bytes (never as Swift Strings, where "\r\n" is one Character), and
// only the `id` field value is ever turned into a String. Events are handed to the callback
// borrowed (`SSEEventView`, pointing into the decoder's reused buffers): a streamed token costs
// no allocation here. Line ends are found with memchr.

import Glibc

/// One dispatched Server-Sent Event.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field of this event; nil when absent (or empty, which the spec treats as "message").
    public var event: String?
    /// The `data:` lines of this event joined with "\n" (no trailing newline).
    public var data: [UInt8]
    /// The last event ID at dispatch time. Per the spec this persists across events until an
    /// `id:` line changes it; an empty `id:` resets it to nil.
    public var id: String?

    public init(event: String? = nil, data: [UInt8], id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.init(event: event, data: Array(data.utf8), id: id)
    }

    /// `data` decoded as UTF-8 (invalid sequences become U+FFFD).
    public var dataString: String { String(decoding: data, as: UTF8.self) }
}

/// One dispatched event, borrowed from the decoder: `name` and `data` point into its buffers and
/// are valid only during the callback that receives the view (`SSEEvent(view)` keeps a copy).
public struct SSEEventView {
    /// The `event:` field's bytes; empty when absent (or empty, which the spec treats as "message").
    public let name: UnsafeRawBufferPointer
    /// The `data:` lines joined with "\n" (no trailing newline).
    public let data: UnsafeRawBufferPointer
    /// The last event ID at dispatch time (see `SSEEvent.id`).
    public let id: String?

    public init(name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, id: String?) {
        self.name = name
        self.data = data
        self.id = id
    }

    /// The `event:` field as a String (made now); nil when absent.
    public var event: String? { name.isEmpty ? nil : String(decoding: name, as: UTF8.self) }

    /// Is the `event:` field exactly `literal`? (Compared as bytes: no String is made.)
    public func isEvent(_ literal: StaticString) -> Bool {
        Self.equal(name, literal)
    }

    /// Is `data` exactly `literal`? (e.g. OpenAI's `[DONE]`)
    public func dataIs(_ literal: StaticString) -> Bool {
        Self.equal(data, literal)
    }

    private static func equal(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        guard let base = bytes.baseAddress else { return true }
        return memcmp(base, literal.utf8Start, bytes.count) == 0
    }
}

extension SSEEvent {
    /// An owned copy of a borrowed event.
    public init(_ view: SSEEventView) {
        self.init(event: view.event, data: Array(view.data), id: view.id)
    }
}

/// Errors thrown by the streaming decoders themselves (errors thrown by callbacks pass through unchanged).
public enum StreamDecodeError: Error, Equatable, Sendable {
    /// A single line, or the accumulated data of one event, exceeded the decoder's byte limit.
    case eventTooLarge(limit: Int)
}

private let asciiLF: UInt8 = 0x0A
private let asciiCR: UInt8 = 0x0D

/// Incremental, allocation-light SSE decoder.
///
/// Feed it bytes as they arrive; it calls back once per complete event. After the stream ends,
/// call `finish` to flush an event whose terminating blank line never came.
///
/// Error behaviour: when `.eventTooLarge` is thrown the decoder releases its buffers and stays
/// failed (every later `feed` throws the same error, `finish` delivers nothing) until `reset()`.
/// If the callback throws, the rest of that chunk is not decoded; discard or `reset()` the decoder.
public struct SSEDecoder: Sendable {
    /// Maximum length of one line (without its terminator) and of one event's data.
    public let maxEventBytes: Int

    /// Bytes of the line currently being assembled (only used when a line spans feeds).
    private var lineBuffer: [UInt8] = []
    private var fields = FieldState()
    /// The previous feed ended in CR: a LF at the start of the next feed belongs to that terminator.
    private var pendingCR = false
    /// Number of UTF-8 BOM bytes matched at stream start; `bomDone` once the start is behind us.
    private var bomMatched: Int = 0
    private var failed = false

    private static let bomDone = -1

    public init(maxEventBytes: Int = 16 << 20) {
        precondition(maxEventBytes > 0, "maxEventBytes must be positive")
        self.maxEventBytes = maxEventBytes
        lineBuffer.reserveCapacity(Swift.min(maxEventBytes, 4096))
        fields.data.reserveCapacity(Swift.min(maxEventBytes, 4096))
    }

    /// Bytes currently held: the partial line plus the data of the event being built.
    public var bufferedByteCount: Int {
        lineBuffer.count + fields.data.count + Swift.max(bomMatched, 0)
    }

    /// The last event ID seen (the value to send as `Last-Event-ID` on reconnect). Survives `finish()`.
    public var lastEventID: String? { fields.lastEventID }

    /// Discards all state, including the last event ID and a failure, as if newly created.
    public mutating func reset() {
        lineBuffer.removeAll(keepingCapacity: true)
        fields.data.removeAll(keepingCapacity: true)
        fields.eventType.removeAll(keepingCapacity: true)
        fields.lastEventID = nil
        pendingCR = false
        bomMatched = 0
        failed = false
    }

    /// Feeds bytes as they arrive (any split: mid-line, mid-CRLF, mid-UTF-8).
    /// Calls `onEvent` for each complete event, with an owned copy (`feedBorrowed` lends it).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (SSEEvent) throws -> Void) throws {
        try feedBorrowed(bytes, { try onEvent(SSEEvent($0)) })
    }

    /// Feeds bytes as they arrive (any split: mid-line, mid-CRLF, mid-UTF-8).
    /// Calls `onEvent` for each complete event with a view valid only during that call.
    public mutating func feedBorrowed(_ bytes: UnsafeRawBufferPointer, _ onEvent: (SSEEventView) throws -> Void) throws {
        if failed { throw StreamDecodeError.eventTooLarge(limit: maxEventBytes) }
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return }
        var i = 0

        if bomMatched != Self.bomDone {
            while i < n {
                if bytes[i] == Self.bomByte(bomMatched) {
                    bomMatched += 1
                    i += 1
                    if bomMatched == 3 { bomMatched = Self.bomDone; break }
                } else {
                    // Not a BOM after all: the matched prefix is ordinary line content.
                    for k in 0..<bomMatched { lineBuffer.append(Self.bomByte(k)) }
                    bomMatched = Self.bomDone
                    break
                }
            }
            if i == n { return }
        }

        if pendingCR {
            pendingCR = false
            if bytes[i] == asciiLF {
                i += 1
                if i == n { return }
            }
        }

        // A line ends at the first LF or CR. Most streams have no CR at all: one search finds
        // that out for the whole chunk, and each line end is then one LF search.
        var nextCR = Self.find(asciiCR, base, from: i, to: n)
        var lineStart = i
        while i < n {
            let end = Self.find(asciiLF, base, from: i, to: nextCR)
            if end == n { break }  // no terminator in the rest of this chunk
            let piece = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<end])
            if lineBuffer.isEmpty {
                // Fast path: the whole line is inside this chunk, parse it in place.
                guard piece.count <= maxEventBytes else { throw fail() }
                guard try fields.processLine(piece, onEvent, limit: maxEventBytes) else { throw fail() }
            } else {
                guard lineBuffer.count + piece.count <= maxEventBytes else { throw fail() }
                lineBuffer.append(contentsOf: piece)
                let ok = try lineBuffer.withUnsafeBytes { line in
                    try fields.processLine(line, onEvent, limit: maxEventBytes)
                }
                guard ok else { throw fail() }
                lineBuffer.removeAll(keepingCapacity: true)
            }
            i = end + 1
            if end == nextCR {
                if i < n {
                    if bytes[i] == asciiLF { i += 1 }
                } else {
                    pendingCR = true
                }
                nextCR = Self.find(asciiCR, base, from: i, to: n)
            }
            lineStart = i
        }

        if lineStart < n {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<n])
            guard lineBuffer.count + rest.count <= maxEventBytes else { throw fail() }
            lineBuffer.append(contentsOf: rest)
        }
    }

    /// The index of the first `byte` in `base[from..<to]`, or `to` when there is none.
    @inline(__always)
    private static func find(_ byte: UInt8, _ base: UnsafeRawPointer, from: Int, to: Int) -> Int {
        guard from < to, let p = memchr(base + from, Int32(truncatingIfNeeded: byte), to - from) else { return to }
        return base.distance(to: UnsafeRawPointer(p))
    }

    /// Convenience: feeds `bytes` and returns the events they completed.
    public mutating func feed(_ bytes: [UInt8]) throws -> [SSEEvent] {
        var events: [SSEEvent] = []
        try bytes.withUnsafeBytes { buffer in
            try feed(buffer) { events.append($0) }
        }
        return events
    }

    /// End of stream. A pending unterminated line is processed, and an event that was being built
    /// (data lines seen but no blank line yet) is dispatched — lenient, since servers often omit
    /// the final blank line. If that last line would push the event past `maxEventBytes`, the
    /// event is dropped (this method cannot throw its own errors).
    /// Afterwards the decoder is ready for a new stream; only `lastEventID` is kept.
    public mutating func finish(_ onEvent: (SSEEvent) throws -> Void) rethrows {
        try finishBorrowed({ try onEvent(SSEEvent($0)) })
    }

    /// `finish` with the flushed event lent as a view (valid only during the call).
    public mutating func finishBorrowed(_ onEvent: (SSEEventView) throws -> Void) rethrows {
        defer {
            lineBuffer.removeAll(keepingCapacity: true)
            fields.data.removeAll(keepingCapacity: true)
            fields.eventType.removeAll(keepingCapacity: true)
            pendingCR = false
            bomMatched = 0
            failed = false
        }
        if failed { return }
        if bomMatched > 0 {
            // The stream ended inside what looked like a BOM: those bytes are a (useless) line.
            for k in 0..<bomMatched { lineBuffer.append(Self.bomByte(k)) }
        }
        if !lineBuffer.isEmpty {
            let ok = try lineBuffer.withUnsafeBytes { line in
                try fields.processLine(line, onEvent, limit: maxEventBytes)
            }
            if !ok { return }
        }
        try fields.dispatch(onEvent)
    }

    /// Convenience: ends the stream and returns the flushed event, if any.
    public mutating func finish() -> [SSEEvent] {
        var events: [SSEEvent] = []
        finish { events.append($0) }
        return events
    }

    private mutating func fail() -> StreamDecodeError {
        failed = true
        lineBuffer = []
        fields.data = []
        fields.eventType = []
        pendingCR = false
        return .eventTooLarge(limit: maxEventBytes)
    }

    @inline(__always)
    private static func bomByte(_ k: Int) -> UInt8 {
        switch k {
        case 0: 0xEF
        case 1: 0xBB
        default: 0xBF
        }
    }
}

/// Per-event field state, kept apart from the line buffer so a buffered line can be parsed
/// while this state is mutated.
private struct FieldState: Sendable {
    var data: [UInt8] = []
    /// The `event:` value's bytes (empty: none); reused from event to event.
    var eventType: [UInt8] = []
    var lastEventID: String?

    /// Interprets one line (terminator excluded). Returns false, without changing anything, if a
    /// `data` line would grow the event beyond `limit`.
    mutating func processLine(
        _ line: UnsafeRawBufferPointer,
        _ onEvent: (SSEEventView) throws -> Void,
        limit: Int
    ) rethrows -> Bool {
        let n = line.count
        if n == 0 {
            try dispatch(onEvent)
            return true
        }
        if line[0] == 0x3A { return true }  // ":" comment

        var colon = 0
        while colon < n && line[colon] != 0x3A { colon += 1 }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        var valueStart = colon
        if colon < n {
            valueStart = colon + 1
            if valueStart < n && line[valueStart] == 0x20 { valueStart += 1 }
        }
        let value = UnsafeRawBufferPointer(rebasing: line[valueStart..<n])

        switch name.count {
        case 4 where name[0] == 0x64 && name[1] == 0x61 && name[2] == 0x74 && name[3] == 0x61:  // data
            // The dispatched size is the current buffer (earlier lines plus their joining "\n") + value.
            guard data.count + value.count <= limit else { return false }
            data.append(contentsOf: value)
            data.append(asciiLF)
        case 5 where name[0] == 0x65 && name[1] == 0x76 && name[2] == 0x65 && name[3] == 0x6E
            && name[4] == 0x74:  // event
            eventType.removeAll(keepingCapacity: true)
            eventType.append(contentsOf: value)
        case 2 where name[0] == 0x69 && name[1] == 0x64:  // id
            if !value.contains(0) {
                lastEventID = value.isEmpty ? nil : String(decoding: value, as: UTF8.self)
            }
        default:
            break  // "retry" and unknown fields are ignored
        }
        return true
    }

    /// Blank line: dispatch the event being built if it has data, then start a new one.
    /// The event is lent from `data` and `eventType`, which are emptied (capacity kept) after.
    mutating func dispatch(_ onEvent: (SSEEventView) throws -> Void) rethrows {
        defer {
            // Emptied only when not empty: `removeAll(keepingCapacity:)` goes through the
            // array's generic range replacement (~80 instructions) even for an empty array,
            // and most streams send no `event:` line.
            if !data.isEmpty { data.removeAll(keepingCapacity: true) }
            if !eventType.isEmpty { eventType.removeAll(keepingCapacity: true) }
        }
        guard !data.isEmpty else { return }
        let id = lastEventID
        try data.withUnsafeBytes { d in
            try eventType.withUnsafeBytes { name in
                // Without the trailing "\n" that joined the last data line.
                try onEvent(SSEEventView(name: name, data: UnsafeRawBufferPointer(rebasing: d[0..<(d.count - 1)]), id: id))
            }
        }
    }
}
