// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// Decoding Ollama's NDJSON answers: `/api/chat` lines into `ProviderEvent`s, and `/api/pull`
/// progress lines into progress events.

/// Turns Ollama `/api/chat` answer objects into events: each streamed line, or the one
/// non-streamed body (the same shape with `done: true`). Shared so both paths agree.
package struct OllamaChatDecoding {
    package let provider: String
    package let inStream: Bool
    /// The `done: true` line has been decoded.
    package private(set) var done = false
    /// An `{"error": ...}` line ended the answer; the server sends nothing useful after it.
    package private(set) var failed = false
    private var sawMeta = false
    private var toolCalls = 0

    package init(provider: String, inStream: Bool) {
        self.provider = provider
        self.inStream = inStream
    }

    private func fail(_ what: String) -> PMXError {
        PMXError(.upstreamProtocol, "ollama: \(what)", provider: provider)
    }

    /// The members read, each object's found in one walk (`JSONRef.fields`).
    private enum Answer: Int { case error, done, model, message }
    private static let answerKeys = JSONKeySet(["error", "done", "model", "message"])
    private enum Message: Int { case content, toolCalls, thinking }
    private static let messageKeys = JSONKeySet(["content", "tool_calls", "thinking"])

    /// One answer object, read in place (a streamed line costs no `JSONValue` tree).
    package mutating func decode(_ ref: JSONRef, _ emit: (ProviderEvent) -> Void) throws {
        if failed { return }
        guard ref.isObject else { throw fail("expected a JSON object per line, got \(ref.kindName)") }
        let json = ref.fields(Self.answerKeys)
        if done { throw fail("a line after the final \"done\": true line") }
        // Errors after the stream started arrive under HTTP 200 as {"error": "..."}.
        if let err = json[Answer.error], !err.isNull {
            failed = true
            emit(.error(OllamaCodec.inBandError(ProviderErrorBody.message(err.value), provider: provider, inStream: inStream)))
            return
        }
        guard let doneValue = json[Answer.done] else { throw fail("a line without \"done\"") }
        guard let isDone = doneValue.readBool else { throw fail("\"done\": expected a boolean, got \(doneValue.kindName)") }
        if !sawMeta {
            sawMeta = true
            emit(.meta(id: nil, model: json[Answer.model]?.stringValue))  // Ollama answers carry no id
        }

        if let messageRef = json[Answer.message], !messageRef.isNull {
            guard messageRef.isObject else { throw fail("\"message\": expected an object, got \(messageRef.kindName)") }
            let message = messageRef.fields(Self.messageKeys)
            // `think`: the reasoning comes in `message.thinking`, before the answer's content.
            if let t = message[Message.thinking], !t.isNull {
                guard let text = t.stringValue else { throw fail("\"message.thinking\": expected a string, got \(t.kindName)") }
                if !text.isEmpty { emit(.reasoning(text)) }
            }
            if let c = message[Message.content], !c.isNull {
                guard let text = c.stringValue else { throw fail("\"message.content\": expected a string, got \(c.kindName)") }
                if !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
            }
            if let t = message[Message.toolCalls], !t.isNull {
                guard t.isArray else { throw fail("\"message.tool_calls\": expected an array, got \(t.kindName)") }
                for i in 0..<t.count { if let call = t[i] { try toolCall(call.value, emit) } }
            }
        } else if !isDone {
            throw fail("a line with neither \"message\" nor \"done\": true")
        }

        guard isDone else { return }
        done = true
        let o = ref.value.objectValue ?? JSONObject()  // the last line, once: read as a value
        emit(.finish(reason: try finishReason(o["done_reason"])))
        let prompt = try count(o, "prompt_eval_count")
        let completion = try count(o, "eval_count")
        if prompt != nil || completion != nil {
            var usage = Usage(promptTokens: prompt ?? 0, completionTokens: completion ?? 0)
            // Generation speed from Ollama's own clock (nanoseconds), not our wall time.
            // A duration is not a token count: any finite positive number of ns (a negative or
            // zero one gives no speed; Usage bounds the result).
            if let n = completion, let ns = try duration(o, "eval_duration"), ns > 0 {
                usage.tokensPerSecond = Usage.rate((Double(n) / (ns / 1e9) * 100).rounded() / 100)
            }
            emit(.usage(usage))
        }
        emit(.end)
    }

    /// Ollama sends each call whole, its arguments an object: one OpenAI delta per call, with an
    /// id (Ollama's own when it sends one, else `call_<n>`) and the arguments as JSON text.
    private mutating func toolCall(_ call: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
        let n = toolCalls
        guard let f = call["function"], f.objectValue != nil else { throw fail("tool_calls entry without a \"function\" object") }
        guard let name = f["name"]?.stringValue, !name.isEmpty else { throw fail("tool call without a function name") }
        guard let arguments = ToolCalls.argumentsText(f["arguments"]) else {
            throw fail("tool call \"\(name)\" arguments: expected an object, got \(f["arguments"]!.typeName)")
        }
        let id = call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "call_\(n)"
        toolCalls += 1
        emit(.delta(content: nil, toolCalls: [ToolCalls.delta(index: n, id: id, name: name, arguments: arguments)]))
    }

    /// Ollama says "stop" even when the answer is tool calls; OpenAI says "tool_calls".
    private func finishReason(_ value: JSONValue?) throws -> String {
        var reason = "stop"
        switch value {
        case nil, .null?: break
        case .string(let s)?: reason = s
        case let other?: throw fail("\"done_reason\": expected a string, got \(other.typeName)")
        }
        if reason == "length" { return "length" }
        return FinishReasons.endOfTurn(calledTools: toolCalls > 0)  // stop, load, unload, anything newer
    }

    private func count(_ o: JSONObject, _ key: String) throws -> Int? {  // clamped into 0...Usage.maxTokens
        try TokenCounts.count(o[key], orThrow: fail("\"\(key)\": expected a non-negative integer, got \(o[key]!.typeName)"))
    }

    private func duration(_ o: JSONObject, _ key: String) throws -> Double? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let d = v.doubleValue else { throw fail("\"\(key)\": expected a number of nanoseconds, got \(v.typeName)") }
        return d.isFinite ? d : nil
    }
}

/// An `/api/chat` NDJSON stream, at any byte split. `.end` comes from the `done: true` line;
/// a stream that stops without it ends with no `.end` (the driver reports the interruption).
public final class OllamaStreamDecoder: ChatStreamDecoding {
    private var lines = NDJSONDecoder()
    private var chat: OllamaChatDecoding
    /// Each line is parsed into this one document: its buffers are reused, line after line.
    private let document = JSONDocument()

    public init(provider: String, maxLineBytes: Int = 16 << 20) {
        lines = NDJSONDecoder(maxLineBytes: maxLineBytes)
        chat = OllamaChatDecoding(provider: provider, inStream: true)
    }

    public func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        do {
            try lines.feed(bytes) { line in try self.line(line, emit) }
        } catch StreamDecodeError.eventTooLarge(let limit) {
            // A size limit, not a broken promise: the same class the driver gives oversized events.
            throw PMXError(.responseTooLarge, "ollama: a stream line longer than \(limit) bytes", provider: chat.provider)
        }
    }

    public func finish(_ emit: (ProviderEvent) -> Void) throws {
        try lines.finish { line in try self.line(line, emit) }  // a last line without "\n"
    }

    private func line(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try CodecSupport.load(bytes, into: document, provider: chat.provider, prefix: "ollama: malformed stream line: ")
        try chat.decode(document.ref, emit)
    }
}
