// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The operations of pmx_router_call, named as the openai Python SDK's resource path
/// (`client.completions.create` → "completions.create"); provider-specific ones are
/// "<type>.<what>".
public enum OperationName: String, Sendable, CaseIterable {
    case chatCompletions = "chat.completions.create", completions = "completions.create",
         embeddings = "embeddings.create", imagesGenerate = "images.generate",
         moderations = "moderations.create", audioTranscriptions = "audio.transcriptions.create",
         audioSpeech = "audio.speech.create", rerank = "rerank", tokensCount = "tokens.count",
         responses = "responses.create", modelsList = "models.list",
         openrouterCredits = "openrouter.credits", openrouterGeneration = "openrouter.generation"

    /// The operation named `name`, or PMX_ERR_INVALID_ARGUMENT naming every known one.
    public static func parse(_ name: String) throws -> OperationName {
        if let op = OperationName(rawValue: name) { return op }
        let known = allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        throw PMXError(.invalidArgument, "operation \"\(name.prefix(100))\" is unknown; known operations: \(known)")
    }

    /// Whether an answer may be served from the response cache (when caching is on). Answers
    /// that read live state (credits, a generation's stats, stored responses) never are.
    public var isCacheable: Bool {
        switch self {
        case .openrouterCredits, .openrouterGeneration, .responses, .modelsList: false
        default: true
        }
    }
}
