// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Mistral's chat: OpenAI's protocol, but Mistral names the sampling seed `random_seed`
/// (docs.mistral.ai/api chat completions; mistralai's ChatCompletionRequest has no `seed`), and
/// its API refuses fields it does not declare. A caller's `seed` is sent under Mistral's name;
/// a request without one goes through OpenAI's body writer untouched. A stream is sent no
/// `stream_options`: Mistral's API answers 422 "Extra inputs are not permitted" to it and puts
/// `usage` on a stream's last chunk unasked (docs.mistral.ai/api chat completions; the
/// mistralai SDK's ChatCompletionStreamRequest has no such field).
public struct MistralCodec: OpenAIPreset {
    public init() {}

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        var request = request.forOpenAIServer(provider)
        if let seed = request.body["seed"] {
            request.body["seed"] = nil
            if request.body["random_seed"] == nil { request.body["random_seed"] = seed }
        }
        return ProviderHTTPCall(method: "POST", url: try url(provider, "/chat/completions", model: model),
                                headers: headers(provider, streaming: stream),
                                body: OpenAIProtocol.chatBody(request, model: model, stream: stream, streamOptions: false))
    }
}
