// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// The Gemini codec without a network: recorded `GenerateContentResponse` bodies and SSE streams
// (whole, split in two at every byte, byte by byte), request translation field by field,
// embeddings, models and the error mapping.

// MARK: - Fixtures

/// Gemini frames its SSE events with CRLF.
private func sse(_ events: [String]) -> [UInt8] {
    Array(events.map { "data: \($0)\r\n\r\n" }.joined().utf8)
}

private let textEvents = [
    #"{"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 8}]},"modelVersion": "gemini-2.5-flash","responseId": "mYkSaPzWC8SWnvgPxN2z4Ak"}"#,
    #"{"candidates": [{"content": {"parts": [{"text": ", wörld 👋 — 世界"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.5-flash","responseId": "mYkSaPzWC8SWnvgPxN2z4Ak"}"#,
    #"{"candidates": [{"content": {"parts": [{"text": "","thoughtSignature": "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyhgmg6HE2YjtYDV/dwZ5oZ"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 7,"totalTokenCount": 39,"thoughtsTokenCount": 24,"cachedContentTokenCount": 4},"modelVersion": "gemini-2.5-flash","responseId": "mYkSaPzWC8SWnvgPxN2z4Ak"}"#,
    #"{"usageMetadata": {"promptTokenCount": 8,"candidatesTokenCount": 7,"totalTokenCount": 39,"thoughtsTokenCount": 24,"cachedContentTokenCount": 4},"modelVersion": "gemini-2.5-flash","responseId": "mYkSaPzWC8SWnvgPxN2z4Ak"}"#,
]

private let textExpected: [ProviderEvent] = [
    .meta(id: "mYkSaPzWC8SWnvgPxN2z4Ak", model: "gemini-2.5-flash"),
    .delta(content: "Hello", toolCalls: nil),
    .usage(Usage(promptTokens: 8, completionTokens: 0, totalTokens: 8)),
    .delta(content: ", wörld 👋 — 世界", toolCalls: nil),
    .finish(reason: "stop"),
    .usage(Usage(promptTokens: 8, completionTokens: 31, totalTokens: 39, cachedTokens: 4, reasoningTokens: 24)),
    .end,
]

private let toolEvents = [
    #"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris","unit": "celsius"}},"thoughtSignature": "CiQB0e2Kb7sig"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 61,"totalTokenCount": 61},"modelVersion": "gemini-2.5-flash","responseId": "R2x"}"#,
    #"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_time"}}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 61,"candidatesTokenCount": 22,"totalTokenCount": 83},"modelVersion": "gemini-2.5-flash","responseId": "R2x"}"#,
]

private let toolExpected: [ProviderEvent] = [
    .meta(id: "R2x", model: "gemini-2.5-flash"),
    .delta(content: nil, toolCalls: [["index": 0, "id": "call_R2x_0", "type": "function",
                                      "function": ["name": "get_weather", "arguments": #"{"city":"Paris","unit":"celsius"}"#],
                                      "extra_content": ["google": ["thought_signature": "CiQB0e2Kb7sig"]]]]),
    .usage(Usage(promptTokens: 61, completionTokens: 0, totalTokens: 61)),
    .delta(content: nil, toolCalls: [["index": 1, "id": "call_R2x_1", "type": "function",
                                      "function": ["name": "get_time", "arguments": "{}"]]]),
    .finish(reason: "tool_calls"),
    .usage(Usage(promptTokens: 61, completionTokens: 22, totalTokens: 83)),
    .end,
]

private let errorEvents = [
    #"{"candidates": [{"content": {"parts": [{"text": "Once upon"}],"role": "model"},"index": 0}],"modelVersion": "gemini-2.5-pro"}"#,
    #"{"error": {"code": 503,"message": "The model is overloaded. Please try again later.","status": "UNAVAILABLE"}}"#,
]

private let plainBody = #"""
{
  "candidates": [
    {
      "content": {
        "parts": [
          {"text": "thinking about it", "thought": true},
          {"text": "The capital of France "},
          {"text": "is Paris."}
        ],
        "role": "model"
      },
      "finishReason": "STOP",
      "avgLogprobs": -0.0123,
      "index": 0
    }
  ],
  "usageMetadata": {
    "promptTokenCount": 9,
    "candidatesTokenCount": 8,
    "totalTokenCount": 17,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 9}]
  },
  "modelVersion": "gemini-2.0-flash",
  "responseId": "kDnSaOmLJ4"
}
"""#

private let toolBody = #"""
{"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "Q2lnbmF0dXJl"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
 "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 5, "totalTokenCount": 45}, "modelVersion": "gemini-2.5-flash"}
"""#

private let provider: ProviderConfig = {
    let json = #"{"name":"g","type":"gemini","api_key":"AIzaSy-test-KEY-123","default_model":"gemini-2.0-flash","headers":{"X-Team":"search"}}"#
    return try! ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]")
}()

private let codec = GeminiCodec()

// MARK: - Stream helpers

/// Decodes whole, split in two at every byte boundary and byte by byte; all must agree.
private func decodeEverySplit(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> DecodedStream {
    decodeStreamEverySplit(codec, provider, model: "gemini-2.5-flash", bytes, sourceLocation: sourceLocation)
}

private func chat(_ json: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(json)) }

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }

private func header(_ call: ProviderHTTPCall, _ name: String) -> String? {
    call.headers.first { $0.0.lowercased() == name.lowercased() }?.1
}

private func head(_ status: Int) -> HTTPResponseHead { HTTPResponseHead(status: status, headers: []) }

// MARK: - Suite

@Suite("Gemini codec")
struct GeminiCodecTests {

    // MARK: Streams

    @Test("streamed text: deltas, usage totals, finish, the usage-only chunk, .end at a clean end")
    func streamedText() {
        let out = decodeEverySplit(sse(textEvents))
        #expect(out.error == nil)
        #expect(out.events == textExpected)
        let r = CodecSupport.completion(from: out.events, model: "gemini-2.5-flash")
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "Hello, wörld 👋 — 世界")
        #expect(r["id"] == "mYkSaPzWC8SWnvgPxN2z4Ak")
        #expect(r["usage"] == ["prompt_tokens": 8, "completion_tokens": 31, "total_tokens": 39, "prompt_tokens_details": ["cached_tokens": 4],
                               "completion_tokens_details": ["reasoning_tokens": 24]])
    }

    @Test("streamed tool calls: one whole delta per call with id, name, arguments; STOP becomes tool_calls")
    func streamedToolCalls() {
        let out = decodeEverySplit(sse(toolEvents))
        #expect(out.error == nil)
        #expect(out.events == toolExpected)
        let r = CodecSupport.completion(from: out.events, model: nil)
        let calls = r["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue ?? []
        #expect(calls.map { $0["id"]?.stringValue } == ["call_R2x_0", "call_R2x_1"])
        #expect(calls.first?["function"]?["arguments"] == #"{"city":"Paris","unit":"celsius"}"#)
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
    }

    @Test("an error object in the stream becomes an .error event with Gemini's class, and nothing follows")
    func streamedError() {
        let out = decodeEverySplit(sse(errorEvents + [textEvents[2]]))
        #expect(out.error == nil)
        #expect(out.events == [
            .meta(id: nil, model: "gemini-2.5-pro"),
            .delta(content: "Once upon", toolCalls: nil),
            .error(PMXError(.upstreamServer, "gemini error: The model is overloaded. Please try again later. (UNAVAILABLE)", httpStatus: 503)),
        ])
    }

    @Test("an in-stream error under a gRPC status only (no HTTP code) is classed by that status")
    func streamedErrorByGRPCStatus() {
        let out = decodeEverySplit(sse([#"{"error": {"message": "Request contains an invalid argument.","status": "INVALID_ARGUMENT"}}"#]))
        #expect(out.events.count == 1)
        guard case .error(let e)? = out.events.first else { Issue.record("no error: \(out)"); return }
        #expect(e.status == .upstreamBadRequest)
    }

    @Test("a blocked prompt in a stream (promptFeedback, no candidates) is a content_filtered error")
    func streamedBlockedPrompt() {
        let out = decodeEverySplit(sse([#"{"promptFeedback": {"blockReason": "SAFETY","safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT","probability": "HIGH"}]},"usageMetadata": {"promptTokenCount": 12,"totalTokenCount": 12},"modelVersion": "gemini-2.0-flash"}"#]))
        #expect(out.error == nil)
        #expect(out.events == [.meta(id: nil, model: "gemini-2.0-flash"),
                               .error(PMXError(.contentFiltered, "gemini blocked the prompt (SAFETY)", httpStatus: 200))])
    }

    @Test("finish reasons in OpenAI's words")
    func finishReasons() {
        #expect(GeminiResponseReader.openAIReason("STOP", calledTools: false) == "stop")
        #expect(GeminiResponseReader.openAIReason("STOP", calledTools: true) == "tool_calls")
        #expect(GeminiResponseReader.openAIReason("MAX_TOKENS", calledTools: false) == "length")
        for r in ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"] {
            #expect(GeminiResponseReader.openAIReason(r, calledTools: false) == "content_filter")
        }
        #expect(GeminiResponseReader.openAIReason("OTHER", calledTools: false) == "stop")
        let out = decodeEverySplit(sse([#"{"candidates": [{"content": {"parts": [{"text": "cut"}],"role": "model"},"finishReason": "MAX_TOKENS","index": 0}]}"#]))
        #expect(out.events.contains(.finish(reason: "length")))
        #expect(out.events.last == .end)
    }

    @Test("broken promises are upstream protocol errors naming what was wrong", arguments: [
        (#"{"candidates": [ {not json"#, "malformed stream event"),
        (#"["not", "an object"]"#, "expected a GenerateContentResponse object"),
        (#"{"candidates": {"content": {}}}"#, "candidates is object, not an array"),
        (#"{"candidates": [{"content": {"parts": {"text": "x"}}}]}"#, "content.parts is object"),
        (#"{"candidates": [{"content": {"parts": [{"text": 42}]}}]}"#, "text is number"),
        (#"{"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]}"#, "functionCall without a name"),
        (#"{"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": "{\"a\":1}"}}]}}]}"#, "functionCall.args is string"),
        (#"{"candidates": [{"finishReason": 1}]}"#, "finishReason is number"),
        (#"{"usageMetadata": {"promptTokenCount": "12"}}"#, "usageMetadata.promptTokenCount is not a count"),
    ])
    func malformed(event: String, expected: String) {
        let out = decodeEverySplit(sse([textEvents[0], event, textEvents[2]]))
        #expect(out.error?.status == .upstreamProtocol)
        #expect(out.error?.message.contains(expected) == true, "\(String(describing: out.error))")
        #expect(out.error?.message.hasPrefix("gemini: ") == true)
        #expect(!out.events.contains(.end))
    }

    @Test("content after the finish reason is out of order")
    func contentAfterFinish() {
        let out = decodeEverySplit(sse([textEvents[2], textEvents[0]]))
        #expect(out.error == PMXError(.upstreamProtocol, "gemini: content after the finish reason"))
    }

    @Test("a stream that ends without a finish reason (dropped mid-answer) is a protocol error, not .end")
    func noFinishReason() {
        let out = decodeEverySplit(sse(Array(textEvents.prefix(2))))
        #expect(out.error == PMXError(.upstreamProtocol, "gemini: stream ended without a finish reason"))
        #expect(out.events.count == 4)
        #expect(decodeEverySplit([]).error == PMXError(.upstreamProtocol, "gemini: stream ended without a finish reason"))
    }

    @Test("the JSON-array form (alt=sse ignored) is named as such")
    func jsonArrayInsteadOfSSE() {
        let out = decodeEverySplit(Array(("[" + textEvents[0] + ",\r\n" + textEvents[2] + "]").utf8))
        #expect(out.error?.message == "gemini: got a JSON array instead of server-sent events (alt=sse was ignored)")
    }

    // MARK: Non-streamed answers

    @Test("plain answer: text parts joined, thoughts left out, usage, model version and id")
    func plainAnswer() throws {
        let r = try codec.decodeChat(Array(plainBody.utf8), model: "models/gemini-2.0-flash", provider: provider)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"]?["role"] == "assistant")
        #expect(choice["message"]?["content"] == "The capital of France is Paris.")
        #expect(choice["message"]?["tool_calls"] == nil)
        #expect(choice["finish_reason"] == "stop")
        #expect(r["object"] == "chat.completion")
        #expect(r["id"] == "kDnSaOmLJ4")
        #expect(r["model"] == "gemini-2.0-flash")
        #expect(r["created"]?.intValue != nil)
        #expect(r["usage"] == ["prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17])
    }

    @Test("tool call answer: arguments as a JSON string, a stable id, the thought signature kept")
    func toolAnswer() throws {
        let r = try codec.decodeChat(Array(toolBody.utf8), model: "gemini-2.5-flash", provider: provider)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [["id": "call_0", "type": "function",
                                                       "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#],
                                                       "extra_content": ["google": ["thought_signature": "Q2lnbmF0dXJl"]]]])
        #expect(r["model"] == "gemini-2.5-flash")
    }

    @Test("non-streamed failures: blocked prompt, no candidates, an error object under 200, bad JSON")
    func nonStreamedFailures() {
        func failure(_ body: String) -> PMXError? {
            do { _ = try codec.decodeChat(Array(body.utf8), model: "m", provider: provider); return nil } catch let e as PMXError { return e } catch { return nil }
        }
        let blocked = failure(#"{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}"#)
        #expect(blocked?.status == .contentFiltered)
        #expect(blocked?.message == "gemini blocked the prompt (PROHIBITED_CONTENT)")
        #expect(failure(#"{"usageMetadata": {"promptTokenCount": 5}}"#) == PMXError(.upstreamProtocol, "gemini: response has no candidates"))
        let inBody = failure(#"{"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}"#)
        #expect(inBody?.status == .upstreamServer)
        #expect(inBody?.httpStatus == 500)
        #expect(failure(#"{"candidates": ["#)?.status == .upstreamProtocol)
    }

    // MARK: Requests

    @Test("chat call: URL, method, headers with x-goog-api-key, the key never in body or URL")
    func chatCallShape() throws {
        let plain = try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "gemini-2.5-flash", stream: false, provider: provider)
        #expect(plain.method == "POST")
        #expect(plain.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent")
        #expect(plain.headers.map(\.0) == ["Content-Type", "Accept", "x-goog-api-key", "X-Team"])
        #expect(header(plain, "content-type") == "application/json")
        #expect(header(plain, "x-goog-api-key") == "AIzaSy-test-KEY-123")
        #expect(header(plain, "authorization") == nil)
        #expect(header(plain, "X-Team") == "search")
        #expect(!String(decoding: plain.body ?? [], as: UTF8.self).contains("AIzaSy-test-KEY-123"))
        #expect(!plain.url.contains("key="))

        let streamed = try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "models/gemini-2.5-flash", stream: true, provider: provider)
        #expect(streamed.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        #expect(header(streamed, "accept") == "text/event-stream")
        #expect(try body(streamed)["stream"] == nil)
    }

    @Test("the model: default_model when absent, tunedModels kept, required, one percent-encoded path segment")
    func modelInPath() throws {
        let req = try chat(#"{"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(try codec.chatCall(req, model: nil, stream: false, provider: provider).url.hasSuffix("/v1beta/models/gemini-2.0-flash:generateContent"))
        #expect(try codec.chatCall(req, model: "tunedModels/my-tune-7", stream: false, provider: provider).url.hasSuffix("/v1beta/tunedModels/my-tune-7:generateContent"))
        var bare = provider
        bare.defaultModel = nil
        #expect(throws: PMXError.self) { try codec.chatCall(req, model: nil, stream: false, provider: bare) }
        // Path syntax inside a name is percent-encoded: it cannot change the path or the method.
        for (name, encoded) in [("a/b", "a%2Fb"), ("x?alt=json", "x%3Falt%3Djson"), ("m:generateContent", "m%3AgenerateContent"), ("sp ace", "sp%20ace")] {
            #expect(try codec.chatCall(req, model: name, stream: false, provider: provider).url.hasSuffix("/v1beta/models/\(encoded):generateContent"))
        }
        for bad in ["models/", "a\r\nX-Evil: 1", "a\u{0}", "..", "tunedModels/.."] {
            #expect(throws: PMXError.self, "\(bad)") { try codec.chatCall(req, model: bad, stream: false, provider: provider) }
        }
        var keyless = provider
        keyless.apiKey = nil
        #expect(header(try codec.chatCall(req, model: "m", stream: false, provider: keyless), "x-goog-api-key") == nil)
    }

    @Test("messages: system and developer → systemInstruction, roles user/model, images, tool calls and results")
    func conversation() throws {
        let req = try chat(#"""
        {"messages":[
          {"role":"system","content":"Be brief."},
          {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
          {"role":"user","content":[{"type":"text","text":"What is here?"},
                                    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
                                    {"type":"image_url","image_url":{"url":"https://example.com/cat.JPG?size=2"}},
                                    {"type":"image_url","image_url":{"url":"https://example.com/photo"}}]},
          {"role":"assistant","content":"A cat."},
          {"role":"user","content":"Weather in Paris and the time?"},
          {"role":"assistant","content":null,"tool_calls":[
             {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
              "extra_content":{"google":{"thought_signature":"c2lnMQ=="}}},
             {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}]},
          {"role":"tool","tool_call_id":"call_a","content":"{\"temp_c\":21}"},
          {"role":"tool","tool_call_id":"call_b","content":"12:00"},
          {"role":"tool","tool_call_id":"call_b","content":"[1,2]"},
          {"role":"user","content":"Thanks"}
        ]}
        """#)
        let b = try body(try codec.chatCall(req, model: "gemini-2.5-flash", stream: false, provider: provider))
        #expect(b["systemInstruction"] == ["parts": [["text": "Be brief."], ["text": "Answer in French."]]])
        let contents = try #require(b["contents"]?.arrayValue)
        #expect(contents.map { $0["role"]?.stringValue } == ["user", "model", "user", "model", "user", "user"])
        #expect(contents[0]["parts"] == [
            ["text": "What is here?"],
            ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]],
            ["fileData": ["mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=2"]],
            ["fileData": ["fileUri": "https://example.com/photo"]],
        ])
        #expect(contents[1]["parts"] == [["text": "A cat."]])
        #expect(contents[3]["parts"] == [
            ["functionCall": ["name": "get_weather", "args": ["city": "Paris"]], "thoughtSignature": "c2lnMQ=="],
            ["functionCall": ["name": "get_time", "args": [:]]],
        ])
        // Consecutive results answer the model turn together, each named after its call.
        #expect(contents[4]["parts"] == [
            ["functionResponse": ["name": "get_weather", "response": ["temp_c": 21]]],
            ["functionResponse": ["name": "get_time", "response": ["result": "12:00"]]],
            ["functionResponse": ["name": "get_time", "response": ["result": [1, 2]]]],
        ])
        #expect(contents[5]["parts"] == [["text": "Thanks"]])
        #expect(b["tools"] == nil)
        #expect(b["toolConfig"] == nil)
    }

    @Test("generation config: temperature, topP, maxOutputTokens, stop, seed, one candidate; no max default")
    func generationConfig() throws {
        let full = try body(try codec.chatCall(try chat(#"""
            {"messages":[{"role":"user","content":"x"}],"temperature":0.3,"top_p":0.9,"max_tokens":100,
             "max_completion_tokens":200,"stop":["END","##"],"seed":7,"presence_penalty":0.5,"frequency_penalty":0.25,"n":1}
            """#), model: "m", stream: false, provider: provider))
        #expect(full["generationConfig"] == ["candidateCount": 1, "temperature": 0.3, "topP": 0.9, "maxOutputTokens": 200,
                                             "stopSequences": ["END", "##"], "seed": 7, "presencePenalty": 0.5, "frequencyPenalty": 0.25])
        let minimal = try body(try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"x"}],"stop":"STOP","max_tokens":64}"#),
                                                  model: "m", stream: false, provider: provider))
        #expect(minimal["generationConfig"] == ["candidateCount": 1, "maxOutputTokens": 64, "stopSequences": ["STOP"]])
        let none = try body(try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"x"}]}"#), model: "m", stream: false, provider: provider))
        #expect(none["generationConfig"] == ["candidateCount": 1])
        #expect(none["systemInstruction"] == nil)
    }

    @Test("JSON mode: json_object → responseMimeType, json_schema → responseJsonSchema")
    func jsonMode() throws {
        func config(_ format: String) throws -> JSONValue? {
            try body(try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"x"}],"response_format":\#(format)}"#),
                                        model: "m", stream: false, provider: provider))["generationConfig"]
        }
        #expect(try config(#"{"type":"json_object"}"#)?["responseMimeType"] == "application/json")
        let schema: JSONValue = ["type": "object", "properties": ["a": ["type": "string"]], "required": ["a"], "additionalProperties": false]
        let s = try config(#"{"type":"json_schema","json_schema":{"name":"r","strict":true,"schema":\#(JSONWriter.string(schema))}}"#)
        #expect(s?["responseMimeType"] == "application/json")
        #expect(s?["responseJsonSchema"] == schema)
        #expect(try config(#"{"type":"text"}"#)?["responseMimeType"] == nil)
        #expect(throws: PMXError.self) { try config(#"{"type":"grammar"}"#) }
    }

    @Test("tools → functionDeclarations with parametersJsonSchema; tool_choice → functionCallingConfig")
    func tools() throws {
        let params: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"], "additionalProperties": false]
        func req(_ choice: String) throws -> JSONValue {
            try body(try codec.chatCall(try chat(#"""
                {"messages":[{"role":"user","content":"x"}],"tools":[
                  {"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":\#(JSONWriter.string(params)),"strict":true}},
                  {"type":"function","function":{"name":"ping"}}]\#(choice)}
                """#), model: "m", stream: false, provider: provider))
        }
        let b = try req("")
        #expect(b["tools"] == [["functionDeclarations": [
            ["name": "get_weather", "description": "Weather now", "parametersJsonSchema": params],
            ["name": "ping"],
        ]]])
        #expect(b["toolConfig"] == nil)
        #expect(try req(#","tool_choice":"auto""#)["toolConfig"] == ["functionCallingConfig": ["mode": "AUTO"]])
        #expect(try req(#","tool_choice":"none""#)["toolConfig"] == ["functionCallingConfig": ["mode": "NONE"]])
        #expect(try req(#","tool_choice":"required""#)["toolConfig"] == ["functionCallingConfig": ["mode": "ANY"]])
        #expect(try req(#","tool_choice":{"type":"function","function":{"name":"ping"}}"#)["toolConfig"]
                == ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["ping"]]])
        #expect(throws: PMXError.self) { try req(#","tool_choice":"sometimes""#) }
    }

    @Test("requests Gemini cannot express are invalid, naming the field", arguments: [
        (#"[{"role":"system","content":"only a system prompt"}]"#, "messages: gemini needs at least one user message"),
        (#"[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_zz","content":"1"}]"#, "messages[1].tool_call_id: no earlier assistant tool call has the id \"call_zz\""),
        (#"[{"role":"function","name":"f","content":"1"}]"#, "messages[0].role: \"function\" is not supported"),
        (#"[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"not json"}}]}]"#, "messages[0].tool_calls[0].function.arguments: must be a JSON object"),
        (#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://host/x.png"}}]}]"#, "messages[0].content[0].image_url.url: gemini takes data:"),
        (#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]"#, "base64 data URL"),
        (#"[{"role":"user","content":[{"type":"video","video":{}}]}]"#, "messages[0].content[0].type: \"video\" is not supported"),
    ])
    func invalidRequests(messages: String, expected: String) throws {
        let req = try chat(#"{"messages":\#(messages)}"#)
        do {
            _ = try codec.chatCall(req, model: "m", stream: false, provider: provider)
            Issue.record("accepted")
        } catch let e as PMXError {
            #expect(e.status == .invalidRequest)
            #expect(e.message.contains(expected), "\(e.message)")
        }
    }

    @Test("a tool result may name its function itself when the call is not in the history")
    func toolResultWithName() throws {
        let b = try body(try codec.chatCall(try chat(#"{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"gone","name":"lookup","content":"true"}]}"#),
                                            model: "m", stream: false, provider: provider))
        #expect(b["contents"]?.arrayValue?.last?["parts"] == [["functionResponse": ["name": "lookup", "response": ["result": true]]]])
    }

    // MARK: Embeddings and models

    @Test("embeddings: one input → embedContent, several → batchEmbedContents; answers → OpenAI list")
    func embeddings() throws {
        let one = try EmbedRequest.parse(JSONParser.parse(#"{"input":"hello","dimensions":256}"#))
        let c1 = try codec.embedCall(one, model: "text-embedding-004", provider: provider)
        #expect(c1.url == "https://generativelanguage.googleapis.com/v1beta/models/text-embedding-004:embedContent")
        #expect(header(c1, "x-goog-api-key") == "AIzaSy-test-KEY-123")
        #expect(try body(c1) == ["model": "models/text-embedding-004", "content": ["parts": [["text": "hello"]]], "outputDimensionality": 256])
        let r1 = try codec.decodeEmbeddings(Array(#"{"embedding": {"values": [0.013, -0.008, 0.5]}}"#.utf8), request: one, model: "text-embedding-004", provider: provider)
        #expect(JSONValue.object(r1) == ["object": "list", "data": [["object": "embedding", "index": 0, "embedding": [0.013, -0.008, 0.5]]],
                                         "model": "text-embedding-004", "usage": ["prompt_tokens": 0, "total_tokens": 0]])

        let two = try EmbedRequest.parse(JSONParser.parse(#"{"input":["a","b"]}"#))
        let c2 = try codec.embedCall(two, model: "models/gemini-embedding-001", provider: provider)
        #expect(c2.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents")
        #expect(try body(c2) == ["requests": [
            ["model": "models/gemini-embedding-001", "content": ["parts": [["text": "a"]]]],
            ["model": "models/gemini-embedding-001", "content": ["parts": [["text": "b"]]]],
        ]])
        let r2 = try codec.decodeEmbeddings(Array(#"{"embeddings": [{"values": [1, 2]}, {"values": [3, 4]}]}"#.utf8), request: two, model: "models/gemini-embedding-001", provider: provider)
        #expect(r2["data"]?.arrayValue?.map { $0["index"] } == [0, 1])
        #expect(r2["data"]?.arrayValue?.last?["embedding"] == [3, 4])
        #expect(r2["model"] == "gemini-embedding-001")
        #expect(throws: PMXError.self) {
            try codec.decodeEmbeddings(Array(#"{"embeddings": [{"values": [1, 2]}]}"#.utf8), request: two, model: "m", provider: provider)
        }
        #expect(throws: PMXError.self) {
            try codec.decodeEmbeddings(Array(#"{"embedding": {"values": ["x"]}}"#.utf8), request: one, model: "m", provider: provider)
        }
    }

    @Test("models: names without models/, input token limit, capabilities from the generation methods")
    func models() throws {
        let call = try #require(codec.modelsCall(provider: provider))
        #expect(call.method == "GET")
        #expect(call.url == "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000")
        #expect(header(call, "x-goog-api-key") == "AIzaSy-test-KEY-123")
        let list = try codec.decodeModels(Array(#"""
            {"models": [
              {"name": "models/gemini-2.5-flash", "version": "001", "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576,
               "outputTokenLimit": 65536, "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
               "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": true},
              {"name": "models/text-embedding-004", "version": "004", "displayName": "Text Embedding 004", "inputTokenLimit": 2048,
               "outputTokenLimit": 1, "supportedGenerationMethods": ["embedContent"]}
            ], "nextPageToken": "Ch1tb2RlbHMv"}
            """#.utf8), provider: provider)
        #expect(list.map(\.id) == ["gemini-2.5-flash", "text-embedding-004"])
        #expect(list.map(\.contextLength) == [1048576, 2048])
        #expect(list.map(\.capabilities) == [["chat"], ["embeddings"]])
        #expect(list[0].details["display_name"] == "Gemini 2.5 Flash")
        #expect(list[0].details["output_token_limit"] == 65536)
        #expect(try codec.decodeModels(Array("{}".utf8), provider: provider).isEmpty)
        #expect(throws: PMXError.self) { try codec.decodeModels(Array(#"{"data": []}"#.utf8), provider: provider) }
    }

    // MARK: Errors

    @Test("HTTP errors keep Gemini's message and status and refine the class", arguments: [
        (429, #"{"error": {"code": 429, "message": "You exceeded your current quota, please check your plan and billing details.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaDimensions": {"model": "gemini-2.0-flash", "location": "global"}, "quotaValue": "15"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]}}"#,
         Status.rateLimited, "HTTP 429: You exceeded your current quota, please check your plan and billing details. (RESOURCE_EXHAUSTED)"),
        (429, #"{"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#,
         Status.quotaExceeded, "HTTP 429: You exceeded your current quota. (RESOURCE_EXHAUSTED)"),
        (400, #"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]}}"#,
         Status.auth, "HTTP 400: API key not valid. Please pass a valid API key. (INVALID_ARGUMENT)"),
        (400, #"{"error": {"code": 400, "message": "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}"#,
         Status.contextLengthExceeded, "HTTP 400: The input token count (1200000) exceeds the maximum number of tokens allowed (1048576). (INVALID_ARGUMENT)"),
        (400, #"{"error": {"code": 400, "message": "* GenerateContentRequest.contents: contents is not specified\n", "status": "INVALID_ARGUMENT"}}"#,
         Status.upstreamBadRequest, "HTTP 400: * GenerateContentRequest.contents: contents is not specified\n (INVALID_ARGUMENT)"),
        (400, #"{"error": {"code": 400, "message": "User location is not supported for the API use.", "status": "FAILED_PRECONDITION"}}"#,
         Status.permission, "HTTP 400: User location is not supported for the API use. (FAILED_PRECONDITION)"),
        (403, #"{"error": {"code": 403, "message": "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", "status": "PERMISSION_DENIED"}}"#,
         Status.auth, "HTTP 403: Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API. (PERMISSION_DENIED)"),
        (403, #"{"error": {"code": 403, "message": "You do not have permission to access tuned model tunedModels/x.", "status": "PERMISSION_DENIED"}}"#,
         Status.permission, "HTTP 403: You do not have permission to access tuned model tunedModels/x. (PERMISSION_DENIED)"),
        (404, #"{"error": {"code": 404, "message": "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.", "status": "NOT_FOUND"}}"#,
         Status.modelNotFound, "HTTP 404: models/gemini-9 is not found for API version v1beta, or is not supported for generateContent. (NOT_FOUND)"),
        (503, #"{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}"#,
         Status.upstreamServer, "HTTP 503: The model is overloaded. Please try again later. (UNAVAILABLE)"),
        (502, "<html><body>502 Bad Gateway</body></html>", Status.upstreamServer, "HTTP 502: <html><body>502 Bad Gateway</body></html>"),
    ])
    func httpErrors(status: Int, body: String, expected: Status, message: String) {
        let e = codec.error(status: status, head: head(status), body: Array(body.utf8), provider: provider)
        #expect(e.status == expected)
        #expect(e.message == message)
        #expect(e.httpStatus == status)
        #expect(e.provider == "g")
    }

    @Test("long provider messages are shortened to about 300 characters")
    func longMessage() {
        let long = String(repeating: "x", count: 1000)
        let e = codec.error(status: 500, head: head(500), body: Array(#"{"error":{"code":500,"message":"\#(long)","status":"INTERNAL"}}"#.utf8), provider: provider)
        #expect(e.message.utf8.count < 330)
        #expect(e.status == .upstreamServer)
    }

    @Test("retry hints come from the response headers")
    func retryAfter() {
        #expect(codec.retryAfterMs(HTTPResponseHead(status: 429, headers: [("retry-after", "2")])) == 2000)
        #expect(codec.retryAfterMs(head(429)) == nil)
    }
}
