// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What a wire protocol decodes a provider's stream into, whatever the provider.
public enum ProviderEvent: Sendable, Equatable {
    /// Response metadata (id, model) as soon as the provider tells it.
    case meta(id: String?, model: String?)
    /// Text and/or tool-call deltas in OpenAI's shape (`tool_calls` keyed by `index`).
    case delta(content: String?, toolCalls: [JSONValue]?)
    case finish(reason: String)
    case usage(Usage)
    /// The provider reported an error inside the stream.
    case error(PMXError)
    /// The stream ended normally (`[DONE]`, `done: true`, `message_stop`, ...).
    case end
}

extension PMXError: Equatable {
    public static func == (a: PMXError, b: PMXError) -> Bool {
        a.status == b.status && a.message == b.message && a.httpStatus == b.httpStatus
    }
}
