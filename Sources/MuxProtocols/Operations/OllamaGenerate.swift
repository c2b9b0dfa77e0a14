// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `completions.create` on Ollama: `POST /api/generate {model, prompt, suffix, raw, stream,
/// options}` (text in `response`; NDJSON stream ending with a `done: true` line that carries
/// `done_reason` and the counts; `stream` defaults to true there, so it is always sent).
/// `suffix` is FIM (a model without insert support answers 400); `raw: true` skips the
/// model's prompt template.
public struct OllamaGenerate: OperationCodec {
    public init() {}

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try OllamaCodec.requireModel(model, provider: provider)
        var body = JSONObject()
        body["model"] = .string(model)
        body["prompt"] = .string(try TextCompletion.singlePrompt(request, provider: provider))
        SamplingFields.copy(["suffix", "raw", "images", "system", "template", "keep_alive", "format", "think"], from: request.body, into: &body)
        body["stream"] = .bool(stream)
        var options = request.body["options"]?.objectValue ?? JSONObject()
        SamplingFields.copy(["temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "top_k", "num_ctx"], from: request.body, into: &options)
        if let stop = try SamplingFields.stopSequences(request.body, provider: provider.name) { options["stop"] = .array(stop) }
        // OpenAI's default of 16 when absent: Ollama's own default runs until the model stops.
        options["num_predict"] = request.body["max_tokens"] ?? 16
        body["options"] = .object(options)
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/generate"),
                                headers: OllamaCodec.headers(provider, accept: stream ? AuthHeaders.ndjson : AuthHeaders.json),
                                body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama /api/generate response")
        var decoder = OllamaGenerateDecoding(provider: provider.name, inStream: false)
        var events: [ProviderEvent] = []
        try decoder.decode(json) { events.append($0) }
        for case .error(let e) in events { throw e }
        guard decoder.done else { throw CodecSupport.protocolError(provider, "ollama: a non-streamed /api/generate answer without \"done\": true") }
        return TextCompletion.fromChat(CodecSupport.completion(from: events, model: model ?? provider.defaultModel))
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        OllamaGenerateStreamDecoder(provider: provider.name)
    }
}

/// One `/api/generate` answer object (a streamed line, or the whole non-streamed body) → events.
package struct OllamaGenerateDecoding {
    let provider: String
    let inStream: Bool
    private(set) var done = false
    private var failed = false
    private var sawMeta = false

    init(provider: String, inStream: Bool) {
        self.provider = provider
        self.inStream = inStream
    }

    private func fail(_ what: String) -> PMXError { PMXError(.upstreamProtocol, "ollama: \(what)", provider: provider) }

    mutating func decode(_ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
        if failed { return }
        guard let o = json.objectValue else { throw fail("expected a JSON object per line, got \(json.typeName)") }
        if done { throw fail("a line after the final \"done\": true line") }
        if let err = o["error"], !err.isNull {
            failed = true
            emit(.error(OllamaCodec.inBandError(ProviderErrorBody.message(err), provider: provider, inStream: inStream)))
            return
        }
        guard let isDone = o["done"]?.boolValue else { throw fail("a line without a boolean \"done\"") }
        if !sawMeta {
            sawMeta = true
            emit(.meta(id: nil, model: o["model"]?.stringValue))
        }
        if let r = o["response"], !r.isNull {
            guard let text = r.stringValue else { throw fail("\"response\": expected a string, got \(r.typeName)") }
            if !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
        }
        guard isDone else { return }
        done = true
        emit(.finish(reason: o["done_reason"]?.stringValue == "length" ? "length" : "stop"))
        let prompt = try TokenCounts.count(o["prompt_eval_count"], orThrow: fail("\"prompt_eval_count\": expected a non-negative integer"))
        let output = try TokenCounts.count(o["eval_count"], orThrow: fail("\"eval_count\": expected a non-negative integer"))
        if prompt != nil || output != nil { emit(.usage(Usage(promptTokens: prompt ?? 0, completionTokens: output ?? 0))) }
        emit(.end)
    }
}

/// An `/api/generate` NDJSON stream, at any byte split; `.end` comes from the `done: true` line.
package final class OllamaGenerateStreamDecoder: ChatStreamDecoding {
    private var lines = NDJSONDecoder()
    private var decoding: OllamaGenerateDecoding

    init(provider: String) { decoding = OllamaGenerateDecoding(provider: provider, inStream: true) }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        do {
            try lines.feed(bytes) { line in try self.line(line, emit) }
        } catch StreamDecodeError.eventTooLarge(let limit) {
            throw PMXError(.responseTooLarge, "ollama: a stream line longer than \(limit) bytes", provider: decoding.provider)
        }
    }

    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try lines.finish { line in try self.line(line, emit) }
    }

    private func line(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        let json = try CodecSupport.parseBody(Array(bytes), provider: decoding.provider, what: "ollama /api/generate stream line")
        try decoding.decode(json, emit)
    }
}
