// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The OpenAI chat request as a Replicate language model's `input` (see `ReplicateCodec`).
package enum ReplicateInput {
    package static func input(_ body: JSONObject, provider: String) throws -> JSONObject {
        func unsupported(_ what: String) -> PMXError { PMXError(.unsupported, "replicate: \(what)", provider: provider) }
        if let tools = body["tools"]?.arrayValue, !tools.isEmpty { throw unsupported("tools have no counterpart in the predictions API") }
        var system: [String] = []
        var turns: [(role: String, text: String)] = []
        for (i, m) in (body["messages"]?.arrayValue ?? []).enumerated() {
            let role = m["role"]?.stringValue ?? ""
            let text = try Self.text(m["content"], at: i, provider: provider)
            switch role {
            case "system", "developer": system.append(text)
            case "user", "assistant": turns.append((role, text))
            default: throw unsupported("messages[\(i)]: role \"\(ErrorText.shorten(role))\" has no counterpart (only system, user and assistant)")
            }
        }
        guard let last = turns.last else {
            throw PMXError(.invalidRequest, "messages: replicate needs a user message", provider: provider)
        }
        var input = JSONObject()
        if turns.count == 1 && last.role == "user" {
            input["prompt"] = .string(last.text)
        } else {
            let lines = turns.map { ($0.role == "user" ? "User: " : "Assistant: ") + $0.text }
            input["prompt"] = .string(lines.joined(separator: "\n") + "\nAssistant:")
        }
        if !system.isEmpty { input["system_prompt"] = .string(system.joined(separator: "\n\n")) }
        if let max = SamplingFields.maxTokens(body) { input["max_tokens"] = max }
        SamplingFields.copy(["temperature", "top_p", "seed", "presence_penalty", "frequency_penalty"], from: body, into: &input)
        if let stops = try SamplingFields.stopSequences(body, provider: provider), !stops.isEmpty {
            input["stop_sequences"] = .string(stops.compactMap(\.stringValue).joined(separator: ","))
        }
        if let extra = body["replicate_input"] {
            guard let o = extra.objectValue else {
                throw PMXError(.invalidRequest, "replicate_input: expected an object, got \(extra.typeName)", provider: provider)
            }
            for m in o.members { input[m.key] = m.value }
        }
        return input
    }

    /// A message's text: a string, or text parts (images have no counterpart).
    private static func text(_ content: JSONValue?, at i: Int, provider: String) throws -> String {
        switch content {
        case .string(let s)?: return s
        case nil, .null?: return ""
        case .array(let parts)?:
            return try parts.enumerated().map { j, part -> String in
                guard part["type"]?.stringValue == "text", let t = part["text"]?.stringValue else {
                    throw PMXError(.unsupported, "replicate: messages[\(i)].content[\(j)]: only text parts have a counterpart", provider: provider)
                }
                return t
            }.joined(separator: " ")
        case let other?:
            throw PMXError(.invalidRequest, "messages[\(i)].content: expected a string or parts, got \(other.typeName)", provider: provider)
        }
    }
}
