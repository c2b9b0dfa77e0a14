// SPDX-License-Identifier: Apache-2.0
@testable import MuxTransport
import Testing

struct NDJSONDecoderFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]
    let expected: [String]
    var testDescription: String { name }

    init(_ name: String, _ text: String, _ expected: [String]) {
        self.name = name
        self.bytes = Array(text.utf8)
        self.expected = expected
    }
}

private let ollamaLines = [
    #"{"model":"llama3.2","created_at":"2024-11-07T10:00:00.123456Z","message":{"role":"assistant","content":"Hel"},"done":false}"#,
    #"{"model":"llama3.2","created_at":"2024-11-07T10:00:00.234567Z","message":{"role":"assistant","content":"lo, wörld 👋"},"done":false}"#,
    #"{"model":"llama3.2","created_at":"2024-11-07T10:00:00.345678Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
]

let ndjsonDecoderFixtures: [NDJSONDecoderFixture] = [
    NDJSONDecoderFixture(
        "ollama-crlf-blank-lines",
        ollamaLines[0] + "\r\n\r\n" + ollamaLines[1] + "\r\n   \r\n\n\t\n" + ollamaLines[2] + "\r\n",
        ollamaLines),
    NDJSONDecoderFixture("ollama-lf", ollamaLines.map { $0 + "\n" }.joined(), ollamaLines),
    NDJSONDecoderFixture(
        "last-line-without-newline",
        ollamaLines[0] + "\n" + ollamaLines[1] + "\n" + ollamaLines[2],
        ollamaLines),
    NDJSONDecoderFixture(
        "last-line-with-cr-only", "{\"a\":1}\n{\"b\":2}\r", ["{\"a\":1}", "{\"b\":2}"]),
    // Only one trailing CR is stripped; other whitespace is kept as-is ("\r\r\n" is a blank line).
    NDJSONDecoderFixture(
        "inner-whitespace-kept", "  {\"a\": 1}  \r\n\r\r\nx\r\r\n", ["  {\"a\": 1}  ", "x\r"]),
    NDJSONDecoderFixture("empty", "", []),
    NDJSONDecoderFixture("only-blank", "\n\r\n  \n\t\r\n", []),
]

private func decodeWhole(_ bytes: [UInt8]) throws -> [String] {
    var decoder = NDJSONDecoder()
    let lines = try decoder.feed(bytes) + decoder.finish()
    #expect(decoder.bufferedByteCount == 0)
    return lines.map { String(decoding: $0, as: UTF8.self) }
}

private func decodeChunks(_ chunks: [ArraySlice<UInt8>], maxLineBytes: Int = 16 << 20) throws -> [String] {
    var decoder = NDJSONDecoder(maxLineBytes: maxLineBytes)
    var lines: [String] = []
    for chunk in chunks {
        try chunk.withUnsafeBytes { buffer in
            try decoder.feed(buffer) { lines.append(String(decoding: $0, as: UTF8.self)) }
        }
    }
    decoder.finish { lines.append(String(decoding: $0, as: UTF8.self)) }
    return lines
}

@Suite("NDJSONDecoder")
struct NDJSONDecoderTests {
    @Test("fixture decodes whole to the expected lines", arguments: ndjsonDecoderFixtures)
    func whole(_ fixture: NDJSONDecoderFixture) throws {
        #expect(try decodeWhole(fixture.bytes) == fixture.expected)
    }

    @Test("fixture split in two at every byte boundary", arguments: ndjsonDecoderFixtures)
    func everySplit(_ fixture: NDJSONDecoderFixture) throws {
        let whole = try decodeWhole(fixture.bytes)
        #expect(whole == fixture.expected)
        let bytes = fixture.bytes
        for cut in 0...bytes.count {
            let lines = try decodeChunks([bytes[0..<cut], bytes[cut...]])
            #expect(lines == whole, "split at \(cut)")
            if lines != whole { break }
        }
    }

    @Test("fixture fed one byte at a time", arguments: ndjsonDecoderFixtures)
    func byteAtATime(_ fixture: NDJSONDecoderFixture) throws {
        let bytes = fixture.bytes
        let lines = try decodeChunks(bytes.indices.map { bytes[$0..<($0 + 1)] })
        #expect(lines == fixture.expected)
        #expect(lines == (try decodeWhole(bytes)))
    }

    @Test("fixture fed in random small chunks", arguments: ndjsonDecoderFixtures)
    func randomChunking(_ fixture: NDJSONDecoderFixture) throws {
        for seed in UInt64(1)...20 {
            #expect(try decodeChunks(streamDecoderRandomChunks(fixture.bytes, seed: seed)) == fixture.expected, "seed \(seed)")
        }
    }

    @Test func linesAreDeliveredAsSoonAsTheNewlineArrives() throws {
        var decoder = NDJSONDecoder()
        #expect(try decoder.feed(Array("{\"done\":".utf8)).isEmpty)
        #expect(decoder.bufferedByteCount == 8)
        #expect(try decoder.feed(Array("false}\r".utf8)).isEmpty)
        #expect(try decoder.feed(Array("\n{".utf8)) == [Array("{\"done\":false}".utf8)])
        #expect(decoder.finish() == [Array("{".utf8)])
        #expect(decoder.finish().isEmpty)
    }

    @Test func multiByteUTF8SplitAcrossFeedsSurvives() throws {
        let bytes = Array("{\"t\":\"世界👋\"}\n".utf8)
        for cut in 1..<bytes.count {
            var decoder = NDJSONDecoder()
            let lines = try decoder.feed(Array(bytes[..<cut])) + decoder.feed(Array(bytes[cut...]))
            #expect(lines == [Array("{\"t\":\"世界👋\"}".utf8)], "cut \(cut)")
        }
    }

    @Test func oversizedLineThrows() throws {
        var decoder = NDJSONDecoder(maxLineBytes: 8)
        // The limit applies to the raw line without its LF (a CR before the LF counts).
        #expect(try decoder.feed(Array("1234567\r\n12345678\n".utf8))
            == [Array("1234567".utf8), Array("12345678".utf8)])
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 8)) {
            for _ in 0..<10 { _ = try decoder.feed(Array("{\"a\":".utf8)) }
        }
        #expect(decoder.bufferedByteCount == 0)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 8)) {
            _ = try decoder.feed(Array("{}\n".utf8))
        }
        #expect(decoder.finish().isEmpty)
        decoder.reset()
        #expect(try decoder.feed(Array("{}\n".utf8)) == [Array("{}".utf8)])
        // Within a single chunk.
        var fast = NDJSONDecoder(maxLineBytes: 8)
        #expect(throws: StreamDecodeError.eventTooLarge(limit: 8)) {
            _ = try fast.feed(Array("123456789\n".utf8))
        }
    }

    @Test func callbackErrorsPropagate() throws {
        struct Stop: Error {}
        var decoder = NDJSONDecoder()
        var seen = 0
        let bytes = Array("{}\n{}\n{}\n".utf8)
        #expect(throws: Stop.self) {
            try bytes.withUnsafeBytes { buffer in
                try decoder.feed(buffer) { _ in
                    seen += 1
                    throw Stop()
                }
            }
        }
        #expect(seen == 1)
    }
}
