// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A `rerank` request as the router reads it: `query`, `documents` (strings, or objects with a
/// `text`), `top_n` and `return_documents`. The documents' texts are kept to give results
/// their `document` when the vendor does not send it back (Cohere v2 never does).
public struct RerankInput: Sendable {
    public var query: String
    public var texts: [String]
    public var topN: Int?
    public var returnDocuments: Bool

    public static func parse(_ body: JSONObject) throws -> RerankInput {
        guard let q = body["query"] else { throw OperationFields.fail("query", "is required") }
        guard let query = q.stringValue, !query.isEmpty else { throw OperationFields.fail("query", "expected a non-empty string") }
        guard let docs = body["documents"] else { throw OperationFields.fail("documents", "is required") }
        guard let items = docs.arrayValue, !items.isEmpty else { throw OperationFields.fail("documents", "expected a non-empty array") }
        let texts: [String] = try items.enumerated().map { i, d in
            if let s = d.stringValue { return s }
            if let s = d["text"]?.stringValue { return s }
            throw OperationFields.fail("documents[\(i)]", "expected a string or an object with a \"text\" string")
        }
        var topN: Int? = nil
        if let t = body["top_n"], !t.isNull {
            guard let n = t.intValue, n >= 1, n <= 1_000_000 else {
                throw OperationFields.fail("top_n", "expected a positive integer")
            }
            topN = Int(clamping: n)
        }
        var returnDocuments = false
        if let r = body["return_documents"], !r.isNull {
            guard let b = r.boolValue else { throw OperationFields.fail("return_documents", "expected a boolean") }
            returnDocuments = b
        }
        return RerankInput(query: query, texts: texts, topN: topN, returnDocuments: returnDocuments)
    }
}

/// The normalization every rerank result gets, whatever the vendor did: results best-first by
/// `relevance_score` (ties by input index), cut to `top_n`, `document: {"text"}` present exactly
/// when `return_documents` is true. A result with an index outside the documents, or without a
/// numeric score, breaks the protocol.
public enum RerankResults {
    public static func normalize(_ results: [JSONValue], scoreKey: String = "relevance_score", input: RerankInput,
                                 provider: String) throws -> [JSONValue] {
        var rows: [(index: Int, score: Double)] = []
        rows.reserveCapacity(results.count)
        for (i, r) in results.enumerated() {
            guard let idx = r["index"]?.intValue, idx >= 0, idx < Int64(input.texts.count) else {
                throw PMXError(.upstreamProtocol, "rerank response: results[\(i)].index is missing or not one of the \(input.texts.count) documents", provider: provider)
            }
            guard let score = r[scoreKey]?.doubleValue, score.isFinite else {
                throw PMXError(.upstreamProtocol, "rerank response: results[\(i)].\(scoreKey) is not a number", provider: provider)
            }
            rows.append((Int(clamping: idx), score))
        }
        rows.sort { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }
        if let n = input.topN, rows.count > n { rows.removeLast(rows.count - n) }
        return rows.map { row in
            var o = JSONObject([("index", .int(Int64(clamping: row.index))), ("relevance_score", .double(row.score))])
            if input.returnDocuments { o["document"] = .object(JSONObject([("text", .string(input.texts[row.index]))])) }
            return .object(o)
        }
    }
}
