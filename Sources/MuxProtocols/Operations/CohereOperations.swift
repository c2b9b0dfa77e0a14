// SPDX-License-Identifier: Apache-2.0
import MuxConfig

/// The operations of pmx_router_call that Cohere's protocol has, one line each (the rest are
/// refused with PMX_ERR_UNSUPPORTED and the request fails over).
extension CohereCodec {
    public func operationCodec(_ operation: OperationName, provider: ProviderConfig) -> (any OperationCodec)? {
        switch operation {
        case .rerank: CohereRerank()
        case .responses: ResponsesViaChat(chat: self)
        default: nil
        }
    }
}
