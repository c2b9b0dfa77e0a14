// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport

/// Decodes Cohere's v2 chat stream (SSE; each `data:` is a JSON object whose `type` names the
/// event, repeated in the `event:` line) into provider events, at any byte split.
///
/// The order Cohere promises: `message-start` first; then text (`content-start`,
/// `content-delta`..., `content-end`) and/or tool calls (`tool-plan-delta`...,
/// `tool-call-start`, `tool-call-delta`..., `tool-call-end`), with `citation-*` in between;
/// `message-end` (finish reason and usage) last. Anything before `message-start`, a tool-call
/// delta with no open call, or a second `message-start` is a broken promise. The `type` field
/// is authoritative (Cohere's SDKs read only the data); the `event:` name is used when a data
/// object has no `type`. Unknown types are ignored, as Cohere adds event kinds over time.
package final class CohereStreamDecoder: ChatStreamDecoding {
    private var sse = SSEDecoder()
    private let provider: String
    private var started = false
    private var ended = false
    /// Our OpenAI tool-call index for each Cohere `index`, and the call now streaming.
    private var toolIndex: [Int64: Int] = [:]
    private var openCall: Int?
    private var callCount = 0

    package init(provider: String) { self.provider = provider }

    package func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (ProviderEvent) -> Void) throws {
        try sse.feedBorrowed(bytes) { event in try decode(event, emit) }
    }

    /// Flushes a last event without its blank line. No `.end` here: a stream cut before
    /// `message-end` is incomplete, and the driver reports it as such.
    package func finish(_ emit: (ProviderEvent) -> Void) throws {
        try sse.finishBorrowed { event in try decode(event, emit) }
    }

    private func broken(_ what: String) -> PMXError {
        PMXError(.upstreamProtocol, "cohere: \(what)", provider: provider)
    }

    private func decode(_ event: SSEEventView, _ emit: (ProviderEvent) -> Void) throws {
        if ended { return }  // nothing after message-end matters (some proxies add `[DONE]`)
        if event.data.count == 6 && event.data.elementsEqual("[DONE]".utf8) {
            throw broken("stream said [DONE] before message-end")
        }
        let json = try CodecSupport.parseEvent(event.data, provider: provider, prefix: "cohere: malformed stream event: ")
        guard json.objectValue != nil else { throw broken("stream event is \(json.typeName), expected an object") }

        let typeField = json["type"]?.stringValue
        // Cohere's error body (`{"id":..,"message":".."}`) sent as an event, whatever its `event:` name.
        if typeField == nil || typeField == "error",
           let m = json["message"]?.stringValue ?? json["error"]?.stringValue ?? json["error"]?["message"]?.stringValue {
            emit(.error(PMXError(.upstreamServer, "cohere: error event in stream: \(ErrorText.shorten(m))", provider: provider)))
            ended = true
            return
        }
        guard let type = typeField ?? event.event else { throw broken("stream event has no type") }

        if type == "message-start" {
            if started { throw broken("a second message-start") }
            started = true
            emit(.meta(id: json["id"]?.stringValue, model: nil))
            return
        }
        switch type {
        case "content-start", "content-delta", "content-end", "tool-plan-delta", "tool-call-start",
             "tool-call-delta", "tool-call-end", "citation-start", "citation-end", "message-end":
            // A failed generation is reported as such even when nothing came before it.
            let failed = type == "message-end" && json["delta"]?["finish_reason"]?.stringValue == "ERROR"
            if !started && !failed { throw broken("\(type) before message-start") }
        default:
            return  // `debug` and future event kinds
        }

        switch type {
        case "content-start", "content-delta":
            // content-start usually carries "" (or a thinking block); a text there is still text.
            guard let content = json["delta"]?["message"]?["content"], content.objectValue != nil else {
                if type == "content-start" { return }
                throw broken("content-delta without delta.message.content")
            }
            if let t = content["text"], !t.isNull {
                guard let text = t.stringValue else { throw broken("\(type) text is \(t.typeName), expected a string") }
                if !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
            }
            // `thinking` pieces are reasoning, not the answer (CohereThinking).
            if let t = content["thinking"], !t.isNull {
                guard let piece = t.stringValue else { throw broken("\(type) thinking is \(t.typeName), expected a string") }
                if !piece.isEmpty { emit(.reasoning(piece)) }
            }

        case "tool-call-start":
            guard let call = json["delta"]?["message"]?["tool_calls"], call.objectValue != nil,
                  let id = call["id"]?.stringValue, !id.isEmpty,
                  let name = call["function"]?["name"]?.stringValue, !name.isEmpty else {
                throw broken("tool-call-start without delta.message.tool_calls id and function.name")
            }
            let index = callCount
            callCount += 1
            if let i = json["index"]?.intValue { toolIndex[i] = index }
            openCall = index
            let args = call["function"]?["arguments"]?.stringValue ?? ""
            emit(.delta(content: nil, toolCalls: [ToolCalls.delta(index: index, id: id, name: name, arguments: args)]))

        case "tool-call-delta":
            guard let index = json["index"]?.intValue.flatMap({ toolIndex[$0] }) ?? openCall, index == openCall else {
                throw broken("tool-call-delta without an open tool call")
            }
            guard let a = json["delta"]?["message"]?["tool_calls"]?["function"]?["arguments"] else {
                throw broken("tool-call-delta without delta.message.tool_calls.function.arguments")
            }
            guard let piece = a.stringValue else { throw broken("tool-call-delta arguments is \(a.typeName), expected a string") }
            if !piece.isEmpty {
                emit(.delta(content: nil, toolCalls: [ToolCalls.argumentsDelta(index: index, piece: piece)]))
            }

        case "tool-call-end":
            if openCall == nil { throw broken("tool-call-end without an open tool call") }
            openCall = nil

        case "message-end":
            ended = true
            let delta = json["delta"]
            let usage = CohereCodec.usage(delta?["usage"])
            let reason = delta?["finish_reason"]?.stringValue ?? "COMPLETE"
            switch CohereCodec.finishReason(reason, sawToolCalls: callCount > 0) {
            case .finish(let r):
                emit(.finish(reason: r))
                if let usage { emit(.usage(usage)) }
                emit(.end)
            case .failure(var e):
                if let usage { emit(.usage(usage)) }  // what was spent before the failure
                if let detail = delta?["error"]?.stringValue, !detail.isEmpty {
                    e.message += ": \(ErrorText.shorten(detail))"
                }
                e.provider = provider
                emit(.error(e))
            }

        default:
            break  // content-end, tool-plan-delta (reasoning, kept out of content), citations
        }
    }
}
