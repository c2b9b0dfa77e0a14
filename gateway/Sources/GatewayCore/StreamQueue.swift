// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The SSE bytes of one stream waiting for its client: appended on the router's loop thread,
/// taken whole by the response writer (one write per batch, not one per event), and bounded.
///
/// The router's loop reads an upstream as fast as it sends; the client may read slower, or
/// not at all (its socket buffers full, the writer suspended). Without a bound the gateway
/// would hold everything the upstream sends for that client (up to limits.max_response_bytes,
/// 64 MiB by default, per stream). With it, bytes that would take the queue above `limit`
/// are refused (`.full`: GatewayStream then cancels the request). One stream holds at most
/// `limit` bytes here plus the batch the writer is writing (also at most `limit`; one event
/// larger than `limit` is still admitted into an empty queue). The kernel's socket buffers
/// come on top; they are the kernel's and bounded.
package final class StreamQueue: @unchecked Sendable {
    package enum Push { case queued, full, closed }
    package enum Take { case bytes([UInt8]), failed(PMXError), end }

    private struct State {
        var pending: [UInt8] = []
        var failure: PMXError?
        var finished = false
        /// The writer is gone (response sent, failed, or abandoned): nothing is queued again.
        var closed = false
        /// The writer's task was cancelled (the connection is going away).
        var cancelled = false
        var peak = 0
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Locked(State())
    package let limit: Int
    private let metrics: GatewayMetrics

    package init(limit: Int, metrics: GatewayMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    /// Appends one event's bytes (loop thread), or refuses: `.full` when they would take the
    /// queue above `limit` (nothing is added), `.closed` when the writer is gone.
    package func push(_ bytes: [UInt8]) -> Push {
        let (outcome, peak, waiter): (Push, Int?, CheckedContinuation<Void, Never>?) = state.withLock { s in
            if s.closed || s.finished { return (.closed, nil, nil) }
            guard s.pending.isEmpty || bytes.count <= limit - s.pending.count else { return (.full, nil, nil) }
            s.pending.append(contentsOf: bytes)
            var peak: Int?
            if s.pending.count > s.peak {
                s.peak = s.pending.count
                peak = s.peak
            }
            defer { s.waiter = nil }
            return (.queued, peak, s.waiter)
        }
        if outcome == .queued { metrics.queued(bytes.count, streamPeak: peak) }
        waiter?.resume()
        return outcome
    }

    /// The request failed before any output (loop thread): the writer's first take says so.
    package func fail(_ e: PMXError) { end { $0.failure = e } }

    /// No more bytes will come (loop thread): the writer takes what is left, then `.end`.
    package func finish() { end { _ in } }

    /// The response is over (writer side): what is still queued is dropped, and later pushes
    /// say `.closed`.
    package func close() {
        let dropped = state.withLock { s -> Int in
            s.closed = true
            defer { s.pending = [] }
            return s.pending.count
        }
        metrics.dequeued(dropped)
    }

    /// Everything queued so far, the failure, or `.end` (finished and drained, closed, or the
    /// calling task cancelled); waits while the queue is empty. One taker at a time.
    package func take() async -> Take {
        while true {
            let ready: Take? = state.withLock { s in
                if !s.pending.isEmpty {
                    defer { s.pending = [] }
                    return .bytes(s.pending)
                }
                if let e = s.failure {
                    s.failure = nil
                    return .failed(e)
                }
                return s.finished || s.closed || s.cancelled ? .end : nil
            }
            if case .bytes(let b)? = ready { metrics.dequeued(b.count) }
            if let ready { return ready }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if !s.pending.isEmpty || s.failure != nil || s.finished || s.closed || s.cancelled { return true }
                        s.waiter = k
                        return false
                    }
                    if now { k.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.cancelled = true
                    defer { s.waiter = nil }
                    return s.waiter
                }
                waiter?.resume()
            }
        }
    }

    private func end(_ change: (inout State) -> Void) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            change(&s)
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }
}
