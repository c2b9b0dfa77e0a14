// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxProtocols
import Testing

@Suite("StreamAccumulator: provider extras and generated ids")
struct StreamAccumulatorExtrasTests {
    @Test("provider-specific tool-call keys (Gemini's thought signature) survive into the streamed response")
    func extraToolCallKeys() throws {
        var acc = StreamAccumulator()
        let signature: JSONValue = ["google": ["thought_signature": "sig-abc"]]
        acc.apply(.delta(content: nil, toolCalls: [[
            "index": 0, "id": "call_1", "type": "function",
            "function": ["name": "get_weather", "arguments": "{\"city\":"], "extra_content": signature,
        ]]))
        acc.apply(.delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": "\"Paris\"}"]]]))
        let call = try #require(acc.response(fallbackModel: "m")["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
        #expect(call["extra_content"] == signature)
        #expect(call["function"]?["arguments"] == "{\"city\":\"Paris\"}")
        #expect(call["index"] == nil)  // OpenAI's delta key, not part of a message's tool call
        #expect(call.objectValue?.keys == ["id", "type", "function", "extra_content"])
    }

    @Test("a provider without response ids gets a unique chatcmpl-pmx-… id per response")
    func generatedIDs() {
        let ids = (0..<50).map { _ in StreamAccumulator().response(fallbackModel: "m")["id"]?.stringValue ?? "" }
        #expect(Set(ids).count == 50)
        #expect(ids.allSatisfy { $0.hasPrefix("chatcmpl-pmx-") && $0.utf8.count == "chatcmpl-pmx-".utf8.count + 16 })
        var acc = StreamAccumulator()
        acc.apply(.meta(id: "resp-from-provider", model: nil))
        #expect(acc.response(fallbackModel: "m")["id"] == "resp-from-provider")
    }
}
