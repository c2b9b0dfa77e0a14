// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// pmx-gateway's command line: `--config FILE --listen HOST:PORT [--drain-seconds N] [--max-queued-bytes N]`.
package struct GatewayOptions: Sendable, Equatable {
    package var configPath: String
    package var host = "127.0.0.1"
    /// 0: any free port (the gateway prints the one it got).
    package var port = 4000
    /// How long SIGTERM waits for open requests and streams before it stops them.
    package var drainSeconds = 30
    /// The most SSE bytes one stream may have waiting for a client that reads slower than its
    /// upstream sends; above it the stream's request is cancelled (StreamQueueBudget). 1 MiB:
    /// the library's own bound on a blocking stream's event queue (docs/HARDENING.md).
    package var maxQueuedBytes = 1 << 20

    package static let usage = """
        usage: pmx-gateway --config router.json [--listen 127.0.0.1:4000] [--drain-seconds 30] [--max-queued-bytes 1048576]
          --config FILE        router config (JSON; its "gateway": {"keys": [...]} turns on bearer auth)
          --listen HOST:PORT   address to serve on (default 127.0.0.1:4000; port 0 = any free port).
                               Loopback unless told otherwise: 0.0.0.0 must be written out.
          --drain-seconds N    on SIGTERM/SIGINT, wait up to N s (0…3600) for open requests (default 30)
          --max-queued-bytes N per stream, the most bytes (4096…1073741824) waiting for a client that reads
                               slower than the upstream sends; beyond it the request is cancelled (default 1 MiB)
        """

    package init(configPath: String) { self.configPath = configPath }

    /// Errors say which argument was wrong and why.
    package static func parse(_ args: [String]) throws -> GatewayOptions {
        var config: String?, listen: String?, drain: String?, queued: String?
        var i = 0
        func value(_ name: String) throws -> String {
            i += 1
            guard i < args.count else { throw PMXError(.invalidArgument, "\(name) needs a value") }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--config": config = try value("--config")
            case "--listen": listen = try value("--listen")
            case "--drain-seconds": drain = try value("--drain-seconds")
            case "--max-queued-bytes": queued = try value("--max-queued-bytes")
            default: throw PMXError(.invalidArgument, "unknown argument \"\(Secrets.shorten(args[i], maxBytes: 100))\"")
            }
            i += 1
        }
        guard let config else { throw PMXError(.invalidArgument, "--config is required") }
        var o = GatewayOptions(configPath: config)
        if let listen { (o.host, o.port) = try parseListen(listen) }
        if let drain {
            guard let n = Int(drain), (0...3600).contains(n) else {
                throw PMXError(.invalidArgument, "--drain-seconds: expected a whole number of seconds 0…3600, got \"\(Secrets.shorten(drain, maxBytes: 40))\"")
            }
            o.drainSeconds = n
        }
        if let queued {
            guard let n = Int(queued), (4096...(1 << 30)).contains(n) else {
                throw PMXError(.invalidArgument, "--max-queued-bytes: expected a whole number of bytes 4096…1073741824, got \"\(Secrets.shorten(queued, maxBytes: 40))\"")
            }
            o.maxQueuedBytes = n
        }
        return o
    }

    /// `HOST:PORT`, `[IPv6]:PORT`. The host is taken as written: binding to every interface
    /// needs an explicit 0.0.0.0 / [::].
    package static func parseListen(_ s: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":") else { throw PMXError(.invalidArgument, "--listen: expected HOST:PORT, got \"\(Secrets.shorten(s, maxBytes: 100))\"") }
        var host = String(s[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw PMXError(.invalidArgument, "--listen: the host is missing (write 127.0.0.1:PORT, or 0.0.0.0:PORT to serve every interface)") }
        guard let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port) else {
            throw PMXError(.invalidArgument, "--listen: expected a port 0…65535 after the last ':', got \"\(Secrets.shorten(s, maxBytes: 100))\"")
        }
        return (host, port)
    }
}
