// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import MuxBase
import Synchronization

/// A router's per-request observer (pmx_router_set_observer): one record per request, handed
/// over on the loop thread when the request ends, just before its terminal event goes to the
/// consumer — so a blocking call returns only after the observer's call for its request has
/// returned.
///
/// Costs nothing per request while unset: `Router.start` reads one atomic flag and builds no
/// recorder; nothing per event either (the terminal event is the only one looked at).
///
/// Replacing: a request records only if an observer was set when it started, and its record
/// goes to the observer in force when it ends (none: dropped). `set` waits for a call of the
/// previous observer running on the loop to return, so that the caller may free what the old
/// one uses — except on an I/O thread (inside a callback of this or another router), where
/// waiting could deadlock: there the old one may still be finishing a call on another loop.
public final class ObserverSlot: @unchecked Sendable {
    public typealias Observer = @Sendable (JSONObject) -> Void

    private let active = Atomic<Bool>(false)
    private let lock = ConditionLock()
    // Under `lock`.
    private var observer: Observer?
    private var generation: UInt64 = 0
    /// The generation of the observer being called right now (nil between calls).
    private var calling: UInt64?

    public init() {}

    /// Whether requests starting now are recorded. Lock-free.
    @inline(__always) public var isActive: Bool { active.load(ordering: .relaxed) }

    public func set(_ newObserver: Observer?) {
        lock.lock()
        defer { lock.unlock() }
        observer = newObserver
        generation &+= 1
        active.store(newObserver != nil, ordering: .relaxed)
        let mine = generation
        guard !IOThread.isCurrent else { return }
        while let g = calling, g < mine { lock.wait() }
    }

    /// Calls the observer in force with `record()` (built only when there is one). Loop thread.
    public func deliver(_ record: () -> JSONObject) {
        lock.lock()
        guard let o = observer else { lock.unlock(); return }
        calling = generation
        lock.unlock()
        o(record())
        lock.lock()
        calling = nil
        lock.unlock()
        lock.signal()
    }
}

/// What a recorded request remembers from its start, and the record built from its terminal
/// event. Made only while an observer is set (`ObserverSlot.isActive`).
public final class RequestRecorder: @unchecked Sendable {
    public let requestID: String
    /// The openai SDK's resource path of the call: "chat.completions.create", "embeddings.create".
    public let operation: String
    public let stream: Bool
    public let metadata: JSONValue?
    public let requestedModel: String?
    /// Set once the route is planned (a cache hit has none).
    public var lane: String?
    private let startNs: UInt64
    private let startedAt: Double

    public init(requestID: String, operation: String, stream: Bool, metadata: JSONValue?, requestedModel: String?) {
        self.requestID = requestID
        self.operation = operation
        self.stream = stream
        self.metadata = metadata
        self.requestedModel = requestedModel
        startNs = MonotonicClock.nanos()
        startedAt = Self.wallSeconds()
    }

    /// Seconds since the epoch with sub-millisecond precision (the record's start/end times).
    static func wallSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The record of a request that ended with `terminal` (`done` or `error`).
    /// `typeOf` names a provider's type ("openai", ...; nil when it is no longer in the router).
    /// Fields: request_id, operation, stream, metadata, lane, model_requested, provider,
    /// provider_type, model (served), attempts, latency_ms, ttft_ms, usage, cost_usd, cache_hit, status ("ok" /
    /// "error"), code, status_name, http_status, error_class and message (errors), started_at
    /// and ended_at (Unix seconds). Absent values are null, so every record has every key.
    public func record(_ terminal: ExecutionEvent, cacheHit: Bool = false, typeOf: (String) -> String? = { _ in nil }) -> JSONObject {
        let endedAt = Self.wallSeconds()
        let now = MonotonicClock.nanos()
        let elapsedMs = now > startNs ? Double(now - startNs) / 1_000_000 : 0
        var o = JSONObject()
        o.reserveCapacity(24)
        o["request_id"] = .string(requestID)
        o["operation"] = .string(operation)
        o["stream"] = .bool(stream)
        o["metadata"] = metadata ?? .null
        o["lane"] = lane.map { .string($0) } ?? .null
        o["model_requested"] = requestedModel.map { .string($0) } ?? .null
        var usage: JSONValue = .null
        switch terminal {
        case .done(let r):
            o["provider"] = r["provider"] ?? .null
            o["model"] = r["model"] ?? .null
            o["attempts"] = r["attempts"] ?? .array([])
            o["latency_ms"] = cacheHit ? .double(Self.rounded(elapsedMs)) : (r["latency_ms"] ?? .double(Self.rounded(elapsedMs)))
            o["ttft_ms"] = r["ttft_ms"] ?? .null
            usage = r["usage"] ?? .null
            o["status"] = "ok"
            PMXError.writeStatus(.ok, errorClass: false, into: &o)
            o["http_status"] = .int(cacheHit ? 0 : 200)
            o["error_class"] = .null
            o["message"] = .null
        case .error(let e):
            let last = e.attempts.last
            o["provider"] = e.provider.isEmpty ? (last.map { .string($0.provider) } ?? .null) : .string(e.provider)
            o["model"] = last.map { $0.model.isEmpty ? .null : .string($0.model) } ?? .null
            var attempts = JSONObject()
            AttemptRecord.write(e.attempts, omitted: e.attemptsOmitted, into: &attempts)
            o["attempts"] = attempts["attempts"] ?? .array([])
            o["latency_ms"] = .double(Self.rounded(elapsedMs))
            o["ttft_ms"] = .null
            usage = e.partialUsage?.json() ?? .null
            o["status"] = "error"
            PMXError.writeStatus(e.status, errorClass: false, into: &o)
            o["http_status"] = .int(Int64(e.httpStatus))
            o["error_class"] = .string(e.status.errorClass)
            o["message"] = .string(e.message)
        default:
            break
        }
        o["provider_type"] = o["provider"]?.stringValue.flatMap(typeOf).map { .string($0) } ?? .null
        o["usage"] = usage
        o["cost_usd"] = usage["cost_usd"] ?? .null
        o["cache_hit"] = .bool(cacheHit)
        o["started_at"] = .double(startedAt)
        o["ended_at"] = .double(endedAt)
        return o
    }

    private static func rounded(_ ms: Double) -> Double { (ms * 1000).rounded() / 1000 }
}
