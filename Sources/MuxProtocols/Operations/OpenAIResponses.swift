// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `responses.create` passed through to OpenAI's `POST {base}/responses` and Azure's (the v1
/// API's `/openai/v1/responses`, or `/openai/responses?api-version=…` when the provider sets
/// `api_version`; both take the deployment as `model` in the body, not in the path). The body
/// goes as written with the served model; the Response comes back as the server wrote it.
public struct OpenAIResponses: OperationCodec {
    let preset: any OpenAIPreset

    public init(preset: any OpenAIPreset) { self.preset = preset }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        var body = OperationBodies.passthrough(request, model: model)
        var url = try preset.url(provider, "/responses", model: model)
        if provider.type == .azure {
            if let deployment = provider.options["deployment"]?.stringValue { body["model"] = .string(deployment) }
            if let version = provider.options["api_version"]?.stringValue { url = provider.baseURL + "/openai/responses?api-version=\(version)" }
        }
        if body["model"] == nil {
            throw PMXError(.invalidRequest, "responses.create needs a model: name one in the request or set the provider's default_model", provider: provider.name)
        }
        if stream { body["stream"] = true }
        return ProviderHTTPCall(method: "POST", url: url, headers: preset.headers(provider, streaming: stream), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        try Self.decodeResponse(body, provider: provider.name)
    }

    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? {
        ResponsesStreamDecoder(provider: provider.name)
    }

    /// A Response as the caller gets it: in-band errors raised, `output` required, usage
    /// numbers bounded.
    package static func decodeResponse(_ bytes: [UInt8], provider: String) throws -> JSONObject {
        let json = try CodecSupport.parseBody(bytes, provider: provider, what: "responses answer")
        guard var o = json.objectValue else {
            throw PMXError(.upstreamProtocol, "responses answer: expected an object, got \(json.typeName)", provider: provider)
        }
        try check(&o, provider: provider)
        return o
    }

    /// The checks made on a Response, whole or in a stream's final event.
    package static func check(_ o: inout JSONObject, provider: String) throws {
        if let err = o["error"], err != .null, o["output"] == nil {
            throw PMXError(.upstreamServer, "error in response body: \(ProviderErrorBody.message(err))", httpStatus: 200, provider: provider)
        }
        guard o["output"]?.arrayValue != nil else {
            throw PMXError(.upstreamProtocol, "responses answer has no output array", provider: provider)
        }
        if let u = o["usage"] { o["usage"] = Usage.sanitized(u) }
    }
}
