// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// `n` > 1 where a protocol answers with one choice only (Anthropic, Ollama, Cohere): refused
/// with PMX_ERR_UNSUPPORTED, so the request fails over to a provider that can serve it, rather
/// than silently returning fewer choices than asked for.
package enum ChoiceCount {
    package static func requireOne(_ request: ChatRequest, protocolName: String, provider: ProviderConfig) throws {
        guard request.asksSeveralChoices else { return }
        throw PMXError(.unsupported, "n: \(protocolName) answers with one choice; n > 1 is served by OpenAI-shaped providers and gemini",
                       provider: provider.name)
    }
}
