/// An error as the ABI reports it: a status, a message naming what was wrong, and where known
/// the provider and HTTP status of the last attempt. Messages never contain secrets.
public struct PMXError: Error, Sendable, CustomStringConvertible {
    public var status: Status
    public var message: String
    public var httpStatus: Int = 0
    public var provider: String = ""
    public var attemptCount: Int = 0
    /// Attempt records (JSON objects) when the error ends a routed request.
    public var attempts: [JSONValue] = []
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

    public init(_ status: Status, _ message: String, httpStatus: Int = 0, provider: String = "", retryable: Bool? = nil) {
        self.retryable = retryable
        self.status = status
        // Provider error bodies can echo a request back: never let a known key through.
        self.message = Secrets.mask(message)
        self.httpStatus = httpStatus
        self.provider = provider
    }

    public var description: String { "\(status.nameString): \(message)" }

    /// The `error` stream event / error document.
    public func json() -> JSONValue {
        var o = JSONObject()
        o["type"] = "error"
        o["code"] = .int(Int64(status.rawValue))
        o["status_name"] = .string(status.nameString)
        o["error_class"] = .string(status.errorClass)
        o["http_status"] = .int(Int64(httpStatus))
        o["provider"] = .string(provider)
        o["message"] = .string(Secrets.mask(message))
        o["attempts"] = .array(attempts)
        if attemptsOmitted > 0 { o["attempts_omitted"] = .int(Int64(attemptsOmitted)) }
        if let partialUsage { o["usage"] = partialUsage.json() }
        return .object(o)
    }
}
