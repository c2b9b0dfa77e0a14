// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig

/// The fields of a `responses.create` request the router reads or translates, checked once
/// before anything is routed (PMX_ERR_INVALID_REQUEST naming the field). The rest goes to
/// OpenAI and Azure as written; what a translation cannot carry is refused per protocol
/// (ResponsesToChat), so the request fails over to a server that stores responses.
package enum ResponsesFields {
    package static func validate(_ r: inout FieldReader) throws {
        if let input = r.raw("input") {
            switch input {
            case .string: break
            case .array(let items):
                for (i, item) in items.enumerated() where item.objectValue == nil {
                    throw PMXError(.invalidRequest, "input[\(i)]: expected an object, got \(item.typeName)")
                }
            default: throw r.fail("input", "expected a string or an array of items, got \(input.typeName)")
            }
        } else if r.raw("previous_response_id") == nil && r.raw("conversation") == nil && r.raw("prompt") == nil {
            throw r.fail("input", "is required")
        }
        _ = try r.string("instructions", nonEmpty: false)
        _ = try r.string("previous_response_id")
        _ = try r.int("max_output_tokens", min: 1, max: NumericBounds.tokens)
        _ = try r.double("temperature", min: 0, max: 2)
        _ = try r.double("top_p", min: 0, max: 1)
        _ = try r.bool("parallel_tool_calls")
        if let tools = try r.array("tools") {
            for (i, tool) in tools.enumerated() where tool["type"]?.stringValue == nil {
                throw PMXError(.invalidRequest, "tools[\(i)].type: is required (a string)")
            }
        }
        if let choice = r.raw("tool_choice"), choice.stringValue == nil, choice.objectValue == nil {
            throw r.fail("tool_choice", "expected a string or an object, got \(choice.typeName)")
        }
        if var text = try r.object("text"), var format = try text.object("format") {
            _ = try format.requiredString("type")
        }
        if var reasoning = try r.object("reasoning") {
            _ = try reasoning.string("effort")
        }
    }
}
