// SPDX-License-Identifier: Apache-2.0
/// Parses JSON text to `JSONValue` (our own scanner, `JSONScanner`; jansson stays only as the
/// tests' oracle). For reading a few fields of a document in place, use `JSONDocument`.
public enum JSONParser {
    /// The deepest nesting accepted (the root is level 1); deeper is `.invalidJSON` "maximum
    /// parsing depth reached". Why 256: `JSONScanner.maxDepth`.
    public static let maxDepth = JSONScanner.maxDepth

    /// Parses UTF-8 bytes. Errors name the line, column and byte offset, and distinguish
    /// invalid UTF-8 (`.invalidUTF8`) from invalid JSON (`.invalidJSON`).
    /// Large documents are checked against `JSONBudget` first (the tape and the `JSONValue`
    /// built from it are both alive at the peak).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var tape = JSONTapeCache.take()
        defer { JSONTapeCache.give(&tape) }
        try tape.load(bytes)
        guard let text = tape.text, let nodes = tape.nodes else { return .null }
        return JSONConversion.value(text, nodes, 0)
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { buffer throws in try parse(UnsafeRawBufferPointer(buffer)) }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { buffer throws in try parse(buffer) }
    }
}
