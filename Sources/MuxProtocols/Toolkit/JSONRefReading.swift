// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What the stream decoders read from a borrowed `JSONRef` beyond its public surface: the
/// node's kind, read from the tape (no `JSONValue` made).
extension JSONRef {
    /// The boolean, nil for anything else.
    package var readBool: Bool? {
        switch kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    /// A number as the `JSONValue` it converts to (`.int` or `.double`), without converting
    /// anything else (nil for every other kind).
    package var numberValue: JSONValue? {
        switch kind {
        case .int: .int(Int64(bitPattern: node.body))
        case .real: .double(Double(bitPattern: node.body))
        default: nil
        }
    }

    /// The JSON type's name as `JSONValue.typeName` says it (for error messages).
    package var kindName: String {
        switch kind {
        case .null: "null"
        case .false, .true: "boolean"
        case .int, .real: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
