// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// `n` > 1 (issue 16 item 3): several choices from OpenAI-shaped servers (`n`) and Gemini
// (`candidateCount`), decoded whole and split at every byte; refused where a protocol has one.

/// OpenAI's `n: 2` stream: the choices' chunks interleave, each naming its `index`.
private let openAIChunks = [
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":1,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Red"},"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":1,"delta":{"content":"Blue — 👋"},"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":1,"delta":{},"finish_reason":"length"}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#,
    #"{"id":"chatcmpl-N2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":4,"total_tokens":12}}"#,
    "[DONE]",
]

@Suite("Several choices (n > 1)")
struct ChoicesTests {
    @Test("an OpenAI n=2 stream: choice 1's events come as .choice(index: 1); the completion has both choices")
    func openAIStream() throws {
        let p = try protocolProvider("openai", "https://api.openai.com/v1")
        let bytes = Array(openAIChunks.map { "data: \($0)\n\n" }.joined().utf8)
        let out = decodeStreamEverySplit(OpenAICodec(), p, bytes)
        try #require(out.error == nil)
        let events = out.events
        #expect(events == [
            .meta(id: "chatcmpl-N2", model: "gpt-4o-mini"),
            .delta(content: "Red", toolCalls: nil),
            .choice(index: 1, .delta(content: "Blue — 👋", toolCalls: nil)),
            .choice(index: 1, .finish(reason: "length")),
            .finish(reason: "stop"),
            .usage(Usage(promptTokens: 8, completionTokens: 4, totalTokens: 12)),
            .end,
        ])
        let r = CodecSupport.completion(from: events, model: nil)
        #expect(r["choices"] == [
            ["index": 0, "message": ["role": "assistant", "content": "Red"], "finish_reason": "stop"],
            ["index": 1, "message": ["role": "assistant", "content": "Blue — 👋"], "finish_reason": "length"],
        ])
        // A request for one choice is sent as before; n goes to the server as written.
        let body = try JSONParser.parse(try #require(try OpenAICodec().chatCall(parseChat(#"{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}"#),
                                                                             model: "m", stream: false, provider: p).body))
        #expect(body["n"] == 2)
    }

    @Test("Gemini: n becomes candidateCount; every candidate is read, stream and complete")
    func gemini() throws {
        let p = try protocolProvider("gemini", "https://generativelanguage.googleapis.com")
        let call = try GeminiCodec().chatCall(parseChat(#"{"model":"m","n":3,"messages":[{"role":"user","content":"hi"}]}"#), model: "m", stream: true, provider: p)
        #expect(try JSONParser.parse(try #require(call.body))["generationConfig"]?["candidateCount"] == 3)
        let chunks = [
            #"{"candidates": [{"content": {"parts": [{"text": "Red"}],"role": "model"},"index": 0},{"content": {"parts": [{"text": "Blue"}],"role": "model"},"index": 1}],"modelVersion": "gemini-2.5-flash","responseId": "g2"}"#,
            #"{"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "STOP","index": 0},{"content": {"parts": [{"text": " sky"}],"role": "model"},"finishReason": "MAX_TOKENS","index": 1}],"usageMetadata": {"promptTokenCount": 2,"candidatesTokenCount": 3,"totalTokenCount": 5},"modelVersion": "gemini-2.5-flash","responseId": "g2"}"#,
        ]
        let out = decodeStreamEverySplit(GeminiCodec(), p, Array(chunks.map { "data: \($0)\r\n\r\n" }.joined().utf8))
        try #require(out.error == nil)
        let events = out.events
        #expect(events == [
            .meta(id: "g2", model: "gemini-2.5-flash"),
            .delta(content: "Red", toolCalls: nil), .choice(index: 1, .delta(content: "Blue", toolCalls: nil)),
            .finish(reason: "stop"),
            .choice(index: 1, .delta(content: " sky", toolCalls: nil)), .choice(index: 1, .finish(reason: "length")),
            .usage(Usage(promptTokens: 2, completionTokens: 3, totalTokens: 5)),
            .end,
        ])
        let whole = try GeminiCodec().decodeChat(Array(chunks[1].replacingOccurrences(of: #""text": """#, with: #""text": "Red""#).utf8), model: nil, provider: p)
        #expect(whole["choices"]?.arrayValue?.map { $0["message"]?["content"] } == ["Red", " sky"])
    }

    @Test("Anthropic, Ollama, Cohere and Replicate answer with one choice: n > 1 is PMX_ERR_UNSUPPORTED (the request fails over)")
    func refused() throws {
        let request = try parseChat(#"{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}"#)
        let codecs: [(any WireCodec, ProviderConfig)] = [
            (AnthropicCodec(), try protocolProvider("anthropic", "https://api.anthropic.com")),
            (OllamaCodec(), try protocolProvider("ollama", "http://127.0.0.1:11434")),
            (CohereCodec(), try protocolProvider("cohere", "https://api.cohere.com")),
            (ReplicateCodec(), try protocolProvider("replicate", "https://api.replicate.com")),
        ]
        for (codec, p) in codecs {
            do {
                _ = try codec.chatCall(request, model: "meta/meta-llama-3-8b-instruct", stream: false, provider: p)
                Issue.record("\(p.type.rawValue) took n = 2")
            } catch let e as PMXError {
                #expect(e.status == .unsupported && e.message.hasPrefix("n: "))
            }
            _ = try codec.chatCall(try parseChat(#"{"model":"m","n":1,"messages":[{"role":"user","content":"hi"}]}"#), model: "meta/meta-llama-3-8b-instruct",
                                   stream: false, provider: p)
        }
    }

    @Test("n is 1...128")
    func bounds() throws {
        #expect(try parseChat(#"{"n":128,"messages":[{"role":"user","content":"a"}]}"#).asksSeveralChoices)
        #expect(try !parseChat(#"{"n":1,"messages":[{"role":"user","content":"a"}]}"#).asksSeveralChoices)
        do {
            _ = try parseChat(#"{"n":129,"messages":[{"role":"user","content":"a"}]}"#)
            Issue.record("n = 129 was accepted")
        } catch let e as PMXError {
            #expect(e.message == "n: must be between 1 and 128, got 129")
        }
    }
}
