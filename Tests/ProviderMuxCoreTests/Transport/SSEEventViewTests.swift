// SPDX-License-Identifier: Apache-2.0
@testable import MuxTransport
import Testing

/// The borrowed form of the decoder (`feedBorrowed` / `finishBorrowed`), which the stream
/// decoders use: the same events as the owned form, at every split, with the event's bytes lent
/// from buffers the decoder reuses.
@Suite("SSEDecoder borrowed events")
struct SSEEventViewTests {
    /// Copies of the lent events, fed in `chunks`.
    private func borrowed(_ chunks: [ArraySlice<UInt8>], maxEventBytes: Int = 16 << 20) throws -> [SSEEvent] {
        var decoder = SSEDecoder(maxEventBytes: maxEventBytes)
        var events: [SSEEvent] = []
        for chunk in chunks {
            try chunk.withUnsafeBytes { buffer in
                try decoder.feedBorrowed(buffer) { events.append(SSEEvent($0)) }
            }
        }
        decoder.finishBorrowed { events.append(SSEEvent($0)) }
        return events
    }

    @Test("the lent events are the fixture's events, whole and at every split", arguments: sseDecoderFixtures)
    func everySplit(_ fixture: SSEDecoderFixture) throws {
        let bytes = fixture.bytes
        #expect(try borrowed([bytes[...]]) == fixture.expected)
        for cut in 0...bytes.count {
            let events = try borrowed([bytes[0..<cut], bytes[cut...]])
            #expect(events == fixture.expected, "split at \(cut)")
            if events != fixture.expected { break }
        }
        #expect(try borrowed(bytes.indices.map { bytes[$0..<($0 + 1)] }) == fixture.expected)
    }

    @Test("an event's name and data compare to literals as bytes")
    func literals() throws {
        var decoder = SSEDecoder()
        var seen: [(Bool, Bool, Bool, String?)] = []
        let text = "event: content_block_delta\ndata: {\"a\":1}\n\ndata: [DONE]\n\nevent: ping\ndata: [DONE]x\n\n"
        try Array(text.utf8).withUnsafeBytes { buffer in
            try decoder.feedBorrowed(buffer) { e in
                seen.append((e.isEvent("content_block_delta"), e.isEvent("ping"), e.dataIs("[DONE]"), e.event))
            }
        }
        #expect(seen.count == 3)
        #expect(seen.map(\.0) == [true, false, false])
        #expect(seen.map(\.1) == [false, false, true])
        #expect(seen.map(\.2) == [false, true, false])
        #expect(seen.map(\.3) == ["content_block_delta", nil, "ping"])
    }

    @Test("the name of one event does not leak into the next; the id persists")
    func fieldsReset() throws {
        let text = "event: a\nid: 7\ndata: 1\n\ndata: 2\n\nevent: \ndata: 3\n\n"
        #expect(try borrowed([Array(text.utf8)[...]]) == [
            SSEEvent(event: "a", data: "1", id: "7"), SSEEvent(data: "2", id: "7"), SSEEvent(data: "3", id: "7"),
        ])
    }

    @Test("lines with CR, LF and CRLF ends mixed in one chunk split where memchr finds them")
    func mixedLineEnds() throws {
        let text = "data: a\rdata: b\r\n\rdata: c\n\r\ndata: d\r\r"
        let expected = [SSEEvent(data: "a\nb"), SSEEvent(data: "c"), SSEEvent(data: "d")]
        let bytes = Array(text.utf8)
        #expect(try borrowed([bytes[...]]) == expected)
        for cut in 0...bytes.count {
            #expect(try borrowed([bytes[0..<cut], bytes[cut...]]) == expected, "split at \(cut)")
        }
    }

    @Test("an event over the limit throws on the borrowed path too")
    func tooLarge() throws {
        let bytes = Array("data: 12345678901234567890\n\n".utf8)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) { try borrowed([bytes[...]], maxEventBytes: 16) }
    }
}
