// SPDX-License-Identifier: Apache-2.0
@testable import MuxTransport
import Testing

// MARK: - Fixtures

/// A recorded-looking SSE byte stream and the events it must decode to.
struct SSEDecoderFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: [SSEEvent]
    var testDescription: String { name }

    init(_ name: String, _ text: String, _ expected: [SSEEvent]) {
        self.init(name, Array(text.utf8), expected)
    }

    init(_ name: String, _ bytes: [UInt8], _ expected: [SSEEvent]) {
        self.name = name
        self.bytes = bytes
        self.expected = expected
    }
}

private let openAIChunks = [
    #"{"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":", wörld 👋 — 世界"},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"#,
    #"{"id":"chatcmpl-AbC123","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}"#,
]

private let openAIStream =
    ": keep-alive\n\n"
    + openAIChunks.map { "data: \($0)\n\n" }.joined()
    + ": keep-alive\n\n"
    + "data: [DONE]\n\n"

private let anthropicEvents: [(String, String)] = [
    ("message_start", #"{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-3-5-sonnet-20241022","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#),
    ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
    ("ping", #"{"type": "ping"}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"! Ça va? 🙂\n"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#),
    ("message_stop", #"{"type":"message_stop"}"#),
]

private func anthropicStream(newline nl: String) -> String {
    anthropicEvents.map { "event: \($0.0)\(nl)data: \($0.1)\(nl)\(nl)" }.joined()
}

private let anthropicExpected = anthropicEvents.map { SSEEvent(event: $0.0, data: $0.1) }

private let openRouterChunks = [
    #"{"id":"gen-1731000000-xyz","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1731000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
    #"{"id":"gen-1731000000-xyz","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1731000000,"choices":[{"index":0,"delta":{"role":"assistant","content":" there"},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
    #"{"id":"gen-1731000000-xyz","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1731000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}}"#,
]

private let openRouterStream =
    ": OPENROUTER PROCESSING\n\n"
    + ": OPENROUTER PROCESSING\n\n"
    + "data: \(openRouterChunks[0])\n\n"
    + ": OPENROUTER PROCESSING\n\n"
    + "data: \(openRouterChunks[1])\n\n"
    + "data: \(openRouterChunks[2])\n\n"
    + "data: [DONE]\n\n"

private let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

let sseDecoderFixtures: [SSEDecoderFixture] = [
    SSEDecoderFixture(
        "openai", openAIStream,
        openAIChunks.map { SSEEvent(data: $0) } + [SSEEvent(data: "[DONE]")]),
    SSEDecoderFixture("anthropic-lf", anthropicStream(newline: "\n"), anthropicExpected),
    SSEDecoderFixture("anthropic-crlf", anthropicStream(newline: "\r\n"), anthropicExpected),
    SSEDecoderFixture("anthropic-cr", anthropicStream(newline: "\r"), anthropicExpected),
    SSEDecoderFixture(
        "openrouter", openRouterStream,
        openRouterChunks.map { SSEEvent(data: $0) } + [SSEEvent(data: "[DONE]")]),
    SSEDecoderFixture(
        "mixed-line-endings",
        "data: a\r\ndata: b\rdata: c\n\r\n: note\r\rdata: d\n\r",
        [SSEEvent(data: "a\nb\nc"), SSEEvent(data: "d")]),
    SSEDecoderFixture(
        "multi-line-data",
        "data: YHOO\ndata: +2\ndata: 10\n\ndata: {\"a\":\ndata:\ndata:  1}\n\n",
        [SSEEvent(data: "YHOO\n+2\n10"), SSEEvent(data: "{\"a\":\n\n 1}")]),
    SSEDecoderFixture(
        "data-without-space",
        "data:{\"x\":1}\n\ndata:  two spaces\n\ndata:\n\n",
        [SSEEvent(data: "{\"x\":1}"), SSEEvent(data: " two spaces"), SSEEvent(data: "")]),
    // WHATWG example: "data" with no colon is a data line with an empty value.
    SSEDecoderFixture(
        "field-without-colon",
        "data\n\ndata\ndata\n\nevent\ndata: x\n\nretry\nfoo\ndata: y\n\n",
        [SSEEvent(data: ""), SSEEvent(data: "\n"), SSEEvent(data: "x"), SSEEvent(data: "y")]),
    // WHATWG example, plus the lenient flush of the unterminated last event.
    SSEDecoderFixture(
        "ids-and-comments",
        ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event",
        [
            SSEEvent(data: "first event", id: "1"),
            SSEEvent(data: "second event", id: nil),
            SSEEvent(data: " third event", id: nil),
        ]),
    SSEDecoderFixture(
        "id-persists-and-nul-ignored",
        "id: 42\nevent: a\ndata: one\n\ndata: two\n\nid: bad\u{0}id\ndata: three\n\nretry: 3000\nid: 43\nevent: b\ndata: four\n\n",
        [
            SSEEvent(event: "a", data: "one", id: "42"),
            SSEEvent(data: "two", id: "42"),
            SSEEvent(data: "three", id: "42"),
            SSEEvent(event: "b", data: "four", id: "43"),
        ]),
    SSEDecoderFixture(
        "events-without-data-not-dispatched",
        "event: ping\n\nid: 7\n\n: only a comment\n\nevent: x\nevent: y\ndata: z\n\n",
        [SSEEvent(event: "y", data: "z", id: "7")]),
    SSEDecoderFixture(
        "bom", bom + Array("data: after bom\n\nevent: e\ndata: 2\n\n".utf8),
        [SSEEvent(data: "after bom"), SSEEvent(event: "e", data: "2")]),
    // Only the first BOM is skipped: a second one makes the field name unknown.
    SSEDecoderFixture(
        "double-bom", bom + bom + Array("data: hidden\n\ndata: seen\n\n".utf8),
        [SSEEvent(data: "seen")]),
    SSEDecoderFixture(
        "no-trailing-blank-line-lf", "event: done\ndata: tail\n",
        [SSEEvent(event: "done", data: "tail")]),
    SSEDecoderFixture(
        "no-trailing-newline-crlf", "data: first\r\n\r\ndata: a\r\ndata: b",
        [SSEEvent(data: "first"), SSEEvent(data: "a\nb")]),
    SSEDecoderFixture(
        "utf8-everywhere",
        "event: ünïcödé\ndata: héllo 👋 世界 🇺🇳\nid: ид-1\n\n",
        [SSEEvent(event: "ünïcödé", data: "héllo 👋 世界 🇺🇳", id: "ид-1")]),
    SSEDecoderFixture("empty", "", []),
    SSEDecoderFixture("only-comments-and-blank-lines", ": a\r\n\r\n\n\r:b\n", []),
]

// MARK: - Feeding helpers

private func decodeWhole(_ bytes: [UInt8], maxEventBytes: Int = 16 << 20) throws -> [SSEEvent] {
    var decoder = SSEDecoder(maxEventBytes: maxEventBytes)
    var events = try decoder.feed(bytes)
    events += decoder.finish()
    #expect(decoder.bufferedByteCount == 0)
    return events
}

private func decodeChunks(_ chunks: [ArraySlice<UInt8>], maxEventBytes: Int = 16 << 20) throws -> [SSEEvent] {
    var decoder = SSEDecoder(maxEventBytes: maxEventBytes)
    var events: [SSEEvent] = []
    for chunk in chunks {
        try chunk.withUnsafeBytes { buffer in
            try decoder.feed(buffer) { events.append($0) }
        }
    }
    decoder.finish { events.append($0) }
    return events
}

/// Deterministic PRNG (SplitMix64) so random chunkings are reproducible.
struct StreamDecoderTestRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func streamDecoderRandomChunks(_ bytes: [UInt8], seed: UInt64) -> [ArraySlice<UInt8>] {
    var rng = StreamDecoderTestRNG(state: seed)
    var chunks: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        let len = Int.random(in: 1...7, using: &rng)
        let end = min(bytes.count, start + len)
        chunks.append(bytes[start..<end])
        start = end
    }
    return chunks
}

// MARK: - Tests

@Suite("SSEDecoder")
struct SSEDecoderTests {
    @Test("fixture decodes whole to the expected events", arguments: sseDecoderFixtures)
    func whole(_ fixture: SSEDecoderFixture) throws {
        let events = try decodeWhole(fixture.bytes)
        #expect(events == fixture.expected)
    }

    @Test("fixture split in two at every byte boundary", arguments: sseDecoderFixtures)
    func everySplit(_ fixture: SSEDecoderFixture) throws {
        let whole = try decodeWhole(fixture.bytes)
        #expect(whole == fixture.expected)
        let bytes = fixture.bytes
        for cut in 0...bytes.count {
            let events = try decodeChunks([bytes[0..<cut], bytes[cut...]])
            #expect(events == whole, "split at \(cut)")
            if events != whole { break }
        }
    }

    @Test("fixture fed one byte at a time", arguments: sseDecoderFixtures)
    func byteAtATime(_ fixture: SSEDecoderFixture) throws {
        let bytes = fixture.bytes
        let events = try decodeChunks(bytes.indices.map { bytes[$0..<($0 + 1)] })
        #expect(events == fixture.expected)
        #expect(events == (try decodeWhole(bytes)))
    }

    @Test("fixture fed in random small chunks (incl. empty feeds)", arguments: sseDecoderFixtures)
    func randomChunking(_ fixture: SSEDecoderFixture) throws {
        for seed in UInt64(1)...20 {
            var chunks = streamDecoderRandomChunks(fixture.bytes, seed: seed)
            chunks.insert(fixture.bytes[0..<0], at: chunks.count / 2)
            #expect(try decodeChunks(chunks) == fixture.expected, "seed \(seed)")
        }
    }

    @Test func eventsAreDispatchedAsSoonAsTheBlankLineArrives() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("event: message_start\ndata: {\"a\":1}\n".utf8)).isEmpty)
        #expect(decoder.bufferedByteCount > 0)
        #expect(try decoder.feed(Array("\n".utf8)) == [SSEEvent(event: "message_start", data: "{\"a\":1}")])
        #expect(decoder.bufferedByteCount == 0)
        #expect(decoder.finish().isEmpty)
    }

    @Test func crAtEndOfFeedThenLFIsOneTerminator() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("data: a\r".utf8)).isEmpty)
        // If "\r" + "\n" were two terminators, the LF would be a blank line dispatching "a" alone.
        #expect(try decoder.feed(Array("\ndata: b\r".utf8)).isEmpty)
        #expect(try decoder.feed(Array("\n\r".utf8)) == [SSEEvent(data: "a\nb")])
        // A lone CR followed by a non-LF byte is still a terminator.
        #expect(try decoder.feed(Array("data: c\r".utf8)).isEmpty)
        #expect(try decoder.feed(Array("\r".utf8)) == [SSEEvent(data: "c")])
    }

    @Test func multiByteUTF8SplitAcrossFeedsSurvives() throws {
        let text = "data: 👋é世\n\n"
        let bytes = Array(text.utf8)
        let wave = Array("👋".utf8)
        let start = 6  // first byte of the emoji
        #expect(Array(bytes[start..<(start + 4)]) == wave)
        for cut in (start + 1)..<(start + 4) {
            var decoder = SSEDecoder()
            var events = try decoder.feed(Array(bytes[..<cut]))
            #expect(events.isEmpty)
            events += try decoder.feed(Array(bytes[cut...]))
            #expect(events.count == 1)
            #expect(events.first?.dataString == "👋é世")
            #expect(events.first?.data == Array("👋é世".utf8))
        }
        // Also inside the event name (the one place the decoder builds Strings).
        let named = Array("event: 世界\ndata: x\n\n".utf8)
        for cut in 7..<13 {
            var decoder = SSEDecoder()
            let events = try decoder.feed(Array(named[..<cut])) + decoder.feed(Array(named[cut...]))
            #expect(events == [SSEEvent(event: "世界", data: "x")], "cut \(cut)")
        }
    }

    @Test func bomIsOnlySkippedAtTheVeryStart() throws {
        var decoder = SSEDecoder()
        // Split BOM.
        #expect(try decoder.feed([0xEF]).isEmpty)
        #expect(try decoder.feed([0xBB]).isEmpty)
        #expect(try decoder.feed([0xBF] + Array("data: ok\n\n".utf8)) == [SSEEvent(data: "ok")])
        #expect(decoder.finish().isEmpty)
        // A BOM-like prefix that is not a BOM stays part of the line.
        var other = SSEDecoder()
        #expect(try other.feed([0xEF, 0xBB, 0x41]).isEmpty)
        #expect(other.bufferedByteCount == 3)
        #expect(other.finish().isEmpty)
        // finish() starts a new stream, which may begin with a BOM again.
        #expect(try decoder.feed(bom + Array("data: again\n\n".utf8)) == [SSEEvent(data: "again")])
    }

    @Test func lastEventIDSurvivesFinishButNotReset() throws {
        var decoder = SSEDecoder()
        _ = try decoder.feed(Array("id: evt-9\ndata: x\n\n".utf8))
        _ = decoder.finish()
        #expect(decoder.lastEventID == "evt-9")
        #expect(try decoder.feed(Array("data: y\n\n".utf8)) == [SSEEvent(data: "y", id: "evt-9")])
        decoder.reset()
        #expect(decoder.lastEventID == nil)
        #expect(try decoder.feed(Array("data: z\n\n".utf8)) == [SSEEvent(data: "z")])
    }

    @Test func unterminatedEventIsFlushedByFinishOnlyIfItHasData() throws {
        var decoder = SSEDecoder()
        #expect(try decoder.feed(Array("event: a\nid: 1\n".utf8)).isEmpty)
        #expect(decoder.finish().isEmpty)
        #expect(try decoder.feed(Array("event: a\ndata: partial-line-no-newline".utf8)).isEmpty)
        #expect(decoder.finish() == [SSEEvent(event: "a", data: "partial-line-no-newline", id: "1")])
        #expect(decoder.finish().isEmpty)
    }

    @Test func oversizedLineThrows() throws {
        var decoder = SSEDecoder(maxEventBytes: 16)
        // Exactly at the limit is fine.
        #expect(try decoder.feed(Array("data: 1234567890\n\n".utf8)) == [SSEEvent(data: "1234567890")])
        // A hostile server that never sends a newline.
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) {
            for _ in 0..<100 { _ = try decoder.feed(Array("data: ".utf8)) }
        }
        #expect(decoder.bufferedByteCount == 0)
        // The decoder stays failed until reset.
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) {
            _ = try decoder.feed(Array("data: x\n\n".utf8))
        }
        decoder.reset()
        #expect(try decoder.feed(Array("data: x\n\n".utf8)) == [SSEEvent(data: "x")])
        // A long line inside a single chunk (fast path).
        var fast = SSEDecoder(maxEventBytes: 16)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) {
            _ = try fast.feed(Array("data: 12345678901\n\n".utf8))
        }
    }

    @Test func oversizedEventThrows() throws {
        // Each line is short, but the event's accumulated data is 5+1+5+1+5 = 17 > 16 bytes.
        let stream = Array("data: 12345\ndata: 12345\ndata: 12345\n\n".utf8)
        var decoder = SSEDecoder(maxEventBytes: 16)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) {
            _ = try decoder.feed(stream)
        }
        // Same, fed one byte at a time.
        var slow = SSEDecoder(maxEventBytes: 16)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 16)) {
            for byte in stream { _ = try slow.feed([byte]) }
        }
        // 16 bytes exactly is accepted.
        var ok = SSEDecoder(maxEventBytes: 16)
        #expect(try ok.feed(Array("data: 12345\ndata: 12345\ndata: 123\n\n".utf8))
            == [SSEEvent(data: "12345\n12345\n123")])
        // finish() cannot throw: an unterminated last line that would overflow drops the event.
        var tail = SSEDecoder(maxEventBytes: 16)
        #expect(try tail.feed(Array("data: 12345\ndata: 12345\ndata: 12345".utf8)).isEmpty)
        #expect(tail.finish().isEmpty)
    }

    @Test func callbackErrorsPropagate() throws {
        struct Stop: Error {}
        var decoder = SSEDecoder()
        var seen = 0
        let bytes = Array("data: 1\n\ndata: 2\n\ndata: 3\n\n".utf8)
        #expect(throws: Stop.self) {
            try bytes.withUnsafeBytes { buffer in
                try decoder.feed(buffer) { _ in
                    seen += 1
                    if seen == 2 { throw Stop() }
                }
            }
        }
        #expect(seen == 2)
    }

    @Test func largeEventAcrossManyChunks() throws {
        let payload = String(repeating: "abcdefghij", count: 50_000)  // 500 KB
        let bytes = Array("event: big\ndata: \(payload)\ndata: end\n\n".utf8)
        var decoder = SSEDecoder()
        var events: [SSEEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 1500)
            try bytes[start..<end].withUnsafeBytes { try decoder.feed($0) { events.append($0) } }
            start = end
        }
        #expect(events.count == 1)
        #expect(events.first?.event == "big")
        #expect(events.first?.data.count == payload.utf8.count + 4)
        #expect(events.first?.dataString.hasSuffix("j\nend") == true)
    }
}
