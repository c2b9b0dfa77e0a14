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
        r.post("/v1/chat/completions") { request, _ in await chat(request) }
        r.post("/v1/embeddings") { request, _ in await embeddings(request) }
        r.post("/v1/completions") { request, _ in await completions(request) }
        r.get("/v1/models") { _, _ in await models() }
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

    // MARK: /v1/chat/completions

    func chat(_ request: Request) async -> Response {
        let doc: JSONValue
        switch await Responses.readJSON(request, limit: maxRequestBytes) {
        case .success(let d): doc = d
        case .failure(let e): return Responses.error(e)
        }
        let chat: ChatRequest
        do { chat = try ChatRequest.parse(doc) } catch { return Responses.error(calls.openAIError(RouterCalls.pmxError(error))) }
        guard chat.stream else {
            switch await calls.run(.chat(chat, stream: false)) {
            case .success(let response): return Responses.json(.object(response))
            case .failure(let e): return Responses.error(calls.openAIError(e))
            }
        }
        let encoder = ChunkEncoder(id: Responses.newID("chatcmpl-"), created: Int64(time(nil)), model: chat.model ?? "",
                                   includeUsage: doc["stream_options"]?["include_usage"]?.boolValue ?? false)
        let stream: ChatStream
        do { stream = try ChatStream.start(calls.router, chat, encoder: encoder) } catch {
            return Responses.error(calls.openAIError(RouterCalls.pmxError(error)))
        }
        switch await stream.next() {
        case .failedBeforeOutput(let e): return Responses.error(calls.openAIError(e))
        case nil:
            stream.cancel()
            return Responses.error(OpenAIError(PMXError(.cancelled, "the stream ended before any output")))
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

    func embeddings(_ request: Request) async -> Response {
        var doc: JSONValue
        switch await Responses.readJSON(request, limit: maxRequestBytes) {
        case .success(let d): doc = d
        case .failure(let e): return Responses.error(e)
        }
        // The openai SDKs ask for base64 by default. Every provider is asked for floats (not all
        // speak base64), and the gateway encodes them itself when the client asked for base64.
        var wantsBase64 = false
        if case .object(var o) = doc, let format = o["encoding_format"] {
            switch format.stringValue {
            case "base64": wantsBase64 = true
            case "float": break
            default:
                return Responses.error(OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_value", param: "encoding_format",
                                                   message: "encoding_format: expected \"float\" or \"base64\""))
            }
            o["encoding_format"] = nil
            doc = .object(o)
        }
        let embed: EmbedRequest
        do { embed = try EmbedRequest.parse(doc) } catch { return Responses.error(calls.openAIError(RouterCalls.pmxError(error))) }
        switch await calls.run(.embed(embed)) {
        case .success(var response):
            if wantsBase64 { response = EmbeddingEncoding.base64(response) }
            return Responses.json(.object(response))
        case .failure(let e):
            return Responses.error(calls.openAIError(e))
        }
    }

    // MARK: /v1/completions (pmx_router_call's "completions.create")

    func completions(_ request: Request) async -> Response {
        let doc: JSONValue
        switch await Responses.readJSON(request, limit: maxRequestBytes) {
        case .success(let d): doc = d
        case .failure(let e): return Responses.error(e)
        }
        if doc["stream"]?.boolValue == true {
            return Responses.error(OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "unsupported", param: "stream",
                                               message: "stream: this gateway streams /v1/chat/completions only; send /v1/completions without stream"))
        }
        let call: OperationRequest
        do { call = try OperationRequest.parse(.completions, doc) } catch {
            return Responses.error(calls.openAIError(RouterCalls.pmxError(error)))
        }
        switch await calls.run(.call(call, stream: false)) {
        case .success(let response): return Responses.json(.object(response))
        case .failure(let e): return Responses.error(calls.openAIError(e))
        }
    }

    // MARK: /v1/models

    func models() async -> Response {
        switch await calls.blocking({ try $0.models() }) {
        case .success(let list): return Responses.json(ModelList.openAI(list), kind: .models)
        case .failure(let e): return Responses.error(calls.openAIError(e))
        }
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
