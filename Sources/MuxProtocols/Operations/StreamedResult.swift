// SPDX-License-Identifier: Apache-2.0
import MuxBase

extension OperationRequest {
    /// The result of a streamed call, made from the answer the router accumulated from its
    /// events (chat-shaped: `StreamAccumulator`): what `done` carries for this operation.
    public func streamedResult(_ accumulated: JSONObject) -> JSONObject {
        switch operation {
        case .completions: TextCompletion.fromChat(accumulated)
        default: accumulated
        }
    }
}
