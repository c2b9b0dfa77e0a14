/// Provider types this version implements.
public enum ProviderType: String, Sendable, CaseIterable {
    case openai
    case openaiCompatible = "openai-compatible"
    case mock

    /// Types the design names that later versions add; a config naming one gets a clear error.
    static let plannedNames: Set<String> = [
        "anthropic", "gemini", "ollama", "lmstudio", "llamacpp", "azure", "cohere", "openrouter", "groq",
        "together", "cerebras", "mistral", "deepseek", "xai", "fireworks", "huggingface",
    ]
    static var availableList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public var usesNetwork: Bool { self != .mock }
}

/// The wire protocol a provider type speaks.
public enum WireProtocol: Sendable {
    case openAIChat
    case inProcessMock
}

/// What each provider type brings: defaults and its protocol. Presets over one protocol are
/// entries here, not copies of code.
public struct CatalogueEntry: Sendable {
    public var wireProtocol: WireProtocol
    public var defaultBaseURL: String?
    /// Environment variable read for the key when the config gives none.
    public var apiKeyEnv: String?
}

public enum ProviderCatalogue {
    public static func entry(for type: ProviderType) -> CatalogueEntry {
        switch type {
        case .openai: CatalogueEntry(wireProtocol: .openAIChat, defaultBaseURL: "https://api.openai.com/v1", apiKeyEnv: "OPENAI_API_KEY")
        case .openaiCompatible: CatalogueEntry(wireProtocol: .openAIChat, defaultBaseURL: nil, apiKeyEnv: nil)
        case .mock: CatalogueEntry(wireProtocol: .inProcessMock, defaultBaseURL: nil, apiKeyEnv: nil)
        }
    }
}
