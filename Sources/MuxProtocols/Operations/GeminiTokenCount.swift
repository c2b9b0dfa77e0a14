// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `tokens.count` on Gemini's `models/{m}:countTokens`, in the `generateContentRequest` form:
/// the only one that counts the system instruction and tools (`contents` alone counts the turns
/// only). The chat translation builds the request; its `generationConfig` is left out (it does
/// not change the count). The answer's `totalTokens` (not `totalTokenCount`) is the count.
public struct GeminiTokenCount: OperationCodec {
    public init() {}

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let resource = try GeminiCodec.resource(model, provider: provider)
        let chat = ChatRequest(body: TokenCountInput.chatBody(request), model: model, route: request.route)
        let full = try GeminiRequestTranslation(provider: provider).body(for: chat)
        var inner = JSONObject([("model", .string(resource))])
        for key in ["contents", "systemInstruction", "tools", "toolConfig"] { if let v = full[key] { inner[key] = v } }
        let body = JSONObject([("generateContentRequest", .object(inner))])
        return ProviderHTTPCall(method: "POST", url: provider.baseURL + "/v1beta/" + resource + ":countTokens",
                                headers: GeminiCodec().headers(provider, streaming: false), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "gemini countTokens response")
        var out = TokenCountInput.result(try OperationBodies.count(o["totalTokens"], provider: provider, path: "countTokens response: totalTokens"))
        if let cached = o["cachedContentTokenCount"]?.intValue { out["cached_tokens"] = .int(cached) }
        return out
    }
}
