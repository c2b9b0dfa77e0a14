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

/// Loading models into memory and unloading them, as a capability: servers that keep models on
/// disk and load them on request (LM Studio's REST API) conform. Separate from
/// `ModelManaging` because such servers neither pull nor delete through their API.
public protocol ModelLoading: WireCodec {
    /// Loads `model`; `options` (load settings such as `context_length`) go into the body as given.
    func loadCall(_ model: String, options: JSONObject, provider: ProviderConfig) -> ProviderHTTPCall
    /// The load answer as the result document's fields (`instance_id`, `load_time_seconds`, …).
    func decodeLoad(_ body: [UInt8], model: String, provider: ProviderConfig) throws -> JSONObject
    /// Unloads one loaded instance (`instance`: an instance id; a model's first instance has
    /// the model's own name).
    func unloadCall(_ instance: String, provider: ProviderConfig) -> ProviderHTTPCall
    /// The models with at least one loaded instance.
    func loadedCall(provider: ProviderConfig) -> ProviderHTTPCall
    func decodeLoaded(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo]
}
