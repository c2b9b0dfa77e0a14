// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// An OpenAI-shaped `/completions` stream: SSE `data:` chunks in the final shape
/// (`text_completion`, `choices[].text`, `finish_reason`, `usage` on the last one with
/// `stream_options.include_usage`), then `data: [DONE]`. Any byte split.
package final class TextCompletionStreamDecoder: SSEJSONStreamDecoder {
    private var metaSent = false

    package init(provider: String) { super.init(provider: provider, what: "completions stream event") }

    override func handle(_ json: JSONValue, _ emit: (ProviderEvent) -> Void) throws {
        if !metaSent, json["id"] != nil || json["model"] != nil {
            metaSent = true
            emit(.meta(id: json["id"]?.stringValue, model: json["model"]?.stringValue))
        }
        // One choice per stream (the router refuses several prompts when streaming).
        if let choice = json["choices"]?.arrayValue?.first {
            if let text = choice["text"]?.stringValue, !text.isEmpty { emit(.delta(content: text, toolCalls: nil)) }
            if let reason = choice["finish_reason"]?.stringValue { emit(.finish(reason: reason)) }
        }
        if let u = json["usage"], u.objectValue != nil, let usage = Usage(openAI: u) { emit(.usage(usage)) }
    }
}
