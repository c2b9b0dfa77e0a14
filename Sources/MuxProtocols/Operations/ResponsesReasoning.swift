// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Reasoning across turns of a translated `responses.create`: what a `reasoning` output item
/// must carry so that the caller, resending it (stateless turns resend `reasoning` items), gives
/// the upstream back what it needs. Anthropic checks each thinking block's signature and wants
/// the last assistant turn's blocks resent in a tool loop (else 400); DeepSeek wants each tool
/// turn's `reasoning_content` resent.
///
/// The thinking text goes in `content` (`reasoning_text`). The opaque part rides in
/// `encrypted_content`, where OpenAI carries its own opaque reasoning state: a thinking block's
/// signature as `pmx.thinking:<signature>`, a redacted block's data as
/// `pmx.redacted_thinking:<data>`. The prefix tells them from OpenAI's own encrypted content,
/// which means nothing to another vendor and is not sent on.
public enum ResponsesReasoning {
    static let signaturePrefix = "pmx.thinking:"
    static let redactedPrefix = "pmx.redacted_thinking:"

    /// The `reasoning` output items of a chat answer's message: one per thinking block when the
    /// answer has them (Anthropic), else one with its `reasoning_content` (none when empty).
    public static func outputItems(of message: JSONValue?) -> [JSONValue] {
        if let blocks = message?["thinking_blocks"]?.arrayValue, !blocks.isEmpty {
            return blocks.compactMap { item(block: $0).map(JSONValue.object) }
        }
        guard let text = message?["reasoning_content"]?.stringValue, !text.isEmpty else { return [] }
        return [.object(ResponseObject.reasoningItem(id: ResponseObject.newID("rs_"), text: text))]
    }

    /// One thinking block as a `reasoning` item; a block of another shape is left out.
    static func item(block: JSONValue) -> JSONObject? {
        guard let opaque = encryptedContent(of: block) else { return nil }
        let text = block["type"]?.stringValue == "thinking" ? block["thinking"]?.stringValue ?? "" : ""
        var item = ResponseObject.reasoningItem(id: ResponseObject.newID("rs_"), text: text)
        item["encrypted_content"] = .string(opaque)
        return item
    }

    /// A thinking block's `encrypted_content` (its signature, or a redacted block's data);
    /// nil for a block of another shape.
    static func encryptedContent(of block: JSONValue) -> String? {
        switch block["type"]?.stringValue {
        case "thinking": block["signature"]?.stringValue.map { signaturePrefix + $0 }
        case "redacted_thinking": block["data"]?.stringValue.map { redactedPrefix + $0 }
        default: nil
        }
    }

    /// Input `reasoning` items collected until the assistant turn they belong to (the next
    /// assistant message or `function_call`).
    struct Pending {
        var texts: [String] = []
        var blocks: [JSONValue] = []

        var isEmpty: Bool { texts.isEmpty && blocks.isEmpty }

        /// Reads one input `reasoning` item: its text (`content` reasoning_text, else the
        /// `summary` texts) and, when its `encrypted_content` is one of ours, its block.
        mutating func add(_ item: JSONValue, at path: String) throws {
            let text = try Self.text(item["content"], at: "\(path).content") ?? Self.text(item["summary"], at: "\(path).summary") ?? ""
            switch item["encrypted_content"] {
            case .string(let opaque) where opaque.hasPrefix(ResponsesReasoning.signaturePrefix):
                blocks.append(["type": "thinking", "thinking": .string(text),
                               "signature": .string(String(opaque.dropFirst(ResponsesReasoning.signaturePrefix.count)))])
            case .string(let opaque) where opaque.hasPrefix(ResponsesReasoning.redactedPrefix):
                blocks.append(["type": "redacted_thinking", "data": .string(String(opaque.dropFirst(ResponsesReasoning.redactedPrefix.count)))])
            case nil, .null, .string: break
            case let other?:
                throw PMXError(.invalidRequest, "\(path).encrypted_content: expected a string, got \(other.typeName)")
            }
            if !text.isEmpty { texts.append(text) }
        }

        /// The joined `text` of a list of parts; nil when absent or without text.
        private static func text(_ value: JSONValue?, at path: String) throws -> String? {
            switch value {
            case nil, .null: return nil
            case .array(let parts):
                let texts = parts.compactMap { $0["text"]?.stringValue }
                return texts.isEmpty ? nil : texts.joined()
            case let other?: throw PMXError(.invalidRequest, "\(path): expected an array of parts, got \(other.typeName)")
            }
        }

        /// Puts the collected reasoning on an assistant chat message (`reasoning_content`, and
        /// `thinking_blocks` when signed blocks came) and starts over.
        mutating func attach(to message: inout JSONObject) {
            if !texts.isEmpty { message["reasoning_content"] = .string(texts.joined(separator: "\n")) }
            if !blocks.isEmpty { message["thinking_blocks"] = .array(blocks) }
            self = Pending()
        }
    }
}
