import CJansson

/// Parses JSON text with jansson and converts it to `JSONValue`.
public enum JSONParser {
    /// Parses UTF-8 bytes. Errors name the line, column and byte offset, and distinguish
    /// invalid UTF-8 from invalid JSON.
    /// Large documents are checked against `JSONBudget` first (both trees, jansson's and the
    /// `JSONValue`, are alive at the peak; freeing jansson's nodes during the conversion does
    /// not lower the peak: measured, the freed small blocks stay in the heap).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        let root = try load(bytes)
        defer { pmx_json_decref(root) }
        return convert(root)
    }

    /// jansson's tree for the bytes (within `JSONBudget`); the caller owns the reference.
    package static func load(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeMutablePointer<json_t> {
        try JSONBudget.check(bytes)
        var error = json_error_t()
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        guard let root = json_loadb(base ?? UnsafePointer(bitPattern: 1), bytes.count, Int(JSON_DECODE_ANY | JSON_ALLOW_NUL), &error)
        else { throw describe(error) }
        return root
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var copy = text
        return try copy.withUTF8 { buffer throws in try parse(UnsafeRawBufferPointer(buffer)) }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { buffer throws in try parse(buffer) }
    }

    private static func describe(_ error: json_error_t) -> PMXError {
        var e = error
        let text = withUnsafeBytes(of: &e.text) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        // jansson keeps the error code in the last byte of `text` (json_error_code()).
        let code = withUnsafeBytes(of: &e.text) { $0[$0.count - 1] }
        let where_ = "line \(error.line), column \(error.column), byte \(error.position)"
        if code == UInt8(json_error_invalid_utf8.rawValue) {
            return PMXError(.invalidUTF8, "invalid UTF-8 at \(where_): \(text)")
        }
        return PMXError(.invalidJSON, "invalid JSON at \(where_): \(text)")
    }

    package static func convert(_ j: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch json_type(rawValue: UInt32(pmx_json_type(j))) {
        case JSON_OBJECT:
            var o = JSONObject()
            var iter = json_object_iter(j)
            while let it = iter {
                let keyPtr = json_object_iter_key(it)!
                let keyLen = json_object_iter_key_len(it)
                let key = String(decoding: UnsafeRawBufferPointer(start: keyPtr, count: keyLen), as: UTF8.self)
                o.appendUnchecked(key, convert(json_object_iter_value(it)!))
                iter = json_object_iter_next(j, it)
            }
            return .object(o)
        case JSON_ARRAY:
            let n = json_array_size(j)
            var a: [JSONValue] = []
            a.reserveCapacity(n)
            for i in 0..<n { a.append(convert(json_array_get(j, i)!)) }
            return .array(a)
        case JSON_STRING:
            let p = json_string_value(j)!
            return .string(String(decoding: UnsafeRawBufferPointer(start: p, count: json_string_length(j)), as: UTF8.self))
        case JSON_INTEGER:
            return .int(Int64(json_integer_value(j)))
        case JSON_REAL:
            return .double(json_real_value(j))
        case JSON_TRUE:
            return .bool(true)
        case JSON_FALSE:
            return .bool(false)
        default:
            return .null
        }
    }
}
