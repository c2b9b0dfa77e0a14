// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import Hummingbird
import MuxBase
import MuxProtocols
import MuxProviders
import MuxRouting

/// The operations beyond chat and embeddings (pmx_router_call's), at OpenAI's paths and in
/// OpenAI's request and answer shapes.
extension Gateway {
    // MARK: /v1/completions (completions.create), JSON or SSE

    func completions(_ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        let call = try OperationRequest.parse(.completions, doc)
        guard doc["stream"]?.boolValue == true else { return Responses.json(.object(try await calls.run(.call(call, stream: false)).get())) }
        try call.checkStreamable()
        let encoder = CompletionChunkEncoder(id: Responses.newID("cmpl-"), created: Int64(time(nil)), model: call.model ?? "",
                                             includeUsage: doc["stream_options"]?["include_usage"]?.boolValue ?? false)
        return try await sse(.call(call, stream: true), encode: encoder.frames(for:))
    }

    // MARK: /v1/responses (responses.create), JSON or SSE with `event:` lines

    func responses(_ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        let call = try OperationRequest.parse(.responses, doc)
        guard doc["stream"]?.boolValue == true else { return Responses.json(.object(try await calls.run(.call(call, stream: false)).get())) }
        try call.checkStreamable()
        return try await sse(.call(call, stream: true), encode: ResponsesEventEncoder().frames(for:))
    }

    // MARK: /v1/images/generations, /v1/moderations, /v1/rerank: JSON in, JSON out

    func jsonCall(_ operation: OperationName, _ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        try Self.refuseStream(doc, operation)
        return Responses.json(.object(try await calls.run(.call(try OperationRequest.parse(operation, doc), stream: false)).get()))
    }

    /// `stream: true` where the gateway streams nothing (image partials, transcription deltas):
    /// a 400 naming the field, not a JSON answer the client would not expect.
    static func refuseStream(_ doc: JSONValue, _ operation: OperationName) throws {
        guard doc["stream"]?.boolValue == true else { return }
        throw OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "unsupported", param: "stream",
                          message: "stream: this gateway answers \(operation.rawValue) in one response; send it without stream")
    }

    // MARK: /v1/audio/transcriptions: multipart/form-data in

    func transcriptions(_ request: Request) async throws -> Response {
        let body = try await Responses.readBody(request, limit: maxRequestBytes).get()
        let doc = try TranscriptionRequest.json(try MultipartForm.parse(body, contentType: request.headers[.contentType]))
        try Self.refuseStream(doc, .audioTranscriptions)
        let format = try TranscriptionRequest.format(doc)
        let result = try await calls.run(.call(try OperationRequest.parse(.audioTranscriptions, doc), stream: false)).get()
        guard format.isText else { return Responses.json(.object(result)) }
        // text / srt / vtt: the text itself, as OpenAI answers them.
        return Responses.text(result["text"]?.stringValue ?? "", contentType: "text/plain; charset=utf-8", kind: .response)
    }

    // MARK: /v1/audio/speech: JSON in, the audio's bytes out

    func speech(_ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        let result = try await calls.run(.call(try OperationRequest.parse(.audioSpeech, doc), stream: false)).get()
        guard let audio = result["audio"]?.stringValue.flatMap(Base64.decode) else {
            throw PMXError(.upstreamProtocol, "audio.speech.create: the result carries no audio")
        }
        let contentType = result["content_type"]?.stringValue ?? "application/octet-stream"
        return Responses.bytes(audio, contentType: contentType)
    }
}
