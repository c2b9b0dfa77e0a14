// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A provider's own rate limits, so the router stays under them instead of collecting 429s.
public struct RateLimitSettings: Sendable, Equatable {
    /// Requests per minute.
    public var rpm: Int?
    /// Tokens (prompt + completion) per minute.
    public var tpm: Int?
    public init() {}

    /// Keys: rpm (1…1e9), tpm (1…1e9). Unknown keys are rejected.
    public static func parse(_ r: inout FieldReader) throws -> RateLimitSettings {
        var s = RateLimitSettings()
        s.rpm = try r.int("rpm", min: 1, max: NumericBounds.count)
        s.tpm = try r.int("tpm", min: 1, max: NumericBounds.count)
        try r.finish()
        return s
    }
}
