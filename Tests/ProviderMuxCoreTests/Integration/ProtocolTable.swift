// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// The protocol table that drives ProtocolIntegrationTests (as Tests/python/protocol_table.py
// drives the Python side): one row per wire protocol, holding how its provider is configured
// and what each shared behaviour looks like on its wire. What every protocol does alike is
// asserted once in the suite; what differs is data here, and what only one protocol has is a
// closure (`extra`) the suite calls at the same point.

/// What a protocol-specific check gets: the fake upstream, the test's scope and the row.
struct ProtocolWire {
    let server: FakeUpstreamServer
    let scope: String
    let p: ProtocolCase

    /// The request log of the row's provider.
    func requests() throws -> [JSONValue] { try server.requests(scope) }
}

typealias WireCheck = @Sendable (ProtocolWire, JSONObject) throws -> Void

struct ProtocolCase: Sendable, CustomTestStringConvertible {
    /// The provider type and the provider's name in every answer and event line.
    let type: String
    let name: String
    let key: String
    let model: String
    /// The header that carries the key, lower-case, and its value.
    let authHeader: String
    let authValue: String
    /// The chat endpoint below the scope root (Gemini's names the model).
    let chatPath: String
    let weatherTools: String
    /// The base URL's path below the scope root (OpenAI-compatible providers are configured at `/v1`).
    var basePath = ""
    /// Whether a request without a model is refused before sending (OpenAI-compatible servers
    /// such as llama.cpp serve one model and take requests without one, so that codec sends them).
    var needsModel = true
    /// More members of the provider object (openrouter's attribution options).
    var providerExtra = ""

    /// complete(): the request, its usage, and the row's own checks of the request it sent.
    var plainRequest: String
    var plainUsage: JSONValue
    var plainExtra: WireCheck

    /// stream(): the prompt, the delta count, the usage line, the id prefix, the Accept header.
    var streamPrompt = "the quick brown fox"
    var streamDeltas = 5
    var streamUsage: String
    var streamIdPrefix: String?
    var streamAccept = "text/event-stream"
    /// Whether the sent body says `"stream": true` (Gemini says it in the path instead).
    var streamFlagInBody = true
    var streamPath: String?
    /// The row's own checks of a streamed answer (the stream's result).
    var streamExtra: WireCheck = { _, _ in }

    /// A tool call, plain and streamed.
    var toolPrompt = "what is the weather in Paris?"
    var toolPlainExtra = ""
    var toolStreamPrompt = "what is the weather in Paris?"
    /// nil where the row has no tool-call checks yet (the openai row): it is left out of `withTools`.
    var toolPlain: (@Sendable (ProtocolWire, JSONValue) throws -> Void)? = nil
    var toolStreamed: (@Sendable (ProtocolWire, ProtocolStream, JSONObject) throws -> Void)? = nil
    /// A tool result sent back (each protocol has its own round trip).
    var toolResult: (@Sendable (ProtocolWire, Router) throws -> Void)? = nil

    /// 429 with Retry-After, then success: the script and the kept message.
    var rateLimitScript: String
    var rateLimitMessage: String

    /// A disconnect after output started: after how many chunks, the text that got out, and
    /// the partial usage where the protocol reports it before the end.
    var disconnectAfter: Int
    var disconnectText: String
    var disconnectPartialUsage: (prompt: Int, completion: Int)?

    /// An in-stream error after output: after how many chunks, the message, the text.
    var errorEventAfter: Int
    var errorEventMessage: String
    var errorEventText: String
    var errorEventHTTPStatus: Int?
    /// The row's own checks of an in-stream error after output (the stream and its error).
    var errorEventExtra: @Sendable (ProtocolWire, ProtocolStream, PMXError) throws -> Void = { _, _, _ in }

    /// A malformed event before output: refused (not retried) naming the protocol, or failed over.
    enum Malformed: Sendable { case refused(at: Int, message: String), failover(at: Int) }
    var malformed: Malformed
    /// The row's own checks after a malformed event failed over (the stream and its result).
    var malformedExtra: @Sendable (ProtocolWire, ProtocolStream, JSONObject) throws -> Void = { _, _, _ in }

    /// models(): the list the fake serves, what comes back, the request path.
    var modelsList: String?
    var modelIds: [String] = []
    var modelCapabilities: [JSONValue] = []
    var modelsPath = ""
    var modelsExtra: @Sendable (ProtocolWire, [JSONValue]) throws -> Void = { _, _ in }

    /// The case's name in test output where the type alone is ambiguous (the openai row and the
    /// openai-compatible preset share a type).
    var label: String?
    var testDescription: String { label ?? type }

    /// The provider object for `name` at `scope` (the fake's routes sit at the scope root).
    func providerJSON(port: Int, name: String? = nil, scope: String, extra: String = "") -> String {
        #"{"name":"\#(name ?? self.name)","type":"\#(type)","base_url":"http://127.0.0.1:\#(port)/\#(scope)\#(basePath)","api_key":"\#(key)","retry":{"initial_backoff_ms":10,"jitter":0}\#(providerExtra)\#(extra)}"#
    }

    func chat(_ prompt: String, extra: String = "") throws -> ChatRequest {
        try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
    }

    static let all: [ProtocolCase] = [.anthropic, .gemini, .cohere, .ollama, .openai, .openrouter]
    /// The OpenAI-compatible presets: they share the openai row's wire, so they run through
    /// complete() and stream() only (`plain` and `streamed` take `all + presets`).
    static let presets: [ProtocolCase] = ["openai", "openai-compatible", "openrouter", "groq", "together", "cerebras",
                                          "mistral", "deepseek", "xai", "fireworks", "huggingface"].map(openAIPreset)
    static var needingModel: [ProtocolCase] { all.filter(\.needsModel) }
    static var withTools: [ProtocolCase] { all.filter { $0.toolPlain != nil } }
    static var refusingMalformed: [ProtocolCase] { all.filter { if case .refused = $0.malformed { true } else { false } } }
    static var failingOverMalformed: [ProtocolCase] { all.filter { if case .failover = $0.malformed { true } else { false } } }
    static var withModelList: [ProtocolCase] { all.filter { $0.modelsList != nil } }
}

// MARK: - The rows

private let anKey = "test-key-anthropic-123"
private let gemKey = "test-key-gemini-123"
private let coKey = "test-key-cohere-123"
private let olKey = "test-key-ollama-123"
private let oaKey = "sk-test-SECRET123"
private let vaKey = "test-key-variants-123"
private let orKey = "test-key-openrouter-123"

private let commonWeatherTools = #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#

extension ProtocolCase {
    /// Anthropic Messages (protocols/anthropic.py); the base URL is the host root, no /v1.
    static let anthropic = ProtocolCase(
        type: "anthropic", name: "an", key: anKey, model: "claude-sonnet-4-5",
        authHeader: "x-api-key", authValue: anKey, chatPath: "/v1/messages", weatherTools: commonWeatherTools,
        plainRequest: #"""
        {"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hello there world"}],
         "temperature":0.5,"stop":"END","seed":3}
        """#,
        plainUsage: ["prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9, "prompt_tokens_details": ["cached_tokens": 0]],
        plainExtra: { w, r in
            #expect(r["id"]?.stringValue?.hasPrefix("msg_fake_") == true)
            let entry = try #require(try w.requests().first)
            #expect(entry["headers"]?["anthropic-version"] == "2023-06-01")
            #expect(entry["headers"]?["authorization"] == nil)
            let json = try #require(entry["json"])
            #expect(json["system"] == "Be brief.")
            #expect(json["messages"] == [["role": "user", "content": "hello there world"]])
            #expect(json["max_tokens"] == 4096)
            #expect(json["stop_sequences"] == ["END"])
            #expect(json["temperature"] == 0.5)
            #expect(json["seed"] == nil)
            #expect(json["stream"] == false)
        },
        streamUsage: "usage 4/5/9", streamIdPrefix: "msg_fake_",
        toolPlain: { _, choice in
            #expect(choice["message"]?["content"] == .null)
            #expect(choice["message"]?["tool_calls"] == [["id": "toolu_fake_1", "type": "function",
                                                          "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]]])
        },
        toolStreamed: { w, out, r in
            let deltas = out.toolDeltas
            #expect(deltas.count == 4)  // start + 3 argument pieces (the empty first piece is skipped)
            #expect(deltas.allSatisfy { $0["index"] == 0 })
            #expect(deltas.first?["id"] == "toolu_fake_1")
            #expect(deltas.dropFirst().allSatisfy { $0["id"] == nil && $0["function"]?["name"] == nil })
            #expect(deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"city": "Paris"}"#)
            #expect(out.text.isEmpty)
            #expect(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"] == [["id": "toolu_fake_1", "type": "function",
                                                                                    "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
            let sent = try #require(try w.requests().last?["json"])
            #expect(sent["tools"] == [["name": "get_weather", "description": "Current weather",
                                       "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]]])
        },
        toolResult: { w, router in
            // tool_use and tool_result blocks go back, the next user text is answered.
            let req = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"claude-sonnet-4-5","messages":[
              {"role":"user","content":"weather in Paris?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"toolu_fake_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"toolu_fake_1","content":"{\"temp_c\": 21}"},
              {"role":"user","content":"thanks, summarize"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
            """#))
            let r = try #require(completeOnThread(router, req)).get()
            #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks, summarize")
            let sent = try #require(try w.requests().first?["json"]?["messages"]?.arrayValue)
            #expect(sent.count == 3)
            #expect(sent[1] == ["role": "assistant", "content": [["type": "tool_use", "id": "toolu_fake_1", "name": "get_weather", "input": ["city": "Paris"]]]])
            #expect(sent[2] == ["role": "user", "content": [["type": "tool_result", "tool_use_id": "toolu_fake_1", "content": #"{"temp_c": 21}"#],
                                                            ["type": "text", "text": "thanks, summarize"]]])
        },
        rateLimitScript: #"[{"status":429,"retry_after":0.1,"message":"Number of request tokens has exceeded your per-minute rate limit"}]"#,
        rateLimitMessage: "HTTP 429: Number of request tokens has exceeded your per-minute rate limit (rate_limit_error)",
        // message_start, content_block_start, ping, 2 text deltas; message_start's input tokens
        // survive the cut, one completion token per delta.
        disconnectAfter: 5, disconnectText: "echo: one ", disconnectPartialUsage: (4, 2),
        errorEventAfter: 4, errorEventMessage: "overloaded_error: Overloaded", errorEventText: "echo: ", errorEventHTTPStatus: 529,
        malformed: .refused(at: 3, message: "Anthropic stream: malformed content_block_delta event"),
        modelsList: #"[{"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},{"id":"fake-small"}]"#,
        modelIds: ["an/claude-sonnet-4-5-20250929", "an/fake-small"],
        modelCapabilities: [["chat", "tools", "vision"], ["chat"]],
        modelsPath: "/v1/models?limit=1000",
        modelsExtra: { w, data in
            #expect(data.first?["details"]?["display_name"] == "Claude Sonnet 4.5")
            let entry = try w.requests().first
            #expect(entry?["headers"]?["anthropic-version"] == "2023-06-01")
        })

    /// Gemini (protocols/gemini.py, which refuses fields and parts the real API refuses).
    static let gemini = ProtocolCase(
        type: "gemini", name: "g", key: gemKey, model: "gemini-2.0-flash",
        authHeader: "x-goog-api-key", authValue: gemKey, chatPath: "/v1beta/models/gemini-2.0-flash:generateContent",
        weatherTools: #","tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}}]"#,
        plainRequest: #"""
            {"model":"gemini-2.0-flash","temperature":0.5,"max_tokens":50,"stop":"END",
             "messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there world"}]}
            """#,
        plainUsage: ["prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9],
        plainExtra: { w, _ in
            let entry = try #require(try w.requests().first)
            #expect(entry["headers"]?["authorization"] == nil)
            #expect(entry["json"]?["systemInstruction"] == ["parts": [["text": "be brief"]]])
            #expect(entry["json"]?["contents"] == [["role": "user", "parts": [["text": "hello there world"]]]])
            #expect(entry["json"]?["generationConfig"] == ["candidateCount": 1, "temperature": 0.5, "maxOutputTokens": 50, "stopSequences": ["END"]])
        },
        streamUsage: "usage 4/5/9", streamIdPrefix: "fake-gemini-", streamFlagInBody: false,
        streamPath: "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        toolPrompt: "what is the weather in Paris", toolPlainExtra: #","tool_choice":"required""#,
        toolStreamPrompt: "what is the weather in Paris",
        toolPlain: { _, choice in
            let call = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(call["type"] == "function")
            #expect(call["function"]?["arguments"] == #"{"city":"Paris"}"#)
            #expect(call["id"]?.stringValue?.hasPrefix("call_fake-gemini-") == true)
        },
        toolStreamed: { w, out, r in
            // One whole call: arguments as a JSON string, the id the final answer keeps.
            #expect(out.toolDeltas.count == 1)
            let delta = try #require(out.toolDeltas.first)
            let args = out.toolDeltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
            #expect(args == #"{"city":"Paris"}"#)
            let final = try #require(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(final["id"] == delta["id"])
            #expect(final["function"]?["arguments"] == .string(args))
            let log = try w.requests()
            #expect(log.count == 2)
            #expect(log[0]["json"]?["tools"] == [["functionDeclarations": [["name": "get_weather", "description": "Current weather",
                "parametersJsonSchema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"], "additionalProperties": false]]]]])
            #expect(log[0]["json"]?["toolConfig"] == ["functionCallingConfig": ["mode": "ANY"]])
        },
        toolResult: { w, router in
            // The tool result goes back as a functionResponse named after its call, and the model answers.
            let tools = w.p.weatherTools
            let first = try #require(completeOnThread(router, try w.p.chat("weather in Paris please", extra: tools))).get()
            let message = try #require(first["choices"]?.arrayValue?.first?["message"])
            let callId = try #require(message["tool_calls"]?.arrayValue?.first?["id"]?.stringValue)
            let followUp = try ChatRequest.parse(JSONParser.parse(#"""
                {"model":"gemini-2.0-flash","messages":[
                  {"role":"user","content":"weather in Paris please"},
                  \#(JSONWriter.string(message)),
                  {"role":"tool","tool_call_id":"\#(callId)","content":"{\"temp_c\":21}"}]\#(tools)}
                """#))
            let second = try #require(completeOnThread(router, followUp)).get()
            #expect(second["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: weather in Paris please")
            let sent = try #require(try w.requests().last?["json"]?["contents"]?.arrayValue)
            #expect(sent.map { $0["role"]?.stringValue } == ["user", "model", "user"])
            #expect(sent[1]["parts"] == [["functionCall": ["name": "get_weather", "args": ["city": "Paris"]]]])
            #expect(sent[2]["parts"] == [["functionResponse": ["name": "get_weather", "response": ["temp_c": 21]]]])
        },
        rateLimitScript: #"[{"status":429,"retry_after":0.05}]"#,
        rateLimitMessage: "HTTP 429: fake fault 429 (RESOURCE_EXHAUSTED)",
        disconnectAfter: 3, disconnectText: "echo: one two ",
        errorEventAfter: 2, errorEventMessage: "fake mid-stream error", errorEventText: "echo: alpha ",
        malformed: .failover(at: 0),
        modelsList: #"[{"id":"gemini-x"},{"id":"text-embedding-9"}]"#,
        modelIds: ["g/gemini-x", "g/text-embedding-9"],
        modelCapabilities: [["chat"], ["embeddings"]],
        modelsPath: "/v1beta/models?pageSize=1000",
        modelsExtra: { _, data in
            #expect(data.first?["context_length"] == 32768)
        })

    /// Cohere v2 (protocols/cohere.py); the base URL is the host root, no /v1.
    static let cohere = ProtocolCase(
        type: "cohere", name: "co", key: coKey, model: "command-a-03-2025",
        authHeader: "authorization", authValue: "Bearer \(coKey)", chatPath: "/v2/chat", weatherTools: commonWeatherTools,
        plainRequest: #"{"model":"command-a-03-2025","messages":[{"role":"user","content":"hello there world"}],"top_p":0.5,"stop":"END","max_tokens":50}"#,
        plainUsage: ["prompt_tokens": 67, "completion_tokens": 4, "total_tokens": 71],
        plainExtra: { w, _ in
            let entry = try #require(try w.requests().first)
            #expect(entry["json"]?["p"] == 0.5)
            #expect(entry["json"]?["stop_sequences"] == ["END"])
            #expect(entry["json"]?["max_tokens"] == 50)
            #expect(entry["json"]?["stream"] == false)
        },
        streamUsage: "usage 68/5/73", streamIdPrefix: "fake-",
        toolPlain: { _, choice in
            #expect(choice["message"]?["content"] == .null)
            #expect(choice["message"]?["tool_calls"] == [["id": "get_weather_fake1", "type": "function",
                                                          "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
        },
        toolStreamed: { w, out, r in
            let deltas = out.toolDeltas
            #expect(deltas.count == 4)  // start + 3 argument pieces
            #expect(deltas.allSatisfy { $0["index"] == 0 })
            #expect(deltas.first?["id"] == "get_weather_fake1")
            #expect(deltas.dropFirst().allSatisfy { $0["id"] == nil && $0["function"]?["name"] == nil })
            #expect(deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"city": "Paris"}"#)
            #expect(out.text.isEmpty)  // the tool plan is not content
            let message = r["choices"]?.arrayValue?.first?["message"]
            #expect(message?["tool_calls"] == [["id": "get_weather_fake1", "type": "function",
                                                "function": ["name": "get_weather", "arguments": #"{"city": "Paris"}"#]]])
            // The tools went out in Cohere's v2 function shape.
            let sent = try w.requests().last
            #expect(sent?["json"]?["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
        },
        toolResult: { w, router in
            // The assistant call and the tool's JSON result go back as Cohere messages.
            let req = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"command-a-03-2025","messages":[
              {"role":"user","content":"weather in Paris?"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"get_weather_fake1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"get_weather_fake1","content":"{\"temp_c\": 21}"},
              {"role":"user","content":"thanks, summarize"}]}
            """#))
            let r = try #require(completeOnThread(router, req)).get()
            #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks, summarize")
            let sent = try #require(try w.requests().first?["json"]?["messages"]?.arrayValue)
            #expect(sent[2] == ["role": "tool", "tool_call_id": "get_weather_fake1",
                                "content": [["type": "document", "document": ["data": ["temp_c": 21]]]]])
        },
        rateLimitScript: #"[{"status":429,"retry_after":0.1,"message":"You are using a Trial key, which is limited to 20 API calls / minute."}]"#,
        rateLimitMessage: "HTTP 429: You are using a Trial key, which is limited to 20 API calls / minute.",
        disconnectAfter: 4, disconnectText: "echo: one ",  // message-start, content-start, 2 content deltas
        errorEventAfter: 3, errorEventMessage: "fake mid-stream error", errorEventText: "echo: ",
        malformed: .refused(at: 1, message: "cohere: malformed stream event"),
        modelsList: #"[{"name":"command-a-03-2025","endpoints":["chat"],"context_length":256000,"features":["tools"]},{"name":"embed-v4.0","endpoints":["embed"],"context_length":128000}]"#,
        modelIds: ["co/command-a-03-2025", "co/embed-v4.0"],
        modelCapabilities: [["chat", "tools"], ["embeddings"]],
        modelsPath: "/v1/models?page_size=1000",
        modelsExtra: { _, data in
            #expect(data.map { $0["context_length"] } == [256000, 128000])
        })

    /// Ollama (protocols/ollama.py): NDJSON streams; the base URL is the server root, no /v1.
    static let ollama = ProtocolCase(
        type: "ollama", name: "ol", key: olKey, model: "llama3.2",
        authHeader: "authorization", authValue: "Bearer \(olKey)", chatPath: "/api/chat", weatherTools: commonWeatherTools,
        plainRequest: #"{"model":"llama3.2","messages":[{"role":"user","content":"hello there world"}],"temperature":0.3,"stop":"END","max_tokens":50,"num_ctx":4096}"#,
        // The fake takes 20 ms a token: 50 tokens/s from its eval_duration.
        plainUsage: ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7, "tokens_per_second": 50.0],
        plainExtra: { w, r in
            #expect(r["object"] == "chat.completion")
            let entry = try #require(try w.requests().first)
            #expect(entry["json"]?["stream"] == false)
            #expect(entry["json"]?["model"] == "llama3.2")
            #expect(entry["json"]?["options"] == ["temperature": 0.3, "num_ctx": 4096, "stop": ["END"], "num_predict": 50])
            #expect(entry["json"]?["max_tokens"] == nil)
        },
        streamPrompt: "the quick brown fox jumps", streamDeltas: 6, streamUsage: "usage 5/6/11",
        streamAccept: "application/x-ndjson",
        toolStreamPrompt: "weather in Paris please",
        toolPlain: { w, choice in
            // The arguments object becomes a JSON string.
            let calls = try #require(choice["message"]?["tool_calls"]?.arrayValue)
            #expect(calls.count == 1)
            #expect(calls[0]["id"] == "call_0" && calls[0]["type"] == "function")
            #expect(try JSONParser.parse(calls[0]["function"]?["arguments"]?.stringValue ?? "") == ["city": "Paris"])
            #expect(choice["message"]?["content"] == .null)
            let entry = try #require(try w.requests().first)
            #expect(entry["json"]?["tools"]?.arrayValue?.first?["function"]?["name"] == "get_weather")
        },
        toolStreamed: { _, out, r in
            // One delta with id and name, arguments that parse.
            let deltas = out.toolDeltas
            #expect(deltas.count == 1)
            #expect(deltas.first?["id"] == "call_0")
            let args = deltas.compactMap { $0["function"]?["arguments"]?.stringValue }.joined()
            #expect(try JSONParser.parse(args) == ["city": "Paris"])
            let call = try #require(r["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(call["id"] == "call_0" && call["function"]?["name"] == "get_weather")
        },
        toolResult: { w, router in
            // The next turn: the assistant's call and the tool result go back in Ollama's shape.
            let next = try ChatRequest.parse(JSONParser.parse(#"""
            {"model":"llama3.2","messages":[{"role":"user","content":"weather in Paris please"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
              {"role":"tool","tool_call_id":"call_0","content":"21 C and sunny"},
              {"role":"user","content":"thanks"}]\#(commonWeatherTools)}
            """#))
            let answer = try #require(completeOnThread(router, next)).get()
            #expect(answer["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: thanks")
            let sent = try #require(try w.requests().last?["json"]?["messages"]?.arrayValue)
            #expect(sent[1]["tool_calls"] == [["function": ["name": "get_weather", "arguments": ["city": "Paris"]]]])
            #expect(sent[2] == ["role": "tool", "content": "21 C and sunny", "tool_name": "get_weather"])
        },
        rateLimitScript: #"[{"status":429,"retry_after_ms":30}]"#,
        rateLimitMessage: "HTTP 429: fake fault 429",
        disconnectAfter: 3, disconnectText: "echo: one two ",
        errorEventAfter: 2, errorEventMessage: "fake mid-stream error", errorEventText: "echo: alpha ",
        malformed: .failover(at: 0))

    /// OpenAI chat completions (protocols/openai.py) through an openai-compatible provider at /v1.
    static let openai = ProtocolCase(
        type: "openai-compatible", name: "oa", key: oaKey, model: "fake-small",
        authHeader: "authorization", authValue: "Bearer \(oaKey)", chatPath: "/v1/chat/completions",
        weatherTools: commonWeatherTools, basePath: "/v1", needsModel: false,
        plainRequest: #"{"model":"fake-small","messages":[{"role":"user","content":"hello there world"}]}"#,
        plainUsage: ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7],
        plainExtra: { w, r in
            #expect(r["object"] == "chat.completion")
            #expect(r["usage"] == ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7])  // no cost key at all
            #expect(r["attempts"]?.arrayValue?.count == 1)
            #expect(r["attempts"]?.arrayValue?.first?["outcome"] == "ok")
            #expect((r["latency_ms"]?.doubleValue ?? -1) > 0)
            let entry = try #require(try w.requests().first)
            #expect(entry["json"]?["stream"] == false)
            #expect(entry["json"]?["stream_options"] == nil)
        },
        streamPrompt: "the quick brown fox jumps", streamDeltas: 6, streamUsage: "usage 5/6/11", streamIdPrefix: "chatcmpl-fake-",
        streamExtra: { _, r in
            #expect(r["usage"]?["total_tokens"] == 11)
            #expect((r["ttft_ms"]?.doubleValue ?? -1) > 0)
            #expect((r["ttft_ms"]?.doubleValue ?? 0) <= (r["latency_ms"]?.doubleValue ?? 0))
        },
        rateLimitScript: #"[{"status":429,"retry_after":0.05}]"#,
        rateLimitMessage: "HTTP 429: fake fault 429",
        disconnectAfter: 3, disconnectText: "echo: one ",  // role chunk + 2 content chunks
        errorEventAfter: 3, errorEventMessage: "fake mid-stream error", errorEventText: "echo: alpha ",
        malformed: .failover(at: 1),
        malformedExtra: { w, out, r in
            // The failover starts b's transfer from inside a's curl write callback: the loop defers
            // the add until curl returns, so b's first attempt is sent (no spurious CONNECTION
            // "API function called from within callback" attempt, no retry).
            #expect(!out.lines.contains { $0.hasPrefix("retry") }, "\(out.lines)")
            #expect(r["attempts"]?.arrayValue?.count == 2)
            let secondLog = try w.server.requests("\(w.scope)-\(w.p.name)2")
            #expect(secondLog.count == 1)
        })

    /// An OpenAI-compatible preset pointed at the fake upstream: chat over /v1 with its Bearer key,
    /// the model as given in every body. Only `plain` and `streamed` run it (see `presets`); the
    /// fault fields repeat the openai row's so the row is complete.
    static func openAIPreset(_ type: String) -> ProtocolCase {
        var row = ProtocolCase(
            type: type, name: "p", key: vaKey, model: "some-model",
            authHeader: "authorization", authValue: "Bearer \(vaKey)", chatPath: "/v1/chat/completions",
            weatherTools: commonWeatherTools, basePath: "/v1",
            plainRequest: #"{"model":"some-model","messages":[{"role":"user","content":"hello there world"}]}"#,
            plainUsage: ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7],
            plainExtra: { w, _ in
                let log = try w.requests()
                #expect(log.allSatisfy { $0["json"]?["model"] == "some-model" })
            },
            streamUsage: "usage 4/5/9", streamIdPrefix: "chatcmpl-fake-", streamPath: "/v1/chat/completions",
            streamExtra: { w, _ in
                let log = try w.requests()
                #expect(log.count == 1)
                #expect(log.allSatisfy { $0["json"]?["model"] == "some-model" })
            },
            rateLimitScript: ProtocolCase.openai.rateLimitScript, rateLimitMessage: ProtocolCase.openai.rateLimitMessage,
            disconnectAfter: 3, disconnectText: "echo: one ",
            errorEventAfter: 3, errorEventMessage: "fake mid-stream error", errorEventText: "echo: alpha ",
            malformed: .failover(at: 1))
        row.label = "preset \(type)"
        return row
    }

    /// OpenRouter: OpenAI's wire plus its attribution headers from the options, and error events
    /// under HTTP 200 (protocols/openai.py's faults).
    static let openrouter = ProtocolCase(
        type: "openrouter", name: "or", key: orKey, model: "meta-llama/llama-3.1-8b-instruct",
        authHeader: "authorization", authValue: "Bearer \(orKey)", chatPath: "/v1/chat/completions",
        weatherTools: commonWeatherTools, basePath: "/v1", needsModel: false,
        providerExtra: #","http_referer":"https://example.test/app","x_title":"ProviderMux Tests""#,
        plainRequest: #"{"model":"meta-llama/llama-3.1-8b-instruct","messages":[{"role":"user","content":"hello there world"}]}"#,
        plainUsage: ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7],
        plainExtra: { w, _ in try openrouterHeaders(w) },
        streamUsage: "usage 4/5/9", streamIdPrefix: "chatcmpl-fake-", streamPath: "/v1/chat/completions",
        streamExtra: { w, _ in try openrouterHeaders(w) },
        rateLimitScript: ProtocolCase.openai.rateLimitScript, rateLimitMessage: ProtocolCase.openai.rateLimitMessage,
        disconnectAfter: 3, disconnectText: "echo: one ",
        errorEventAfter: 2, errorEventMessage: "fake mid-stream error", errorEventText: "echo: ",
        errorEventExtra: { w, out, e in
            #expect(e.provider == "or")
            #expect(out.lines.last == "error PMX_ERR_STREAM_INTERRUPTED")
            let log = try w.requests()
            #expect(log.count == 1)
        },
        malformed: .failover(at: 1))

    /// Every request openrouter's row sent: HTTP-Referer and X-Title from the options, the Bearer key, the model.
    private static func openrouterHeaders(_ w: ProtocolWire) throws {
        let log = try w.requests()
        #expect(log.count == 1)
        for entry in log {
            #expect(entry["headers"]?["http-referer"] == "https://example.test/app")
            #expect(entry["headers"]?["x-title"] == "ProviderMux Tests")
            #expect(entry["headers"]?["authorization"] == .string("Bearer \(orKey)"))
            #expect(entry["json"]?["model"] == "meta-llama/llama-3.1-8b-instruct")
        }
    }
}
