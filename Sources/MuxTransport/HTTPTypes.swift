// SPDX-License-Identifier: Apache-2.0
import MuxBase


/// One HTTP request as the transport sends it. Transport knows nothing of providers.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public var connectTimeoutMs: Int
    public var totalTimeoutMs: Int
    /// Max silence before the first response byte, and between body chunks (0 = off).
    public var firstByteTimeoutMs: Int
    public var idleTimeoutMs: Int
    public var maxResponseBytes: Int
    /// Certificate checks for https:// URLs (verification on unless `verify` is false).
    public var tls: TLSSettings
    /// Where the transfer finds a curl header list already built for these `headers` (its
    /// provider's); nil: it builds its own.
    public var headerCache: CurlHeaderCache?

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                connectTimeoutMs: Int = 10_000, totalTimeoutMs: Int = 600_000, firstByteTimeoutMs: Int = 0,
                idleTimeoutMs: Int = 0, maxResponseBytes: Int = 64 << 20, tls: TLSSettings = TLSSettings()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMs = connectTimeoutMs
        self.totalTimeoutMs = totalTimeoutMs
        self.firstByteTimeoutMs = firstByteTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.maxResponseBytes = maxResponseBytes
        self.tls = tls
    }
}

/// TLS options for one provider: the `tls` section (router-level default, provider keys over
/// it one by one). Unset keys mean libcurl's defaults: peer and host verified against the
/// system CA store, any TLS version curl accepts.
public struct TLSSettings: Sendable, Equatable {
    public enum Version: String, Sendable, Equatable { case v1_2 = "1.2", v1_3 = "1.3" }
    /// PEM file of the CAs to trust instead of the system store (CURLOPT_CAINFO).
    public var caBundle: String?
    /// false turns certificate and host name checks off (only by this explicit key).
    public var verify: Bool?
    public var minVersion: Version?

    public init(caBundle: String? = nil, verify: Bool? = nil, minVersion: Version? = nil) {
        self.caBundle = caBundle
        self.verify = verify
        self.minVersion = minVersion
    }

    /// Verification is on unless explicitly turned off.
    public var verifies: Bool { verify ?? true }

    /// These settings' keys over `base`'s, key by key.
    public func overlaid(on base: TLSSettings) -> TLSSettings {
        TLSSettings(caBundle: caBundle ?? base.caBundle, verify: verify ?? base.verify, minVersion: minVersion ?? base.minVersion)
    }
}

/// Status line and headers of a response (names lower-cased).
///
/// The transport hands over the header lines as received and they are split into pairs only
/// when asked (`headers`, `header(_:)`): a successful answer's headers are rarely read, and
/// building a `String` pair per line cost ~15,000 instructions per request.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    private var list: [(String, String)]?
    /// The final header block's lines ("Name: value\r\n" each) when `list` is nil.
    private var lines: [UInt8]

    public init(status: Int, headers: [(String, String)]) {
        self.status = status
        self.list = headers
        self.lines = []
    }

    /// From the raw header lines of the final block (the status line not included).
    package init(status: Int, lines: [UInt8]) {
        self.status = status
        self.list = nil
        self.lines = lines
    }

    /// Name (ASCII lower-cased) and value (spaces, tabs and the line end trimmed) per line
    /// that has a colon, in order.
    public var headers: [(String, String)] {
        get { list ?? Self.split(lines) }
        set { list = newValue; lines = [] }
    }

    /// Names are stored lower-case; callers usually ask in lower case already.
    public func header(_ name: String) -> String? {
        let headers = self.headers
        if let hit = headers.first(where: { $0.0 == name }) { return hit.1 }
        let lower = name.lowercased()
        return lower == name ? nil : headers.first { $0.0 == lower }?.1
    }

    private static func split(_ block: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = []
        block.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                if end < all.count { end += 1 }  // the line with its LF
                if let pair = pair(UnsafeBufferPointer(rebasing: all[start..<end])) { out.append(pair) }
                start = end
            }
        }
        return out
    }

    private static func pair(_ line: UnsafeBufferPointer<UInt8>) -> (String, String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        // ASCII lower-casing and trimming on the bytes: no Unicode case mapping.
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon {
                let b = line[i]
                out[i] = b >= 0x41 && b <= 0x5A ? b | 0x20 : b
            }
            return colon
        }
        var lo = colon + 1, hi = line.count
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        while lo < hi && isSpace(line[lo]) { lo += 1 }
        while hi > lo && isSpace(line[hi - 1]) { hi -= 1 }
        return (name, String(decoding: UnsafeBufferPointer(rebasing: line[lo..<hi]), as: UTF8.self))
    }
}

extension HTTPRequest {
    /// What makes this request unsafe to hand to curl (a control character in the URL, a
    /// header name or value, which would split the request line or inject a header), or nil.
    public var wireProblem: String? {
        // One pass over each string's bytes (WireSafety.anyByte), not one per forbidden byte.
        if WireSafety.anyByte(url, { $0 <= 0x20 || $0 == 0x7F }) { return "the URL contains a space or control character" }
        for (name, value) in headers {
            if name.isEmpty || WireSafety.anyByte(name, { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: ":") }) {
                return "a header name contains a space, colon or control character"
            }
            if !WireSafety.isHeaderValue(value) { return "the value of header \(name) contains a control character" }
        }
        return nil
    }
}

/// Why a transfer failed below HTTP.
public enum TransportFailure: Sendable, Equatable {
    case connection(String)
    /// The server's TLS certificate failed verification (or the CA bundle could not be read):
    /// a connection error that the same request cannot fix by trying again.
    case certificate(String)
    case timeout(String)
    case tooLarge(Int)
    case aborted
}
