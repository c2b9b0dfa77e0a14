// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// Model management as a capability: a protocol whose servers download, delete and describe
/// their own models (Ollama today) conforms to `ModelManaging`; routing asks a codec
/// `as? ModelManaging` and never names a concrete codec. Pure calls and decoders, like every
/// codec: the exchange itself is the providers layer's (`ProviderExchange`).
public protocol ModelManaging: WireCodec {
    /// Describes one model (details, context length, capabilities).
    func showCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall
    func decodeShow(_ body: [UInt8], model: String, provider: ProviderConfig) throws -> ModelInfo
    /// The models loaded in memory right now ("ps").
    func psCall(provider: ProviderConfig) -> ProviderHTTPCall
    func decodePS(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo]
    /// Deletes a model; a 2xx answer is success whatever its body.
    func deleteCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall
    /// Downloads a model; the 2xx body is a progress stream read by `pullDecoder`.
    func pullCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall
    /// One decoder per pull.
    func pullDecoder(provider: ProviderConfig) -> any ModelPullDecoding
    /// The error when a pull's 2xx body ended before the stream said the model is installed.
    func pullEndedEarly(provider: ProviderConfig) -> PMXError
}

/// What a model download's progress stream says.
public enum ModelPullEvent: Sendable, Equatable {
    /// `{"type":"progress","status":...,"digest"?,"total"?,"completed"?}`
    case progress(JSONValue)
    /// The server failed the pull (inside a 2xx stream).
    case error(PMXError)
    /// The model is installed.
    case done
}

/// Reads a pull's progress stream at any byte split. A stream that stops before its end
/// emits neither `.done` nor `.error` (the caller reports the interruption).
public protocol ModelPullDecoding: AnyObject {
    func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ModelPullEvent) -> Void) throws
}
