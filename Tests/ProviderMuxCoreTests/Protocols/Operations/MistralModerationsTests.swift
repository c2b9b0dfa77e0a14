// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// moderations.create on Mistral without a network: the call built from an OpenAI moderation
// request, and Mistral's answer (its own categories, no `flagged`) in OpenAI's shape.

private func mistral() throws -> ProviderConfig {
    let json = #"{"name":"mi","type":"mistral","base_url":"http://127.0.0.1:9/s/v1","api_key":"mistral-SECRET-key"}"#
    return try ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
}

private func moderation(_ json: String) throws -> OperationRequest {
    try OperationRequest.parse(.moderations, try JSONParser.parse(json))
}

/// A Mistral answer shaped as its API reference shows it.
private let answer = #"""
{"id":"4d71ae510af942108ef7344f903e2b88","model":"mistral-moderation-latest","results":[
 {"categories":{"sexual":false,"hate_and_discrimination":false,"violence_and_threats":false,"dangerous_and_criminal_content":false,"selfharm":false,"health":false,"financial":false,"law":false,"pii":false},
  "category_scores":{"sexual":0.0001,"hate_and_discrimination":0.0002,"violence_and_threats":0.0003,"dangerous_and_criminal_content":0.0004,"selfharm":0.0001,"health":0.0001,"financial":0.0001,"law":0.0001,"pii":0.0005}},
 {"categories":{"sexual":false,"hate_and_discrimination":false,"violence_and_threats":true,"dangerous_and_criminal_content":false,"selfharm":false,"health":false,"financial":false,"law":false,"pii":true},
  "category_scores":{"sexual":0.0001,"hate_and_discrimination":0.01,"violence_and_threats":0.93,"dangerous_and_criminal_content":0.2,"selfharm":0.0001,"health":0.0001,"financial":0.0001,"law":0.0001,"pii":0.88}}],
 "usage":{"prompt_tokens":9,"total_tokens":9,"completion_tokens":0}}
"""#

private func decode(_ body: String) throws -> JSONObject {
    try MistralModerations(preset: OpenAICodec()).decode(Array(body.utf8), head: HTTPResponseHead(status: 200, headers: []),
                                                         request: try moderation(#"{"input":"x"}"#), model: "mistral-moderation-latest", provider: try mistral())
}

@Suite("Mistral moderations")
struct MistralModerationsTests {
    @Test("the call: POST {base}/moderations with model and input only; parts joined; a default model")
    func call() throws {
        let codec = MistralModerations(preset: OpenAICodec())
        let c = try codec.call(try moderation(#"{"model":"mi/mistral-moderation-2411","input":["a","b"],"user":"u1"}"#),
                               model: "mistral-moderation-2411", stream: false, provider: try mistral())
        #expect(c.method == "POST" && c.url == "http://127.0.0.1:9/s/v1/moderations")
        #expect(c.headers.first { $0.0 == "Authorization" }?.1 == "Bearer mistral-SECRET-key")
        #expect(try JSONParser.parse(c.body ?? []) == ["model": "mistral-moderation-2411", "input": ["a", "b"]])
        let parts = try codec.call(try moderation(#"{"input":[{"type":"text","text":"one"},{"type":"text","text":"two"}]}"#),
                                   model: nil, stream: false, provider: try mistral())
        #expect(try JSONParser.parse(parts.body ?? []) == ["model": "mistral-moderation-latest", "input": "one\ntwo"])
    }

    @Test("an image part is PMX_ERR_UNSUPPORTED (the request fails over), naming the part")
    func imageRefused() throws {
        do {
            _ = try MistralModerations(preset: OpenAICodec()).call(
                try moderation(#"{"input":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}"#),
                model: nil, stream: false, provider: try mistral())
            Issue.record("image part accepted")
        } catch let e as PMXError {
            #expect(e.status == .unsupported && e.message.contains("input[1]") && e.message.contains("text only"))
        }
    }

    @Test("the answer: Mistral's categories kept, OpenAI's mapped or false, flagged = any category, text applied")
    func decodeResults() throws {
        let o = try decode(answer)
        #expect(o["id"] == "4d71ae510af942108ef7344f903e2b88" && o["model"] == "mistral-moderation-latest")
        #expect(o["usage"] == ["prompt_tokens": 9, "total_tokens": 9, "completion_tokens": 0])
        let results = try #require(o["results"]?.arrayValue)
        #expect(results.count == 2)
        let calm = results[0], hot = results[1]
        #expect(calm["flagged"] == false && hot["flagged"] == true)
        #expect(hot["categories"]?["violence_and_threats"] == true && hot["categories"]?["violence"] == true)
        #expect(hot["categories"]?["pii"] == true && hot["categories"]?["harassment"] == false)
        #expect(hot["categories"]?["illicit"] == false && hot["category_scores"]?["illicit"] == 0.2)
        #expect(hot["category_scores"]?["violence"] == 0.93 && hot["category_scores"]?["sexual/minors"] == 0.0)
        for name in MistralModerations.openAICategories {
            #expect(calm["categories"]?[name]?.boolValue != nil, "\(name)")
            #expect(calm["category_applied_input_types"]?[name] == ["text"], "\(name)")
        }
        // Only a Mistral-only category flagged still flags the result, as OpenAI defines flagged.
        let pii = answer.replacing(#""violence_and_threats":true"#, with: #""violence_and_threats":false"#)
        #expect(try decode(pii)["results"]?.arrayValue?[1]["flagged"] == true)
    }

    @Test("broken answers are protocol errors naming the place")
    func broken() throws {
        func message(_ body: String) -> String? {
            do { _ = try decode(body); return nil } catch let e as PMXError { return e.status == .upstreamProtocol ? e.message : nil } catch { return nil }
        }
        #expect(message(#"{"id":"x"}"#)?.contains("no results array") == true)
        #expect(message(#"{"results":[{"categories":{}}]}"#)?.contains("results[0]") == true)
        #expect(message(#"{"results":[{"categories":{"pii":"yes"},"category_scores":{}}]}"#)?.contains("categories.pii") == true)
        #expect(message(#"{"results":[{"categories":{},"category_scores":{"pii":"high"}}]}"#)?.contains("category_scores.pii") == true)
    }

    @Test("mistral hands out its moderation codec; other presets without moderation none")
    func wired() throws {
        #expect(OpenAICodec().operationCodec(.moderations, provider: try mistral()) is MistralModerations)
        let groq = try ProviderConfig.parse(JSONParser.parse(#"{"name":"g","type":"groq","api_key":"k"}"#), path: "p", lookup: { _ in nil })
        #expect(OpenAICodec().operationCodec(.moderations, provider: groq) == nil)
    }
}
