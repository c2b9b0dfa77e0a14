// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// The Anthropic Messages protocol without a network: request translation field by field,
// non-streamed answers, the SSE stream decoder on recorded-looking bytes (whole, split in two at
// every byte boundary, byte by byte), error mapping and the model list.

// MARK: - Fixtures

private let key = "sk-ant-api03-TESTKEY-anthropic"

private func provider(_ extra: String = "") throws -> ProviderConfig {
    try ProviderConfig.parse(
        JSONParser.parse(#"{"name":"claude","type":"anthropic","base_url":"https://api.anthropic.com/","api_key":"\#(key)","default_model":"claude-sonnet-4-5","headers":{"X-Team":"search"}\#(extra)}"#),
        path: "providers[0]", lookup: { _ in nil })
}

private func object(_ v: JSONValue) -> JSONObject { v.objectValue ?? JSONObject() }

private func request(_ json: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(json)) }

/// The body Anthropic would receive for `json`.
private func body(_ json: String, model: String? = "claude-sonnet-4-5", stream: Bool = false, extra: String = "") throws -> JSONValue {
    let call = try AnthropicCodec().chatCall(request(json), model: model, stream: stream, provider: provider(extra))
    return try JSONParser.parse(try #require(call.body))
}

private func sse(_ events: [(String, String)]) -> [UInt8] {
    Array(events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined().utf8)
}

private let textStream: [(String, String)] = [
    ("message_start", #"{"type":"message_start","message":{"id":"msg_01GhXU5oKUQh2ZiyRCDTmVGd","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1,"service_tier":"standard"}}}"#),
    ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
    ("ping", #"{"type": "ping"}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", wörld 👋 — 世界"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#),
    ("message_stop", #"{"type":"message_stop"}"#),
]

private let textMeta = ProviderEvent.meta(id: "msg_01GhXU5oKUQh2ZiyRCDTmVGd", model: "claude-sonnet-4-5-20250929")
/// message_start's usage (input known, output so far) comes right after the meta.
private let textStartUsage = ProviderEvent.usage(Usage(promptTokens: 25, completionTokens: 1, cachedTokens: 0))
private let textExpected: [ProviderEvent] = [
    textMeta,
    textStartUsage,
    .delta(content: "Hello", toolCalls: nil),
    .delta(content: ", wörld 👋 — 世界", toolCalls: nil),
    .finish(reason: "stop"),
    .usage(Usage(promptTokens: 25, completionTokens: 15, cachedTokens: 0)),
    .end,
]

/// Extended thinking, then text, then two tool calls: content blocks 2 and 3 are tool calls 0 and 1.
private let toolStream: [(String, String)] = [
    ("message_start", #"{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","stop_sequence":null,"usage":{"input_tokens":472,"cache_read_input_tokens":100,"output_tokens":2},"content":[],"stop_reason":null}}"#),
    ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants the weather."}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
    ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me check."}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
    ("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Pa"}}"#),
    ("ping", #"{"type": "ping"}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"ris\"}"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
    ("content_block_start", #"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_01Vw2","name":"get_time","input":{}}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":3}"#),
    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#),
    ("message_stop", #"{"type":"message_stop"}"#),
]

private let toolExpected: [ProviderEvent] = [
    .meta(id: "msg_014p7gG3wDgGV9EUtLvnow3U", model: "claude-opus-4-1-20250805"),
    .usage(Usage(promptTokens: 572, completionTokens: 2, cachedTokens: 100)),
    .reasoning("The user wants the weather."),
    .thinkingBlock(["type": "thinking", "thinking": "The user wants the weather.",
                    "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"]),
    .delta(content: "Let me check.", toolCalls: nil),
    .delta(content: nil, toolCalls: [["index": 0, "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function",
                                      "function": ["name": "get_weather", "arguments": ""]]]),
    .delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": #"{"location": "Pa"#]]]),
    .delta(content: nil, toolCalls: [["index": 0, "function": ["arguments": #"ris"}"#]]]),
    .delta(content: nil, toolCalls: [["index": 1, "id": "toolu_01Vw2", "type": "function", "function": ["name": "get_time", "arguments": ""]]]),
    .delta(content: nil, toolCalls: [["index": 1, "function": ["arguments": "{}"]]]),
    .finish(reason: "tool_calls"),
    .usage(Usage(promptTokens: 572, completionTokens: 89, cachedTokens: 100)),
    .end,
]

private let errorStream: [(String, String)] = [
    textStream[0], textStream[1], textStream[3],
    ("error", #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#),
]
private let errorExpected: [ProviderEvent] = [
    textMeta, textStartUsage, .delta(content: "Hello", toolCalls: nil),
    .error(PMXError(.upstreamServer, "error event in stream: overloaded_error: Overloaded", httpStatus: 529, provider: "claude")),
]

/// Decodes `bytes` whole, split in two at every boundary, and byte by byte; all must agree.
private func decodeEverySplit(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> DecodedStream {
    decodeStreamEverySplit(AnthropicCodec(), try provider(), model: nil, bytes, sourceLocation: sourceLocation)
}

private func protocolError(_ events: [(String, String)], sourceLocation: SourceLocation = #_sourceLocation) throws -> PMXError? {
    let d = try decodeEverySplit(sse(events), sourceLocation: sourceLocation)
    #expect(d.error?.status == .upstreamProtocol, "\(d)", sourceLocation: sourceLocation)
    #expect(d.error?.provider == "claude", sourceLocation: sourceLocation)
    return d.error
}

// MARK: - Suite

@Suite("Anthropic codec")
struct AnthropicCodecTests {
    // MARK: Request translation

    @Test("URL, method, headers: x-api-key, anthropic-version, JSON, then the user's headers; no key in the body")
    func callShape() throws {
        let call = try AnthropicCodec().chatCall(request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "claude-haiku-4-5",
                                                 stream: false, provider: provider())
        #expect(call.method == "POST")
        #expect(call.url == "https://api.anthropic.com/v1/messages")
        #expect(call.headers.map { "\($0.0): \($0.1)" } == [
            "Content-Type: application/json", "Accept: application/json", "x-api-key: \(key)",
            "anthropic-version: 2023-06-01", "X-Team: search",
        ])
        #expect(!call.headers.contains { $0.0.lowercased() == "authorization" })
        let text = String(decoding: try #require(call.body), as: UTF8.self)
        #expect(!text.contains(key))
        #expect(try JSONParser.parse(text)["model"] == "claude-haiku-4-5")

        let streamed = try AnthropicCodec().chatCall(request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: nil, stream: true,
                                                     provider: provider(#","anthropic_version":"2024-01-01""#))
        #expect(streamed.headers.contains { $0 == ("Accept", "text/event-stream") })
        #expect(streamed.headers.contains { $0 == ("anthropic-version", "2024-01-01") })
        let json = try JSONParser.parse(try #require(streamed.body))
        #expect(json["stream"] == true)
        #expect(json["model"] == "claude-sonnet-4-5")  // the provider's default_model
    }

    @Test("no key configured (intentionally empty): no x-api-key header")
    func noKey() throws {
        let p = try ProviderConfig.parse(JSONParser.parse(#"{"name":"local","type":"anthropic","base_url":"http://127.0.0.1:8080","api_key":""}"#),
                                         path: "p", lookup: { _ in nil })
        let call = try AnthropicCodec().chatCall(request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "m", stream: false, provider: p)
        #expect(call.url == "http://127.0.0.1:8080/v1/messages")
        #expect(!call.headers.contains { $0.0 == "x-api-key" })
    }

    @Test("no model and no default_model: an invalid request")
    func modelRequired() throws {
        let p = try ProviderConfig.parse(JSONParser.parse(#"{"name":"c","type":"anthropic","api_key":"k"}"#), path: "p", lookup: { _ in nil })
        #expect(throws: PMXError.self) {
            _ = try AnthropicCodec().chatCall(request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: nil, stream: false, provider: p)
        }
        do {
            _ = try AnthropicCodec().chatCall(request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: nil, stream: false, provider: p)
        } catch let e as PMXError { #expect(e.status == .invalidRequest) }
    }

    @Test("system and developer messages are hoisted and joined; consecutive user turns merge")
    func systemAndMerging() throws {
        let b = try body(#"""
        {"messages":[
          {"role":"system","content":"You are terse."},
          {"role":"user","content":"one"},
          {"role":"developer","content":[{"type":"text","text":"Answer in French."},{"type":"text","text":"No emoji."}]},
          {"role":"user","content":[{"type":"text","text":"two"}]},
          {"role":"assistant","content":"un deux"},
          {"role":"user","content":"three"}
        ]}
        """#)
        #expect(b["system"] == "You are terse.\n\nAnswer in French.\n\nNo emoji.")
        #expect(b["messages"] == [
            ["role": "user", "content": [["type": "text", "text": "one"], ["type": "text", "text": "two"]]],
            ["role": "assistant", "content": "un deux"],
            ["role": "user", "content": "three"],
        ])
        #expect(b["max_tokens"] == 4096)
        #expect(b["stream"] == false)
    }

    @Test("max_tokens: max_completion_tokens, else max_tokens, else the provider's default_max_tokens, else 4096")
    func maxTokens() throws {
        let msg = #""messages":[{"role":"user","content":"hi"}]"#
        #expect(try body("{\(msg)}")["max_tokens"] == 4096)
        #expect(try body("{\(msg)}", extra: #","default_max_tokens":1000"#)["max_tokens"] == 1000)
        #expect(try body(#"{\#(msg),"max_tokens":77}"#, extra: #","default_max_tokens":1000"#)["max_tokens"] == 77)
        #expect(try body(#"{\#(msg),"max_tokens":77,"max_completion_tokens":55}"#)["max_tokens"] == 55)
    }

    @Test("sampling: temperature and top_p pass, stop becomes stop_sequences, OpenAI-only fields are dropped")
    func sampling() throws {
        let b = try body(#"{"messages":[{"role":"user","content":"hi"}],"temperature":0.3,"top_p":0.9,"stop":"END","seed":7,"n":1,"#
            + #""response_format":{"type":"json_object"},"stream_options":{"include_usage":true},"presence_penalty":0.5,"user":"u-42"}"#)
        let o = try #require(b.objectValue)
        #expect(o["temperature"] == 0.3)
        #expect(o["top_p"] == 0.9)
        #expect(o["stop_sequences"] == ["END"])
        #expect(o["metadata"] == ["user_id": "u-42"])
        for dropped in ["stop", "seed", "n", "response_format", "stream_options", "presence_penalty", "user", "tools", "tool_choice", "system"] {
            #expect(o[dropped] == nil, "\(dropped)")
        }
        #expect(try body(#"{"messages":[{"role":"user","content":"hi"}],"stop":["a","b"]}"#)["stop_sequences"] == ["a", "b"])
    }

    @Test("images: data: URLs become base64 sources, https URLs URL sources")
    func images() throws {
        let b = try body(#"""
        {"messages":[{"role":"user","content":[
          {"type":"text","text":"What is in these?"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
          {"type":"image_url","image_url":{"url":"https://upload.wikimedia.org/cat.jpg"}}
        ]}]}
        """#)
        #expect(b["messages"] == [["role": "user", "content": [
            ["type": "text", "text": "What is in these?"],
            ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="]],
            ["type": "image", "source": ["type": "url", "url": "https://upload.wikimedia.org/cat.jpg"]],
        ]]])
        for bad in ["data:image/png,notbase64", "data:;base64,AAAA", "ftp://x/y.png"] {
            do {
                _ = try body(#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(bad)"}}]}]}"#)
                Issue.record("\(bad) accepted")
            } catch let e as PMXError {
                #expect(e.status == .invalidRequest)
                #expect(e.message.hasPrefix("messages[0].content[0].image_url.url: "), "\(e.message)")
            }
        }
        do {
            _ = try body(#"{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#)
            Issue.record("audio accepted")
        } catch let e as PMXError { #expect(e.status == .unsupported) }
    }

    @Test("tool calls become tool_use blocks with parsed input; tool results one user turn, before the next user text")
    func toolHistory() throws {
        let b = try body(#"""
        {"messages":[
          {"role":"user","content":"Weather in Paris and the time?"},
          {"role":"assistant","content":"Checking.","tool_calls":[
            {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
            {"id":"toolu_01B","type":"function","function":{"name":"get_time","arguments":""}}]},
          {"role":"tool","tool_call_id":"toolu_01A","content":"18°C"},
          {"role":"tool","tool_call_id":"toolu_01B","content":[{"type":"text","text":"12:00"}]},
          {"role":"user","content":"Thanks"}
        ],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
                   {"type":"function","function":{"name":"get_time"}}]}
        """#)
        #expect(b["messages"] == [
            ["role": "user", "content": "Weather in Paris and the time?"],
            ["role": "assistant", "content": [
                ["type": "text", "text": "Checking."],
                ["type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": ["city": "Paris"]],
                ["type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": .object(JSONObject())],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "toolu_01A", "content": "18°C"],
                ["type": "tool_result", "tool_use_id": "toolu_01B", "content": [["type": "text", "text": "12:00"]]],
                ["type": "text", "text": "Thanks"],
            ]],
        ])
        #expect(b["tools"] == [
            ["name": "get_weather", "description": "Weather now",
             "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]],
            ["name": "get_time", "input_schema": ["type": "object", "properties": .object(JSONObject())]],
        ])
        #expect(b["tool_choice"] == nil)

        do {
            _ = try body(#"{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}"#)
            Issue.record("bad arguments accepted")
        } catch let e as PMXError {
            #expect(e.status == .invalidRequest)
            #expect(e.message.hasPrefix("messages[0].tool_calls[0].function.arguments: "))
        }
        do {
            _ = try body(#"{"messages":[{"role":"tool","content":"x"}]}"#)
            Issue.record("tool message without tool_call_id accepted")
        } catch let e as PMXError { #expect(e.message.hasPrefix("messages[0].tool_call_id: ")) }
    }

    @Test("tool_choice: auto, required → any, a function → tool, none → no tools (or type none when the history has tool blocks)")
    func toolChoice() throws {
        let tools = #""tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]"#
        let ask = #""messages":[{"role":"user","content":"weather?"}]"#
        #expect(try body(#"{\#(ask),\#(tools),"tool_choice":"auto"}"#)["tool_choice"] == nil)
        #expect(try body(#"{\#(ask),\#(tools),"tool_choice":"required"}"#)["tool_choice"] == ["type": "any"])
        #expect(try body(#"{\#(ask),\#(tools),"tool_choice":{"type":"function","function":{"name":"get_weather"}}}"#)["tool_choice"]
            == ["type": "tool", "name": "get_weather"])
        #expect(try body(#"{\#(ask),\#(tools),"parallel_tool_calls":false}"#)["tool_choice"] == ["type": "auto", "disable_parallel_tool_use": true])
        let none = try body(#"{\#(ask),\#(tools),"tool_choice":"none"}"#)
        #expect(none["tools"] == nil)
        #expect(none["tool_choice"] == nil)
        let history = #""messages":[{"role":"user","content":"weather?"},{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t1","content":"sunny"}]"#
        let noneAfterTools = try body(#"{\#(history),\#(tools),"tool_choice":"none"}"#)
        #expect(noneAfterTools["tools"]?.arrayValue?.count == 1)
        #expect(noneAfterTools["tool_choice"] == ["type": "none"])
    }

    // MARK: Non-streamed answers

    @Test("a plain answer becomes a chat.completion; cache tokens count as prompt tokens")
    func plainAnswer() throws {
        let answer = #"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello! How can I help"},{"type":"text","text":" you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":3,"cache_read_input_tokens":5,"output_tokens":10,"service_tier":"standard"}}"#
        let r = try AnthropicCodec().decodeChat(Array(answer.utf8), model: "claude-sonnet-4-5", provider: provider())
        #expect(r["id"] == "msg_01XFDUDYJgAACzvnptvVoYEL")
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "claude-sonnet-4-5-20250929")
        #expect(r["choices"] == [["index": 0, "message": ["role": "assistant", "content": "Hello! How can I help you today?"], "finish_reason": "stop"]])
        #expect(r["usage"] == ["prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30,
                               "prompt_tokens_details": ["cached_tokens": 5, "cache_creation_tokens": 3]])
    }

    @Test("a tool_use answer: tool_calls with arguments as a JSON string, finish_reason tool_calls")
    func toolAnswer() throws {
        let answer = #"{"id":"msg_01Aq9w938a90dw8q","type":"message","role":"assistant","model":"claude-opus-4-1-20250805","content":[{"type":"thinking","thinking":"hmm","signature":"x"},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":484,"output_tokens":57}}"#
        let r = try AnthropicCodec().decodeChat(Array(answer.utf8), model: nil, provider: provider())
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [["id": "toolu_01A09q90qw90lq917835lq9", "type": "function",
                                                       "function": ["name": "get_weather", "arguments": #"{"location":"San Francisco, CA","unit":"celsius"}"#]]])
        #expect(r["usage"]?["total_tokens"] == 541)
    }

    @Test("stop reasons map to OpenAI's names", arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"), ("tool_use", "tool_calls"),
        ("refusal", "content_filter"), ("pause_turn", "stop"), ("model_context_window_exceeded", "length"),
    ])
    func stopReasons(anthropic: String, openAI: String) throws {
        let answer = #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"x"}],"stop_reason":"\#(anthropic)","usage":{"input_tokens":1,"output_tokens":1}}"#
        let r = try AnthropicCodec().decodeChat(Array(answer.utf8), model: nil, provider: provider())
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == .string(openAI))
    }

    @Test("an error object under HTTP 200 and broken bodies")
    func badBodies() throws {
        let p = try provider()
        func failure(_ text: String) -> PMXError? {
            do { _ = try AnthropicCodec().decodeChat(Array(text.utf8), model: nil, provider: p); return nil } catch let e as PMXError { return e } catch { return nil }
        }
        let overloaded = failure(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#)
        #expect(overloaded == PMXError(.upstreamServer, "error in response body: overloaded_error: Overloaded", httpStatus: 529))
        #expect(failure(#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#)?.status == .rateLimited)
        #expect(failure(#"{"id":"msg_1","type":"message","content":[{"type":"text","text":"#)?.status == .upstreamProtocol)
        #expect(failure(#"{"id":"msg_1","type":"message","role":"assistant"}"#)?.message == "Anthropic response: content is missing or not an array")
        #expect(failure(#"{"id":"msg_1","type":"message","content":[{"type":"tool_use","name":"f","input":{}}]}"#)?.status == .upstreamProtocol)
        #expect(failure(#"{"id":"msg_1","type":"message","content":[],"usage":{"input_tokens":"many"}}"#)?.status == .upstreamProtocol)
        #expect(failure("[]")?.status == .upstreamProtocol)
    }

    // MARK: Streams

    @Test("a streamed answer: meta, usage so far, text deltas, finish, usage (input from message_start), end — at every split")
    func streamedText() throws {
        let d = try decodeEverySplit(sse(textStream))
        #expect(d.error == nil)
        #expect(d.events == textExpected)
        #expect(CodecSupport.completion(from: d.events, model: nil)["usage"] == ["prompt_tokens": 25, "completion_tokens": 15, "total_tokens": 40,
                                                                                 "prompt_tokens_details": ["cached_tokens": 0]])
    }

    @Test("CRLF line endings and a stream without event: lines decode the same")
    func streamVariants() throws {
        let crlf = Array(textStream.map { "event: \($0.0)\r\ndata: \($0.1)\r\n\r\n" }.joined().utf8)
        #expect(try decodeEverySplit(crlf).events == textExpected)
        let untyped = Array(textStream.map { "data: \($0.1)\n\n" }.joined().utf8)
        #expect(try decodeEverySplit(untyped).events == textExpected)
    }

    @Test("a streamed tool call: tool-call index counts tool calls, not content blocks; id and name on the first delta only")
    func streamedTools() throws {
        let d = try decodeEverySplit(sse(toolStream))
        #expect(d.error == nil)
        #expect(d.events == toolExpected)
        let r = CodecSupport.completion(from: d.events, model: nil)
        let message = try #require(r["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == "Let me check.")
        #expect(message["tool_calls"] == [
            ["id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function", "function": ["name": "get_weather", "arguments": #"{"location": "Paris"}"#]],
            ["id": "toolu_01Vw2", "type": "function", "function": ["name": "get_time", "arguments": "{}"]],
        ])
    }

    @Test("usage in message_delta is cumulative: a later total replaces the earlier one")
    func cumulativeUsage() throws {
        var events = Array(textStream.dropLast(2))
        events.append(("message_delta", #"{"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":7}}"#))
        events.append(textStream[6])
        events.append(textStream[7])
        let d = try decodeEverySplit(sse(events))
        #expect(d.events.filter { if case .usage = $0 { true } else { false } } == [
            textStartUsage, .usage(Usage(promptTokens: 25, completionTokens: 7, cachedTokens: 0)), .usage(Usage(promptTokens: 25, completionTokens: 15, cachedTokens: 0)),
        ])
        #expect(CodecSupport.completion(from: d.events, model: nil)["usage"]?["completion_tokens"] == 15)
    }

    @Test("an in-stream error event is an error with the status Anthropic gives it (overloaded = 529)")
    func streamedError() throws {
        let d = try decodeEverySplit(sse(errorStream))
        #expect(d.error == nil)
        #expect(d.events == errorExpected)
        let first = try decodeEverySplit(sse([("error", #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}"#)]))
        #expect(first.events == [.error(PMXError(.rateLimited, "error event in stream: rate_limit_error: Number of requests has exceeded your rate limit", httpStatus: 429))])
    }

    @Test("unknown event and delta types are ignored; nothing after message_stop counts")
    func forwardCompatible() throws {
        var events = Array(textStream.prefix(3))
        events.append(("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"citations_delta","citation":{"type":"char_location"}}}"#))
        events.append(("future_event", #"{"type":"future_event","anything":[1,2,3]}"#))
        events += textStream.dropFirst(3)
        events.append(("content_block_delta", #"{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"late"}}"#))
        let d = try decodeEverySplit(sse(events))
        #expect(d.error == nil)
        #expect(d.events == textExpected)
    }

    @Test("a stream cut before message_stop ends without .end (the usage so far has the input tokens)")
    func truncated() throws {
        let d = try decodeEverySplit(sse(Array(textStream.prefix(5))))
        #expect(d.error == nil)
        #expect(d.events == Array(textExpected.prefix(4)))
    }

    @Test("broken promises are protocol errors naming the problem")
    func outOfOrder() throws {
        let start = textStream[0], block0 = textStream[1], delta0 = textStream[3], stop0 = textStream[5]
        #expect(try protocolError([delta0])?.message == "Anthropic stream: content_block_delta before message_start")
        #expect(try protocolError([start, delta0])?.message == "Anthropic stream: content_block_delta for content block 0, which never started")
        #expect(try protocolError([start, block0, stop0, delta0])?.message == "Anthropic stream: content_block_delta for content block 0 after its content_block_stop")
        #expect(try protocolError([start, block0, block0])?.message == "Anthropic stream: content block 0 started twice")
        #expect(try protocolError([start, start])?.message == "Anthropic stream: a second message_start")
        #expect(try protocolError([textStream[6]])?.message == "Anthropic stream: message_delta before message_start")
        #expect(try protocolError([textStream[7]])?.message == "Anthropic stream: message_stop before message_start")
        #expect(try protocolError([start, block0, ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"#)])?
            .message.hasPrefix("Anthropic stream: malformed content_block_delta event: ") == true)
        #expect(try protocolError([start, ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","input":{}}}"#)])?
            .message == "Anthropic stream: tool_use block 0 without an id and a name")
        #expect(try protocolError([toolStream[0], toolStream[8], ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"x"}}"#)])?
            .message == "Anthropic stream: text_delta for content block 2 of another type")
        #expect(try protocolError([start, block0, ("content_block_delta", #"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#)])?
            .message == "Anthropic stream: content_block_delta without a block index")
        #expect(try protocolError([start, ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":"15"}}"#)])?
            .message == "Anthropic message_delta usage.output_tokens is not a token count (got string)")
        #expect(try protocolError([("message_start", "[1,2]")])?.message == "Anthropic stream: message_start event is not a JSON object")
    }

    // MARK: Errors, retry hints, models

    @Test("HTTP errors keep Anthropic's message and type; the status decides the class", arguments: [
        (429, #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
         Status.rateLimited, "HTTP 429: Number of request tokens has exceeded your per-minute rate limit (rate_limit_error)"),
        (529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#,
         Status.upstreamServer, "HTTP 529: Overloaded (overloaded_error)"),
        (401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#, Status.auth, "HTTP 401: invalid x-api-key (authentication_error)"),
        (403, #"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}"#,
         Status.permission, "HTTP 403: Your API key does not have permission to use the specified resource. (permission_error)"),
        (404, #"{"type":"error","error":{"type":"not_found_error","message":"model: claude-9"}}"#, Status.modelNotFound, "HTTP 404: model: claude-9 (not_found_error)"),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}"#,
         Status.upstreamBadRequest, "HTTP 400: max_tokens: Field required (invalid_request_error)"),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}"#,
         Status.contextLengthExceeded, "HTTP 400: prompt is too long: 208310 tokens > 200000 maximum (invalid_request_error)"),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}"#,
         Status.quotaExceeded, "HTTP 400: Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits. (invalid_request_error)"),
        (502, "<html>Bad Gateway</html>", Status.upstreamServer, "HTTP 502: <html>Bad Gateway</html>"),
    ])
    func httpErrors(status: Int, body: String, expected: Status, message: String) throws {
        let head = HTTPResponseHead(status: status, headers: [("retry-after", "7")])
        let e = AnthropicCodec().error(status: status, head: head, body: Array(body.utf8), provider: try provider())
        #expect(e.status == expected)
        #expect(e.httpStatus == status)
        #expect(e.message == message)
        #expect(e.provider == "claude")
        #expect(AnthropicCodec().retryAfterMs(head) == 7000)
    }

    @Test("a long provider message is shortened")
    func longMessage() throws {
        let long = String(repeating: "x", count: 1000)
        let e = AnthropicCodec().error(status: 400, head: HTTPResponseHead(status: 400, headers: []),
                                       body: Array(#"{"type":"error","error":{"type":"invalid_request_error","message":"\#(long)"}}"#.utf8), provider: try provider())
        #expect(e.message.count < 330)
        #expect(e.message.hasSuffix("…"))
    }

    @Test("models: GET /v1/models with the key and version; ids, display names, capabilities")
    func models() throws {
        let call = try #require(AnthropicCodec().modelsCall(provider: try provider()))
        #expect(call.method == "GET")
        #expect(call.url == "https://api.anthropic.com/v1/models?limit=1000")
        #expect(call.headers.contains { $0 == ("x-api-key", key) })
        #expect(call.headers.contains { $0 == ("anthropic-version", "2023-06-01") })
        #expect(call.body == nil)
        let health = try #require(AnthropicCodec().healthCall(provider: try provider()))
        #expect(health.url == "https://api.anthropic.com/v1/models?limit=1")
        #expect(health.headers.contains { $0 == ("x-api-key", key) })
        let list = #"{"data":[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},{"type":"model","id":"local-gguf","display_name":"Local","created_at":"2025-01-01T00:00:00Z","max_input_tokens":32768}],"has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"local-gguf"}"#
        let models = try AnthropicCodec().decodeModels(Array(list.utf8), provider: try provider())
        #expect(models == [
            ModelInfo(id: "claude-sonnet-4-5-20250929", capabilities: ["chat", "tools", "vision"],
                      details: object(["display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"])),
            ModelInfo(id: "local-gguf", contextLength: 32768, capabilities: ["chat"],
                      details: object(["display_name": "Local", "created_at": "2025-01-01T00:00:00Z"])),
        ])
        #expect(throws: PMXError.self) { _ = try AnthropicCodec().decodeModels(Array(#"{"models":[]}"#.utf8), provider: try provider()) }
        #expect(throws: PMXError.self) { _ = try AnthropicCodec().decodeModels(Array(#"{"data":[{"display_name":"x"}]}"#.utf8), provider: try provider()) }
    }

    @Test("no embeddings")
    func noEmbeddings() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"input":"x"}"#))
        do {
            _ = try AnthropicCodec().embedCall(req, model: "m", provider: try provider())
            Issue.record("embeddings accepted")
        } catch let e as PMXError { #expect(e.status == .unsupported) }
    }
}
