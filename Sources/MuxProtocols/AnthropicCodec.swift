// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// The Anthropic Messages wire protocol (`POST {base}/v1/messages`), spoken by the `anthropic`
/// provider type. The caller's OpenAI-shaped request is rewritten into Anthropic's shape (the
/// system prompt is a top-level field, `max_tokens` is required, tool calls and tool results are
/// content blocks), and Anthropic's answers are turned back into OpenAI's `chat.completion`.
///
/// Not carried over, by choice: `seed`, `n`, `frequency_penalty`, `presence_penalty`,
/// `logprobs` (Anthropic has no equivalent) and `response_format` (Anthropic has no JSON mode;
/// rewriting the prompt would change what the caller asked for). Anthropic rejects unknown
/// fields, so only the fields below are sent.
public struct AnthropicCodec: WireCodec {
    public init() {}

    package static let defaultVersion = "2023-06-01"
    static let defaultMaxTokens = 4096

    // MARK: Chat request

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try ModelGuard.require(model, provider: provider, protocolName: "the Anthropic protocol")
        let body = try AnthropicRequestTranslation(request: request.body, provider: provider).body(model: model, stream: stream)
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/v1/messages"),
                                headers: Self.headers(provider, accept: AuthHeaders.accept(streaming: stream)),
                                body: JSONWriter.bytes(.object(body)))
    }

    /// Anthropic's key header, the API version every call must name, then the user's extra headers.
    package static func headers(_ provider: ProviderConfig, accept: String) -> [(String, String)] {
        AuthHeaders.build(provider, accept: accept, key: .header("x-api-key"),
                          extra: [("anthropic-version", CodecSupport.option(provider, "anthropic_version") ?? defaultVersion)])
    }

    // MARK: Chat response

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "Anthropic response body")
        guard let message = json.objectValue else {
            throw CodecSupport.protocolError(provider, "Anthropic response: expected an object, got \(json.typeName)")
        }
        if message["type"]?.stringValue == "error" || message["error"].map({ !$0.isNull }) == true {
            throw Self.errorObject(message["error"], context: "error in response body", provider: provider)
        }
        guard let content = message["content"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "Anthropic response: content is missing or not an array")
        }
        var events: [ProviderEvent] = [.meta(id: message["id"]?.stringValue, model: message["model"]?.stringValue)]
        var text: String? = nil
        var calls: [JSONValue] = []
        for (i, block) in content.enumerated() {
            guard let type = block["type"]?.stringValue else {
                throw CodecSupport.protocolError(provider, "Anthropic response: content[\(i)].type is missing")
            }
            switch type {
            case "text":
                guard let t = block["text"]?.stringValue else {
                    throw CodecSupport.protocolError(provider, "Anthropic response: content[\(i)].text is not a string")
                }
                text = (text ?? "") + t
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw CodecSupport.protocolError(provider, "Anthropic response: content[\(i)] (tool_use) needs a string id and name")
                }
                let input = block["input"] ?? .object(JSONObject())
                guard input.objectValue != nil else {
                    throw CodecSupport.protocolError(provider, "Anthropic response: content[\(i)].input is not an object")
                }
                calls.append(ToolCalls.delta(index: calls.count, id: id, name: name, arguments: JSONWriter.string(input)))
            default:
                break  // thinking, redacted_thinking, server tool blocks: nothing OpenAI can show
            }
        }
        if text != nil || !calls.isEmpty { events.append(.delta(content: text, toolCalls: calls.isEmpty ? nil : calls)) }
        if let reason = message["stop_reason"], !reason.isNull {
            guard let r = reason.stringValue else {
                throw CodecSupport.protocolError(provider, "Anthropic response: stop_reason is not a string")
            }
            events.append(.finish(reason: Self.finishReason(r)))
        }
        if let usage = message["usage"], !usage.isNull {
            let input = try Self.inputTokens(usage, provider: provider)
            let output = try Self.count(usage["output_tokens"], "usage.output_tokens", provider: provider) ?? 0
            events.append(.usage(Usage(promptTokens: input?.prompt ?? 0, completionTokens: output, cachedTokens: input?.cached)))
        }
        return CodecSupport.completion(from: events, model: model)
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        AnthropicStreamDecoder(provider: provider)
    }

    // MARK: Models

    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        // The list is paged (20 by default); one page of the maximum size holds every model.
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/v1/models?limit=1000"),
                         headers: Self.headers(provider, accept: "application/json"))
    }

    /// A liveness probe that asks for one model only.
    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/v1/models?limit=1"),
                         headers: Self.headers(provider, accept: "application/json"))
    }

    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "Anthropic /v1/models response")
        guard let data = json["data"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "Anthropic /v1/models response: data is missing or not an array")
        }
        return try data.enumerated().map { i, m in
            guard let id = m["id"]?.stringValue else {
                throw CodecSupport.protocolError(provider, "Anthropic /v1/models response: data[\(i)].id is not a string")
            }
            var details = JSONObject()
            for key in ["display_name", "created_at"] { if let v = m[key], !v.isNull { details[key] = v } }
            // Every Claude model the Messages API lists takes tools and images; servers that
            // merely speak the protocol (llama-server, proxies) are only known to chat.
            let claude = id.hasPrefix("claude-")
            return ModelInfo(id: id, contextLength: m["max_input_tokens"]?.intValue.map { Int($0) },
                             capabilities: claude ? ["chat", "tools", "vision"] : ["chat"], details: details)
        }
    }

    // MARK: Errors

    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        guard let json = try? JSONParser.parse(body), let err = json["error"], let message = err["message"]?.stringValue else {
            return HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
        }
        var detail = message
        if let type = err["type"]?.stringValue { detail += " (\(type))" }
        let kind = Self.classify(HTTPErrorMapping.status(forHTTP: status), type: err["type"]?.stringValue, message: message)
        return PMXError(kind, "HTTP \(status): \(ErrorText.shorten(detail))", httpStatus: status, provider: provider.name)
    }

    /// The class the HTTP status gives, narrowed by what Anthropic's error says: a prompt over
    /// the context window, an account out of credit (a 400 `invalid_request_error` whose
    /// message says so, or a `billing_error`).
    package static func classify(_ base: Status, type: String?, message: String) -> Status {
        if type == "billing_error" || message.lowercased().contains("credit balance") { return .quotaExceeded }
        return HTTPErrorMapping.refine(base, kind: type ?? "", message: message)
    }

    /// An error object sent under HTTP 200 (in a body or a stream `error` event), classified by
    /// its `type` with the HTTP status Anthropic gives that type.
    package static func errorObject(_ err: JSONValue?, context: String, provider: ProviderConfig) -> PMXError {
        let type = err?["type"]?.stringValue
        let message = err.map(ProviderErrorBody.message) ?? "unknown error"
        let http: Int? = switch type {
        case "invalid_request_error": 400
        case "authentication_error": 401
        case "billing_error": 402
        case "permission_error": 403
        case "not_found_error": 404
        case "request_too_large": 413
        case "rate_limit_error": 429
        case "api_error": 500
        case "timeout_error": 504
        case "overloaded_error": 529
        default: nil
        }
        // An unknown type is still the provider failing mid-answer: worth another try.
        let status = classify(http.map(HTTPErrorMapping.status(forHTTP:)) ?? .upstreamServer, type: type, message: message)
        let detail = type.map { "\($0): \(message)" } ?? message
        return PMXError(status, "\(context): \(ErrorText.shorten(detail))", httpStatus: http ?? 0, provider: provider.name)
    }

    // MARK: Shared decoding helpers

    /// OpenAI's name for Anthropic's `stop_reason`.
    package static func finishReason(_ reason: String) -> String {
        switch reason {
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"  // end_turn, stop_sequence, pause_turn
        }
    }

    /// A token count: absent or null is nil; a number is clamped into 0...Usage.maxTokens
    /// (negative → 0); anything else breaks the protocol.
    package static func count(_ v: JSONValue?, _ what: String, provider: ProviderConfig) throws -> Int? {
        try TokenCounts.count(v, orThrow: CodecSupport.protocolError(provider, "Anthropic \(what) is not a token count (got \(v!.typeName))"))
    }

    /// The input side of an Anthropic `usage` object, or nil when it has no `input_tokens`.
    /// `prompt` counts every input token, as OpenAI's `prompt_tokens` does: Anthropic's
    /// `input_tokens` leaves out the tokens read from or written to the prompt cache.
    package static func inputTokens(_ usage: JSONValue, provider: ProviderConfig) throws -> (prompt: Int, cached: Int?)? {
        guard let input = try count(usage["input_tokens"], "usage.input_tokens", provider: provider) else { return nil }
        let created = try count(usage["cache_creation_input_tokens"], "usage.cache_creation_input_tokens", provider: provider) ?? 0
        let read = try count(usage["cache_read_input_tokens"], "usage.cache_read_input_tokens", provider: provider)
        return (input + created + (read ?? 0), read)
    }
}

/// Rewrites one OpenAI Chat Completions body into an Anthropic Messages body. Errors name the
/// field of the caller's request (`messages[2].tool_calls[0].function.arguments`).
package struct AnthropicRequestTranslation {
    package let request: JSONObject
    package let provider: ProviderConfig

    package func body(model: String, stream: Bool) throws -> JSONObject {
        let conversation = try translateMessages()
        var out = JSONObject()
        out["model"] = .string(model)
        if !conversation.system.isEmpty { out["system"] = .string(conversation.system.joined(separator: "\n\n")) }
        out["messages"] = .array(conversation.messages)
        out["max_tokens"] = .int(Int64(maxTokens))
        if let stop = try SamplingFields.stopSequences(request, provider: provider.name) { out["stop_sequences"] = .array(stop) }
        SamplingFields.copy(["temperature", "top_p", "top_k"], from: request, into: &out)
        try addTools(into: &out, conversationHasToolBlocks: conversation.hasToolBlocks)
        if let user = request["user"]?.stringValue, !user.isEmpty { out["metadata"] = ["user_id": .string(user)] }
        out["stream"] = .bool(stream)
        return out
    }

    private func fail(_ path: String, _ reason: String, _ status: Status = .invalidRequest) -> PMXError {
        PMXError(status, "\(path): \(reason)", provider: provider.name)
    }

    /// Anthropic requires `max_tokens`: the request's, else the provider's `default_max_tokens`.
    private var maxTokens: Int {
        if let n = SamplingFields.maxTokens(request)?.intValue, n > 0 { return Int(n) }
        if let n = provider.options["default_max_tokens"]?.intValue, n > 0 { return Int(n) }
        return AnthropicCodec.defaultMaxTokens
    }

    // MARK: Messages

    private struct Turn {
        var role: String
        var blocks: [JSONValue]
    }

    /// The conversation: system text hoisted out, tool results as user turns, consecutive turns
    /// of one role merged (Anthropic alternates user and assistant).
    private func translateMessages() throws -> (system: [String], messages: [JSONValue], hasToolBlocks: Bool) {
        var system: [String] = []
        var turns: [Turn] = []
        var hasToolBlocks = false
        for (i, m) in (request["messages"]?.arrayValue ?? []).enumerated() {
            let path = "messages[\(i)]"
            let role = m["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system += try systemText(m["content"], path: "\(path).content")
            case "user":
                append(&turns, "user", try userBlocks(m["content"], path: "\(path).content"))
            case "assistant":
                let blocks = try assistantBlocks(m, path: path)
                if blocks.contains(where: { $0["type"] == "tool_use" }) { hasToolBlocks = true }
                append(&turns, "assistant", blocks)
            case "tool":
                hasToolBlocks = true
                append(&turns, "user", [try toolResult(m, path: path)])
            default:
                throw fail("\(path).role", "\"\(role)\" is not supported by the Anthropic protocol (system, developer, user, assistant, tool)",
                           role == "function" ? .unsupported : .invalidRequest)
            }
        }
        let messages: [JSONValue] = turns.map { t in
            // A lone text block reads best as plain string content, as Anthropic's own examples write it.
            if t.blocks.count == 1, t.blocks[0]["type"] == "text", let text = t.blocks[0]["text"] {
                return ["role": .string(t.role), "content": text]
            }
            return ["role": .string(t.role), "content": .array(t.blocks)]
        }
        return (system, messages, hasToolBlocks)
    }

    /// Adds blocks to the conversation, merging into the previous turn of the same role. Tool
    /// results come first in their user turn, as Anthropic wants, because OpenAI puts tool
    /// messages right after the assistant's calls.
    private func append(_ turns: inout [Turn], _ role: String, _ blocks: [JSONValue]) {
        guard !blocks.isEmpty else { return }
        if let last = turns.last, last.role == role {
            turns[turns.count - 1].blocks += blocks
        } else {
            turns.append(Turn(role: role, blocks: blocks))
        }
    }

    private func systemText(_ content: JSONValue?, path: String) throws -> [String] {
        switch content {
        case nil, .null: return []
        case .string(let s): return s.isEmpty ? [] : [s]
        case .array(let parts):
            return try parts.enumerated().compactMap { j, p in
                guard p["type"] == "text" || p.stringValue != nil else {
                    throw fail("\(path)[\(j)]", "a system message may only hold text parts")
                }
                let s = p["text"]?.stringValue ?? p.stringValue ?? ""
                return s.isEmpty ? nil : s
            }
        case let c?: throw fail(path, "expected a string or an array of parts, got \(c.typeName)")
        }
    }

    private func userBlocks(_ content: JSONValue?, path: String) throws -> [JSONValue] {
        switch content {
        case nil, .null: return []
        case .string(let s): return [["type": "text", "text": .string(s)]]
        case .array(let parts): return try parts.enumerated().map { j, p in try part(p, path: "\(path)[\(j)]") }
        case let c?: throw fail(path, "expected a string or an array of parts, got \(c.typeName)")
        }
    }

    /// One OpenAI content part as an Anthropic content block.
    private func part(_ p: JSONValue, path: String) throws -> JSONValue {
        if let s = p.stringValue { return ["type": "text", "text": .string(s)] }
        switch p["type"]?.stringValue {
        case "text":
            guard let t = p["text"]?.stringValue else { throw fail("\(path).text", "expected a string") }
            return ["type": "text", "text": .string(t)]
        case "image_url":
            return try image(p["image_url"], path: "\(path).image_url")
        case let other:
            throw fail("\(path).type", "content part \"\(other ?? "(none)")\" is not supported by the Anthropic protocol (text, image_url)",
                       .unsupported)
        }
    }

    /// `data:` URLs become base64 sources, http(s) URLs URL sources (Anthropic fetches them).
    private func image(_ v: JSONValue?, path: String) throws -> JSONValue {
        guard let url = v?.stringValue ?? v?["url"]?.stringValue else { throw fail("\(path).url", "expected a string") }
        if url.hasPrefix("http://") || url.hasPrefix("https://") {
            return ["type": "image", "source": ["type": "url", "url": .string(url)]]
        }
        guard DataURL.isDataURL(url) else { throw fail("\(path).url", "expected a data: or http(s): URL") }
        let d = try DataURL.requireBase64(url, path: "\(path).url", protocolName: "the Anthropic protocol", provider: provider.name)
        return ["type": "image", "source": ["type": "base64", "media_type": .string(d.mediaType), "data": .string(d.payload)]]
    }

    private func assistantBlocks(_ m: JSONValue, path: String) throws -> [JSONValue] {
        var blocks: [JSONValue] = []
        switch m["content"] {
        case nil, .null: break
        case .string(let s): if !s.isEmpty { blocks.append(["type": "text", "text": .string(s)]) }
        case .array(let parts):
            for (j, p) in parts.enumerated() {
                // An assistant's refusal part is text it said; Anthropic rejects empty text blocks.
                let t = p.stringValue ?? p["text"]?.stringValue ?? p["refusal"]?.stringValue
                guard let t else { throw fail("\(path).content[\(j)]", "an assistant message may only hold text parts") }
                if !t.isEmpty { blocks.append(["type": "text", "text": .string(t)]) }
            }
        case let c?: throw fail("\(path).content", "expected a string or an array of parts, got \(c.typeName)")
        }
        guard let calls = m["tool_calls"], !calls.isNull else { return blocks }
        guard let list = calls.arrayValue else { throw fail("\(path).tool_calls", "expected an array, got \(calls.typeName)") }
        for (j, call) in list.enumerated() {
            let cp = "\(path).tool_calls[\(j)]"
            if let type = call["type"]?.stringValue, type != "function" {
                throw fail("\(cp).type", "tool call type \"\(type)\" is not supported by the Anthropic protocol", .unsupported)
            }
            guard let id = call["id"]?.stringValue else { throw fail("\(cp).id", "expected a string") }
            guard let name = call["function"]?["name"]?.stringValue else { throw fail("\(cp).function.name", "expected a string") }
            blocks.append(["type": "tool_use", "id": .string(id), "name": .string(name),
                           "input": .object(try ToolCalls.argumentsObject(call["function"]?["arguments"], path: "\(cp).function.arguments",
                                                                          provider: provider.name))])
        }
        return blocks
    }

    private func toolResult(_ m: JSONValue, path: String) throws -> JSONValue {
        guard let id = m["tool_call_id"]?.stringValue else { throw fail("\(path).tool_call_id", "is required for a tool message") }
        var block = JSONObject()
        block["type"] = "tool_result"
        block["tool_use_id"] = .string(id)
        switch m["content"] {
        case nil, .null: break
        case .string(let s): block["content"] = .string(s)
        case .array(let parts):
            block["content"] = .array(try parts.enumerated().map { j, p in try part(p, path: "\(path).content[\(j)]") })
        case let c?: throw fail("\(path).content", "expected a string or an array of parts, got \(c.typeName)")
        }
        return .object(block)
    }

    // MARK: Tools

    private func addTools(into out: inout JSONObject, conversationHasToolBlocks: Bool) throws {
        guard let toolsValue = request["tools"], !toolsValue.isNull else { return }
        guard let tools = toolsValue.arrayValue else { throw fail("tools", "expected an array, got \(toolsValue.typeName)") }
        guard !tools.isEmpty else { return }
        let translated: [JSONValue] = try tools.enumerated().map { i, t in
            let path = "tools[\(i)]"
            if let type = t["type"]?.stringValue, type != "function" {
                throw fail("\(path).type", "tool type \"\(type)\" is not supported by the Anthropic protocol (function)", .unsupported)
            }
            guard let f = t["function"]?.objectValue else { throw fail("\(path).function", "expected an object") }
            guard let name = f["name"]?.stringValue else { throw fail("\(path).function.name", "expected a string") }
            var tool = JSONObject()
            tool["name"] = .string(name)
            if let d = f["description"]?.stringValue { tool["description"] = .string(d) }
            // input_schema is required; a function without parameters takes an empty object.
            if let schema = f["parameters"], schema.objectValue != nil {
                tool["input_schema"] = schema
            } else {
                tool["input_schema"] = ["type": "object", "properties": .object(JSONObject())]
            }
            return .object(tool)
        }

        var choice: JSONObject?
        switch request["tool_choice"] {
        case nil, .null, .string("auto"): choice = nil
        case .string("required"): choice = Self.choice("any")
        case .string("none"):
            // Without tools Anthropic cannot call one; but a conversation that already holds
            // tool_use/tool_result blocks must still define them, so then say "none" instead.
            guard conversationHasToolBlocks else { return }
            out["tools"] = .array(translated)
            out["tool_choice"] = .object(Self.choice("none"))
            return
        case let c? where c["type"] == "function":
            guard let name = c["function"]?["name"]?.stringValue else { throw fail("tool_choice.function.name", "expected a string") }
            var named = Self.choice("tool")
            named["name"] = .string(name)
            choice = named
        case let c?:
            throw fail("tool_choice", "expected \"auto\", \"required\", \"none\" or {\"type\":\"function\",\"function\":{\"name\":…}}, got \(JSONWriter.string(c))")
        }
        if request["parallel_tool_calls"]?.boolValue == false {
            var c = choice ?? Self.choice("auto")
            c["disable_parallel_tool_use"] = true
            choice = c
        }
        out["tools"] = .array(translated)
        if let choice { out["tool_choice"] = .object(choice) }
    }

    private static func choice(_ type: String) -> JSONObject {
        var o = JSONObject()
        o["type"] = .string(type)
        return o
    }
}
