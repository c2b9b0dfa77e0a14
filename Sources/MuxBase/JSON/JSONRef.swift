import CJansson

/// A parsed document kept in jansson's own tree, read in place: hot paths (a stream's chunk
/// after chunk) look up the few fields they need instead of converting the whole tree to
/// `JSONValue`. Only subtrees asked for with `value` are converted.
public final class JSONDocument {
    private let root: UnsafeMutablePointer<json_t>

    /// Parses UTF-8 bytes; errors as `JSONParser.parse`.
    public init(_ bytes: UnsafeRawBufferPointer) throws {
        root = try JSONParser.load(bytes)
    }

    public init(_ bytes: [UInt8]) throws {
        root = try bytes.withUnsafeBytes { try JSONParser.load($0) }
    }

    deinit { pmx_json_decref(root) }

    /// The root value; valid while this document lives (keep the document in scope).
    public var ref: JSONRef { JSONRef(root) }
}

/// A borrowed node of a `JSONDocument`. Never outlives its document.
public struct JSONRef {
    @usableFromInline package let node: UnsafeMutablePointer<json_t>
    @inlinable package init(_ node: UnsafeMutablePointer<json_t>) { self.node = node }

    @usableFromInline package var type: json_type { json_type(rawValue: UInt32(pmx_json_type(node))) }

    @inlinable public subscript(key: String) -> JSONRef? {
        guard type == JSON_OBJECT, let v = json_object_get(node, key) else { return nil }
        return JSONRef(v)
    }

    @inlinable public subscript(index: Int) -> JSONRef? {
        guard type == JSON_ARRAY, index >= 0, let v = json_array_get(node, index) else { return nil }
        return JSONRef(v)
    }

    @inlinable public var isNull: Bool { type == JSON_NULL }
    @inlinable public var isArray: Bool { type == JSON_ARRAY }
    @inlinable public var isObject: Bool { type == JSON_OBJECT }
    @inlinable public var count: Int { type == JSON_ARRAY ? json_array_size(node) : (type == JSON_OBJECT ? json_object_size(node) : 0) }

    @inlinable public var stringValue: String? {
        guard type == JSON_STRING, let p = json_string_value(node) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: json_string_length(node)), as: UTF8.self)
    }

    /// Is this a string of zero length (checked without making a Swift string)?
    @inlinable public var isEmptyString: Bool { type == JSON_STRING && json_string_length(node) == 0 }

    public var intValue: Int64? {
        switch type {
        case JSON_INTEGER: Int64(json_integer_value(node))
        case JSON_REAL:
            JSONValue.double(json_real_value(node)).intValue  // the same rule as JSONValue
        default: nil
        }
    }

    @inlinable public var doubleValue: Double? {
        switch type {
        case JSON_INTEGER: Double(json_integer_value(node))
        case JSON_REAL: json_real_value(node)
        default: nil
        }
    }

    /// This subtree as a `JSONValue` (converted now).
    public var value: JSONValue { JSONParser.convert(node) }
}
