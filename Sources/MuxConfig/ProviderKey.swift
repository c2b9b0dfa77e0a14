// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Where a provider's API key comes from, and when its absence is a config error.
///
/// A type with a key variable (`ProviderDefaults.apiKeyEnv`: the cloud services) sends every
/// request with credentials; without a key those requests would go out unauthenticated and
/// fail one by one at the provider (issue 15). So a missing key is refused when the config is
/// parsed, naming the variable, unless the config says so: `"api_key": ""` (a proxy in front
/// adds the key, a test server wants none). Types without a key variable (local servers,
/// `openai-compatible`, `mock`) take a key when given and need none.
struct ProviderKey {
    /// The key to send; nil = send no credentials.
    let value: String?
    /// The type's variable when neither `api_key` nor the variable gave a key: the config is
    /// refused (`requirePresent`) once its other fields were checked.
    let missingVariable: String?

    /// `api_key` when present (`""` = intentionally none), else the type's variable (unset and
    /// set-but-empty alike give none). Throws for control characters, never showing the value.
    static func resolve(_ r: inout FieldReader, entry: ProviderDefaults,
                        lookup: EnvExpansion.Lookup) throws -> ProviderKey {
        var apiKey = try r.string("api_key", nonEmpty: false)
        var missing: String? = nil
        if apiKey == nil, let envName = entry.apiKeyEnv {
            apiKey = lookup(envName)
            if apiKey?.isEmpty ?? true { missing = envName }
        }
        if apiKey?.isEmpty == true { apiKey = nil }
        if let k = apiKey, k.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw r.fail("api_key", "contains control characters (value not shown)")
        }
        return ProviderKey(value: apiKey, missingVariable: missing)
    }

    /// Called after the provider's other fields: a config with several mistakes reports the
    /// one in the document first, the environment last.
    func requirePresent(_ r: FieldReader, typeName: String) throws {
        guard let envName = missingVariable else { return }
        throw r.fail("api_key", "type \"\(typeName)\" needs an API key: set \(envName) or give \"api_key\" "
                                + "(\"api_key\": \"\" sends its requests without one)")
    }
}
