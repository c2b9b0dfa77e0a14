// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols

/// Rough token estimate for budgeting before a request is sent (no tokenizer in the library):
/// total UTF-8 bytes of every message's text / 4, rounded up, + 4 per message, plus the
/// expected output (`max_completion_tokens` / `max_tokens` if given, else 256).
public enum TokenEstimate {
    /// Output budgeted when the request sets no limit.
    public static let defaultOutput = 256

    public static func prompt(_ request: ChatRequest) -> Int {
        guard let messages = request.body["messages"]?.arrayValue else { return 0 }
        var bytes = 0
        for m in messages { bytes += ChatRequest.text(of: m["content"]).utf8.count }
        return (bytes + 3) / 4 + 4 * messages.count
    }

    /// Prompt + expected output.
    public static func total(_ request: ChatRequest) -> Int {
        prompt(request).addingSaturated(expectedOutput(request))
    }

    public static func expectedOutput(_ request: ChatRequest) -> Int {
        // Parsing bounded both to NumericBounds.tokens; clamped again for requests built in code.
        // Two lookups written out: a loop over an array literal of the keys allocated it per request.
        var v = request.body["max_completion_tokens"]?.intValue ?? 0
        if v <= 0 { v = request.body["max_tokens"]?.intValue ?? 0 }
        return v > 0 ? Int(SafeNumbers.clamp(v, 1, NumericBounds.tokens)) : defaultOutput
    }
}
