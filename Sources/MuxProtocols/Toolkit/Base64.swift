// SPDX-License-Identifier: Apache-2.0

/// Standard base64 (RFC 4648 §4, `+` `/`, `=` padding), strict both ways: binary payloads cross
/// the C ABI as base64 inside the JSON (an audio file in, speech audio out), and a payload that
/// decodes "mostly" would send a corrupt file upstream. No Foundation in the library.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The value of each byte in the alphabet, 0xFF for every other byte.
    private static let values: [UInt8] = {
        var v = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { v[Int(truncatingIfNeeded: c)] = UInt8(truncatingIfNeeded: i) }
        return v
    }()

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let a = it.next() {
            let b = it.next(), c = it.next()
            out.append(alphabet[Int(truncatingIfNeeded: a >> 2)])
            out.append(alphabet[Int(truncatingIfNeeded: (a & 0x03) << 4 | (b ?? 0) >> 4)])
            out.append(b.map { alphabet[Int(truncatingIfNeeded: ($0 & 0x0F) << 2 | (c ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            out.append(c.map { alphabet[Int(truncatingIfNeeded: $0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Why `text` is not strict base64, or nil. Whitespace, URL-safe letters, missing or
    /// misplaced padding and non-zero bits left over by the padding are all refused.
    public static func problem(_ text: String) -> String? {
        switch decodeOrProblem(text) { case .success: return nil; case .failure(let p): return p.text }
    }

    /// The decoded bytes, or nil when `text` is not strict base64 (`problem` says why).
    public static func decode(_ text: String) -> [UInt8]? {
        if case .success(let bytes) = decodeOrProblem(text) { return bytes }
        return nil
    }

    public struct Problem: Error { public var text: String }

    public static func decodeOrProblem(_ text: String) -> Result<[UInt8], Problem> {
        let s = Array(text.utf8)
        guard s.count % 4 == 0 else {
            return .failure(Problem(text: "is not base64: its length (\(s.count)) is not a multiple of 4"))
        }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 4 * 3)
        var i = 0
        while i < s.count {
            let last = i + 4 == s.count
            var q: [UInt8] = [0, 0, 0, 0]
            var pad = 0
            for k in 0..<4 {
                let c = s[i + k]
                if c == UInt8(ascii: "="), last, k >= 2 {
                    pad += 1
                    continue
                }
                let v = values[Int(truncatingIfNeeded: c)]
                guard v != 0xFF, pad == 0 else {
                    return .failure(Problem(text: "is not base64: unexpected byte at offset \(i + k)"))
                }
                q[k] = v
            }
            out.append(q[0] << 2 | q[1] >> 4)
            if pad < 2 { out.append(q[1] << 4 | q[2] >> 2) }
            if pad < 1 { out.append(q[2] << 6 | q[3]) }
            // Bits the padding drops must be zero: otherwise two texts decode to one payload.
            if (pad == 2 && q[1] & 0x0F != 0) || (pad == 1 && q[2] & 0x03 != 0) {
                return .failure(Problem(text: "is not base64: non-zero bits before the padding at offset \(i)"))
            }
            i += 4
        }
        return .success(out)
    }
}
