// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Ollama's model management (`ModelManaging`): `/api/show`, `/api/ps`, `/api/pull` with its
/// NDJSON progress, `/api/delete`. Pure calls and decoders; `ProviderExchange` moves the bytes.
extension OllamaCodec: ModelManaging {
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

    public func pullDecoder(provider: ProviderConfig) -> any ModelPullDecoding {
        OllamaPullDecoder(provider: provider.name)
    }

    public func pullEndedEarly(provider: ProviderConfig) -> PMXError {
        PMXError(.upstreamProtocol, "ollama: the pull stream ended before \"success\"", provider: provider.name)
    }
}

/// The name this decoder's events had before model management became a capability.
public typealias OllamaPullEvent = ModelPullEvent

/// Decodes `/api/pull` NDJSON progress, at any byte split. A stream that stops before the
/// `success` line ends with neither `.done` nor `.error` (the caller reports the interruption).
public final class OllamaPullDecoder: ModelPullDecoding {
    private var lines = NDJSONDecoder()
    private let provider: String
    public private(set) var finished = false

    public init(provider: String) { self.provider = provider }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (OllamaPullEvent) -> Void) throws {
        do {
            try lines.feed(bytes) { line in try self.line(line, emit) }
        } catch StreamDecodeError.eventTooLarge(let limit) {
            throw PMXError(.responseTooLarge, "ollama: a pull progress line longer than \(limit) bytes", provider: provider)
        }
    }

    public func finish(_ emit: (OllamaPullEvent) -> Void) throws {
        try lines.finish { line in try self.line(line, emit) }
    }

    private func line(_ bytes: UnsafeRawBufferPointer, _ emit: (OllamaPullEvent) -> Void) throws {
        if finished { return }
        let json = try CodecSupport.parseEvent(bytes, provider: provider, prefix: "ollama: malformed pull progress line: ")
        guard json.objectValue != nil else { throw PMXError(.upstreamProtocol, "ollama: pull progress line is not an object", provider: provider) }
        if let err = ProviderErrorBody.inBand(json) {
            finished = true
            let text = ErrorText.shorten(err.stringValue ?? JSONWriter.string(err))
            let status: Status = OllamaCodec.isModelNotFound(text) ? .modelNotFound : .upstreamServer
            emit(.error(PMXError(status, "ollama: pull failed: \(text)", httpStatus: 200, provider: provider)))
            return
        }
        guard let status = json["status"]?.stringValue else {
            throw PMXError(.upstreamProtocol, "ollama: pull progress line without a \"status\" string", provider: provider)
        }
        var event = JSONObject()
        event["type"] = "progress"
        event["status"] = .string(status)
        if let d = json["digest"]?.stringValue { event["digest"] = .string(d) }
        for key in ["total", "completed"] {
            if let v = json[key], !v.isNull {
                guard let n = v.intValue else { throw PMXError(.upstreamProtocol, "ollama: pull \"\(key)\" is not an integer", provider: provider) }
                event[key] = .int(Swift.max(0, n))  // byte counts: never negative
            }
        }
        emit(.progress(.object(event)))
        if status == "success" {
            finished = true
            emit(.done)
        }
    }
}
