// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// LM Studio's REST API (0.4 and later) for loading and unloading models, at the server root
/// (`base_url` without `/v1`): `POST /api/v1/models/load {model, context_length?, …}` →
/// `{type, instance_id, load_time_seconds, status: "loaded", load_config?}`;
/// `POST /api/v1/models/unload {instance_id}` → `{instance_id}`; `GET /api/v1/models` →
/// `{models: [{key, type, display_name, max_context_length, loaded_instances: [{id, config}]}]}`.
/// (The older `/api/v0` API cannot load.) Early 0.4 builds named the load answer's id
/// `model_instance_id`: both are read.
extension LMStudioCodec: ModelLoading {
    public func loadCall(_ model: String, options: JSONObject, provider: ProviderConfig) -> ProviderHTTPCall {
        var body = options
        body["model"] = .string(model)
        return ProviderHTTPCall(method: "POST", url: serverRoot(provider) + "/api/v1/models/load",
                                headers: headers(provider, streaming: false), body: JSONWriter.bytes(.object(body)))
    }

    public func decodeLoad(_ body: [UInt8], model: String, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "LM Studio /api/v1/models/load response")
        guard let id = json["instance_id"]?.stringValue ?? json["model_instance_id"]?.stringValue else {
            throw CodecSupport.protocolError(provider, "LM Studio /api/v1/models/load response has no instance_id")
        }
        var o = JSONObject()
        o["instance_id"] = .string(id)
        for key in ["type", "load_time_seconds", "load_config"] { if let v = json[key], !v.isNull { o[key] = v } }
        return o
    }

    public func unloadCall(_ instance: String, provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "POST", url: serverRoot(provider) + "/api/v1/models/unload",
                         headers: headers(provider, streaming: false), body: JSONWriter.bytes(["instance_id": .string(instance)]))
    }

    public func loadedCall(provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "GET", url: serverRoot(provider) + "/api/v1/models", headers: headers(provider, streaming: false))
    }

    /// Models with loaded instances; `details.instances` lists them (`id`, `context_length` the
    /// instance was loaded with), `details.loaded` is true.
    public func decodeLoaded(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "LM Studio /api/v1/models response")
        guard let models = json["models"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "LM Studio /api/v1/models response has no models array")
        }
        return models.compactMap { m -> ModelInfo? in
            guard let key = m["key"]?.stringValue, let instances = m["loaded_instances"]?.arrayValue, !instances.isEmpty else { return nil }
            var details = JSONObject()
            details["loaded"] = true
            for k in ["type", "display_name", "publisher", "quantization"] { if let v = m[k], !v.isNull { details[k] = v } }
            details["instances"] = .array(instances.compactMap { i in
                guard let id = i["id"]?.stringValue else { return nil }
                var o = JSONObject()
                o["id"] = .string(id)
                if let ctx = i["config"]?["context_length"], ctx.intValue != nil { o["context_length"] = ctx }
                return .object(o)
            })
            let caps: [String] = m["type"]?.stringValue == "embedding" ? ["embeddings"] : ["chat"]
            return ModelInfo(id: key, contextLength: (m["max_context_length"]?.intValue).flatMap { Int(exactly: $0) },
                             capabilities: caps, details: details)
        }
    }
}
