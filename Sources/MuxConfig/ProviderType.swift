// SPDX-License-Identifier: Apache-2.0

/// Every provider type the design names. Presets over one protocol are catalogue entries,
/// not copies of code.
public enum ProviderType: String, Sendable, CaseIterable {
    case openai
    case openaiCompatible = "openai-compatible"
    case anthropic, gemini, ollama, lmstudio, llamacpp, azure, cohere
    case openrouter, groq, together, cerebras, mistral, deepseek, xai, fireworks, huggingface
    case replicate
    case mock

    /// The canonical names, then each alias with what it stands for.
    package static var availableList: String {
        (allCases.map(\.rawValue) + aliases.keys.sorted().map { "\($0) (= \(aliases[$0]!.rawValue))" }).joined(separator: ", ")
    }

    /// The names users type for a type, beside its canonical name (the vendor's or tool's own
    /// spelling). Config accepts them wherever a type is read; everything the router reports
    /// (health, stats, models, logs) shows the canonical `rawValue`.
    public static let aliases: [String: ProviderType] = [
        "claude": .anthropic, "google": .gemini, "lm-studio": .lmstudio, "llama-cpp": .llamacpp,
    ]

    /// The type `name` means: a canonical name or an alias; nil when neither.
    public init?(named name: String) {
        guard let t = ProviderType(rawValue: name) ?? Self.aliases[name] else { return nil }
        self = t
    }

    public var usesNetwork: Bool { self != .mock }

    /// Its `/models` answer carries per-model prices (OpenRouter's `pricing`), learnt by the router.
    public var publishesPrices: Bool { self == .openrouter }
}

/// The kind of value a type-specific provider option takes.
public enum OptionKind: Sendable {
    /// `queryToken`: sent as a URL query value (1 to 64 of A-Z a-z 0-9 . _ -);
    /// `pathSegment`: a URL path segment (percent-encoded, not `.` or `..`). Every string kind
    /// refuses control characters (WireSafety.swift).
    case string, queryToken, pathSegment, int, bool
}

/// What config parsing needs to know of a provider type: its defaults and the extra config keys
/// it accepts. The codec that speaks for the type is chosen above, in Providers/ProviderCatalogue.swift.
public struct ProviderDefaults: Sendable {
    public var defaultBaseURL: String?
    /// Environment variable read for the key when the config gives none.
    public var apiKeyEnv: String?
    /// Type-specific keys allowed in the provider object (e.g. azure's `api_version`).
    public var options: [String: OptionKind] = [:]
    /// Extra headers the preset always sends.
    public var headers: [(String, String)] = []
}

extension ProviderType {
    public var defaults: ProviderDefaults {
        switch self {
        case .openai: return ProviderDefaults(defaultBaseURL: "https://api.openai.com/v1", apiKeyEnv: "OPENAI_API_KEY")
        case .openaiCompatible: return ProviderDefaults()
        case .openrouter:
            return ProviderDefaults(defaultBaseURL: "https://openrouter.ai/api/v1", apiKeyEnv: "OPENROUTER_API_KEY",
                                    options: ["http_referer": .string, "x_title": .string, "fetch_pricing": .bool])
        case .groq: return ProviderDefaults(defaultBaseURL: "https://api.groq.com/openai/v1", apiKeyEnv: "GROQ_API_KEY")
        case .together: return ProviderDefaults(defaultBaseURL: "https://api.together.xyz/v1", apiKeyEnv: "TOGETHER_API_KEY")
        case .cerebras: return ProviderDefaults(defaultBaseURL: "https://api.cerebras.ai/v1", apiKeyEnv: "CEREBRAS_API_KEY")
        case .mistral: return ProviderDefaults(defaultBaseURL: "https://api.mistral.ai/v1", apiKeyEnv: "MISTRAL_API_KEY")
        case .deepseek: return ProviderDefaults(defaultBaseURL: "https://api.deepseek.com/v1", apiKeyEnv: "DEEPSEEK_API_KEY")
        case .xai: return ProviderDefaults(defaultBaseURL: "https://api.x.ai/v1", apiKeyEnv: "XAI_API_KEY")
        case .fireworks: return ProviderDefaults(defaultBaseURL: "https://api.fireworks.ai/inference/v1", apiKeyEnv: "FIREWORKS_API_KEY")
        case .huggingface: return ProviderDefaults(defaultBaseURL: "https://router.huggingface.co/v1", apiKeyEnv: "HF_TOKEN")
        case .lmstudio: return ProviderDefaults(defaultBaseURL: "http://127.0.0.1:1234/v1")
        case .llamacpp: return ProviderDefaults(defaultBaseURL: "http://127.0.0.1:8080/v1")
        case .azure:
            return ProviderDefaults(defaultBaseURL: nil, apiKeyEnv: "AZURE_OPENAI_API_KEY",
                                    options: ["api_version": .queryToken, "deployment": .pathSegment])
        case .anthropic:
            return ProviderDefaults(defaultBaseURL: "https://api.anthropic.com", apiKeyEnv: "ANTHROPIC_API_KEY",
                                    options: ["anthropic_version": .string, "default_max_tokens": .int])
        case .gemini: return ProviderDefaults(defaultBaseURL: "https://generativelanguage.googleapis.com", apiKeyEnv: "GEMINI_API_KEY")
        case .ollama: return ProviderDefaults(defaultBaseURL: "http://127.0.0.1:11434")
        case .cohere: return ProviderDefaults(defaultBaseURL: "https://api.cohere.com", apiKeyEnv: "COHERE_API_KEY")
        case .replicate: return ProviderDefaults(defaultBaseURL: "https://api.replicate.com/v1", apiKeyEnv: "REPLICATE_API_TOKEN")
        case .mock: return ProviderDefaults()
        }
    }
}
