// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// Mistral's chat body: OpenAI's, with the seed under Mistral's name (mistralai's
// ChatCompletionRequest has `random_seed` and no `seed`; Tests/python/test_vendor_sdk_requests.py
// checks the whole body with that type).

private func mistral() throws -> ProviderConfig {
    let json = #"{"name":"mi","type":"mistral","base_url":"http://127.0.0.1:9/s/v1","api_key":"k"}"#
    return try ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
}

private func sent(_ request: String, stream: Bool = false) throws -> JSONObject {
    let call = try MistralCodec().chatCall(try ChatRequest.parse(JSONParser.parse(request)), model: "mistral-small",
                                           stream: stream, provider: try mistral())
    let bytes = try #require(call.body)
    return try #require(try JSONParser.parse(bytes).objectValue)
}

@Suite("Mistral chat body")
struct MistralCodecTests {
    @Test("seed goes as random_seed; a random_seed given as well wins")
    func seed() throws {
        let body = try sent(#"{"model":"mi/mistral-small","seed":7,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(body["seed"] == nil && body["random_seed"] == 7 && body["model"] == "mistral-small")
        let both = try sent(#"{"seed":7,"random_seed":9,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(both["seed"] == nil && both["random_seed"] == 9)
    }

    @Test("without a seed the body is OpenAI's, byte for byte")
    func unchanged() throws {
        let request = try ChatRequest.parse(JSONParser.parse(#"{"temperature":0.2,"messages":[{"role":"user","content":"hi"}]}"#))
        let call = try MistralCodec().chatCall(request, model: "m", stream: false, provider: try mistral())
        #expect(call.body == OpenAIProtocol.chatBody(request, model: "m", stream: false))
        #expect(call.url == "http://127.0.0.1:9/s/v1/chat/completions")
    }

    @Test("a stream asks for no stream_options (Mistral answers 422 to it and sends usage unasked), not even the caller's")
    func noStreamOptions() throws {
        let plain = try sent(#"{"messages":[{"role":"user","content":"hi"}]}"#, stream: true)
        #expect(plain["stream_options"] == nil && plain["stream"] == true)
        let given = try sent(#"{"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#, stream: true)
        #expect(given["stream_options"] == nil && given["stream"] == true)
    }
}
