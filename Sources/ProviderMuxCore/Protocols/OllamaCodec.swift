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
        let body = try Self.chatBody(request.body, model: model, stream: stream, provider: provider.name)
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/chat"),
                                headers: Self.headers(provider, accept: stream ? "application/x-ndjson" : "application/json"),
                                body: JSONWriter.bytes(.object(body)))
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama chat response")
        var decoder = OllamaChatDecoding(provider: provider.name, inStream: false)
        var events: [ProviderEvent] = []
        try decoder.decode(json) { events.append($0) }
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
        guard vectors.count == request.inputs.count else {
            throw CodecSupport.protocolError(provider, "ollama: \(vectors.count) embeddings for \(request.inputs.count) inputs")
        }
        var data: [JSONValue] = []
        for (i, v) in vectors.enumerated() {
            guard let numbers = v.arrayValue, numbers.allSatisfy({ $0.doubleValue != nil }) else {
                throw CodecSupport.protocolError(provider, "ollama: embeddings[\(i)] is not an array of numbers")
            }
            data.append(["object": "embedding", "index": .int(Int64(i)), "embedding": .array(numbers)])
        }
        let prompt = Int64(json["prompt_eval_count"].flatMap(Usage.count) ?? 0)
        var o = JSONObject()
        o["object"] = "list"
        o["data"] = .array(data)
        o["model"] = .string(json["model"]?.stringValue ?? model ?? provider.defaultModel ?? "")
        o["usage"] = ["prompt_tokens": .int(prompt), "total_tokens": .int(prompt)]
        return o
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
        let text = json?["error"]?.stringValue ?? json?["error"]?["message"]?.stringValue
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

    static func headers(_ provider: ProviderConfig, accept: String, json: Bool = true) -> [(String, String)] {
        var h: [(String, String)] = []
        if json { h.append(("Content-Type", "application/json")) }
        h.append(("Accept", accept))
        // Ollama itself has no auth; a key only makes sense for a proxy in front of it.
        if let key = provider.apiKey { h.append(("Authorization", "Bearer \(key)")) }
        h += provider.headers
        return h
    }

    static func requireModel(_ model: String?, provider: ProviderConfig) throws -> String {
        if let model, !model.isEmpty { return model }
        if let model = provider.defaultModel, !model.isEmpty { return model }
        throw PMXError(.invalidRequest, "ollama needs a model: the request names none and provider \"\(provider.name)\" has no default_model",
                       provider: provider.name)
    }

    static func isModelNotFound(_ text: String) -> Bool {
        let t = text.lowercased()
        return t.contains("not found") || t.contains("file does not exist")
    }

    /// Ollama truncates prompts by default; with `truncate: false` (embeddings) an overflow says
    /// "input length exceeds the context length".
    static func isContextLength(_ text: String) -> Bool {
        text.lowercased().contains("exceeds the context length")
    }

    /// An `{"error": ...}` object delivered with a 2xx status (in a stream or a whole body).
    static func inBandError(_ text: String, provider: String, inStream: Bool) -> PMXError {
        var text = text
        text = Secrets.shorten(text, maxBytes: 300)
        let status: Status = isModelNotFound(text) ? .modelNotFound : isContextLength(text) ? .contextLengthExceeded : .upstreamServer
        return PMXError(status, (inStream ? "ollama: error line in stream: " : "ollama: error in response body: ") + text,
                        httpStatus: 200, provider: provider)
    }

    static func errorInBody(_ json: JSONValue, provider: String) -> PMXError? {
        guard let err = json["error"], !err.isNull else { return nil }
        return inBandError(err.stringValue ?? err["message"]?.stringValue ?? JSONWriter.string(err), provider: provider, inStream: false)
    }

    /// Capabilities guessed from `/api/tags` details, which only name the architecture family.
    /// `/api/show` (`decodeShow`) lists the real ones.
    static func capabilities(fromDetails details: JSONValue?) -> [String] {
        var families = (details?["families"]?.arrayValue ?? []).compactMap(\.stringValue)
        if let f = details?["family"]?.stringValue { families.append(f) }
        let lower = families.map { $0.lowercased() }
        if lower.contains(where: { $0.hasSuffix("bert") }) { return ["embeddings"] }
        var caps = ["chat"]
        if lower.contains(where: { $0 == "clip" || $0 == "mllama" }) { caps.append("vision") }
        return caps
    }

    static func modelDetails(_ m: JSONValue) -> JSONObject {
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
    static func chatBody(_ openAI: JSONObject, model: String, stream: Bool, provider: String) throws -> JSONObject {
        var body = JSONObject()
        body["model"] = .string(model)
        body["messages"] = .array(try messages(openAI["messages"]?.arrayValue ?? []))
        body["stream"] = .bool(stream)

        // Ollama has no tool_choice: "none" is honoured by not offering the tools; any other
        // choice cannot be enforced, so the tools are offered and the model decides.
        if let tools = openAI["tools"]?.arrayValue, !tools.isEmpty, openAI["tool_choice"]?.stringValue != "none" {
            body["tools"] = .array(tools)
        }

        if let rf = openAI["response_format"] {
            switch rf["type"]?.stringValue {
            case "json_object": body["format"] = "json"
            case "json_schema":
                guard let schema = rf["json_schema"]?["schema"], schema.objectValue != nil else {
                    throw PMXError(.invalidRequest, "response_format.json_schema.schema: expected an object", provider: provider)
                }
                body["format"] = schema
            default: break
            }
        }

        // Options the caller wrote Ollama's way come first; the OpenAI fields win over them.
        var options = openAI["options"]?.objectValue ?? JSONObject()
        for key in ["temperature", "top_p", "seed", "frequency_penalty", "presence_penalty", "top_k", "num_ctx"] {
            if let v = openAI[key], !v.isNull { options[key] = v }
        }
        switch openAI["stop"] {
        case .string(let s)?: options["stop"] = [.string(s)]
        case .array(let a)?: options["stop"] = .array(a)
        default: break
        }
        if let n = openAI["max_completion_tokens"] ?? openAI["max_tokens"], !n.isNull { options["num_predict"] = n }
        if !options.isEmpty { body["options"] = .object(options) }

        if let keep = openAI["keep_alive"], !keep.isNull { body["keep_alive"] = keep }
        return body
    }

    static func messages(_ list: [JSONValue]) throws -> [JSONValue] {
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

            if let calls = m["tool_calls"]?.arrayValue, !calls.isEmpty {
                msg["tool_calls"] = .array(try calls.enumerated().map { j, call in
                    let path = "messages[\(i)].tool_calls[\(j)]"
                    guard let name = call["function"]?["name"]?.stringValue else {
                        throw PMXError(.invalidRequest, "\(path).function.name: is required")
                    }
                    if let id = call["id"]?.stringValue { toolNames[id] = name }
                    let arguments = try toolArguments(call["function"]?["arguments"], path: "\(path).function.arguments")
                    return ["function": ["name": .string(name), "arguments": arguments]]
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
    static func content(_ value: JSONValue?, path: String) throws -> (String, [String]) {
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

    /// The base64 payload of a `data:<mime>;base64,<payload>` URL. Ollama cannot fetch URLs.
    static func imageData(_ url: String, path: String) throws -> String {
        let u = Array(url.utf8)
        guard u.count > 5, url.hasPrefix("data:"), let comma = u.firstIndex(of: UInt8(ascii: ",")) else {
            throw PMXError(.invalidRequest, "\(path): Ollama takes images as data: URLs (base64), not links")
        }
        let header = String(decoding: u[5..<comma], as: UTF8.self)
        guard header.hasSuffix(";base64") else {
            throw PMXError(.invalidRequest, "\(path): only base64 data: URLs are supported")
        }
        return String(decoding: u[(comma + 1)...], as: UTF8.self)
    }

    /// OpenAI's JSON-text arguments → the JSON object Ollama expects.
    static func toolArguments(_ value: JSONValue?, path: String) throws -> JSONValue {
        switch value {
        case nil, .null?: return .object(JSONObject())
        case .object?: return value!
        case .string(let s)?:
            if s.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) { return .object(JSONObject()) }
            guard let parsed = try? JSONParser.parse(s), parsed.objectValue != nil else {
                throw PMXError(.invalidRequest, "\(path): expected a JSON object in the string")
            }
            return parsed
        default:
            throw PMXError(.invalidRequest, "\(path): expected a string of JSON, got \(value!.typeName)")
        }
    }
}

// MARK: - Model management (pure: the ABI wires these later)

extension OllamaCodec {
    /// `POST /api/show {model}`: one model's details, context length and capabilities.
    public func showCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/show"),
                         headers: Self.headers(provider, accept: "application/json"),
                         body: JSONWriter.bytes(["model": .string(model)]))
    }

    /// The `/api/show` answer. The context length is under `model_info["<arch>.context_length"]`
    /// where `<arch>` is `model_info["general.architecture"]`.
    public func decodeShow(_ body: [UInt8], model: String, provider: ProviderConfig) throws -> ModelInfo {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama /api/show response")
        if let e = Self.errorInBody(json, provider: provider.name) { throw e }
        guard json.objectValue != nil else { throw CodecSupport.protocolError(provider, "ollama: /api/show response is not an object") }
        var contextLength: Int? = nil
        if let info = json["model_info"], let arch = info["general.architecture"]?.stringValue,
           let n = info["\(arch).context_length"]?.intValue {
            contextLength = Int(n)
        }
        var capabilities: [String]
        if let caps = json["capabilities"]?.arrayValue {
            capabilities = caps.compactMap(\.stringValue).map { c in
                switch c {
                case "completion": "chat"
                case "embedding": "embeddings"
                default: c  // tools, vision, thinking, insert: the same words
                }
            }
        } else {
            capabilities = Self.capabilities(fromDetails: json["details"])  // servers before capabilities existed
        }
        var details = Self.modelDetails(json)
        if let arch = json["model_info"]?["general.architecture"]?.stringValue { details["architecture"] = .string(arch) }
        return ModelInfo(id: model, contextLength: contextLength, capabilities: capabilities, details: details)
    }

    /// `GET /api/ps`: the models loaded in memory right now.
    public func psCall(provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/api/ps"), headers: Self.headers(provider, accept: "application/json", json: false))
    }

    /// Loaded models, each with `details.loaded = true`, its VRAM share and expiry. Newer servers
    /// say the context length the model was loaded with.
    public func decodePS(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "ollama /api/ps response")
        if let e = Self.errorInBody(json, provider: provider.name) { throw e }
        guard let models = json["models"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "ollama: /api/ps response has no \"models\" array")
        }
        return try models.enumerated().map { i, m in
            guard let name = m["name"]?.stringValue ?? m["model"]?.stringValue else {
                throw CodecSupport.protocolError(provider, "ollama: /api/ps models[\(i)] has no name")
            }
            var details = Self.modelDetails(m)
            details["loaded"] = true
            if let v = m["size_vram"], v.intValue != nil { details["size_vram"] = v }
            if let v = m["expires_at"]?.stringValue { details["expires_at"] = .string(v) }
            return ModelInfo(id: name, contextLength: m["context_length"]?.intValue.map { Int($0) },
                             capabilities: Self.capabilities(fromDetails: m["details"]), details: details)
        }
    }

    /// `POST /api/pull {model, stream: true}`: NDJSON progress; decode it with `OllamaPullDecoder`.
    public func pullCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/api/pull"),
                         headers: Self.headers(provider, accept: "application/x-ndjson"),
                         body: JSONWriter.bytes(["model": .string(model), "stream": true]))
    }

    /// `DELETE /api/delete {model}`: 200 with an empty body, 404 for an unknown model.
    public func deleteCall(_ model: String, provider: ProviderConfig) -> ProviderHTTPCall {
        ProviderHTTPCall(method: "DELETE", url: CodecSupport.url(provider, "/api/delete"),
                         headers: Self.headers(provider, accept: "application/json"),
                         body: JSONWriter.bytes(["model": .string(model)]))
    }
}
