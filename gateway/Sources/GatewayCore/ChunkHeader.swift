// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What every chunk of one OpenAI stream repeats (`id`, `object`, `created`, `model`), and the
/// closing usage chunk (`choices: []`) `stream_options.include_usage` asks for. Shared by the
/// chat and text-completion encoders; the model is the one the router's `start` names.
package struct ChunkHeader {
    private let id: String
    private let object: String
    private let created: Int64
    private var model: String

    package init(id: String, object: String, created: Int64, model: String) {
        self.id = id
        self.object = object
        self.created = created
        self.model = model
    }

    /// The model of the attempt that started (a failover may change it); empty keeps the old.
    package mutating func started(model m: String) { if !m.isEmpty { model = m } }

    package func fields() -> JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        o["object"] = .string(object)
        o["created"] = .int(created)
        o["model"] = .string(model)
        return o
    }

    /// The usage chunk, when it was asked for and the response has usage.
    package func usageChunk(_ response: JSONObject, requested: Bool, into out: inout [UInt8]) {
        guard requested, let usage = response["usage"] else { return }
        var o = fields()
        o["choices"] = []
        o["usage"] = usage
        SSEFrames.data(.object(o), into: &out)
    }
}
