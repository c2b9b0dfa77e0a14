// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `images.generate` on Gemini: `models/{m}:generateContent` with
/// `generationConfig.responseModalities: ["TEXT", "IMAGE"]` (ai.google.dev/gemini-api/docs/
/// image-generation; python-genai `GenerationConfig.response_modalities`, `image_config`).
///
/// Why generateContent and not Imagen's `:predict`: it is the Gemini protocol this provider
/// type already speaks (same URL shape, key header, error bodies and model list), the image
/// models users pick on Gemini (gemini-2.5-flash-image and later) are served there, and its
/// answer carries `usageMetadata`, so the result's usage is counted and priced like chat;
/// `:predict` answers no usage at all and is a second request shape for one operation; and
/// google-genai 3.x refuses Imagen's `generate_images` outside Vertex AI ("only supported in
/// Gemini Enterprise Agent Platform mode, not in Gemini Developer API mode"), so an `imagen-*`
/// model is refused here with PMX_ERR_UNSUPPORTED before anything is sent.
///
/// Request: the prompt as one user turn; `n` > 1 as `candidateCount`; an OpenAI `size`
/// ("1792x1024") as the nearest of Gemini's aspect ratios (`imageConfig.aspectRatio`).
/// `response_format: "url"` cannot be served (Gemini returns bytes, never a hosted URL): it is
/// refused with PMX_ERR_UNSUPPORTED, so the request fails over to a provider that has URLs.
///
/// Answer: every `inlineData` part of every candidate → `data[].b64_json` (text parts are the
/// model's commentary and are left out); the first image's MIME type as `output_format`;
/// `usageMetadata` as gpt-image's `usage` (`input_tokens` with its text/image split,
/// `output_tokens` with its split where Gemini gives one, `total_tokens`).
/// No image at all is an error: blocked prompts and IMAGE_SAFETY stops are
/// PMX_ERR_CONTENT_FILTERED, anything else a protocol error naming the finish reason.
public struct GeminiImages: OperationCodec {
    public init() {}

    /// Gemini's image aspect ratios (`imageConfig.aspectRatio`), width:height.
    static let aspectRatios: [(String, Double)] = [
        ("1:1", 1), ("2:3", 2.0 / 3), ("3:2", 1.5), ("3:4", 0.75), ("4:3", 4.0 / 3), ("4:5", 0.8),
        ("5:4", 1.25), ("9:16", 9.0 / 16), ("16:9", 16.0 / 9), ("21:9", 21.0 / 9),
    ]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let body = request.body
        if let format = body["response_format"]?.stringValue, format != "b64_json" {
            throw OperationSupport.unsupported(.imagesGenerate, provider: provider,
                                               why: "response_format \"\(format)\": gemini returns image bytes only, ask for \"b64_json\"")
        }
        let resource = try GeminiCodec.resource(model, provider: provider)
        if resource.hasPrefix("models/imagen-") {
            throw OperationSupport.unsupported(.imagesGenerate, provider: provider,
                                               why: "\(resource): Imagen models are served by :predict on Vertex AI only; use a Gemini image model such as gemini-2.5-flash-image")
        }
        var config = JSONObject([("responseModalities", ["TEXT", "IMAGE"])])
        if let n = body["n"]?.intValue, n > 1 { config["candidateCount"] = .int(n) }
        if let size = body["size"]?.stringValue, let ratio = try Self.aspectRatio(size, provider: provider) {
            config["imageConfig"] = ["aspectRatio": .string(ratio)]
        }
        let prompt = body["prompt"]?.stringValue ?? ""
        let out = JSONObject([("contents", [["role": "user", "parts": [["text": .string(prompt)]]]]),
                              ("generationConfig", .object(config))])
        return ProviderHTTPCall(method: "POST", url: provider.baseURL + "/v1beta/" + resource + ":generateContent",
                                headers: GeminiCodec().headers(provider, streaming: false), body: JSONWriter.bytes(.object(out)))
    }

    /// "WxH" → the nearest aspect ratio; "auto" or nothing → nil (the model's choice).
    static func aspectRatio(_ size: String, provider: ProviderConfig) throws -> String? {
        if size == "auto" { return nil }
        let sides = size.split(separator: "x", omittingEmptySubsequences: false)
        guard sides.count == 2, let w = Int(sides[0]), let h = Int(sides[1]), w > 0, h > 0 else {
            throw PMXError(.invalidRequest, "size: expected \"WIDTHxHEIGHT\" or \"auto\", got \"\(ErrorText.shorten(size))\"", provider: provider.name)
        }
        let wanted = Double(w) / Double(h)
        return aspectRatios.min { abs($0.1 - wanted) < abs($1.1 - wanted) }?.0
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "gemini generateContent response")
        if let reason = o["promptFeedback"]?["blockReason"]?.stringValue {
            throw PMXError(.contentFiltered, "gemini blocked the image prompt (\(reason))", httpStatus: 200, provider: provider.name)
        }
        var images: [JSONValue] = []
        var mime: String? = nil
        var reasons: [String] = []
        for candidate in o["candidates"]?.arrayValue ?? [] {
            if let r = candidate["finishReason"]?.stringValue { reasons.append(r) }
            for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                guard let inline = part["inlineData"], !inline.isNull else { continue }
                guard let data = inline["data"]?.stringValue, !data.isEmpty else {
                    throw CodecSupport.protocolError(provider, "gemini generateContent response: an inlineData part has no data")
                }
                if mime == nil { mime = inline["mimeType"]?.stringValue }
                images.append(["b64_json": .string(data)])
            }
        }
        if images.isEmpty {
            let why = reasons.isEmpty ? "no candidates" : "finishReason " + reasons.joined(separator: ", ")
            if reasons.contains(where: { $0.contains("SAFETY") || $0.contains("PROHIBITED") || $0 == "BLOCKLIST" }) {
                throw PMXError(.contentFiltered, "gemini generated no image (\(why))", httpStatus: 200, provider: provider.name)
            }
            throw CodecSupport.protocolError(provider, "gemini generated no image (\(why))")
        }
        var out = JSONObject([("created", .int(unixTimeSeconds())), ("data", .array(images))])
        if let format = mime.flatMap(Self.outputFormat) { out["output_format"] = .string(format) }
        if let u = o["usageMetadata"]?.objectValue {
            let input = u["promptTokenCount"].flatMap(Usage.count) ?? 0
            // Thinking tokens are output too (as for chat): billed with the image.
            let output = (u["candidatesTokenCount"].flatMap(Usage.count) ?? 0) + (u["thoughtsTokenCount"].flatMap(Usage.count) ?? 0)
            // openai's images Usage requires input_tokens_details: the prompt's TEXT/IMAGE split
            // from promptTokensDetails, else all of it text (the prompt is text).
            let inputSplit = Self.modalitySplit(u["promptTokensDetails"]) ?? (text: input, image: 0)
            var usage = JSONObject([("input_tokens", .int(Int64(clamping: input))),
                                    ("input_tokens_details", Self.details(inputSplit)),
                                    ("output_tokens", .int(Int64(clamping: output))),
                                    ("total_tokens", .int(Int64(clamping: input + output)))])
            if let outputSplit = Self.modalitySplit(u["candidatesTokensDetails"]) { usage["output_tokens_details"] = Self.details(outputSplit) }
            out["usage"] = .object(usage)
            OperationBodies.normalizeUsage(&out)
        }
        return out
    }

    /// Gemini's per-modality counts (`[{"modality": "TEXT" | "IMAGE" | …, "tokenCount"}]`) as
    /// text and image tokens; nil when absent or not a list.
    static func modalitySplit(_ value: JSONValue?) -> (text: Int, image: Int)? {
        guard let items = value?.arrayValue else { return nil }
        var text = 0, image = 0
        for item in items {
            let n = item["tokenCount"].flatMap(Usage.count) ?? 0
            switch item["modality"]?.stringValue {
            case "TEXT": text = Usage.count(text + n)
            case "IMAGE": image = Usage.count(image + n)
            default: continue
            }
        }
        return (text, image)
    }

    static func details(_ split: (text: Int, image: Int)) -> JSONValue {
        ["text_tokens": .int(Int64(clamping: split.text)), "image_tokens": .int(Int64(clamping: split.image))]
    }

    /// OpenAI's `output_format` names for a MIME type.
    static func outputFormat(_ mime: String) -> String? {
        switch mime.lowercased() {
        case "image/png": "png"
        case "image/jpeg", "image/jpg": "jpeg"
        case "image/webp": "webp"
        default: nil
        }
    }
}
