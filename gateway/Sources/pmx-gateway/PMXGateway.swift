// SPDX-License-Identifier: Apache-2.0
// pmx-gateway: one router (the config file's) served as OpenAI-compatible HTTP.
// README "Gateway"; the routes are in Gateway.swift, the OpenAI shapes in GatewayCore.
#if canImport(Glibc)
import Glibc
#endif
import GatewayCore
import Hummingbird
import MuxBase
import MuxConfig
import MuxRouting
import NIOCore
import ServiceLifecycle

@main
enum PMXGateway {
    static func main() async {
        // Before any task exists: NIO's event loops become Swift's executor (LoopExecutor).
        LoopExecutor.installAsGlobalExecutor()
        let options: GatewayOptions
        do {
            options = try GatewayOptions.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            fail("\((error as? PMXError)?.message ?? "\(error)")\n\(GatewayOptions.usage)", status: 2)
        }
        // The library's log lines (keys already masked) go to stderr; PMX_LOG_LEVEL sets the level.
        Log.setSink({ level, line in writeLine(2, "pmx-gateway [\(level)] \(line)") }, minLevel: logLevel())

        let config: RouterConfig
        let router: MuxRouting.Router
        do {
            config = try RouterConfig.parse(JSONParser.parse(try ConfigFile.read(options.configPath)))
            router = try MuxRouting.Router(config: config)
        } catch {
            fail("\(options.configPath): \((error as? PMXError)?.message ?? "\(error)")", status: 1)
        }

        let gateway = Gateway(router: router, keys: config.gateway?.keys, maxRequestBytes: config.maxRequestBytes,
                              maxQueuedBytes: options.maxQueuedBytes)
        let auth = config.gateway == nil ? "off" : "on"
        let app = Application(
            router: gateway.routes(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "pmx-gateway"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                // One line on stdout, as the fake upstream prints: scripts and tests read the port.
                writeLine(1, "PORT \(port)")
                Log.info("listening on \(options.host):\(port) (bearer auth \(auth))")
            }
        )

        // SIGTERM / SIGINT: stop accepting, let open requests and streams finish for up to
        // --drain-seconds, then stop what is left; exit 0 either way (the drain is the normal end).
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: app.logger)
        group.maximumGracefulShutdownDuration = .seconds(options.drainSeconds)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch {
            Log.warn("shutdown: \(error)")
        }
        router.close()
        exit(0)
    }

    static func logLevel() -> LogLevel {
        switch getenv("PMX_LOG_LEVEL").map({ String(cString: $0) }) ?? "" {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "error": .error
        default: .warn
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        writeLine(2, "pmx-gateway: \(Secrets.mask(message))")
        exit(status)
    }
}

/// One whole line to a file descriptor, unbuffered (stdout is a pipe in tests: a buffered
/// PORT line would never arrive). Not stdio's `stderr`/`stdout`: global C vars, not Sendable.
func writeLine(_ fd: Int32, _ text: String) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}
