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
        case .responses: return has(provider, [.openai, .azure]) ? OpenAIResponses(preset: self) : ResponsesViaChat(chat: self)
        case .imagesGenerate: return has(provider, [.openai, .azure, .openaiCompatible]) ? OpenAIImages(preset: self) : nil
        case .moderations: return moderationsCodec(provider)
        case .audioTranscriptions: return has(provider, [.openai, .openaiCompatible, .groq]) ? OpenAITranscriptions(preset: self) : nil
        case .audioSpeech: return has(provider, [.openai, .openaiCompatible, .groq]) ? OpenAISpeech(preset: self) : nil
        case .rerank: return has(provider, [.openaiCompatible, .llamacpp]) ? OpenAIRerank(preset: self) : nil
        case .tokensCount: return provider.type == .llamacpp ? LlamaCppTokenize() : nil
        case .openrouterCredits: return provider.type == .openrouter ? OpenRouterAccount(.credits) : nil
        case .openrouterGeneration: return provider.type == .openrouter ? OpenRouterAccount(.generation) : nil
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

    /// `/moderations` in OpenAI's shape (OpenAI, OpenAI-compatible servers) or in Mistral's.
    private func moderationsCodec(_ provider: ProviderConfig) -> (any OperationCodec)? {
        switch provider.type {
        case .openai, .openaiCompatible: OpenAIModerations(preset: self)
        case .mistral: MistralModerations(preset: self)
        default: nil
        }
    }

    /// Whether the provider's vendor has the endpoint (checked against each vendor's API
    /// reference): OpenAI has all of them; Azure images; Groq Whisper and PlayAI speech; rerank
    /// on OpenAI-compatible servers (vLLM, Infinity, TEI) and llama-server; the others refuse,
    /// so the request fails over.
    private func has(_ provider: ProviderConfig, _ types: Set<ProviderType>) -> Bool { types.contains(provider.type) }
}
