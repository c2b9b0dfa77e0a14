/// Token usage of one response, in OpenAI's terms.
public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    /// Prompt tokens served from the provider's prompt cache, where it reports them
    /// (OpenAI `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`,
    /// Gemini `cachedContentTokenCount`).
    public var cachedTokens: Int?
    /// Generation speed as the provider measured it (Ollama's eval_count / eval_duration).
    public var tokensPerSecond: Double?
    /// What this usage cost in USD by the router's pricing table; nil when the model has no price.
    public var costUSD: Double?

    public init(promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = totalTokens ?? (promptTokens + completionTokens)
        self.cachedTokens = cachedTokens
    }

    /// Reads an OpenAI `usage` object; nil when absent or null.
    public init?(openAI value: JSONValue?) {
        guard let o = value?.objectValue else { return nil }
        let p = Int(o["prompt_tokens"]?.intValue ?? 0)
        let c = Int(o["completion_tokens"]?.intValue ?? 0)
        self.init(promptTokens: p, completionTokens: c, totalTokens: o["total_tokens"]?.intValue.map { Int($0) },
                  cachedTokens: o["prompt_tokens_details"]?["cached_tokens"]?.intValue.map { Int($0) })
        tokensPerSecond = o["tokens_per_second"]?.doubleValue
        costUSD = o["cost_usd"]?.doubleValue
    }

    public func json() -> JSONValue {
        var o = JSONObject()
        o["prompt_tokens"] = .int(Int64(promptTokens))
        o["completion_tokens"] = .int(Int64(completionTokens))
        o["total_tokens"] = .int(Int64(totalTokens))
        if let cachedTokens { o["prompt_tokens_details"] = ["cached_tokens": .int(Int64(cachedTokens))] }
        if let tokensPerSecond { o["tokens_per_second"] = .double(tokensPerSecond) }
        if let costUSD { o["cost_usd"] = .double((costUSD * 1e8).rounded() / 1e8) }
        return .object(o)
    }
}
