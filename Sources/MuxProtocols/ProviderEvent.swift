// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What a wire protocol decodes a provider's stream into, whatever the provider.
public enum ProviderEvent: Sendable, Equatable {
    /// Response metadata (id, model) as soon as the provider tells it.
    case meta(id: String?, model: String?)
    /// Text and/or tool-call deltas in OpenAI's shape (`tool_calls` keyed by `index`).
    case delta(content: String?, toolCalls: [JSONValue]?)
    /// A piece of the model's reasoning (OpenAI-compatible `reasoning_content` / `reasoning`,
    /// Anthropic `thinking_delta`, Gemini thought parts, Ollama `thinking`). Its own case, not a
    /// third member of `delta`: plain chat's per-token delta stays as small as it was.
    case reasoning(String)
    /// A finished Anthropic thinking block (`{"type":"thinking","thinking","signature"}` or
    /// `{"type":"redacted_thinking","data"}`), kept on the message as `thinking_blocks` so the
    /// caller can send it back in the next turn; hosts see its text as `reasoning` deltas.
    case thinkingBlock(JSONValue)
    case finish(reason: String)
    /// An event (delta, reasoning, finish) of choice `index` 1...127 when the request asked
    /// for several (`n` > 1). Choice 0's events stay unwrapped: one-choice streams are as before.
    indirect case choice(index: Int, ProviderEvent)
    case usage(Usage)
    /// An event of an operation's own stream, handed to the caller as it is (responses.create's
    /// `response.*` events, passed through or made from a chat stream). Boxed: plain chat's
    /// events stay the size they were.
    indirect case operation(JSONObject)
    /// The operation's full result once its stream is complete (the Response of
    /// `response.completed`): what `done` carries. Not an event for the caller.
    indirect case operationResult(JSONObject)
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
