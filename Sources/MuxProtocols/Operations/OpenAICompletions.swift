// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `completions.create` on an OpenAI-shaped `/completions` (OpenAI, Azure, OpenAI-compatible
/// servers and the presets whose vendor has it): the caller's body with the provider's model,
/// `max_tokens` (16, OpenAI's default, when absent: servers whose default is "until the end"
/// would otherwise run on), and usage asked for in streams.
public struct OpenAICompletions: OperationCodec {
    /// The server's URLs and key header (Azure's deployment path, a bearer key, ...).
    let preset: any OpenAIPreset
    /// The path of the endpoint under the preset's base ("/completions").
    var path = "/completions"
    var root = Root.preset

    /// Where `path` hangs: the preset's base (`{base}/completions`), or DeepSeek's beta API
    /// (`https://api.deepseek.com/beta/completions`, the only place it serves completions/FIM).
    public enum Root: Sendable { case preset, deepSeekBeta }

    public init(preset: any OpenAIPreset, path: String = "/completions", root: Root = .preset) {
        self.preset = preset
        self.path = path
        self.root = root
    }

    func url(_ provider: ProviderConfig, model: String?) throws -> String {
        switch root {
        case .preset: try preset.url(provider, path, model: model)
        case .deepSeekBeta: serverRoot(provider) + "/beta" + path
        }
    }

    /// Router-side fields no OpenAI-shaped server takes (Ollama's `raw`).
    static let routerOnly: Set<String> = ["raw"]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        var body = JSONObject()
        for m in request.body.members where !Self.routerOnly.contains(m.key) && m.key != "stream" && m.key != "stream_options" {
            body[m.key] = m.value
        }
        body["model"] = model.map { .string($0) }
        if body["max_tokens"] == nil { body["max_tokens"] = 16 }
        if stream {
            body["stream"] = true
            var options = request.body["stream_options"]?.objectValue ?? JSONObject()
            options["include_usage"] = true
            body["stream_options"] = .object(options)
        }
        return ProviderHTTPCall(method: "POST", url: try url(provider, model: model),
                                headers: preset.headers(provider, streaming: stream), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        try Self.decodeCompletion(body, provider: provider.name)
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        TextCompletionStreamDecoder(provider: provider.name)
    }

    /// A `text_completion` answer as the caller gets it: in-band errors raised, `choices`
    /// required, each choice's `index` a valid position, usage numbers bounded.
    package static func decodeCompletion(_ bytes: [UInt8], provider: String) throws -> JSONObject {
        let json = try CodecSupport.parseOpenAIAnswer(bytes, provider: provider, what: "completions response")
        guard var o = json.objectValue, let choices = o["choices"]?.arrayValue, !choices.isEmpty else {
            throw PMXError(.upstreamProtocol, "completions response has no choices", provider: provider)
        }
        guard choices.allSatisfy({ $0["text"]?.stringValue != nil }) else {
            throw PMXError(.upstreamProtocol, "completions response: a choice has no text", provider: provider)
        }
        if o["object"] == nil { o["object"] = "text_completion" }
        o["choices"] = .array(OpenAIProtocol.withPositionIndexes(choices))
        if let u = o["usage"] { o["usage"] = Usage.sanitized(u) }
        return o
    }
}
