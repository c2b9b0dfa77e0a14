// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A chat stream's events made into the Responses stream OpenAI sends, for protocols whose
/// `responses.create` is translated to chat: `response.created` → `response.in_progress` →
/// per output item `response.output_item.added` → its parts and deltas
/// (`response.reasoning_text.delta`, `response.output_text.delta`,
/// `response.function_call_arguments.delta`) → their `….done` → `response.output_item.done`
/// → `response.completed` (or `response.incomplete` when the answer was cut), with a rising
/// `sequence_number`. The last event's Response is the result (`.operationResult`).
/// Meta, finish, usage, error and end events go on as they are (the router's accounting and
/// the transport's end detection read them); chat deltas do not reach the caller.
package final class ResponsesStreamBuilder {
    private let request: JSONObject
    private let responseID = ResponseObject.newID("resp_")
    private let createdAt = unixTimeSeconds()
    private var model: String
    private var sequence: Int64 = 0
    private var started = false
    private var closed = false
    /// Finished output items, in order.
    private var output: [JSONValue] = []
    private var open: OpenItem?
    private var finishReason: String?
    private var usage: Usage?

    /// The item being streamed. Text accumulates as bytes (see StreamAccumulator).
    private struct OpenItem {
        enum Kind { case reasoning, message, functionCall(callID: String, name: String, chatIndex: Int64) }
        var kind: Kind
        var id: String
        var text: [UInt8] = []
        /// A reasoning item's `encrypted_content`, from its thinking block (ResponsesReasoning).
        var encryptedContent: String?
        var string: String { String(decoding: text, as: UTF8.self) }
    }

    package init(request: JSONObject, model: String) {
        self.request = request
        self.model = model
    }

    /// One chat event in; the Responses events (and the events the router reads) out.
    package func apply(_ e: ProviderEvent, _ emit: (ProviderEvent) -> Void) {
        switch e {
        case .meta(_, let m):
            if let m, !m.isEmpty { model = m }
            emit(e)
        case .reasoning(let text):
            guard !text.isEmpty else { return }
            if case .reasoning? = open?.kind {} else { openItem(.reasoning, emit) }
            append(text, delta: "response.reasoning_text.delta", emit)
        case .delta(let content, let toolCalls):
            if let content, !content.isEmpty {
                if case .message? = open?.kind {} else { openItem(.message, emit) }
                append(content, delta: "response.output_text.delta", emit)
            }
            for call in toolCalls ?? [] { toolCall(call, emit) }
        case .finish(let reason):
            finishReason = reason
            emit(e)
        case .usage(let u):
            usage = u
            emit(e)
        case .end:
            close(emit)
            emit(e)
        case .error, .operation, .operationResult:
            emit(e)
        case .thinkingBlock(let block):
            thinkingBlock(block, emit)
        case .choice:
            break  // one choice only
        }
    }

    /// The stream is over: the open item is done, then `response.completed` (or
    /// `.incomplete`) and the result. Idempotent.
    package func close(_ emit: (ProviderEvent) -> Void) {
        guard !closed else { return }
        closed = true
        start(emit)
        closeItem(emit)
        let status = ResponseObject.status(finishReason: finishReason)
        let response = ResponseObject.envelope(id: responseID, createdAt: createdAt, model: model, status: status, output: output,
                                               usage: usage.map(ResponseObject.usage), request: request)
        send(status.response == "completed" ? "response.completed" : "response.incomplete", [("response", .object(response))], emit)
        emit(.operationResult(response))
    }

    /// A finish reason came (a stream may end on one without an end marker).
    package var sawFinish: Bool { finishReason != nil }

    private func start(_ emit: (ProviderEvent) -> Void) {
        guard !started else { return }
        started = true
        let response = ResponseObject.envelope(id: responseID, createdAt: createdAt, model: model,
                                               status: ("in_progress", "in_progress", nil), output: [], usage: nil, request: request)
        send("response.created", [("response", .object(response))], emit)
        send("response.in_progress", [("response", .object(response))], emit)
    }

    private func send(_ type: String, _ fields: [(String, JSONValue)], _ emit: (ProviderEvent) -> Void) {
        var o = JSONObject([("type", .string(type))] + fields)
        o["sequence_number"] = .int(sequence)
        sequence += 1
        emit(.operation(o))
    }

    private var outputIndex: JSONValue { .int(Int64(output.count)) }

    private func openItem(_ kind: OpenItem.Kind, _ emit: (ProviderEvent) -> Void) {
        start(emit)
        closeItem(emit)
        let item: OpenItem
        switch kind {
        case .reasoning: item = OpenItem(kind: kind, id: ResponseObject.newID("rs_"))
        case .message: item = OpenItem(kind: kind, id: ResponseObject.newID("msg_"))
        case .functionCall: item = OpenItem(kind: kind, id: ResponseObject.newID("fc_"))
        }
        open = item
        send("response.output_item.added", [("output_index", outputIndex), ("item", .object(itemObject(item, done: false)))], emit)
        switch kind {
        case .reasoning:
            send("response.content_part.added", [("item_id", .string(item.id)), ("output_index", outputIndex), ("content_index", 0),
                                                 ("part", ["type": "reasoning_text", "text": ""])], emit)
        case .message:
            send("response.content_part.added", [("item_id", .string(item.id)), ("output_index", outputIndex), ("content_index", 0),
                                                 ("part", ResponseObject.outputText(""))], emit)
        case .functionCall: break
        }
    }

    private func append(_ piece: String, delta type: String, _ emit: (ProviderEvent) -> Void) {
        guard var item = open else { return }
        var piece = piece
        piece.withUTF8 { item.text.append(contentsOf: $0) }
        open = item
        var fields: [(String, JSONValue)] = [("item_id", .string(item.id)), ("output_index", outputIndex)]
        if case .functionCall = item.kind {} else { fields.append(("content_index", 0)) }
        fields.append(("delta", .string(piece)))
        if case .message = item.kind { fields.append(("logprobs", [])) }
        send(type, fields, emit)
    }

    /// A chat tool-call delta: a new `index` opens a function_call item (its id and name
    /// come with its first delta); `function.arguments` pieces are its argument deltas.
    private func toolCall(_ call: JSONValue, _ emit: (ProviderEvent) -> Void) {
        let index = call["index"]?.intValue ?? 0
        if case .functionCall(_, _, let current)? = open?.kind, current == index {} else {
            let callID = call["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? ResponseObject.newID("call_")
            openItem(.functionCall(callID: callID, name: call["function"]?["name"]?.stringValue ?? "", chatIndex: index), emit)
        }
        if let args = call["function"]?["arguments"]?.stringValue, !args.isEmpty {
            append(args, delta: "response.function_call_arguments.delta", emit)
        }
    }

    /// A thinking block ends (its text came as reasoning deltas): its signature goes on the
    /// reasoning item, which is done, so each block is one item to resend (as not streamed).
    private func thinkingBlock(_ block: JSONValue, _ emit: (ProviderEvent) -> Void) {
        guard let opaque = ResponsesReasoning.encryptedContent(of: block) else { return }
        if case .reasoning? = open?.kind, block["type"]?.stringValue == "thinking" {} else { openItem(.reasoning, emit) }
        open?.encryptedContent = opaque
        closeItem(emit)
    }

    /// The open item's `….done` events, then `response.output_item.done`; it joins `output`.
    private func closeItem(_ emit: (ProviderEvent) -> Void) {
        guard let item = open else { return }
        open = nil
        let id: JSONValue = .string(item.id), text: JSONValue = .string(item.string)
        switch item.kind {
        case .reasoning:
            send("response.reasoning_text.done", [("item_id", id), ("output_index", outputIndex), ("content_index", 0), ("text", text)], emit)
            send("response.content_part.done", [("item_id", id), ("output_index", outputIndex), ("content_index", 0),
                                                ("part", ["type": "reasoning_text", "text": text])], emit)
        case .message:
            send("response.output_text.done", [("item_id", id), ("output_index", outputIndex), ("content_index", 0), ("text", text),
                                               ("logprobs", [])], emit)
            send("response.content_part.done", [("item_id", id), ("output_index", outputIndex), ("content_index", 0),
                                                ("part", ResponseObject.outputText(item.string))], emit)
        case .functionCall(_, let name, _):
            send("response.function_call_arguments.done", [("item_id", id), ("output_index", outputIndex), ("name", .string(name)),
                                                           ("arguments", text)], emit)
        }
        let done = itemObject(item, done: true)
        send("response.output_item.done", [("output_index", outputIndex), ("item", .object(done))], emit)
        output.append(.object(done))
    }

    private func itemObject(_ item: OpenItem, done: Bool) -> JSONObject {
        let status = !done ? "in_progress" : ResponseObject.status(finishReason: finishReason).item
        switch item.kind {
        case .reasoning:
            var o = ResponseObject.reasoningItem(id: item.id, text: done ? item.string : "")
            if done, let opaque = item.encryptedContent { o["encrypted_content"] = .string(opaque) }
            return o
        case .message:
            var o = ResponseObject.messageItem(id: item.id, text: item.string, status: status)
            if !done { o["content"] = [] }
            return o
        case .functionCall(let callID, let name, _):
            return ResponseObject.functionCallItem(id: item.id, callID: callID, name: name, arguments: done ? item.string : "",
                                                   status: done ? "completed" : "in_progress")
        }
    }
}

/// A protocol's chat stream decoder whose events go through a `ResponsesStreamBuilder`: the
/// translated `responses.create` stream.
package final class ResponsesChatStreamDecoder: ChatStreamDecoding {
    private let inner: ChatStreamDecoding
    private let builder: ResponsesStreamBuilder

    package init(inner: ChatStreamDecoding, builder: ResponsesStreamBuilder) {
        self.inner = inner
        self.builder = builder
    }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try inner.feed(bytes) { builder.apply($0, emit) }
    }

    /// A stream that ended with a finish reason but no end marker (which the transport
    /// accepts) still gets its closing events; one cut before its finish does not.
    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try inner.finish { builder.apply($0, emit) }
        if builder.sawFinish { builder.close(emit) }
    }
}
