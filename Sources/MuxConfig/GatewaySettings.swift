// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The router config's `gateway` section: what pmx-gateway (gateway/, a separate executable)
/// needs from the config it serves. The library validates it and otherwise ignores it, so one
/// config file works for both the library and the gateway.
///
/// `keys`: the bearer tokens a client may send (`Authorization: Bearer <key>`) on every `/v1/`
/// path; usually written as `"${GW_KEY}"`. Each is registered as a secret while the settings
/// live, so it is masked like a provider key in every message, event and log line.
public struct GatewaySettings: Sendable {
    public var keys: [String]
    /// Keeps every key masked while these settings (or a copy) live; see `Secrets`.
    package var registrations: [Secrets.Registration]

    /// Shortest accepted key: `Secrets` masks substrings of 8 bytes or more, so a shorter key
    /// could be echoed unmasked (and would be guessable anyway).
    public static let minimumKeyBytes = Secrets.substringMinimum

    public init(keys: [String]) {
        self.keys = keys
        registrations = keys.compactMap { Secrets.register($0) }
    }

    /// Keys: keys (required: a non-empty array of strings, each at least 8 bytes, no spaces or
    /// control characters). Unknown keys are rejected. Errors never quote a key.
    public static func parse(_ r: inout FieldReader) throws -> GatewaySettings {
        guard let keys = try r.stringArray("keys") else {
            throw r.fail("keys", "is required (an array of bearer keys; leave the gateway section out to serve without auth)")
        }
        guard !keys.isEmpty else { throw r.fail("keys", "must not be empty (leave the gateway section out to serve without auth)") }
        for (i, k) in keys.enumerated() {
            if k.utf8.count < minimumKeyBytes {
                throw PMXError(r.errorStatus, "\(r.fieldPath("keys"))[\(i)]: a key must be at least \(minimumKeyBytes) bytes, got \(k.utf8.count)")
            }
            // A bearer token is one header token: a space or control byte could never match.
            if k.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) {
                throw PMXError(r.errorStatus, "\(r.fieldPath("keys"))[\(i)]: a key must not contain spaces or control characters")
            }
        }
        try r.finish()
        return GatewaySettings(keys: keys)
    }
}
