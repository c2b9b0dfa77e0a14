// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `completions.create` on llama.cpp's server: `/v1/completions` (OpenAI-shaped) for a plain
/// prompt, its native `/infill` when the request has a `suffix` (fill-in-the-middle with the
/// model's FIM tokens, which `/v1/completions` would not use).
public struct LlamaCppCompletions: OperationCodec {
    let plain: OpenAICompletions
    let preset: any OpenAIPreset

    public init(preset: any OpenAIPreset) {
        self.preset = preset
        plain = OpenAICompletions(preset: preset)
    }

    private func isInfill(_ request: OperationRequest) -> Bool { request.body["suffix"]?.stringValue != nil }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        guard isInfill(request) else { return try plain.call(request, model: model, stream: stream, provider: provider) }
        return ProviderHTTPCall(method: "POST", url: serverRoot(provider) + "/infill", headers: preset.headers(provider, streaming: stream),
                                body: JSONWriter.bytes(.object(try LlamaCppInfill.body(request, model: model, stream: stream, provider: provider))))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        guard isInfill(request) else { return try plain.decode(body, head: head, request: request, model: model, provider: provider) }
        return try LlamaCppInfill.decode(body, model: model, provider: provider.name)
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        isInfill(request) ? LlamaCppInfill.StreamDecoder(provider: provider.name) : plain.streamDecoder(request, model: model, provider: provider)
    }
}

/// llama.cpp's native `/infill`: `{input_prefix, input_suffix, input_extra, n_predict, ...}`
/// (the `/completion` options) → `{content, stop, stop_type, tokens_predicted,
/// tokens_evaluated, model, ...}`; streamed as SSE `data: {content, stop}` until `stop: true`.
package enum LlamaCppInfill {
    /// OpenAI's names → llama.cpp's; the rest of its `/completion` options pass as written.
    static let renamed = ["max_tokens": "n_predict"]
    /// Not sent: what the request's own fields become, and OpenAI-only fields.
    static let dropped: Set<String> = ["model", "prompt", "suffix", "stream", "stream_options", "raw", "echo", "best_of", "logprobs", "n", "user"]

    static func body(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> JSONObject {
        var body = JSONObject()
        body["input_prefix"] = .string(try TextCompletion.singlePrompt(request, provider: provider))
        body["input_suffix"] = request.body["suffix"] ?? ""
        for m in request.body.members where !dropped.contains(m.key) { body[renamed[m.key] ?? m.key] = m.value }
        if body["n_predict"] == nil { body["n_predict"] = 16 }  // OpenAI's default, not "until the end"
        if let model { body["model"] = .string(model) }
        body["stream"] = .bool(stream)
        return body
    }

    /// `stop_type` (current servers) or the older `stopped_limit` flag: "length" when the
    /// token cap ended it, else "stop".
    static func finishReason(_ o: JSONValue) -> String {
        if o["stop_type"]?.stringValue == "limit" || o["stopped_limit"]?.boolValue == true { return "length" }
        return "stop"
    }

    static func usage(_ o: JSONValue) -> Usage? {
        guard let prompt = o["tokens_evaluated"], let output = o["tokens_predicted"] else { return nil }
        return Usage(openAI: ["prompt_tokens": prompt, "completion_tokens": output])
    }

    static func decode(_ bytes: [UInt8], model: String?, provider: String) throws -> JSONObject {
        let json = try CodecSupport.parseBody(bytes, provider: provider, what: "/infill response")
        guard json.objectValue != nil, let content = json["content"]?.stringValue else {
            throw PMXError(.upstreamProtocol, "/infill response has no content string", provider: provider)
        }
        return TextCompletion.object(id: nil, model: json["model"]?.stringValue ?? model ?? "", text: content,
                                     finishReason: finishReason(json), usage: usage(json))
    }

    /// SSE `data: {content, stop: false}` per piece, then one with `stop: true` (finish and
    /// counts): the stream's end marker.
    package final class StreamDecoder: SSEJSONStreamDecoder {
        private var metaSent = false
        private var ended = false

        package init(provider: String) { super.init(provider: provider, what: "/infill stream event") }

        override func handle(_ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
            if ended { return }
            if !metaSent {
                metaSent = true
                emit(.meta(id: nil, model: json["model"]?.stringValue))
            }
            if let text = json["content"]?.stringValue, !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
            guard json["stop"]?.boolValue == true else { return }
            ended = true
            emit(.finish(reason: finishReason(json)))
            if let u = usage(json) { emit(.usage(u)) }
            emit(.end)
        }
    }
}
