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

    init(router: MuxRouting.Router, keys: [String]?, maxRequestBytes: Int) {
        calls = RouterCalls(router: router)
        auth = BearerAuth(keys: keys)
        self.maxRequestBytes = maxRequestBytes
    }

    func routes() -> Hummingbird.Router<BasicRequestContext> {
        let r = Hummingbird.Router()
        // First: it wraps every route added after it, and unmatched paths too.
        r.add(middleware: GatewayMiddleware(auth: auth, metrics: metrics))
        r.post("/v1/chat/completions") { request, _ in await answer { try await chat(request) } }
        r.post("/v1/embeddings") { request, _ in await answer { try await embeddings(request) } }
        r.post("/v1/completions") { request, _ in await answer { try await completions(request) } }
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
        let stream = try ChatStream.start(calls.router, chat, encoder: encoder)
        switch await stream.next() {
        case .failedBeforeOutput(let e): throw e
        case nil:
            stream.cancel()
            throw PMXError(.cancelled, "the stream ended before any output")
        case .frames(let first):
            metrics.streamOpened()
            return Response(status: .ok, headers: Responses.sseHeaders, body: ResponseBody { [metrics] writer in
                defer { metrics.streamClosed() }
                do {
                    try await writer.write(ByteBuffer(bytes: first))
                    while let item = await stream.next() {
                        if case .frames(let bytes) = item { try await writer.write(ByteBuffer(bytes: bytes)) }
                    }
                    // nil also when this task was cancelled (the connection is going away).
                    if Task.isCancelled { stream.cancel() }
                    try await writer.finish(nil)
                } catch {
                    stream.cancel()  // the client is gone: stop the upstream request too
                    throw error
                }
            })
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

    // MARK: /v1/completions (pmx_router_call's "completions.create")

    func completions(_ request: Request) async throws -> Response {
        let doc = try await Responses.readJSON(request, limit: maxRequestBytes).get()
        if doc["stream"]?.boolValue == true {
            throw OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "unsupported", param: "stream",
                              message: "stream: this gateway streams /v1/chat/completions only; send /v1/completions without stream")
        }
        let call = try OperationRequest.parse(.completions, doc)
        return Responses.json(.object(try await calls.run(.call(call, stream: false)).get()))
    }

    // MARK: /v1/models

    func models() async throws -> Response {
        Responses.json(ModelList.openAI(try await calls.blocking({ try $0.models() }).get()), kind: .models)
    }
}

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
                response = try await next(request, context)
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
