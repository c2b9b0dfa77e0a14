/// Model management on local servers (Ollama today): pull with progress, delete, show, list
/// loaded. One JSON request shape, `{"action", "provider", "model"}`, so that more servers
/// and actions can be added without new C symbols.
public struct ModelManagementRequest: Sendable {
    public enum Action: String, Sendable { case pull, delete, show, loaded }
    public var action: Action
    public var provider: String
    public var model: String?

    public static func parse(_ value: JSONValue) throws -> ModelManagementRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let actionName = try r.requiredString("action")
        guard let action = Action(rawValue: actionName) else {
            throw r.fail("action", "expected \"pull\", \"delete\", \"show\" or \"loaded\", got \"\(actionName)\"")
        }
        let provider = try r.requiredString("provider")
        let model = try r.string("model")
        if action != .loaded && model == nil { throw r.fail("model", "is required for \(actionName)") }
        try r.finish()
        return ModelManagementRequest(action: action, provider: provider, model: model)
    }
}

extension Router {
    /// Runs one management action and waits for it. Pull progress events
    /// (`{"type":"progress",...}`) go to `onEvent` on the CALLING thread; a non-zero return
    /// cancels the pull. Returns the result document.
    public func manageModel(_ request: ModelManagementRequest, onEvent: ((JSONValue) -> Int32)?) throws -> JSONValue {
        try refuseOnIOThread("pmx_router_model_manage")
        guard let runtime = providerSnapshot.first(where: { $0.name == request.provider }) else {
            throw PMXError(.providerNotFound, "provider: no provider named \"\(request.provider)\"")
        }
        let p = runtime.config
        guard let codec = ProviderCatalogue.entry(for: p.type).codec as? OllamaCodec else {
            throw PMXError(.unsupported, "provider \"\(p.name)\" (\(p.type.rawValue)) has no model management; only ollama has", provider: p.name)
        }
        let t = p.timeouts(over: timeouts)
        switch request.action {
        case .show:
            let body = try exchange(codec.showCall(request.model!, provider: p), provider: p, codec: codec, timeouts: t)
            let info = try codec.decodeShow(body, model: request.model!, provider: p)
            return Self.json(info, provider: p.name)
        case .loaded:
            let body = try exchange(codec.psCall(provider: p), provider: p, codec: codec, timeouts: t)
            let models = try codec.decodePS(body, provider: p)
            return ["object": "list", "data": .array(models.map { Self.json($0, provider: p.name) })]
        case .delete:
            _ = try exchange(codec.deleteCall(request.model!, provider: p), provider: p, codec: codec, timeouts: t)
            return ["provider": .string(p.name), "model": .string(request.model!), "status": "deleted"]
        case .pull:
            return try pull(request.model!, provider: p, codec: codec, timeouts: t, onEvent: onEvent)
        }
    }

    static func json(_ info: ModelInfo, provider: String) -> JSONValue {
        var m = JSONObject()
        m["id"] = .string("\(provider)/\(info.id)")
        m["provider"] = .string(provider)
        m["model"] = .string(info.id)
        if let ctx = info.contextLength { m["context_length"] = .int(Int64(ctx)) }
        m["capabilities"] = .array(info.capabilities.map { .string($0) })
        if !info.details.isEmpty { m["details"] = .object(info.details) }
        return .object(m)
    }

    /// One request/response exchange on the loop; the caller waits. Non-2xx → the codec's error.
    private func exchange(_ call: ProviderHTTPCall, provider: ProviderConfig, codec: any WireCodec,
                          timeouts t: TimeoutSettings) throws -> [UInt8] {
        let box = BlockingBody()
        let request = HTTPRequest(method: call.method, url: call.url, headers: call.headers, body: call.body,
                                  connectTimeoutMs: t.connectMs, totalTimeoutMs: t.totalMs,
                                  firstByteTimeoutMs: t.firstByteMs, idleTimeoutMs: t.idleMs, maxResponseBytes: maxResponseBytes, tls: provider.tls)
        loop.execute { [loop] in
            var head: HTTPResponseHead?
            var body: [UInt8] = []
            HTTPTransfer(request,
                onHead: { head = $0 },
                onBody: { body.append(contentsOf: $0); return true },
                onComplete: { failure in
                    if let failure { box.finish(.failure(HTTPErrorMapping.error(failure, provider: provider.name))); return }
                    let h = head ?? HTTPResponseHead(status: 0, headers: [])
                    if h.status / 100 == 2 { box.finish(.success(body)) }
                    else { box.finish(.failure(codec.error(status: h.status, head: h, body: body, provider: provider))) }
                }).start(on: loop)
        }
        return try box.wait { _ in 0 }.get()
    }

    /// `/api/pull` with its NDJSON progress relayed to the caller's thread.
    private func pull(_ model: String, provider: ProviderConfig, codec: OllamaCodec, timeouts t: TimeoutSettings,
                      onEvent: ((JSONValue) -> Int32)?) throws -> JSONValue {
        let box = BlockingBody()
        let call = codec.pullCall(model, provider: provider)
        // Downloads take as long as they take: only silence (idle_ms) ends them.
        let request = HTTPRequest(method: call.method, url: call.url, headers: call.headers, body: call.body,
                                  connectTimeoutMs: t.connectMs, totalTimeoutMs: 86_400_000,
                                  firstByteTimeoutMs: t.firstByteMs, idleTimeoutMs: t.idleMs, maxResponseBytes: Int(Int32.max), tls: provider.tls)
        var transfer: HTTPTransfer?
        loop.execute { [loop] in
            var head: HTTPResponseHead?
            var errorBody: [UInt8] = []
            let decoder = OllamaPullDecoder(provider: provider.name)
            var outcome: Result<[UInt8], PMXError>?
            let t = HTTPTransfer(request,
                onHead: { head = $0 },
                onBody: { chunk in
                    guard let h = head, h.status / 100 == 2 else { errorBody.append(contentsOf: chunk); return true }
                    do {
                        try decoder.feed(chunk) { event in
                            switch event {
                            case .progress(let p): box.push(p)
                            case .error(let e): outcome = .failure(e)
                            case .done: outcome = .success([])
                            }
                        }
                    } catch {
                        outcome = .failure(error as? PMXError ?? PMXError(.upstreamProtocol, "\(error)", provider: provider.name))
                    }
                    return true
                },
                onComplete: { failure in
                    if let outcome { box.finish(outcome); return }
                    if let failure { box.finish(.failure(HTTPErrorMapping.error(failure, provider: provider.name))); return }
                    let h = head ?? HTTPResponseHead(status: 0, headers: [])
                    if h.status / 100 != 2 {
                        box.finish(.failure(codec.error(status: h.status, head: h, body: errorBody, provider: provider)))
                    } else {
                        box.finish(.failure(PMXError(.upstreamProtocol, "ollama: the pull stream ended before \"success\"", provider: provider.name)))
                    }
                })
            transfer = t
            t.start(on: loop)
        }
        let result = box.wait { progress in
            guard let onEvent else { return 0 }
            return onEvent(progress)
        } onCancel: { [loop] in
            loop.execute {
                transfer?.cancel()
                box.finish(.failure(PMXError(.cancelled, "model pull cancelled", provider: provider.name)))
            }
        }
        _ = try result.get()
        return ["provider": .string(provider.name), "model": .string(model), "status": "success"]
    }
}

/// Progress events and one final result handed from the loop to a waiting caller.
final class BlockingBody: @unchecked Sendable {
    private let lock = ConditionLock()
    private var events: [JSONValue] = []
    private var result: Result<[UInt8], PMXError>?

    func push(_ e: JSONValue) { lock.withLock { events.append(e); lock.signal() } }
    func finish(_ r: Result<[UInt8], PMXError>) { lock.withLock { if result == nil { result = r }; lock.signal() } }

    /// Relays events to `onEvent` on this thread until the result; a non-zero return calls
    /// `onCancel` once and keeps waiting for the (cancelled) result.
    func wait(_ onEvent: (JSONValue) -> Int32, onCancel: (() -> Void)? = nil) -> Result<[UInt8], PMXError> {
        var cancelled = false
        while true {
            lock.lock()
            while events.isEmpty && result == nil { lock.wait() }
            let batch = events
            events.removeAll()
            let r = result
            lock.unlock()
            for e in batch where !cancelled {
                if onEvent(e) != 0 { cancelled = true; onCancel?() }
            }
            if let r { return r }
        }
    }
}
