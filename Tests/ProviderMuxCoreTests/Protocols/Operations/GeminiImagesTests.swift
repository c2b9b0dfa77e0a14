// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// images.generate on Gemini (generateContent with IMAGE output) without a network: the call
// built from an OpenAI images request, and the OpenAI images result made of recorded-shape
// answers (inlineData parts, usageMetadata, safety stops).

private let geminiKey = "AIza-images-SECRET-0123"

private func gemini() throws -> ProviderConfig {
    let json = #"{"name":"g","type":"gemini","base_url":"http://127.0.0.1:9/s","api_key":"\#(geminiKey)"}"#
    return try ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { _ in nil })
}

private func imagesRequest(_ json: String) throws -> OperationRequest {
    try OperationRequest.parse(.imagesGenerate, try JSONParser.parse(json))
}

private func decodeImages(_ answer: String) throws -> JSONObject {
    try GeminiImages().decode(Array(answer.utf8), head: HTTPResponseHead(status: 200, headers: []),
                              request: try imagesRequest(#"{"prompt":"x"}"#), model: "gemini-2.5-flash-image", provider: try gemini())
}

@Suite("Gemini images")
struct GeminiImagesTests {
    @Test("the call: generateContent, IMAGE modality, prompt as one user turn, key in its header only")
    func call() throws {
        let r = try imagesRequest(#"{"model":"gemini/gemini-2.5-flash-image","prompt":"a red fox","n":2,"size":"1792x1024","response_format":"b64_json"}"#)
        let call = try GeminiImages().call(r, model: "gemini-2.5-flash-image", stream: false, provider: try gemini())
        #expect(call.method == "POST")
        #expect(call.url == "http://127.0.0.1:9/s/v1beta/models/gemini-2.5-flash-image:generateContent")
        #expect(call.headers.first { $0.0.lowercased() == "x-goog-api-key" }?.1 == geminiKey)
        #expect(!String(decoding: call.body ?? [], as: UTF8.self).contains(geminiKey))
        #expect(try JSONParser.parse(call.body ?? []) == [
            "contents": [["role": "user", "parts": [["text": "a red fox"]]]],
            "generationConfig": ["responseModalities": ["TEXT", "IMAGE"], "candidateCount": 2, "imageConfig": ["aspectRatio": "16:9"]]])
        let plain = try GeminiImages().call(try imagesRequest(#"{"prompt":"p","size":"auto","n":1}"#), model: "m", stream: false, provider: try gemini())
        #expect(try JSONParser.parse(plain.body ?? [])["generationConfig"] == ["responseModalities": ["TEXT", "IMAGE"]])
    }

    @Test("OpenAI sizes → the nearest Gemini aspect ratio; a malformed size is an invalid request")
    func sizes() throws {
        let p = try gemini()
        #expect(try GeminiImages.aspectRatio("1024x1024", provider: p) == "1:1")
        #expect(try GeminiImages.aspectRatio("1024x1792", provider: p) == "9:16")
        #expect(try GeminiImages.aspectRatio("1536x1024", provider: p) == "3:2")
        #expect(try GeminiImages.aspectRatio("auto", provider: p) == nil)
        for bad in ["big", "1024x", "0x10", "-5x5", "99999999999999999999x1"] {
            #expect(throws: PMXError.self, "\(bad)") { try GeminiImages.aspectRatio(bad, provider: p) }
        }
    }

    @Test("response_format url is PMX_ERR_UNSUPPORTED naming the reason (the request fails over)")
    func urlRefused() throws {
        do {
            _ = try GeminiImages().call(try imagesRequest(#"{"prompt":"p","response_format":"url"}"#), model: "m", stream: false, provider: try gemini())
            Issue.record("url accepted")
        } catch let e as PMXError {
            #expect(e.status == .unsupported)
            #expect(e.message.contains("response_format \"url\"") && e.message.contains("b64_json"))
            #expect(e.provider == "g")
        }
    }

    @Test("an Imagen model is PMX_ERR_UNSUPPORTED before sending (Imagen is Vertex-only)")
    func imagenRefused() throws {
        do {
            _ = try GeminiImages().call(try imagesRequest(#"{"prompt":"p"}"#), model: "imagen-4.0-generate-001", stream: false, provider: try gemini())
            Issue.record("imagen accepted")
        } catch let e as PMXError {
            #expect(e.status == .unsupported && e.message.contains("models/imagen-4.0-generate-001") && e.message.contains("Vertex"))
        }
    }

    @Test("the answer: every inlineData → data[].b64_json, text parts left out, PNG → output_format, usage normalized")
    func decode() throws {
        let r = try decodeImages(#"""
        {"candidates":[{"content":{"role":"model","parts":[{"text":"Here is a fox."},{"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},"finishReason":"STOP","index":0},
                       {"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"AAAA"}}]},"finishReason":"STOP","index":1}],
         "usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2580,"thoughtsTokenCount":10,"totalTokenCount":2595},"modelVersion":"gemini-2.5-flash-image"}
        """#)
        #expect(r["data"] == [["b64_json": "iVBORw0KGgo="], ["b64_json": "AAAA"]])
        #expect(r["output_format"] == "png")
        #expect((r["created"]?.intValue ?? 0) > 1_700_000_000)
        #expect(r["usage"] == ["input_tokens": 5, "input_tokens_details": ["text_tokens": 5, "image_tokens": 0],
                               "output_tokens": 2590, "total_tokens": 2595, "prompt_tokens": 5, "completion_tokens": 2590])
        // Gemini's per-modality counts → openai's text/image split.
        let split = try decodeImages(#"""
        {"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/jpeg","data":"AAAA"}}]}}],
         "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":1294,"promptTokensDetails":[{"modality":"TEXT","tokenCount":3},{"modality":"IMAGE","tokenCount":4}],
                          "candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290},{"modality":"TEXT","tokenCount":4}]}}
        """#)
        #expect(split["output_format"] == "jpeg")
        #expect(split["usage"]?["input_tokens_details"] == ["text_tokens": 3, "image_tokens": 4])
        #expect(split["usage"]?["output_tokens_details"] == ["text_tokens": 4, "image_tokens": 1290])
    }

    @Test("no image: blocked prompts and IMAGE_SAFETY are content-filtered, other stops a protocol error")
    func noImage() throws {
        func status(_ answer: String) -> (Status, String)? {
            do { _ = try decodeImages(answer); return nil } catch let e as PMXError { return (e.status, e.message) } catch { return nil }
        }
        #expect(status(#"{"promptFeedback":{"blockReason":"SAFETY"}}"#)?.0 == .contentFiltered)
        let safety = status(#"{"candidates":[{"finishReason":"IMAGE_SAFETY","index":0}]}"#)
        #expect(safety?.0 == .contentFiltered && safety?.1.contains("IMAGE_SAFETY") == true)
        let textOnly = status(#"{"candidates":[{"content":{"parts":[{"text":"I cannot draw."}]},"finishReason":"STOP"}]}"#)
        #expect(textOnly?.0 == .upstreamProtocol && textOnly?.1.contains("finishReason STOP") == true)
        #expect(status(#"{"candidates":[]}"#)?.0 == .upstreamProtocol)
        #expect(status(#"{"candidates":[{"content":{"parts":[{"inlineData":{"mimeType":"image/png"}}]}}]}"#)?.0 == .upstreamProtocol)
        #expect(status("[1]")?.0 == .upstreamProtocol)
    }

    @Test("the gemini protocol hands out its images codec")
    func wired() throws {
        #expect(GeminiCodec().operationCodec(.imagesGenerate, provider: try gemini()) is GeminiImages)
    }
}
