// SPDX-License-Identifier: Apache-2.0

/// Reads one JSON object field by field, remembering the path (`providers[1].retry`) so that
/// every validation error names the field and the reason. Unknown keys are reported by
/// `finish()`: a misspelt option is an error, never silently ignored.
public struct FieldReader {
    public let path: String
    public let object: JSONObject
    /// Which members were read, by position (no hashing: requests are parsed on every call).
    private var seen: [Bool]
    /// The status of every error this reader throws (nested readers inherit it).
    package let errorStatus: Status

    public init(_ value: JSONValue, path: String, status: Status = .config) throws {
        guard case .object(let o) = value else {
            throw PMXError(status, "\(path.isEmpty ? "document" : path): expected an object, got \(value.typeName)")
        }
        self.object = o
        self.path = path
        self.errorStatus = status
        // Reserved and appended: `Array(repeating:count:)` is not specialized (it looked the
        // array's type metadata up at run time, ~700 instructions per object read).
        var seen: [Bool] = []
        seen.reserveCapacity(o.count)
        for _ in 0..<o.count { seen.append(false) }
        self.seen = seen
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func fail(_ key: String, _ reason: String) -> PMXError {
        PMXError(errorStatus, "\(fieldPath(key)): \(reason)")
    }

    public mutating func raw(_ key: String) -> JSONValue? {
        guard let i = object.members.firstIndex(where: { JSONObject.sameKey($0.key, key) }) else { return nil }
        seen[i] = true
        let v = object.members[i].value
        if v.isNull { return Optional<JSONValue>.none }  // not `nil` in a ternary: JSONValue takes nil literals
        return v
    }

    public mutating func string(_ key: String, nonEmpty: Bool = true) throws -> String? {
        guard let v = raw(key) else { return nil }
        guard let s = v.stringValue else { throw fail(key, "expected a string, got \(v.typeName)") }
        if nonEmpty && s.isEmpty { throw fail(key, "must not be empty") }
        return s
    }

    public mutating func requiredString(_ key: String) throws -> String {
        guard let s = try string(key) else { throw fail(key, "is required") }
        return s
    }

    /// An integer in `min...max`. Both bounds are required: every number that comes from outside
    /// gets a range chosen so that no later arithmetic on it can overflow (docs/VOCABULARY.md lists
    /// them). A JSON number with a fraction, or an integral number outside the range (1e300, or a
    /// double beyond Int64), fails naming the field and the range.
    public mutating func int(_ key: String, min: Int64, max: Int64) throws -> Int? {
        guard let v = raw(key) else { return nil }
        guard let i = v.intValue else {
            if let d = v.doubleValue, d.isFinite, d.rounded() == d {
                throw fail(key, Self.rangeReason(min, max, got: Self.text(d)))
            }
            if let d = v.doubleValue { throw fail(key, "expected an integer, got \(Self.text(d))") }
            throw fail(key, "expected an integer, got \(v.typeName)")
        }
        guard i >= min && i <= max else { throw fail(key, Self.rangeReason(min, max, got: "\(i)")) }
        return Int(i)
    }

    /// A finite number in `min...max` (both bounds required and finite, see `int`).
    public mutating func double(_ key: String, min: Double, max: Double) throws -> Double? {
        guard let v = raw(key) else { return nil }
        guard let d = v.doubleValue else { throw fail(key, "expected a number, got \(v.typeName)") }
        guard d.isFinite, d >= min && d <= max else {
            throw fail(key, "must be between \(Self.text(min)) and \(Self.text(max)), got \(Self.text(d))")
        }
        return d
    }

    /// A number as a user wrote it: 2 rather than 2.0, 1e+300 as Swift prints it.
    package static func text(_ d: Double) -> String {
        guard d.isFinite, d.rounded() == d, abs(d) < 1e15 else { return "\(d)" }
        return "\(Int64(d))"  // |d| < 1e15: exact and in range
    }

    package static func rangeReason(_ min: Int64, _ max: Int64, got: String) -> String {
        max == Int64.max ? "must be at least \(min), got \(got)" : "must be between \(min) and \(max), got \(got)"
    }

    public mutating func bool(_ key: String) throws -> Bool? {
        guard let v = raw(key) else { return nil }
        guard let b = v.boolValue else { throw fail(key, "expected true or false, got \(v.typeName)") }
        return b
    }

    public mutating func stringArray(_ key: String) throws -> [String]? {
        guard let v = raw(key) else { return nil }
        guard let a = v.arrayValue else { throw fail(key, "expected an array of strings, got \(v.typeName)") }
        return try a.enumerated().map { i, e in
            guard let s = e.stringValue, !s.isEmpty else {
                throw PMXError(errorStatus, "\(fieldPath(key))[\(i)]: expected a non-empty string, got \(e.typeName)")
            }
            return s
        }
    }

    public mutating func array(_ key: String) throws -> [JSONValue]? {
        guard let v = raw(key) else { return nil }
        guard let a = v.arrayValue else { throw fail(key, "expected an array, got \(v.typeName)") }
        return a
    }

    public mutating func object(_ key: String) throws -> FieldReader? {
        guard let v = raw(key) else { return nil }
        return try FieldReader(v, path: fieldPath(key), status: errorStatus)
    }

    /// Fails on the first key that was never read.
    public func finish() throws {
        for (i, m) in object.members.enumerated() where !seen[i] {
            throw PMXError(errorStatus, "\(fieldPath(m.key)): unknown key")
        }
    }
}
