// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// The OpenAI Chat Completions wire protocol, spoken by `openai`, `openai-compatible` and every
/// OpenAI-compatible preset. Bytes in, events out: no network here.
public enum OpenAIProtocol {
    /// Common headers: JSON body, the key (a bearer token unless `key` says otherwise),
    /// OpenRouter's optional attribution headers, the provider's extra headers.
    public static func headers(for provider: ProviderConfig, streaming: Bool, key: AuthHeaders.Key = .bearer) -> [(String, String)] {
        var extra: [(String, String)] = []
        if let v = provider.options["http_referer"]?.stringValue { extra.append(("HTTP-Referer", v)) }
        if let v = provider.options["x_title"]?.stringValue { extra.append(("X-Title", v)) }
        return AuthHeaders.build(provider, accept: AuthHeaders.accept(streaming: streaming), key: key, extra: extra)
    }

    /// The request body for `POST {base}/chat/completions`: the caller's body with the
    /// provider's model and, when streaming, `stream_options.include_usage` so usage arrives.
    ///
    /// Written straight from the caller's members (the three keys replaced in place, or added
    /// at the end in this order when absent): the same bytes as setting them on a copy of the
    /// body and writing that, without copying the body's member list first.
    ///
    /// `streamOptions: false` (Mistral, whose API refuses the key and sends usage unasked):
    /// no `stream_options` at all, the caller's dropped too.
    public static func chatBody(_ request: ChatRequest, model: String?, stream: Bool, streamOptions allowOptions: Bool = true) -> [UInt8] {
        var out = JSONByteSink(capacity: 1024)
        var wrote = 0
        func member(_ key: String, _ value: JSONValue) {
            out.append(wrote == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            wrote += 1
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.write(value, into: &out)
        }
        func streamOptions(_ current: JSONValue?) -> JSONValue {
            var options = current?.objectValue ?? JSONObject()
            options["include_usage"] = true
            return .object(options)
        }
        var sawModel = false, sawStream = false, sawOptions = false
        for m in request.body.members {
            switch m.key {
            case "model":
                sawModel = true
                if let model { member("model", .string(model)) }
            case "stream":
                sawStream = true
                member("stream", .bool(stream))
            case "stream_options":
                sawOptions = true
                if stream && allowOptions { member("stream_options", streamOptions(m.value)) }
            default:
                member(m.key, m.value)
            }
        }
        if !sawModel, let model { member("model", .string(model)) }
        if !sawStream { member("stream", .bool(stream)) }
        if stream && allowOptions && !sawOptions { member("stream_options", streamOptions(nil)) }
        out.append(wrote == 0 ? UInt8(ascii: "{") : UInt8(ascii: "}"))
        if wrote == 0 { out.append(UInt8(ascii: "}")) }
        return out.array()
    }

    /// Decodes a non-streamed `chat.completion`.
    public static func decodeChat(_ bytes: [UInt8], provider: String) throws -> JSONObject {
        let json = try CodecSupport.parseOpenAIAnswer(bytes, provider: provider, what: "response body")
        guard case .object(var o) = consume json, let choices = o["choices"]?.arrayValue, !choices.isEmpty else {
            throw PMXError(.upstreamProtocol, "response has no choices", provider: provider)
        }
        // The upstream's usage object goes to the caller as it is, but with its numbers bounded.
        if let u = o["usage"] { o["usage"] = Usage.sanitized(u) }
        // Rebuilt only when an index needs fixing or a reasoning needs its usual name: the usual
        // answer is already right, and copying its objects (copy-on-write) cost thousands of
        // instructions per request.
        if choices.contains(where: { choiceNeedsIndexes($0) || reasoningNeedsName($0) }) {
            o["choices"] = .array(choices.enumerated().map { n, choice in
                guard var c = choice.objectValue else { return choice }
                if c["index"] != nil { c["index"] = positionIndex(c["index"], at: n) }
                if var message = c["message"]?.objectValue, let calls = message["tool_calls"]?.arrayValue {
                    message["tool_calls"] = .array(withPositionIndexes(calls))
                    c["message"] = .object(message)
                }
                if var message = c["message"]?.objectValue, reasoningNeedsName(choice), let r = message["reasoning"] {
                    message["reasoning_content"] = r
                    c["message"] = .object(message)
                }
                return .object(c)
            })
        }
        return o
    }

    /// Whether `decodeChat` changes `choice`: its `index`, or an `index` of one of its
    /// message's tool calls, is present and not already a non-negative integer.
    private static func choiceNeedsIndexes(_ choice: JSONValue) -> Bool {
        guard case .object(let c) = choice else { return false }
        if let i = c["index"], !isPositionIndex(i) { return true }
        guard let calls = c["message"]?["tool_calls"]?.arrayValue else { return false }
        return calls.contains { call in
            guard case .object(let o) = call, let i = o["index"] else { return false }
            return !isPositionIndex(i)
        }
    }

    /// A message whose reasoning came as `reasoning` (OpenRouter, vLLM, Ollama `/v1`): it also
    /// gets `reasoning_content`, the name every protocol's answer uses.
    private static func reasoningNeedsName(_ choice: JSONValue) -> Bool {
        guard let m = choice["message"]?.objectValue, m["reasoning"]?.stringValue != nil else { return false }
        return m["reasoning_content"] == nil
    }

    /// Already what `positionIndex` makes of it (an `.int` ≥ 0, kept as it is).
    private static func isPositionIndex(_ v: JSONValue) -> Bool {
        if case .int(let i) = v { return i >= 0 }
        return false
    }

    /// An upstream's `index` (of a choice, a tool call, an embedding) as the host gets it: a
    /// non-negative integer, else the item's position in its array. A host indexes arrays with
    /// it (the openai SDKs do), and a negative one would pick an item from the end.
    package static func positionIndex(_ value: JSONValue?, at position: Int) -> JSONValue {
        if let i = value?.intValue, i >= 0 { return .int(i) }
        return .int(Int64(position))
    }

    /// `items` with each object's `index`, where present, made a valid one (`positionIndex`).
    public static func withPositionIndexes(_ items: [JSONValue]) -> [JSONValue] {
        items.enumerated().map { n, item in
            guard var o = item.objectValue, o["index"] != nil else { return item }
            o["index"] = positionIndex(o["index"], at: n)
            return .object(o)
        }
    }

    public static func embeddingsBody(_ request: EmbedRequest, model: String?) -> [UInt8] {
        var body = request.body
        if let model { body["model"] = .string(model) } else { body["model"] = nil }
        return JSONWriter.bytes(.object(body))
    }

    public static func decodeEmbeddings(_ bytes: [UInt8], provider: String) throws -> JSONObject {
        guard let json = try? JSONParser.parse(bytes), var o = json.objectValue, o["data"]?.arrayValue != nil else {
            throw PMXError(.upstreamProtocol, "malformed embeddings response", provider: provider)
        }
        if let u = o["usage"] { o["usage"] = Usage.sanitized(u) }
        if let data = o["data"]?.arrayValue { o["data"] = .array(withPositionIndexes(data)) }
        return o
    }

    /// Model ids from `GET {base}/models`.
    public static func decodeModels(_ bytes: [UInt8], provider: String) throws -> [String] {
        guard let json = try? JSONParser.parse(bytes), let data = json["data"]?.arrayValue else {
            throw PMXError(.upstreamProtocol, "malformed /models response", provider: provider)
        }
        return data.compactMap { $0["id"]?.stringValue }
    }
}

/// Decodes an OpenAI SSE chat stream into provider events, at any byte split. One owner at a
/// time (copies share the parsed-chunk buffers of `document`).
public struct OpenAIStreamDecoder {
    /// The same decoder behind the `ChatStreamDecoding` interface.
    package final class Adapter: ChatStreamDecoding {
        package var decoder: OpenAIStreamDecoder
        package init(provider: String) { decoder = OpenAIStreamDecoder(provider: provider) }
        package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws { try decoder.feed(bytes, emit) }
        package func finish(_ emit: (ProviderEvent) -> Void) throws { try decoder.finish(emit) }
    }

    private var sse = SSEDecoder()
    private let provider: String
    /// `id` and `model` are the same on every chunk: reported once.
    private var metaSent = false
    /// Each chunk is parsed into this one document: its buffers are reused, chunk after chunk.
    private let document = JSONDocument()

    public init(provider: String) { self.provider = provider }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        let provider = self.provider, document = self.document
        var metaSent = self.metaSent
        defer { self.metaSent = metaSent }
        try sse.feedBorrowed(bytes) { event in try Self.decode(event.data, provider: provider, metaSent: &metaSent, into: document, emit) }
    }

    public mutating func finish(_ emit: (ProviderEvent) -> Void) throws {
        let provider = self.provider, document = self.document
        var metaSent = self.metaSent
        defer { self.metaSent = metaSent }
        try sse.finishBorrowed { event in try Self.decode(event.data, provider: provider, metaSent: &metaSent, into: document, emit) }
    }

    package static func decode(_ event: SSEEvent, provider: String, _ emit: (ProviderEvent) -> Void) throws {
        var metaSent = false
        try event.data.withUnsafeBytes { try decode($0, provider: provider, metaSent: &metaSent, into: JSONDocument(), emit) }
    }

    /// The members a chunk is read for, each object's found in one walk (`JSONRef.fields`).
    private enum Chunk: Int { case error, id, model, choices, usage }
    private static let chunkKeys = JSONKeySet(["error", "id", "model", "choices", "usage"])
    private enum Choice: Int { case delta, finishReason, index }
    private static let choiceKeys = JSONKeySet(["delta", "finish_reason", "index"])
    private enum Delta: Int { case content, toolCalls, reasoningContent, reasoning }
    /// DeepSeek, llama.cpp and LM Studio name the reasoning `reasoning_content`; OpenRouter,
    /// Ollama's `/v1` and current vLLM `reasoning`.
    private static let deltaKeys = JSONKeySet(["content", "tool_calls", "reasoning_content", "reasoning"])

    /// A delta's reasoning member when it holds text (servers send `null` or `""` beside content).
    private static func reasoningText(_ r: JSONRef?) -> String? {
        guard let r, !r.isEmptyString else { return nil }
        return r.stringValue
    }

    /// One chunk's data, read in place from the parsed document: only the fields an event
    /// needs become Swift values (this runs once per streamed token).
    package static func decode(_ data: UnsafeRawBufferPointer, provider: String, metaSent: inout Bool, into doc: JSONDocument,
                               _ emit: (ProviderEvent) -> Void) throws {
        if data.count == 6 && data.elementsEqual("[DONE]".utf8) { emit(.end); return }
        try CodecSupport.load(data, into: doc, provider: provider, prefix: "malformed stream event: ")
        let json = doc.ref.fields(chunkKeys)
        // Errors under HTTP 200 (OpenRouter and others) arrive as an `error` object.
        if let err = json[Chunk.error], !err.isNull {
            let value = err.value  // an error ends the stream: the one event worth a Swift copy
            let code = ProviderErrorBody.httpCode(value)
            emit(.error(PMXError(code.map(HTTPErrorMapping.status(forHTTP:)) ?? .upstreamServer,
                                 "error event in stream: \(ProviderErrorBody.message(value))", httpStatus: code ?? 0, provider: provider)))
            return
        }
        if !metaSent {
            let id = json[Chunk.id]?.stringValue, model = json[Chunk.model]?.stringValue
            if id != nil || model != nil {
                emit(.meta(id: id, model: model))
                // Azure's first chunk (prompt_filter_results) has empty ones: keep looking.
                metaSent = id?.isEmpty == false && model?.isEmpty == false
            }
        }
        // Choice 0 as it always was; with `n` > 1 the others (by their `index`, 1...127) come
        // wrapped as `.choice`, in the order the server interleaves them (one per chunk, as
        // OpenAI sends them: the first element is read in place, the rest only when present).
        if let choices = json[Chunk.choices], let first = choices[0] {
            try decodeChoice(first.fields(choiceKeys), position: 0, emit)
            if choices.count > 1 {
                for i in 1..<choices.count {
                    if let c = choices[i] { try decodeChoice(c.fields(choiceKeys), position: i, emit) }
                }
            }
        }
        if let u = json[Chunk.usage], u.isObject, let usage = Usage(openAI: u.value) { emit(.usage(usage)) }
    }

    /// A choice by its `index` (one out of 0...127, negative or huge, counts by its position):
    /// choice 0's events as they are, the others' wrapped.
    @inline(__always)
    private static func decodeChoice(_ choice: JSONFields, position: Int, _ emit: (ProviderEvent) -> Void) throws {
        var index = choice[Choice.index]?.intValue ?? Int64(position)
        if index < 0 || index >= 128 { index = Int64(position) }
        if index == 0 { return try decodeChoice(choice, emit) }
        if index < 128 {
            let k = Int(index)
            try decodeChoice(choice) { emit(.choice(index: k, $0)) }
        }
    }

    /// One choice of a chunk: its reasoning, content and tool-call deltas, its finish reason.
    @inline(__always)
    private static func decodeChoice(_ choice: JSONFields, _ emit: (ProviderEvent) -> Void) throws {
        do {
            if let deltaRef = choice[Choice.delta] {
                let delta = deltaRef.fields(deltaKeys)
                // Reasoning comes before the answer: its event first when a chunk has both.
                if let text = reasoningText(delta[Delta.reasoningContent]) ?? reasoningText(delta[Delta.reasoning]) {
                    emit(.reasoning(text))
                }
                let content = delta[Delta.content].flatMap { $0.isEmptyString ? nil : $0.stringValue }
                var calls: [JSONValue]?
                if let c = delta[Delta.toolCalls], c.isArray, c.count > 0, case .array(let list) = c.value {
                    // The host sees these deltas as they are: no negative index (it would pick a
                    // call from the end of the host's list); such an index becomes the position.
                    calls = list.contains { ($0["index"]?.intValue ?? 0) < 0 } ? OpenAIProtocol.withPositionIndexes(list) : list
                }
                if content != nil || calls != nil { emit(.delta(content: content, toolCalls: calls)) }
            }
            if let reason = choice[Choice.finishReason]?.stringValue { emit(.finish(reason: reason)) }
        }
    }
}
