// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// The OpenAI Chat Completions protocol as a `WireCodec`: `openai`, `openai-compatible` and
/// every OpenAI-compatible cloud preset use it as is; LM Studio, llama.cpp and Azure are
/// `OpenAIPreset`s that change only what differs.
public struct OpenAICodec: OpenAIPreset {
    public init() {}
}

/// A server that speaks OpenAI's protocol. Every call defaults to OpenAI's (`{base}/<path>`,
/// a bearer key); a preset overrides only what its server does differently: where the key
/// goes (`headers`), the URL of an operation (`url`), or whole calls (models, health, errors).
public protocol OpenAIPreset: WireCodec {
    func headers(_ provider: ProviderConfig, streaming: Bool) -> [(String, String)]
    /// The URL of `operation` ("/chat/completions", "/embeddings", "/models").
    func url(_ provider: ProviderConfig, _ operation: String, model: String?) throws -> String
}

extension OpenAIPreset {
    public func headers(_ provider: ProviderConfig, streaming: Bool) -> [(String, String)] {
        OpenAIProtocol.headers(for: provider, streaming: streaming)
    }

    public func url(_ provider: ProviderConfig, _ operation: String, model: String?) throws -> String {
        provider.baseURL + operation
    }

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        ProviderHTTPCall(method: "POST", url: try url(provider, "/chat/completions", model: model),
                         headers: headers(provider, streaming: stream),
                         body: OpenAIProtocol.chatBody(request.forOpenAIServer(provider), model: model, stream: stream))
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        try OpenAIProtocol.decodeChat(body, provider: provider.name)
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        OpenAIStreamDecoder.Adapter(provider: provider.name)
    }

    public func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall {
        ProviderHTTPCall(method: "POST", url: try url(provider, "/embeddings", model: model),
                         headers: headers(provider, streaming: false),
                         body: OpenAIProtocol.embeddingsBody(request, model: model))
    }

    public func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        try OpenAIProtocol.decodeEmbeddings(body, provider: provider.name)
    }

    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: provider.baseURL + "/models", headers: headers(provider, streaming: false))
    }

    /// `data[].id`, plus `context_length` where the server reports one (OpenRouter, Together, vLLM's `max_model_len`).
    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "/models response")
        guard let data = json["data"]?.arrayValue else { throw CodecSupport.protocolError(provider, "/models response has no data array") }
        return data.compactMap { m in
            guard let id = m["id"]?.stringValue else { return nil }
            let ctx = m["context_length"]?.intValue ?? m["max_model_len"]?.intValue
            return ModelInfo(id: id, contextLength: ctx.map { Int($0) })
        }
    }
}

/// `{base}` without a trailing `/v1`: where local servers keep their own endpoints.
package func serverRoot(_ provider: ProviderConfig) -> String {
    var base = provider.baseURL
    if base.hasSuffix("/v1") { base.removeLast(3) }
    return base
}

/// LM Studio: OpenAI-compatible under `/v1`, plus `/api/v0/models` with type, load state and
/// context length.
public struct LMStudioCodec: OpenAIPreset {
    public init() {}

    /// The OpenAI models list under `/v1`: cheaper than `/api/v0/models`.
    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? { OpenAICodec().modelsCall(provider: provider) }

    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: serverRoot(provider) + "/api/v0/models", headers: headers(provider, streaming: false))
    }

    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "/api/v0/models response")
        guard let data = json["data"]?.arrayValue else { throw CodecSupport.protocolError(provider, "/api/v0/models response has no data array") }
        return data.compactMap { m in
            guard let id = m["id"]?.stringValue else { return nil }
            let type = m["type"]?.stringValue ?? "llm"
            let caps: [String] = switch type {
            case "vlm": ["chat", "vision"]
            case "embeddings": ["embeddings"]
            default: ["chat"]
            }
            var details = JSONObject()
            for key in ["type", "state", "quantization", "arch", "publisher"] { if let v = m[key] { details[key] = v } }
            return ModelInfo(id: id, contextLength: (m["max_context_length"]?.intValue).map { Int($0) }, capabilities: caps, details: details)
        }
    }
}

/// llama.cpp's `llama-server`: OpenAI-compatible under `/v1`; `/health` answers 503 while the
/// model loads ("not ready yet", not "failed"). It closes keep-alive connections after 100
/// requests: the transport reconnects transparently.
public struct LlamaCppCodec: OpenAIPreset {
    public init() {}

    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: serverRoot(provider) + "/health", headers: headers(provider, streaming: false))
    }

    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        var e = HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
        if status == 503, e.message.lowercased().contains("loading") {
            e.status = .modelNotLoaded
            e.message = "HTTP 503: the model is still loading (not ready yet)"
        }
        return e
    }
}

/// Azure OpenAI: the deployment URL shape with `api-version` (when `api_version` is set), or
/// the v1 API (`/openai/v1/...`, model in the body) without it; the key goes in `api-key`.
public struct AzureCodec: OpenAIPreset {
    public init() {}

    /// The key goes in `api-key`, not as a bearer token.
    public func headers(_ provider: ProviderConfig, streaming: Bool) -> [(String, String)] {
        OpenAIProtocol.headers(for: provider, streaming: streaming, key: .header("api-key"))
    }

    public func url(_ provider: ProviderConfig, _ operation: String, model: String?) throws -> String {
        guard let version = provider.options["api_version"]?.stringValue else {
            return provider.baseURL + "/openai/v1" + operation
        }
        guard let deployment = provider.options["deployment"]?.stringValue ?? model else {
            throw PMXError(.invalidRequest, "azure needs a deployment: set \"deployment\" in the provider or a model in the request", provider: provider.name)
        }
        // One path segment, percent-encoded; `api_version` was checked at config time.
        let field = provider.options["deployment"] == nil ? "model" : "deployment"
        let segment = try WireSafety.requestPathSegment(deployment, field: field, provider: provider.name)
        return provider.baseURL + "/openai/deployments/\(segment)\(operation)?api-version=\(version)"
    }

    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        let url = provider.options["api_version"]?.stringValue.map { provider.baseURL + "/openai/models?api-version=\($0)" }
            ?? provider.baseURL + "/openai/v1/models"
        return ProviderHTTPCall(method: "GET", url: url, headers: headers(provider, streaming: false))
    }
}
