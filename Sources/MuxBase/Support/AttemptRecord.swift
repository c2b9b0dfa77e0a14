// SPDX-License-Identifier: Apache-2.0

/// One attempt of a routed request, or a candidate passed over without one: what a response's
/// or an error's `attempts` array lists. Kept typed while the request runs; turned into JSON
/// only here (`json()`, `write(_:omitted:into:)`).
public struct AttemptRecord: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case ok, error
        /// Refused locally (open circuit, rate limit, budget): nothing was sent.
        case skipped
    }

    public var provider: String
    /// The model asked for ("" when the provider chose it).
    public var model: String
    public var outcome: Outcome
    /// The failure's status; nil for `ok`.
    public var status: Status?
    /// 200 for `ok`, 0 when no HTTP answer came (and for `skipped`).
    public var httpStatus: Int
    /// The failure's message (already masked: it comes from a `PMXError`); nil for `ok`.
    public var message: String?
    /// How long the attempt ran; nil for `skipped` (written as 0).
    public var latencyMs: Double?

    public init(provider: String, model: String, outcome: Outcome, status: Status? = nil, httpStatus: Int,
                message: String? = nil, latencyMs: Double?) {
        self.provider = provider
        self.model = model
        self.outcome = outcome
        self.status = status
        self.httpStatus = httpStatus
        self.message = message
        self.latencyMs = latencyMs
    }

    /// A sent attempt: `error` nil for a success.
    public static func sent(provider: String, model: String, error: PMXError?, latencyMs: Double) -> AttemptRecord {
        guard let e = error else { return AttemptRecord(provider: provider, model: model, outcome: .ok, httpStatus: 200, latencyMs: latencyMs) }
        return AttemptRecord(provider: provider, model: model, outcome: .error, status: e.status, httpStatus: e.httpStatus,
                             message: e.message, latencyMs: latencyMs)
    }

    /// A candidate passed over for `refusal`, without an attempt.
    public static func skipped(provider: String, model: String, refusal: PMXError) -> AttemptRecord {
        AttemptRecord(provider: provider, model: model, outcome: .skipped, status: refusal.status, httpStatus: 0,
                      message: refusal.message, latencyMs: nil)
    }

    /// The record as listed: provider, model, outcome, then (failures) code, status_name,
    /// error_class, http_status, message, and latency_ms (ms, rounded to the microsecond).
    public func json() -> JSONValue {
        var a = JSONObject()
        a.reserveCapacity(8)  // every key below: one allocation, not one per doubling
        a["provider"] = .string(provider)
        a["model"] = .string(model)
        a["outcome"] = .string(outcome.rawValue)
        if let status { PMXError.writeStatus(status, into: &a) }
        a["http_status"] = .int(Int64(httpStatus))
        if let message { a["message"] = .string(message) }
        a["latency_ms"] = latencyMs.map { .double(($0 * 1000).rounded() / 1000) } ?? .int(0)
        return .object(a)
    }

    /// A field of the record as `json()` writes it (nil when absent).
    public subscript(key: String) -> JSONValue? { json()[key] }

    /// Writes `attempts` (and `attempts_omitted` when records were left out) into a response
    /// or an error object: the one place both are written.
    public static func write(_ records: [AttemptRecord], omitted: Int, into o: inout JSONObject) {
        o["attempts"] = .array(records.map { $0.json() })
        if omitted > 0 { o["attempts_omitted"] = .int(Int64(omitted)) }
    }
}
