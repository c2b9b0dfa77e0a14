// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The operations of pmx_router_call on OpenAI-shaped servers (every `OpenAIPreset`): one line
/// per operation, each pointing at its codec; the provider type decides where a vendor's
/// endpoint differs or is missing.
extension OpenAIPreset {
    public func operationCodec(_ operation: OperationName, provider: ProviderConfig) -> (any OperationCodec)? {
        switch operation {
        case .completions: return completionsCodec(provider)
        default: return nil
        }
    }

    /// `/completions` where the vendor has it: OpenAI, Azure, OpenAI-compatible servers, LM
    /// Studio, OpenRouter, Together, Cerebras, xAI (legacy endpoint), Fireworks; DeepSeek's under
    /// `/beta`; llama.cpp's `/infill` for FIM; Mistral's `/fim/completions`. Groq and the
    /// Hugging Face router have none.
    private func completionsCodec(_ provider: ProviderConfig) -> (any OperationCodec)? {
        switch provider.type {
        case .groq, .huggingface: nil
        case .mistral: MistralFIM(preset: self)
        case .deepseek: OpenAICompletions(preset: self, path: "/completions", root: .deepSeekBeta)
        case .llamacpp: LlamaCppCompletions(preset: self)
        default: OpenAICompletions(preset: self)
        }
    }
}
