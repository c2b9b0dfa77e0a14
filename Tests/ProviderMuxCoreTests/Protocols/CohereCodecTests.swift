// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// The Cohere v2 codec without a network: request translation field by field, non-streamed
// answers, the SSE stream decoder on recorded-looking bytes (whole, split in two at every byte
// boundary, byte by byte), embeddings, models and the HTTP error mapping.

// MARK: - Fixtures

private let key = "co-test-SECRET-key-0123456789"

private func provider(_ extra: JSONValue = [:]) throws -> ProviderConfig {
    let base: JSONValue = ["name": "co", "type": "cohere", "api_key": .string(key), "headers": ["X-Client-Name": "pmx-tests"]]
    var o = base.objectValue!
    for m in extra.objectValue?.members ?? [] { o[m.key] = m.value }
    return try ProviderConfig.parse(.object(o), path: "providers[0]", lookup: { _ in nil })
}

private func request(_ json: String) throws -> ChatRequest { try ChatRequest.parse(try JSONParser.parse(json)) }

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }

/// SSE the way Cohere frames it: an `event:` line naming the type, then the JSON `data:` line.
private func sse(_ events: [String], newline nl: String = "\n") -> [UInt8] {
    Array(events.map { data -> String in
        let type = (try? JSONParser.parse(data))?["type"]?.stringValue
        return (type.map { "event: \($0)\(nl)" } ?? "") + "data: \(data)\(nl)\(nl)"
    }.joined().utf8)
}

private let textEvents = [
    #"{"id":"29f14a5a-11de-4cae-9800-25e4747408ea","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
    #"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
    #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}},"logprobs":null}"#,
    #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":", wörld 👋 — 世界"}}},"logprobs":null}"#,
    #"{"type":"content-end","index":0}"#,
    #"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":9},"tokens":{"input_tokens":69,"output_tokens":9}}}}"#,
]
private let textExpected: [ProviderEvent] = [
    .meta(id: "29f14a5a-11de-4cae-9800-25e4747408ea", model: nil),
    .delta(content: "Hello", toolCalls: nil),
    .delta(content: ", wörld 👋 — 世界", toolCalls: nil),
    .finish(reason: "stop"),
    .usage(Usage(promptTokens: 69, completionTokens: 9)),
    .end,
]

private let toolEvents = [
    #"{"id":"cb0a4a6f-3c5b-4e83-8c1e-0c3b3e2f9a11","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
    #"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will look up"}}}"#,
    #"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":" the weather in Paris."}}}"#,
    #"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"get_weather_nsz5zm3w56q3","type":"function","function":{"name":"get_weather","arguments":""}}}}}"#,
    #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\n    \""}}}}}"#,
    #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"city\": \"Par"}}}}}"#,
    #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"is\"\n}"}}}}}"#,
    #"{"type":"tool-call-end","index":0}"#,
    #"{"type":"tool-call-start","index":1,"delta":{"message":{"tool_calls":{"id":"get_time_8ad1kqz2","type":"function","function":{"name":"get_time","arguments":"{}"}}}}}"#,
    #"{"type":"tool-call-end","index":1}"#,
    #"{"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":37,"output_tokens":28},"tokens":{"input_tokens":913,"output_tokens":83}}}}"#,
]
private let toolExpected: [ProviderEvent] = [
    .meta(id: "cb0a4a6f-3c5b-4e83-8c1e-0c3b3e2f9a11", model: nil),
    .delta(content: nil, toolCalls: [["index": 0, "id": "get_weather_nsz5zm3w56q3", "type": "function",
                                      "function": ["name": "get_weather", "arguments": ""]]]),
    .delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": "{\n    \""]]]),
    .delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": "city\": \"Par"]]]),
    .delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": "is\"\n}"]]]),
    .delta(content: nil, toolCalls: [["index": 1, "id": "get_time_8ad1kqz2", "type": "function",
                                      "function": ["name": "get_time", "arguments": "{}"]]]),
    .finish(reason: "tool_calls"),
    .usage(Usage(promptTokens: 913, completionTokens: 83)),
    .end,
]

/// An error reported where Cohere reports it in a stream: `message-end` with finish reason ERROR.
private let errorEvents = Array(textEvents.prefix(3)) + [
    #"{"type":"message-end","delta":{"error":"internal server error, please try again","finish_reason":"ERROR","usage":{"billed_units":{"input_tokens":3,"output_tokens":1},"tokens":{"input_tokens":69,"output_tokens":1}}}}"#,
]
private let errorExpected: [ProviderEvent] = Array(textExpected.prefix(2)) + [
    .usage(Usage(promptTokens: 69, completionTokens: 1)),
    .error(PMXError(.upstreamServer, "cohere: the generation failed (finish_reason ERROR): internal server error, please try again", provider: "co")),
]

// MARK: - Decoding harness

private typealias Decoded = DecodedStream

private func decode(_ pieces: [ArraySlice<UInt8>]) -> Decoded {
    decodeStream(CohereCodec(), try! provider(), model: "command-a-03-2025", pieces)
}

private func decode(_ bytes: [UInt8]) -> Decoded { decode([bytes[...]]) }

/// Whole, split in two at every byte boundary, and byte by byte: all the same.
private func expectSplitInvariant(_ bytes: [UInt8], expected: Decoded, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(decode(bytes) == expected, sourceLocation: sourceLocation)
    var mismatches: [Int] = []
    for i in 0...bytes.count where decode([bytes[..<i], bytes[i...]]) != expected { mismatches.append(i) }
    #expect(mismatches.isEmpty, "differs when split at \(mismatches.prefix(10))", sourceLocation: sourceLocation)
    #expect(decode(bytes.indices.map { bytes[$0...$0] }) == expected, "byte by byte", sourceLocation: sourceLocation)
}

/// A stream that must stop with PMX_ERR_UPSTREAM_PROTOCOL mentioning `what`, after `before`.
private func expectBroken(_ events: [String], _ what: String, before: [ProviderEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    let bytes = sse(events)
    let d = decode(bytes)
    #expect(d.error?.status == .upstreamProtocol, "\(String(describing: d.error))", sourceLocation: sourceLocation)
    #expect(d.error?.message.contains(what) == true, "\(d.error?.message ?? "no error")", sourceLocation: sourceLocation)
    #expect(d.error?.provider == "co", sourceLocation: sourceLocation)
    #expect(d.events == before, sourceLocation: sourceLocation)
    expectSplitInvariant(bytes, expected: d, sourceLocation: sourceLocation)
}

private let start = textEvents[0]
private let startEvent = textExpected[0]

@Suite("Cohere codec")
struct CohereCodecTests {

    // MARK: Request translation

    @Test("chat call: URL, headers (bearer, JSON, extra last), key only in the header")
    func chatCallHeaders() throws {
        let p = try provider()
        let call = try CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}]}"#),
                                              model: "command-a-03-2025", stream: false, provider: p)
        #expect(call.method == "POST")
        #expect(call.url == "https://api.cohere.com/v2/chat")
        #expect(call.headers.map(\.0) == ["Content-Type", "Accept", "Authorization", "X-Client-Name"])
        #expect(call.headers[0].1 == "application/json")
        #expect(call.headers[1].1 == "application/json")
        #expect(call.headers[2].1 == "Bearer \(key)")
        #expect(call.headers[3].1 == "pmx-tests")
        let text = String(decoding: call.body ?? [], as: UTF8.self)
        #expect(!text.contains(key))
        #expect(try body(call) == ["model": "command-a-03-2025", "messages": [["role": "user", "content": "hi"]], "stream": false])

        let streamed = try CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}]}"#),
                                                  model: "m", stream: true, provider: p)
        #expect(streamed.headers[1].1 == "text/event-stream")
        #expect(try body(streamed)["stream"] == true)
    }

    @Test("model: the request's, else default_model, else PMX_ERR_INVALID_REQUEST")
    func modelChoice() throws {
        let r = try request(#"{"messages":[{"role":"user","content":"hi"}]}"#)
        let withDefault = try provider(["default_model": "command-r7b-12-2024"])
        #expect(try body(CohereCodec().chatCall(r, model: nil, stream: false, provider: withDefault))["model"] == "command-r7b-12-2024")
        #expect(try body(CohereCodec().chatCall(r, model: "command-a", stream: false, provider: withDefault))["model"] == "command-a")
        #expect(throws: PMXError.self) { try CohereCodec().chatCall(r, model: nil, stream: false, provider: try provider()) }
        do { _ = try CohereCodec().chatCall(r, model: nil, stream: false, provider: try provider()) } catch let e as PMXError {
            #expect(e.status == .invalidRequest)
        }
    }

    @Test("sampling: p from top_p, stop_sequences from stop, max_tokens, seed, penalties; no max_tokens unless asked")
    func sampling() throws {
        let p = try provider()
        let r = try request(#"{"messages":[{"role":"user","content":"hi"}],"temperature":0.4,"top_p":0.9,"max_tokens":256,"stop":"END","seed":7,"frequency_penalty":0.1,"presence_penalty":0.2,"n":1,"user":"u1","stream_options":{"include_usage":true},"logprobs":false}"#)
        let b = try body(CohereCodec().chatCall(r, model: "m", stream: false, provider: p))
        #expect(b["temperature"] == 0.4)
        #expect(b["p"] == 0.9)
        #expect(b["top_p"] == nil)
        #expect(b["max_tokens"] == 256)
        #expect(b["stop_sequences"] == ["END"])
        #expect(b["stop"] == nil)
        #expect(b["seed"] == 7)
        #expect(b["frequency_penalty"] == 0.1)
        #expect(b["presence_penalty"] == 0.2)
        for dropped in ["n", "user", "stream_options", "logprobs"] { #expect(b[dropped] == nil, "\(dropped)") }

        let r2 = try request(#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":99,"stop":["a","b"]}"#)
        let b2 = try body(CohereCodec().chatCall(r2, model: "m", stream: false, provider: p))
        #expect(b2["max_tokens"] == 99)
        #expect(b2["stop_sequences"] == ["a", "b"])

        let plain = try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "m", stream: false, provider: p))
        #expect(plain["max_tokens"] == nil)  // Cohere's default is the model's own output limit
        #expect(plain["temperature"] == nil)
        #expect(plain["stop_sequences"] == nil)
    }

    @Test("messages: system/developer → system, text parts, images, assistant tool calls, tool results as documents or text")
    func messages() throws {
        let r = try request(#"""
        {"messages":[
          {"role":"system","content":"Be brief."},
          {"role":"developer","content":[{"type":"text","text":"Use metric units."}]},
          {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},
          {"role":"user","name":"ann","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"get_time","arguments":{"tz":"CET"}}}]},
          {"role":"tool","tool_call_id":"call_1","content":"{\"temp_c\":21,\"sky\":\"clear\"}"},
          {"role":"tool","tool_call_id":"call_2","content":"14:05"},
          {"role":"tool","tool_call_id":"call_3","content":"[{\"a\":1},{\"b\":2}]"},
          {"role":"tool","tool_call_id":"call_4","content":[{"type":"text","text":"part one"}]},
          {"role":"assistant","content":"It is 21 °C and clear."},
          {"role":"user","content":"Thanks"}
        ]}
        """#)
        let b = try body(CohereCodec().chatCall(r, model: "command-a-vision-07-2025", stream: false, provider: try provider()))
        let m = try #require(b["messages"]?.arrayValue)
        #expect(m.count == 11)
        #expect(m[0] == ["role": "system", "content": "Be brief."])
        #expect(m[1] == ["role": "system", "content": [["type": "text", "text": "Use metric units."]]])
        #expect(m[2] == ["role": "user", "content": [
            ["type": "text", "text": "What is this?"],
            ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"]]]])
        #expect(m[3] == ["role": "user", "content": [["type": "image_url", "image_url": ["url": "https://example.com/cat.jpg"]]]])
        #expect(m[4] == ["role": "assistant", "tool_calls": [
            ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]],
            ["id": "call_2", "type": "function", "function": ["name": "get_time", "arguments": #"{"tz":"CET"}"#]]]])
        #expect(m[5] == ["role": "tool", "tool_call_id": "call_1", "content": [
            ["type": "document", "document": ["data": ["temp_c": 21, "sky": "clear"]]]]])
        #expect(m[6] == ["role": "tool", "tool_call_id": "call_2", "content": [["type": "text", "text": "14:05"]]])
        #expect(m[7] == ["role": "tool", "tool_call_id": "call_3", "content": [
            ["type": "document", "document": ["data": ["a": 1]]], ["type": "document", "document": ["data": ["b": 2]]]]])
        #expect(m[8] == ["role": "tool", "tool_call_id": "call_4", "content": [["type": "text", "text": "part one"]]])
        #expect(m[9] == ["role": "assistant", "content": "It is 21 °C and clear."])
        #expect(m[10] == ["role": "user", "content": "Thanks"])
    }

    @Test("unsupported shapes are refused before any request is made")
    func refusals() throws {
        let p = try provider()
        func status(_ json: String) -> Status? {
            do { _ = try CohereCodec().chatCall(try request(json), model: "m", stream: false, provider: p); return nil } catch let e as PMXError {
                return e.status
            } catch { return .internal }
        }
        #expect(status(#"{"messages":[{"role":"function","name":"f","content":"x"}]}"#) == .invalidRequest)
        #expect(status(#"{"messages":[{"role":"tool","content":"x"}]}"#) == .invalidRequest)
        #expect(status(#"{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}]}"#) == .unsupported)
        #expect(status(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"code_interpreter"}]}"#) == .unsupported)
        #expect(status(#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"zzz"}}}"#) == .invalidRequest)
    }

    @Test("tools pass through in the v2 function shape; strict → strict_tools; tool_choice none/required/named")
    func tools() throws {
        let p = try provider()
        let tools = #""tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]"#
        let b = try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"weather?"}],\#(tools),"tool_choice":"auto"}"#), model: "m", stream: false, provider: p))
        #expect(b["tools"] == [
            ["type": "function", "function": ["name": "get_weather", "description": "Weather for a city",
                                              "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]]],
            ["type": "function", "function": ["name": "get_time", "parameters": ["type": "object", "properties": [:]]]]])
        #expect(b["strict_tools"] == true)
        #expect(b["tool_choice"] == nil)

        let none = try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":"none"}"#), model: "m", stream: false, provider: p))
        #expect(none["tool_choice"] == "NONE")
        let required = try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":"required"}"#), model: "m", stream: false, provider: p))
        #expect(required["tool_choice"] == "REQUIRED")
        let named = try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"x"}],\#(tools),"tool_choice":{"type":"function","function":{"name":"get_time"}}}"#), model: "m", stream: false, provider: p))
        #expect(named["tool_choice"] == "REQUIRED")
        #expect(named["tools"]?.arrayValue?.count == 1)
        #expect(named["tools"]?.arrayValue?.first?["function"]?["name"] == "get_time")
    }

    @Test("response_format: json_object as is, json_schema's schema moved to json_schema, text dropped")
    func responseFormat() throws {
        let p = try provider()
        func format(_ rf: String) throws -> JSONValue? {
            try body(CohereCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"JSON please"}],"response_format":\#(rf)}"#), model: "m", stream: false, provider: p))["response_format"]
        }
        #expect(try format(#"{"type":"json_object"}"#) == ["type": "json_object"])
        #expect(try format(#"{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}"#)
                == ["type": "json_object", "json_schema": ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]]])
        #expect(try format(#"{"type":"text"}"#) == nil)
    }

    // MARK: Non-streamed answers

    @Test("a plain answer: text items joined, COMPLETE → stop, usage from usage.tokens")
    func plainAnswer() throws {
        let json = #"{"id":"c14c80c3-18eb-4519-9460-6c92edd8cfb4","message":{"role":"assistant","content":[{"type":"text","text":"LLMs are large language models"},{"type":"text","text":" trained on text."}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":5,"output_tokens":11},"tokens":{"input_tokens":71,"output_tokens":11},"cached_tokens":64}}"#
        let r = try CohereCodec().decodeChat(Array(json.utf8), model: "command-a-03-2025", provider: try provider())
        #expect(r["id"] == "c14c80c3-18eb-4519-9460-6c92edd8cfb4")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "command-a-03-2025")
        #expect((r["created"]?.intValue ?? 0) > 1_700_000_000)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"] == ["role": "assistant", "content": "LLMs are large language models trained on text."])
        #expect(choice["finish_reason"] == "stop")
        #expect(r["usage"] == ["prompt_tokens": 71, "completion_tokens": 11, "total_tokens": 82, "prompt_tokens_details": ["cached_tokens": 64]])
    }

    @Test("a tool-call answer: arguments stay a JSON string, tool_plan is not content, TOOL_CALL → tool_calls")
    func toolAnswer() throws {
        let json = #"{"id":"a7b3e2c1","message":{"role":"assistant","tool_plan":"I will look up the weather in Paris.","tool_calls":[{"id":"get_weather_1byjy32y4hvq","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":37,"output_tokens":28}}}"#
        let r = try CohereCodec().decodeChat(Array(json.utf8), model: "m", provider: try provider())
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"] == ["role": "assistant", "content": .null, "tool_calls": [
            ["id": "get_weather_1byjy32y4hvq", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]]]])
        #expect(choice["finish_reason"] == "tool_calls")
        // billed_units when tokens are absent
        #expect(r["usage"] == ["prompt_tokens": 37, "completion_tokens": 28, "total_tokens": 65])
    }

    @Test("finish reasons: MAX_TOKENS → length, STOP_SEQUENCE → stop, ERROR/TIMEOUT fail, an error body under 200 fails")
    func finishReasons() throws {
        let p = try provider()
        func answer(_ reason: String) throws -> JSONObject {
            try CohereCodec().decodeChat(Array(#"{"id":"x","message":{"role":"assistant","content":[{"type":"text","text":"partial"}]},"finish_reason":"\#(reason)"}"#.utf8), model: "m", provider: p)
        }
        #expect(try answer("MAX_TOKENS")["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(try answer("STOP_SEQUENCE")["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        #expect(try answer("SOMETHING_NEW")["choices"]?.arrayValue?.first?["finish_reason"] == "stop")
        for (reason, status) in [("ERROR", Status.upstreamServer), ("TIMEOUT", .timeout)] {
            do { _ = try answer(reason); Issue.record("\(reason) did not fail") } catch let e as PMXError {
                #expect(e.status == status)
                #expect(e.provider == "co")
            }
        }
        do {
            _ = try CohereCodec().decodeChat(Array(#"{"id":"e1","message":"invalid request: model 'nope' not found"}"#.utf8), model: "m", provider: p)
            Issue.record("no error")
        } catch let e as PMXError {
            #expect(e.status == .upstreamServer)
            #expect(e.message.contains("model 'nope' not found"))
        }
        for broken in [#"{"id":"x","message":{"role":"assistant","content":"text"},"finish_reason":"COMPLETE"}"#,
                       #"{"id":"x","finish_reason":"COMPLETE"}"#, #"{"id":"x","message":{"role":"assistant"}}"#,
                       #"{"id":"x","message":{"tool_calls":[{"type":"function"}]},"finish_reason":"TOOL_CALL"}"#, "[1]", "{not json"] {
            do { _ = try CohereCodec().decodeChat(Array(broken.utf8), model: "m", provider: p); Issue.record("accepted \(broken)") } catch let e as PMXError {
                #expect(e.status == .upstreamProtocol, "\(broken)")
            }
        }
    }

    // MARK: Streams

    @Test("a streamed answer: event: lines, content-start/delta/end, message-end → finish, usage, end")
    func textStream() {
        expectSplitInvariant(sse(textEvents), expected: Decoded(events: textExpected))
    }

    @Test("CRLF line endings and data-only frames (no event: lines) decode the same")
    func framing() {
        expectSplitInvariant(sse(textEvents, newline: "\r\n"), expected: Decoded(events: textExpected))
        let dataOnly = Array(textEvents.map { "data: \($0)\n\n" }.joined().utf8)
        expectSplitInvariant(dataOnly, expected: Decoded(events: textExpected))
    }

    @Test("a streamed tool call: tool plan left out, id/name on the first delta only, second call gets index 1")
    func toolStream() {
        expectSplitInvariant(sse(toolEvents), expected: Decoded(events: toolExpected))
        var acc = StreamAccumulator()
        for e in toolExpected { acc.apply(e) }
        let r = acc.response(fallbackModel: "m")
        let message = r["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == .null)
        #expect(message?["tool_calls"] == [
            ["id": "get_weather_nsz5zm3w56q3", "type": "function", "function": ["name": "get_weather", "arguments": "{\n    \"city\": \"Paris\"\n}"]],
            ["id": "get_time_8ad1kqz2", "type": "function", "function": ["name": "get_time", "arguments": "{}"]]])
    }

    @Test("an in-stream error: message-end with ERROR → usage so far, then an error event")
    func streamError() {
        expectSplitInvariant(sse(errorEvents), expected: Decoded(events: errorExpected))
    }

    @Test("a failed generation reported before message-start is still an error, not a protocol break")
    func errorFirst() {
        expectSplitInvariant(sse([errorEvents[3]]), expected: Decoded(events: [
            .usage(Usage(promptTokens: 69, completionTokens: 1)), errorExpected[3]]))
    }

    @Test("an error body sent as an event (no type) → error event; nothing after it is read")
    func errorBodyEvent() {
        let bytes = sse([start, #"{"id":"5d2e","message":"too many requests, please slow down"}"#, textEvents[2]])
        expectSplitInvariant(bytes, expected: Decoded(events: [
            startEvent, .error(PMXError(.upstreamServer, "cohere: error event in stream: too many requests, please slow down", provider: "co"))]))
        let named = Array(("event: error\ndata: {\"message\":\"upstream overloaded\"}\n\n").utf8)
        #expect(decode(named).events == [.error(PMXError(.upstreamServer, "cohere: error event in stream: upstream overloaded", provider: "co"))])
    }

    // Thinking is reasoning now (CohereThinkingTests), no longer ignored.
    @Test("unknown event types, debug and citations are ignored; anything after message-end too")
    func ignored() {
        let bytes = sse([start,
                         #"{"type":"debug","prompt":"<BOS_TOKEN>..."}"#,
                         #"{"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0,"end":5,"text":"Hello","sources":[]}}}}"#,
                         #"{"type":"citation-end","index":0}"#,
                         #"{"type":"some-future-event","delta":{}}"#]
                        + Array(textEvents[1...]) + ["[DONE]", #"{"type":"content-delta","delta":{"message":{"content":{"text":"late"}}}}"#])
        expectSplitInvariant(bytes, expected: Decoded(events: textExpected))
    }

    @Test("a stream cut before message-end ends without .end (the driver reports it)")
    func cut() {
        let d = decode(sse(Array(textEvents.prefix(4))))
        #expect(d.error == nil)
        #expect(d.events == Array(textExpected.prefix(3)))
    }

    @Test("broken promises are PMX_ERR_UPSTREAM_PROTOCOL at any split")
    func brokenPromises() {
        expectBroken([start, textEvents[2], "{\"type\":\"content-delta\", not json"], "malformed stream event",
                     before: [startEvent, .delta(content: "Hello", toolCalls: nil)])
        expectBroken([textEvents[2]], "content-delta before message-start", before: [])
        expectBroken([toolEvents[3]], "tool-call-start before message-start", before: [])
        expectBroken([textEvents[5]], "message-end before message-start", before: [])
        expectBroken([start, start], "a second message-start", before: [startEvent])
        expectBroken([start, toolEvents[4]], "tool-call-delta without an open tool call", before: [startEvent])
        expectBroken([start, toolEvents[3], toolEvents[7], toolEvents[4]], "tool-call-delta without an open tool call",
                     before: [startEvent, toolExpected[1]])
        expectBroken([start, toolEvents[7]], "tool-call-end without an open tool call", before: [startEvent])
        expectBroken([start, #"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"type":"function","function":{"arguments":""}}}}}"#],
                     "tool-call-start without", before: [startEvent])
        expectBroken([start, toolEvents[3], #"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":{"city":"Paris"}}}}}}"#],
                     "expected a string", before: [startEvent, toolExpected[1]])
        expectBroken([start, #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":42}}}}"#], "expected a string", before: [startEvent])
        expectBroken([start, #"{"type":"content-delta","index":0,"delta":{}}"#], "content-delta without", before: [startEvent])
        expectBroken([start, "[1,2]"], "expected an object", before: [startEvent])
        expectBroken([start, "[DONE]"], "[DONE] before message-end", before: [startEvent])
        let untyped = Array("data: {\"delta\":{}}\n\n".utf8)
        #expect(decode(untyped).error?.status == .upstreamProtocol)
    }

    // MARK: Embeddings and models

    @Test("embeddings: /v2/embed with texts, input_type, float; embeddings.float → OpenAI list")
    func embeddings() throws {
        let p = try provider()
        let r = try EmbedRequest.parse(try JSONParser.parse(#"{"model":"embed-v4.0","input":["alpha","beta"],"dimensions":256}"#))
        let call = try CohereCodec().embedCall(r, model: "embed-v4.0", provider: p)
        #expect(call.url == "https://api.cohere.com/v2/embed")
        #expect(call.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer \(key)" })
        #expect(try body(call) == ["model": "embed-v4.0", "texts": ["alpha", "beta"], "input_type": "search_document",
                                   "embedding_types": ["float"], "output_dimension": 256])
        let answer = #"{"id":"da6e531f","embeddings":{"float":[[0.016296387,-0.008354187],[-0.04663086,0.024429321]]},"texts":["alpha","beta"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":2}},"response_type":"embeddings_by_type"}"#
        let o = try CohereCodec().decodeEmbeddings(Array(answer.utf8), request: r, model: "embed-v4.0", provider: p)
        #expect(JSONValue.object(o) == ["object": "list", "data": [
            ["object": "embedding", "index": 0, "embedding": [0.016296387, -0.008354187]],
            ["object": "embedding", "index": 1, "embedding": [-0.04663086, 0.024429321]]],
            "model": "embed-v4.0", "usage": ["prompt_tokens": 2, "total_tokens": 2]])
        for broken in [#"{"id":"x","embeddings":{"int8":[[1]]}}"#, #"{"embeddings":{"float":[[0.1]]}}"#, #"{"embeddings":{"float":[["a"],[1]]}}"#] {
            #expect(throws: PMXError.self) { try CohereCodec().decodeEmbeddings(Array(broken.utf8), request: r, model: "m", provider: p) }
        }
        #expect(throws: PMXError.self) { try CohereCodec().embedCall(r, model: nil, provider: p) }
    }

    @Test("models: GET /v1/models?page_size=1000; name, context length, capabilities from endpoints and features")
    func models() throws {
        let p = try provider()
        let call = try #require(CohereCodec().modelsCall(provider: p))
        #expect(call.method == "GET")
        #expect(call.url == "https://api.cohere.com/v1/models?page_size=1000")
        #expect(call.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer \(key)" })
        #expect(CohereCodec().healthCall(provider: p)?.url == call.url)
        let answer = #"{"models":[{"name":"command-a-03-2025","endpoints":["chat"],"finetuned":false,"context_length":256000,"tokenizer_url":"https://storage.googleapis.com/x.json","default_endpoints":[],"features":["json_mode","strict-tools","tools","json_schema"]},{"name":"command-a-vision-07-2025","endpoints":["chat"],"context_length":128000,"features":["vision"]},{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000.0,"is_deprecated":false},{"endpoints":["chat"]}],"next_page_token":null}"#
        let models = try CohereCodec().decodeModels(Array(answer.utf8), provider: p)
        #expect(models.map(\.id) == ["command-a-03-2025", "command-a-vision-07-2025", "embed-v4.0"])
        #expect(models.map(\.contextLength) == [256000, 128000, 128000])
        #expect(models.map(\.capabilities) == [["chat", "tools"], ["chat", "vision"], ["embeddings"]])
        #expect(models[0].details["finetuned"] == false)
        #expect(models[2].details["is_deprecated"] == false)
        #expect(throws: PMXError.self) { try CohereCodec().decodeModels(Array(#"{"data":[{"id":"gpt"}]}"#.utf8), provider: p) }
    }

    // MARK: Errors

    @Test("HTTP errors keep Cohere's message; 498, trial quota, context length and 501 refined")
    func httpErrors() throws {
        let p = try provider()
        func map(_ status: Int, _ body: String, headers: [(String, String)] = []) -> PMXError {
            CohereCodec().error(status: status, head: HTTPResponseHead(status: status, headers: headers), body: Array(body.utf8), provider: p)
        }
        let e401 = map(401, #"{"id":"0b7b4f5e","message":"invalid api token"}"#)
        #expect(e401.status == .auth)
        #expect(e401.message == "HTTP 401: invalid api token")
        #expect(e401.httpStatus == 401)
        #expect(e401.provider == "co")
        #expect(map(498, #"{"message":"invalid token"}"#).status == .auth)
        let slow = map(429, #"{"id":"r1","message":"You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'."}"#)
        #expect(slow.status == .rateLimited)
        #expect(slow.message.hasPrefix("HTTP 429: You are using a Trial key"))
        #expect(map(429, #"{"message":"You are using a Trial key, which is limited to 1000 API calls / month."}"#).status == .quotaExceeded)
        #expect(map(400, #"{"message":"too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 130042"}"#).status == .contextLengthExceeded)
        #expect(map(400, #"{"message":"invalid request: message must be at least 1 token long"}"#).status == .upstreamBadRequest)
        #expect(map(404, #"{"message":"model 'command-z' not found, make sure the correct model ID was used"}"#).status == .modelNotFound)
        #expect(map(500, #"{"message":"internal server error"}"#).status == .upstreamServer)
        #expect(map(501, #"{"message":"this model does not support vision"}"#).status == .unsupported)
        #expect(map(502, "<html>Bad Gateway</html>").message == "HTTP 502: <html>Bad Gateway</html>")
        let long = map(400, "{\"message\":\"\(String(repeating: "x", count: 1000))\"}")
        #expect(long.message.count < 320)
        // the key never leaks, even when a body echoes it back
        #expect(!map(401, "{\"message\":\"bad key \(key)\"}").message.contains(key))
        #expect(CohereCodec().retryAfterMs(HTTPResponseHead(status: 429, headers: [("retry-after", "2")])) == 2000)
    }
}

// MARK: - Reasoning (CohereThinking)

/// A thinking model's stream as Cohere sends it: a thinking content block (index 0) before the
/// text block (index 1); thinking pieces in `delta.message.content.thinking`.
private let thinkingEvents = [
    start,
    #"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"thinking","thinking":""}}}}"#,
    #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"Let me "}}}}"#,
    #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"think — 世界"}}}}"#,
    #"{"type":"content-end","index":0}"#,
    #"{"type":"content-start","index":1,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
    #"{"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"Hello"}}},"logprobs":null}"#,
    #"{"type":"content-end","index":1}"#,
    #"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":9},"tokens":{"input_tokens":69,"output_tokens":9}}}}"#,
]

extension CohereCodecTests {
    @Test("reasoning_effort → thinking {enabled, token_budget} ('none' disables); a thinking object passes, budget_tokens read as token_budget")
    func thinkingRequest() throws {
        let p = try provider()
        func thinking(_ extra: String) throws -> JSONValue? {
            let r = try request(#"{"messages":[{"role":"user","content":"hi"}]"# + extra + "}")
            return try body(CohereCodec().chatCall(r, model: "command-a-reasoning-08-2025", stream: false, provider: p))["thinking"]
        }
        #expect(try thinking("") == nil)
        #expect(try thinking(#","reasoning_effort":"low""#) == ["type": "enabled", "token_budget": 1024])
        #expect(try thinking(#","reasoning_effort":"HIGH""#) == ["type": "enabled", "token_budget": 16384])
        #expect(try thinking(#","reasoning_effort":"none""#) == ["type": "disabled"])
        #expect(try thinking(#","thinking":{"type":"enabled","token_budget":500},"reasoning_effort":"high""#) == ["type": "enabled", "token_budget": 500])
        #expect(try thinking(#","thinking":{"type":"enabled","budget_tokens":2048}"#) == ["type": "enabled", "token_budget": 2048])
        #expect(try thinking(#","thinking":{"type":"disabled"}"#) == ["type": "disabled"])
        for bad in [#","thinking":true"#, #","thinking":{"type":"enabled","budget_tokens":"many"}"#, #","reasoning_effort":"extreme""#] {
            do {
                _ = try thinking(bad)
                Issue.record("accepted \(bad)")
            } catch let e as PMXError {
                #expect(e.status == .invalidRequest, "\(bad)")
                #expect(e.message.contains("thinking") || e.message.contains("reasoning_effort"), "\(e.message)")
            }
        }
    }

    @Test("an assistant turn's reasoning_content goes back first as a thinking item")
    func thinkingHistory() throws {
        let r = try request(#"""
        {"messages":[{"role":"user","content":"hi"},
          {"role":"assistant","content":"Hello","reasoning_content":"They greet me."},
          {"role":"assistant","content":null,"reasoning_content":"Need the weather.","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
          {"role":"assistant","content":"plain","reasoning_content":""}]}
        """#)
        let m = try #require(try body(CohereCodec().chatCall(r, model: "m", stream: false, provider: try provider()))["messages"]?.arrayValue)
        #expect(m[1] == ["role": "assistant", "content": [["type": "thinking", "thinking": "They greet me."], ["type": "text", "text": "Hello"]]])
        #expect(m[2]["content"] == [["type": "thinking", "thinking": "Need the weather."]])
        #expect(m[2]["tool_calls"]?.arrayValue?.count == 1)
        #expect(m[3] == ["role": "assistant", "content": "plain"])
    }

    @Test("a non-streamed answer's thinking items → reasoning_content, not content")
    func thinkingAnswer() throws {
        let json = #"{"id":"t1","message":{"role":"assistant","content":[{"type":"thinking","thinking":"Alice has 2 sisters"},{"type":"thinking","thinking":", so 3."},{"type":"text","text":"Three."}]},"finish_reason":"COMPLETE","usage":{"tokens":{"input_tokens":20,"output_tokens":40}}}"#
        let r = try CohereCodec().decodeChat(Array(json.utf8), model: "m", provider: try provider())
        let message = r["choices"]?.arrayValue?.first?["message"]
        #expect(message?["content"] == "Three.")
        #expect(message?["reasoning_content"] == "Alice has 2 sisters, so 3.")
        // Cohere counts thinking inside output_tokens and reports no split: none is invented.
        #expect(r["usage"] == ["prompt_tokens": 20, "completion_tokens": 40, "total_tokens": 60])
        let broken = #"{"id":"t1","message":{"role":"assistant","content":[{"type":"thinking"}]},"finish_reason":"COMPLETE"}"#
        #expect(throws: PMXError.self) { try CohereCodec().decodeChat(Array(broken.utf8), model: "m", provider: try provider()) }
    }

    @Test("a streamed thinking block → reasoning events before the text, at any split")
    func thinkingStream() {
        let expected: [ProviderEvent] = [startEvent, .reasoning("Let me "), .reasoning("think — 世界"),
                                         .delta(content: "Hello", toolCalls: nil), .finish(reason: "stop"),
                                         .usage(Usage(promptTokens: 69, completionTokens: 9)), .end]
        expectSplitInvariant(sse(thinkingEvents), expected: Decoded(events: expected))
        expectBroken([start, #"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":7}}}}"#],
                     "thinking is number", before: [startEvent])
    }
}
