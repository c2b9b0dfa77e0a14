// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// `/v1/models`: the router's list (`provider/model` ids, usable as the `model` of a request)
/// with the fields OpenAI's Model object has (`created` is unknown for most providers: 0).
package enum ModelList {
    package static func openAI(_ list: JSONValue) -> JSONValue {
        guard case .object(var o) = list, let data = o["data"]?.arrayValue else { return list }
        o["data"] = .array(data.map { item in
            guard case .object(var m) = item else { return item }
            if m["created"] == nil { m["created"] = 0 }
            return .object(m)
        })
        return .object(o)
    }
}
