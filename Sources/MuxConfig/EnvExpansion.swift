// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import MuxBase
import Glibc
#endif

/// Expands `${VAR}` in config strings from the environment. `$${` stays a literal `${`.
/// A missing variable is an error naming the variable and the field, never a value.
public enum EnvExpansion {
    public typealias Lookup = @Sendable (String) -> String?

    public static let processEnvironment: Lookup = { name in
        guard let p = getenv(name) else { return nil }
        return String(cString: p)
    }

    /// Expands every string value (not keys) in `value`; `path` names the field in errors.
    public static func expand(_ value: JSONValue, path: String, lookup: Lookup = processEnvironment) throws -> JSONValue {
        switch value {
        case .string(let s):
            return .string(try expand(string: s, path: path, lookup: lookup))
        case .array(let a):
            return .array(try a.enumerated().map { try expand($1, path: "\(path)[\($0)]", lookup: lookup) })
        case .object(let o):
            var out = JSONObject()
            for m in o.members {
                out[m.key] = try expand(m.value, path: path.isEmpty ? m.key : "\(path).\(m.key)", lookup: lookup)
            }
            return .object(out)
        default:
            return value
        }
    }

    public static func expand(string s: String, path: String, lookup: Lookup = processEnvironment) throws -> String {
        guard s.utf8.contains(UInt8(ascii: "$")) else { return s }
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "$"), i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "$"),
               bytes[i + 2] == UInt8(ascii: "{") {
                out.append(contentsOf: "${".utf8)
                i += 3
            } else if bytes[i] == UInt8(ascii: "$"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") {
                guard let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw PMXError(.config, "\(path): unterminated \"${\" (write \"$${\" for a literal)")
                }
                let name = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
                guard isValidName(name) else {
                    throw PMXError(.config, "\(path): \"${\(name)}\" is not a valid environment variable name")
                }
                guard let v = lookup(name) else {
                    throw PMXError(.envVarMissing, "\(path): environment variable \(name) is not set")
                }
                out.append(contentsOf: v.utf8)
                i = close + 1
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
    }
}
