// SPDX-License-Identifier: Apache-2.0

/// A `multipart/form-data` body (RFC 7578) built in memory: OpenAI's `/audio/transcriptions`
/// takes the file this way. The boundary is chosen so that it occurs in no part (checked, not
/// hoped), and names and filenames cannot break out of their quoted header parameter.
public struct MultipartForm {
    private var parts: [(name: String, filename: String?, contentType: String?, data: [UInt8])] = []

    public init() {}

    public mutating func field(_ name: String, _ value: String) {
        parts.append((name, nil, nil, Array(value.utf8)))
    }

    public mutating func file(_ name: String, filename: String, contentType: String, data: [UInt8]) {
        parts.append((name, filename, contentType, data))
    }

    /// `(Content-Type header value, body)`.
    public func encoded() -> (contentType: String, body: [UInt8]) {
        let boundary = chooseBoundary()
        var out: [UInt8] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.data.count + 160 })
        for p in parts {
            out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(p.name))\"".utf8)
            if let f = p.filename { out += Array("; filename=\"\(Self.quoted(f))\"".utf8) }
            out += [13, 10]
            if let t = p.contentType { out += Array("Content-Type: \(Self.headerSafe(t))\r\n".utf8) }
            out += [13, 10]
            out += p.data
            out += [13, 10]
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", out)
    }

    /// A boundary found in no part: a counter's hex after a fixed prefix, raised until absent.
    private func chooseBoundary() -> String {
        var n: UInt64 = 0x5eed_0f_b0_0da7
        while true {
            let candidate = "pmx-boundary-" + String(n, radix: 16)
            let bytes = Array(("--" + candidate).utf8)
            if !parts.contains(where: { Self.contains($0.data, bytes) || Self.contains(Array($0.name.utf8), bytes) }) {
                return candidate
            }
            n &+= 0x9E37_79B9
        }
    }

    private static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= hay.count, let first = needle.first else { return false }
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == first, hay[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// A quoted-string parameter value: `"` and `\` escaped, CR/LF (which would end the header) as
    /// percent-escapes, as browsers do for form-data names.
    static func quoted(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "%22"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A header value with control characters dropped.
    static func headerSafe(_ s: String) -> String {
        String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
    }
}
