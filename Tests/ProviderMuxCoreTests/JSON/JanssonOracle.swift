// SPDX-License-Identifier: Apache-2.0
import CJansson
import MuxBase

/// jansson as the reference parser: the library's parser before issue 14 (json_loadb with
/// JSON_DECODE_ANY | JSON_ALLOW_NUL, then the tree converted to `JSONValue`), kept here, out of
/// the library, so that the differential tests (and fuzz/Sources/fuzz-json, through a
/// symlink to this file) can hold the new scanner to it.
enum JanssonOracle {
    enum Outcome: Equatable, CustomStringConvertible {
        case value(JSONValue)
        case failure(Status, line: Int, column: Int, byte: Int, text: String)

        var description: String {
            switch self {
            case .value(let v): "value \(JSONWriter.string(v))"
            case .failure(let s, let l, let c, let b, let t): "\(s) at line \(l), column \(c), byte \(b): \(t)"
            }
        }

        var status: Status? { if case .failure(let s, _, _, _, _) = self { return s }; return nil }
    }

    static func parse(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { raw in
            var error = json_error_t()
            let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self)
            guard let root = json_loadb(base ?? UnsafePointer(bitPattern: 1), raw.count, Int(JSON_DECODE_ANY | JSON_ALLOW_NUL), &error) else {
                var e = error
                let text = withUnsafeBytes(of: &e.text) { raw -> String in
                    let b = raw.bindMemory(to: UInt8.self)
                    return String(decoding: b[..<(b.firstIndex(of: 0) ?? b.count)], as: UTF8.self)
                }
                // jansson keeps the error code in the last byte of `text` (json_error_code()).
                let code = withUnsafeBytes(of: &e.text) { $0[$0.count - 1] }
                let status: Status = code == UInt8(json_error_invalid_utf8.rawValue) ? .invalidUTF8 : .invalidJSON
                return .failure(status, line: Int(error.line), column: Int(error.column), byte: Int(error.position), text: text)
            }
            defer { pmx_json_decref(root) }
            return .value(convert(root))
        }
    }

    /// jansson's nesting limit (JSON_PARSER_MAX_DEPTH in its build).
    static let janssonMaxDepth = 2048

    /// What jansson would answer if its nesting limit were ours (`JSONParser.maxDepth`, lower
    /// than its 2,048): the document is also parsed behind `janssonMaxDepth - maxDepth` open
    /// brackets, so jansson meets its own limit exactly where ours stands. When that run stops
    /// on the depth limit before the plain run's first error (or the plain run accepts), the
    /// answer is that depth error, its place moved back by the brackets (column too on line 1);
    /// otherwise the plain run's outcome.
    static func reference(_ bytes: [UInt8]) -> Outcome {
        let plain = parse(bytes)
        let shift = janssonMaxDepth - JSONParser.maxDepth
        guard shift > 0, case .failure(let s, let l, let c, let b, let t) = parse(Array(repeating: UInt8(ascii: "["), count: shift) + bytes),
              t.contains("maximum parsing depth"), b > shift else { return plain }
        let depthError = Outcome.failure(s, line: l, column: l == 1 ? c - shift : c, byte: b - shift, text: t)
        switch plain {
        case .value: return depthError
        case .failure(_, _, _, let firstError, _): return b - shift < firstError ? depthError : plain
        }
    }

    static func convert(_ j: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch json_type(rawValue: UInt32(pmx_json_type(j))) {
        case JSON_OBJECT:
            var o = JSONObject()
            var iter = json_object_iter(j)
            while let it = iter {
                let key = String(decoding: UnsafeRawBufferPointer(start: json_object_iter_key(it)!, count: json_object_iter_key_len(it)), as: UTF8.self)
                o.appendUnchecked(key, convert(json_object_iter_value(it)!))
                iter = json_object_iter_next(j, it)
            }
            return .object(o)
        case JSON_ARRAY:
            return .array((0..<json_array_size(j)).map { convert(json_array_get(j, $0)!) })
        case JSON_STRING:
            return .string(String(decoding: UnsafeRawBufferPointer(start: json_string_value(j)!, count: json_string_length(j)), as: UTF8.self))
        case JSON_INTEGER: return .int(Int64(json_integer_value(j)))
        case JSON_REAL: return .double(json_real_value(j))
        case JSON_TRUE: return .bool(true)
        case JSON_FALSE: return .bool(false)
        default: return .null
        }
    }

    /// Our parser's outcome in the same shape (the place parsed back from the message).
    static func ours(_ bytes: [UInt8]) -> Outcome {
        do {
            return .value(try JSONParser.parse(bytes))
        } catch let e as PMXError {
            let numbers = e.message.split(separator: ":", maxSplits: 1).first.map { head in
                head.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            } ?? []
            guard numbers.count >= 3 else { return .failure(e.status, line: -1, column: -1, byte: -1, text: e.message) }
            let text = e.message.split(separator: ":", maxSplits: 1).dropFirst().first.map { String($0.dropFirst()) } ?? ""
            return .failure(e.status, line: numbers[numbers.count - 3], column: numbers[numbers.count - 2], byte: numbers[numbers.count - 1], text: text)
        } catch {
            return .failure(.internal, line: -1, column: -1, byte: -1, text: "\(error)")
        }
    }

    /// Do two values agree exactly (doubles by bit pattern: -0.0 is not 0.0 here)? Walks with
    /// its own stack, not by recursion: the edge table nests 2,048 deep (as jansson reads it),
    /// and a recursive walk overflows a test thread's stack in a debug build under TSan.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        var pending: [(JSONValue, JSONValue)] = [(a, b)]
        while let (a, b) = pending.popLast() {
            switch (a, b) {
            case (.double(let x), .double(let y)):
                if x.bitPattern != y.bitPattern { return false }
            case (.array(let x), .array(let y)):
                if x.count != y.count { return false }
                pending.append(contentsOf: zip(x, y))
            case (.object(let x), .object(let y)):
                if x.count != y.count { return false }
                for (m, n) in zip(x.members, y.members) {
                    if !m.key.utf8.elementsEqual(n.key.utf8) { return false }
                    pending.append((m.value, n.value))
                }
            case (.string(let x), .string(let y)):
                if !x.utf8.elementsEqual(y.utf8) { return false }
            case (.array, _), (.object, _), (.string, _), (.double, _):
                return false
            default:
                if a != b { return false }
            }
        }
        return true
    }

    /// Every JSONRef read of `ref` agrees with `v` (what jansson built), recursively; returns
    /// the first disagreement.
    static func refMismatch(_ ref: JSONRef, _ v: JSONValue, path: String = "$") -> String? {
        if ref.isNull != v.isNull { return "\(path): isNull" }
        if ref.isArray != (v.arrayValue != nil) { return "\(path): isArray" }
        if ref.isObject != (v.objectValue != nil) { return "\(path): isObject" }
        if ref.stringValue?.utf8.elementsEqual(v.stringValue?.utf8 ?? "".utf8) == false || (ref.stringValue == nil) != (v.stringValue == nil) {
            return "\(path): stringValue"
        }
        if ref.isEmptyString != (v.stringValue?.isEmpty == true) { return "\(path): isEmptyString" }
        if ref.intValue != v.intValue { return "\(path): intValue" }
        if ref.doubleValue?.bitPattern != v.doubleValue?.bitPattern { return "\(path): doubleValue" }
        if !same(ref.value, v) { return "\(path): value" }
        switch v {
        case .array(let a):
            if ref.count != a.count { return "\(path): count \(ref.count) != \(a.count)" }
            for (i, e) in a.enumerated() {
                guard let r = ref[i] else { return "\(path)[\(i)]: missing" }
                if let m = refMismatch(r, e, path: "\(path)[\(i)]") { return m }
            }
            if ref[a.count] != nil || ref[-1] != nil { return "\(path): index past the end" }
        case .object(let o):
            if ref.count != o.count { return "\(path): count \(ref.count) != \(o.count)" }
            for m in o.members {
                guard let r = ref[m.key] else { return "\(path).\(m.key): missing" }
                if let bad = refMismatch(r, m.value, path: "\(path).\(m.key)") { return bad }
            }
        default:
            if ref.count != 0 { return "\(path): count of a scalar" }
        }
        return nil
    }
}
