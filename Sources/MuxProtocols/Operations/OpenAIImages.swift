// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `images.generate` on OpenAI's `/images/generations` (openai, openai-compatible, Azure through
/// its preset's URL). The caller's parameters go as they are; without a model OpenAI means
/// `dall-e-2`, which is named explicitly so an OpenAI-compatible server does not pick another.
/// The answer is OpenAI's `{"created", "data": [{"b64_json" | "url", "revised_prompt"?}],
/// "usage"?}` (gpt-image models report token usage).
public struct OpenAIImages: OperationCodec {
    let preset: any OpenAIPreset
    public init(preset: any OpenAIPreset) { self.preset = preset }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        try OperationBodies.post(preset, "/images/generations", OperationBodies.passthrough(request, model: model ?? "dall-e-2"),
                                 model: model, provider: provider)
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        var o = try OperationBodies.object(body, provider: provider, what: "/images/generations response")
        guard let data = o["data"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "/images/generations response has no data array")
        }
        for (i, item) in data.enumerated() where item["b64_json"]?.stringValue == nil && item["url"]?.stringValue == nil {
            throw CodecSupport.protocolError(provider, "/images/generations response: data[\(i)] has neither b64_json nor url")
        }
        OperationBodies.normalizeUsage(&o)
        return o
    }
}
