// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// Decodes `:streamGenerateContent?alt=sse`: every SSE event is a complete
/// `GenerateContentResponse`, and there is no end marker, so `.end` comes from `finish` once
/// the body ended cleanly after a finish reason.
package final class GeminiStreamDecoder: ChatStreamDecoding {
    private var sse = SSEDecoder()
    private var reader: GeminiResponseReader
    private var sawData = false
    /// First non-blank byte of the body: `[` means the server ignored `alt=sse` and sent the
    /// JSON-array form, which deserves a clearer message than "no finish reason".
    private var firstByte: UInt8?
    private var failed = false
    /// Each event is parsed into this one document: its buffers are reused, event after event.
    private let document = JSONDocument()

    package init(provider: String) { reader = GeminiResponseReader(provider: provider) }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        if failed { return }
        if firstByte == nil, let b = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) { firstByte = b }
        var reader = self.reader, sawData = self.sawData, failed = false
        let document = self.document
        defer { self.reader = reader; self.sawData = sawData; self.failed = failed }
        try sse.feedBorrowed(bytes) { event in
            if failed { return }
            sawData = true
            try Self.decode(event.data, document, &reader, &failed, emit)
        }
    }

    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        if failed { return }
        var reader = self.reader, failed = false
        let document = self.document
        defer { self.reader = reader; self.failed = failed }
        try sse.finishBorrowed { event in
            sawData = true
            try Self.decode(event.data, document, &reader, &failed, emit)
        }
        if failed { return }
        guard reader.finishReason != nil else {
            if !sawData && firstByte == UInt8(ascii: "[") {
                throw PMXError(.upstreamProtocol, "gemini: got a JSON array instead of server-sent events (alt=sse was ignored)", provider: reader.provider)
            }
            throw PMXError(.upstreamProtocol, "gemini: stream ended without a finish reason", provider: reader.provider)
        }
        emit(.end)
    }

    private static func decode(_ data: UnsafeRawBufferPointer, _ doc: JSONDocument, _ reader: inout GeminiResponseReader,
                               _ failed: inout Bool, _ emit: (ProviderEvent) -> Void) throws {
        try CodecSupport.load(data, into: doc, provider: reader.provider, prefix: "gemini: malformed stream event: ")
        try reader.read(doc.ref) { e in
            if case .error = e { failed = true }  // nothing after an error means anything
            emit(e)
        }
    }
}

/// Reads `GenerateContentResponse` objects (one per stream event, or a whole non-streamed
/// body) into provider events, in place from the parsed document (a streamed chunk makes no
/// `JSONValue` tree; only a function call's pieces are converted). Function calls arrive
/// whole, so each becomes ONE tool-call delta with id, name and all of its arguments.
package struct GeminiResponseReader {
    package let provider: String
    package private(set) var finishReason: String?
    package private(set) var sawCandidate = false
    private var sawMeta = false
    private var responseId: String?
    private var toolCalls = 0
    private var lastUsage: Usage?
    /// Thought signatures by tool-call index, for the non-streamed answer's `extra_content`.
    package private(set) var signatures: [Int: String] = [:]
    /// The readers of the other candidates (`candidateCount` > 1), by candidate index: each
    /// keeps its own finish reason and tool-call numbering; their events go out as `.choice`.
    private var others: [Int: GeminiResponseReader] = [:]

    package init(provider: String) { self.provider = provider }

    package func broken(_ what: String) -> PMXError {
        PMXError(.upstreamProtocol, "gemini: \(what)", provider: provider)
    }

    /// The members read, each object's found in one walk (`JSONRef.fields`).
    private enum Response: Int { case error, responseId, modelVersion, candidates, promptFeedback, usageMetadata }
    private static let responseKeys = JSONKeySet(["error", "responseId", "modelVersion", "candidates", "promptFeedback", "usageMetadata"])
    private enum Candidate: Int { case index, content, finishReason }
    private static let candidateKeys = JSONKeySet(["index", "content", "finishReason"])
    private static let contentKeys = JSONKeySet(["parts"])
    private enum Part: Int { case thought, text, functionCall, thoughtSignature }
    private static let partKeys = JSONKeySet(["thought", "text", "functionCall", "thoughtSignature"])
    private enum UsageField: Int { case prompt, candidates, thoughts, toolPrompt, total, cached }
    private static let usageNames = ["promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "toolUsePromptTokenCount",
                                     "totalTokenCount", "cachedContentTokenCount"]
    private static let usageKeys = JSONKeySet(usageNames)

    package mutating func read(_ ref: JSONRef, _ emit: (ProviderEvent) -> Void) throws {
        guard ref.isObject else { throw broken("expected a GenerateContentResponse object, got \(ref.kindName)") }
        let json = ref.fields(Self.responseKeys)
        if let err = json[Response.error], !err.isNull {
            emit(.error(GeminiErrors.inBody(err.value, httpStatus: 200, provider: provider)))
            return
        }
        if !sawMeta {
            sawMeta = true
            responseId = try optionalString(json[Response.responseId], "responseId")
            emit(.meta(id: responseId, model: try optionalString(json[Response.modelVersion], "modelVersion")))
        }
        var candidates: JSONRef?
        if let c = json[Response.candidates], !c.isNull {
            guard c.isArray else { throw broken("candidates is \(c.kindName), not an array") }
            candidates = c
        }
        // Usage-only chunks have no candidates; a blocked prompt has none and says why.
        if let (candidate, fields) = Self.firstCandidate(candidates) {
            sawCandidate = true
            try read(candidate: candidate, fields, emit)
            if let candidates, candidates.count > 1 { try readOthers(candidates, emit) }
        } else if let reason = json[Response.promptFeedback]?["blockReason"]?.stringValue {
            let why = json[Response.promptFeedback]?["blockReasonMessage"]?.stringValue.map { ": \($0)" } ?? ""
            emit(.error(PMXError(.contentFiltered, "gemini blocked the prompt (\(reason))\(why)", httpStatus: 200, provider: provider)))
            return
        }
        if let u = json[Response.usageMetadata], !u.isNull { try read(usage: u, emit) }
    }

    /// Candidates other than the first (index 1...127; a missing index is the position),
    /// each through its own reader, its events wrapped as `.choice(index:)`.
    private mutating func readOthers(_ candidates: JSONRef, _ emit: (ProviderEvent) -> Void) throws {
        for i in 0..<candidates.count {
            guard let c = candidates[i] else { continue }
            let fields = c.fields(Self.candidateKeys)
            var index = fields[Candidate.index]?.intValue ?? Int64(i)
            if index < 0 || index >= 128 { index = Int64(i) }  // out of range: its position
            guard index > 0 && index < 128 else { continue }
            let k = Int(index)
            var sub = others[k] ?? GeminiResponseReader(provider: provider)
            sub.responseId = responseId
            try sub.read(candidate: c, fields) { emit(.choice(index: k, $0)) }
            others[k] = sub
        }
    }

    /// The candidate with `index` 0 (a missing index counts as 0), else the first one, with
    /// its members (found once).
    private static func firstCandidate(_ candidates: JSONRef?) -> (JSONRef, JSONFields)? {
        guard let candidates else { return nil }
        let n = candidates.count
        for i in 0..<n {
            if let c = candidates[i] {
                let fields = c.fields(candidateKeys)
                if fields[Candidate.index]?.intValue ?? 0 == 0 { return (c, fields) }
            }
        }
        return candidates[0].map { ($0, $0.fields(candidateKeys)) }
    }

    private mutating func read(candidate ref: JSONRef, _ candidate: JSONFields, _ emit: (ProviderEvent) -> Void) throws {
        guard ref.isObject else { throw broken("a candidate is \(ref.kindName), not an object") }
        var parts: JSONRef?
        if let p = candidate[Candidate.content]?.fields(Self.contentKeys)[0], !p.isNull {
            guard p.isArray else { throw broken("content.parts is \(p.kindName), not an array") }
            parts = p
        }
        var text = ""
        var thoughts = ""
        var calls: [JSONValue] = []
        for i in 0..<(parts?.count ?? 0) {
            guard let partRef = parts?[i] else { continue }
            guard partRef.isObject else { throw broken("a part is \(partRef.kindName), not an object") }
            let part = partRef.fields(Self.partKeys)
            if part[Part.thought]?.readBool == true {
                // A thought summary (includeThoughts) is reasoning, not the answer.
                if let t = part[Part.text] {
                    guard let s = t.stringValue else { throw broken("text is \(t.kindName), not a string") }
                    thoughts += s
                }
                continue
            }
            if let t = part[Part.text] {
                guard let s = t.stringValue else { throw broken("text is \(t.kindName), not a string") }
                text += s
            } else if let fc = part[Part.functionCall] {
                calls.append(try toolCallDelta(fc.value, signature: part[Part.thoughtSignature]?.stringValue))
            }
            // Other parts (executableCode, inlineData output, ...) have no OpenAI counterpart.
        }
        if finishReason != nil && (!text.isEmpty || !calls.isEmpty) { throw broken("content after the finish reason") }
        if !thoughts.isEmpty { emit(.reasoning(thoughts)) }
        if !text.isEmpty || !calls.isEmpty {
            emit(.delta(content: text.isEmpty ? nil : text, toolCalls: calls.isEmpty ? nil : calls))
        }
        if let f = candidate[Candidate.finishReason], !f.isNull {
            guard let raw = f.stringValue else { throw broken("finishReason is \(f.kindName), not a string") }
            if raw != "FINISH_REASON_UNSPECIFIED" && finishReason == nil {
                let reason = Self.openAIReason(raw, calledTools: toolCalls > 0)
                finishReason = reason
                emit(.finish(reason: reason))
            }
        }
    }

    private mutating func toolCallDelta(_ fc: JSONValue, signature: String?) throws -> JSONValue {
        guard let name = fc["name"]?.stringValue, !name.isEmpty else { throw broken("functionCall without a name") }
        // A function without parameters may send no args; arguments as text are not Gemini's.
        guard fc["args"]?.stringValue == nil, let args = ToolCalls.argumentsText(fc["args"]) else {
            throw broken("functionCall.args is \(fc["args"]!.typeName), not an object")
        }
        let index = toolCalls
        toolCalls += 1
        // Gemini's API gives no call ids; stable per response so the result can name its call.
        let id = fc["id"]?.stringValue ?? "call_" + (responseId.map { $0 + "_" } ?? "") + String(index)
        var call = JSONObject()
        call["index"] = .int(Int64(index))
        call["id"] = .string(id)
        call["type"] = "function"
        call["function"] = ["name": .string(name), "arguments": .string(args)]
        if let signature {
            signatures[index] = signature
            call["extra_content"] = ["google": ["thought_signature": .string(signature)]]
        }
        return .object(call)
    }

    /// Totals so far. Gemini counts thinking apart from the answer; OpenAI's completion tokens
    /// include reasoning, so they are added (and `thoughtsTokenCount` is also the
    /// `reasoning_tokens`). `cachedContentTokenCount` is the cached part of
    /// the prompt count (OpenAI's `cached_tokens`).
    private mutating func read(usage u: JSONRef, _ emit: (ProviderEvent) -> Void) throws {
        guard u.isObject else { throw broken("usageMetadata is \(u.kindName), not an object") }
        let fields = u.fields(Self.usageKeys)
        func count(_ key: UsageField) throws -> Int? {  // clamped into 0...Usage.maxTokens: the sums below cannot overflow
            try TokenCounts.count(ref: fields[key], orThrow: broken("usageMetadata.\(Self.usageNames[key.rawValue]) is not a count"))
        }
        let prompt = try count(.prompt), candidates = try count(.candidates)
        let thoughts = try count(.thoughts), toolPrompt = try count(.toolPrompt)
        let total = try count(.total)
        let cached = try count(.cached)
        guard prompt != nil || candidates != nil || total != nil else { return }  // e.g. only {"trafficType": ...}
        let usage = Usage(promptTokens: (prompt ?? 0) + (toolPrompt ?? 0), completionTokens: (candidates ?? 0) + (thoughts ?? 0),
                          totalTokens: total, cachedTokens: cached, reasoningTokens: thoughts)
        if usage != lastUsage {
            lastUsage = usage
            emit(.usage(usage))
        }
    }

    private func optionalString(_ v: JSONRef?, _ key: String) throws -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else { throw broken("\(key) is \(v.kindName), not a string") }
        return s
    }

    /// Gemini's finish reasons in OpenAI's words. A function call ends a turn with STOP.
    package static func openAIReason(_ raw: String, calledTools: Bool) -> String {
        switch raw {
        case "STOP": FinishReasons.endOfTurn(calledTools: calledTools)
        case "MAX_TOKENS": "length"
        case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT":
            "content_filter"
        default: FinishReasons.endOfTurn(calledTools: calledTools)  // LANGUAGE, OTHER, MALFORMED_FUNCTION_CALL, ...: the turn is over
        }
    }

    /// The non-streamed answer keeps each call's thought signature where Gemini 3 needs it back.
    package func attachThoughtSignatures(to completion: inout JSONObject) {
        guard !signatures.isEmpty, case .array(var choices)? = completion["choices"], var choice = choices.first?.objectValue,
              var message = choice["message"]?.objectValue, case .array(var calls)? = message["tool_calls"] else { return }
        for (i, call) in calls.enumerated() {
            guard let sig = signatures[i], var c = call.objectValue else { continue }
            c["extra_content"] = ["google": ["thought_signature": .string(sig)]]
            calls[i] = .object(c)
        }
        message["tool_calls"] = .array(calls)
        choice["message"] = .object(message)
        choices[0] = .object(choice)
        completion["choices"] = .array(choices)
    }
}
