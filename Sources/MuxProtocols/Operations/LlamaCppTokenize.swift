// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `tokens.count` on llama-server's `/tokenize` (at the server root: the base URL's `/v1` is
/// dropped): `{"content": <text>}` → `{"tokens": [...]}`, counted. The text is `input`, or the
/// messages' texts one a line: the server's own tokenizer, without the chat template's tokens.
public struct LlamaCppTokenize: OperationCodec {
    public init() {}

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let body = JSONObject([("content", .string(TokenCountInput.plainText(request))), ("add_special", .bool(true))])
        return ProviderHTTPCall(method: "POST", url: serverRoot(provider) + "/tokenize",
                                headers: OpenAIProtocol.headers(for: provider, streaming: false), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "llama.cpp /tokenize response")
        guard let tokens = o["tokens"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "llama.cpp /tokenize response has no tokens array")
        }
        return TokenCountInput.result(Int64(tokens.count))
    }
}
