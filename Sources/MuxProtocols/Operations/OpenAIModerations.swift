// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `moderations.create` on OpenAI's `/moderations` (openai, openai-compatible). `input` is a
/// string, strings (one result each) or content parts (one result); the answer is OpenAI's
/// `{"id", "model", "results": [{"flagged", "categories", "category_scores",
/// "category_applied_input_types"}]}`, passed on as it is. Mistral's `/v1/moderations` answers
/// another shape (its own category names, no `flagged`): MistralModerations maps it.
public struct OpenAIModerations: OpenAIPassthroughOperation {
    public let preset: any OpenAIPreset
    public let path = "/moderations"
    public init(preset: any OpenAIPreset) { self.preset = preset }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "/moderations response")
        guard let results = o["results"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "/moderations response has no results array")
        }
        for (i, r) in results.enumerated() where r["flagged"]?.boolValue == nil {
            throw CodecSupport.protocolError(provider, "/moderations response: results[\(i)].flagged is not a boolean")
        }
        return o
    }
}
