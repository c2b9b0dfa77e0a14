// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `rerank` on Cohere's `/v2/rerank`: `{model, query, documents: [string], top_n?,
/// max_tokens_per_doc?}` (v2 takes strings only and has no `return_documents`: texts of
/// document objects are sent, and the router adds `document` from the request). The answer's
/// `meta.billed_units.search_units` (Cohere bills searches, not tokens) becomes
/// `usage.search_units`.
public struct CohereRerank: OperationCodec {
    public init() {}

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let input = try RerankInput.parse(request.body)
        let modelName = try ModelGuard.require(model, provider: provider, protocolName: "cohere", operation: "for /v2/rerank")
        var body = JSONObject([("model", .string(modelName)), ("query", .string(input.query)),
                               ("documents", .array(input.texts.map { .string($0) }))])
        if let n = input.topN { body["top_n"] = .int(Int64(clamping: n)) }
        if let m = request.body["max_tokens_per_doc"] { body["max_tokens_per_doc"] = m }
        return ProviderHTTPCall(method: "POST", url: CodecSupport.url(provider, "/v2/rerank"),
                                headers: CohereCodec.headers(provider, streaming: false), body: JSONWriter.bytes(.object(body)))
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let input = try RerankInput.parse(request.body)
        let o = try OperationBodies.object(body, provider: provider, what: "cohere /v2/rerank response")
        guard let results = o["results"]?.arrayValue else {
            throw CodecSupport.protocolError(provider, "cohere /v2/rerank response has no results array")
        }
        var out = JSONObject([("results", .array(try RerankResults.normalize(results, input: input, provider: provider.name)))])
        if let id = o["id"]?.stringValue { out["id"] = .string(id) }
        if let units = o["meta"]?["billed_units"]?["search_units"]?.intValue {
            out["usage"] = .object(JSONObject([("search_units", .int(units))]))
        }
        return out
    }
}
