// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The provider's own words in an error message: masked (no key can appear), then cut to at
/// most `maxDetailBytes` bytes of UTF-8 on a character boundary, "…" appended when cut.
/// Every codec and the HTTP error mapping measure the same way, in bytes (the `pmx_error`
/// message buffer is bytes), never in Characters.
public enum ErrorText {
    /// The most of a provider's message kept in an error.
    public static let maxDetailBytes = 300
    /// The most of a body that is not JSON (an HTML page from a front end) kept in an error.
    public static let maxRawBodyBytes = 200

    @inline(__always)
    public static func shorten(_ text: String) -> String { Secrets.shorten(text, maxBytes: maxDetailBytes) }

    /// A raw body, which may not even be UTF-8.
    public static func shorten(body: [UInt8]) -> String { Secrets.shorten(bytes: body, maxBytes: maxRawBodyBytes) }
}
