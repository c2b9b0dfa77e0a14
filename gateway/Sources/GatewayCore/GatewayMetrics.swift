// SPDX-License-Identifier: Apache-2.0
import MuxBase
import Synchronization

/// The gateway's own counters, added to the router's Prometheus text on `/metrics`: HTTP
/// requests by route and status, the streams open now, and the stream bytes waiting for
/// slow clients (StreamQueueBudget). Labels come from a fixed set
/// (the routes below, the statuses the gateway sends), so the series count stays bounded.
package final class GatewayMetrics: Sendable {
    package enum Route: String, Sendable, CaseIterable {
        case chat = "/v1/chat/completions", completions = "/v1/completions", embeddings = "/v1/embeddings", models = "/v1/models"
        case images = "/v1/images/generations", moderations = "/v1/moderations", rerank = "/v1/rerank"
        case transcriptions = "/v1/audio/transcriptions", speech = "/v1/audio/speech", responses = "/v1/responses"
        case health = "/health", metrics = "/metrics", other = "other"

        /// Every path the gateway answers, for the 404's message.
        package static var served: String { allCases.filter { $0 != .other }.map(\.rawValue).joined(separator: ", ") }
    }

    private struct Counts {
        var requests: [String: Int] = [:]
        var openStreams = 0
        var streamsServed = 0
        var overruns = 0
    }
    private let counts = Locked(Counts())
    /// Bytes encoded for streams and not yet written to their clients, all streams together,
    /// and the most any one stream has had waiting: atomics, as they change per chunk.
    private let queuedNow = Atomic<Int>(0)
    private let queuedPeak = Atomic<Int>(0)

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

    /// `count` bytes were queued for a client; `streamPeak` is that stream's new high-water
    /// mark when it rose.
    package func queued(_ count: Int, streamPeak: Int?) {
        queuedNow.wrappingAdd(count, ordering: .relaxed)
        guard let peak = streamPeak else { return }
        var seen = queuedPeak.load(ordering: .relaxed)
        while peak > seen {
            let (exchanged, now) = queuedPeak.compareExchange(expected: seen, desired: peak, ordering: .relaxed)
            if exchanged { break }
            seen = now
        }
    }

    package func dequeued(_ count: Int) { queuedNow.wrappingSubtract(count, ordering: .relaxed) }

    /// A stream was stopped because its client read too slowly.
    package func streamOverran() { counts.withLock { $0.overruns = $0.overruns.addingSaturated(1) } }

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
        s += "# HELP pmx_gateway_stream_queued_bytes Stream bytes encoded and not yet written to their clients, all streams.\n"
        s += "# TYPE pmx_gateway_stream_queued_bytes gauge\npmx_gateway_stream_queued_bytes \(queuedNow.load(ordering: .relaxed))\n"
        s += "# HELP pmx_gateway_stream_queued_bytes_peak The most bytes any one stream has had waiting for its client (bounded by --max-queued-bytes).\n"
        s += "# TYPE pmx_gateway_stream_queued_bytes_peak gauge\npmx_gateway_stream_queued_bytes_peak \(queuedPeak.load(ordering: .relaxed))\n"
        s += "# HELP pmx_gateway_stream_overruns_total Streams stopped (request cancelled) because their client read too slowly.\n"
        s += "# TYPE pmx_gateway_stream_overruns_total counter\npmx_gateway_stream_overruns_total \(c.overruns)\n"
        return s
    }
}
