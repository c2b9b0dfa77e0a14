// SPDX-License-Identifier: Apache-2.0

/// The one validator for every string that becomes part of an upstream request line or header
/// (no copy per codec): a CR or LF in a header value or URL would let a config value or a
/// request inject headers or a second request, a NUL would cut the string where libcurl reads
/// it as C. Config values are refused at config time (`PMX_ERR_CONFIG` naming the field),
/// request values at request time (`PMX_ERR_INVALID_REQUEST` naming the field); URL path
/// segments built from names are percent-encoded.
///
/// Rules (README "Behaviour choices", docs/VOCABULARY.md):
/// - Header values (type-specific options sent as headers, `headers` values, `api_key`): no
///   control character (0x00–0x1F except TAB, and DEL); other bytes, UTF-8 included, pass.
/// - Header names: RFC 9110 token characters only (`A-Z a-z 0-9 !#$%&'*+-.^_`|~`).
/// - `base_url`: `http://` or `https://`, then printable ASCII only (no space, no control, no
///   non-ASCII: write an IDN host in punycode), a non-empty host, no user:password@ (a
///   credential in a URL ends up in logs: use `api_key` or `headers`), no `?` or `#` (paths are
///   appended to it).
/// - Query values from config (`api_version`): 1 to 64 bytes of `A-Z a-z 0-9 . _ -`.
/// - Names that go into a URL path (a request's `model`, Azure's `deployment`, Gemini's model
///   resource): no control character (refused); everything outside RFC 3986 unreserved
///   (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, `/` `?` `#` `%` `:` and space included.
public enum WireSafety {
    /// Whether `s` may be sent as a header value.
    public static func isHeaderValue(_ s: String) -> Bool {
        !anyByte(s) { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }

    /// Whether some UTF-8 byte of `s` satisfies `test`: one pass over the string's contiguous
    /// bytes (iterating `String.UTF8View` through the generic `contains` cost ~10 instructions
    /// per byte more, on every header of every request).
    @inline(__always)
    public static func anyByte(_ s: String, _ test: (UInt8) -> Bool) -> Bool {
        if let found = s.utf8.withContiguousStorageIfAvailable({ bytes in bytes.contains(where: test) }) { return found }
        return s.utf8.contains(where: test)
    }

    /// Whether `s` is an HTTP header name (RFC 9110 token).
    public static func isHeaderName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { b in
            isUnreservedAlnum(b) || "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    /// Whether `s` has a control character (what no name on the wire may hold).
    public static func hasControl(_ s: String) -> Bool {
        anyByte(s) { $0 < 0x20 || $0 == 0x7F }
    }

    @inline(__always)
    package static func isUnreservedAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// A description of what is wrong with `url` as a base URL, or nil when it is fine.
    public static func baseURLProblem(_ url: String) -> String? {
        let scheme: String
        if url.hasPrefix("http://") { scheme = "http://" } else if url.hasPrefix("https://") { scheme = "https://" } else {
            return "must start with http:// or https://"
        }
        if let bad = url.utf8.first(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            return bad == 0x0D || bad == 0x0A ? "must not contain a line break" : bad == 0 ? "must not contain NUL"
                : bad == 0x20 ? "must not contain spaces" : bad < 0x20 || bad == 0x7F ? "must not contain control characters"
                : "must be ASCII (write an international host name in punycode, percent-encode the path)"
        }
        if url.utf8.contains(UInt8(ascii: "?")) || url.utf8.contains(UInt8(ascii: "#")) {
            return "must not contain a query (?) or fragment (#): request paths are appended to it"
        }
        let rest = url.utf8.dropFirst(scheme.utf8.count)
        let authority = rest.prefix { $0 != UInt8(ascii: "/") }
        if authority.contains(UInt8(ascii: "@")) {
            return "must not contain user:password@ (use api_key or headers for credentials)"
        }
        if authority.isEmpty || authority.first == UInt8(ascii: ":") { return "has no host" }
        return nil
    }

    /// Whether `s` may be sent as a config-given query value (`api_version`).
    public static func isQueryToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { isUnreservedAlnum($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }
    }

    /// `s` as one URL path segment: RFC 3986 unreserved bytes kept, every other byte as %XX.
    public static func pathSegment(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreservedAlnum(b) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A request's `model` goes into URL paths (Gemini, Azure), routing and metrics: a control
    /// character in it is refused at once, naming the field.
    package static func checkRequestModel(_ model: String?, _ r: inout FieldReader) throws {
        if let model, hasControl(model) {
            throw r.fail("model", "must not contain control characters (CR, LF, NUL, ...)")
        }
    }

    /// A request-time name that goes into a URL path: refused with PMX_ERR_INVALID_REQUEST
    /// naming `field` when it holds a control character, else percent-encoded.
    public static func requestPathSegment(_ s: String, field: String, provider: String) throws -> String {
        if hasControl(s) {
            throw PMXError(.invalidRequest, "\(field): contains a control character (CR, LF, NUL, ...) that cannot go into a URL", provider: provider)
        }
        if s == "." || s == ".." {
            throw PMXError(.invalidRequest, "\(field): \"\(s)\" is not a name (a dot segment would change the URL path)", provider: provider)
        }
        return pathSegment(s)
    }
}
