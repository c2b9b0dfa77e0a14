// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// Reasoning and prompt caching in every protocol (issue 16 item 2): the vendors' recorded
// shapes decoded whole and split at every byte, the completion built from them, and the
// request fields each protocol sends for `reasoning_effort`, `thinking` and `cache_control`.

/// The body `codec` sends for `json`.
private func body(_ codec: any WireCodec, _ p: ProviderConfig, _ json: String, model: String = "m", stream: Bool = false) throws -> JSONValue {
    try JSONParser.parse(try #require(try codec.chatCall(parseChat(json), model: model, stream: stream, provider: p).body))
}

private func sse(_ events: [String]) -> [UInt8] { Array(events.map { "data: \($0)\n\n" }.joined().utf8) }
private func namedSSE(_ events: [(String, String)]) -> [UInt8] { Array(events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined().utf8) }

private extension JSONValue {
    /// Element `i` of an array value (nil for anything else or out of range).
    subscript(_ i: Int) -> JSONValue? {
        guard let a = arrayValue, i >= 0, i < a.count else { return nil }
        return a[i]
    }
}

private func message(_ r: JSONObject) -> JSONValue? { r["choices"]?.arrayValue?.first?["message"] }

// MARK: - OpenAI-compatible

/// DeepSeek's `deepseek-reasoner` stream: `reasoning_content` deltas, then content; usage with
/// `completion_tokens_details.reasoning_tokens`.
private let deepseekChunks = [
    #"{"id":"5f8c","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"5f8c","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Okay, the user"},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"5f8c","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":null,"reasoning_content":" asks — wörld 👋"},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"5f8c","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"Paris.","reasoning_content":null},"logprobs":null,"finish_reason":null}]}"#,
    #"{"id":"5f8c","object":"chat.completion.chunk","created":1738000000,"model":"deepseek-reasoner","system_fingerprint":"fp_7e73fd9a08_prod0225","choices":[{"index":0,"delta":{"content":"","reasoning_content":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":13,"completion_tokens":40,"total_tokens":53,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":32},"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":13}}"#,
    "[DONE]",
]

/// OpenRouter names it `reasoning` (with `reasoning_details` beside it).
private let openRouterChunks = [
    #"{"id":"gen-1","provider":"Google","model":"google/gemini-2.5-flash","object":"chat.completion.chunk","created":1750000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"**Weighing** it","reasoning_details":[{"type":"reasoning.text","text":"**Weighing** it","format":"unknown","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]}"#,
    #"{"id":"gen-1","provider":"Google","model":"google/gemini-2.5-flash","object":"chat.completion.chunk","created":1750000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"Yes.","reasoning":null},"finish_reason":"stop","native_finish_reason":"STOP","logprobs":null}],"usage":{"prompt_tokens":5,"completion_tokens":30,"total_tokens":35,"cost":0.0001,"completion_tokens_details":{"reasoning_tokens":28},"prompt_tokens_details":{"cached_tokens":3}}}"#,
    "[DONE]",
]

@Suite("Reasoning: OpenAI-compatible")
struct OpenAIReasoningTests {
    @Test("reasoning_content deltas become reasoning events before the answer; reasoning_tokens stay in the usage")
    func deepseekStream() throws {
        let p = try protocolProvider("openai-compatible", "http://127.0.0.1:1/v1")
        let d = decodeStreamEverySplit(OpenAICodec(), p, sse(deepseekChunks))
        #expect(d.error == nil)
        #expect(d.events == [
            .meta(id: "5f8c", model: "deepseek-reasoner"),
            .reasoning("Okay, the user"), .reasoning(" asks — wörld 👋"),
            .delta(content: "Paris.", toolCalls: nil),
            .finish(reason: "stop"),
            .usage(Usage(promptTokens: 13, completionTokens: 40, totalTokens: 53, cachedTokens: 0, reasoningTokens: 32)),
            .end,
        ])
        let r = CodecSupport.completion(from: d.events, model: nil)
        #expect(message(r) == ["role": "assistant", "content": "Paris.", "reasoning_content": "Okay, the user asks — wörld 👋"])
        #expect(r["usage"]?["completion_tokens_details"] == ["reasoning_tokens": 32])
    }

    @Test("OpenRouter's `reasoning` is read the same way")
    func openRouterStream() throws {
        let p = try protocolProvider("openrouter", "http://127.0.0.1:1/v1")
        let d = decodeStreamEverySplit(OpenAICodec(), p, sse(openRouterChunks))
        #expect(d.error == nil)
        #expect(Array(d.events.prefix(3)) == [
            .meta(id: "gen-1", model: "google/gemini-2.5-flash"), .reasoning("**Weighing** it"), .delta(content: "Yes.", toolCalls: nil),
        ])
        let u = try #require(d.events.compactMap { if case .usage(let u) = $0 { u } else { nil } }.last)
        #expect(u.reasoningTokens == 28 && u.cachedTokens == 3)
    }

    @Test("a complete answer keeps reasoning_content; OpenRouter's `reasoning` also gets that name")
    func completeAnswers() throws {
        let deepseek = #"{"id":"x","object":"chat.completion","model":"deepseek-reasoner","choices":[{"index":0,"message":{"role":"assistant","content":"Paris.","reasoning_content":"Hmm."},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":9,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":7}}}"#
        let r = try OpenAIProtocol.decodeChat(Array(deepseek.utf8), provider: "p")
        #expect(message(r)?["reasoning_content"] == "Hmm.")
        #expect(Usage(openAI: r["usage"])?.reasoningTokens == 7)
        let openRouter = #"{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Yes.","reasoning":"Because."},"finish_reason":"stop"}]}"#
        let o = try OpenAIProtocol.decodeChat(Array(openRouter.utf8), provider: "p")
        #expect(message(o)?["reasoning_content"] == "Because.")
        #expect(message(o)?["reasoning"] == "Because.")
    }

    @Test("reasoning_effort, thinking and cache_control reach an OpenAI-shaped server unchanged")
    func passthrough() throws {
        let p = try protocolProvider("openrouter", "http://127.0.0.1:1/v1")
        let b = try body(OpenAICodec(), p, #"{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]}"#)
        #expect(b["reasoning_effort"] == "high")
        #expect(b["messages"]?[0]?["content"]?[0]?["cache_control"] == ["type": "ephemeral"])
    }

    @Test("cache_control is taken off messages, parts and tools for OpenAI-shaped vendors without it; kept for OpenRouter and openai-compatible")
    func cacheMarkersDropped() throws {
        let json = #"{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"rules","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"hi","cache_control":{"type":"ephemeral"}}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"},"cache_control":{"type":"ephemeral"}},"cache_control":{"type":"ephemeral"}}]}"#
        for type in ["openai", "groq", "lmstudio", "llamacpp", "deepseek"] {
            let b = try body(OpenAICodec(), try protocolProvider(type, "http://127.0.0.1:1/v1"), json)
            #expect(!JSONWriter.string(b).contains("cache_control"), "\(type)")
            #expect(b["messages"]?[0]?["content"]?[0] == ["type": "text", "text": "rules"], "\(type)")
            #expect(b["tools"]?[0]?["function"]?["name"] == "f", "\(type)")
        }
        let mistral = try body(MistralCodec(), try protocolProvider("mistral", "http://127.0.0.1:1/v1"), json)
        #expect(!JSONWriter.string(mistral).contains("cache_control"))
        for type in ["openrouter", "openai-compatible"] {
            let b = try body(OpenAICodec(), try protocolProvider(type, "http://127.0.0.1:1/v1"), json)
            #expect(b["messages"]?[1]?["cache_control"] == ["type": "ephemeral"], "\(type)")
            #expect(b["tools"]?[0]?["cache_control"] == ["type": "ephemeral"], "\(type)")
        }
        // Without markers the request is written as it came (not walked, not rebuilt).
        let plain = try parseChat(#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}"#)
        #expect(!plain.hasCacheMarkers)
        #expect(try parseChat(json).hasCacheMarkers)
    }
}

// MARK: - Anthropic

private let anthropicAnswer = #"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"thinking","thinking":"Let me add 2 and 2.","signature":"EuYBCkQYAiJAgCs1le"},{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix"},{"type":"text","text":"4"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":500,"output_tokens":60,"service_tier":"standard"}}"#

private let anthropicThinkingStream: [(String, String)] = [
    ("message_start", #"{"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":1500,"cache_read_input_tokens":0,"output_tokens":1}}}"#),
    ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Two plus"}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" two — 👋"}}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9G"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
    ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":1}"#),
    ("content_block_start", #"{"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}"#),
    ("ping", #"{"type": "ping"}"#),
    ("content_block_delta", #"{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"4"}}"#),
    ("content_block_stop", #"{"type":"content_block_stop","index":2}"#),
    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":40}}"#),
    ("message_stop", #"{"type":"message_stop"}"#),
]

@Suite("Reasoning and prompt caching: Anthropic")
struct AnthropicReasoningTests {
    private let p = { try! protocolProvider("anthropic", "https://api.anthropic.com") }()

    @Test("thinking blocks come back as reasoning_content and thinking_blocks; cache reads and writes as usage")
    func completeAnswer() throws {
        let r = try AnthropicCodec().decodeChat(Array(anthropicAnswer.utf8), model: nil, provider: p)
        #expect(message(r) == ["role": "assistant", "content": "4", "reasoning_content": "Let me add 2 and 2.",
                               "thinking_blocks": [["type": "thinking", "thinking": "Let me add 2 and 2.", "signature": "EuYBCkQYAiJAgCs1le"],
                                                   ["type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"]]])
        #expect(r["usage"] == ["prompt_tokens": 2510, "completion_tokens": 60, "total_tokens": 2570,
                               "prompt_tokens_details": ["cached_tokens": 500, "cache_creation_tokens": 2000]])
    }

    @Test("a thinking stream: thinking_delta → reasoning, signature_delta kept, one block per thinking block")
    func stream() throws {
        let d = decodeStreamEverySplit(AnthropicCodec(), p, namedSSE(anthropicThinkingStream))
        #expect(d.error == nil)
        let start = Usage(promptTokens: 1512, completionTokens: 1, cachedTokens: 0, cacheWriteTokens: 1500)
        #expect(d.events == [
            .meta(id: "msg_02", model: "claude-sonnet-4-5"), .usage(start),
            .reasoning("Two plus"), .reasoning(" two — 👋"),
            .thinkingBlock(["type": "thinking", "thinking": "Two plus two — 👋", "signature": "EqQBCgIYAhIM1gbcDa9G"]),
            .thinkingBlock(["type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"]),
            .delta(content: "4", toolCalls: nil),
            .finish(reason: "stop"),
            .usage(Usage(promptTokens: 1512, completionTokens: 40, cachedTokens: 0, cacheWriteTokens: 1500)),
            .end,
        ])
        let r = CodecSupport.completion(from: d.events, model: nil)
        #expect(message(r)?["reasoning_content"] == "Two plus two — 👋")
        #expect(message(r)?["thinking_blocks"]?.arrayValue?.count == 2)
    }

    @Test("a thinking_delta for a text block is a broken promise")
    func wrongDelta() throws {
        var events = Array(anthropicThinkingStream.prefix(1))
        events.append(("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#))
        events.append(("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"x"}}"#))
        let d = decodeStream(AnthropicCodec(), p, [namedSSE(events)[...]])
        #expect(d.error?.message == "Anthropic stream: thinking_delta for content block 0 of another type")
    }

    @Test("reasoning_effort asks for thinking: budget per effort, max_tokens grown when not given, temperature left out")
    func effort() throws {
        let medium = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"medium","temperature":0.2,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(medium["thinking"] == ["type": "enabled", "budget_tokens": 4096])
        #expect(medium["max_tokens"] == 8192)
        #expect(medium["temperature"] == nil && medium["top_k"] == nil)
        let low = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"low","max_tokens":3000,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(low["thinking"] == ["type": "enabled", "budget_tokens": 1024])
        #expect(low["max_tokens"] == 3000)
        let high = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"high","max_tokens":2000,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(high["thinking"] == ["type": "enabled", "budget_tokens": 1999])
        let none = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"none","temperature":0.2,"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(none["thinking"] == nil && none["temperature"] == 0.2)
        #expect(throws: PMXError.self) {
            try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"high","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}"#)
        }
        do {
            _ = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"extreme","messages":[{"role":"user","content":"hi"}]}"#)
            Issue.record("an unknown effort was accepted")
        } catch let e as PMXError {
            #expect(e.status == .invalidRequest && e.message.hasPrefix("reasoning_effort: expected"))
        }
    }

    @Test("a thinking object is passed through as given, and wins over reasoning_effort")
    func thinkingPassthrough() throws {
        let b = try body(AnthropicCodec(), p, #"{"model":"m","reasoning_effort":"high","max_tokens":5000,"thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(b["thinking"] == ["type": "enabled", "budget_tokens": 2048])
        #expect(b["max_tokens"] == 5000)
    }

    @Test("thinking_blocks on an assistant message go back first, unmodified, before the tool call")
    func thinkingAcrossTurns() throws {
        let b = try body(AnthropicCodec(), p, #"""
            {"model":"m","messages":[{"role":"user","content":"weather?"},
             {"role":"assistant","content":null,"reasoning_content":"Need the tool.",
              "thinking_blocks":[{"type":"thinking","thinking":"Need the tool.","signature":"sig=="},{"type":"redacted_thinking","data":"enc"}],
              "tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"toolu_1","content":"sunny"}]}
            """#)
        #expect(b["messages"]?[1]?["content"] == [
            ["type": "thinking", "thinking": "Need the tool.", "signature": "sig=="],
            ["type": "redacted_thinking", "data": "enc"],
            ["type": "tool_use", "id": "toolu_1", "name": "w", "input": .object(JSONObject())],
        ])
        #expect(throws: PMXError.self) {
            try body(AnthropicCodec(), p, #"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b","thinking_blocks":[{"type":"text","text":"x"}]}]}"#)
        }
    }

    @Test("cache_control on system parts, content parts, messages and tools reaches Anthropic unchanged")
    func cacheControl() throws {
        let b = try body(AnthropicCodec(), p, #"""
            {"model":"m","messages":[
              {"role":"system","content":[{"type":"text","text":"You are a bot."},{"type":"text","text":"Long rules.","cache_control":{"type":"ephemeral","ttl":"1h"}}]},
              {"role":"user","content":[{"type":"text","text":"Big document","cache_control":{"type":"ephemeral"}},{"type":"text","text":"question"}]},
              {"role":"assistant","content":"answer","cache_control":{"type":"ephemeral"}},
              {"role":"user","content":"next"}],
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}},"cache_control":{"type":"ephemeral"}}]}
            """#)
        #expect(b["system"] == [["type": "text", "text": "You are a bot."],
                                ["type": "text", "text": "Long rules.", "cache_control": ["type": "ephemeral", "ttl": "1h"]]])
        #expect(b["messages"]?[0]?["content"] == [["type": "text", "text": "Big document", "cache_control": ["type": "ephemeral"]],
                                                  ["type": "text", "text": "question"]])
        #expect(b["messages"]?[1]?["content"] == [["type": "text", "text": "answer", "cache_control": ["type": "ephemeral"]]])
        #expect(b["messages"]?[2]?["content"] == "next")
        #expect(b["tools"]?[0]?["cache_control"] == ["type": "ephemeral"])
        // Without markers the system prompt stays one string, as before.
        let plain = try body(AnthropicCodec(), p, #"{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"c"}]}"#)
        #expect(plain["system"] == "a\n\nb")
    }
}

// MARK: - Gemini

private let geminiThoughtEvents = [
    #"{"candidates": [{"content": {"parts": [{"text": "**Planning** the answer","thought": true}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
    #"{"candidates": [{"content": {"parts": [{"text": "Paris — 世界"}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 3,"totalTokenCount": 112,"thoughtsTokenCount": 100,"cachedContentTokenCount": 6},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
]

@Suite("Reasoning: Gemini")
struct GeminiReasoningTests {
    private let p = { try! protocolProvider("gemini", "https://generativelanguage.googleapis.com") }()

    @Test("thought parts become reasoning; thoughtsTokenCount is reasoning_tokens inside completion_tokens; cached tokens")
    func stream() throws {
        let d = decodeStreamEverySplit(GeminiCodec(), p, sse(geminiThoughtEvents))
        #expect(d.error == nil)
        #expect(d.events == [
            .meta(id: "r1", model: "gemini-2.5-flash"), .reasoning("**Planning** the answer"),
            .usage(Usage(promptTokens: 9, completionTokens: 0, totalTokens: 9)),
            .delta(content: "Paris — 世界", toolCalls: nil), .finish(reason: "stop"),
            .usage(Usage(promptTokens: 9, completionTokens: 103, totalTokens: 112, cachedTokens: 6, reasoningTokens: 100)),
            .end,
        ])
        let r = try GeminiCodec().decodeChat(Array(geminiThoughtEvents[1].utf8), model: "gemini-2.5-flash", provider: p)
        #expect(r["usage"]?["completion_tokens_details"] == ["reasoning_tokens": 100])
        let whole = try GeminiCodec().decodeChat(Array(geminiThoughtEvents[0].replacingOccurrences(of: #""index": 0}"#, with: #""index": 0, "finishReason": "STOP"}"#).utf8),
                                                 model: nil, provider: p)
        #expect(message(whole)?["reasoning_content"] == "**Planning** the answer")
    }

    @Test("reasoning_effort and a thinking object become thinkingConfig")
    func request() throws {
        let high = try body(GeminiCodec(), p, #"{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(high["generationConfig"]?["thinkingConfig"] == ["includeThoughts": true, "thinkingBudget": 16384])
        let none = try body(GeminiCodec(), p, #"{"model":"m","reasoning_effort":"none","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(none["generationConfig"]?["thinkingConfig"] == ["thinkingBudget": 0])
        let given = try body(GeminiCodec(), p, #"{"model":"m","thinking":{"type":"enabled","budget_tokens":2048},"messages":[{"role":"user","content":"hi"}]}"#)
        #expect(given["generationConfig"]?["thinkingConfig"] == ["includeThoughts": true, "thinkingBudget": 2048])
        let plain = try body(GeminiCodec(), p, #"{"model":"m","messages":[{"role":"user","content":"hi","cache_control":{"type":"ephemeral"}}]}"#)
        #expect(plain["generationConfig"]?["thinkingConfig"] == nil)
        #expect(!JSONWriter.string(plain).contains("cache_control"))  // Gemini has no such marker: dropped
    }
}

// MARK: - Ollama

private let ollamaThinkingLines = [
    #"{"model":"qwen3","created_at":"2025-06-01T10:00:00.1Z","message":{"role":"assistant","content":"","thinking":"Okay, "},"done":false}"#,
    #"{"model":"qwen3","created_at":"2025-06-01T10:00:00.2Z","message":{"role":"assistant","content":"","thinking":"the user 👋"},"done":false}"#,
    #"{"model":"qwen3","created_at":"2025-06-01T10:00:00.3Z","message":{"role":"assistant","content":"Hi!"},"done":false}"#,
    #"{"model":"qwen3","created_at":"2025-06-01T10:00:00.4Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":100,"load_duration":1,"prompt_eval_count":5,"prompt_eval_duration":1,"eval_count":20,"eval_duration":1000000000}"#,
]

@Suite("Reasoning: Ollama")
struct OllamaReasoningTests {
    private let p = { try! protocolProvider("ollama", "http://127.0.0.1:11434") }()

    @Test("message.thinking becomes reasoning, in the stream and in the complete answer")
    func stream() throws {
        let bytes = Array(ollamaThinkingLines.map { $0 + "\n" }.joined().utf8)
        let d = decodeStreamEverySplit(OllamaCodec(), p, bytes)
        #expect(d.error == nil)
        #expect(Array(d.events.prefix(4)) == [
            .meta(id: nil, model: "qwen3"), .reasoning("Okay, "), .reasoning("the user 👋"), .delta(content: "Hi!", toolCalls: nil),
        ])
        let whole = #"{"model":"qwen3","message":{"role":"assistant","content":"Hi!","thinking":"Hmm."},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":20}"#
        let r = try OllamaCodec().decodeChat(Array(whole.utf8), model: "qwen3", provider: p)
        #expect(message(r)?["reasoning_content"] == "Hmm.")
    }

    @Test("think from reasoning_effort or as given; an earlier answer's reasoning goes back as thinking")
    func request() throws {
        let low = try body(OllamaCodec(), p, #"{"model":"m","reasoning_effort":"low","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(low["think"] == "low")
        let off = try body(OllamaCodec(), p, #"{"model":"m","reasoning_effort":"none","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(off["think"] == false)
        let given = try body(OllamaCodec(), p, #"{"model":"m","think":true,"reasoning_effort":"low","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"a","reasoning_content":"r"}]}"#)
        #expect(given["think"] == true)
        #expect(given["messages"]?[1]?["thinking"] == "r")
        let plain = try body(OllamaCodec(), p, #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(plain["think"] == nil)
        #expect(throws: PMXError.self) { try body(OllamaCodec(), p, #"{"model":"m","think":3,"messages":[{"role":"user","content":"hi"}]}"#) }
    }
}
