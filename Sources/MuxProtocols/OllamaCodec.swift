// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Ollama's native API (`/api/chat`, `/api/embed`, `/api/tags`, ...), spoken by the `ollama`
/// provider type. The base URL is the server root (`http://127.0.0.1:11434`), not `/v1`.
///
/// Where Ollama differs from OpenAI, and why this codec converts:
/// - generation settings live in an `options` object (`num_predict` is `max_tokens`);
/// - `content` is a plain string and images travel beside it as bare base64 (`images`);
/// - tool-call `arguments` are JSON objects, not JSON text, in both directions;
/// - tool results name the tool (`tool_name`), not the call id;
/// - streams are NDJSON ending with a `done: true` line that carries the counts, and an error
///   during a stream is an `{"error": "..."}` line under HTTP 200.
public struct OllamaCodec: WireCodec {
    public init() {}

    // MARK: - Chat

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try Self.requireModel(model, provider: provider)
        try ChoiceCount.requireOne(request, protocolName: "ollama", provider: provider)
        let body = try Self.chatBody(request.body, model: model, stream: stream, provider: provider.name)
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/chat"),
                                headers: Self.headers(provider, accept: stream ? AuthHeaders.ndjson : AuthHeaders.json),
                                body: JSONWriter.bytes(.object(body)))
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        let doc = try body.withUnsafeBytes {
            try CodecSupport.document($0, provider: provider.name, prefix: "malformed ollama chat response: ")
        }
        var decoder = OllamaChatDecoding(provider: provider.name, inStream: false)
        var events: [ProviderEvent] = []
        try decoder.decode(doc.ref) { events.append($0) }
        for case .error(let e) in events { throw e }
        guard decoder.done else { throw CodecSupport.protocolError(provider, "ollama: a non-streamed answer without \"done\": true") }
        return CodecSupport.completion(from: events, model: model ?? provider.defaultModel)
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        OllamaStreamDecoder(provider: provider.name)
    }

    // MARK: - Embeddings

    public func embedCall(_ request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try Self.requireModel(model, provider: provider)
        var body = JSONObject()
        body["model"] = .string(model)
        body["input"] = .array(request.inputs.map { .string($0) })
        // OpenAI's `dimensions` has the same name and meaning in newer Ollama versions.
        if let d = request.body["dimensions"]?.intValue { body["dimensions"] = .int(d) }
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/embed"),
                                headers: Self.headers(provider, accept: "application/json"),
                                body: JSONWriter.bytes(.object(body)))
    }

    public func decodeEmbeddings(_ body: [UInt8], request: EmbedRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama embeddings response")
        if let e = Self.errorInBody(json, provider: provider.name) { throw e }
        guard let vectors = json["embeddings"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "ollama: embeddings response has no \"embeddings\" array")
        }
        return try EmbeddingsList.build(vectors, inputs: request.inputs.count,
                                        model: json["model"]?.stringValue ?? model ?? provider.defaultModel ?? "",
                                        promptTokens: json["prompt_eval_count"].flatMap(Usage.count) ?? 0,
                                        protocolName: "ollama", provider: provider.name, path: { "embeddings[\($0)]" })
    }

    // MARK: - Models and health

    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/api/tags"), headers: Self.headers(provider, accept: "application/json", json: false))
    }

    /// `/api/tags` lists what is installed; it does not say the context length (see `showCall`).
    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama /api/tags response")
        guard let models = json["models"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "ollama: /api/tags response has no \"models\" array")
        }
        return try models.enumerated().map { i, m in
            guard let name = m["name"]?.stringValue ?? m["model"]?.stringValue else {
                throw CodecSupport.protocolError(provider, "ollama: /api/tags models[\(i)] has no name")
            }
            return ModelInfo(id: name, contextLength: nil, capabilities: Self.capabilities(fromDetails: m["details"]),
                             details: Self.modelDetails(m))
        }
    }

    /// `/api/version` answers at once without touching any model: the cheapest liveness probe.
    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/api/version"), headers: Self.headers(provider, accept: "application/json", json: false))
    }

    /// `num_ctx` (the context window, per request) is Ollama's own option.
    public var supportedExtensions: Set<String> { ["num_ctx"] }

    // MARK: - Errors

    /// Ollama's error body is `{"error": "<text>"}`. A 404 whose body is not JSON is Go's
    /// "404 page not found": the path does not exist (a base_url ending in /v1, or a server too
    /// old for the endpoint), which is not a missing model.
    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        var e = HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
        let json = try? JSONParser.parse(body)
        let text = json.flatMap(ProviderErrorBody.inBand).flatMap { $0.stringValue ?? $0["message"]?.stringValue }
        if status == 404 && json == nil {
            e.status = .upstreamHTTP
            e.message += " (no such path: is base_url the Ollama server root, without /v1?)"
        } else if let text, Self.isModelNotFound(text), status == 400 || status == 404 {
            e.status = .modelNotFound
        } else if let text, Self.isContextLength(text) {
            e.status = .contextLengthExceeded
        }
        return e
    }

    // MARK: - Pieces shared with the stream decoder and the model-management calls

    package static func headers(_ provider: ProviderConfig, accept: String, json: Bool = true) -> [(String, String)] {
        // Ollama itself has no auth; a key only makes sense for a proxy in front of it.
        AuthHeaders.build(provider, accept: accept, key: .bearer, jsonBody: json)
    }

    package static func requireModel(_ model: String?, provider: ProviderConfig) throws -> String {
        try ModelGuard.require(model, provider: provider, protocolName: "ollama")
    }

    package static func isModelNotFound(_ text: String) -> Bool {
        let t = text.lowercased()
        return t.contains("not found") || t.contains("file does not exist")
    }

    /// Ollama truncates prompts by default; with `truncate: false` (embeddings) an overflow says
    /// "input length exceeds the context length".
    package static func isContextLength(_ text: String) -> Bool {
        text.lowercased().contains("exceeds the context length")
    }

    /// An `{"error": ...}` object delivered with a 2xx status (in a stream or a whole body).
    package static func inBandError(_ text: String, provider: String, inStream: Bool) -> PMXError {
        let text = ErrorText.shorten(text)
        let status: Status = isModelNotFound(text) ? .modelNotFound : isContextLength(text) ? .contextLengthExceeded : .upstreamServer
        return PMXError(status, (inStream ? "ollama: error line in stream: " : "ollama: error in response body: ") + text,
                        httpStatus: 200, provider: provider)
    }

    package static func errorInBody(_ json: JSONValue, provider: String) -> PMXError? {
        guard let err = ProviderErrorBody.inBand(json) else { return nil }
        return inBandError(ProviderErrorBody.message(err), provider: provider, inStream: false)
    }

    /// Capabilities guessed from `/api/tags` details, which only name the architecture family.
    /// `/api/show` (`decodeShow`) lists the real ones.
    package static func capabilities(fromDetails details: JSONValue?) -> [String] {
        var families = (details?["families"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let f = details?["family"]?.stringValue { families.append(f) }
        let lower = families.map { $0.lowercased() }
        if lower.contains(where: { $0.hasSuffix("bert") }) { return ["embeddings"] }
        var caps = ["chat"]
        if lower.contains(where: { $0 == "clip" || $0 == "mllama" }) { caps.append("vision") }
        return caps
    }

    package static func modelDetails(_ m: JSONValue) -> JSONObject {
        var d = JSONObject()
        if let size = m["size"], size.intValue != nil { d["size"] = size }
        for key in ["family", "parameter_size", "quantization_level", "format"] {
            if let v = m["details"]?[key]?.stringValue, !v.isEmpty { d[key] = .string(v) }
        }
        if let v = m["modified_at"]?.stringValue { d["modified_at"] = .string(v) }
        return d
    }
}

// MARK: - Request translation

extension OllamaCodec {
    /// The `/api/chat` body for an OpenAI-shaped request body.
    package static func chatBody(_ openAI: JSONObject, model: String, stream: Bool, provider: String) throws -> JSONObject {
        var body = JSONObject()
        body["model"] = .string(model)
        body["messages"] = .array(try messages(openAI["messages"]?.arrayValue ?? []))
        body["stream"] = .bool(stream)

        // Ollama has no tool_choice: "none" is honoured by not offering the tools; any other
        // choice cannot be enforced, so the tools are offered and the model decides.
        if let tools = openAI["tools"]?.arrayValue, !tools.isEmpty, openAI["tool_choice"]?.stringValue != "none" {
            // Anthropic's cache_control marker on a tool means nothing to Ollama, whose Tool is
            // {type, function} (ollama-python _types.Tool): dropped, as for every vendor without it.
            body["tools"] = .array(tools.map { tool in
                guard case .object(var o) = tool, o["cache_control"] != nil else { return tool }
                o["cache_control"] = nil
                return .object(o)
            })
        }

        switch try SamplingFields.responseFormat(openAI, protocolName: "ollama", provider: provider) {
        case .jsonObject?: body["format"] = "json"
        case .jsonSchema(let schema)?: body["format"] = schema
        case .text?, nil: break
        }

        // Options the caller wrote Ollama's way come first; the OpenAI fields win over them.
        var options = openAI["options"]?.objectValue ?? JSONObject()
        SamplingFields.copy(["temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "top_k", "num_ctx"], from: openAI, into: &options)
        if let stop = try SamplingFields.stopSequences(openAI, provider: provider) { options["stop"] = .array(stop) }
        if let n = SamplingFields.maxTokens(openAI) { options["num_predict"] = n }
        if !options.isEmpty { body["options"] = .object(options) }

        if let keep = openAI["keep_alive"], !keep.isNull { body["keep_alive"] = keep }
        if let think = try think(openAI, provider: provider) { body["think"] = think }
        return body
    }

    /// Ollama's `think`: the caller's own (a bool or a level) as given, else from
    /// `reasoning_effort` (ReasoningEffort.ollamaThink). Absent: Ollama's default (on for
    /// thinking models).
    private static func think(_ openAI: JSONObject, provider: String) throws -> JSONValue? {
        if let t = openAI["think"], !t.isNull {
            guard t.boolValue != nil || t.stringValue != nil else {
                throw PMXError(.invalidRequest, "think: expected true, false or \"low\", \"medium\", \"high\", got \(t.typeName)", provider: provider)
            }
            return t
        }
        return try ReasoningEffort.effort(openAI, provider: provider).map(ReasoningEffort.ollamaThink)
    }

    package static func messages(_ list: [JSONValue]) throws -> [JSONValue] {
        var toolNames: [String: String] = [:]  // tool_call_id → function name, for tool results
        var out: [JSONValue] = []
        for (i, m) in list.enumerated() {
            let role = m["role"]?.stringValue ?? "user"
            var msg = JSONObject()
            // Ollama knows system/user/assistant/tool; OpenAI's "developer" is its system role.
            msg["role"] = .string(role == "developer" ? "system" : role)
            let (text, images) = try content(m["content"], path: "messages[\(i)].content")
            msg["content"] = .string(text)
            if !images.isEmpty { msg["images"] = .array(images.map { .string($0) }) }
            // An earlier answer's reasoning goes back where Ollama keeps it.
            if role == "assistant", let thinking = m["reasoning_content"]?.stringValue, !thinking.isEmpty { msg["thinking"] = .string(thinking) }

            if let calls = m["tool_calls"]?.arrayValue, !calls.isEmpty {
                msg["tool_calls"] = .array(try calls.enumerated().map { j, call in
                    let path = "messages[\(i)].tool_calls[\(j)]"
                    guard let name = call["function"]?["name"]?.stringValue else {
                        throw PMXError(.invalidRequest, "\(path).function.name: is required")
                    }
                    if let id = call["id"]?.stringValue { toolNames[id] = name }
                    let arguments = try ToolCalls.argumentsObject(call["function"]?["arguments"], path: "\(path).function.arguments")
                    return ["function": ["name": .string(name), "arguments": .object(arguments)]]
                })
            }
            if role == "tool" {
                let name = m["tool_call_id"]?.stringValue.flatMap { toolNames[$0] } ?? m["name"]?.stringValue
                if let name { msg["tool_name"] = .string(name) }
            }
            out.append(.object(msg))
        }
        return out
    }

    /// OpenAI content (a string, or parts) → Ollama's text and bare-base64 images. Text parts
    /// are separate blocks, so they are joined with a newline.
    package static func content(_ value: JSONValue?, path: String) throws -> (String, [String]) {
        switch value {
        case .string(let s)?: return (s, [])
        case .array(let parts)?:
            var texts: [String] = []
            var images: [String] = []
            for (k, part) in parts.enumerated() {
                if let s = part.stringValue { texts.append(s); continue }
                switch part["type"]?.stringValue {
                case "text": if let t = part["text"]?.stringValue { texts.append(t) }
                case "image_url":
                    let url = part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue ?? ""
                    images.append(try imageData(url, path: "\(path)[\(k)].image_url.url"))
                default: break  // audio, files: Ollama's chat has nowhere to put them
                }
            }
            return (texts.joined(separator: "\n"), images)
        default: return ("", [])
        }
    }

    /// The base64 payload of a `data:<mime>;base64,<payload>` URL (the media type may be left
    /// out: Ollama sniffs the image). Ollama cannot fetch URLs.
    package static func imageData(_ url: String, path: String) throws -> String {
        guard let d = DataURL.parse(url) else {
            throw PMXError(.invalidRequest, "\(path): Ollama takes images as data: URLs (base64), not links")
        }
        guard d.isBase64 else { throw PMXError(.invalidRequest, "\(path): only base64 data: URLs are supported") }
        return d.payload
    }
}
