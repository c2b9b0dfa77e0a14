// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `completions.create` on Mistral: `POST {base}/fim/completions` (Codestral's fill-in-the-
/// middle; `suffix` optional), which answers in CHAT shape (`message.content`, stream
/// `delta.content`): turned into `text_completion` here. OpenAI's `seed` is Mistral's
/// `random_seed`; fields FIM does not take (echo, logprobs, penalties, ...) are left out.
public struct MistralFIM: OperationCodec {
    let preset: any OpenAIPreset

    public init(preset: any OpenAIPreset) { self.preset = preset }

    /// Copied as they are when present.
    static let fields = ["prompt", "suffix", "max_tokens", "min_tokens", "temperature", "top_p", "stop", "random_seed"]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        _ = try TextCompletion.singlePrompt(request, provider: provider)
        var body = JSONObject()
        body["model"] = model.map { .string($0) }
        for key in Self.fields { if let v = request.body[key] { body[key] = key == "prompt" ? .string(try TextCompletion.singlePrompt(request, provider: provider)) : v } }
        if body["random_seed"] == nil, let seed = request.body["seed"] { body["random_seed"] = seed }
        body["stream"] = .bool(stream)
        return ProviderHTTPCall(method: "POST", url: try preset.url(provider, "/fim/completions", model: model),
                                headers: preset.headers(provider, streaming: stream), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        TextCompletion.fromChat(try OpenAIProtocol.decodeChat(body, provider: provider.name))
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        OpenAIStreamDecoder.Adapter(provider: provider.name)
    }
}
