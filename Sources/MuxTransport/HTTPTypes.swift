
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
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public init(status: Int, headers: [(String, String)]) {
        self.status = status
        self.headers = headers
    }
    /// Names are stored lower-case; callers usually ask in lower case already.
    public func header(_ name: String) -> String? {
        if let hit = headers.first(where: { $0.0 == name }) { return hit.1 }
        let lower = name.lowercased()
        return lower == name ? nil : headers.first { $0.0 == lower }?.1
    }
}

extension HTTPRequest {
    /// What makes this request unsafe to hand to curl (a control character in the URL, a
    /// header name or value, which would split the request line or inject a header), or nil.
    public var wireProblem: String? {
        func control(_ s: String, tab: Bool) -> Bool { s.utf8.contains { ($0 < 0x20 && !(tab && $0 == 0x09)) || $0 == 0x7F } }
        if control(url, tab: false) || url.utf8.contains(0x20) { return "the URL contains a space or control character" }
        for (name, value) in headers {
            if name.isEmpty || control(name, tab: false) || name.utf8.contains(0x20) || name.utf8.contains(UInt8(ascii: ":")) {
                return "a header name contains a space, colon or control character"
            }
            if control(value, tab: true) { return "the value of header \(name) contains a control character" }
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
