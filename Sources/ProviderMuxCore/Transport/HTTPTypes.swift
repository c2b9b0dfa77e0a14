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

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                connectTimeoutMs: Int = 10_000, totalTimeoutMs: Int = 600_000, firstByteTimeoutMs: Int = 0,
                idleTimeoutMs: Int = 0, maxResponseBytes: Int = 64 << 20) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeoutMs = connectTimeoutMs
        self.totalTimeoutMs = totalTimeoutMs
        self.firstByteTimeoutMs = firstByteTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.maxResponseBytes = maxResponseBytes
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

/// Why a transfer failed below HTTP.
public enum TransportFailure: Sendable, Equatable {
    case connection(String)
    case timeout(String)
    case tooLarge(Int)
    case aborted
}
