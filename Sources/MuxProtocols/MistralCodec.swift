// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Mistral's chat: OpenAI's protocol, but Mistral names the sampling seed `random_seed`
/// (docs.mistral.ai/api chat completions; mistralai's ChatCompletionRequest has no `seed`), and
/// its API refuses fields it does not declare. A caller's `seed` is sent under Mistral's name;
/// a request without one goes through OpenAI's body writer untouched.
public struct MistralCodec: OpenAIPreset {
    public init() {}

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        var request = request
        if let seed = request.body["seed"] {
            request.body["seed"] = nil
            if request.body["random_seed"] == nil { request.body["random_seed"] = seed }
        }
        return ProviderHTTPCall(method: "POST", url: try url(provider, "/chat/completions", model: model),
                                headers: headers(provider, streaming: stream),
                                body: OpenAIProtocol.chatBody(request, model: model, stream: stream))
    }
}
