// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Maps provider HTTP answers and transport failures onto the status taxonomy.
public enum HTTPErrorMapping {
    public static func status(forHTTP code: Int) -> Status {
        switch code {
        case 400, 413, 422: .upstreamBadRequest
        case 401: .auth
        case 403: .permission
        case 404: .modelNotFound
        case 408: .timeout
        case 429: .rateLimited
        case 500...599: .upstreamServer
        default: .upstreamHTTP
        }
    }

    /// Whether a failure of this class is worth retrying on the same provider.
    public static func isRetryable(_ e: PMXError) -> Bool {
        switch e.status {
        case .connection, .timeout, .rateLimited, .upstreamServer, .modelNotLoaded: true
        case .upstreamHTTP: e.httpStatus == 408 || e.httpStatus == 409
        default: false
        }
    }

    /// An error for a non-2xx answer. The provider's own message is kept (shortened).
    public static func error(status code: Int, body: [UInt8], provider: String) -> PMXError {
        var detail = ""
        var kind = ""  // the provider's own error type/code words, for refining the class
        if let json = try? JSONParser.parse(body) {
            let err = json["error"]
            if let m = err?["message"]?.stringValue { detail = m }
            else if let m = err?.stringValue { detail = m }
            else if let m = json["message"]?.stringValue { detail = m }
            kind = [err?["type"]?.stringValue, err?["code"]?.stringValue, err?["status"]?.stringValue, json["type"]?.stringValue]
                .compactMap { $0 }.joined(separator: " ")
        } else if !body.isEmpty {
            detail = ErrorText.shorten(body: body)  // masked, then cut
        }
        detail = ErrorText.shorten(detail)
        let message = "HTTP \(code)" + (detail.isEmpty ? "" : ": \(detail)")
        return PMXError(refine(status(forHTTP: code), kind: kind, message: detail), message, httpStatus: code, provider: provider)
    }

    /// Narrows a class from the provider's error type/code and message, where providers say
    /// more than the HTTP status does (OpenAI answers 429 both for "slow down" and "no credit").
    public static func refine(_ base: Status, kind: String, message: String) -> Status {
        let k = kind.lowercased(), m = message.lowercased()
        if k.contains("insufficient_quota") || k.contains("quota") || m.contains("exceeded your current quota") { return .quotaExceeded }
        if k.contains("context_length_exceeded") || m.contains("maximum context length") || m.contains("context window")
            || m.contains("prompt is too long") || m.contains("too many tokens") { return .contextLengthExceeded }
        if k.contains("content_filter") || k.contains("content_policy") || k.contains("safety")
            || m.contains("safety system") || m.contains("content management policy") || m.contains("content_filter") { return .contentFiltered }
        if k.contains("permission") && base != .auth { return .permission }
        return base
    }

    public static func error(_ failure: TransportFailure, provider: String) -> PMXError {
        switch failure {
        case .connection(let m): PMXError(.connection, m, provider: provider)
        case .certificate(let m): PMXError(.connection, m, provider: provider, retryable: false)
        case .timeout(let m): PMXError(.timeout, m, provider: provider)
        case .tooLarge(let limit): PMXError(.responseTooLarge, "response larger than \(limit) bytes (limits.max_response_bytes)", provider: provider)
        case .aborted: PMXError(.cancelled, "cancelled", provider: provider)
        }
    }

    /// The longest wait read from a response: one day. A server's Retry-After family,
    /// rate-limit reset headers and Google's RetryInfo are clamped to it (`Retry-After: 1e20`
    /// is "one day", not a trap or a century); the router's own `max_retry_after_ms` caps the
    /// resulting cooldown further.
    public static let maxRetryAfterMs = 86_400_000

    /// The server's minimum wait before a retry, from `retry-after-ms`, `x-ms-retry-after-ms`
    /// or `retry-after` (seconds), in 0...`maxRetryAfterMs`. HTTP-date forms, negative numbers,
    /// inf/nan/hex spellings and garbage are ignored (nil).
    public static func retryAfterMs(_ head: HTTPResponseHead) -> Int? {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let v = head.header(name), let ms = decimal(v) { return boundedMs(ms) }
        }
        if let v = head.header("retry-after"), let s = decimal(v) { return boundedMs(s * 1000) }
        return nil
    }

    /// As `retryAfterMs(head)`, and when a 429 carries no Retry-After: the rate-limit reset
    /// headers (`x-ratelimit-reset-requests` / `-tokens`, OpenAI and Groq, durations such as
    /// "1s", "6m0s", "20ms"; the longer wins), else Google's `RetryInfo.retryDelay` in the
    /// error body ("30s"). The router treats it as a minimum cooldown of the provider.
    /// Always in 0...`maxRetryAfterMs`.
    public static func retryAfterMs(_ head: HTTPResponseHead, body: [UInt8]) -> Int? {
        if let ms = retryAfterMs(head) { return ms }
        guard head.status == 429 else { return nil }
        let resets = ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"].compactMap { head.header($0).flatMap(durationMs) }
        if let longest = resets.max() { return longest }
        if let json = try? JSONParser.parse(body), let details = json["error"]?["details"]?.arrayValue {
            for d in details where d["@type"]?.stringValue?.hasSuffix("google.rpc.RetryInfo") == true {
                if let delay = d["retryDelay"]?.stringValue, let ms = durationMs(delay) { return ms }
            }
        }
        return nil
    }

    /// A Go-style duration ("1h2m3.5s", "250ms", "6m0s", "30s") in milliseconds, rounded up and
    /// clamped to `maxRetryAfterMs` ("99999999999999999999h" is one day).
    package static func durationMs(_ text: String) -> Int? {
        let u = Array(text.trimmingSpaces.utf8)
        guard !u.isEmpty else { return nil }
        var i = 0, totalMs = 0.0
        while i < u.count {
            var j = i
            while j < u.count, (u[j] >= 0x30 && u[j] <= 0x39) || u[j] == 0x2E { j += 1 }
            guard j > i, let n = Double(String(decoding: u[i..<j], as: UTF8.self)) else { return nil }
            var k = j
            while k < u.count, !((u[k] >= 0x30 && u[k] <= 0x39) || u[k] == 0x2E) { k += 1 }
            let unit = String(decoding: u[j..<k], as: UTF8.self)
            switch unit {
            case "h": totalMs += n * 3_600_000
            case "m": totalMs += n * 60_000
            case "s": totalMs += n * 1000
            case "ms": totalMs += n
            case "us", "µs": totalMs += n / 1000
            case "ns": totalMs += n / 1_000_000
            default: return nil
            }
            i = k
        }
        return boundedMs(totalMs)  // a 400-digit count is +infinity here: one day
    }

    /// A wait in ms as an Int in 0...`maxRetryAfterMs`, rounded up; nil for NaN or negative.
    package static func boundedMs(_ ms: Double) -> Int? {
        guard !ms.isNaN, ms >= 0 else { return nil }
        return SafeNumbers.int(Swift.min(ms, Double(maxRetryAfterMs)).rounded(.up), lo: 0, hi: maxRetryAfterMs)
    }

    /// A non-negative decimal as servers write waits: digits, an optional fraction and an
    /// optional exponent ("2", "0.25", "75.2", "1e3"), spaces around allowed. No sign, and none
    /// of the other spellings `Double(String)` takes ("inf", "nan", "0x1p3"): those are garbage.
    package static func decimal(_ text: String) -> Double? {
        let u = Array(text.trimmingSpaces.utf8)
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        var i = 0, digits = 0
        while i < u.count, isDigit(u[i]) { i += 1; digits += 1 }
        if i < u.count, u[i] == 0x2E {
            i += 1
            while i < u.count, isDigit(u[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < u.count, u[i] == 0x65 || u[i] == 0x45 {  // e / E
            i += 1
            if i < u.count, u[i] == 0x2B || u[i] == 0x2D { i += 1 }
            let expStart = i
            while i < u.count, isDigit(u[i]) { i += 1 }
            guard i > expStart else { return nil }
        }
        guard i == u.count, let d = Double(String(decoding: u, as: UTF8.self)), !d.isNaN else { return nil }
        return d  // may be +infinity ("1e999", 400 digits): boundedMs clamps it
    }
}

extension String {
    /// Without leading/trailing spaces, tabs, CR and LF. Works on bytes: "\r\n" is a single
    /// Swift Character, so Character comparisons would miss it.
    package var trimmingSpaces: String {
        let u = Array(utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var lo = 0, hi = u.count
        while lo < hi && isSpace(u[lo]) { lo += 1 }
        while hi > lo && isSpace(u[hi - 1]) { hi -= 1 }
        return String(decoding: u[lo..<hi], as: UTF8.self)
    }
}
