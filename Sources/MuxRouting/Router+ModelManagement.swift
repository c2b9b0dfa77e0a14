// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxProviders

/// Model management on local servers: pull with progress, delete, show, list loaded (Ollama);
/// load, unload, list loaded (LM Studio). One JSON request shape,
/// `{"action", "provider", "model", "options"?}`, so that more servers and actions can be added
/// without new C symbols.
public struct ModelManagementRequest: Sendable {
    public enum Action: String, Sendable { case pull, delete, show, loaded, load, unload }
    public var action: Action
    public var provider: String
    public var model: String?
    /// `load` only: load settings passed to the server as given (LM Studio: `context_length`,
    /// `flash_attention`, `eval_batch_size`, `num_experts`, `offload_kv_cache_to_gpu`,
    /// `echo_load_config`).
    public var options = JSONObject()

    public static func parse(_ value: JSONValue) throws -> ModelManagementRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let actionName = try r.requiredString("action")
        guard let action = Action(rawValue: actionName) else {
            throw r.fail("action", "expected \"pull\", \"delete\", \"show\", \"loaded\", \"load\" or \"unload\", got \"\(actionName)\"")
        }
        let provider = try r.requiredString("provider")
        let model = try r.string("model")
        if action != .loaded && model == nil { throw r.fail("model", "is required for \(actionName)") }
        var request = ModelManagementRequest(action: action, provider: provider, model: model)
        if let options = try r.object("options") {
            guard action == .load else { throw r.fail("options", "is only taken by \"load\"") }
            guard options.object["model"] == nil else { throw options.fail("model", "goes in the request's \"model\"") }
            request.options = options.object
        }
        try r.finish()
        return request
    }
}

extension Router {
    /// Runs one management action and waits for it. Pull progress events
    /// (`{"type":"progress",...}`) go to `onEvent` on the CALLING thread; a non-zero return
    /// cancels the pull. Returns the result document.
    public func manageModel(_ request: ModelManagementRequest, onEvent: ((JSONValue) -> Int32)?) throws -> JSONValue {
        let caller = "pmx_router_model_manage"
        try refuseOnIOThread(caller)
        guard let runtime = providerSnapshot.first(where: { $0.name == request.provider }) else {
            throw PMXError(.providerNotFound, "provider: no provider named \"\(request.provider)\"")
        }
        let p = runtime.config
        let limits = ExchangeLimits(p.timeouts(over: timeouts), maxResponseBytes: maxResponseBytes, tls: p.tls)
        if let loader = runtime.codec as? any ModelLoading {
            return try manageLoading(request, provider: p, codec: loader, limits: limits, caller: caller)
        }
        guard let codec = runtime.codec as? any ModelManaging else {
            throw PMXError(.unsupported, "provider \"\(p.name)\" (\(p.type.rawValue)) has no model management; only ollama and lmstudio have",
                           provider: p.name)
        }
        if request.action == .load || request.action == .unload {
            throw PMXError(.unsupported, "provider \"\(p.name)\" (\(p.type.rawValue)) cannot \(request.action.rawValue) models; lmstudio can",
                           provider: p.name)
        }
        func perform(_ call: ProviderHTTPCall) throws -> [UInt8] {
            try ProviderExchange.perform(call, limits, provider: p, codec: codec, on: loop, caller: caller).body
        }
        switch request.action {
        case .show:
            let info = try codec.decodeShow(try perform(codec.showCall(request.model!, provider: p)), model: request.model!, provider: p)
            return Self.json(info, provider: p.name)
        case .loaded:
            let models = try codec.decodePS(try perform(codec.psCall(provider: p)), provider: p)
            return ["object": "list", "data": .array(models.map { Self.json($0, provider: p.name) })]
        case .delete:
            _ = try perform(codec.deleteCall(request.model!, provider: p))
            return ["provider": .string(p.name), "model": .string(request.model!), "status": "deleted"]
        case .load, .unload:
            preconditionFailure("refused above")
        case .pull:
            // Downloads take as long as they take: only silence (idle_ms) ends them.
            var pullLimits = limits
            pullLimits.totalMs = 86_400_000
            pullLimits.maxResponseBytes = Int(Int32.max)
            return try pull(request.model!, provider: p, codec: codec, limits: pullLimits, caller: caller, onEvent: onEvent)
        }
    }

    package static func json(_ info: ModelInfo, provider: String) -> JSONValue {
        var m = JSONObject()
        m["id"] = .string("\(provider)/\(info.id)")
        m["provider"] = .string(provider)
        m["model"] = .string(info.id)
        if let ctx = info.contextLength { m["context_length"] = .int(Int64(ctx)) }
        m["capabilities"] = .array(info.capabilities.map { .string($0) })
        if !info.details.isEmpty { m["details"] = .object(info.details) }
        return .object(m)
    }

    /// The pull call with its progress stream relayed to the caller's thread.
    private func pull(_ model: String, provider: ProviderConfig, codec: any ModelManaging, limits: ExchangeLimits,
                      caller: String, onEvent: ((JSONValue) -> Int32)?) throws -> JSONValue {
        let call = codec.pullCall(model, provider: provider)
        try ProviderExchange.wait(caller: caller, on: loop, onEvent: onEvent,
                                  cancelled: PMXError(.cancelled, "model pull cancelled", provider: provider.name)) { [loop] (waiter: ExchangeWaiter<Void>) in
            let decoder = codec.pullDecoder(provider: provider)
            var outcome: Result<Void, PMXError>?  // what the stream itself said, which wins
            return ProviderExchange.start(call, limits, provider: provider.name, on: loop, onChunk: { chunk in
                do {
                    try decoder.feed(chunk) { event in
                        switch event {
                        case .progress(let p): waiter.push(p)
                        case .error(let e): outcome = .failure(e)
                        case .done: outcome = .success(())
                        }
                    }
                } catch {
                    outcome = .failure(error as? PMXError ?? PMXError(.upstreamProtocol, "\(error)", provider: provider.name))
                }
            }) { answer in
                if let outcome { waiter.finish(outcome); return }
                waiter.finish(.failure(answer.error(mappedBy: codec, provider: provider) ?? codec.pullEndedEarly(provider: provider)))
            }
        }
        return ["provider": .string(provider.name), "model": .string(model), "status": "success"]
    }
}
