// SPDX-License-Identifier: Apache-2.0
import GatewayCore
import Hummingbird
import MuxBase

/// Building responses and reading request bodies: one place for the headers, the masking and
/// the body limit.
enum Responses {
    static let sseHeaders: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]

    /// `kind` tags the body in the transcript (PMX_TRANSCRIPT_DIR, as the C ABI records what
    /// it hands out), which the suite's secret scan reads.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, kind: Transcript.Kind = .response) -> Response {
        var bytes = JSONWriter.bytes(value)
        Secrets.mask(&bytes)
        Transcript.record(kind, bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String, contentType: String, kind: Transcript.Kind) -> Response {
        var bytes = Array(text.utf8)
        Secrets.mask(&bytes, surface: .text)
        Transcript.record(kind, bytes)
        return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func error(_ e: OpenAIError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let s = e.retryAfterSeconds { headers[.retryAfter] = String(s) }
        let body = e.body
        Transcript.record(.error, body)
        return Response(status: .init(code: e.httpStatus), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Raw bytes as they are (audio from /v1/audio/speech) with their content type. Not
    /// masked: audio is no text a key could be read from, and masking would corrupt it.
    static func bytes(_ bytes: [UInt8], contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request body, at most `limit` bytes (limits.max_request_bytes): a larger one is
    /// refused with 413 as soon as it is known to be larger, without reading the rest.
    static func readBody(_ request: Request, limit: Int) async -> Result<[UInt8], OpenAIError> {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            return .failure(.tooLarge(limit))
        }
        var bytes: [UInt8] = []
        do {
            for try await part in request.body {
                guard part.readableBytes <= limit - bytes.count else { return .failure(.tooLarge(limit)) }
                bytes.append(contentsOf: part.readableBytesView)
            }
        } catch {
            return .failure(OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_body", message: "request body could not be read"))
        }
        return .success(bytes)
    }

    /// The request body as JSON, bounded as `readBody`.
    static func readJSON(_ request: Request, limit: Int) async -> Result<JSONValue, OpenAIError> {
        let bytes: [UInt8]
        switch await readBody(request, limit: limit) {
        case .success(let b): bytes = b
        case .failure(let e): return .failure(e)
        }
        do {
            return .success(try JSONParser.parse(bytes))
        } catch {
            return .failure(.invalidBody(error as? PMXError ?? PMXError(.invalidJSON, "\(error)")))
        }
    }

    /// `prefix` + 24 random hex digits (ids of streamed chunks, like OpenAI's `chatcmpl-…`).
    static func newID(_ prefix: String) -> String {
        var s = prefix
        for _ in 0..<3 {
            let h = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            s += String(repeating: "0", count: 8 - h.count) + h
        }
        return s
    }
}
