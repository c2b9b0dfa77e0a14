// SPDX-License-Identifier: Apache-2.0
import MuxConfig
import MuxProtocols

/// What each provider type brings: its codec (chosen here) and its defaults and extra config keys
/// (`ProviderType.defaults`, in Config/ProviderType.swift, which config parsing reads).
public struct CatalogueEntry: Sendable {
    /// nil for the in-process mock.
    public var codec: (any WireCodec)?
    public var defaults: ProviderDefaults

    public var defaultBaseURL: String? { defaults.defaultBaseURL }
    /// Environment variable read for the key when the config gives none.
    public var apiKeyEnv: String? { defaults.apiKeyEnv }
    /// Type-specific keys allowed in the provider object (e.g. azure's `api_version`).
    public var options: [String: OptionKind] { defaults.options }
    /// Extra headers the preset always sends.
    public var headers: [(String, String)] { defaults.headers }
}

public enum ProviderCatalogue {
    public static func entry(for type: ProviderType) -> CatalogueEntry {
        CatalogueEntry(codec: codec(for: type), defaults: type.defaults)
    }

    /// The codec that speaks `type`'s wire protocol; nil for the in-process mock.
    public static func codec(for type: ProviderType) -> (any WireCodec)? {
        switch type {
        case .openai, .openaiCompatible, .openrouter, .groq, .together, .cerebras, .deepseek, .xai,
             .fireworks, .huggingface:
            return OpenAICodec()
        case .mistral: return MistralCodec()
        case .lmstudio: return LMStudioCodec()
        case .llamacpp: return LlamaCppCodec()
        case .azure: return AzureCodec()
        case .anthropic: return AnthropicCodec()
        case .gemini: return GeminiCodec()
        case .ollama: return OllamaCodec()
        case .cohere: return CohereCodec()
        case .replicate: return ReplicateCodec()
        case .mock: return nil
        }
    }
}
