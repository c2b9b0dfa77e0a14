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
        try ChoiceCount.requireOne(request, protocolName: "the Anthropic protocol", provider: provider)
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
            case "thinking":
                guard let t = block["thinking"]?.stringValue else {
                    throw CodecSupport.protocolError(provider, "Anthropic response: content[\(i)].thinking is not a string")
                }
                if !t.isEmpty { events.append(.reasoning(t)) }
                events.append(.thinkingBlock(block))
            case "redacted_thinking":
                events.append(.thinkingBlock(block))  // encrypted: no text to show, kept to send back
            default:
                break  // server tool blocks and others: nothing OpenAI can show
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
            events.append(.usage(Usage(promptTokens: input?.prompt ?? 0, completionTokens: output, cachedTokens: input?.cached,
                                       cacheWriteTokens: input?.written)))
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
    /// `written` is `cache_creation_input_tokens` (priced at the cache write rate), nil when
    /// nothing was written: a zero write costs nothing and is not reported.
    package static func inputTokens(_ usage: JSONValue, provider: ProviderConfig) throws -> (prompt: Int, cached: Int?, written: Int?)? {
        guard let input = try count(usage["input_tokens"], "usage.input_tokens", provider: provider) else { return nil }
        let created = try count(usage["cache_creation_input_tokens"], "usage.cache_creation_input_tokens", provider: provider) ?? 0
        let read = try count(usage["cache_read_input_tokens"], "usage.cache_read_input_tokens", provider: provider)
        return (input + created + (read ?? 0), read, created > 0 ? created : nil)
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
        if let system = Self.system(conversation.system) { out["system"] = system }
        out["messages"] = .array(conversation.messages)
        var maxTokens = self.maxTokens
        let thinking = try thinking(maxTokens: &maxTokens)
        out["max_tokens"] = .int(Int64(maxTokens))
        if let stop = try SamplingFields.stopSequences(request, provider: provider.name) { out["stop_sequences"] = .array(stop) }
        if thinking == nil {
            SamplingFields.copy(["temperature", "top_p", "top_k"], from: request, into: &out)
        } else if let topP = request["top_p"]?.doubleValue, topP >= 0.95 {
            // With thinking Anthropic refuses a changed temperature or top_k and a top_p below
            // 0.95: those are left out rather than failing the request.
            out["top_p"] = request["top_p"]
        }
        try addTools(into: &out, conversationHasToolBlocks: conversation.hasToolBlocks)
        if let user = request["user"]?.stringValue, !user.isEmpty { out["metadata"] = ["user_id": .string(user)] }
        if let thinking { out["thinking"] = thinking }
        out["stream"] = .bool(stream)
        return out
    }

    /// The system prompt: one string, as before, unless a part carries `cache_control`; then
    /// Anthropic's array of text blocks, each with its marker, so the cache breakpoint holds.
    private static func system(_ blocks: [JSONObject]) -> JSONValue? {
        if blocks.isEmpty { return nil }
        if !blocks.contains(where: { $0["cache_control"] != nil }) {
            return .string(blocks.map { $0["text"]?.stringValue ?? "" }.joined(separator: "\n\n"))
        }
        return .array(blocks.map { .object($0) })
    }

    /// Anthropic `thinking`: the caller's own `thinking` object as given (it wins), else one
    /// built from `reasoning_effort` (ReasoningEffort.budget). The budget must be at least
    /// 1,024 and below `max_tokens`: without a `max_tokens` from the caller, `max_tokens`
    /// grows to budget + the default 4,096; with one, the budget shrinks to `max_tokens` - 1,
    /// and a `max_tokens` of 1,024 or less cannot think (an invalid request naming both).
    private func thinking(maxTokens: inout Int) throws -> JSONValue? {
        if let t = request["thinking"], !t.isNull {
            guard t.objectValue != nil else {
                throw fail("thinking", "expected an object such as {\"type\":\"enabled\",\"budget_tokens\":2048}, got \(t.typeName)")
            }
            return t
        }
        guard let effort = try ReasoningEffort.effort(request, provider: provider.name), var budget = ReasoningEffort.budget(effort) else {
            return nil
        }
        if maxTokens <= budget {
            if let n = SamplingFields.maxTokens(request)?.intValue, n > 0 {
                guard maxTokens > ReasoningEffort.anthropicMinimumBudget else {
                    throw fail("reasoning_effort", "Anthropic thinking needs max_tokens above \(ReasoningEffort.anthropicMinimumBudget), got \(maxTokens)")
                }
                budget = maxTokens - 1
            } else {
                maxTokens = budget + AnthropicCodec.defaultMaxTokens
            }
        }
        return ["type": "enabled", "budget_tokens": .int(Int64(budget))]
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
    private func translateMessages() throws -> (system: [JSONObject], messages: [JSONValue], hasToolBlocks: Bool) {
        var system: [JSONObject] = []
        var turns: [Turn] = []
        var hasToolBlocks = false
        for (i, m) in (request["messages"]?.arrayValue ?? []).enumerated() {
            let path = "messages[\(i)]"
            let role = m["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                var blocks = try systemText(m["content"], path: "\(path).content")
                Self.markLast(&blocks, m)
                system += blocks
            case "user":
                append(&turns, "user", Self.markedLast(try userBlocks(m["content"], path: "\(path).content"), m))
            case "assistant":
                let blocks = try assistantBlocks(m, path: path)
                if blocks.contains(where: { $0["type"] == "tool_use" }) { hasToolBlocks = true }
                append(&turns, "assistant", Self.markedLast(blocks, m))
            case "tool":
                hasToolBlocks = true
                append(&turns, "user", Self.markedLast([try toolResult(m, path: path)], m))
            default:
                throw fail("\(path).role", "\"\(role)\" is not supported by the Anthropic protocol (system, developer, user, assistant, tool)",
                           role == "function" ? .unsupported : .invalidRequest)
            }
        }
        let messages: [JSONValue] = turns.map { t in
            // A lone text block reads best as plain string content, as Anthropic's own examples write it.
            if t.blocks.count == 1, t.blocks[0]["type"] == "text", t.blocks[0]["cache_control"] == nil, let text = t.blocks[0]["text"] {
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

    // MARK: Prompt caching

    /// A message-level `cache_control` (LiteLLM's form, for string content) marks the last
    /// block of that message: the breakpoint sits where the message ends.
    private static func markedLast(_ blocks: [JSONValue], _ m: JSONValue) -> [JSONValue] {
        guard let marker = m["cache_control"], !marker.isNull, case .object(var last)? = blocks.last else { return blocks }
        var out = blocks
        last["cache_control"] = marker
        out[out.count - 1] = .object(last)
        return out
    }

    private static func markLast(_ blocks: inout [JSONObject], _ m: JSONValue) {
        guard let marker = m["cache_control"], !marker.isNull, !blocks.isEmpty else { return }
        blocks[blocks.count - 1]["cache_control"] = marker
    }

    /// `block` with the part's `cache_control` carried over unchanged (Anthropic reads the
    /// marker where the caller put it: on a content part, a system part, a tool).
    private static func cached(_ block: JSONValue, from p: JSONValue) -> JSONValue {
        guard let marker = p["cache_control"], !marker.isNull, case .object(var o) = block else { return block }
        o["cache_control"] = marker
        return .object(o)
    }

    private func systemText(_ content: JSONValue?, path: String) throws -> [JSONObject] {
        func text(_ s: String) -> JSONObject {
            var o = JSONObject()
            o["type"] = "text"
            o["text"] = .string(s)
            return o
        }
        switch content {
        case nil, .null: return []
        case .string(let s): return s.isEmpty ? [] : [text(s)]
        case .array(let parts):
            return try parts.enumerated().compactMap { j, p in
                guard p["type"] == "text" || p.stringValue != nil else {
                    throw fail("\(path)[\(j)]", "a system message may only hold text parts")
                }
                let s = p["text"]?.stringValue ?? p.stringValue ?? ""
                if s.isEmpty { return nil }
                var block = text(s)
                if let marker = p["cache_control"], !marker.isNull { block["cache_control"] = marker }
                return block
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
            return Self.cached(["type": "text", "text": .string(t)], from: p)
        case "image_url":
            return Self.cached(try image(p["image_url"], path: "\(path).image_url"), from: p)
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
        var blocks = try thinkingBlocks(m, path: path)
        switch m["content"] {
        case nil, .null: break
        case .string(let s): if !s.isEmpty { blocks.append(["type": "text", "text": .string(s)]) }
        case .array(let parts):
            for (j, p) in parts.enumerated() {
                // An assistant's refusal part is text it said; Anthropic rejects empty text blocks.
                let t = p.stringValue ?? p["text"]?.stringValue ?? p["refusal"]?.stringValue
                guard let t else { throw fail("\(path).content[\(j)]", "an assistant message may only hold text parts") }
                if !t.isEmpty { blocks.append(Self.cached(["type": "text", "text": .string(t)], from: p)) }
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

    /// The thinking blocks an earlier answer carried (`thinking_blocks` on the assistant
    /// message, as this router's answers give them), sent back first and unmodified: Anthropic
    /// checks their signatures, and wants them before the turn's tool calls. A
    /// `reasoning_content` without its blocks has no signature and is not sent.
    private func thinkingBlocks(_ m: JSONValue, path: String) throws -> [JSONValue] {
        guard let value = m["thinking_blocks"], !value.isNull else { return [] }
        guard let list = value.arrayValue else { throw fail("\(path).thinking_blocks", "expected an array, got \(value.typeName)") }
        return try list.enumerated().map { j, b in
            let type = b["type"]?.stringValue
            guard b.objectValue != nil, type == "thinking" || type == "redacted_thinking" else {
                throw fail("\(path).thinking_blocks[\(j)]", "expected a {\"type\":\"thinking\"} or {\"type\":\"redacted_thinking\"} block")
            }
            return b
        }
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
            return Self.cached(.object(tool), from: t)
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
