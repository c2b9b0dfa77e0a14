// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `responses.create` on a protocol without `/responses`: sent as that protocol's chat call
/// (ResponsesToChat), its chat answer made a Response (ResponseObject); streamed, its chat
/// events become Responses events (ResponsesStreamBuilder).
public struct ResponsesViaChat: OperationCodec {
    /// The protocol whose chat path carries the request.
    let chat: any WireCodec

    public init(chat: any WireCodec) { self.chat = chat }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        try chat.chatCall(ResponsesToChat.chatRequest(request, provider: provider), model: model, stream: stream, provider: provider)
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        ResponseObject.fromChat(try chat.decodeChat(body, model: model, provider: provider), request: request.body)
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        ResponsesChatStreamDecoder(inner: chat.streamDecoder(model: model, provider: provider),
                                   builder: ResponsesStreamBuilder(request: request.body, model: model ?? request.model ?? ""))
    }
}
