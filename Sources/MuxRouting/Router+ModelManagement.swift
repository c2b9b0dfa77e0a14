// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxProviders

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
        let caller = "pmx_router_model_manage"
        try refuseOnIOThread(caller)
        guard let runtime = providerSnapshot.first(where: { $0.name == request.provider }) else {
            throw PMXError(.providerNotFound, "provider: no provider named \"\(request.provider)\"")
        }
        let p = runtime.config
        guard let codec = runtime.codec as? any ModelManaging else {
            throw PMXError(.unsupported, "provider \"\(p.name)\" (\(p.type.rawValue)) has no model management; only ollama has", provider: p.name)
        }
        let limits = ExchangeLimits(p.timeouts(over: timeouts), maxResponseBytes: maxResponseBytes, tls: p.tls)
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
