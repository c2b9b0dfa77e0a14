// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxProtocols
import Testing

// Waits a hostile or broken upstream writes into its response headers (and Google's RetryInfo
// body): every one is parsed without trapping into 0...HTTPErrorMapping.maxRetryAfterMs, or
// ignored (nil). Before the bound, `Retry-After: 1e20` and friends trapped in `Int(Double)`.

@Suite struct UpstreamHeaderNumbersTests {
    static let day = HTTPErrorMapping.maxRetryAfterMs

    private func wait(_ name: String, _ value: String, status: Int = 429) -> Int? {
        HTTPErrorMapping.retryAfterMs(HTTPResponseHead(status: status, headers: [(name, value)]), body: [])
    }

    @Test func theBoundIsOneDay() {
        #expect(Self.day == 86_400_000)
    }

    /// Huge but well-formed numbers mean "a long time": clamped to the bound, never a trap.
    @Test(arguments: ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"], [
        "1e20", "1e300", "1e308", "1.7976931348623157e308", "1e999", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "1234567890123456789012345678901234567890", String(repeating: "9", count: 400),
        "86400001", "1E20", "1e+20",
    ])
    func hugeWaitsAreClamped(name: String, value: String) {
        #expect(wait(name, value) == Self.day)
        #expect(HTTPErrorMapping.retryAfterMs(HTTPResponseHead(status: 503, headers: [(name, value)])) == Self.day)
    }

    /// Not a non-negative decimal: ignored, as if the header were absent.
    @Test(arguments: ["retry-after", "retry-after-ms", "x-ms-retry-after-ms"], [
        "inf", "+inf", "-inf", "infinity", "Infinity", "nan", "NaN", "-nan", "-0", "-1", "-1e20", "-9223372036854775808",
        "-1234567890123456789012345678901234567890", "+5", "0x10", "0x1p3", "", " ", ".", "e5", "1e", "1e+", "1.2.3",
        "1 2", "5s", "1_000", "٣", "1e20garbage",
    ])
    func garbageIsIgnored(name: String, value: String) {
        #expect(wait(name, value) == nil)
    }

    @Test func ordinaryWaitsUnchanged() {
        #expect(wait("retry-after", "2") == 2000)
        #expect(wait("retry-after", "0.0005") == 1)  // rounded up: never shorter than asked
        #expect(wait("retry-after", "1e3") == 1_000_000)
        #expect(wait("retry-after", "1e-999") == 0)
        #expect(wait("retry-after", "86400") == Self.day)
        #expect(wait("retry-after", "86401") == Self.day)
        #expect(wait("retry-after-ms", "0") == 0)
        #expect(wait("retry-after-ms", "86399999.5") == Self.day)
        #expect(wait("retry-after-ms", "1.") == 1)
        #expect(wait("retry-after-ms", ".5") == 1)
    }

    @Test(arguments: ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"], [
        ("99999999999999999999h", day), ("9223372036854775807s", day), (String(repeating: "9", count: 400) + "ms", day),
        ("1e20s", nil), ("-1s", nil), ("inf", nil), ("nan", nil), ("1.2.3s", nil), ("h", nil), ("25h", day), ("23h59m", 86_340_000),
        ("1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h", day), ("0s", 0), ("1ns", 1),
    ] as [(String, Int?)])
    func rateLimitResetsAreBounded(name: String, value: (String, Int?)) {
        #expect(wait(name, value.0) == value.1)
        #expect(HTTPErrorMapping.durationMs(value.0) == value.1)
    }

    @Test(arguments: ["99999999999999999999s", "1e20s", "-5s", "nan", String(repeating: "9", count: 400) + "s"])
    func googleRetryInfoIsBounded(delay: String) throws {
        let body = Array(#"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"\#(delay)"}]}}"#.utf8)
        let ms = HTTPErrorMapping.retryAfterMs(HTTPResponseHead(status: 429, headers: []), body: body)
        #expect(ms == nil || ms == Self.day)
        #expect(GeminiCodec().retryAfterMs(HTTPResponseHead(status: 429, headers: []), body: body) == ms)
    }

    /// Every codec reads the same family the same way.
    @Test func everyCodecIsBounded() {
        let codecs: [any WireCodec] = [OpenAICodec(), AnthropicCodec(), GeminiCodec(), OllamaCodec(), CohereCodec()]
        for codec in codecs {
            for (name, value) in [("retry-after", "1e20"), ("retry-after-ms", "1e300"), ("x-ratelimit-reset-tokens", "99999999999999999999h")] {
                let head = HTTPResponseHead(status: 429, headers: [(name, value)])
                #expect(codec.retryAfterMs(head, body: []) == Self.day)
            }
            #expect(codec.retryAfterMs(HTTPResponseHead(status: 429, headers: [("retry-after", "nan")]), body: []) == nil)
        }
    }
}

@Suite("HTTPErrorMapping")
struct HTTPErrorMappingTests {
    @Test("HTTP statuses map to status classes", arguments: [
        (400, Status.upstreamBadRequest), (413, .upstreamBadRequest), (422, .upstreamBadRequest),
        (401, .auth), (403, .permission), (404, .modelNotFound), (408, .timeout), (429, .rateLimited),
        (500, .upstreamServer), (502, .upstreamServer), (503, .upstreamServer), (529, .upstreamServer),
        (409, .upstreamHTTP), (418, .upstreamHTTP), (302, .upstreamHTTP), (451, .upstreamHTTP),
    ])
    func statuses(code: Int, status: Status) {
        #expect(HTTPErrorMapping.status(forHTTP: code) == status)
        let e = HTTPErrorMapping.error(status: code, body: [], provider: "p")
        #expect(e.status == status && e.httpStatus == code && e.provider == "p" && e.message == "HTTP \(code)")
    }

    private func head(_ headers: [(String, String)]) -> HTTPResponseHead { HTTPResponseHead(status: 429, headers: headers) }

    @Test("Retry-After in seconds, retry-after-ms and x-ms-retry-after-ms in milliseconds")
    func retryAfter() {
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "2")])) == 2000)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "0.2")])) == 200)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", " 3 ")])) == 3000)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "0")])) == 0)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after-ms", "150")])) == 150)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after-ms", "75.2")])) == 76)
        #expect(HTTPErrorMapping.retryAfterMs(head([("x-ms-retry-after-ms", "40")])) == 40)
        // The millisecond header is the more precise one and wins.
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "5"), ("retry-after-ms", "250")])) == 250)
        // HTTP-date, garbage, negative, absent: no minimum.
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")])) == nil)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "soon")])) == nil)
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "-1")])) == nil)
        #expect(HTTPErrorMapping.retryAfterMs(head([("x-other", "1")])) == nil)
        // Header lookup is case-insensitive on the name asked for.
        #expect(head([("retry-after", "1")]).header("Retry-After") == "1")
    }

    @Test("a 429 without Retry-After: rate-limit reset headers, else Google's RetryInfo in the body")
    func rateLimitResets() {
        #expect(HTTPErrorMapping.retryAfterMs(head([("x-ratelimit-reset-requests", "1s"), ("x-ratelimit-reset-tokens", "6m0s")]), body: []) == 360_000)
        #expect(HTTPErrorMapping.retryAfterMs(head([("x-ratelimit-reset-tokens", "20ms")]), body: []) == 20)
        // Retry-After still wins.
        #expect(HTTPErrorMapping.retryAfterMs(head([("retry-after", "2"), ("x-ratelimit-reset-tokens", "9s")]), body: []) == 2000)
        let google = Array(#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"27.5s"}]}}"#.utf8)
        #expect(HTTPErrorMapping.retryAfterMs(head([]), body: google) == 27_500)
        #expect(GeminiCodec().retryAfterMs(head([]), body: google) == 27_500)
        // Not a 429: reset headers are bookkeeping, not a wait.
        #expect(HTTPErrorMapping.retryAfterMs(HTTPResponseHead(status: 503, headers: [("x-ratelimit-reset-requests", "1s")]), body: []) == nil)
        #expect(HTTPErrorMapping.retryAfterMs(head([]), body: Array("not json".utf8)) == nil)
        // Go durations.
        #expect(HTTPErrorMapping.durationMs("1h2m3.5s") == 3_723_500)
        #expect(HTTPErrorMapping.durationMs("250ms") == 250)
        #expect(HTTPErrorMapping.durationMs("1.5us") == 1)
        #expect(HTTPErrorMapping.durationMs("") == nil)
        #expect(HTTPErrorMapping.durationMs("5 parsecs") == nil)
        #expect(HTTPErrorMapping.durationMs("s") == nil)
    }

    @Test("the provider's message is extracted from the OpenAI error body")
    func openAIErrorBody() {
        let body = #"{"error":{"message":"Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        let e = HTTPErrorMapping.error(status: 401, body: Array(body.utf8), provider: "openai")
        #expect(e.status == .auth)
        #expect(e.httpStatus == 401)
        #expect(e.provider == "openai")
        #expect(e.message.hasPrefix("HTTP 401: Incorrect API key provided"))
        #expect(!e.message.contains("invalid_request_error"))
        let rate = HTTPErrorMapping.error(status: 429, body: Array(#"{"error":{"message":"fake fault 429","type":"rate_limit_error","param":null,"code":null}}"#.utf8), provider: "p")
        #expect(rate.message == "HTTP 429: fake fault 429")
    }

    @Test("other error bodies: a string error, a top-level message, plain text, empty, very long")
    func otherBodies() {
        func msg(_ code: Int, _ body: String) -> String { HTTPErrorMapping.error(status: code, body: Array(body.utf8), provider: "p").message }
        #expect(msg(500, #"{"error":"model overloaded"}"#) == "HTTP 500: model overloaded")
        #expect(msg(503, #"{"message":"try later"}"#) == "HTTP 503: try later")
        #expect(msg(502, "<html>Bad Gateway</html>") == "HTTP 502: <html>Bad Gateway</html>")
        #expect(msg(500, "") == "HTTP 500")
        #expect(msg(500, "{}") == "HTTP 500")
        let long = msg(400, #"{"error":{"message":"\#(String(repeating: "x", count: 1000))"}}"#)
        #expect(long.count < 320)
        #expect(long.hasSuffix("…"))
    }

    @Test("transport failures map to connection / timeout / too large / cancelled")
    func transport() {
        #expect(HTTPErrorMapping.error(.connection("Connection refused"), provider: "p") == PMXError(.connection, "Connection refused"))
        #expect(HTTPErrorMapping.error(.timeout("no data"), provider: "p").status == .timeout)
        let big = HTTPErrorMapping.error(.tooLarge(4096), provider: "p")
        #expect(big.status == .responseTooLarge && big.message.contains("4096"))
        #expect(HTTPErrorMapping.error(.aborted, provider: "p").status == .cancelled)
        #expect(HTTPErrorMapping.error(.timeout("x"), provider: "p").provider == "p")
    }
}
