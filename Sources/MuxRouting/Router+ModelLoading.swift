// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxProviders

/// `pmx_router_model_manage` on servers that load models into memory on request (LM Studio):
/// load, unload, list loaded. Pull, delete and show are Ollama's (Router+ModelManagement.swift).
extension Router {
    package func manageLoading(_ request: ModelManagementRequest, provider p: ProviderConfig, codec: any ModelLoading,
                               limits: ExchangeLimits, caller: String) throws -> JSONValue {
        func perform(_ call: ProviderHTTPCall, _ limits: ExchangeLimits) throws -> [UInt8] {
            try ProviderExchange.perform(call, limits, provider: p, codec: codec, on: loop, caller: caller).body
        }
        switch request.action {
        case .load:
            // Loading a big model from disk takes as long as it takes: only the total is lifted,
            // first-byte and idle timeouts still end a server that went silent.
            var loadLimits = limits
            loadLimits.totalMs = max(limits.totalMs, 3_600_000)
            let model = request.model!
            var o = JSONObject()
            o["provider"] = .string(p.name)
            o["model"] = .string(model)
            o["status"] = "loaded"
            for m in try codec.decodeLoad(try perform(codec.loadCall(model, options: request.options, provider: p), loadLimits),
                                               model: model, provider: p).members { o[m.key] = m.value }
            return .object(o)
        case .unload:
            _ = try perform(codec.unloadCall(request.model!, provider: p), limits)
            return ["provider": .string(p.name), "model": .string(request.model!), "instance_id": .string(request.model!), "status": "unloaded"]
        case .loaded:
            let models = try codec.decodeLoaded(try perform(codec.loadedCall(provider: p), limits), provider: p)
            return ["object": "list", "data": .array(models.map { Self.json($0, provider: p.name) })]
        case .pull, .delete, .show:
            throw PMXError(.unsupported, "provider \"\(p.name)\" (\(p.type.rawValue)) cannot \(request.action.rawValue) models through its API; "
                           + "load, unload and loaded are what it has", provider: p.name)
        }
    }
}
