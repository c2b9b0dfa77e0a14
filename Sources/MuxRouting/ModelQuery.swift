// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A filter on the models list (`pmx_router_models_query`): `{"search": "claude",
/// "provider": "or"}`, both optional. `search` matches, ignoring ASCII case, anywhere in a
/// model's `id` ("provider/model") or in its listed display name (`details.name`, e.g.
/// OpenRouter's "Anthropic: Claude Sonnet 4"); `provider` keeps one provider's models and asks
/// no other provider. Providers listed under "errors" stay listed whatever the filter.
public struct ModelQuery: Sendable, Equatable {
    public var search: String?
    public var provider: String?

    public init(search: String? = nil, provider: String? = nil) {
        self.search = search
        self.provider = provider
    }

    /// Errors are PMX_ERR_INVALID_REQUEST naming the field ("query.search: …").
    public static func parse(_ value: JSONValue) throws -> ModelQuery {
        var r = try FieldReader(value, path: "query", status: .invalidRequest)
        let q = ModelQuery(search: try r.string("search", nonEmpty: false), provider: try r.string("provider"))
        try r.finish()
        return q
    }

    /// Does the model entry (`id`, `details.name`) match `search`?
    package func matches(id: String, name: String?) -> Bool {
        guard let search, !search.isEmpty else { return true }
        let needle = Array(search.utf8).map(Self.lower)
        return Self.contains(id, needle) || name.map { Self.contains($0, needle) } == true
    }

    private static func contains(_ hay: String, _ needle: [UInt8]) -> Bool {
        let h = Array(hay.utf8).map(lower)
        guard h.count >= needle.count else { return false }
        for start in 0...(h.count - needle.count) where h[start..<(start + needle.count)].elementsEqual(needle) { return true }
        return false
    }

    private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 0x20 : b }
}
