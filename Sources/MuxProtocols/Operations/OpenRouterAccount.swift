// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// OpenRouter's account endpoints, for `openrouter` providers only: `openrouter.credits`
/// (`GET {base}/credits`, a management key) and `openrouter.generation` (`GET
/// {base}/generation?id=…`, the stats and `total_cost` of one generation; OpenRouter answers
/// 404 for a few seconds after the request, which fails like any 404). The answer's `data`
/// object is the result, with `object` naming the operation.
public struct OpenRouterAccount: OperationCodec {
    public enum Endpoint: Sendable { case credits, generation }
    let endpoint: Endpoint
    public init(_ endpoint: Endpoint) { self.endpoint = endpoint }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        var url = provider.baseURL
        switch endpoint {
        case .credits: url += "/credits"
        case .generation:
            guard let id = request.body["id"]?.stringValue, !id.isEmpty else { throw OperationFields.fail("id", "is required") }
            if WireSafety.hasControl(id) { throw OperationFields.fail("id", "must not contain control characters") }
            url += "/generation?id=" + WireSafety.pathSegment(id)
        }
        let headers = OperationBodies.replacing(OpenAIProtocol.headers(for: provider, streaming: false), "Content-Type", with: nil)
        return ProviderHTTPCall(method: "GET", url: url, headers: headers)
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let o = try OperationBodies.object(body, provider: provider, what: "openrouter response")
        guard var data = o["data"]?.objectValue else { throw CodecSupport.protocolError(provider, "openrouter response has no data object") }
        data["object"] = .string(endpoint == .credits ? "openrouter.credits" : "openrouter.generation")
        return data
    }
}
