// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The router's `cache` section. Caching is opt-in: identical requests may legitimately expect
/// different answers (sampling), so only a user who asks for it gets replayed responses.
public struct CacheSettings: Sendable, Equatable {
    public var enabled = false
    public var ttlMs = 300_000
    public var maxEntries = 1000
    public var maxBytes = 16 << 20
    public init() {}

    /// Keys: enabled (bool), ttl_ms (1…1 year), max_entries (1…1e9), max_bytes (1024…1 TiB). Unknown keys are rejected.
    public static func parse(_ r: inout FieldReader) throws -> CacheSettings {
        var s = CacheSettings()
        if let v = try r.bool("enabled") { s.enabled = v }
        if let v = try r.int("ttl_ms", min: 1, max: NumericBounds.yearMs) { s.ttlMs = v }
        if let v = try r.int("max_entries", min: 1, max: NumericBounds.count) { s.maxEntries = v }
        if let v = try r.int("max_bytes", min: 1024, max: NumericBounds.bytes) { s.maxBytes = v }
        try r.finish()
        return s
    }
}
