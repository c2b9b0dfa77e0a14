// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `tokens.count` on Anthropic's `/v1/messages/count_tokens`: the Messages body the chat
/// translation builds (system hoisted, tools converted) minus what the counter refuses
/// (`max_tokens`, `stream`, sampling fields, `metadata`), answered with `{"input_tokens"}`.
public struct AnthropicTokenCount: OperationCodec {
    public init() {}

    /// The keys `/v1/messages/count_tokens` takes (anthropic-sdk-python message_count_tokens_params.py).
    static let countKeys: Set<String> = ["model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let modelName = try ModelGuard.require(model, provider: provider, protocolName: "the Anthropic protocol", operation: "to count tokens")
        let messages = try AnthropicRequestTranslation(request: TokenCountInput.chatBody(request), provider: provider)
            .body(model: modelName, stream: false)
        var body = JSONObject()
        for m in messages.members where Self.countKeys.contains(m.key) { body[m.key] = m.value }
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/v1/messages/count_tokens"),
                                headers: AnthropicCodec.headers(provider, accept: AuthHeaders.json),
                                body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "Anthropic count_tokens response")
        return TokenCountInput.result(try OperationBodies.count(o["input_tokens"], provider: provider, path: "count_tokens response: input_tokens"))
    }
}
