// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxProtocols
import Testing

/// An OpenAI-shaped upstream's `index` fields reach the host non-negative (found by the hostile
/// harness: -1 passed through to choices, tool calls and embeddings).
@Suite struct OpenAIIndexTests {
    @Test func negativeChoiceAndToolCallIndexesBecomePositions() throws {
        let body = #"{"choices":[{"index":-1,"message":{"role":"assistant","content":"a","tool_calls":[{"index":-5,"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"},{"index":"x","message":{"role":"assistant","content":"b"}}]}"#
        let o = try OpenAIProtocol.decodeChat(Array(body.utf8), provider: "p")
        let choices = try #require(o["choices"]?.arrayValue)
        #expect(choices[0]["index"]?.intValue == 0)
        #expect(choices[1]["index"]?.intValue == 1)
        #expect(choices[0]["message"]?["tool_calls"]?.arrayValue?.first?["index"]?.intValue == 0)
        #expect(choices[0]["message"]?["content"]?.stringValue == "a")
    }

    @Test func validIndexesAreKept() throws {
        let body = #"{"choices":[{"index":3,"message":{"role":"assistant","content":"a"}}]}"#
        let o = try OpenAIProtocol.decodeChat(Array(body.utf8), provider: "p")
        #expect(o["choices"]?.arrayValue?.first?["index"]?.intValue == 3)
    }

    @Test func negativeEmbeddingIndexBecomesPosition() throws {
        let body = #"{"object":"list","data":[{"object":"embedding","index":-1,"embedding":[0.5]},{"object":"embedding","index":7,"embedding":[0.5]}]}"#
        let o = try OpenAIProtocol.decodeEmbeddings(Array(body.utf8), provider: "p")
        let data = o["data"]?.arrayValue ?? []
        #expect(data.count == 2)
        #expect(data.first?["index"]?.intValue == 0)
        #expect(data.last?["index"]?.intValue == 7)
    }

    @Test func negativeStreamToolCallIndexBecomesPosition() throws {
        var decoder = OpenAIStreamDecoder(provider: "p")
        let chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":-1,\"id\":\"t\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
        var events: [ProviderEvent] = []
        try Array(chunk.utf8).withUnsafeBytes { raw in try decoder.feed(raw) { events.append($0) } }
        let calls = events.compactMap { e -> [JSONValue]? in
            if case .delta(_, let calls) = e { return calls }
            return nil
        }.first
        #expect(calls?.first?["index"]?.intValue == 0)
        #expect(calls?.first?["id"]?.stringValue == "t")
    }
}
