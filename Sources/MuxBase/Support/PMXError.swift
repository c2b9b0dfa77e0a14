// SPDX-License-Identifier: Apache-2.0

/// An error as the ABI reports it: a status, a message naming what was wrong, and where known
/// the provider and HTTP status of the last attempt. Messages never contain secrets.
public struct PMXError: Error, Sendable, CustomStringConvertible {
    public var status: Status
    public var message: String
    public var httpStatus: Int = 0
    public var provider: String = ""
    public var attemptCount: Int = 0
    /// Attempt records when the error ends a routed request.
    public var attempts: [AttemptRecord] = []
    /// Attempt records left out of `attempts` (a request keeps the first ones and the latest).
    public var attemptsOmitted: Int = 0
    /// Usage produced before the failure (a stream interrupted after output started).
    public var partialUsage: Usage? = nil
    /// nil: whether the same provider is tried again follows the error class (`retry_on`);
    /// false: never, the next provider is tried at once (a TLS certificate that failed
    /// verification fails the same way every time).
    public var retryable: Bool? = nil
    /// A circuit-open refusal: milliseconds until that circuit half-opens (0: already half-open,
    /// its probe in flight). The request's final PMX_ERR_CIRCUIT_OPEN names the soonest.
    public var circuitHalfOpensInMs: Int? = nil
    /// The id of the routed request this error ended (RequestID.swift); nil for errors that
    /// end no request (input errors, a refusal before the request started).
    public var requestID: String? = nil

    public init(_ status: Status, _ message: String, httpStatus: Int = 0, provider: String = "", retryable: Bool? = nil) {
        self.retryable = retryable
        self.status = status
        // Provider error bodies can echo a request back: never let a known key through.
        self.message = Secrets.mask(message)
        self.httpStatus = httpStatus
        self.provider = provider
    }

    public var description: String { "\(status.nameString): \(message)" }

    /// The `error` stream event / error document: the one place it is built.
    public func json() -> JSONValue {
        var o = JSONObject()
        o["type"] = "error"
        Self.writeStatus(status, into: &o)
        o["http_status"] = .int(Int64(httpStatus))
        o["provider"] = .string(provider)
        o["message"] = .string(Secrets.mask(message))
        AttemptRecord.write(attempts, omitted: attemptsOmitted, into: &o)
        if let partialUsage { o["usage"] = partialUsage.json() }
        if let requestID { o["request_id"] = .string(requestID) }
        return .object(o)
    }

    /// The fields that name a status in every error object (the error document, attempt
    /// records, retry / fallback events, model-list errors), in this order: `code`,
    /// `status_name`, then `error_class` unless `errorClass` is false (retry and fallback
    /// events have never carried it).
    public static func writeStatus(_ status: Status, errorClass: Bool = true, into o: inout JSONObject) {
        o["code"] = .int(Int64(status.rawValue))
        o["status_name"] = .string(status.nameString)
        if errorClass { o["error_class"] = .string(status.errorClass) }
    }
}
