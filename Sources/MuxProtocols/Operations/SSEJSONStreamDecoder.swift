// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// What every JSON-per-SSE-event stream of an operation shares, at any byte split: `data:
/// [DONE]` ends it, each other event is one JSON object (anything else breaks the protocol), an
/// `error` member is the provider's in-stream error (HTTP 200). Subclasses read the rest of
/// each event in `handle` (OpenAI `text_completion` chunks, llama.cpp `/infill` pieces).
package class SSEJSONStreamDecoder: ChatStreamDecoding {
    private var sse = SSEDecoder()
    let provider: String
    /// Named in protocol errors ("completions stream event").
    private let what: String

    init(provider: String, what: String) {
        self.provider = provider
        self.what = what
    }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try sse.feed(bytes) { event in try decode(event, emit) }
    }

    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try sse.finish { event in try decode(event, emit) }
    }

    /// One event's object, its in-band error already handled.
    func handle(_ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {}

    private func decode(_ event: SSEEvent, _ emit: (ProviderEvent) -> Void) throws {
        if event.data == Array("[DONE]".utf8) { emit(.end); return }
        let json = try CodecSupport.parseBody(event.data, provider: provider, what: what)
        guard json.objectValue != nil else {
            throw PMXError(.upstreamProtocol, "\(what): expected a JSON object, got \(json.typeName)", provider: provider)
        }
        if let err = json["error"], err != .null {
            let code = ProviderErrorBody.httpCode(err)
            emit(.error(PMXError(code.map(HTTPErrorMapping.status(forHTTP:)) ?? .upstreamServer,
                                 "error event in stream: \(ProviderErrorBody.message(err))", httpStatus: code ?? 0, provider: provider)))
            return
        }
        try handle(json, emit)
    }
}
