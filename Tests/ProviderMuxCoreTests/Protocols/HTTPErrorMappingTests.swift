import Testing
@testable import ProviderMuxCore

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
