// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// OpenAI's `reasoning_effort` ("none", "minimal", "low", "medium", "high") in each vendor's
/// terms: a thinking token budget (Anthropic `thinking.budget_tokens`, Gemini
/// `thinkingConfig.thinkingBudget`) or Ollama's `think`. One table so every protocol reads
/// the same effort the same way (README "Reasoning" documents it).
package enum ReasoningEffort {
    /// Anthropic's smallest budget; also what "minimal" and "low" ask for.
    package static let anthropicMinimumBudget = 1024

    /// The request's effort, lower-cased; nil when absent. Anything but a string is refused
    /// (the caller meant something the router cannot read).
    package static func effort(_ request: JSONObject, provider: String) throws -> String? {
        guard let v = request["reasoning_effort"], !v.isNull else { return nil }
        guard let s = v.stringValue else {
            throw PMXError(.invalidRequest, "reasoning_effort: expected a string, got \(v.typeName)", provider: provider)
        }
        switch s.lowercased() {
        case "none", "minimal", "low", "medium", "high": return s.lowercased()
        default:
            throw PMXError(.invalidRequest, "reasoning_effort: expected \"none\", \"minimal\", \"low\", \"medium\" or \"high\", got \"\(s)\"",
                           provider: provider)
        }
    }

    /// Thinking tokens for an effort: nil for "none" (thinking off). The figures are
    /// LiteLLM's scale widened: low 1,024 (Anthropic's minimum), medium 4,096, high 16,384.
    package static func budget(_ effort: String) -> Int? {
        switch effort {
        case "none": nil
        case "minimal", "low": 1024
        case "medium": 4096
        default: 16_384
        }
    }

    /// Ollama's `think`: false for "none", else the level Ollama names ("low", "medium",
    /// "high"; "minimal" reads as "low"). Ollama treats a level as `true` on thinking models
    /// without levels.
    package static func ollamaThink(_ effort: String) -> JSONValue {
        switch effort {
        case "none": .bool(false)
        case "minimal": .string("low")
        default: .string(effort)
        }
    }
}
