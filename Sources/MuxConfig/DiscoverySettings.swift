// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The local LLM servers discovery knows how to recognise.
public enum LocalServerKind: String, Sendable, CaseIterable {
    case ollama, lmstudio, llamacpp

    /// A canonical name or a provider-type alias of one (`lm-studio`, `llama-cpp`).
    public init?(named name: String) {
        guard let t = ProviderType(named: name), let kind = LocalServerKind(rawValue: t.rawValue) else { return nil }
        self = kind
    }

    /// The provider type a discovered server is registered as.
    public var providerType: ProviderType {
        switch self {
        case .ollama: .ollama
        case .lmstudio: .lmstudio
        case .llamacpp: .llamacpp
        }
    }

    /// The port each server listens on out of the box.
    public var defaultPort: Int {
        switch self {
        case .ollama: 11434
        case .lmstudio: 1234
        case .llamacpp: 8080
        }
    }
}

/// One place to look for one kind of server.
public struct DiscoveryTarget: Sendable, Equatable {
    public var kind: LocalServerKind
    /// The server root, e.g. "http://127.0.0.1:11434": no trailing slash, no "/v1".
    public var baseURL: String

    public init(kind: LocalServerKind, baseURL: String) {
        self.kind = kind
        self.baseURL = baseURL
    }

    /// `kind` on 127.0.0.1 at `port` (its default port when nil).
    public init(kind: LocalServerKind, port: Int? = nil) {
        self.init(kind: kind, baseURL: "http://127.0.0.1:\(port ?? kind.defaultPort)")
    }
}

/// The router config section "discovery". Off by default: probing ports is opt-in.
public struct DiscoverySettings: Sendable, Equatable {
    public var enabled = false
    /// Re-probe period (0 = only at start).
    public var intervalMs = 60_000
    /// Per probe request (connect and answer).
    public var timeoutMs = 1_000
    /// How long a server's model list is reused before listing again.
    public var modelsTTLMs = 300_000
    /// Default: the three kinds on 127.0.0.1 at their default ports.
    public var targets: [DiscoveryTarget] = LocalServerKind.allCases.map { DiscoveryTarget(kind: $0) }

    public init() {}

    /// Keys: enabled, interval_ms, timeout_ms, models_ttl_ms, allow_remote (default false), targets:
    /// `[{"type": "ollama"|"lmstudio"|"llamacpp" (or "lm-studio", "llama-cpp"), "port": n} | {"type": …, "base_url": "http://host:port[/path]"}]`
    /// (`{"type": …}` alone = its default port on 127.0.0.1). Hosts must be loopback unless
    /// allow_remote is true: discovery must not become a way to scan a network by accident.
    public static func parse(_ r: inout FieldReader) throws -> DiscoverySettings {
        var s = DiscoverySettings()
        if let v = try r.bool("enabled") { s.enabled = v }
        if let v = try r.int("interval_ms", min: 0, max: 86_400_000) {
            guard v == 0 || v >= 100 else { throw r.fail("interval_ms", "must be 0 (probe only at start) or at least 100, got \(v)") }
            s.intervalMs = v
        }
        if let v = try r.int("timeout_ms", min: 1, max: 60_000) { s.timeoutMs = v }
        if let v = try r.int("models_ttl_ms", min: 0, max: 86_400_000) { s.modelsTTLMs = v }
        let allowRemote = try r.bool("allow_remote") ?? false
        if let list = try r.array("targets") {
            guard !list.isEmpty else { throw r.fail("targets", "must list at least one target (omit it for the default ports)") }
            var targets: [DiscoveryTarget] = []
            for (i, item) in list.enumerated() {
                let target = try parseTarget(item, path: "\(r.fieldPath("targets"))[\(i)]",
                                             allowRemote: allowRemote, allowRemotePath: r.fieldPath("allow_remote"))
                if let j = targets.firstIndex(of: target) {
                    throw PMXError(.config, "\(r.fieldPath("targets"))[\(i)]: the same server as targets[\(j)]")
                }
                targets.append(target)
            }
            s.targets = targets
        }
        try r.finish()
        return s
    }

    private static func parseTarget(_ value: JSONValue, path: String, allowRemote: Bool, allowRemotePath: String) throws -> DiscoveryTarget {
        var t = try FieldReader(value, path: path)
        let typeName = try t.requiredString("type")
        guard let kind = LocalServerKind(named: typeName) else {
            throw t.fail("type", "unknown local server type \"\(typeName)\" (expected one of: \(LocalServerKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let port = try t.int("port", min: 1, max: 65_535)
        let base = try t.string("base_url")
        try t.finish()
        switch (port, base) {
        case (.some, .some):
            throw t.fail("base_url", "give either port or base_url, not both")
        case (let port, nil):
            return DiscoveryTarget(kind: kind, port: port)
        case (nil, .some(var url)):
            let written = url
            while url.hasSuffix("/") { url.removeLast() }
            if url.hasSuffix("/v1") { url.removeLast(3) }  // the server root is probed, not the OpenAI prefix
            while url.hasSuffix("/") { url.removeLast() }
            guard let parts = LocalURL(url), !WireSafety.hasControl(url) else {
                throw t.fail("base_url", "must be http://host[:port][/path] or https://…" + (WireSafety.hasControl(url) ? "" : " (got \"\(url)\")"))
            }
            if let problem = WireSafety.baseURLProblem(written) {  // the probes' URLs start with it
                throw t.fail("base_url", problem)
            }
            guard allowRemote || parts.isLoopback else {
                throw t.fail("base_url", "host \(parts.host) is not loopback; set \(allowRemotePath) to probe it")
            }
            return DiscoveryTarget(kind: kind, baseURL: url)
        }
    }
}

/// The parts of an http(s) URL that discovery needs: which host (for the loopback rule) and
/// which port (for provider names). Deliberately small: no userinfo, no query.
package struct LocalURL {
    package var scheme: String
    /// Without IPv6 brackets.
    package var host: String
    package var port: Int
    package var path: String

    package init?(_ url: String) {
        let scheme: String
        if url.hasPrefix("http://") { scheme = "http" } else if url.hasPrefix("https://") { scheme = "https" } else { return nil }
        let rest = url.dropFirst(scheme.count + 3)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(where: { $0 == " " }) else { return nil }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var port = scheme == "https" ? 443 : 80
        if let p = portText {
            guard !p.isEmpty, p.count <= 5, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p), n >= 1, n <= 65_535 else { return nil }
            port = n
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.path = String(rest[authorityEnd...])
    }

    /// 127.0.0.0/8, ::1 (any spelling) or localhost.
    package var isLoopback: Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "localhost." { return true }
        if let v4 = Self.ipv4(h) { return v4[0] == 127 }
        if let v6 = Self.ipv6(h) { return v6 == [0, 0, 0, 0, 0, 0, 0, 1] }
        return false
    }

    package static func ipv4(_ s: String) -> [Int]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(p), n <= 255 else { return nil }
            out.append(n)
        }
        return out
    }

    /// Eight 16-bit groups; "::" expands once. No zone ids, no embedded IPv4.
    package static func ipv6(_ s: String) -> [Int]? {
        func groups(_ part: Substring) -> [Int]? {
            if part.isEmpty { return [] }
            var out: [Int] = []
            for g in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let n = Int(g, radix: 16), n >= 0 else { return nil }
                out.append(n)
            }
            return out
        }
        guard s.contains(":") else { return nil }
        let halves = s.splitAtDoubleColons()
        if halves.count == 1 {
            guard let g = groups(Substring(s)), g.count == 8 else { return nil }
            return g
        }
        guard halves.count == 2, let head = groups(halves[0]), let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}

private extension String {
    /// Splits at each "::" (no Foundation here).
    func splitAtDoubleColons() -> [Substring] {
        var out: [Substring] = []
        var start = startIndex
        var i = startIndex
        while i < endIndex {
            let next = index(after: i)
            if self[i] == ":", next < endIndex, self[next] == ":" {
                out.append(self[start..<i])
                i = index(after: next)
                start = i
            } else {
                i = next
            }
        }
        out.append(self[start..<endIndex])
        return out
    }
}
