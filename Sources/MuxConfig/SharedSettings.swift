// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The router's `shared` section: state shared with every router on the same Redis and prefix
/// (rate limits, budgets, breakers, cooldowns, the response cache). Absent: all state is local.
public struct SharedSettings: Sendable {
    public var host: String
    public var port: Int
    public var db: Int
    public var username: String?
    /// Sent with AUTH; registered with `Secrets` so that it is masked wherever text leaves.
    public var password: String?
    public var keyPrefix = "pmx:"
    /// The longest any Redis call (connect, read, write) may wait before the router goes on
    /// with its local state.
    public var timeoutMs = 20
    /// While degraded, how often a request may try to reconnect.
    public var reconnectMs = 1000
    private var passwordRegistration: Secrets.Registration?

    public init(host: String, port: Int = 6379, db: Int = 0) {
        self.host = host
        self.port = port
        self.db = db
    }

    /// The URL as it may be shown: the password replaced by `****`.
    public var displayURL: String {
        let auth = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):****@"
        let h = host.contains(":") ? "[\(host)]" : host
        return "redis://\(auth)\(h):\(port)/\(db)"
    }

    /// Keys: redis ("redis://[[user]:password@]host[:port][/db]", required), key_prefix (1…256
    /// bytes, default "pmx:"), timeout_ms (1…10000, default 20), reconnect_ms (10…600000,
    /// default 1000). Unknown keys are rejected; `${ENV}` was expanded before.
    public static func parse(_ r: inout FieldReader) throws -> SharedSettings {
        guard let url = try r.string("redis") else { throw r.fail("redis", "is required (\"redis://HOST:PORT/DB\")") }
        var s = try parseURL(url) { r.fail("redis", $0) }
        if let p = try r.string("key_prefix") {
            guard p.utf8.count <= 256 else { throw r.fail("key_prefix", "must be at most 256 bytes, got \(p.utf8.count)") }
            s.keyPrefix = p
        }
        if let v = try r.int("timeout_ms", min: 1, max: 10_000) { s.timeoutMs = v }
        if let v = try r.int("reconnect_ms", min: 10, max: 600_000) { s.reconnectMs = v }
        try r.finish()
        return s
    }

    /// Parses a redis:// URL. Error texts never contain the password (`fail` gets the reason).
    package static func parseURL(_ url: String, fail: (String) -> PMXError) throws -> SharedSettings {
        let scheme = "redis://"
        guard url.hasPrefix(scheme) else {
            if url.hasPrefix("rediss://") { throw fail("TLS (rediss://) is not supported; use redis://") }
            throw fail("expected a URL \"redis://HOST:PORT/DB\", got a value without the redis:// scheme")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var username: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = String(userinfo[..<colon])
                username = user.isEmpty ? nil : try percentDecoded(user, fail)
                password = try percentDecoded(String(userinfo[userinfo.index(after: colon)...]), fail)
            } else {
                password = try percentDecoded(String(userinfo), fail)  // redis://password@host, as redis-cli -u reads it
            }
            if password?.isEmpty == true { password = nil }
        }
        var db = 0
        if let slash = rest.firstIndex(of: "/") {
            let text = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !text.isEmpty {
                guard text.utf8.count <= 5, let v = Int(text), v >= 0, v <= 10_000 else {
                    throw fail("the database after the host must be a number 0…10000, got \"\(text)\"")
                }
                db = v
            }
        }
        var host = String(rest), port = 6379
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed \"[\" in the host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("expected \":PORT\" after the IPv6 host") }
                port = try parsePort(after.dropFirst(), fail)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            port = try parsePort(rest[rest.index(after: colon)...], fail)
        }
        guard !host.isEmpty else { throw fail("the URL names no host") }
        var s = SharedSettings(host: host, port: port, db: db)
        s.username = username
        s.password = password
        s.passwordRegistration = Secrets.register(password)
        return s
    }

    private static func parsePort(_ text: Substring, _ fail: (String) -> PMXError) throws -> Int {
        guard text.utf8.count <= 5, let v = Int(text), v >= 1, v <= 65_535 else {
            throw fail("the port must be a number 1…65535, got \"\(text)\"")
        }
        return v
    }

    /// %XX escapes (a password may hold @ : / as %40 %3A %2F).
    private static func percentDecoded(_ text: String, _ fail: (String) -> PMXError) throws -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var out: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard it.count >= 2, let hi = hexValue(it.removeFirst()), let lo = hexValue(it.removeFirst()) else {
                throw fail("a bad %-escape in the user or password part")
            }
            out.append(hi << 4 | lo)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
