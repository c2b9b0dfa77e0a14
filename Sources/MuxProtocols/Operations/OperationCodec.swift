// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// How one protocol does one operation of pmx_router_call. Pure: bytes in, JSON out, no
/// network. Each `WireCodec` hands out one per operation it has (`operationCodec`); an
/// operation it lacks is refused with PMX_ERR_UNSUPPORTED and the request fails over.
public protocol OperationCodec: Sendable {
    /// The HTTP call. `model` is the provider's model name (nil: the provider's default).
    /// `stream` is true only when `streamDecoder` gives a decoder for this request.
    func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall
    /// A 2xx answer → the OpenAI-shaped result (usage normalized where the vendor reports it).
    func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject
    /// A streaming decoder, or nil when this operation does not stream on this protocol (a
    /// streamed call then makes one plain call and ends with its result).
    func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding?
}

extension OperationCodec {
    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? { nil }
}

extension WireCodec {
    /// This protocol's codec for `operation`, or nil: the attempt is refused with
    /// PMX_ERR_UNSUPPORTED naming provider type and operation, and the request fails over.
    /// (Requirement declared in WireCodec.swift; this is the default.)
    public func operationCodec(_ operation: OperationName, provider: ProviderConfig) -> (any OperationCodec)? { nil }
}

/// The refusal of an operation a provider type lacks.
public enum OperationSupport {
    public static func unsupported(_ operation: OperationName, provider: ProviderConfig, why: String? = nil) -> PMXError {
        PMXError(.unsupported, "provider type \"\(provider.type.rawValue)\" has no \(operation.rawValue)" + (why.map { " (\($0))" } ?? ""),
                 provider: provider.name)
    }
}
