// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Google's Gemini API (Generative Language, `v1beta`) as a `WireCodec`.
///
/// - Chat: `POST {base}/v1beta/models/{model}:generateContent`, streamed with
///   `:streamGenerateContent?alt=sse` (each SSE event is a whole `GenerateContentResponse`; no
///   end marker). The key goes in `x-goog-api-key`, never in the URL (`?key=` ends up in logs).
/// - Roles are `user`/`model`; system messages become `systemInstruction`; tool results are
///   `functionResponse` parts of a user turn, named after the call they answer.
/// - Tool schemas go in `parametersJsonSchema` and `json_schema` response formats in
///   `responseJsonSchema`: both take JSON Schema as OpenAI clients write it, where the older
///   `parameters` / `responseSchema` take an OpenAPI subset that rejects `additionalProperties`,
///   `$ref` and an empty `properties` object (a tool without arguments).
/// - Images: `data:` URLs become `inlineData`; `http(s)://` and `gs://` URLs are passed as
///   `fileData` (the API fetches public URLs itself; its own error says when it cannot).
/// - Gemini 3 rejects a replayed function call without its thought signature: answers carry it
///   as `tool_calls[].extra_content.google.thought_signature` (the convention of Google's own
///   OpenAI-compatible endpoint) and requests send it back from there.
public struct GeminiCodec: WireCodec {
    public init() {}

    // MARK: HTTP calls

    package func headers(_ provider: ProviderConfig, streaming: Bool) -> [(String, String)] {
        AuthHeaders.build(provider, accept: AuthHeaders.accept(streaming: streaming), key: .header("x-goog-api-key"))
    }

    /// The model's resource name for the URL path: `models/x` (a `models/` prefix in the
    /// request is accepted) or `tunedModels/x`. Gemini names the model in the path, so one is
    /// required. The name after the collection is ONE path segment, percent-encoded (a `/`,
    /// `:` or `?` in it cannot reach the path as syntax); control characters are refused.
    package static func resource(_ model: String?, provider: ProviderConfig) throws -> String {
        let raw = try ModelGuard.require(model, provider: provider, protocolName: "gemini")
        var collection = "models", name = Substring(raw)
        if raw.hasPrefix("models/") { name = name.dropFirst(7) }
        else if raw.hasPrefix("tunedModels/") { name = name.dropFirst(12); collection = "tunedModels" }
        guard !name.isEmpty else {
            throw PMXError(.invalidRequest, "model: gemini model name \"\(raw)\" has no name after \"\(collection)/\"", provider: provider.name)
        }
        return collection + "/" + (try WireSafety.requestPathSegment(String(name), field: "model", provider: provider.name))
    }

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let resource = try Self.resource(model, provider: provider)
        let method = stream ? ":streamGenerateContent?alt=sse" : ":generateContent"
        let body = try GeminiRequestTranslation(provider: provider).body(for: request)
        return ProviderHTTPCall(method: "POST", url: provider.baseURL + "/v1beta/" + resource + method,
                                headers: headers(provider, streaming: stream), body: JSONWriter.bytes(.object(body)))
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        let doc = try body.withUnsafeBytes { try CodecSupport.document($0, provider: provider.name, prefix: "malformed gemini response: ") }
        let json = doc.ref
        if let err = json["error"], !err.isNull { throw GeminiErrors.inBody(err.value, httpStatus: 200, provider: provider.name) }
        var reader = GeminiResponseReader(provider: provider.name)
        var events: [ProviderEvent] = []
        try reader.read(json) { events.append($0) }
        for case .error(let e) in events { throw e }
        guard reader.sawCandidate else { throw CodecSupport.protocolError(provider, "gemini: response has no candidates") }
        var completion = CodecSupport.completion(from: events, model: model.map { Self.bareName($0) })
        reader.attachThoughtSignatures(to: &completion)
        return completion
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        GeminiStreamDecoder(provider: provider.name)
    }

    /// `models/x` → `x`, as OpenAI-shaped answers name models.
    package static func bareName(_ model: String) -> String {
        model.hasPrefix("models/") ? String(model.dropFirst(7)) : model
    }

    // MARK: Embeddings

    /// One input: `:embedContent`; several: `:batchEmbedContents` (one request per input).
    /// OpenAI's `dimensions` becomes `outputDimensionality`.
    public func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let resource = try Self.resource(model, provider: provider)
        let dimensions = request.body["dimensions"]?.intValue
        func single(_ text: String) -> JSONValue {
            var r = JSONObject()
            r["model"] = .string(resource)
            r["content"] = ["parts": [["text": .string(text)]]]
            if let dimensions { r["outputDimensionality"] = .int(dimensions) }
            return .object(r)
        }
        let url: String, body: JSONValue
        if request.inputs.count == 1 {
            url = provider.baseURL + "/v1beta/" + resource + ":embedContent"
            body = single(request.inputs[0])
        } else {
            url = provider.baseURL + "/v1beta/" + resource + ":batchEmbedContents"
            body = ["requests": .array(request.inputs.map(single))]
        }
        return ProviderHTTPCall(method: "POST", url: url, headers: headers(provider, streaming: false), body: JSONWriter.bytes(body))
    }

    /// `embedding.values` or `embeddings[].values` → an OpenAI list. Gemini reports no token
    /// counts for embeddings: usage is zero rather than a guess.
    public func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "gemini embeddings response")
        if let err = ProviderErrorBody.inBand(json) { throw GeminiErrors.inBody(err, httpStatus: 200, provider: provider.name) }
        let vectors: [JSONValue]
        if let one = json["embedding"] { vectors = [one] }
        else if let many = json["embeddings"]?.arrayValue { vectors = many }
        else { throw CodecSupport.protocolError(provider, "gemini: embeddings response has neither \"embedding\" nor \"embeddings\"") }
        return try EmbeddingsList.build(vectors, inputs: request.inputs.count, model: Self.bareName(model ?? provider.defaultModel ?? ""),
                                        promptTokens: 0, protocolName: "gemini", provider: provider.name,
                                        path: { "embeddings[\($0)].values" }, vector: { $0["values"] })
    }

    // MARK: Models

    /// `pageSize=1000` is the API's maximum: one page holds every model Google lists.
    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: provider.baseURL + "/v1beta/models?pageSize=1000", headers: headers(provider, streaming: false))
    }

    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "gemini models response")
        guard let models = json["models"]?.arrayValue ?? (json.objectValue?.isEmpty == true ? [] : nil) else {
            throw CodecSupport.protocolError(provider, "gemini: models response has no models array")
        }
        return models.compactMap { m in
            guard let name = m["name"]?.stringValue else { return nil }
            var caps: [String] = []
            for method in m["supportedGenerationMethods"]?.arrayValue ?? [] {
                let cap: String? = switch method.stringValue {
                case "generateContent", "streamGenerateContent": "chat"
                case "embedContent", "batchEmbedContents": "embeddings"
                default: nil
                }
                if let cap, !caps.contains(cap) { caps.append(cap) }
            }
            var details = JSONObject()
            for (from, to) in [("displayName", "display_name"), ("outputTokenLimit", "output_token_limit"), ("version", "version"), ("thinking", "thinking")] {
                if let v = m[from] { details[to] = v }
            }
            return ModelInfo(id: Self.bareName(name), contextLength: (m["inputTokenLimit"]?.intValue).map { Int($0) },
                             capabilities: caps, details: details)
        }
    }

    // MARK: Errors

    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        guard let json = try? JSONParser.parse(body), let err = json["error"], err.objectValue != nil else {
            return HTTPErrorMapping.error(status: status, body: body, provider: provider.name)  // an HTML page from a front end
        }
        return GeminiErrors.inBody(err, httpStatus: status, provider: provider.name)
    }
}

/// Gemini's error object, `{"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED",
/// "details": [...]}`, under any HTTP status (and inside streams) → the taxonomy.
package enum GeminiErrors {
    package static func inBody(_ err: JSONValue, httpStatus: Int, provider: String) -> PMXError {
        let code = err["code"]?.intValue.map { Int($0) } ?? 0
        let http = httpStatus >= 400 ? httpStatus : (code >= 400 && code < 600 ? code : httpStatus)
        let grpc = err["status"]?.stringValue ?? ""
        let detail = ErrorText.shorten(err["message"]?.stringValue ?? err.stringValue ?? "")
        let prefix = httpStatus >= 400 ? "HTTP \(httpStatus)" : "gemini error"
        let message = prefix + (detail.isEmpty ? "" : ": \(detail)") + (grpc.isEmpty ? "" : " (\(grpc))")
        return PMXError(status(http: http, grpc: grpc, message: detail, details: err["details"]?.arrayValue ?? []),
                        message, httpStatus: http, provider: provider)
    }

    /// The HTTP class, refined where Gemini says more: a bad key is a 400 `API_KEY_INVALID`, a
    /// 429 is a daily quota (not worth retrying today) or a per-minute limit, an over-long
    /// prompt is a 400 naming the token limit, an unsupported region a `FAILED_PRECONDITION`.
    package static func status(http: Int, grpc: String, message: String, details: [JSONValue]) -> Status {
        let reasons = details.compactMap { $0["reason"]?.stringValue }
        let quotaIds = details.flatMap { $0["violations"]?.arrayValue ?? [] }.compactMap { $0["quotaId"]?.stringValue }
        let m = message.lowercased()
        if reasons.contains(where: { $0.hasPrefix("API_KEY_") }) || m.contains("api key not valid") || m.contains("unregistered callers") {
            return .auth
        }
        if http == 429 || grpc == "RESOURCE_EXHAUSTED" {
            return quotaIds.contains(where: { $0.contains("PerDay") }) ? .quotaExceeded : .rateLimited
        }
        if m.contains("exceeds the maximum number of tokens") { return .contextLengthExceeded }
        if grpc == "FAILED_PRECONDITION" || grpc == "PERMISSION_DENIED" { return .permission }
        if http >= 400 { return HTTPErrorMapping.status(forHTTP: http) }
        switch grpc {  // an error under 200 (in a stream): the gRPC status says what it was
        case "INVALID_ARGUMENT": return .upstreamBadRequest
        case "UNAUTHENTICATED": return .auth
        case "NOT_FOUND": return .modelNotFound
        case "DEADLINE_EXCEEDED": return .timeout
        default: return .upstreamServer  // INTERNAL, UNAVAILABLE, UNKNOWN, ...
        }
    }
}

/// An OpenAI chat request → a `GenerateContentRequest` body. Errors name the request field.
package struct GeminiRequestTranslation {
    package let provider: ProviderConfig

    package func fail(_ path: String, _ what: String) -> PMXError {
        PMXError(.invalidRequest, "\(path): \(what)", provider: provider.name)
    }

    package func body(for request: ChatRequest) throws -> JSONObject {
        let r = request.body
        var out = JSONObject()
        let (system, contents) = try conversation(r["messages"]?.arrayValue ?? [])
        out["contents"] = .array(contents)
        if !system.isEmpty { out["systemInstruction"] = ["parts": .array(system)] }
        if let tools = try tools(r["tools"]) {
            out["tools"] = tools
            if let config = try toolConfig(r["tool_choice"]) { out["toolConfig"] = config }
        }
        out["generationConfig"] = .object(try generationConfig(r))
        return out
    }

    // MARK: Messages

    /// System text (wherever it appears: Gemini has one instruction) and the user/model turns.
    package func conversation(_ messages: [JSONValue]) throws -> ([JSONValue], [JSONValue]) {
        var system: [JSONValue] = []
        var contents: [JSONValue] = []
        var callNames: [String: String] = [:]  // tool_call_id → function name, for the results
        var results: [JSONValue] = []           // consecutive tool results answer one model turn together
        func flushResults() {
            if !results.isEmpty { contents.append(["role": "user", "parts": .array(results)]); results = [] }
        }
        for (i, m) in messages.enumerated() {
            let path = "messages[\(i)]"
            let role = m["role"]?.stringValue ?? ""
            switch role {
            case "system", "developer":
                system += try textParts(m["content"], path: path + ".content")
            case "user":
                flushResults()
                contents.append(["role": "user", "parts": .array(try userParts(m["content"], path: path + ".content"))])
            case "assistant":
                flushResults()
                var parts = try textParts(m["content"], path: path + ".content")
                for (j, call) in (m["tool_calls"]?.arrayValue ?? []).enumerated() {
                    let cpath = "\(path).tool_calls[\(j)]"
                    guard let name = call["function"]?["name"]?.stringValue, !name.isEmpty else { throw fail(cpath + ".function.name", "is required") }
                    if let id = call["id"]?.stringValue { callNames[id] = name }
                    var part = JSONObject()
                    part["functionCall"] = ["name": .string(name), "args": .object(try ToolCalls.argumentsObject(call["function"]?["arguments"], path: cpath + ".function.arguments", provider: provider.name))]
                    if let sig = call["extra_content"]?["google"]?["thought_signature"]?.stringValue { part["thoughtSignature"] = .string(sig) }
                    parts.append(.object(part))
                }
                if !parts.isEmpty { contents.append(["role": "model", "parts": .array(parts)]) }  // Gemini rejects a turn without parts
            case "tool":
                guard let id = m["tool_call_id"]?.stringValue else { throw fail(path + ".tool_call_id", "is required") }
                guard let name = callNames[id] ?? m["name"]?.stringValue else {
                    throw fail(path + ".tool_call_id", "no earlier assistant tool call has the id \"\(id)\" (gemini names a tool result after its call)")
                }
                results.append(["functionResponse": ["name": .string(name), "response": .object(toolResult(m["content"]))]])
            default:
                throw fail(path + ".role", "\"\(role)\" is not supported by gemini (system, developer, user, assistant, tool)")
            }
        }
        flushResults()
        guard !contents.isEmpty else { throw fail("messages", "gemini needs at least one user message besides the system prompt") }
        return (system, contents)
    }

    /// Text-only content (system and assistant messages): a string or `text` parts.
    package func textParts(_ content: JSONValue?, path: String) throws -> [JSONValue] {
        switch content {
        case .string(let s): return s.isEmpty ? [] : [["text": .string(s)]]
        case .array(let parts):
            return try parts.enumerated().compactMap { k, p in
                switch p["type"]?.stringValue {
                case "text": return ["text": .string(p["text"]?.stringValue ?? "")]
                case "refusal": return nil
                default: throw fail("\(path)[\(k)].type", "only text parts are allowed here")
                }
            }
        default: return []
        }
    }

    package func userParts(_ content: JSONValue?, path: String) throws -> [JSONValue] {
        guard case .array(let parts) = content else { return [["text": .string(ChatRequest.text(of: content))]] }
        return try parts.enumerated().map { k, p in
            let ppath = "\(path)[\(k)]"
            switch p["type"]?.stringValue {
            case "text":
                return ["text": .string(p["text"]?.stringValue ?? "")]
            case "image_url":
                guard let url = p["image_url"]?["url"]?.stringValue ?? p["image_url"]?.stringValue else { throw fail(ppath + ".image_url.url", "is required") }
                return try media(url, path: ppath + ".image_url.url")
            case "input_audio":
                guard let data = p["input_audio"]?["data"]?.stringValue, let format = p["input_audio"]?["format"]?.stringValue else {
                    throw fail(ppath + ".input_audio", "needs data and format")
                }
                return ["inlineData": ["mimeType": .string("audio/" + format), "data": .string(data)]]
            case "file":
                guard let data = p["file"]?["file_data"]?.stringValue else { throw fail(ppath + ".file.file_data", "is required (gemini cannot read OpenAI file ids)") }
                return try media(data, path: ppath + ".file.file_data")
            default:
                throw fail(ppath + ".type", "\"\(p["type"]?.stringValue ?? "")\" is not supported by gemini")
            }
        }
    }

    /// `data:<mime>;base64,<data>` → `inlineData`; a URL Google can fetch → `fileData`.
    package func media(_ url: String, path: String) throws -> JSONValue {
        if DataURL.isDataURL(url) {
            let d = try DataURL.requireBase64(url, path: path, protocolName: "gemini", provider: provider.name)
            return ["inlineData": ["mimeType": .string(d.mediaType), "data": .string(d.payload)]]
        }
        guard url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("gs://") else {
            throw fail(path, "gemini takes data:, http(s):// or gs:// URLs")
        }
        var file = JSONObject()
        if let mime = Self.mimeType(forURL: url) { file["mimeType"] = .string(mime) }
        file["fileUri"] = .string(url)
        return ["fileData": .object(file)]
    }

    /// Gemini wants a MIME type with `fileData`; the file extension is all a URL tells.
    package static func mimeType(forURL url: String) -> String? {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "gif": return "image/gif"
        case "heic": return "image/heic"
        case "heif": return "image/heif"
        case "pdf": return "application/pdf"
        default: return nil
        }
    }

    /// A tool result → `functionResponse.response`, which must be an object: JSON objects pass
    /// as they are, anything else is wrapped as `{"result": ...}`.
    package func toolResult(_ content: JSONValue?) -> JSONObject {
        let text = ChatRequest.text(of: content)
        if let parsed = try? JSONParser.parse(text) {
            if let o = parsed.objectValue { return o }
            var o = JSONObject(); o["result"] = parsed; return o
        }
        var o = JSONObject(); o["result"] = .string(text); return o
    }

    // MARK: Tools

    package func tools(_ value: JSONValue?) throws -> JSONValue? {
        guard let list = value?.arrayValue, !list.isEmpty else { return nil }
        let declarations: [JSONValue] = try list.enumerated().map { i, tool in
            let path = "tools[\(i)]"
            guard (tool["type"]?.stringValue ?? "function") == "function", let f = tool["function"] else {
                throw fail(path + ".type", "gemini takes function tools only")
            }
            guard let name = f["name"]?.stringValue, !name.isEmpty else { throw fail(path + ".function.name", "is required") }
            var d = JSONObject()
            d["name"] = .string(name)
            if let desc = f["description"]?.stringValue { d["description"] = .string(desc) }
            if let params = f["parameters"], !params.isNull { d["parametersJsonSchema"] = params }
            return .object(d)
        }
        return [["functionDeclarations": .array(declarations)]]
    }

    /// `auto` / `none` / `required` / one named function → `functionCallingConfig`.
    package func toolConfig(_ choice: JSONValue?) throws -> JSONValue? {
        var config = JSONObject()
        switch choice {
        case nil, .null: return nil
        case .string("auto"): config["mode"] = "AUTO"
        case .string("none"): config["mode"] = "NONE"
        case .string("required"): config["mode"] = "ANY"
        case .object(let o) where o["type"]?.stringValue == "function":
            guard let name = o["function"]?["name"]?.stringValue else { throw fail("tool_choice.function.name", "is required") }
            config["mode"] = "ANY"
            config["allowedFunctionNames"] = [.string(name)]
        default:
            throw fail("tool_choice", "gemini takes \"auto\", \"none\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":...}}")
        }
        return ["functionCallingConfig": .object(config)]
    }

    // MARK: Generation config

    package func generationConfig(_ r: JSONObject) throws -> JSONObject {
        var g = JSONObject()
        // One choice unless the caller asked for several (`n`, validated 1...128 by ChatRequest).
        if let n = r["n"]?.intValue, n > 1 { g["candidateCount"] = .int(n) } else { g["candidateCount"] = 1 }
        SamplingFields.copy([("temperature", "temperature"), ("top_p", "topP"), ("top_k", "topK")], from: r, into: &g)
        // No default: without maxOutputTokens Gemini allows the model's own output limit.
        if let v = SamplingFields.maxTokens(r) { g["maxOutputTokens"] = v }
        if let stop = try SamplingFields.stopSequences(r, provider: provider.name) { g["stopSequences"] = .array(stop) }
        SamplingFields.copy([("seed", "seed"), ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty")], from: r, into: &g)
        switch try SamplingFields.responseFormat(r, protocolName: "gemini", provider: provider.name) {
        case .text?, nil: break
        case .jsonObject?: g["responseMimeType"] = "application/json"
        case .jsonSchema(let schema)?:
            g["responseMimeType"] = "application/json"
            g["responseJsonSchema"] = schema
        }
        if let thinking = try thinkingConfig(r) { g["thinkingConfig"] = .object(thinking) }
        return g
    }

    /// `thinkingConfig` from `reasoning_effort` (ReasoningEffort.budget; "none" is a budget of
    /// 0, thinking off) or from an Anthropic-style `thinking` object (`budget_tokens`, or
    /// `{"type":"disabled"}`). Thoughts are asked for (`includeThoughts`) whenever thinking is
    /// on, so they come back as reasoning. Nil: the model's own default.
    private func thinkingConfig(_ r: JSONObject) throws -> JSONObject? {
        var config = JSONObject()
        if let t = r["thinking"], !t.isNull {
            guard t.objectValue != nil else { throw fail("thinking", "expected an object such as {\"type\":\"enabled\",\"budget_tokens\":2048}, got \(t.typeName)") }
            if t["type"]?.stringValue == "disabled" {
                config["thinkingBudget"] = 0
                return config
            }
            config["includeThoughts"] = true
            if let budget = t["budget_tokens"] {
                guard budget.intValue != nil else { throw fail("thinking.budget_tokens", "expected an integer, got \(budget.typeName)") }
                config["thinkingBudget"] = budget
            }
            return config
        }
        guard let effort = try ReasoningEffort.effort(r, provider: provider.name) else { return nil }
        guard let budget = ReasoningEffort.budget(effort) else {
            config["thinkingBudget"] = 0
            return config
        }
        config["includeThoughts"] = true
        config["thinkingBudget"] = .int(Int64(budget))
        return config
    }
}
