// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxAccounting
import Testing

// Extreme numbers in every usage / duration / cost / index field of every protocol's answer, in
// the non-streamed body and in the stream events (bytes in, events out, no network). Each must
// be clamped as `Usage` documents, or refused as a protocol error of that attempt where jansson
// cannot hold the number at all (a 40-digit integer, 1e999) — never a trap.

// MARK: - Fixtures

private func provider(_ type: String, _ base: String) throws -> ProviderConfig {
    try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"\#(type)","base_url":"\#(base)","api_key":"k","default_model":"m"}"#),
                             path: "providers[0]", lookup: { _ in nil })
}

/// The values fed to every numeric field, with what a token count becomes (nil: the document is
/// refused by the JSON parser, so the attempt fails with PMX_ERR_UPSTREAM_PROTOCOL).
let extremes: [(text: String, count: Int?)] = [
    ("9223372036854775807", Usage.maxTokens),
    ("-9223372036854775808", 0),
    ("-1", 0),
    ("1e308", Usage.maxTokens),
    ("-1e308", 0),
    ("1.7976931348623157e308", Usage.maxTokens),
    ("1000000000001", Usage.maxTokens),
    ("12.9", 12),
    ("0", 0),
    ("-0", 0),
    ("1234567890123456789012345678901234567890", nil),
    ("-1234567890123456789012345678901234567890", nil),
    ("1e999", nil),
    ("-1e999", nil),
]

private struct Decoded {
    var events: [ProviderEvent] = []
    var error: PMXError?
    var usage: Usage? {
        events.reduce(nil) { last, e in if case .usage(let u) = e { return u }; return last }
    }
}

private func stream(_ codec: some WireCodec, _ p: ProviderConfig, _ bytes: String) -> Decoded {
    var out = Decoded()
    let decoder = codec.streamDecoder(model: "m", provider: p)
    do {
        try Array(bytes.utf8).withUnsafeBytes { try decoder.feed($0) { out.events.append($0) } }
        try decoder.finish { out.events.append($0) }
    } catch let e as PMXError { out.error = e } catch { Issue.record("unexpected error \(error)") }
    for case .error(let e) in out.events where out.error == nil { out.error = e }
    return out
}

private func nonStream(_ codec: some WireCodec, _ p: ProviderConfig, _ body: String) -> (usage: JSONValue?, error: PMXError?) {
    do {
        let r = try codec.decodeChat(Array(body.utf8), model: "m", provider: p)
        return (r["usage"], nil)
    } catch let e as PMXError { return (nil, e) } catch { Issue.record("unexpected error \(error)"); return (nil, nil) }
}

/// Expected token count after clamping a sum of `k` fields each clamped to `c`.
private func sum(_ c: Int, _ k: Int) -> Int { min(c * k, Usage.maxTokens) }

private func expectRefused(_ e: PMXError?, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(e?.status == .upstreamProtocol, sourceLocation: sourceLocation)
}

// MARK: - Usage itself

@Suite struct UsageBoundsTests {
    @Test func theBounds() {
        #expect(Usage.maxTokens == 1_000_000_000_000)
        #expect(Usage.maxCostUSD == 1_000_000)
        #expect(Usage.maxTokensPerSecond == 1e12)
    }

    @Test func countsAreClampedAndTheTotalCannotOverflow() {
        let u = Usage(promptTokens: .max, completionTokens: .max)
        #expect(u.promptTokens == Usage.maxTokens && u.completionTokens == Usage.maxTokens)
        #expect(u.totalTokens == Usage.maxTokens)  // every count is in 0...maxTokens, the total too
        let n = Usage(promptTokens: -5, completionTokens: .min, totalTokens: -1, cachedTokens: -3)
        #expect(n.promptTokens == 0 && n.completionTokens == 0 && n.totalTokens == 0 && n.cachedTokens == 0)
        #expect(Usage(promptTokens: 1, completionTokens: 1, totalTokens: .max).totalTokens == Usage.maxTokens)
    }

    @Test func ratesAndCostsAreFiniteAndBounded() {
        var u = Usage(promptTokens: 1, completionTokens: 1)
        for bad in [Double.nan, .infinity, -.infinity, -1, -.leastNonzeroMagnitude] {
            u.costUSD = bad
            #expect(u.costUSD == nil)
            u.tokensPerSecond = bad
            #expect(u.tokensPerSecond == nil)
        }
        u.costUSD = 1e300
        #expect(u.costUSD == Usage.maxCostUSD)
        u.tokensPerSecond = .greatestFiniteMagnitude
        #expect(u.tokensPerSecond == Usage.maxTokensPerSecond)
        u.costUSD = 0.25
        #expect(u.costUSD == 0.25)
        #expect(JSONWriter.string(u.json()).contains("\"cost_usd\":0.25"))
    }

    @Test(arguments: extremes)
    func openAIUsageObject(value: (text: String, count: Int?)) throws {
        let text = #"{"prompt_tokens":\#(value.text),"completion_tokens":\#(value.text),"total_tokens":\#(value.text),"prompt_tokens_details":{"cached_tokens":\#(value.text)},"tokens_per_second":\#(value.text),"cost_usd":\#(value.text)}"#
        guard let c = value.count else {
            #expect(throws: PMXError.self) { try JSONParser.parse(text) }  // jansson refuses it
            return
        }
        let u = try #require(Usage(openAI: JSONParser.parse(text)))
        #expect(u.promptTokens == c && u.completionTokens == c && u.totalTokens == c && u.cachedTokens == c)
        #expect(u.costUSD == nil)  // the upstream's cost_usd is reported apart, not the router's cost
        if let cost = u.upstreamCostUSD { #expect(cost >= 0 && cost <= Usage.maxCostUSD) }
        if let tps = u.tokensPerSecond { #expect(tps >= 0 && tps <= Usage.maxTokensPerSecond) }
        if value.text.hasPrefix("-") && value.text != "-0" { #expect(u.upstreamCostUSD == nil && u.tokensPerSecond == nil) }
    }

    @Test func sanitizedKeepsShapeAndBoundsEveryNumber() throws {
        let raw = try JSONParser.parse(#"{"prompt_tokens":9223372036854775807,"completion_tokens":-4,"total_tokens":1e308,"#
            + #""completion_tokens_details":{"reasoning_tokens":-1,"audio_tokens":12.5,"note":"x"},"cost":1e300,"cost_usd":-2,"#
            + #""tokens_per_second":1e300,"is_byok":false,"server_tool_use":{"web_search_requests":-3},"#
            + #""cost_details":{"upstream_inference_cost":0.002,"upstream_inference_completions_cost":-1},"#
            + #""queue_time":0.0123,"total_time":1e308,"prompt_time":-0.5}"#)
        let s = Usage.sanitized(raw)
        #expect(s["prompt_tokens"] == .int(Int64(Usage.maxTokens)))
        #expect(s["completion_tokens"] == .int(0))
        #expect(s["total_tokens"] == .int(Int64(Usage.maxTokens)))
        #expect(s["completion_tokens_details"]?["reasoning_tokens"] == .int(0))
        #expect(s["completion_tokens_details"]?["audio_tokens"] == .int(12))
        #expect(s["completion_tokens_details"]?["note"] == "x")
        #expect(s["cost"] == .double(Usage.maxCostUSD))
        #expect(s["cost_usd"] == nil)  // a negative cost is no cost
        #expect(s["tokens_per_second"] == .double(Usage.maxTokensPerSecond))
        #expect(s["is_byok"] == .bool(false))
        #expect(s["server_tool_use"]?["web_search_requests"] == .int(0))
        // OpenRouter's cost details are costs; Groq's timings (seconds) stay fractional.
        #expect(s["cost_details"] == ["upstream_inference_cost": 0.002])
        #expect(s["queue_time"] == .double(0.0123))
        #expect(s["total_time"] == .double(Double(Usage.maxTokens)))
        #expect(s["prompt_time"] == .double(0))
        #expect(s.objectValue?.keys == ["prompt_tokens", "completion_tokens", "total_tokens", "completion_tokens_details", "cost",
                                         "tokens_per_second", "is_byok", "server_tool_use", "cost_details", "queue_time",
                                         "total_time", "prompt_time"])
        #expect(Usage.sanitized(.string("x")) == .string("x"))
    }
}

// MARK: - Every protocol, non-streamed and streamed

@Suite struct UpstreamUsageNumbersTests {
    // OpenAI (and every OpenAI-compatible preset, Azure, LM Studio, llama.cpp).

    @Test(arguments: extremes)
    func openAIAnswer(value: (text: String, count: Int?)) throws {
        let n = value.text
        let body = #"{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"#
            + #""usage":{"prompt_tokens":\#(n),"completion_tokens":\#(n),"total_tokens":\#(n),"prompt_tokens_details":{"cached_tokens":\#(n)},"#
            + #""completion_tokens_details":{"reasoning_tokens":\#(n)},"cost_usd":\#(n),"tokens_per_second":\#(n)}}"#
        let (usage, error) = nonStream(OpenAICodec(), try provider("openai", "https://api.openai.com/v1"), body)
        guard let c = value.count else { return expectRefused(error) }
        let u = try #require(usage)
        #expect(u["prompt_tokens"] == .int(Int64(c)) && u["completion_tokens"] == .int(Int64(c)) && u["total_tokens"] == .int(Int64(c)))
        #expect(u["completion_tokens_details"]?["reasoning_tokens"] == .int(Int64(c)))
        let parsed = try #require(Usage(openAI: u))
        #expect(parsed == Usage(promptTokens: c, completionTokens: c, totalTokens: c, cachedTokens: c, reasoningTokens: c).with(cost: parsed.costUSD, tps: parsed.tokensPerSecond, upstream: parsed.upstreamCostUSD))
        // An upstream's cost_usd is reported apart (upstream_cost_usd), never the router's cost.
        #expect(parsed.costUSD == nil)
        if let cost = parsed.upstreamCostUSD { #expect(cost <= Usage.maxCostUSD && cost >= 0) }
        // What the caller sees is what accounting uses: bounded, and writable as JSON.
        #expect(!JSONWriter.string(u).contains("9223372036854775807"))
    }

    @Test(arguments: extremes)
    func openAIStream(value: (text: String, count: Int?)) throws {
        let n = value.text
        let chunks = [
            #"{"id":"c","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}"#,
            #"{"id":"c","model":"m","choices":[{"index":\#(n),"delta":{"tool_calls":[{"index":\#(n),"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"#,
            #"{"id":"c","model":"m","choices":[],"usage":{"prompt_tokens":\#(n),"completion_tokens":\#(n),"total_tokens":\#(n),"prompt_tokens_details":{"cached_tokens":\#(n)},"cost_usd":\#(n),"tokens_per_second":\#(n)}}"#,
            "[DONE]",
        ]
        let d = stream(OpenAICodec(), try provider("openai", "https://api.openai.com/v1"), chunks.map { "data: \($0)\n\n" }.joined())
        guard let c = value.count else { return expectRefused(d.error) }
        #expect(d.error == nil)
        let u = try #require(d.usage)
        #expect(u.promptTokens == c && u.completionTokens == c && u.totalTokens == c && u.cachedTokens == c)
        // The tool-call index is a dictionary key, never an array size: one call, whatever its index.
        var acc = StreamAccumulator()
        for e in d.events { acc.apply(e) }
        let calls = acc.response(fallbackModel: "m")["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue
        #expect(calls?.count == 1 && calls?[0]["id"] == "call_1")
    }

    @Test(arguments: extremes)
    func openAIStreamErrorCode(value: (text: String, count: Int?)) throws {
        let d = stream(OpenAICodec(), try provider("openai", "https://api.openai.com/v1"), #"data: {"error":{"message":"x","code":\#(value.text)}}"# + "\n\n")
        guard value.count != nil else { return expectRefused(d.error) }
        #expect(d.error?.status == .upstreamServer && d.error?.httpStatus == 0)
    }

    @Test(arguments: extremes)
    func openAIEmbeddings(value: (text: String, count: Int?)) throws {
        let body = #"{"object":"list","data":[{"object":"embedding","index":\#(value.text),"embedding":[0.5]}],"model":"e","usage":{"prompt_tokens":\#(value.text),"total_tokens":\#(value.text)}}"#
        let p = try provider("openai", "https://api.openai.com/v1")
        let request = try EmbedRequest.parse(JSONParser.parse(#"{"input":"a"}"#))
        do {
            let r = try OpenAICodec().decodeEmbeddings(Array(body.utf8), request: request, model: "e", provider: p)
            let c = try #require(value.count)
            #expect(r["usage"]?["prompt_tokens"] == .int(Int64(c)) && r["usage"]?["total_tokens"] == .int(Int64(c)))
        } catch let e as PMXError {
            #expect(value.count == nil && e.status == .upstreamProtocol)
        }
    }

    // Anthropic.

    @Test(arguments: extremes)
    func anthropicAnswer(value: (text: String, count: Int?)) throws {
        let n = value.text
        let body = #"{"id":"msg","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","#
            + #""usage":{"input_tokens":\#(n),"cache_creation_input_tokens":\#(n),"cache_read_input_tokens":\#(n),"output_tokens":\#(n)}}"#
        let (usage, error) = nonStream(AnthropicCodec(), try provider("anthropic", "https://api.anthropic.com"), body)
        guard let c = value.count else { return expectRefused(error) }
        let u = try #require(Usage(openAI: usage))
        #expect(u == Usage(promptTokens: sum(c, 3), completionTokens: c, cachedTokens: c, cacheWriteTokens: c > 0 ? c : nil))
    }

    @Test(arguments: extremes)
    func anthropicStream(value: (text: String, count: Int?)) throws {
        let n = value.text
        let events = [
            ("message_start", #"{"type":"message_start","message":{"id":"msg","model":"m","usage":{"input_tokens":\#(n),"cache_creation_input_tokens":\#(n),"cache_read_input_tokens":\#(n),"output_tokens":\#(n)}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":\#(n)}}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
        let d = stream(AnthropicCodec(), try provider("anthropic", "https://api.anthropic.com"), events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined())
        guard let c = value.count else { return expectRefused(d.error) }
        #expect(d.error == nil)
        #expect(d.usage == Usage(promptTokens: sum(c, 3), completionTokens: c, cachedTokens: c, cacheWriteTokens: c > 0 ? c : nil))
    }

    /// A content block index is a dictionary key: INT64_MAX works, a negative one is refused.
    @Test(arguments: ["9223372036854775807", "-1", "1e308"])
    func anthropicBlockIndex(index: String) throws {
        let events = [
            ("message_start", #"{"type":"message_start","message":{"id":"msg","model":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":{"type":"text","text":""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":{"type":"text_delta","text":"hi"}}"#),
            ("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#),
            ("message_stop", #"{"type":"message_stop"}"#),
        ]
        let d = stream(AnthropicCodec(), try provider("anthropic", "https://api.anthropic.com"), events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined())
        if index == "9223372036854775807" { #expect(d.error == nil && d.events.contains(.delta(content: "hi", toolCalls: nil))) } else { expectRefused(d.error) }
    }

    // Gemini.

    private func geminiChunk(_ n: String) -> String {
        #"{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},"finishReason":"STOP","index":\#(n)}],"#
            + #""usageMetadata":{"promptTokenCount":\#(n),"candidatesTokenCount":\#(n),"totalTokenCount":\#(n),"thoughtsTokenCount":\#(n),"#
            + #""toolUsePromptTokenCount":\#(n),"cachedContentTokenCount":\#(n)},"modelVersion":"m"}"#
    }

    @Test(arguments: extremes)
    func geminiAnswer(value: (text: String, count: Int?)) throws {
        let (usage, error) = nonStream(GeminiCodec(), try provider("gemini", "https://generativelanguage.googleapis.com"), geminiChunk(value.text))
        guard let c = value.count else { return expectRefused(error) }
        #expect(Usage(openAI: usage) == Usage(promptTokens: sum(c, 2), completionTokens: sum(c, 2), totalTokens: c, cachedTokens: c, reasoningTokens: c))
    }

    @Test(arguments: extremes)
    func geminiStream(value: (text: String, count: Int?)) throws {
        let d = stream(GeminiCodec(), try provider("gemini", "https://generativelanguage.googleapis.com"), "data: \(geminiChunk(value.text))\r\n\r\n")
        guard let c = value.count else { return expectRefused(d.error) }
        #expect(d.error == nil)
        #expect(d.usage == Usage(promptTokens: sum(c, 2), completionTokens: sum(c, 2), totalTokens: c, cachedTokens: c, reasoningTokens: c))
    }

    // Ollama.

    private func ollamaDone(_ n: String) -> String {
        #"{"model":"m","message":{"role":"assistant","content":"hi"},"done":true,"done_reason":"stop","prompt_eval_count":\#(n),"eval_count":\#(n),"eval_duration":\#(n),"total_duration":\#(n),"load_duration":\#(n)}"#
    }

    private func expectOllama(_ u: Usage?, _ c: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(u?.promptTokens == c && u?.completionTokens == c && u?.totalTokens == sum(c, 2), sourceLocation: sourceLocation)
        if let tps = u?.tokensPerSecond { #expect(tps.isFinite && tps >= 0 && tps <= Usage.maxTokensPerSecond, sourceLocation: sourceLocation) }
        // A negative or zero duration gives no speed.
        if text.hasPrefix("-") || Double(text) == 0 { #expect(u?.tokensPerSecond == nil, sourceLocation: sourceLocation) }
    }

    @Test(arguments: extremes)
    func ollamaAnswer(value: (text: String, count: Int?)) throws {
        let (usage, error) = nonStream(OllamaCodec(), try provider("ollama", "http://127.0.0.1:11434"), ollamaDone(value.text))
        guard let c = value.count else { return expectRefused(error) }
        expectOllama(Usage(openAI: usage), c, value.text)
    }

    @Test(arguments: extremes)
    func ollamaStream(value: (text: String, count: Int?)) throws {
        let first = #"{"model":"m","message":{"role":"assistant","content":"h"},"done":false}"#
        let d = stream(OllamaCodec(), try provider("ollama", "http://127.0.0.1:11434"), first + "\n" + ollamaDone(value.text) + "\n")
        guard let c = value.count else { return expectRefused(d.error) }
        #expect(d.error == nil)
        expectOllama(d.usage, c, value.text)
    }

    @Test func ollamaSpeedFromSaneFigures() throws {
        let d = stream(OllamaCodec(), try provider("ollama", "http://127.0.0.1:11434"),
                       #"{"model":"m","message":{"role":"assistant","content":"h"},"done":true,"eval_count":100,"eval_duration":2000000000}"# + "\n")
        #expect(d.usage?.tokensPerSecond == 50)
        // One token in one nanosecond: a billion tokens per second, finite and kept.
        let fast = stream(OllamaCodec(), try provider("ollama", "http://127.0.0.1:11434"),
                          #"{"model":"m","message":{"role":"assistant","content":"h"},"done":true,"eval_count":9223372036854775807,"eval_duration":1}"# + "\n")
        #expect(fast.usage?.tokensPerSecond == Usage.maxTokensPerSecond)
    }

    @Test(arguments: extremes)
    func ollamaEmbeddings(value: (text: String, count: Int?)) throws {
        let body = #"{"model":"e","embeddings":[[0.5]],"prompt_eval_count":\#(value.text)}"#
        let request = try EmbedRequest.parse(JSONParser.parse(#"{"input":"a"}"#))
        do {
            let r = try OllamaCodec().decodeEmbeddings(Array(body.utf8), request: request, model: "e", provider: try provider("ollama", "http://127.0.0.1:11434"))
            let c = try #require(value.count)
            #expect(r["usage"]?["prompt_tokens"] == .int(Int64(c)))
        } catch let e as PMXError {
            #expect(value.count == nil && e.status == .upstreamProtocol)
        }
    }

    @Test(arguments: extremes)
    func ollamaPullProgressIsNeverNegative(value: (text: String, count: Int?)) throws {
        // total/completed are byte counts passed through (not token counts): negative → 0.
        let line = #"{"status":"pulling","digest":"d","total":\#(value.text),"completed":\#(value.text)}"# + "\n"
        var events: [OllamaPullEvent] = []
        do {
            try Array(line.utf8).withUnsafeBytes { try OllamaPullDecoder(provider: "p").feed($0) { events.append($0) } }
            guard case .progress(let p)? = events.first, let total = p["total"]?.intValue else { Issue.record("no progress"); return }
            #expect(total >= 0 && p["completed"] == p["total"])
        } catch let e as PMXError {
            // jansson refuses the line, or the number is not an integer (1e308, 12.9).
            #expect(e.status == .upstreamProtocol)
        }
    }

    // Cohere.

    private func cohereUsage(_ n: String) -> String {
        #"{"billed_units":{"input_tokens":\#(n),"output_tokens":\#(n)},"tokens":{"input_tokens":\#(n),"output_tokens":\#(n)},"cached_tokens":\#(n)}"#
    }

    @Test(arguments: extremes)
    func cohereAnswer(value: (text: String, count: Int?)) throws {
        let body = #"{"id":"c","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]},"usage":\#(cohereUsage(value.text))}"#
        let (usage, error) = nonStream(CohereCodec(), try provider("cohere", "https://api.cohere.com"), body)
        guard let c = value.count else { return expectRefused(error) }
        #expect(Usage(openAI: usage) == Usage(promptTokens: c, completionTokens: c, cachedTokens: c))
    }

    @Test(arguments: extremes)
    func cohereStream(value: (text: String, count: Int?)) throws {
        let events = [
            ("message-start", #"{"type":"message-start","id":"c","delta":{"message":{"role":"assistant"}}}"#),
            ("content-delta", #"{"type":"content-delta","index":\#(value.text),"delta":{"message":{"content":{"text":"hi"}}}}"#),
            ("message-end", #"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":\#(cohereUsage(value.text))}}"#),
        ]
        let d = stream(CohereCodec(), try provider("cohere", "https://api.cohere.com"), events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined())
        guard let c = value.count else { return expectRefused(d.error) }
        #expect(d.error == nil)
        #expect(d.usage == Usage(promptTokens: c, completionTokens: c, cachedTokens: c))
    }

    @Test(arguments: extremes)
    func cohereEmbeddings(value: (text: String, count: Int?)) throws {
        let body = #"{"id":"e","embeddings":{"float":[[0.5]]},"meta":{"billed_units":{"input_tokens":\#(value.text)}}}"#
        let request = try EmbedRequest.parse(JSONParser.parse(#"{"input":"a"}"#))
        do {
            let r = try CohereCodec().decodeEmbeddings(Array(body.utf8), request: request, model: "e", provider: try provider("cohere", "https://api.cohere.com"))
            let c = try #require(value.count)
            #expect(r["usage"]?["prompt_tokens"] == .int(Int64(c)))
        } catch let e as PMXError {
            #expect(value.count == nil && e.status == .upstreamProtocol)
        }
    }
}

extension Usage {
    fileprivate func with(cost: Double?, tps: Double?, upstream: Double? = nil) -> Usage {
        var u = self
        u.costUSD = cost
        u.upstreamCostUSD = upstream
        u.tokensPerSecond = tps
        return u
    }
}
