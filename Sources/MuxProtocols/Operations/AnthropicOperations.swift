// SPDX-License-Identifier: Apache-2.0
import MuxConfig

/// The operations of pmx_router_call that Anthropic's protocol has, one line each (the rest are
/// refused with PMX_ERR_UNSUPPORTED and the request fails over).
extension AnthropicCodec {
    public func operationCodec(_ operation: OperationName, provider: ProviderConfig) -> (any OperationCodec)? {
        switch operation {
        case .tokensCount: AnthropicTokenCount()
        case .responses: ResponsesViaChat(chat: self)
        default: nil
        }
    }
}
