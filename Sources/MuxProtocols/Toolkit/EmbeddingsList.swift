// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// An OpenAI embeddings list (`object`, `data[]`, `model`, `usage`) from the vectors another
/// protocol answered with: one per input, in input order, each an array of numbers.
public enum EmbeddingsList {
    /// `vector(i, item)` picks the numbers out of the `i`th answered item (nil: missing);
    /// `path(i)` names that place in the answer for an error. A count that does not match the
    /// inputs, or a vector that is not all numbers, breaks the protocol.
    public static func build(_ items: [JSONValue], inputs: Int, model: String, promptTokens: Int,
                             protocolName: String, provider: String,
                             path: (Int) -> String, vector: (JSONValue) -> JSONValue? = { $0 }) throws -> JSONObject {
        guard items.count == inputs else {
            throw PMXError(.upstreamProtocol, "\(protocolName): \(items.count) embeddings for \(inputs) inputs", provider: provider)
        }
        var data: [JSONValue] = []
        data.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let numbers = vector(item)?.arrayValue, numbers.allSatisfy({ $0.doubleValue != nil }) else {
                throw PMXError(.upstreamProtocol, "\(protocolName): \(path(i)) is not an array of numbers", provider: provider)
            }
            data.append(["object": "embedding", "index": .int(Int64(i)), "embedding": .array(numbers)])
        }
        var o = JSONObject()
        o["object"] = "list"
        o["data"] = .array(data)
        o["model"] = .string(model)
        o["usage"] = ["prompt_tokens": .int(Int64(promptTokens)), "total_tokens": .int(Int64(promptTokens))]
        return o
    }
}
