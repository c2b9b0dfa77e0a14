// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// `encoding_format: "base64"` (the openai SDKs' default): each embedding as the base64 of its
/// little-endian float32 values, as OpenAI sends it. The providers are always asked for floats
/// (not every vendor offers base64), and the gateway encodes here.
package enum EmbeddingEncoding {
    package static func base64(_ response: JSONObject) -> JSONObject {
        guard let data = response["data"]?.arrayValue else { return response }
        var out = response
        out["data"] = .array(data.map { item in
            guard case .object(var o) = item, let values = o["embedding"]?.arrayValue else { return item }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(values.count * 4)
            for v in values {
                let bits = Float(v.doubleValue ?? 0).bitPattern.littleEndian
                withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
            }
            o["embedding"] = .string(encode(bytes))
            return .object(o)
        })
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with padding (RFC 4648 §4).
    package static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(n > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
