// SPDX-License-Identifier: Apache-2.0

/// OpenAI's finish reasons where other protocols have no word of their own.
public enum FinishReasons {
    /// A turn that ended normally. Cohere (`COMPLETE`), Gemini (`STOP`) and Ollama (`stop`) say
    /// the same whether the model answered or called tools; OpenAI says `tool_calls` for the
    /// latter, and clients branch on it.
    @inline(__always)
    public static func endOfTurn(calledTools: Bool) -> String { calledTools ? "tool_calls" : "stop" }
}
