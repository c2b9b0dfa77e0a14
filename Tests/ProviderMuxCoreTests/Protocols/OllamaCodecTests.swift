// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
import Testing

// Ollama's native API without a network: request translation field by field, the NDJSON chat
// decoder on recorded-looking bytes (whole, split in two at every byte boundary, byte by byte),
// the non-streamed answer, embeddings, models, error mapping, and the model-management codecs.

// MARK: - Fixtures

private let key = "ollama-proxy-KEY-5678"

private func provider(_ extra: String = #","api_key":"\#(key)","headers":{"X-Team":"search"}"#) throws -> ProviderConfig {
    try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"ollama","base_url":"http://127.0.0.1:11434/"\#(extra)}"#), path: "p")
}

/// Usage with Ollama's own generation speed (eval_count / eval_duration), as the decoder reports it.
private func withSpeed(_ u: Usage, _ tokensPerSecond: Double) -> Usage {
    var u = u
    u.tokensPerSecond = tokensPerSecond
    return u
}

private func lines(_ list: [String], newline: String = "\n") -> [UInt8] { Array(list.map { $0 + newline }.joined().utf8) }

private let textLines = [
    #"{"model":"llama3.2","created_at":"2025-01-15T10:20:30.101Z","message":{"role":"assistant","content":"Hello"},"done":false}"#,
    #"{"model":"llama3.2","created_at":"2025-01-15T10:20:30.142Z","message":{"role":"assistant","content":", wörld 👋 — 世界"},"done":false}"#,
    #"{"model":"llama3.2","created_at":"2025-01-15T10:20:30.183Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
]
private let textExpected: [ProviderEvent] = [
    .meta(id: nil, model: "llama3.2"),
    .delta(content: "Hello", toolCalls: nil),
    .delta(content: ", wörld 👋 — 世界", toolCalls: nil),
    .finish(reason: "stop"),
    .usage(withSpeed(Usage(promptTokens: 26, completionTokens: 282), 62.17)),  // 282 tokens / 4.5356 s
    .end,
]

// Ollama sends each call whole, arguments as an object; newer servers add an id and an index.
private let toolLines = [
    #"{"model":"qwen3","created_at":"2025-05-27T22:54:57.641643Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Toronto"}}}]},"done":false}"#,
    #"{"model":"qwen3","created_at":"2025-05-27T22:54:57.702511Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_k3b9x1","function":{"index":1,"name":"get_time","arguments":{}}}]},"done":false}"#,
    #"{"model":"qwen3","created_at":"2025-05-27T22:54:57.741275Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,"total_duration":2138512750,"load_duration":25010417,"prompt_eval_count":205,"prompt_eval_duration":1044637000,"eval_count":38,"eval_duration":1067325500}"#,
]
private func call(_ index: Int64, _ id: String, _ name: String, _ arguments: String) -> ProviderEvent {
    .delta(content: nil, toolCalls: [["index": .int(index), "id": .string(id), "type": "function",
                                      "function": ["name": .string(name), "arguments": .string(arguments)]]])
}
private let toolExpected: [ProviderEvent] = [
    .meta(id: nil, model: "qwen3"),
    call(0, "call_0", "get_current_weather", #"{"format":"celsius","location":"Toronto"}"#),
    call(1, "call_k3b9x1", "get_time", "{}"),
    .finish(reason: "tool_calls"),
    .usage(withSpeed(Usage(promptTokens: 205, completionTokens: 38), 35.6)),  // 38 tokens / 1.0673 s
    .end,
]

private let errorLines = [
    #"{"model":"llama3.2","created_at":"2025-01-15T10:20:30.101Z","message":{"role":"assistant","content":"Hi"},"done":false}"#,
    #"{"error":"an error was encountered while running the model: unexpected EOF"}"#,
]
private let errorExpected: [ProviderEvent] = [
    .meta(id: nil, model: "llama3.2"), .delta(content: "Hi", toolCalls: nil),
    .error(PMXError(.upstreamServer, "ollama: error line in stream: an error was encountered while running the model: unexpected EOF", httpStatus: 200)),
]

private let pullLines = [
    #"{"status":"pulling manifest"}"#,
    #"{"status":"pulling dde5aa3fc5ff","digest":"sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff","total":2019377376,"completed":241970}"#,
    #"{"status":"pulling dde5aa3fc5ff","digest":"sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff","total":2019377376,"completed":2019377376}"#,
    #"{"status":"verifying sha256 digest"}"#,
    #"{"status":"writing manifest"}"#,
    #"{"status":"success"}"#,
]

// MARK: - Decoding helpers

/// Events a decoder produced, and the error that stopped it.
private struct Decoded<E: Equatable>: Equatable {
    var events: [E] = []
    var error: PMXError?
}

private func decodeChat(_ pieces: [ArraySlice<UInt8>], maxLineBytes: Int = 16 << 20) -> Decoded<ProviderEvent> {
    let d = OllamaStreamDecoder(provider: "p", maxLineBytes: maxLineBytes)
    var out = Decoded<ProviderEvent>()
    do {
        for piece in pieces { try Array(piece).withUnsafeBytes { buf in try d.feed(buf) { out.events.append($0) } } }
        try d.finish { out.events.append($0) }
    } catch let e as PMXError { out.error = e } catch { out.error = PMXError(.internal, "non-PMXError: \(error)") }
    return out
}

private func decodePull(_ pieces: [ArraySlice<UInt8>]) -> Decoded<OllamaPullEvent> {
    let d = OllamaPullDecoder(provider: "p")
    var out = Decoded<OllamaPullEvent>()
    do {
        for piece in pieces { try Array(piece).withUnsafeBytes { buf in try d.feed(buf) { out.events.append($0) } } }
        try d.finish { out.events.append($0) }
    } catch let e as PMXError { out.error = e } catch { out.error = PMXError(.internal, "non-PMXError: \(error)") }
    return out
}

/// Whole, split in two at every byte boundary, and byte by byte: all equal to `expected`.
private func expectSplitInvariant<E: Equatable>(_ bytes: [UInt8], _ expected: Decoded<E>,
                                                _ decode: ([ArraySlice<UInt8>]) -> Decoded<E>,
                                                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(decode([bytes[...]]) == expected, sourceLocation: sourceLocation)
    var mismatches: [Int] = []
    for i in 0...bytes.count where decode([bytes[..<i], bytes[i...]]) != expected { mismatches.append(i) }
    #expect(mismatches.isEmpty, "differs when split at \(mismatches.prefix(10))", sourceLocation: sourceLocation)
    #expect(decode(bytes.indices.map { bytes[$0...$0] }) == expected, "byte by byte", sourceLocation: sourceLocation)
}

private func request(_ json: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(json)) }

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }

private func header(_ call: ProviderHTTPCall, _ name: String) -> [String] {
    call.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
}

private func head(_ status: Int, _ headers: [(String, String)] = []) -> HTTPResponseHead { HTTPResponseHead(status: status, headers: headers) }

// MARK: - Suite

@Suite("Ollama codec")
struct OllamaCodecTests {
    let codec = OllamaCodec()

    // MARK: Request translation

    @Test("chat request: roles, parts, images, tool calls and results, tools, options, format — field by field")
    func chatRequestTranslation() throws {
        let req = try request(#"""
        {"model":"ignored-here","messages":[
          {"role":"system","content":"You are terse."},
          {"role":"developer","content":"Answer in French."},
          {"role":"user","content":[{"type":"text","text":"What is in this picture?"},
                                    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
                                    {"type":"text","text":"And the weather?"}]},
          {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function",
             "function":{"name":"get_weather","arguments":"{\"city\": \"Paris\", \"days\": 2}"}}]},
          {"role":"tool","tool_call_id":"call_abc","content":"{\"temp\": 21}"},
          {"role":"assistant","content":"It is 21 °C."}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
         "tool_choice":"auto","temperature":0.2,"top_p":0.9,"seed":42,"stop":"END","max_tokens":128,
         "response_format":{"type":"json_object"},"num_ctx":8192,"stream":true}
        """#)
        let call = try codec.chatCall(req, model: "llava:13b", stream: true, provider: try provider())
        #expect(call.method == "POST")
        #expect(call.url == "http://127.0.0.1:11434/api/chat")
        let b = try body(call)
        #expect(b["model"] == "llava:13b")
        #expect(b["stream"] == true)
        let m = try #require(b["messages"]?.arrayValue)
        #expect(m.count == 6)
        #expect(m[0] == ["role": "system", "content": "You are terse."])
        #expect(m[1] == ["role": "system", "content": "Answer in French."])
        #expect(m[2] == ["role": "user", "content": "What is in this picture?\nAnd the weather?", "images": ["iVBORw0KGgo="]])
        #expect(m[3] == ["role": "assistant", "content": "",
                         "tool_calls": [["function": ["name": "get_weather", "arguments": ["city": "Paris", "days": 2]]]]])
        #expect(m[4] == ["role": "tool", "content": #"{"temp": 21}"#, "tool_name": "get_weather"])
        #expect(m[5] == ["role": "assistant", "content": "It is 21 °C."])
        #expect(b["tools"] == req.body["tools"])
        #expect(b["format"] == "json")
        #expect(b["options"] == ["temperature": 0.2, "top_p": 0.9, "seed": 42, "num_ctx": 8192, "stop": ["END"], "num_predict": 128])
        #expect(b["tool_choice"] == nil && b["max_tokens"] == nil && b["response_format"] == nil && b["num_ctx"] == nil)
    }

    @Test("headers: JSON, NDJSON accept when streaming, Bearer key, then the user's headers; the key never in the body")
    func headers() throws {
        let req = try request(#"{"messages":[{"role":"user","content":"hi"}]}"#)
        let call = try codec.chatCall(req, model: "llama3.2", stream: true, provider: try provider())
        #expect(call.headers.map(\.0) == ["Content-Type", "Accept", "Authorization", "X-Team"])
        #expect(header(call, "content-type") == ["application/json"])
        #expect(header(call, "accept") == ["application/x-ndjson"])
        #expect(header(call, "authorization") == ["Bearer \(key)"])
        #expect(header(call, "x-team") == ["search"])
        #expect(!String(decoding: call.body ?? [], as: UTF8.self).contains(key))
        let plain = try codec.chatCall(req, model: "llama3.2", stream: false, provider: try provider())
        #expect(header(plain, "accept") == ["application/json"])
        #expect(try body(plain)["stream"] == false)
    }

    @Test("no api_key: no Authorization header at all (Ollama itself has no auth)")
    func noKey() throws {
        let req = try request(#"{"messages":[{"role":"user","content":"hi"}]}"#)
        let call = try codec.chatCall(req, model: "m", stream: false, provider: try provider(""))
        #expect(header(call, "authorization").isEmpty)
        #expect(codec.modelsCall(provider: try provider(""))?.headers.contains { $0.0 == "Authorization" } == false)
    }

    @Test("defaults: no max_tokens → no num_predict, no settings → no options; max_completion_tokens wins; stop arrays pass")
    func optionDefaults() throws {
        let bare = try body(codec.chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "m", stream: false, provider: try provider()))
        #expect(bare["options"] == nil)
        #expect(bare["format"] == nil && bare["tools"] == nil)
        #expect(bare == ["model": "m", "messages": [["role": "user", "content": "hi"]], "stream": false])
        let both = try body(codec.chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_completion_tokens":20,"stop":["a","b"]}"#),
                                           model: "m", stream: false, provider: try provider()))
        #expect(both["options"] == ["stop": ["a", "b"], "num_predict": 20])
        // Options written Ollama's way are kept; the OpenAI field wins over the same key.
        let native = try body(codec.chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}],"options":{"num_gpu":1,"temperature":1.5},"temperature":0.1,"keep_alive":"10m"}"#),
                                             model: "m", stream: false, provider: try provider()))
        #expect(native["options"] == ["num_gpu": 1, "temperature": 0.1])
        #expect(native["keep_alive"] == "10m")
    }

    @Test("response_format json_schema sends the schema as format; tool_choice none withholds the tools")
    func schemaAndToolChoice() throws {
        let req = try request(#"""
        {"messages":[{"role":"user","content":"age?"}],"tool_choice":"none",
         "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
         "response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}}}}
        """#)
        let b = try body(codec.chatCall(req, model: "m", stream: false, provider: try provider()))
        #expect(b["format"] == ["type": "object", "properties": ["age": ["type": "integer"]], "required": ["age"]])
        #expect(b["tools"] == nil)
        let bad = try request(#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"a"}}}"#)
        #expect(throws: PMXError.self) { try codec.chatCall(bad, model: "m", stream: false, provider: try provider()) }
    }

    @Test("a tool's cache_control marker (Anthropic's) is not sent: Ollama's Tool is {type, function}")
    func toolCacheControlDropped() throws {
        let req = try request(#"""
        {"messages":[{"role":"user","content":"x"}],
         "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}},"cache_control":{"type":"ephemeral"}}]}
        """#)
        let b = try body(codec.chatCall(req, model: "m", stream: false, provider: try provider()))
        #expect(b["tools"] == [["type": "function", "function": ["name": "f", "parameters": ["type": "object"]]]])
    }

    @Test("model: the given one, else default_model, else PMX_ERR_INVALID_REQUEST")
    func model() throws {
        let req = try request(#"{"messages":[{"role":"user","content":"hi"}]}"#)
        let withDefault = try provider(#","default_model":"llama3.2:3b""#)
        #expect(try body(codec.chatCall(req, model: nil, stream: false, provider: withDefault))["model"] == "llama3.2:3b")
        #expect(try body(codec.chatCall(req, model: "qwen3", stream: false, provider: withDefault))["model"] == "qwen3")
        do {
            _ = try codec.chatCall(req, model: nil, stream: false, provider: try provider())
            Issue.record("no error without a model")
        } catch let e as PMXError {
            #expect(e.status == .invalidRequest)
            #expect(e.message.contains("default_model"))
        }
    }

    @Test("images must be base64 data: URLs; tool arguments must be JSON objects", arguments: [
        #"{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}"#,
        #"{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:text/plain,hello"}}]}"#,
        #"{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}"#,
        #"{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}"#,
        #"{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"arguments":"{}"}}]}"#,
    ])
    func rejectedContent(message: String) throws {
        let req = try request(#"{"messages":[\#(message)]}"#)
        do {
            _ = try codec.chatCall(req, model: "m", stream: false, provider: try provider())
            Issue.record("accepted \(message)")
        } catch let e as PMXError {
            #expect(e.status == .invalidRequest)
            #expect(e.message.hasPrefix("messages[0]"), "\(e.message)")
        }
    }

    @Test("empty tool arguments become {}; a tool result without a known call uses its name; image_url as a bare string")
    func lenientContent() throws {
        let req = try request(#"""
        {"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"now","arguments":""}}]},
                     {"role":"tool","tool_call_id":"unknown","name":"legacy_name","content":"ok"},
                     {"role":"user","content":[{"type":"image_url","image_url":"data:image/jpeg;base64,/9j/4AAQ"}]}]}
        """#)
        let m = try #require(try body(codec.chatCall(req, model: "m", stream: false, provider: try provider()))["messages"]?.arrayValue)
        #expect(m[0]["tool_calls"] == [["function": ["name": "now", "arguments": [:]]]])
        #expect(m[1]["tool_name"] == "legacy_name")
        #expect(m[2] == ["role": "user", "content": "", "images": ["/9j/4AAQ"]])
    }

    // MARK: Streams

    @Test("streamed answer: meta, deltas, finish, usage from the counts, end — at any split")
    func streamedText() {
        expectSplitInvariant(lines(textLines), Decoded(events: textExpected), { decodeChat($0) })
    }

    @Test("CRLF line endings and blank keep-alive lines decode the same")
    func crlf() {
        var l = textLines
        l.insert("", at: 1)
        expectSplitInvariant(lines(l, newline: "\r\n"), Decoded(events: textExpected), { decodeChat($0) })
    }

    @Test("streamed tool calls: one delta per call with id (generated or Ollama's) and name, arguments as JSON text; done_reason stop → tool_calls")
    func streamedToolCalls() {
        expectSplitInvariant(lines(toolLines), Decoded(events: toolExpected), { decodeChat($0) })
    }

    @Test("the tool-call events build the OpenAI message: content null, arguments strings, finish tool_calls")
    func toolCallsAccumulated() throws {
        let r = CodecSupport.completion(from: toolExpected, model: "x")
        let message = try #require(r["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == .null)
        #expect(message["tool_calls"] == [
            ["id": "call_0", "type": "function", "function": ["name": "get_current_weather", "arguments": #"{"format":"celsius","location":"Toronto"}"#]],
            ["id": "call_k3b9x1", "type": "function", "function": ["name": "get_time", "arguments": "{}"]],
        ])
        #expect(r["choices"]?.arrayValue?.first?["finish_reason"] == "tool_calls")
    }

    @Test("several calls in one line, text beside them, done_reason length and a missing prompt count")
    func mixedLine() {
        let d = decodeChat([lines([
            #"{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"Let me check.","tool_calls":[{"function":{"name":"a","arguments":{"x":1}}},{"function":{"name":"b","arguments":"{\"y\":2}"}}]},"done":false}"#,
            #"{"model":"m","created_at":"2025-01-01T00:00:01Z","message":{"role":"assistant","content":" cut"},"done":true,"done_reason":"length","eval_count":7}"#,
        ])[...]])
        #expect(d == Decoded(events: [
            .meta(id: nil, model: "m"), .delta(content: "Let me check.", toolCalls: nil),
            call(0, "call_0", "a", #"{"x":1}"#), call(1, "call_1", "b", #"{"y":2}"#),
            .delta(content: " cut", toolCalls: nil), .finish(reason: "length"),
            .usage(Usage(promptTokens: 0, completionTokens: 7)), .end,
        ]))
    }

    @Test("an {\"error\"} line under HTTP 200: the events before it, then an error event; later lines ignored")
    func errorLine() {
        expectSplitInvariant(lines(errorLines), Decoded(events: errorExpected), { decodeChat($0) })
        let after = decodeChat([lines(errorLines + [textLines[1]])[...]])
        #expect(after == Decoded(events: errorExpected))
        let missing = decodeChat([lines([#"{"error":"model \"llama9\" not found, try pulling it first"}"#])[...]])
        let overflow = decodeChat([lines([#"{"error":"the input length exceeds the context length"}"#])[...]])
        #expect(overflow.events == [.error(PMXError(.contextLengthExceeded, "ollama: error line in stream: the input length exceeds the context length", httpStatus: 200))])
        #expect(missing.events == [.error(PMXError(.modelNotFound, #"ollama: error line in stream: model "llama9" not found, try pulling it first"#, httpStatus: 200))])
    }

    @Test("the fake upstream's fault lines: malformed → PMX_ERR_UPSTREAM_PROTOCOL after the earlier events; error_event → error")
    func fakeUpstreamFaults() throws {
        let malformed = lines([textLines[0]]) + Array(#"{"message": {not json"#.utf8) + [0x0A] + lines([textLines[1]])
        let d = decodeChat([malformed[...]])
        let e = try #require(d.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.hasPrefix("ollama: malformed stream line"), "\(e.message)")
        #expect(e.provider == "p")
        #expect(d.events == [.meta(id: nil, model: "llama3.2"), .delta(content: "Hello", toolCalls: nil)])
        expectSplitInvariant(malformed, d, { decodeChat($0) })
        let err = decodeChat([lines([textLines[0], #"{"error":"fake mid-stream error"}"#])[...]])
        #expect(err.events.last == .error(PMXError(.upstreamServer, "ollama: error line in stream: fake mid-stream error", httpStatus: 200)))
        #expect(err.error == nil)
    }

    @Test("broken promises throw PMX_ERR_UPSTREAM_PROTOCOL naming the problem", arguments: [
        (#"[1,2]"#, "expected a JSON object per line, got array"),
        (#"{"model":"m","message":{"role":"assistant","content":"x"}}"#, "without \"done\""),
        (#"{"model":"m","message":{"role":"assistant","content":"x"},"done":"no"}"#, "\"done\": expected a boolean, got string"),
        (#"{"model":"m","message":"hi","done":false}"#, "\"message\": expected an object, got string"),
        (#"{"model":"m","message":{"role":"assistant","content":5},"done":false}"#, "\"message.content\": expected a string, got number"),
        (#"{"model":"m","done":false}"#, "neither \"message\" nor"),
        (#"{"model":"m","message":{"role":"assistant","content":"","tool_calls":{"function":{}}},"done":false}"#, "\"message.tool_calls\": expected an array, got object"),
        (#"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"name":"f"}]},"done":false}"#, "without a \"function\" object"),
        (#"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"arguments":{}}}]},"done":false}"#, "without a function name"),
        (#"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":[1]}}]},"done":false}"#, "arguments: expected an object, got array"),
        (#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":1}"#, "\"done_reason\": expected a string, got number"),
        (#"{"model":"m","message":{"role":"assistant","content":""},"done":true,"eval_count":"many"}"#, "\"eval_count\": expected a non-negative integer, got string"),
    ])
    func brokenPromises(line: String, problem: String) throws {
        let d = decodeChat([lines([line])[...]])
        let e = try #require(d.error)
        #expect(e.status == .upstreamProtocol)
        #expect(e.message.hasPrefix("ollama: "))
        #expect(e.message.contains(problem), "\(e.message)")
    }

    @Test("a line after the done line is out of order")
    func lineAfterDone() throws {
        let d = decodeChat([lines(textLines + [textLines[0]])[...]])
        #expect(Array(d.events) == textExpected)
        #expect(d.error?.status == .upstreamProtocol)
        #expect(d.error?.message.contains("after the final") == true)
    }

    @Test("a stream cut before done: no end and no error (the driver reports the interruption); a last line without \\n still counts")
    func cutShort() {
        let cut = decodeChat([lines(Array(textLines.prefix(2)))[...]])
        #expect(cut == Decoded(events: Array(textExpected.prefix(3))))
        var noNewline = lines(textLines)
        noNewline.removeLast()
        expectSplitInvariant(noNewline, Decoded(events: textExpected), { decodeChat($0) })
        #expect(decodeChat([]) == Decoded(events: []))
    }

    @Test("a line above the decoder's limit: PMX_ERR_RESPONSE_TOO_LARGE, as the driver classes oversized events")
    func lineTooLong() throws {
        let d = decodeChat([lines(textLines)[...]], maxLineBytes: 64)
        #expect(d.error?.status == .responseTooLarge)
        #expect(d.error?.message.contains("longer than 64 bytes") == true)
    }

    // MARK: Non-streamed answers

    @Test("plain answer → chat.completion with usage")
    func plainAnswer() throws {
        let body = Array(#"{"model":"llama3.2","created_at":"2023-12-12T14:13:43.416799Z","message":{"role":"assistant","content":"Hello! How are you today?"},"done_reason":"stop","done":true,"total_duration":5191566416,"load_duration":2154458,"prompt_eval_count":26,"prompt_eval_duration":383809000,"eval_count":298,"eval_duration":4799921000}"#.utf8)
        let r = try codec.decodeChat(body, model: "llama3.2", provider: try provider())
        #expect(r["object"] == "chat.completion")
        #expect(r["model"] == "llama3.2")
        #expect(r["id"]?.stringValue?.isEmpty == false)
        #expect((r["created"]?.intValue ?? 0) > 1_700_000_000)
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["message"] == ["role": "assistant", "content": "Hello! How are you today?"])
        #expect(choice["finish_reason"] == "stop")
        #expect(r["usage"] == ["prompt_tokens": 26, "completion_tokens": 298, "total_tokens": 324, "tokens_per_second": 62.08])
    }

    @Test("non-streamed tool call → tool_calls with arguments as a JSON string, finish tool_calls")
    func plainToolCall() throws {
        let body = Array(#"{"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_current_weather","arguments":{"format":"celsius","location":"Paris, FR"}}}]},"done_reason":"stop","done":true,"total_duration":885095291,"load_duration":3753500,"prompt_eval_count":122,"prompt_eval_duration":328493000,"eval_count":33,"eval_duration":552222000}"#.utf8)
        let r = try codec.decodeChat(body, model: nil, provider: try provider())
        let choice = try #require(r["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [["id": "call_0", "type": "function",
            "function": ["name": "get_current_weather", "arguments": #"{"format":"celsius","location":"Paris, FR"}"#]]])
        #expect(r["usage"]?["total_tokens"] == 155)
    }

    @Test("non-streamed failures: an error object under 200, not done, malformed JSON")
    func plainFailures() throws {
        let p = try provider()
        #expect(throws: PMXError(.modelNotFound, #"ollama: error in response body: model "x" not found, try pulling it first"#, httpStatus: 200)) {
            try codec.decodeChat(Array(#"{"error":"model \"x\" not found, try pulling it first"}"#.utf8), model: "x", provider: p)
        }
        #expect(throws: PMXError(.upstreamServer, "ollama: error in response body: llama runner process has terminated: signal: killed", httpStatus: 200)) {
            try codec.decodeChat(Array(#"{"error":"llama runner process has terminated: signal: killed"}"#.utf8), model: "x", provider: p)
        }
        do {
            _ = try codec.decodeChat(Array(#"{"model":"m","message":{"role":"assistant","content":"x"},"done":false}"#.utf8), model: "m", provider: p)
            Issue.record("a not-done answer was accepted")
        } catch let e as PMXError { #expect(e.status == .upstreamProtocol && e.message.contains("done")) }
        do {
            _ = try codec.decodeChat(Array(#"{"model": {not json"#.utf8), model: "m", provider: p)
            Issue.record("malformed JSON was accepted")
        } catch let e as PMXError { #expect(e.status == .upstreamProtocol) }
    }

    // MARK: Embeddings

    @Test("embeddings: /api/embed {model, input[]} → OpenAI list with usage from prompt_eval_count")
    func embeddings() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"x","input":["Why is the sky blue?","Why is the grass green?"],"dimensions":4}"#))
        let call = try codec.embedCall(req, model: "all-minilm", provider: try provider())
        #expect(call.method == "POST")
        #expect(call.url == "http://127.0.0.1:11434/api/embed")
        #expect(try body(call) == ["model": "all-minilm", "input": ["Why is the sky blue?", "Why is the grass green?"], "dimensions": 4])
        #expect(header(call, "authorization") == ["Bearer \(key)"])
        let answer = Array(#"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221,0.04692972],[-0.0098027075,0.06042469,0.025257962,-0.006364387]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":12}"#.utf8)
        let r = try codec.decodeEmbeddings(answer, request: req, model: "all-minilm", provider: try provider())
        #expect(r["object"] == "list")
        #expect(r["model"] == "all-minilm")
        #expect(r["usage"] == ["prompt_tokens": 12, "total_tokens": 12])
        let data = try #require(r["data"]?.arrayValue)
        #expect(data.count == 2)
        #expect(data[1]["object"] == "embedding" && data[1]["index"] == 1)
        #expect(data[0]["embedding"] == [0.010071029, -0.0017594862, 0.05007221, 0.04692972])
        let one = try EmbedRequest.parse(JSONParser.parse(#"{"input":"solo"}"#))
        #expect(try body(codec.embedCall(one, model: "m", provider: try provider()))["input"] == ["solo"])
    }

    @Test("embeddings broken: wrong count, non-numbers, no array, error object")
    func embeddingsBroken() throws {
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"input":["a","b"]}"#))
        let p = try provider()
        for (bodyText, status) in [(#"{"embeddings":[[0.1]]}"#, Status.upstreamProtocol), (#"{"embeddings":[[0.1],["x"]]}"#, .upstreamProtocol),
                                   (#"{"model":"m"}"#, .upstreamProtocol), (#"{"error":"model \"m\" not found"}"#, .modelNotFound)] {
            do {
                _ = try codec.decodeEmbeddings(Array(bodyText.utf8), request: req, model: "m", provider: p)
                Issue.record("accepted \(bodyText)")
            } catch let e as PMXError { #expect(e.status == status, "\(bodyText): \(e)") }
        }
        #expect(throws: PMXError.self) { try codec.embedCall(req, model: nil, provider: p) }
    }

    // MARK: Models and health

    @Test("models: GET /api/tags → ids, size and details; capabilities guessed from the family")
    func models() throws {
        let call = try #require(codec.modelsCall(provider: try provider()))
        #expect(call.method == "GET" && call.url == "http://127.0.0.1:11434/api/tags" && call.body == nil)
        #expect(header(call, "authorization") == ["Bearer \(key)"])
        let tags = Array(#"""
        {"models":[
         {"name":"codellama:13b","model":"codellama:13b","modified_at":"2023-11-04T14:56:49.277302595-07:00","size":7365960935,"digest":"9f438cb9cd581fc025612d27f7c1a6669ff83a8bb0ed86c94fcf4c5440555697","details":{"format":"gguf","family":"llama","families":null,"parameter_size":"13B","quantization_level":"Q4_0"}},
         {"name":"nomic-embed-text:latest","model":"nomic-embed-text:latest","size":274302450,"details":{"format":"gguf","family":"nomic-bert","families":["nomic-bert"],"parameter_size":"137M","quantization_level":"F16"}},
         {"name":"llava:7b","size":4733363377,"details":{"family":"llama","families":["llama","clip"],"parameter_size":"7B","quantization_level":"Q4_0"}}]}
        """#.utf8)
        let models = try codec.decodeModels(tags, provider: try provider())
        #expect(models.map(\.id) == ["codellama:13b", "nomic-embed-text:latest", "llava:7b"])
        #expect(models.map(\.capabilities) == [["chat"], ["embeddings"], ["chat", "vision"]])
        #expect(models.allSatisfy { $0.contextLength == nil })
        #expect(JSONValue.object(models[0].details) == ["size": 7365960935, "family": "llama", "parameter_size": "13B", "quantization_level": "Q4_0",
                                                         "format": "gguf", "modified_at": "2023-11-04T14:56:49.277302595-07:00"])
        #expect(try codec.decodeModels(Array(#"{"models":[]}"#.utf8), provider: try provider()).isEmpty)
        #expect(throws: PMXError.self) { try codec.decodeModels(Array(#"{"data":[]}"#.utf8), provider: try provider()) }
        #expect(throws: PMXError.self) { try codec.decodeModels(Array(#"{"models":[{"size":1}]}"#.utf8), provider: try provider()) }
    }

    @Test("health probes GET /api/version")
    func health() throws {
        let call = try #require(codec.healthCall(provider: try provider()))
        #expect(call.method == "GET" && call.url == "http://127.0.0.1:11434/api/version" && call.body == nil)
    }

    // MARK: Errors

    @Test("HTTP errors keep Ollama's {\"error\"} text; a missing model is MODEL_NOT_FOUND, a missing path is not")
    func httpErrors() throws {
        let p = try provider()
        func err(_ status: Int, _ text: String) -> PMXError { codec.error(status: status, head: head(status), body: Array(text.utf8), provider: p) }
        let missing = err(404, #"{"error":"model \"llama9\" not found, try pulling it first"}"#)
        #expect(missing == PMXError(.modelNotFound, #"HTTP 404: model "llama9" not found, try pulling it first"#, httpStatus: 404))
        #expect(missing.provider == "p")
        let path = err(404, "404 page not found")
        #expect(path.status == .upstreamHTTP)
        #expect(path.message.hasPrefix("HTTP 404: 404 page not found"))
        #expect(err(400, #"{"error":"model 'x' not found"}"#).status == .modelNotFound)
        #expect(err(400, #"{"error":"invalid options: num_ctx"}"#).status == .upstreamBadRequest)
        #expect(err(500, #"{"error":"model requires more system memory (12.3 GiB) than is available (7.1 GiB)"}"#)
                == PMXError(.upstreamServer, "HTTP 500: model requires more system memory (12.3 GiB) than is available (7.1 GiB)", httpStatus: 500))
        #expect(err(401, #"{"error":"unauthorized"}"#).status == .auth)
        #expect(err(400, #"{"error":"the input length exceeds the context length"}"#).status == .contextLengthExceeded)
        #expect(err(500, #"{"error":"the input length exceeds the context length"}"#).status == .contextLengthExceeded)
        #expect(err(503, #"{"error":"server busy, please try again.  maximum pending requests exceeded"}"#).status == .upstreamServer)
        let long = err(429, #"{"error":"\#(String(repeating: "x", count: 500))"}"#)
        #expect(long.status == .rateLimited)
        #expect(long.message.utf8.count < 320)
        #expect(codec.retryAfterMs(head(429, [("retry-after", "2")])) == 2000)
    }

    // MARK: Model management

    @Test("show: POST /api/show {model}; context length from <arch>.context_length, capabilities mapped")
    func show() throws {
        let call = codec.showCall("llava", provider: try provider())
        #expect(call.method == "POST" && call.url == "http://127.0.0.1:11434/api/show")
        #expect(try body(call) == ["model": "llava"])
        let answer = Array(#"""
        {"modelfile":"# Modelfile generated by \"ollama show\"\nFROM /Users/matt/.ollama/models/blobs/sha256:200765e1","parameters":"num_keep 24\nstop \"<|eot_id|>\"","template":"{{ .Prompt }}",
         "details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"8.0B","quantization_level":"Q4_0"},
         "model_info":{"general.architecture":"llama","general.file_type":2,"general.parameter_count":8030261248,"llama.attention.head_count":32,"llama.context_length":131072,"llama.embedding_length":4096,"tokenizer.ggml.model":"gpt2"},
         "capabilities":["completion","vision","tools"],"modified_at":"2025-04-01T15:21:46.1Z"}
        """#.utf8)
        let info = try codec.decodeShow(answer, model: "llava", provider: try provider())
        #expect(info.id == "llava")
        #expect(info.contextLength == 131072)
        #expect(info.capabilities == ["chat", "vision", "tools"])
        #expect(info.details["architecture"] == "llama")
        #expect(info.details["parameter_size"] == "8.0B")
        let embed = try codec.decodeShow(Array(#"{"details":{"family":"bert"},"model_info":{"general.architecture":"bert","bert.context_length":512},"capabilities":["embedding"]}"#.utf8),
                                         model: "all-minilm", provider: try provider())
        #expect(embed.contextLength == 512 && embed.capabilities == ["embeddings"])
        let old = try codec.decodeShow(Array(#"{"details":{"family":"llama"},"model_info":{"general.architecture":"llama"}}"#.utf8), model: "old", provider: try provider())
        #expect(old.contextLength == nil && old.capabilities == ["chat"])
        #expect(throws: PMXError.self) { try codec.decodeShow(Array("[]".utf8), model: "x", provider: try provider()) }
    }

    @Test("ps: GET /api/ps → loaded models with VRAM, expiry and the loaded context length")
    func ps() throws {
        let call = codec.psCall(provider: try provider())
        #expect(call.method == "GET" && call.url == "http://127.0.0.1:11434/api/ps" && call.body == nil)
        let answer = Array(#"{"models":[{"name":"mistral:latest","model":"mistral:latest","size":5137025024,"digest":"2ae6f6dd7a3dd734790bbbf58b8909a606e0e7e97e94b7604e0aa7ae4490e6d8","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"7.2B","quantization_level":"Q4_0"},"expires_at":"2024-06-04T14:38:31.83753-07:00","size_vram":5137025024,"context_length":4096}]}"#.utf8)
        let loaded = try codec.decodePS(answer, provider: try provider())
        #expect(loaded.count == 1)
        #expect(loaded[0].id == "mistral:latest")
        #expect(loaded[0].contextLength == 4096)
        #expect(loaded[0].details["loaded"] == true)
        #expect(loaded[0].details["size_vram"] == 5137025024)
        #expect(loaded[0].details["expires_at"] == "2024-06-04T14:38:31.83753-07:00")
        #expect(try codec.decodePS(Array(#"{"models":[]}"#.utf8), provider: try provider()).isEmpty)
        #expect(throws: PMXError.self) { try codec.decodePS(Array(#"{}"#.utf8), provider: try provider()) }
    }

    @Test("pull: POST /api/pull {model, stream: true}; progress lines become progress events, then done — at any split")
    func pull() throws {
        let call = codec.pullCall("llama3.2", provider: try provider())
        #expect(call.method == "POST" && call.url == "http://127.0.0.1:11434/api/pull")
        #expect(try body(call) == ["model": "llama3.2", "stream": true])
        #expect(header(call, "accept") == ["application/x-ndjson"])
        let digest = "sha256:dde5aa3fc5ffc17176b5e8bdc82f587b24b2678c6c66101bf7da77af9f7ccdff"
        let expected: [OllamaPullEvent] = [
            .progress(["type": "progress", "status": "pulling manifest"]),
            .progress(["type": "progress", "status": "pulling dde5aa3fc5ff", "digest": .string(digest), "total": 2019377376, "completed": 241970]),
            .progress(["type": "progress", "status": "pulling dde5aa3fc5ff", "digest": .string(digest), "total": 2019377376, "completed": 2019377376]),
            .progress(["type": "progress", "status": "verifying sha256 digest"]),
            .progress(["type": "progress", "status": "writing manifest"]),
            .progress(["type": "progress", "status": "success"]),
            .done,
        ]
        expectSplitInvariant(lines(pullLines), Decoded(events: expected), { decodePull($0) })
    }

    @Test("pull failures: an {\"error\"} line is an error event; malformed and status-less lines throw; a cut stream has no done")
    func pullFailures() throws {
        let failed = decodePull([lines([pullLines[0], #"{"error":"pull model manifest: file does not exist"}"#])[...]])
        #expect(failed.events == [.progress(["type": "progress", "status": "pulling manifest"]),
                                  .error(PMXError(.modelNotFound, "ollama: pull failed: pull model manifest: file does not exist", httpStatus: 200))])
        let busy = decodePull([lines([#"{"error":"max retries exceeded: unexpected EOF"}"#])[...]])
        #expect(busy.events.first == .error(PMXError(.upstreamServer, "ollama: pull failed: max retries exceeded: unexpected EOF", httpStatus: 200)))
        #expect(decodePull([lines([#"{"status": {not json"#])[...]]).error?.status == .upstreamProtocol)
        #expect(decodePull([lines([#"{"digest":"x"}"#])[...]]).error?.status == .upstreamProtocol)
        #expect(decodePull([lines([#"{"status":"pulling","total":"big"}"#])[...]]).error?.status == .upstreamProtocol)
        let cut = decodePull([lines(Array(pullLines.prefix(3)))[...]])
        #expect(cut.error == nil && cut.events.count == 3 && !cut.events.contains(.done))
    }

    @Test("delete: DELETE /api/delete {model}")
    func delete() throws {
        let call = codec.deleteCall("llama3:13b", provider: try provider())
        #expect(call.method == "DELETE" && call.url == "http://127.0.0.1:11434/api/delete")
        #expect(try body(call) == ["model": "llama3:13b"])
        #expect(header(call, "content-type") == ["application/json"])
    }

    @Test("num_ctx is the one extension parameter Ollama takes")
    func extensions() {
        #expect(codec.supportedExtensions == ["num_ctx"])
    }

    @Test("the catalogue's ollama type uses this codec with the local default base URL")
    func catalogue() throws {
        let entry = ProviderCatalogue.entry(for: .ollama)
        #expect(entry.codec is OllamaCodec)
        #expect(entry.defaultBaseURL == "http://127.0.0.1:11434")
        let p = try ProviderConfig.parse(JSONParser.parse(#"{"name":"local","type":"ollama"}"#), path: "p")
        let call = try OllamaCodec().chatCall(try request(#"{"messages":[{"role":"user","content":"hi"}]}"#), model: "m", stream: true, provider: p)
        #expect(call.url == "http://127.0.0.1:11434/api/chat")
    }
}
