// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Replicate's predictions API, spoken by the `replicate` provider type (base URL
/// `https://api.replicate.com/v1`, `Authorization: Bearer`). Replicate has no OpenAI-compatible
/// endpoint: a chat request becomes a prediction of the model it names.
///
/// - `model` is `owner/name` (`POST {base}/models/{owner}/{name}/predictions`) or
///   `owner/name:version` (`POST {base}/predictions {version, input}`).
/// - `input`: system messages join into `system_prompt`; one user message is the `prompt`, a
///   longer conversation a transcript (`User: …` / `Assistant: …` lines ending `Assistant:`);
///   `max_tokens`, `temperature`, `top_p`, `seed`, `presence_penalty`, `frequency_penalty` keep
///   their names, `stop` becomes `stop_sequences` (comma-separated, as Replicate's language models
///   take it). Tools and images have no counterpart: `PMX_ERR_UNSUPPORTED`, and the request fails
///   over. `replicate_input` (an object) is merged into `input` last, for model-specific inputs.
/// - Complete: `Prefer: wait` (Replicate holds the answer up to 60 s); a prediction still
///   `starting`/`processing` then is polled at `urls.get` (ReplicateDriver). `output` is an
///   array of text pieces (joined) or a string; `metrics.input_token_count` /
///   `output_token_count` are the usage.
/// - Stream: the create call says `"stream": true`; the events come from `urls.stream`
///   (`ReplicateStreamDecoder`).
/// - Errors are problem details `{"title", "detail", "status"}`.
public struct ReplicateCodec: WireCodec, PredictionCodec {
    public init() {}

    public func chatCall(_ request: ChatRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let model = try ModelGuard.require(model, provider: provider, protocolName: "replicate")
        try ChoiceCount.requireOne(request, protocolName: "replicate", provider: provider)
        let (path, version) = try Self.route(model, provider: provider)
        var body = JSONObject()
        if let version { body["version"] = .string(version) }
        body["input"] = .object(try ReplicateInput.input(request.body, provider: provider.name))
        if stream { body["stream"] = true }
        // Sync mode holds the connection until the prediction ends; a stream wants its URL at once.
        let extra: [(String, String)] = stream ? [] : [("Prefer", "wait")]
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, path),
                                headers: AuthHeaders.build(provider, accept: AuthHeaders.json, key: .bearer, extra: extra),
                                body: JSONWriter.bytes(.object(body)))
    }

    /// `owner/name` → its predictions path; `owner/name:version` → `/predictions` with the version.
    package static func route(_ model: String, provider: ProviderConfig) throws -> (path: String, version: String?) {
        func segmentOK(_ s: Substring) -> Bool {
            !s.isEmpty && s != "." && s != ".." && s.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
            }
        }
        let (name, version): (Substring, Substring?) = {
            guard let colon = model.firstIndex(of: ":") else { return (model[...], nil) }
            return (model[..<colon], model[model.index(after: colon)...])
        }()
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy(segmentOK), version.map(segmentOK) ?? true else {
            throw PMXError(.invalidRequest, "model: replicate models are \"owner/name\" or \"owner/name:version\" "
                           + "(letters, digits, . _ -), got \"\(ErrorText.shorten(model))\"", provider: provider.name)
        }
        if let version { return ("/predictions", String(version)) }
        return ("/models/\(parts[0])/\(parts[1])/predictions", nil)
    }

    public func decodeChat(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> JSONObject {
        guard case .finished(let response) = try prediction(body, model: model, provider: provider) else {
            throw CodecSupport.protocolError(provider, "replicate: the prediction has not finished")
        }
        return response
    }

    public func streamDecoder(model: String?, provider: ProviderConfig) -> ChatStreamDecoding {
        ReplicateStreamDecoder(provider: provider.name)
    }

    // MARK: - Predictions

    public func prediction(_ body: [UInt8], model: String?, provider: ProviderConfig) throws -> PredictionState {
        let json = try CodecSupport.parseBody(body, provider: provider, what: "replicate prediction")
        guard json.objectValue != nil, let status = json["status"]?.stringValue else {
            throw CodecSupport.protocolError(provider, "replicate: the prediction has no status")
        }
        let urls = json["urls"]
        switch status {
        case "succeeded":
            return .finished(try Self.completion(json, model: model, provider: provider))
        case "failed", "canceled", "aborted":
            let why = json["error"].map { $0.stringValue ?? JSONWriter.string($0) } ?? status
            throw PMXError(.upstreamServer, "replicate: prediction \(status): \(ErrorText.shorten(why))", provider: provider.name)
        case "starting", "processing":
            return .running(poll: urls?["get"]?.stringValue, stream: urls?["stream"]?.stringValue)
        default:
            throw CodecSupport.protocolError(provider, "replicate: unknown prediction status \"\(ErrorText.shorten(status))\"")
        }
    }

    public func followCall(_ url: String, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        if let problem = WireSafety.baseURLProblem(url) {
            throw CodecSupport.protocolError(provider, "replicate: the prediction's \(stream ? "stream" : "get") URL \(problem)")
        }
        // The key goes only where the provider's own base URL points (same scheme, host and
        // port): an answer must not be able to send it elsewhere. Replicate's stream URLs on
        // another host are unguessable and need none.
        var p = provider
        if Self.origin(provider.baseURL) != Self.origin(url) { p.apiKey = nil }
        return ProviderHTTPCall(method: "GET", url: url,
                                headers: AuthHeaders.build(p, accept: stream ? AuthHeaders.eventStream : AuthHeaders.json, key: .bearer,
                                                           jsonBody: false))
    }

    /// `scheme://host[:port]` of a URL, lower-cased ("" without a scheme).
    package static func origin(_ url: String) -> String {
        let bytes = Array(url.utf8)
        guard let sep = (0..<max(0, bytes.count - 2)).first(where: { bytes[$0] == 0x3A && bytes[$0 + 1] == 0x2F && bytes[$0 + 2] == 0x2F }) else {
            return ""
        }
        let hostStart = sep + 3
        let hostEnd = bytes[hostStart...].firstIndex(where: { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 }) ?? bytes.count
        return String(decoding: bytes[..<hostEnd], as: UTF8.self).lowercased()
    }

    /// A finished prediction → an OpenAI `chat.completion`.
    package static func completion(_ json: JSONValue, model: String?, provider: ProviderConfig) throws -> JSONObject {
        var text = ""
        switch json["output"] {
        case .array(let pieces)?:
            for (i, p) in pieces.enumerated() {
                guard let s = p.stringValue else {
                    throw CodecSupport.protocolError(provider, "replicate: output[\(i)] is \(p.typeName), expected text (not a language model?)")
                }
                text += s
            }
        case .string(let s)?: text = s
        case nil, .null?: break
        case let other?: throw CodecSupport.protocolError(provider, "replicate: output is \(other.typeName), expected text pieces")
        }
        var events: [ProviderEvent] = [.meta(id: json["id"]?.stringValue, model: json["model"]?.stringValue ?? model)]
        events.append(.delta(content: text, toolCalls: nil))
        let metrics = json["metrics"]
        func count(_ key: String) throws -> Int? {
            try TokenCounts.count(metrics?[key], orThrow: CodecSupport.protocolError(provider, "replicate: metrics.\(key) is not a token count"))
        }
        if let p = try count("input_token_count"), let c = try count("output_token_count") {
            events.append(.usage(Usage(promptTokens: p, completionTokens: c)))
        }
        events.append(.finish(reason: "stop"))
        return CodecSupport.completion(from: events, model: model)
    }

    // MARK: - Models, health, errors

    /// Replicate's model list is the whole public catalogue: list a provider's models in its
    /// config. `GET /account` checks the key.
    public func modelsCall(provider: ProviderConfig) -> ProviderHTTPCall? { nil }

    public func healthCall(provider: ProviderConfig) -> ProviderHTTPCall? {
        ProviderHTTPCall(method: "GET", url: CodecSupport.url(provider, "/account"),
                         headers: AuthHeaders.build(provider, accept: AuthHeaders.json, key: .bearer, jsonBody: false))
    }

    public func decodeModels(_ body: [UInt8], provider: ProviderConfig) throws -> [ModelInfo] { [] }

    /// Problem details: `detail` (else `title`) is the message; 402 (no credit) is a quota error.
    public func error(status: Int, head: HTTPResponseHead, body: [UInt8], provider: ProviderConfig) -> PMXError {
        var e = HTTPErrorMapping.error(status: status, body: body, provider: provider.name)
        if let json = try? JSONParser.parse(body), let m = json["detail"]?.stringValue ?? json["title"]?.stringValue {
            e.message = "HTTP \(status): " + ErrorText.shorten(m)
        }
        if status == 402 { e.status = .quotaExceeded }
        return e
    }
}
