// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// A provider's wire protocol: how a request becomes HTTP and how the answer becomes the
/// OpenAI shape. Pure data in, data out: no network, no routing. One type per protocol
/// (`OpenAICodec`, `AnthropicCodec`, ...); presets reuse a codec with other defaults.

/// An HTTP call a codec wants made; the transport adds timeouts and limits.
public struct ProviderHTTPCall: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(String, String)], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Turns a provider's streamed body into `ProviderEvent`s, at any byte split. One per attempt.
/// Emits `.end` when the protocol's own end marker arrives (`[DONE]`, `message_stop`,
/// `done: true`, ...); protocols without one emit `.end` from `finish` after a clean end.
/// A broken promise (malformed JSON, wrong types, events out of order) throws a
/// `PMXError(.upstreamProtocol, ...)` naming what was wrong.
public protocol ChatStreamDecoding: AnyObject {
    func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws
    func finish(_ emit: (ProviderEvent) -> Void) throws
}

/// One model as a provider describes it. `id` is the provider's own model name.
public struct ModelInfo: Sendable, Equatable {
    public var id: String
    public var contextLength: Int?
    public var capabilities: [String]   // e.g. "chat", "tools", "vision", "embeddings"
    public var details: JSONObject      // anything else worth showing (loaded state, quantization, ...)

    public init(id: String, contextLength: Int? = nil, capabilities: [String] = [], details: JSONObject = JSONObject()) {
        self.id = id
        self.contextLength = contextLength
        self.capabilities = capabilities
        self.details = details
    }
}

public protocol WireCodec: Sendable {
    /// The chat call. `model` is the provider's model name (nil: the provider's default).
    func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall
    /// A non-streamed 2xx answer → an OpenAI `chat.completion` object.
    func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject
    func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding

    /// Embeddings; the default throws `.unsupported`.
    func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall
    /// A 2xx embeddings answer → an OpenAI embeddings list (`object`, `data[]`, `model`, `usage`).
    func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject

    /// Listing models; nil when the protocol has no such call.
    func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall?
    func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo]

    /// A cheap liveness probe; defaults to the models call.
    func healthCall(provider: ProviderConfig) -> ProviderHTTPCall?

    /// Which of the router's extension parameters (`ParameterAliases.extensions`) this
    /// protocol takes; the rest are dropped or rejected per `unsupported_params`.
    var supportedExtensions: Set<String> { get }

    /// A non-2xx answer → an error in the taxonomy, with the provider's own message.
    func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError
    /// The server's minimum wait before a retry, in milliseconds.
    func retryAfterMs(_ head: HTTPResponseHead) -> Int?
    /// The same, also reading rate-limit reset headers and the error body (429s).
    func retryAfterMs(_ head: HTTPResponseHead, body: [UInt8]) -> Int?

    /// This protocol's codec for an operation of pmx_router_call, or nil when it lacks it
    /// (Operations/OperationCodec.swift; the default is nil).
    func operationCodec(_ operation: OperationName, provider: ProviderConfig) -> (any OperationCodec)?
}

extension WireCodec {
    public func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall {
        throw PMXError(.unsupported, "provider type \"\(provider.type.rawValue)\" has no embeddings", provider: provider.name)
    }

    public func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        throw PMXError(.unsupported, "provider type \"\(provider.type.rawValue)\" has no embeddings", provider: provider.name)
    }

    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? { modelsCall(provider: provider) }

    public var supportedExtensions: Set<String> { [] }

    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
    }

    public func retryAfterMs(_ head: HTTPResponseHead) -> Int? { HTTPErrorMapping.retryAfterMs(head) }

    public func retryAfterMs(_ head: HTTPResponseHead, body: [UInt8]) -> Int? {
        retryAfterMs(head) ?? HTTPErrorMapping.retryAfterMs(head, body: body)
    }
}
