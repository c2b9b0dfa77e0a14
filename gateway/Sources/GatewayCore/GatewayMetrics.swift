// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The gateway's own counters, added to the router's Prometheus text on `/metrics`: HTTP
/// requests by route and status, and the streams open now. Labels come from a fixed set
/// (the routes below, the statuses the gateway sends), so the series count stays bounded.
package final class GatewayMetrics: Sendable {
    package enum Route: String, Sendable, CaseIterable {
        case chat = "/v1/chat/completions", completions = "/v1/completions", embeddings = "/v1/embeddings", models = "/v1/models"
        case health = "/health", metrics = "/metrics", other = "other"
    }

    private struct Counts {
        var requests: [String: Int] = [:]
        var openStreams = 0
        var streamsServed = 0
    }
    private let counts = Locked(Counts())

    package init() {}

    package func count(_ route: Route, status: Int) {
        counts.withLock { $0.requests["\(route.rawValue)|\(status)", default: 0] = ($0.requests["\(route.rawValue)|\(status)"] ?? 0).addingSaturated(1) }
    }

    package func streamOpened() { counts.withLock { $0.openStreams += 1 } }
    package func streamClosed() {
        counts.withLock { c in
            c.openStreams = max(0, c.openStreams - 1)
            c.streamsServed = c.streamsServed.addingSaturated(1)
        }
    }

    package var openStreams: Int { counts.withLock { $0.openStreams } }

    /// Prometheus text exposition of the counters.
    package func prometheusText() -> String {
        let c = counts.withLock { $0 }
        var s = "# HELP pmx_gateway_http_requests_total HTTP requests answered by pmx-gateway, by route and status.\n"
        s += "# TYPE pmx_gateway_http_requests_total counter\n"
        for key in c.requests.keys.sorted() {
            let parts = key.split(separator: "|", maxSplits: 1)
            s += "pmx_gateway_http_requests_total{route=\"\(parts[0])\",status=\"\(parts.count > 1 ? parts[1] : "")\"} \(c.requests[key] ?? 0)\n"
        }
        s += "# HELP pmx_gateway_open_streams Streams being sent now.\n# TYPE pmx_gateway_open_streams gauge\n"
        s += "pmx_gateway_open_streams \(c.openStreams)\n"
        s += "# HELP pmx_gateway_streams_total Streams ended (completed, failed or abandoned by the client).\n"
        s += "# TYPE pmx_gateway_streams_total counter\npmx_gateway_streams_total \(c.streamsServed)\n"
        return s
    }
}
