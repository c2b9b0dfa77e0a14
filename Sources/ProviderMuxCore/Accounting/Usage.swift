/// Token usage of one response, in OpenAI's terms.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? (promptTokens + completionTokens)
    }

    /// Reads an OpenAI `usage` object; nil when absent or null.
    public init?(openAI value: JSONValue?) {
        guard let o = value?.objectValue else { return nil }
        let p = Int(o["prompt_tokens"]?.intValue ?? 0)
        let c = Int(o["completion_tokens"]?.intValue ?? 0)
        self.init(promptTokens: p, completionTokens: c, totalTokens: o["total_tokens"]?.intValue.map { Int($0) })
    }

    public func json() -> JSONValue {
        ["prompt_tokens": .int(Int64(promptTokens)), "completion_tokens": .int(Int64(completionTokens)),
         "total_tokens": .int(Int64(totalTokens))]
    }
}
