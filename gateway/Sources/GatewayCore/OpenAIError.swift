// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// An OpenAI error object (`{"error":{"message","type","param","code"}}`) with the HTTP status
/// it goes out with: what every gateway failure becomes, so that an OpenAI SDK raises the
/// exception its users already catch (BadRequestError, AuthenticationError, NotFoundError,
/// RateLimitError, APIStatusError for 5xx).
package struct OpenAIError: Error, Sendable {
    package var httpStatus: Int
    package var type: String
    package var code: String?
    package var param: String?
    package var message: String
    /// Seconds for `Retry-After` (429 and 503 only).
    package var retryAfterSeconds: Int?

    package init(httpStatus: Int, type: String, code: String?, param: String? = nil, message: String, retryAfterSeconds: Int? = nil) {
        self.httpStatus = httpStatus
        self.type = type
        self.code = code
        self.param = param
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The object as sent: keys masked (a provider may echo one in its error text).
    package var json: JSONValue {
        var e = JSONObject()
        e["message"] = .string(Secrets.mask(message))
        e["type"] = .string(type)
        e["param"] = param.map { JSONValue.string($0) } ?? .null
        e["code"] = code.map { JSONValue.string($0) } ?? .null
        return ["error": .object(e)]
    }

    package var body: [UInt8] {
        var b = JSONWriter.bytes(json)
        Secrets.mask(&b)
        return b
    }

    // MARK: The gateway's own refusals

    package static let unauthorized = OpenAIError(
        httpStatus: 401, type: "invalid_request_error", code: "invalid_api_key",
        message: "missing or invalid API key: send Authorization: Bearer <one of the gateway's keys>")

    package static func notFound(_ method: String, _ path: String) -> OpenAIError {
        OpenAIError(httpStatus: 404, type: "invalid_request_error", code: "unknown_url",
                    message: "no route \(method) \(Secrets.shorten(path, maxBytes: 200)): this gateway serves \(GatewayMetrics.Route.served)")
    }

    package static func tooLarge(_ limit: Int) -> OpenAIError {
        OpenAIError(httpStatus: 413, type: "invalid_request_error", code: "request_too_large",
                    message: "request body larger than limits.max_request_bytes (\(limit) bytes)")
    }

    package static func invalidBody(_ e: PMXError) -> OpenAIError {
        OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_json", message: "request body: \(e.message)")
    }

    // MARK: A routed request's failure

    /// The status, type and code of a router error. `retryAfterMs` is the wait the router
    /// knows of (a rate limiter's next slot, a circuit's half-open time) for 429 / 503.
    package init(_ e: PMXError, retryAfterMs: Int? = nil) {
        let (status, type, code) = Self.classify(e.status)
        self.init(httpStatus: status, type: type, code: code, param: status == 400 ? Self.param(of: e.message) : nil,
                  message: e.message)
        if status == 429 || status == 503 {
            // Whole seconds, at least 1: a client must not come back at once.
            retryAfterSeconds = max(1, (min(retryAfterMs ?? 1000, 86_400_000) + 999) / 1000)
        }
    }

    /// HTTP status, OpenAI error type and code for each core status:
    /// 400 the request is wrong (also when an upstream said so: it would say it again),
    /// 404 no provider serves that model, 429 a limit (the router's own, an upstream's, a
    /// budget), 502 providers answered but badly (5xx, broken streams, refused our key),
    /// 503 none could be reached (connection, every circuit open, router closing), 504 timeout.
    package static func classify(_ s: Status) -> (Int, String, String) {
        switch s {
        case .invalidArgument, .invalidJSON, .invalidUTF8, .invalidRequest, .upstreamBadRequest, .wouldDeadlock:
            (400, "invalid_request_error", s.errorClass)
        case .contextLengthExceeded: (400, "invalid_request_error", "context_length_exceeded")
        case .contentFiltered: (400, "invalid_request_error", "content_filter")
        case .unsupported: (400, "invalid_request_error", "unsupported")
        case .noProvider, .providerNotFound, .modelNotFound: (404, "invalid_request_error", "model_not_found")
        case .rateLimited: (429, "rate_limit_error", "rate_limit_exceeded")
        case .quotaExceeded: (429, "insufficient_quota", "insufficient_quota")
        case .budgetExceeded: (429, "insufficient_quota", "budget_exceeded")
        case .auth, .permission, .upstreamHTTP, .upstreamServer, .upstreamProtocol, .streamInterrupted, .responseTooLarge:
            (502, "server_error", "upstream_error")
        case .connection, .circuitOpen, .modelNotLoaded, .routerClosed: (503, "server_error", "upstream_unavailable")
        case .timeout: (504, "server_error", "timeout")
        case .ok, .config, .envVarMissing, .unknownProviderType, .duplicateProvider, .cancelled, .internal:
            (500, "server_error", s.errorClass)
        }
    }

    /// The field a validation message names first (`messages[2].role: is required` →
    /// `messages[2].role`), as OpenAI's `param`; nil when the message names none.
    package static func param(of message: String) -> String? {
        guard let colon = message.firstIndex(of: ":") else { return nil }
        let head = message[..<colon]
        guard !head.isEmpty, head.utf8.count <= 128,
              head.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") }) else { return nil }
        return String(head)
    }
}
