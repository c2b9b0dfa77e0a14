// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// Decodes Anthropic's Messages SSE stream into provider events, at any byte split.
///
/// The stream is a small state machine: `message_start`, then per content block
/// `content_block_start` → `content_block_delta`… → `content_block_stop`, then `message_delta`
/// (stop reason, cumulative usage) and `message_stop`; `ping`s anywhere. Content blocks are
/// numbered by Anthropic across text and tool use; OpenAI numbers only tool calls, so each
/// `tool_use` block gets the next tool-call index. Events out of that order are a broken
/// promise and throw; event and delta types Anthropic may add later are ignored, as its
/// versioning policy asks.
package final class AnthropicStreamDecoder: ChatStreamDecoding {
    private enum BlockKind: Equatable {
        case text
        case toolUse(call: Int)
        /// Extended thinking: its text goes out as reasoning deltas, and the whole block (text
        /// and signature) as one `thinkingBlock` at its `content_block_stop`.
        case thinking
        /// Server tool blocks and others: nothing OpenAI can show.
        case other
    }

    private struct Block {
        var kind: BlockKind
        var open = true
    }

    private var sse = SSEDecoder()
    private let provider: ProviderConfig
    private var started = false
    private var ended = false
    /// From `message_start`: `message_delta` usage may carry only the output count.
    private var inputTokens = 0
    private var cachedTokens: Int?
    private var cacheWriteTokens: Int?
    /// The open thinking block's text and signature, until its `content_block_stop`.
    private var thinkingText: [UInt8] = []
    private var signature = ""
    private var blocks: [Int: Block] = [:]
    private var toolCalls = 0
    /// Each event is parsed into this one document: its buffers are reused, event after event.
    private let document = JSONDocument()

    package init(provider: ProviderConfig) { self.provider = provider }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        do { try sse.feedBorrowed(bytes) { try handle($0, emit) } } catch let e as StreamDecodeError { throw tooLarge(e) }
    }

    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        // A stream cut before `message_stop` emits no `.end`: the driver reports the interruption.
        try sse.finishBorrowed { try handle($0, emit) }
    }

    private func tooLarge(_ e: StreamDecodeError) -> PMXError {
        switch e {
        case .eventTooLarge(let limit): fail("a stream event is larger than \(limit) bytes")
        }
    }

    private func fail(_ what: String) -> PMXError {
        CodecSupport.protocolError(provider, "Anthropic stream: \(what)")
    }

    /// One event. The per-token events (`content_block_delta`, `ping`) are read in place from
    /// the parsed document; the few others (start, stop, usage, error) as a `JSONValue`.
    private func handle(_ event: SSEEventView, _ emit: (ProviderEvent) -> Void) throws {
        try CodecSupport.load(event.data, into: document, provider: provider.name,
                              prefix: "Anthropic stream: malformed \(event.event ?? "data") event: ")
        let ref = document.ref
        guard ref.isObject else { throw fail("\(event.event ?? "data") event is not a JSON object") }
        if ended { return }  // nothing after message_stop can change the answer
        // The `event:` line names the event; its data repeats it as `type`.
        if event.name.isEmpty ? ref["type"]?.stringValue == "content_block_delta" : event.isEvent("content_block_delta") {
            try contentDelta(ref, emit)
            return
        }
        if event.isEvent("ping") { return }
        let json = ref.value
        let type = event.event ?? json["type"]?.stringValue ?? (json["error"] != nil ? "error" : "")
        try handle(type, json, emit)
    }

    /// The members of a `content_block_delta` and of its `delta`, each found in one walk.
    private enum DeltaEvent: Int { case index, delta }
    private static let deltaEventKeys = JSONKeySet(["index", "delta"])
    private enum Delta: Int { case type, text, partialJSON, thinking, signature }
    private static let deltaKeys = JSONKeySet(["type", "text", "partial_json", "thinking", "signature"])

    /// A `content_block_delta`: text or a piece of a tool call's arguments.
    private func contentDelta(_ ref: JSONRef, _ emit: (ProviderEvent) -> Void) throws {
        let type = "content_block_delta"
        let json = ref.fields(Self.deltaEventKeys)
        let index = try blockIndex(json[DeltaEvent.index]?.intValue, type)
        let block = try openBlock(index, type)
        guard let deltaRef = json[DeltaEvent.delta] else { throw fail("content_block_delta \(index) without a delta type") }
        let delta = deltaRef.fields(Self.deltaKeys)
        guard let kind = delta[Delta.type]?.stringValue else {
            throw fail("content_block_delta \(index) without a delta type")
        }
        switch (kind, block.kind) {
        case ("text_delta", .text):
            guard let t = delta[Delta.text]?.stringValue else { throw fail("text_delta \(index) without text") }
            if !t.isEmpty { emit(.delta(content: t, toolCalls: nil)) }
        case ("input_json_delta", .toolUse(let call)):
            guard let piece = delta[Delta.partialJSON]?.stringValue else { throw fail("input_json_delta \(index) without partial_json") }
            if !piece.isEmpty {
                emit(.delta(content: nil, toolCalls: [ToolCalls.argumentsDelta(index: call, piece: piece)]))
            }
        case ("thinking_delta", .thinking):
            guard let t = delta[Delta.thinking]?.stringValue else { throw fail("thinking_delta \(index) without thinking") }
            if !t.isEmpty {
                thinkingText.append(contentsOf: t.utf8)
                emit(.reasoning(t))
            }
        case ("signature_delta", .thinking):
            guard let sig = delta[Delta.signature]?.stringValue else { throw fail("signature_delta \(index) without a signature") }
            signature += sig
        case ("text_delta", .toolUse), ("input_json_delta", .text), ("text_delta", .thinking), ("input_json_delta", .thinking),
             ("thinking_delta", .text), ("thinking_delta", .toolUse):
            throw fail("\(kind) for content block \(index) of another type")
        default:
            break  // citations_delta, deltas of ignored blocks, delta types added later
        }
    }

    private func handle(_ type: String, _ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
        switch type {
        case "ping":
            return
        case "message_start":
            guard !started else { throw fail("a second message_start") }
            guard let message = json["message"], message.objectValue != nil else { throw fail("message_start without a message object") }
            started = true
            let startUsage = message["usage"] ?? .null
            let input = try AnthropicCodec.inputTokens(startUsage, provider: provider)
            if let input { (inputTokens, cachedTokens, cacheWriteTokens) = input }
            emit(.meta(id: message["id"]?.stringValue, model: message["model"]?.stringValue))
            if input != nil {
                // The input side is known (and billed) from here on: a stream interrupted
                // before message_delta still reports its prompt tokens in its partial usage.
                let output = try AnthropicCodec.count(startUsage["output_tokens"], "message_start usage.output_tokens", provider: provider) ?? 0
                emit(.usage(usage(output: output)))
            }
        case "content_block_start":
            let index = try blockIndex(json["index"]?.intValue, type)
            guard blocks[index] == nil else { throw fail("content block \(index) started twice") }
            guard let block = json["content_block"], let kind = block["type"]?.stringValue else {
                throw fail("content_block_start \(index) without a content_block type")
            }
            switch kind {
            case "text":
                blocks[index] = Block(kind: .text)
                if let t = block["text"]?.stringValue, !t.isEmpty { emit(.delta(content: t, toolCalls: nil)) }
            case "tool_use":
                guard let id = block["id"]?.stringValue, !id.isEmpty, let name = block["name"]?.stringValue, !name.isEmpty else {
                    throw fail("tool_use block \(index) without an id and a name")
                }
                let call = toolCalls
                toolCalls += 1
                blocks[index] = Block(kind: .toolUse(call: call))
                // The input arrives as input_json_delta pieces; the start carries `{}`.
                var arguments = ""
                if let input = block["input"]?.objectValue, !input.isEmpty { arguments = JSONWriter.string(.object(input)) }
                emit(.delta(content: nil, toolCalls: [ToolCalls.delta(index: call, id: id, name: name, arguments: arguments)]))
            case "thinking":
                blocks[index] = Block(kind: .thinking)
                thinkingText = []
                signature = block["signature"]?.stringValue ?? ""
                if let t = block["thinking"]?.stringValue, !t.isEmpty {
                    thinkingText.append(contentsOf: t.utf8)
                    emit(.reasoning(t))
                }
            case "redacted_thinking":
                // Encrypted: nothing to show, but the caller must send it back unmodified.
                blocks[index] = Block(kind: .other)
                emit(.thinkingBlock(block))
            default:
                blocks[index] = Block(kind: .other)
            }
        case "content_block_delta":
            return  // never here: read in place by handle(_:_:) before the document is converted
        case "content_block_stop":
            let index = try blockIndex(json["index"]?.intValue, type)
            let block = try openBlock(index, type)
            blocks[index]?.open = false
            if block.kind == .thinking {
                emit(.thinkingBlock(["type": "thinking", "thinking": .string(String(decoding: thinkingText, as: UTF8.self)),
                                     "signature": .string(signature)]))
                thinkingText = []
                signature = ""
            }
        case "message_delta":
            guard started else { throw fail("message_delta before message_start") }
            if let reason = json["delta"]?["stop_reason"], !reason.isNull {
                guard let r = reason.stringValue else { throw fail("message_delta stop_reason is not a string") }
                emit(.finish(reason: AnthropicCodec.finishReason(r)))
            }
            if let usage = json["usage"], !usage.isNull {
                // Cumulative totals: they replace what came before, never add to it.
                if let input = try AnthropicCodec.inputTokens(usage, provider: provider) { (inputTokens, cachedTokens, cacheWriteTokens) = input }
                if let output = try AnthropicCodec.count(usage["output_tokens"], "message_delta usage.output_tokens", provider: provider) {
                    emit(.usage(self.usage(output: output)))
                }
            }
        case "message_stop":
            guard started else { throw fail("message_stop before message_start") }
            ended = true
            emit(.end)
        case "error":
            // An overload or other failure after HTTP 200: the same error the status would have been.
            emit(.error(AnthropicCodec.errorObject(json["error"], context: "error event in stream", provider: provider)))
        default:
            break  // event types added after this was written
        }
    }

    /// The usage so far: the input side as last reported, `output` completion tokens.
    private func usage(output: Int) -> Usage {
        Usage(promptTokens: inputTokens, completionTokens: output, cachedTokens: cachedTokens, cacheWriteTokens: cacheWriteTokens)
    }

    /// The `index` of a content block event, which must come after `message_start`.
    private func blockIndex(_ index: Int64?, _ type: String) throws -> Int {
        guard started else { throw fail("\(type) before message_start") }
        guard let i = index, i >= 0 else { throw fail("\(type) without a block index") }
        return Int(i)
    }

    private func openBlock(_ index: Int, _ type: String) throws -> Block {
        guard let block = blocks[index] else { throw fail("\(type) for content block \(index), which never started") }
        guard block.open else { throw fail("\(type) for content block \(index) after its content_block_stop") }
        return block
    }
}
