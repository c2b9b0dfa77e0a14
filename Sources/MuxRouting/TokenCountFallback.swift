// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols

/// `tokens.count` when no candidate can count (Anthropic, Gemini and llama.cpp have counters;
/// the others refuse with PMX_ERR_UNSUPPORTED before anything is sent): the router answers its
/// own estimate instead of an error, marked `"estimated": true`. It lives here, after routing,
/// because an OperationCodec always makes an HTTP call: the rule is "every routed attempt was
/// refused as unsupported", so a provider that has a counter is always asked first, and a
/// counter that FAILS (429, 500, ...) still fails the call. The estimate is the one budgets and
/// rate limits use (TokenEstimate): UTF-8 bytes / 4, rounded up, + 4 per message.
enum TokenCountFallback {
    static func estimate(_ request: OperationRequest) -> JSONObject {
        let body = TokenCountInput.chatBody(request)
        let messages = body["messages"]?.arrayValue ?? []
        var bytes = 0
        for m in messages { bytes = bytes.addingSaturated(ChatRequest.text(of: m["content"]).utf8.count) }
        let n = (bytes.addingSaturated(3) / 4).addingSaturated(4 * min(messages.count, 1 << 40))
        return JSONObject([("object", "tokens.count"), ("input_tokens", .int(Int64(clamping: n))), ("estimated", true)])
    }
}
