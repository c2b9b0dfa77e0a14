import MuxBase

/// What the stream decoders read from a borrowed `JSONRef` beyond its own surface, written over
/// that surface so it works whatever parser backs the document. Scalars convert to `JSONValue`
/// without allocating; containers never reach `value` here.
extension JSONRef {
    /// The boolean, nil for anything else.
    package var readBool: Bool? { isNull || isArray || isObject ? nil : value.boolValue }

    /// The JSON type's name as `JSONValue.typeName` says it (for error messages).
    package var kindName: String { isObject ? "object" : isArray ? "array" : value.typeName }
}
