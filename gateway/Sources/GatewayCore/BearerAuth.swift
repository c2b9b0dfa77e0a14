// SPDX-License-Identifier: Apache-2.0

/// The gateway's bearer check (`"gateway": {"keys": [...]}` in the router config). The
/// comparison takes the same time whatever the sent token shares with a key: every key is
/// compared over its whole length, and the results are combined without an early exit, so a
/// client cannot find a key byte by byte from response times. Keys are never logged.
package struct BearerAuth: Sendable {
    private let keys: [[UInt8]]

    /// nil or empty `keys`: auth is off (the config has no `gateway` section).
    package init(keys: [String]?) { self.keys = (keys ?? []).map { Array($0.utf8) } }

    package var enabled: Bool { !keys.isEmpty }

    /// Whether the `Authorization` header value carries one of the keys.
    package func allows(authorization: String?) -> Bool {
        guard enabled else { return true }
        guard let value = authorization else { return false }
        let bytes = Array(value.utf8)
        // "Bearer " (scheme case-insensitive, RFC 9110 §11.1), then the token.
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
              zip(bytes.prefix(scheme.count), scheme).allSatisfy({ pair in (pair.0 | 0x20) == pair.1 }) else { return false }
        let token = bytes.dropFirst(scheme.count)
        var matched: UInt8 = 0
        for key in keys { matched |= Self.equal(token, key) }
        return matched == 1
    }

    /// 1 when equal, 0 when not, in time that depends on the lengths only.
    static func equal(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> UInt8 {
        var diff: UInt8 = a.count == b.count ? 0 : 1
        var i = a.startIndex
        for j in b.indices {
            // Past the token's end, compare against itself: same work, the length already differs.
            let x = i < a.endIndex ? a[i] : b[j] ^ 0xFF
            diff |= x ^ b[j]
            if i < a.endIndex { i += 1 }
        }
        return diff == 0 ? 1 : 0
    }
}
