// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxTransport
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxProviders
import Testing

// responses.create without a network: the OpenAI/Azure passthrough (URL, body, answer, the
// SSE stream at every byte split), the translation to chat for the other protocols (request
// field by field, refusals naming the field, the chat answer → Response) and the Responses
// events made from a chat stream.

private func provider(_ type: String, base: String = "http://127.0.0.1:9/v1", extra: String = "") throws -> ProviderConfig {
    try ProviderConfig.parse(JSONParser.parse(#"{"name":"p","type":"\#(type)","base_url":"\#(base)","api_key":"sk-KEY-1234"\#(extra)}"#), path: "p")
}

private func request(_ json: String) throws -> OperationRequest { try OperationRequest.parse(.responses, JSONParser.parse(json)) }

private func codec(_ p: ProviderConfig) throws -> any OperationCodec {
    try #require(ProviderCatalogue.codec(for: p.type)?.operationCodec(.responses, provider: p))
}

private func body(_ call: ProviderHTTPCall) throws -> JSONValue { try JSONParser.parse(call.body ?? []) }

private let head = HTTPResponseHead(status: 200, headers: [])

private func decode(_ make: () -> ChatStreamDecoding, _ pieces: [ArraySlice<UInt8>]) -> [ProviderEvent] {
    decodeOperationStream(make, pieces)
}

/// The `type`s of the operation events, in order.
private func types(_ events: [ProviderEvent]) -> [String] {
    events.compactMap { if case .operation(let o) = $0 { o["type"]?.stringValue } else { nil } }
}

private func result(_ events: [ProviderEvent]) -> JSONObject? {
    events.lazy.compactMap { if case .operationResult(let o) = $0 { o } else { nil } }.first
}

@Suite("responses.create codecs")
struct ResponsesCodecTests {
    // MARK: request checks

    @Test("the router checks input and the fields it translates, naming the field")
    func validation() throws {
        for (json, field) in [(#"{"model":"m"}"#, "input"), (#"{"input":5}"#, "input"), (#"{"input":["x"]}"#, "input[0]"),
                              (#"{"input":"x","max_output_tokens":0}"#, "max_output_tokens"),
                              (#"{"input":"x","temperature":3}"#, "temperature"), (#"{"input":"x","tools":[{}]}"#, "tools[0].type"),
                              (#"{"input":"x","tool_choice":3}"#, "tool_choice"), (#"{"input":"x","text":{"format":{}}}"#, "text.format.type"),
                              (#"{"input":"x","instructions":1}"#, "instructions")] {
            do { _ = try request(json); Issue.record("accepted \(json)") } catch let e as PMXError {
                #expect(e.status == .invalidRequest)
                #expect(e.message.hasPrefix(field), "\(e.message)")
            }
        }
        _ = try request(#"{"previous_response_id":"resp_1"}"#)
        #expect(try request(#"{"input":"x","route":{"providers":["p"]}}"#).body["route"] == nil)
        #expect(try request(#"{"input":[{"role":"user","content":[{"type":"input_text","text":"hello there"}]}],"instructions":"be brief"}"#)
            .promptText == "hello there\nbe brief")
    }

    // MARK: passthrough

    @Test("openai: POST {base}/responses with the body as written and the served model")
    func openAIPassthrough() throws {
        let p = try provider("openai")
        let c = try codec(p)
        #expect(c is OpenAIResponses)
        let r = try request(#"{"model":"p/gpt","input":"hi","previous_response_id":"resp_1","tools":[{"type":"web_search"}],"stream":true}"#)
        let call = try c.call(r, model: "gpt-4.1", stream: false, provider: p)
        #expect(call.url == "http://127.0.0.1:9/v1/responses")
        let b = try body(call)
        #expect(b["model"] == "gpt-4.1" && b["input"] == "hi" && b["previous_response_id"] == "resp_1" && b["stream"] == nil)
        #expect(b["tools"]?.arrayValue?.first?["type"] == "web_search")
        #expect(try body(c.call(r, model: "gpt-4.1", stream: true, provider: p))["stream"] == true)
        #expect(call.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer sk-KEY-1234" })
    }

    @Test("azure: /openai/v1/responses, or /openai/responses?api-version=…; the deployment is the body's model")
    func azurePassthrough() throws {
        let r = try request(#"{"input":"hi"}"#)
        let v1 = try provider("azure", base: "http://127.0.0.1:9")
        let call = try codec(v1).call(r, model: "dep-a", stream: false, provider: v1)
        #expect(call.url == "http://127.0.0.1:9/openai/v1/responses")
        #expect(try body(call)["model"] == "dep-a")
        #expect(call.headers.contains { $0.0.lowercased() == "api-key" })
        let versioned = try provider("azure", base: "http://127.0.0.1:9", extra: #","api_version":"2025-04-01-preview","deployment":"dep-b""#)
        let call2 = try codec(versioned).call(r, model: "gpt-4o", stream: false, provider: versioned)
        #expect(call2.url == "http://127.0.0.1:9/openai/responses?api-version=2025-04-01-preview")
        #expect(try body(call2)["model"] == "dep-b")
    }

    @Test("the passthrough answer comes back as written (usage bounded); no output is a protocol error")
    func passthroughDecode() throws {
        let p = try provider("openai")
        let c = try codec(p)
        let r = try request(#"{"input":"hi"}"#)
        let answer = #"{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt","output":[{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"yo","annotations":[]}]}],"usage":{"input_tokens":-3,"output_tokens":2,"total_tokens":5},"extra":7}"#
        let o = try c.decode(Array(answer.utf8), head: head, request: r, model: "gpt", provider: p)
        #expect(o["extra"] == 7 && o["output"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"] == "yo")
        #expect(o["usage"]?["input_tokens"] == 0)
        do { _ = try c.decode(Array(#"{"id":"resp_1"}"#.utf8), head: head, request: r, model: nil, provider: p); Issue.record("accepted") } catch let e as PMXError {
            #expect(e.status == .upstreamProtocol)
        }
    }

    @Test("Responses usage is priced like chat usage: input/output tokens, cached and reasoning details")
    func responsesUsage() throws {
        let u = try #require(Usage(openAI: JSONParser.parse(#"{"input_tokens":10,"input_tokens_details":{"cached_tokens":4,"cache_write_tokens":0},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":17}"#)))
        #expect(u.promptTokens == 10 && u.completionTokens == 7 && u.cachedTokens == 4 && u.reasoningTokens == 3 && u.totalTokens == 17)
        #expect(u.cacheWriteTokens == nil)
        // Chat usage reads as before.
        #expect(Usage(openAI: try JSONParser.parse(#"{"prompt_tokens":2,"completion_tokens":1}"#))?.promptTokens == 2)
    }

    // MARK: translation

    @Test("openai-compatible: the Responses request becomes the chat request, field by field")
    func translatedRequest() throws {
        let p = try provider("openai-compatible")
        let c = try codec(p)
        #expect(c is ResponsesViaChat)
        let r = try request(#"""
        {"model":"m","instructions":"be brief","max_output_tokens":50,"temperature":0.5,"top_p":0.9,"parallel_tool_calls":false,
         "reasoning":{"effort":"low","summary":"auto"},"store":true,"metadata":{"a":"b"},
         "text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}},
         "tools":[{"type":"function","name":"get_weather","description":"d","parameters":{"type":"object"},"strict":true}],
         "tool_choice":{"type":"function","name":"get_weather"},
         "input":[{"role":"developer","content":"rules"},
                  {"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:image/png;base64,AAAA","detail":"low"}]},
                  {"type":"reasoning","id":"rs_1","summary":[]},
                  {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
                  {"type":"function_call","call_id":"call_2","name":"get_weather","arguments":"{}"},
                  {"type":"function_call_output","call_id":"call_1","output":"sunny"},
                  {"type":"message","role":"assistant","content":[{"type":"output_text","text":"ok"}]}]}
        """#)
        let b = try body(c.call(r, model: "served", stream: false, provider: p))
        #expect(b["model"] == "served")
        let m = try #require(b["messages"]?.arrayValue)
        #expect(m.count == 6)
        #expect(m[0] == ["role": "system", "content": "be brief"])
        #expect(m[1] == ["role": "system", "content": "rules"])
        #expect(m[2]["content"]?.arrayValue?.count == 2)
        #expect(m[2]["content"]?.arrayValue?[1] == ["type": "image_url", "image_url": ["url": "data:image/png;base64,AAAA", "detail": "low"]])
        #expect(m[3]["role"] == "assistant" && m[3]["tool_calls"]?.arrayValue?.count == 2)
        #expect(m[3]["tool_calls"]?.arrayValue?[0] == ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\"}"]])
        #expect(m[4] == ["role": "tool", "tool_call_id": "call_1", "content": "sunny"])
        #expect(m[5] == ["role": "assistant", "content": "ok"])
        #expect(b["tools"] == [["type": "function", "function": ["name": "get_weather", "description": "d", "parameters": ["type": "object"], "strict": true]]])
        #expect(b["tool_choice"] == ["type": "function", "function": ["name": "get_weather"]])
        #expect(b["response_format"] == ["type": "json_schema", "json_schema": ["name": "w", "schema": ["type": "object"], "strict": true]])
        #expect(b["max_tokens"] == 50 && b["reasoning_effort"] == "low" && b["temperature"] == 0.5 && b["top_p"] == 0.9)
        #expect(b["parallel_tool_calls"] == false && b["store"] == nil && b["metadata"] == nil && b["input"] == nil)
    }

    @Test("anthropic: sent as its Messages call (instructions as system, tools as Anthropic tools)")
    func translatedAnthropic() throws {
        let p = try provider("anthropic", base: "http://127.0.0.1:9")
        let r = try request(#"{"instructions":"be brief","input":"weather?","max_output_tokens":100,"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}]}"#)
        let call = try codec(p).call(r, model: "claude", stream: true, provider: p)
        #expect(call.url == "http://127.0.0.1:9/v1/messages")
        let b = try body(call)
        #expect(b["system"] == "be brief" || b["system"]?.arrayValue?.first?["text"] == "be brief")
        #expect(b["max_tokens"] == 100 && b["stream"] == true)
        #expect(b["tools"]?.arrayValue?.first?["name"] == "get_weather")
    }

    @Test("what chat cannot carry is refused as unsupported, naming the field")
    func refusals() throws {
        let p = try provider("gemini", base: "http://127.0.0.1:9")
        for (json, field) in [(#"{"previous_response_id":"resp_1","input":"x"}"#, "previous_response_id"),
                              (#"{"input":"x","tools":[{"type":"web_search"}]}"#, "tools[0]"),
                              (#"{"input":"x","background":true}"#, "background"),
                              (#"{"input":[{"type":"item_reference","id":"x"}]}"#, "input[0].type"),
                              (#"{"input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}"#, "input[0].content[0].type"),
                              (#"{"input":"x","text":{"format":{"type":"grammar"}}}"#, "text.format.type"),
                              (#"{"input":"x","top_logprobs":2}"#, "top_logprobs")] {
            do { _ = try codec(p).call(request(json), model: "g", stream: false, provider: p); Issue.record("accepted \(json)") } catch let e as PMXError {
                #expect(e.status == .unsupported, "\(json)")
                #expect(e.message.contains("responses.create field \(field)"), "\(e.message)")
            }
        }
    }

    @Test("a chat answer becomes a Response: reasoning, message and function_call items, usage, status")
    func translatedAnswer() throws {
        let p = try provider("openai-compatible")
        let r = try request(#"{"input":"x","tools":[{"type":"function","name":"f"}],"max_output_tokens":5}"#)
        let chat = #"{"id":"c1","object":"chat.completion","created":7,"model":"served","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":"let me see","reasoning_content":"hmm","tool_calls":[{"id":"call_9","type":"function","function":{"name":"f","arguments":"{}"}}]}}],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}"#
        let o = try codec(p).decode(Array(chat.utf8), head: head, request: r, model: "served", provider: p)
        #expect(o["object"] == "response" && o["status"] == "completed" && o["model"] == "served" && o["created_at"] == 7)
        #expect(o["id"]?.stringValue?.hasPrefix("resp_") == true && o["incomplete_details"] == .null)
        let out = try #require(o["output"]?.arrayValue)
        #expect(out.map { $0["type"]?.stringValue ?? "" } == ["reasoning", "message", "function_call"])
        #expect(out[0]["content"] == [["type": "reasoning_text", "text": "hmm"]])
        #expect(out[1]["content"] == [["type": "output_text", "text": "let me see", "annotations": []]])
        #expect(out[2]["call_id"] == "call_9" && out[2]["name"] == "f" && out[2]["arguments"] == "{}")
        #expect(o["usage"] == ["input_tokens": 4, "input_tokens_details": ["cached_tokens": 2, "cache_write_tokens": 0], "output_tokens": 6,
                               "output_tokens_details": ["reasoning_tokens": 1], "total_tokens": 10])
        #expect(o["tools"] == [["type": "function", "name": "f"]] && o["max_output_tokens"] == 5 && o["store"] == false)
        let cut = #"{"id":"c1","model":"m","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"a b"}}]}"#
        let o2 = try codec(p).decode(Array(cut.utf8), head: head, request: r, model: "m", provider: p)
        #expect(o2["status"] == "incomplete" && o2["incomplete_details"] == ["reason": "max_output_tokens"])
        #expect(o2["output"]?.arrayValue?.first?["status"] == "incomplete")
    }

    @Test("anthropic thinking becomes reasoning items: the text as reasoning_text, the signature in encrypted_content")
    func thinkingToReasoningItems() throws {
        let p = try provider("anthropic", base: "http://127.0.0.1:9")
        let r = try request(#"{"input":"weather?","tools":[{"type":"function","name":"f"}],"max_output_tokens":2000,"reasoning":{"effort":"low"}}"#)
        let answer = #"{"id":"msg_1","type":"message","role":"assistant","model":"claude","stop_reason":"tool_use","content":[{"type":"thinking","thinking":"let me look","signature":"SIG1"},{"type":"redacted_thinking","data":"RED1"},{"type":"tool_use","id":"toolu_1","name":"f","input":{}}],"usage":{"input_tokens":3,"output_tokens":9}}"#
        let o = try codec(p).decode(Array(answer.utf8), head: head, request: r, model: "claude", provider: p)
        let out = try #require(o["output"]?.arrayValue)
        #expect(out.map { $0["type"]?.stringValue ?? "" } == ["reasoning", "reasoning", "function_call"])
        #expect(out[0]["content"] == [["type": "reasoning_text", "text": "let me look"]])
        #expect(out[0]["encrypted_content"] == "pmx.thinking:SIG1")
        #expect(out[1]["content"] == [] && out[1]["encrypted_content"] == "pmx.redacted_thinking:RED1")
        // A reasoning_content without blocks (DeepSeek) has nothing opaque to carry.
        let plain = try ResponsesReasoning.outputItems(of: JSONParser.parse(#"{"reasoning_content":"hmm"}"#))
        #expect(plain.count == 1 && plain[0]["encrypted_content"] == nil)
    }

    @Test("resent reasoning items go back on the assistant turn: Anthropic gets its signed blocks first, chat its reasoning_content")
    func reasoningItemsResent() throws {
        let input = #"""
        {"model":"m","max_output_tokens":2000,"reasoning":{"effort":"low"},"tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],
         "input":[{"role":"user","content":"weather?"},
                  {"type":"reasoning","id":"rs_1","summary":[],"content":[{"type":"reasoning_text","text":"let me look"}],"encrypted_content":"pmx.thinking:SIG1"},
                  {"type":"reasoning","id":"rs_2","summary":[],"encrypted_content":"pmx.redacted_thinking:RED1"},
                  {"type":"function_call","call_id":"toolu_1","name":"f","arguments":"{}"},
                  {"type":"function_call_output","call_id":"toolu_1","output":"sunny"},
                  {"type":"reasoning","id":"rs_3","summary":[{"type":"summary_text","text":"stale"}],"encrypted_content":"gAAAA-openai-opaque"},
                  {"role":"user","content":"thanks"}]}
        """#
        let a = try provider("anthropic", base: "http://127.0.0.1:9")
        let b = try body(codec(a).call(request(input), model: "claude", stream: false, provider: a))
        let m = try #require(b["messages"]?.arrayValue)
        #expect(m.count == 3)  // the tool result and "thanks" are one user turn
        #expect(m[1]["role"] == "assistant")
        #expect(m[1]["content"]?.arrayValue?.map { $0["type"]?.stringValue ?? "" } == ["thinking", "redacted_thinking", "tool_use"])
        #expect(m[1]["content"]?.arrayValue?[0] == ["type": "thinking", "thinking": "let me look", "signature": "SIG1"])
        #expect(m[1]["content"]?.arrayValue?[1] == ["type": "redacted_thinking", "data": "RED1"])
        // OpenAI's own encrypted content, and reasoning before a user turn, are not sent on.
        #expect(!String(decoding: try codec(a).call(request(input), model: "claude", stream: false, provider: a).body ?? [], as: UTF8.self).contains("stale"))

        let d = try provider("openai-compatible")
        let c = try body(codec(d).call(request(input), model: "deepseek-reasoner", stream: false, provider: d))
        let cm = try #require(c["messages"]?.arrayValue)
        #expect(cm[1]["role"] == "assistant" && cm[1]["reasoning_content"] == "let me look" && cm[1]["tool_calls"]?.arrayValue?.count == 1)
        #expect(cm[2]["role"] == "tool" && cm[2]["reasoning_content"] == nil && cm[3]["reasoning_content"] == nil)

        let bad = #"{"input":[{"type":"reasoning","summary":[],"encrypted_content":5},{"type":"function_call","call_id":"c","name":"f"}]}"#
        do { _ = try codec(d).call(request(bad), model: "m", stream: false, provider: d); Issue.record("accepted") } catch let e as PMXError {
            #expect(e.status == .invalidRequest && e.message.contains("input[0].encrypted_content"))
        }
    }

    // MARK: streams

    @Test("streamed thinking blocks: each ends its reasoning item, its signature (or redacted data) in encrypted_content")
    func streamedThinkingBlocks() throws {
        let b = ResponsesStreamBuilder(request: try request(#"{"input":"x"}"#).body, model: "m")
        var out: [ProviderEvent] = []
        let chat: [ProviderEvent] = [
            .reasoning("a "), .reasoning("b"), .thinkingBlock(["type": "thinking", "thinking": "a b", "signature": "S1"]),
            .thinkingBlock(["type": "redacted_thinking", "data": "D1"]),
            .reasoning("c"), .thinkingBlock(["type": "thinking", "thinking": "c", "signature": "S2"]),
            .delta(content: nil, toolCalls: [["index": 0, "id": "toolu_1", "function": ["name": "f", "arguments": "{}"]]]),
            .finish(reason: "tool_calls"), .end,
        ]
        for e in chat { b.apply(e) { out.append($0) } }
        let items = try #require(result(out)?["output"]?.arrayValue)
        #expect(items.map { $0["type"]?.stringValue ?? "" } == ["reasoning", "reasoning", "reasoning", "function_call"])
        #expect(items[0]["content"] == [["type": "reasoning_text", "text": "a b"]] && items[0]["encrypted_content"] == "pmx.thinking:S1")
        #expect(items[1]["content"] == [] && items[1]["encrypted_content"] == "pmx.redacted_thinking:D1")
        #expect(items[2]["content"] == [["type": "reasoning_text", "text": "c"]] && items[2]["encrypted_content"] == "pmx.thinking:S2")
        // The item done events carry it too (what a streaming caller keeps to resend).
        let done = out.compactMap { if case .operation(let o) = $0, o["type"] == "response.output_item.done" { o["item"] } else { nil } }
        #expect(done.first?["encrypted_content"] == "pmx.thinking:S1")
    }

    @Test("a chat stream becomes the Responses event sequence, sequence numbers rising, the Response last")
    func translatedStream() throws {
        let b = ResponsesStreamBuilder(request: try request(#"{"input":"x"}"#).body, model: "m")
        var out: [ProviderEvent] = []
        let chat: [ProviderEvent] = [
            .meta(id: "c", model: "served"), .reasoning("think "), .reasoning("hard"), .delta(content: "Hel", toolCalls: nil),
            .delta(content: "lo", toolCalls: nil),
            .delta(content: nil, toolCalls: [["index": 0, "id": "call_1", "type": "function", "function": ["name": "f", "arguments": "{\"a\""]]]),
            .delta(content: nil, toolCalls: [["index": 0, "id": "", "function": ["name": "", "arguments": ":1}"]]]),
            .delta(content: nil, toolCalls: [["index": 1, "id": "call_2", "function": ["name": "g", "arguments": "{}"]]]),
            .finish(reason: "tool_calls"), .usage(Usage(promptTokens: 3, completionTokens: 5)), .end,
        ]
        for e in chat { b.apply(e) { out.append($0) } }
        #expect(types(out) == [
            "response.created", "response.in_progress",
            "response.output_item.added", "response.content_part.added", "response.reasoning_text.delta", "response.reasoning_text.delta",
            "response.reasoning_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
            "response.output_text.done", "response.content_part.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
            "response.function_call_arguments.done", "response.output_item.done",
            "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done",
            "response.output_item.done", "response.completed"])
        let seqs = out.compactMap { if case .operation(let o) = $0 { o["sequence_number"]?.intValue } else { nil } }
        #expect(seqs == Array(0..<Int64(seqs.count)))
        // The router still sees what it reads: meta, finish, usage, end; no chat deltas.
        #expect(out.contains(.finish(reason: "tool_calls")) && out.last == .end)
        #expect(!out.contains { if case .delta = $0 { true } else { false } })
        let r = try #require(result(out))
        #expect(r["status"] == "completed" && r["model"] == "served")
        let items = try #require(r["output"]?.arrayValue)
        #expect(items.map { $0["type"]?.stringValue ?? "" } == ["reasoning", "message", "function_call", "function_call"])
        #expect(items[1]["content"]?.arrayValue?.first?["text"] == "Hello")
        #expect(items[2]["call_id"] == "call_1" && items[2]["arguments"] == "{\"a\":1}" && items[3]["name"] == "g")
        #expect(r["usage"]?["input_tokens"] == 3 && r["usage"]?["output_tokens"] == 5)
        // The delta of text names its item and content index, with (empty) logprobs as OpenAI's.
        let delta = try #require(out.compactMap { if case .operation(let o) = $0, o["type"] == "response.output_text.delta" { o } else { nil } }.first)
        #expect(delta["delta"] == "Hel" && delta["output_index"] == 1 && delta["content_index"] == 0 && delta["logprobs"] == [])
        #expect(delta["item_id"] == items[1]["id"])
    }

    @Test("a cut chat stream ends incomplete; one without a finish gets no closing events")
    func translatedStreamEnds() throws {
        let body = try request(#"{"input":"x"}"#).body
        let b = ResponsesStreamBuilder(request: body, model: "m")
        var out: [ProviderEvent] = []
        for e: ProviderEvent in [.delta(content: "a", toolCalls: nil), .finish(reason: "length"), .end] { b.apply(e) { out.append($0) } }
        #expect(types(out).last == "response.incomplete")
        #expect(result(out)?["incomplete_details"] == ["reason": "max_output_tokens"])
        // The decoder wrapper: a stream cut before its finish reason closes nothing.
        let p = try provider("openai-compatible")
        let make = { try! codec(p).streamDecoder(request(#"{"input":"x"}"#), model: "m", provider: p)! }
        let cut = decode(make, [Array((#"data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}"# + "\n\n").utf8)[...]])
        #expect(types(cut) == ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                               "response.output_text.delta"])
        let finished = decode(make, [Array((#"data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}"# + "\n\n").utf8)[...]])
        #expect(types(finished).last == "response.completed" && result(finished) != nil)
    }

    @Test("the passthrough stream: every event as sent, the Response of response.completed the result, at any byte split")
    func passthroughStream() throws {
        let events = [
            #"{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[]}}"#,
            #"{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"hé","logprobs":[]}"#,
            #"{"type":"response.completed","sequence_number":2,"response":{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":2,"output_tokens":1,"total_tokens":3}}}"#,
        ]
        let bytes = Array(events.map { e in "event: \(try! JSONParser.parse(e)["type"]!.stringValue!)\ndata: \(e)\n\n" }.joined().utf8)
        let make = { ResponsesStreamDecoder(provider: "p") as ChatStreamDecoding }
        let whole = decode(make, [bytes[...]])
        #expect(types(whole) == ["response.created", "response.output_text.delta", "response.completed"])
        #expect(result(whole)?["id"] == "resp_1")
        #expect(whole.contains(.usage(Usage(promptTokens: 2, completionTokens: 1, totalTokens: 3))))
        #expect(whole.contains(.end) && whole.contains(.finish(reason: "completed")))
        var mismatches: [Int] = []
        for i in 0...bytes.count where decode(make, [bytes[..<i], bytes[i...]]) != whole { mismatches.append(i) }
        #expect(mismatches.isEmpty, "differs when split at \(mismatches.prefix(10))")
        #expect(decode(make, bytes.indices.map { bytes[$0...$0] }) == whole, "byte by byte")
    }

    @Test("the passthrough stream's failures: response.failed, the error event (flat or nested), no type")
    func passthroughStreamErrors() throws {
        let make = { ResponsesStreamDecoder(provider: "p") as ChatStreamDecoding }
        func last(_ event: String) -> ProviderEvent? { decode(make, [Array("data: \(event)\n\n".utf8)[...]]).first }
        guard case .error(let failed)? = last(#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}"#) else {
            Issue.record("no error"); return
        }
        #expect(failed.status == .upstreamServer && failed.message.contains("boom"))
        guard case .error(let flat)? = last(#"{"type":"error","code":"rate_limit_exceeded","message":"slow down"}"#) else { Issue.record("no error"); return }
        #expect(flat.message.contains("slow down"))
        guard case .error(let nested)? = last(#"{"type":"error","error":{"message":"nested one"}}"#) else { Issue.record("no error"); return }
        #expect(nested.message.contains("nested one"))
        guard case .error(let untyped)? = last(#"{"sequence_number":1}"#) else { Issue.record("no error"); return }
        #expect(untyped.status == .upstreamProtocol)
    }
}
