// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Parameter names as users write them, mapped to the one name the router speaks. Applied
/// when a request is parsed, so every codec sees canonical names only.
public enum ParameterAliases {
    /// alias → canonical. `num_ctx` is the canonical context-window size (Ollama's name; the
    /// one provider family that takes it per request).
    public static let table: [(alias: String, canonical: String)] = [
        ("temp", "temperature"),
        ("max_length", "max_tokens"),
        ("max_new_tokens", "max_tokens"),
        ("ctx", "num_ctx"),
        ("context_length", "num_ctx"),
        ("ctx_size", "num_ctx"),
        ("nucleus_sampling", "top_p"),
    ]

    /// Parameters that are not part of OpenAI's request: providers that cannot take them get
    /// them dropped or rejected (`unsupported_params`).
    public static let extensions: Set<String> = ["num_ctx"]

    /// Renames aliases in place. Two spellings of one parameter with different values is an
    /// error naming both. Returns canonical → alias for each renamed parameter (so that errors
    /// can name the parameter as written).
    @discardableResult
    public static func canonicalize(_ body: inout JSONObject) throws -> [String: String] {
        var renamed: [String: String] = [:]
        for (alias, canonical) in table {
            guard let value = body[alias] else { continue }
            if let existing = body[canonical], existing != value {
                throw PMXError(.invalidRequest, "\(alias): is another name for \(canonical), which is also given with a different value")
            }
            body[alias] = nil
            body[canonical] = value
            renamed[canonical] = alias
        }
        return renamed
    }
}
