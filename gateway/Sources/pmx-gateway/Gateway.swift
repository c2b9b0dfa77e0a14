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

/// The routes: OpenAI's paths over one router. Every body the gateway sends is masked
/// (`Secrets.mask`) as the C ABI masks what it hands out, and every failure is an OpenAI
/// error object (OpenAIError) with its HTTP status.
struct Gateway: Sendable {
    let calls: RouterCalls
    let auth: BearerAuth
    let metrics = GatewayMetrics()
    let maxRequestBytes: Int
    /// The most SSE bytes one stream may have waiting for its client (StreamQueueBudget).
    let maxQueuedBytes: Int

    init(router: MuxRouting.Router, keys: [String]?, maxRequestBytes: Int, maxQueuedBytes: Int) {
        calls = RouterCalls(router: router)
        auth = BearerAuth(keys: keys)
        self.maxRequestBytes = maxRequestBytes
        self.maxQueuedBytes = maxQueuedBytes
    }

    func routes() -> Hummingbird.Router<BasicRequestContext> {
        let r = Hummingbird.Router()
        // First: it wraps every route added after it, and unmatched paths too.
        r.add(middleware: GatewayMiddleware(auth: auth, metrics: metrics))
        r.post("/v1/chat/completions") { request, _ in await answer { try await chat(request) } }
        r.post("/v1/embeddings") { request, _ in await answer { try await embeddings(request) } }
        r.post("/v1/completions") { request, _ in await answer { try await completions(request) } }
        r.post("/v1/images/generations") { request, _ in await answer { try await jsonCall(.imagesGenerate, request) } }
        r.post("/v1/moderations") { request, _ in await answer { try await jsonCall(.moderations, request) } }
        r.post("/v1/rerank") { request, _ in await answer { try await jsonCall(.rerank, request) } }
        r.post("/v1/audio/transcriptions") { request, _ in await answer { try await transcriptions(request) } }
        r.post("/v1/audio/speech") { request, _ in await answer { try await speech(request) } }
        r.post("/v1/responses") { request, _ in await answer { try await responses(request) } }
        r.get("/v1/models") { _, _ in await answer { try await models() } }
        r.get("/health") { _, _ in
            Responses.json(["status": "ok", "open_streams": .int(Int64(metrics.openStreams))], kind: .health)
        }
        r.get("/metrics") { _, _ in
            var options = MuxRouting.Router.StatsOptions()
            options.format = .prometheus
            let text = calls.router.stats(options) + metrics.prometheusText()
            return Responses.text(text, contentType: "text/plain; version=0.0.4; charset=utf-8", kind: .stats)
        }
        return r
    }

    /// Runs a handler; the one place its failure becomes a response: an OpenAIError as it is,
    /// a router error (invalid input, the request's terminal error) through `openAIError`.
    func answer(_ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let e as OpenAIError {
            return Responses.error(e)
        } catch {
            return Responses.error(calls.openAIError(RouterCalls.pmxError(error)))
        }
    }

    // MARK: /v1/chat/completions

    func chat(_ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        let chat = try ChatRequest.parse(doc)
        guard chat.stream else { return Responses.json(.object(try await calls.run(.chat(chat, stream: false)).get())) }
        let encoder = ChunkEncoder(id: Responses.newID("chatcmpl-"), created: Int64(time(nil)), model: chat.model ?? "",
                                   includeUsage: doc["stream_options"]?["include_usage"]?.boolValue ?? false)
        return try await sse(.chat(chat, stream: true), encode: encoder.frames(for:))
    }

    /// Starts a streamed request and answers it as Server-Sent Events: the first item decides
    /// the status (an error before any output is an HTTP error), the rest is written as the
    /// client takes it, what waits for the client bounded by `maxQueuedBytes` (GatewayStream).
    func sse(_ operation: AttemptOperation, encode: @escaping (ExecutionEvent) -> [UInt8]) async throws -> Response {
        let stream = try GatewayStream.start(calls.router, operation, maxQueuedBytes: maxQueuedBytes, metrics: metrics, encode: encode)
        switch await stream.next() {
        case .failed(let e):
            stream.close()
            throw e
        case .end:
            stream.cancel()
            stream.close()
            throw PMXError(.cancelled, stream.overran ? "the stream overran its queue before the response started" : "the stream ended before any output")
        case .bytes(let first):
            metrics.streamOpened()
            return Response(status: .ok, headers: Responses.sseHeaders, body: ResponseBody { writer in
                // Woken by the router's I/O thread, the writer continues on the connection's loop.
                try await LoopExecutor.onCurrentLoop { try await write(stream, first: first, to: &writer) }
            })
        }
    }

    /// Writes a started stream's SSE bytes as they come, one write per queued batch.
    private func write(_ stream: GatewayStream, first: [UInt8], to writer: inout any ResponseBodyWriter) async throws {
        defer {
            stream.close()
            metrics.streamClosed()
        }
        do {
            try await writer.write(ByteBuffer(bytes: first))
            // Each batch is everything the loop queued while the previous one was written.
            while case .bytes(let batch) = await stream.next() {
                try await writer.write(ByteBuffer(bytes: batch))
            }
            // .end also when this task was cancelled (the connection is going away).
            if Task.isCancelled { stream.cancel() }
            // Stopped for a client that did not read: close the connection rather than
            // end the body cleanly, so the client cannot take the cut stream for a whole one.
            if stream.overran { throw StreamOverrun() }
            try await writer.finish(nil)
        } catch {
            stream.cancel()  // the client is gone: stop the upstream request too
            throw error
        }
    }

    // MARK: /v1/embeddings

    func embeddings(_ request: Request) async throws -> Response {
        var doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        // The openai SDKs ask for base64 by default. Every provider is asked for floats (not all
        // speak base64), and the gateway encodes them itself when the client asked for base64.
        var wantsBase64 = false
        if case .object(var o) = doc, let format = o["encoding_format"] {
            switch format.stringValue {
            case "base64": wantsBase64 = true
            case "float": break
            default:
                throw OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_value", param: "encoding_format",
                                  message: "encoding_format: expected \"float\" or \"base64\"")
            }
            o["encoding_format"] = nil
            doc = .object(o)
        }
        var response = try await calls.run(.embed(try EmbedRequest.parse(doc))).get()
        if wantsBase64 { response = EmbeddingEncoding.base64(response) }
        return Responses.json(.object(response))
    }

    // MARK: /v1/models

    func models() async throws -> Response {
        Responses.json(ModelList.openAI(try await calls.blocking({ try $0.models() }).get()), kind: .models)
    }
}

/// Ends a stream's connection when its client read too slowly (GatewayStream.overran).
struct StreamOverrun: Error {}

/// Auth on every `/v1/` path, OpenAI-shaped 404/405/5xx for what the routes did not answer,
/// and the request counter of `/metrics`.
struct GatewayMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let auth: BearerAuth
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let response: Response
        if path.hasPrefix("/v1/") && !auth.allows(authorization: request.headers[.authorization]) {
            response = Responses.error(.unauthorized)
        } else {
            do {
                // The handler stays on this connection's loop (LoopExecutor).
                response = try await LoopExecutor.onCurrentLoop { try await next(request, context) }
            } catch let e as any HTTPResponseError {
                response = Responses.error(e.status.code == 404 ? .notFound(request.method.rawValue, path)
                    : OpenAIError(httpStatus: e.status.code, type: e.status.code < 500 ? "invalid_request_error" : "server_error", code: nil,
                                  message: "\(request.method.rawValue) \(Secrets.shorten(path, maxBytes: 200)): \(e.status.reasonPhrase)"))
            }
        }
        metrics.count(GatewayMetrics.Route(rawValue: path) ?? .other, status: response.status.code)
        return response
    }
}
