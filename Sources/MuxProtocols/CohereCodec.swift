// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Cohere's v2 API (`POST {base}/v2/chat`, `/v2/embed`, `GET /v1/models`), bearer key.
///
/// Cohere v2 is close to OpenAI's shape but not equal to it, and the differences are the ones
/// a router gets wrong: `p` not `top_p`, `stop_sequences` not `stop`, `tool_choice` only as
/// `REQUIRED`/`NONE`, a JSON schema directly under `response_format.json_schema`, tool results
/// as content blocks, the answer's text as a list of content items, upper-case finish reasons,
/// usage under `usage.tokens` (what the model saw) and `usage.billed_units` (what is charged).
/// The model's `tool_plan` (its reasoning before a tool call) is kept out of `content`: an OpenAI
/// client would show it as the answer. `thinking` items are reasoning (CohereThinking).
public struct CohereCodec: WireCodec {
    public init() {}

    // MARK: Chat

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try ModelGuard.require(model, provider: provider, protocolName: "cohere")
        try ChoiceCount.requireOne(request, protocolName: "cohere", provider: provider)
        let body = try CohereRequest.chatBody(request.body, model: model, stream: stream, provider: provider)
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/v2/chat"),
                                headers: Self.headers(provider, streaming: stream), body: JSONWriter.bytes(.object(body)))
    }

    /// JSON, the bearer key, then the user's extra headers (e.g. Cohere's optional `X-Client-Name`).
    package static func headers(_ provider: ProviderConfig, streaming: Bool) -> [(String, String)] {
        AuthHeaders.build(provider, accept: AuthHeaders.accept(streaming: streaming), key: .bearer)
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "cohere chat response")
        guard json.objectValue != nil else { throw CodecSupport.protocolError(provider, "cohere: chat response is not a JSON object") }
        // An error body under 200 has a string `message`; an answer has an object there.
        if let m = json["message"]?.stringValue {
            throw PMXError(.upstreamServer, "cohere: error in response body: \(ErrorText.shorten(m))", httpStatus: 200, provider: provider.name)
        }
        guard let message = json["message"]?.objectValue else {
            throw CodecSupport.protocolError(provider, "cohere: chat response has no message object")
        }
        var events: [ProviderEvent] = [.meta(id: json["id"]?.stringValue, model: nil)]

        var text: String? = nil
        var thought: String? = nil
        if let content = message["content"], !content.isNull {
            guard let items = content.arrayValue else {
                throw CodecSupport.protocolError(provider, "cohere: message.content is \(content.typeName), expected an array")
            }
            for item in items {
                switch item["type"]?.stringValue {
                case "text":
                    guard let t = item["text"]?.stringValue else {
                        throw CodecSupport.protocolError(provider, "cohere: a text content item has no text string")
                    }
                    text = (text ?? "") + t
                case "thinking":  // reasoning (CohereThinking), reported before the answer
                    guard let t = item["thinking"]?.stringValue else {
                        throw CodecSupport.protocolError(provider, "cohere: a thinking content item has no thinking string")
                    }
                    thought = (thought ?? "") + t
                default:
                    continue
                }
            }
        }
        if let thought, !thought.isEmpty { events.append(.reasoning(thought)) }
        var calls: [JSONValue] = []
        if let tc = message["tool_calls"], !tc.isNull {
            guard let list = tc.arrayValue else {
                throw CodecSupport.protocolError(provider, "cohere: message.tool_calls is \(tc.typeName), expected an array")
            }
            for (i, call) in list.enumerated() {
                guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                    throw CodecSupport.protocolError(provider, "cohere: tool_calls[\(i)] has no id or function.name")
                }
                calls.append(ToolCalls.delta(index: i, id: id, name: name, arguments: Self.argumentString(call["function"]?["arguments"])))
            }
        }
        if text != nil || !calls.isEmpty { events.append(.delta(content: text, toolCalls: calls.isEmpty ? nil : calls)) }

        guard let reason = json["finish_reason"]?.stringValue else {
            throw CodecSupport.protocolError(provider, "cohere: chat response has no finish_reason")
        }
        switch Self.finishReason(reason, sawToolCalls: !calls.isEmpty) {
        case .finish(let r): events.append(.finish(reason: r))
        case .failure(let e): throw PMXError(e.status, e.message, httpStatus: 200, provider: provider.name)
        }
        if let u = Self.usage(json["usage"]) { events.append(.usage(u)) }
        return CodecSupport.completion(from: events, model: model)
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        CohereStreamDecoder(provider: provider.name)
    }

    // MARK: Shared decoding

    package enum Finish: Equatable {
        case finish(String)
        case failure(PMXError)
    }

    /// Cohere's finish reasons in OpenAI's words. `ERROR` and `TIMEOUT` are failures, not
    /// reasons: OpenAI clients know no such finish reason, and the answer is unusable.
    package static func finishReason(_ reason: String, sawToolCalls: Bool) -> Finish {
        switch reason {
        case "COMPLETE", "STOP_SEQUENCE": .finish(FinishReasons.endOfTurn(calledTools: sawToolCalls))
        case "MAX_TOKENS", "ERROR_LIMIT": .finish("length")
        case "TOOL_CALL": .finish("tool_calls")
        case "ERROR_TOXIC": .finish("content_filter")
        case "ERROR": .failure(PMXError(.upstreamServer, "cohere: the generation failed (finish_reason ERROR)"))
        case "TIMEOUT": .failure(PMXError(.timeout, "cohere: the generation timed out (finish_reason TIMEOUT)"))
        default: .finish(FinishReasons.endOfTurn(calledTools: sawToolCalls))
        }
    }

    /// `usage.tokens` (what the model processed); `usage.billed_units` when tokens are absent;
    /// `usage.cached_tokens` (prompt tokens served from Cohere's cache) where given. Cohere
    /// writes these as numbers that may carry a `.0`; each is clamped into 0...Usage.maxTokens.
    package static func usage(_ value: JSONValue?) -> Usage? {
        guard let u = value?.objectValue else { return nil }
        let cached = u["cached_tokens"].flatMap(Usage.count)
        for key in ["tokens", "billed_units"] {
            guard let t = u[key]?.objectValue else { continue }
            let input = t["input_tokens"].flatMap(Usage.count), output = t["output_tokens"].flatMap(Usage.count)
            if input == nil && output == nil { continue }
            return Usage(promptTokens: input ?? 0, completionTokens: output ?? 0, cachedTokens: cached)
        }
        return nil
    }

    /// Tool-call arguments as OpenAI's JSON string (a server that sends an object gets it serialized).
    package static func argumentString(_ value: JSONValue?) -> String {
        ToolCalls.argumentsText(value) ?? JSONWriter.string(value!)  // an array or a number: sent as the JSON it is
    }

    // MARK: Embeddings

    /// `input_type` is required by v3+ embed models; the provider options have no key for it yet,
    /// so documents are assumed (what an OpenAI-style embeddings caller usually indexes).
    public func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try ModelGuard.require(model, provider: provider, protocolName: "cohere", operation: "for embeddings")
        var body = JSONObject()
        body["model"] = .string(model)
        body["texts"] = .array(request.inputs.map { .string($0) })
        body["input_type"] = "search_document"
        body["embedding_types"] = ["float"]
        if let d = request.body["dimensions"]?.intValue { body["output_dimension"] = .int(d) }
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/v2/embed"),
                                headers: Self.headers(provider, streaming: false), body: JSONWriter.bytes(.object(body)))
    }

    public func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "cohere embed response")
        if let m = json["message"]?.stringValue {
            throw PMXError(.upstreamServer, "cohere: error in response body: \(ErrorText.shorten(m))", httpStatus: 200, provider: provider.name)
        }
        guard let vectors = json["embeddings"]?["float"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "cohere: embed response has no embeddings.float array")
        }
        return try EmbeddingsList.build(vectors, inputs: request.inputs.count, model: model ?? provider.defaultModel ?? "",
                                        promptTokens: json["meta"]?["billed_units"]?["input_tokens"].flatMap(Usage.count) ?? 0,
                                        protocolName: "cohere", provider: provider.name, path: { "embeddings.float[\($0)]" })
    }

    // MARK: Models

    /// One page of up to 1000 models (Cohere's maximum; the default page is 20, which would
    /// silently hide most of the catalogue).
    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/v1/models?page_size=1000"),
                         headers: Self.headers(provider, streaming: false))
    }

    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "cohere /v1/models response")
        guard let models = json["models"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "cohere: /v1/models response has no models array")
        }
        return models.compactMap { m in
            guard let name = m["name"]?.stringValue else { return nil }
            let endpoints = (m["endpoints"]?.arrayValue ?? []).compactMap(\.stringValue)
            let features = (m["features"]?.arrayValue ?? []).compactMap(\.stringValue)
            var caps: [String] = []
            if endpoints.contains("chat") { caps.append("chat") }
            if features.contains("tools") || features.contains("strict-tools") { caps.append("tools") }
            if features.contains("vision") { caps.append("vision") }
            if endpoints.contains("embed") { caps.append("embeddings") }
            if endpoints.contains("rerank") { caps.append("rerank") }
            var details = JSONObject()
            for key in ["endpoints", "features", "is_deprecated", "finetuned", "default_endpoints"] {
                if let v = m[key], !v.isNull { details[key] = v }
            }
            return ModelInfo(id: name, contextLength: (m["context_length"]?.intValue).map { Int($0) },
                             capabilities: caps, details: details)
        }
    }

    // MARK: Errors

    /// Cohere's error bodies are `{"id": "...", "message": "..."}`, which the shared mapping
    /// reads. Cohere-specific statuses: 498 is an invalid or revoked key; a 429 that names a
    /// monthly limit is the trial key's quota (waiting a minute will not help); 402 is billing;
    /// 501 is a feature this model or endpoint does not have.
    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        var e = HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
        let m = e.message.lowercased()
        switch status {
        case 498: e.status = .auth
        case 402: e.status = .quotaExceeded
        case 429 where m.contains("/ month") || m.contains("per month") || m.contains("monthly"): e.status = .quotaExceeded
        case 501: e.status = .unsupported
        default: break
        }
        return e
    }
}

/// The OpenAI request body in Cohere v2's words. Keys Cohere has no counterpart for (`n`,
/// `logprobs`, `user`, `stream_options`, `parallel_tool_calls`, ...) are dropped rather than
/// forwarded: Cohere rejects unknown keys.
package enum CohereRequest {
    package static func chatBody(_ openai: JSONObject, model: String, stream: Bool, provider: ProviderConfig) throws -> JSONObject {
        func fail(_ message: String) -> PMXError { PMXError(.invalidRequest, "cohere: \(message)", provider: provider.name) }
        func unsupported(_ message: String) -> PMXError { PMXError(.unsupported, "cohere: \(message)", provider: provider.name) }

        var body = JSONObject()
        body["model"] = .string(model)
        let messages = openai["messages"]?.arrayValue ?? []
        body["messages"] = .array(try messages.enumerated().map { i, m in try message(m, at: i, fail: fail, unsupported: unsupported) })

        var tools = openai["tools"]?.arrayValue
        if let t = tools, !t.isEmpty {
            var strict = false
            tools = try t.enumerated().map { i, tool in
                guard tool["type"]?.stringValue == "function", var fn = tool["function"]?.objectValue,
                      fn["name"]?.stringValue != nil else {
                    throw unsupported("tools[\(i)]: only function tools with a name are supported")
                }
                // OpenAI's per-function `strict` is Cohere's request-wide `strict_tools`.
                if fn["strict"]?.boolValue == true { strict = true }
                fn["strict"] = nil
                return ["type": "function", "function": .object(fn)]
            }
            if strict { body["strict_tools"] = true }
        }
        // Cohere's tool_choice is REQUIRED or NONE; "call this one" becomes REQUIRED over that tool alone.
        switch openai["tool_choice"] {
        case .string("none")?: body["tool_choice"] = "NONE"
        case .string("required")?: body["tool_choice"] = "REQUIRED"
        case .string("auto")?, nil, .null?: break
        case .object(let choice)?:
            guard let name = choice["function"]?["name"]?.stringValue else { throw fail("tool_choice object has no function.name") }
            guard let only = tools?.first(where: { $0["function"]?["name"]?.stringValue == name }) else {
                throw fail("tool_choice names \"\(name)\", which is not in tools")
            }
            tools = [only]
            body["tool_choice"] = "REQUIRED"
        case let other?: throw fail("tool_choice \(JSONWriter.string(other)) is not supported")
        }
        if let tools, !tools.isEmpty { body["tools"] = .array(tools) }

        SamplingFields.copy([("temperature", "temperature"), ("top_p", "p"), ("top_k", "k")], from: openai, into: &body)
        if let max = SamplingFields.maxTokens(openai) { body["max_tokens"] = max }
        if let stop = try SamplingFields.stopSequences(openai, provider: provider.name) { body["stop_sequences"] = .array(stop) }
        SamplingFields.copy(["seed", "frequency_penalty", "presence_penalty"], from: openai, into: &body)
        switch try SamplingFields.responseFormat(openai, protocolName: "cohere", provider: provider.name) {
        case .jsonObject?: body["response_format"] = ["type": "json_object"]
        // OpenAI nests the schema as json_schema.schema; Cohere takes it as json_schema.
        case .jsonSchema(let schema)?: body["response_format"] = ["type": "json_object", "json_schema": schema]
        case .text?, nil: break
        }
        if let thinking = try CohereThinking.request(openai, provider: provider) { body["thinking"] = thinking }
        body["stream"] = .bool(stream)
        return body
    }

    package static func message(_ m: JSONValue, at i: Int, fail: (String) -> PMXError, unsupported: (String) -> PMXError) throws -> JSONValue {
        let path = "messages[\(i)]"
        let role = m["role"]?.stringValue ?? ""
        var out = JSONObject()
        switch role {
        case "system", "developer":
            out["role"] = "system"
            out["content"] = try textContent(m["content"], path: path, fail: fail)
        case "user":
            out["role"] = "user"
            out["content"] = try userContent(m["content"], path: path, fail: fail, unsupported: unsupported)
        case "assistant":
            out["role"] = "assistant"
            let calls = m["tool_calls"]?.arrayValue ?? []
            let content = m["content"]
            let hasText: Bool = switch content {
            case .string(let s)?: !s.isEmpty
            case .array(let a)?: !a.isEmpty
            default: false
            }
            // With tool calls and no text, Cohere wants no content at all (an empty string is refused).
            // Earlier reasoning goes back first, as a thinking item (CohereThinking.historyItem).
            if let thought = CohereThinking.historyItem(m) {
                var items: [JSONValue] = [thought]
                if hasText {
                    switch try textContent(content, path: path, fail: fail) {
                    case .array(let parts): items += parts
                    case let text: items.append(["type": "text", "text": text])
                    }
                }
                out["content"] = .array(items)
            } else if hasText || calls.isEmpty {
                out["content"] = try textContent(content, path: path, fail: fail)
            }
            if !calls.isEmpty {
                out["tool_calls"] = .array(try calls.enumerated().map { j, call in
                    guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                        throw fail("\(path).tool_calls[\(j)] needs an id and function.name")
                    }
                    return ["id": .string(id), "type": "function",
                            "function": ["name": .string(name), "arguments": .string(CohereCodec.argumentString(call["function"]?["arguments"]))]]
                })
            }
        case "tool":
            guard let id = m["tool_call_id"]?.stringValue else { throw fail("\(path).tool_call_id is required for a tool message") }
            out["role"] = "tool"
            out["tool_call_id"] = .string(id)
            out["content"] = toolContent(m["content"])
        default:
            throw fail("\(path).role \"\(role)\" is not supported (system, developer, user, assistant, tool)")
        }
        return .object(out)
    }

    /// A string as is; text parts as Cohere text items.
    package static func textContent(_ content: JSONValue?, path: String, fail: (String) -> PMXError) throws -> JSONValue {
        switch content {
        case .string(let s)?: return .string(s)
        case nil, .null?: return ""
        case .array(let parts)?:
            return .array(try parts.enumerated().map { j, part in
                guard let text = part["text"]?.stringValue, (part["type"]?.stringValue ?? "text") == "text" else {
                    throw fail("\(path).content[\(j)]: only text parts are allowed in this role")
                }
                return ["type": "text", "text": .string(text)]
            })
        case let other?: throw fail("\(path).content: expected a string or an array of parts, got \(other.typeName)")
        }
    }

    /// User content: text and `image_url` parts (vision models take the same shape as OpenAI,
    /// a URL or a data: URI, with an optional `detail`).
    package static func userContent(_ content: JSONValue?, path: String, fail: (String) -> PMXError, unsupported: (String) -> PMXError) throws -> JSONValue {
        guard case .array(let parts)? = content else { return try textContent(content, path: path, fail: fail) }
        return .array(try parts.enumerated().map { j, part in
            switch part["type"]?.stringValue {
            case "text":
                guard let text = part["text"]?.stringValue else { throw fail("\(path).content[\(j)].text must be a string") }
                return ["type": "text", "text": .string(text)]
            case "image_url":
                var image = JSONObject()
                if let url = part["image_url"]?.stringValue {
                    image["url"] = .string(url)
                } else if let url = part["image_url"]?["url"]?.stringValue {
                    image["url"] = .string(url)
                    if let detail = part["image_url"]?["detail"]?.stringValue { image["detail"] = .string(detail) }
                } else {
                    throw fail("\(path).content[\(j)].image_url needs a url")
                }
                return ["type": "image_url", "image_url": .object(image)]
            case let type:
                throw unsupported("\(path).content[\(j)]: part type \"\(type ?? "?")\" is not supported (text, image_url)")
            }
        })
    }

    /// Cohere takes a tool result as a JSON object string or a list of content blocks. A JSON
    /// object (or array of objects) becomes `document` blocks, which the model can cite; any
    /// other result is a `text` block, so plain-text tool output is never refused.
    package static func toolContent(_ content: JSONValue?) -> JSONValue {
        let text: String
        switch content {
        case .string(let s)?: text = s
        case .array(let parts)?:
            return .array(parts.compactMap { p in p["text"]?.stringValue.map { ["type": "text", "text": .string($0)] } })
        default: text = ""
        }
        if let parsed = try? JSONParser.parse(text) {
            if parsed.objectValue != nil { return [document(parsed)] }
            if let items = parsed.arrayValue, !items.isEmpty, items.allSatisfy({ $0.objectValue != nil }) {
                return .array(items.map(document))
            }
        }
        return [["type": "text", "text": .string(text)]]
    }

    package static func document(_ data: JSONValue) -> JSONValue { ["type": "document", "document": ["data": data]] }
}
