// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// An OpenAI-shaped `/completions` stream: SSE `data:` chunks in the final shape
/// (`text_completion`, `choices[].text`, `finish_reason`, `usage` on the last one with
/// `stream_options.include_usage`), then `data: [DONE]`. Any byte split.
package final class TextCompletionStreamDecoder: ChatStreamDecoding {
    private var sse = SSEDecoder()
    private let provider: String
    private var metaSent = false

    package init(provider: String) { self.provider = provider }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try sse.feed(bytes) { event in try decode(event, emit) }
    }

    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try sse.finish { event in try decode(event, emit) }
    }

    private func decode(_ event: SSEEvent, _ emit: (ProviderEvent) -> Void) throws {
        if event.data == Array("[DONE]".utf8) { emit(.end); return }
        let json = try CodecSupport.parseBody(event.data, provider: provider, what: "completions stream event")
        guard json.objectValue != nil else {
            throw PMXError(.upstreamProtocol, "completions stream event: expected a JSON object, got \(json.typeName)", provider: provider)
        }
        if let err = json["error"], err != .null {
            let code = ProviderErrorBody.httpCode(err)
            emit(.error(PMXError(code.map(HTTPErrorMapping.status(forHTTP:)) ?? .upstreamServer,
                                 "error event in stream: \(ProviderErrorBody.message(err))", httpStatus: code ?? 0, provider: provider)))
            return
        }
        if !metaSent, json["id"] != nil || json["model"] != nil {
            metaSent = true
            emit(.meta(id: json["id"]?.stringValue, model: json["model"]?.stringValue))
        }
        // One choice per stream (the router refuses several prompts when streaming).
        if let choice = json["choices"]?.arrayValue?.first {
            if let text = choice["text"]?.stringValue, !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
            if let reason = choice["finish_reason"]?.stringValue { emit(.finish(reason: reason)) }
        }
        if let u = json["usage"], u.objectValue != nil, let usage = Usage(openAI: u) { emit(.usage(usage)) }
    }
}
