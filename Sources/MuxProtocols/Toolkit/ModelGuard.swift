// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The model a call names: the request's, else the provider's `default_model`. Protocols that
/// put the model in the URL or the body (every one but OpenAI's, which lets the server pick)
/// refuse the call before any I/O when there is neither.
public enum ModelGuard {
    /// `operation` is said after "needs a model" ("for embeddings"), empty for chat.
    public static func require(_ model: String?, provider: ProviderConfig, protocolName: String,
                               operation: String = "") throws -> String {
        if let model, !model.isEmpty { return model }
        if let model = provider.defaultModel, !model.isEmpty { return model }
        let what = operation.isEmpty ? "" : " " + operation
        throw PMXError(.invalidRequest,
                       "model: \(protocolName) needs a model\(what): name one in the request or set \"default_model\" on provider \"\(provider.name)\"",
                       provider: provider.name)
    }
}
