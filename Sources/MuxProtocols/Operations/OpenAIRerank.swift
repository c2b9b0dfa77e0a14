// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `rerank` on `{base}/rerank`: the Jina shape that OpenAI-compatible rerank servers (vLLM,
/// Infinity, TEI's compatible route) and llama.cpp's `llama-server` (`/v1/rerank`; its base URL
/// ends in `/v1`) answer: `{"results": [{"index", "relevance_score", "document"?}], "usage"?}`.
/// llama-server builds differ in order and in honouring `top_n`: `RerankResults` normalizes.
/// A bare array of `{index, score}` (llama-server's answer to `texts`) is read too.
public struct OpenAIRerank: OpenAIPassthroughOperation {
    public let preset: any OpenAIPreset
    public let path = "/rerank"
    public init(preset: any OpenAIPreset) { self.preset = preset }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let input = try RerankInput.parse(request.body)
        let json = try CodecSupport.parseBody(body, provider: provider, what: "/rerank response")
        var out = JSONObject()
        if let bare = json.arrayValue {
            out["results"] = .array(try RerankResults.normalize(bare, scoreKey: "score", input: input, provider: provider.name))
        } else if let results = json["results"]?.arrayValue {
            out["results"] = .array(try RerankResults.normalize(results, input: input, provider: provider.name))
        } else {
            throw CodecSupport.protocolError(provider, "/rerank response has no results array")
        }
        if let m = json["model"]?.stringValue { out["model"] = .string(m) }
        if let u = json["usage"]?.objectValue {
            var usage = JSONObject()
            let total = u["total_tokens"]?.intValue ?? u["prompt_tokens"]?.intValue
            if let p = u["prompt_tokens"]?.intValue ?? total { usage["prompt_tokens"] = .int(p) }
            if let total { usage["total_tokens"] = .int(total) }
            if !usage.isEmpty { out["usage"] = .object(usage) }
        }
        return out
    }
}
