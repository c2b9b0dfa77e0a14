// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Builds the full `chat.completion` response from a stream's events, the way OpenAI's own
/// SDK does: text appended, tool-call deltas merged by `index` (a known id or name is never
/// overwritten by the empty strings some servers send on later deltas).
public struct StreamAccumulator: Sendable {
    public private(set) var id: String?
    public private(set) var model: String?
    /// The text so far, as bytes: appending a delta's UTF-8 to an array costs a copy, where
    /// `String +=` went through the string's generic append (~370 instructions per chunk).
    /// Every piece is a whole `String`, so the bytes are valid UTF-8 and read back unchanged.
    private var text: [UInt8] = []
    public var content: String { String(decoding: text, as: UTF8.self) }
    public private(set) var sawContent = false
    /// The reasoning so far (`reasoning_content` on the message), as bytes like `text`.
    private var reasoningText: [UInt8] = []
    public var reasoning: String? { reasoningText.isEmpty ? nil : String(decoding: reasoningText, as: UTF8.self) }
    /// Anthropic thinking blocks, in order (`thinking_blocks` on the message).
    public private(set) var thinkingBlocks: [JSONValue] = []
    public private(set) var finishReason: String?
    public private(set) var usage: Usage?
    /// The result an operation's stream reported whole (`.operationResult`), which `done`
    /// carries instead of a chat completion.
    public private(set) var operationResult: JSONObject?
    private var toolCalls: [Int: ToolCall] = [:]
    public private(set) var deltaCount = 0
    /// Choices 1... (`n` > 1), each accumulated on its own; meta and usage stay here.
    private var others: [Int: StreamAccumulator] = [:]

    package struct ToolCall: Sendable {
        package var id = ""
        var type = "function"
        var name = ""
        var arguments = ""
        /// Provider-specific keys beside the OpenAI ones (e.g. Gemini's `extra_content` with its
        /// thought signature, which must be sent back with the call): kept, last value wins.
        var extra = JSONObject()
    }

    public init() {}

    public mutating func apply(_ event: ProviderEvent) {
        switch event {
        case .meta(let id, let model):
            if let id, !id.isEmpty, self.id == nil { self.id = id }
            if let model, !model.isEmpty, self.model == nil { self.model = model }
        case .delta(let text, let calls):
            deltaCount += 1
            if var text {
                text.withUTF8 { self.text.append(contentsOf: $0) }
                sawContent = true
            }
            for call in calls ?? [] {
                let index = Int(call["index"]?.intValue ?? Int64(toolCalls.count))
                var tc = toolCalls[index] ?? ToolCall()
                if let id = call["id"]?.stringValue, !id.isEmpty { tc.id = id }
                if let type = call["type"]?.stringValue, !type.isEmpty { tc.type = type }
                if let f = call["function"] {
                    if let name = f["name"]?.stringValue, !name.isEmpty { tc.name = name }
                    if let args = f["arguments"]?.stringValue { tc.arguments += args }
                }
                for m in call.objectValue?.members ?? [] where !Self.openAIToolCallKeys.contains(m.key) {
                    tc.extra[m.key] = m.value
                }
                toolCalls[index] = tc
            }
        case .reasoning(var piece):
            piece.withUTF8 { reasoningText.append(contentsOf: $0) }
        case .thinkingBlock(let block):
            thinkingBlocks.append(block)
        case .finish(let reason):
            finishReason = reason
        case .usage(let u):
            usage = u  // totals so far: replace, never add
        case .choice(let index, let inner):
            var sub = others[index] ?? StreamAccumulator()
            sub.apply(inner)
            others[index] = sub
        case .operationResult(let result):
            operationResult = result
        case .error, .end, .operation:
            break
        }
    }

    public var hasToolCalls: Bool { !toolCalls.isEmpty }

    /// `chatcmpl-pmx-<16 hex>` for providers that give no response id (Ollama).
    package static func generatedID() -> String {
        let n = UInt64.random(in: 0...UInt64.max)
        let hex = String(n, radix: 16)
        return "chatcmpl-pmx-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    package static let openAIToolCallKeys: Set<String> = ["index", "id", "type", "function"]

    /// The OpenAI `chat.completion` object (without the router's own fields).
    public func response(fallbackModel: String) -> JSONObject {
        var choices: [JSONValue] = [.object(choice(index: 0))]
        for index in others.keys.sorted() { choices.append(.object(others[index]!.choice(index: index))) }
        var o = JSONObject()
        o["id"] = .string(id ?? Self.generatedID())
        o["object"] = "chat.completion"
        o["created"] = .int(unixTimeSeconds())
        o["model"] = .string(model ?? fallbackModel)
        o["choices"] = .array(choices)
        if let usage { o["usage"] = usage.json() }
        return o
    }

    /// This accumulator's choice: `index`, `message`, `finish_reason`.
    private func choice(index: Int) -> JSONObject {
        var message: JSONObject = JSONObject()
        message["role"] = "assistant"
        message["content"] = (sawContent || toolCalls.isEmpty) ? .string(content) : .null  // one String, at the end
        if let reasoning { message["reasoning_content"] = .string(reasoning) }
        if !thinkingBlocks.isEmpty { message["thinking_blocks"] = .array(thinkingBlocks) }
        if !toolCalls.isEmpty {
            message["tool_calls"] = .array(toolCalls.keys.sorted().map { i in
                let tc = toolCalls[i]!
                var o = JSONObject()
                o["id"] = .string(tc.id)
                o["type"] = .string(tc.type)
                o["function"] = ["name": .string(tc.name), "arguments": .string(tc.arguments)]
                for m in tc.extra.members { o[m.key] = m.value }
                return .object(o)
            })
        }
        var choice = JSONObject()
        choice["index"] = .int(Int64(index))
        choice["message"] = .object(message)
        choice["finish_reason"] = .string(finishReason ?? FinishReasons.endOfTurn(calledTools: !toolCalls.isEmpty))
        return choice
    }
}
