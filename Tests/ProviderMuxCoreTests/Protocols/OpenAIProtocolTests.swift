// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// The OpenAI wire protocol without a network: the SSE stream decoder on recorded bytes (whole,
// split at every byte boundary, byte by byte), the stream accumulator, request bodies, headers
// (the HTTP error mapping is in HTTPErrorMappingTests.swift).

// MARK: - Recorded streams

private func sse(_ events: [String], comment: Bool = true, newline nl: String = "\n") -> [UInt8] {
    Array(((comment ? [": keep-alive\(nl)\(nl)"] : []) + events.map { "data: \($0)\(nl)\(nl)" }).joined().utf8)
}

private let textChunks = [
    #"{"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{"content":", wörld 👋 — 世界"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    #"{"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    #"{"id":"chatcmpl-AbC1","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0}}}"#,
    "[DONE]",
]

private let textMeta = ProviderEvent.meta(id: "chatcmpl-AbC1", model: "gpt-4o-mini-2024-07-18")
// `meta` comes once: id and model are the same on every chunk.
private let textExpected: [ProviderEvent] = [
    textMeta,
    .delta(content: "Hello", toolCalls: nil),
    .delta(content: ", wörld 👋 — 世界", toolCalls: nil),
    .finish(reason: "stop"),
    .usage(Usage(promptTokens: 12, completionTokens: 9, totalTokens: 21, cachedTokens: 0)),
    .end,
]

private let toolChunks = [
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_Q1","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"","type":"function","function":{"name":"","arguments":"{\"ci"}}]},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_Q2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"","function":{"name":"","arguments":"ty\": \"Par"}}]},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"is\"}"}}]},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1731000001,"model":"gpt-4o","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]}"#,
    "[DONE]",
]

private func toolCalls(_ chunk: String) -> [JSONValue] {
    (try? JSONParser.parse(chunk))?["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue ?? []
}

private let toolMeta = ProviderEvent.meta(id: "chatcmpl-T1", model: "gpt-4o")
private let toolExpected: [ProviderEvent] = [
    toolMeta, .delta(content: nil, toolCalls: toolCalls(toolChunks[0])),
    .delta(content: nil, toolCalls: toolCalls(toolChunks[1])),
    .delta(content: nil, toolCalls: toolCalls(toolChunks[2])),
    .delta(content: nil, toolCalls: toolCalls(toolChunks[3])),
    .delta(content: nil, toolCalls: toolCalls(toolChunks[4])),
    .finish(reason: "tool_calls"),
    .end,
]

private let errorChunks = [
    #"{"id":"gen-1731-xyz","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion.chunk","created":1731000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
    #"{"id":"gen-1731-xyz","object":"chat.completion.chunk","created":1731000000,"error":{"message":"Rate limit exceeded: free-models-per-min","code":429},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#,
]
private let errorExpected: [ProviderEvent] = [
    .meta(id: "gen-1731-xyz", model: "openai/gpt-4o"), .delta(content: "Hi", toolCalls: nil),
    .error(PMXError(.rateLimited, "error event in stream: Rate limit exceeded: free-models-per-min", httpStatus: 429, provider: "p")),
]

private let malformedChunks = [textChunks[0], textChunks[1], #"{"choices": [ {not json"#, textChunks[2]]

private typealias Decoded = DecodedStream

private func decode(_ pieces: [ArraySlice<UInt8>]) -> Decoded { decodeStream(OpenAIStreamDecoder.Adapter(provider: "p"), pieces) }

/// The stream decoded whole, split in two at every byte boundary, and byte by byte: all equal.
private func expectSplitInvariant(_ bytes: [UInt8], expected: Decoded, sourceLocation: SourceLocation = #_sourceLocation) {
    let whole = decode([bytes[...]])
    #expect(whole == expected, sourceLocation: sourceLocation)
    var mismatches: [Int] = []
    for i in 0...bytes.count where decode([bytes[..<i], bytes[i...]]) != expected { mismatches.append(i) }
    #expect(mismatches.isEmpty, "differs when split at \(mismatches.prefix(10))", sourceLocation: sourceLocation)
    #expect(decode(bytes.indices.map { bytes[$0...$0] }) == expected, "byte by byte", sourceLocation: sourceLocation)
}

@Suite("OpenAIStreamDecoder")
struct OpenAIStreamDecoderTests {
    @Test("a text stream: keep-alive, role chunk, content, finish, usage chunk (choices: []), [DONE]")
    func textStream() {
        var bytes = sse(textChunks)
        bytes.insert(contentsOf: Array(": keep-alive\n\n".utf8), at: bytes.count - Array("data: [DONE]\n\n".utf8).count)
        expectSplitInvariant(bytes, expected: Decoded(events: textExpected))
    }

    @Test("CRLF line endings decode the same")
    func crlf() {
        expectSplitInvariant(sse(textChunks, newline: "\r\n"), expected: Decoded(events: textExpected))
    }

    @Test("a tool-call stream: later deltas carry id \"\" and name \"\"; a second call by index")
    func toolStream() {
        expectSplitInvariant(sse(toolChunks), expected: Decoded(events: toolExpected))
    }

    @Test("an error object under HTTP 200 becomes an error event with the HTTP class of its code")
    func errorUnder200() {
        expectSplitInvariant(sse(errorChunks, comment: false), expected: Decoded(events: errorExpected))
    }

    @Test("error objects: string codes are server errors, string errors keep their text")
    func errorShapes() {
        let overloaded = decode([sse([#"{"error":{"message":"fake mid-stream error","type":"server_error","code":"overloaded"}}"#])[...]])
        #expect(overloaded.events == [.error(PMXError(.upstreamServer, "error event in stream: fake mid-stream error", provider: "p"))])
        let plain = decode([sse([#"{"error":"boom"}"#])[...]])
        #expect(plain.events == [.error(PMXError(.upstreamServer, "error event in stream: boom", provider: "p"))])
        let auth = decode([sse([#"{"error":{"message":"bad key","code":401}}"#])[...]])
        #expect(auth.events.first == .error(PMXError(.auth, "error event in stream: bad key", httpStatus: 401, provider: "p")))
        let nullError = decode([sse([#"{"id":"x","error":null,"choices":[{"index":0,"delta":{"content":"ok"}}]}"#])[...]])
        #expect(nullError.events == [.meta(id: "x", model: nil), .delta(content: "ok", toolCalls: nil)])
    }

    @Test("a malformed event: PMX_ERR_UPSTREAM_PROTOCOL after the events before it, at any split")
    func malformed() throws {
        let bytes = sse(malformedChunks)
        let whole = decode([bytes[...]])
        let e = try #require(whole.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.contains("malformed stream event"))
        #expect(e.provider == "p")
        #expect(whole.events == [textMeta, .delta(content: "Hello", toolCalls: nil)])
        expectSplitInvariant(bytes, expected: whole)
    }

    @Test("empty content deltas and null usage produce no events")
    func quietChunks() {
        let d = decode([sse([#"{"id":"a","model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":null}],"usage":null}"#,
                             #"{"id":"a","model":"m","choices":[{"index":0,"delta":{"tool_calls":[]}}]}"#])[...]])
        #expect(d.events == [.meta(id: "a", model: "m")])
    }

    @Test("a stream cut without [DONE] just ends (the driver decides what that means)")
    func noDone() {
        let d = decode([sse(Array(textChunks.prefix(3)))[...]])
        #expect(d.error == nil)
        #expect(d.events.last == .delta(content: ", wörld 👋 — 世界", toolCalls: nil))
        #expect(!d.events.contains(.end))
    }
}

@Suite("StreamAccumulator")
struct StreamAccumulatorTests {
    private func accumulate(_ events: [ProviderEvent]) -> StreamAccumulator {
        var acc = StreamAccumulator()
        for e in events { acc.apply(e) }
        return acc
    }

    @Test("a text stream builds a chat.completion")
    func text() throws {
        let acc = accumulate(textExpected)
        #expect(acc.deltaCount == 2)
        let r = acc.response(fallbackModel: "unused")
        #expect(r["id"] == "chatcmpl-AbC1")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "gpt-4o-mini-2024-07-18")
        #expect((r["created"]?.intValue ?? 0) > 1_700_000_000)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["index"] == 0)
        #expect(choice["message"] == ["role": "assistant", "content": "Hello, wörld 👋 — 世界"])
        #expect(choice["finish_reason"] == "stop")
        #expect(r["usage"] == ["prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21, "prompt_tokens_details": ["cached_tokens": 0]])
    }

    @Test("tool calls: id and name never overwritten by empty strings, arguments concatenated, sorted by index")
    func toolCalls() throws {
        let r = accumulate(toolExpected).response(fallbackModel: "x")
        let message = try #require(r["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == .null)
        let calls = try #require(message["tool_calls"]?.arrayValue)
        #expect(calls.count == 2)
        #expect(calls[0] == ["id": "call_Q1", "type": "function",
                             "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]])
        #expect(calls[1] == ["id": "call_Q2", "type": "function", "function": ["name": "get_time", "arguments": "{}"]])
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
        #expect(try JSONParser.parse(calls[0]["function"]?["arguments"]?.stringValue ?? "") == ["city": "Paris"])
    }

    @Test("usage is replaced by later usage, never added")
    func usageReplaced() {
        let acc = accumulate([.usage(Usage(promptTokens: 5, completionTokens: 1)), .delta(content: "x", toolCalls: nil),
                              .usage(Usage(promptTokens: 5, completionTokens: 7))])
        #expect(acc.usage == Usage(promptTokens: 5, completionTokens: 7, totalTokens: 12))
        #expect(acc.response(fallbackModel: "m")["usage"]?["total_tokens"] == 12)
    }

    @Test("the first non-empty id and model win; the fallback model fills a gap")
    func metaRules() {
        let acc = accumulate([.meta(id: "", model: ""), .meta(id: "first", model: nil), .meta(id: "second", model: "m2")])
        let r = acc.response(fallbackModel: "fallback")
        #expect(r["id"] == "first")
        #expect(r["model"] == "m2")
        let empty = StreamAccumulator().response(fallbackModel: "fallback")
        #expect(empty["model"] == "fallback")
        #expect(empty["usage"] == nil)
        #expect(empty["choices"]?.arrayValue?.first?["message"]?["content"] == "")
        #expect(empty["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
    }

    @Test("text and tool calls together keep the text; no finish reason with tool calls defaults to tool_calls")
    func textAndTools() throws {
        let call: JSONValue = ["index": 0, "id": "c1", "function": ["name": "f", "arguments": "{}"]]
        let r = accumulate([.delta(content: "Let me check.", toolCalls: nil), .delta(content: nil, toolCalls: [call])])
            .response(fallbackModel: "m")
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["content"] == "Let me check.")
        #expect(choice["message"]?["tool_calls"]?.arrayValue?.count == 1)
        #expect(choice["finish_reason"] == "tool_calls")
    }
}

@Suite("OpenAIProtocol request side")
struct OpenAIProtocolRequestTests {
    private func body(_ request: String, model: String?, stream: Bool) throws -> JSONValue {
        try JSONParser.parse(OpenAIProtocol.chatBody(ChatRequest.parse(JSONParser.parse(request)), model: model, stream: stream))
    }

    @Test("the body keeps the caller's key order: model, stream and stream_options replaced in place, else added last")
    func keyOrder() throws {
        func text(_ request: String, model: String?, stream: Bool) throws -> String {
            String(decoding: OpenAIProtocol.chatBody(try ChatRequest.parse(try JSONParser.parse(request)), model: model, stream: stream), as: UTF8.self)
        }
        let inPlace = #"{"stream_options":{"x":1},"model":"a","temperature":0.5,"stream":false,"messages":[{"role":"user","content":"hi"}]}"#
        #expect(try text(inPlace, model: "m", stream: true)
            == #"{"stream_options":{"x":1,"include_usage":true},"model":"m","temperature":0.5,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(try text(inPlace, model: nil, stream: false)
            == #"{"temperature":0.5,"stream":false,"messages":[{"role":"user","content":"hi"}]}"#)
        let absent = #"{"messages":[{"role":"user","content":"hi"}]}"#
        #expect(try text(absent, model: "m", stream: true)
            == #"{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(try text(absent, model: "m", stream: false) == #"{"messages":[{"role":"user","content":"hi"}],"model":"m","stream":false}"#)
    }

    @Test("streaming sets stream and stream_options.include_usage")
    func streaming() throws {
        let b = try body(#"{"model":"p/gpt-4o","messages":[{"role":"user","content":"hi"}]}"#, model: "gpt-4o", stream: true)
        #expect(b["stream"] == true)
        #expect(b["stream_options"] == ["include_usage": true])
        #expect(b["model"] == "gpt-4o")
    }

    @Test("the caller's other stream_options are kept; include_usage forced on")
    func keepsStreamOptions() throws {
        let b = try body(#"{"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_obfuscation":false,"include_usage":false}}"#,
                         model: "m", stream: true)
        #expect(b["stream_options"] == ["include_obfuscation": false, "include_usage": true])
    }

    @Test("not streaming: stream false and no stream_options at all")
    func notStreaming() throws {
        let b = try body(#"{"messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#,
                         model: "m", stream: false)
        #expect(b["stream"] == false)
        #expect(b["stream_options"] == nil)
    }

    @Test("the model is replaced by the provider's (or removed); everything else kept in order")
    func modelAndPassThrough() throws {
        let text = #"{"model":"local/llama3","messages":[{"role":"user","content":"hi"}],"temperature":0.3,"tools":[{"type":"function","function":{"name":"f"}}],"x_vendor":{"a":1},"route":{"providers":["local"]}}"#
        let b = try body(text, model: "llama3", stream: false)
        #expect(b["model"] == "llama3")
        #expect(b.objectValue?.keys == ["model", "messages", "temperature", "tools", "x_vendor", "stream"])
        #expect(b["temperature"] == 0.3)
        #expect(b["x_vendor"] == ["a": 1])
        let none = try body(text, model: nil, stream: false)
        #expect(none["model"] == nil)
    }

    @Test("embeddings body: model replaced, route removed")
    func embeddingsBody() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"p/e","input":["a"],"route":{"providers":["p"]},"dimensions":8}"#))
        let b = try JSONParser.parse(OpenAIProtocol.embeddingsBody(req, model: "e"))
        #expect(b == ["model": "e", "input": ["a"], "dimensions": 8])
    }

    @Test("headers: JSON, Accept by mode, Bearer key only when there is one, extra headers last")
    func headers() throws {
        let withKey = try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"openai-compatible","base_url":"http://h/v1","api_key":"sk-hdr-test-1","headers":{"X-Team":"t"}}"#), path: "p")
        let h = OpenAIProtocol.headers(for: withKey, streaming: true)
        #expect(h.map { "\($0.0): \($0.1)" } == ["Content-Type: application/json", "Accept: text/event-stream",
                                                  "Authorization: Bearer sk-hdr-test-1", "X-Team: t"])
        let noKey = try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"openai-compatible","base_url":"http://h/v1"}"#), path: "p")
        let h2 = OpenAIProtocol.headers(for: noKey, streaming: false)
        #expect(!h2.contains { $0.0 == "Authorization" })
        #expect(h2.contains { $0 == ("Accept", "application/json") })
    }

    @Test("decodeChat: the body, an error object under 200, no choices, malformed JSON")
    func decodeChat() throws {
        let ok = try OpenAIProtocol.decodeChat(Array(#"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"x"}}]}"#.utf8), provider: "p")
        #expect(ok["id"] == "c")
        func failure(_ body: String) -> PMXError? {
            do { _ = try OpenAIProtocol.decodeChat(Array(body.utf8), provider: "p"); return nil } catch let e as PMXError { return e } catch { return nil }
        }
        #expect(failure(#"{"error":{"message":"overloaded"}}"#)?.status == .upstreamServer)
        #expect(failure(#"{"error":{"message":"overloaded"}}"#)?.message.contains("overloaded") == true)
        #expect(failure(#"{"id":"c","choices":[]}"#)?.status == .upstreamProtocol)
        #expect(failure(#"{"id":"c","cho"#)?.status == .upstreamProtocol)
        #expect(failure(#"{"id":"c","cho"#)?.message.contains("malformed") == true)
        #expect(try OpenAIProtocol.decodeModels(Array(#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#.utf8), provider: "p") == ["a", "b"])
    }
}
