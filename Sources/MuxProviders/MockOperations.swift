// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols

/// The mock provider's answers to the operations beyond chat and completions, deterministic
/// from the request so a test or a demo sees which fields arrived: images are a fixed 1x1 PNG,
/// moderation flags nothing, a transcription says how many bytes it got, speech is the input's
/// UTF-8 bytes labelled `audio/mpeg`, rerank scores the share of query words in each document,
/// `tokens.count` counts words (`estimated: false`: it is the mock's own tokenizer).
/// OpenRouter's account operations stay unsupported (nil).
public enum MockOperations {
    /// A 1x1 transparent PNG.
    public static let pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

    public static func answer(_ request: OperationRequest, model: String) throws -> JSONObject? {
        let body = request.body
        switch request.operation {
        case .imagesGenerate:
            let n = max(1, min(10, Int(clamping: body["n"]?.intValue ?? 1)))
            let url = body["response_format"]?.stringValue == "url"
            let item: JSONValue = url ? ["url": "https://mock.invalid/image.png"] : ["b64_json": .string(pngBase64)]
            return JSONObject([("created", 0), ("data", .array(Array(repeating: item, count: n)))])
        case .moderations:
            let count = body["input"]?.arrayValue.map { items in items.allSatisfy { $0.stringValue != nil } ? items.count : 1 } ?? 1
            let result: JSONValue = ["flagged": false, "categories": [:], "category_scores": [:], "category_applied_input_types": [:]]
            return JSONObject([("id", "modr-mock"), ("model", .string(model)), ("results", .array(Array(repeating: result, count: count)))])
        case .audioTranscriptions:
            let file = try AudioFile.parse(body)
            return JSONObject([("text", .string("mock transcript of \(file.filename): \(file.data.count) bytes"))])
        case .audioSpeech:
            let text = body["input"]?.stringValue ?? ""
            return JSONObject([("audio", .string(Base64.encode(Array(text.utf8)))), ("content_type", "audio/mpeg")])
        case .rerank:
            let input = try RerankInput.parse(body)
            let query = Set(input.query.lowercased().split(separator: " "))
            let scored: [JSONValue] = input.texts.enumerated().map { i, text in
                let words = Set(text.lowercased().split(separator: " "))
                let score = query.isEmpty ? 0 : Double(query.intersection(words).count) / Double(query.count)
                return ["index": .int(Int64(clamping: i)), "relevance_score": .double(score)]
            }
            return JSONObject([("results", .array(try RerankResults.normalize(scored, input: input, provider: "mock")))])
        case .tokensCount:
            let text = TokenCountInput.plainText(request)
            return JSONObject([("object", "tokens.count"), ("input_tokens", .int(Int64(clamping: MockReply.wordCount(text)))), ("estimated", false)])
        default:
            return nil
        }
    }
}
