// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// A `multipart/form-data` body (RFC 7578) as the openai SDKs upload files: its parts, each
/// with its name, filename and content type if given, and its bytes.
///
/// Bounded: the body itself is at most limits.max_request_bytes (read before parsing), at
/// most `maxParts` parts, each part's header block at most `maxHeaderBytes`; anything else
/// malformed (no boundary, a part without a name, no closing delimiter) is a 400 naming
/// what was wrong. One pass over the body; no part is copied more than once.
package struct MultipartForm: Sendable {
    package struct Part: Sendable {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var data: [UInt8]
    }

    package var parts: [Part]

    package static let maxParts = 256
    package static let maxHeaderBytes = 16 << 10

    package static func parse(_ body: [UInt8], contentType: String?) throws(OpenAIError) -> MultipartForm {
        let (mediaType, params) = HeaderParams.parse(contentType ?? "")
        guard mediaType.lowercased() == "multipart/form-data" else {
            throw fail("expected Content-Type: multipart/form-data (the file upload), got \(contentType.map { "\"\(Secrets.shorten($0, maxBytes: 80))\"" } ?? "none")")
        }
        guard let boundary = params["boundary"], (1...70).contains(boundary.utf8.count) else {
            throw fail("Content-Type multipart/form-data needs a boundary parameter of 1 to 70 characters")
        }
        let delimiter = Array("--\(boundary)".utf8)
        // The first delimiter starts the body or follows a preamble's CRLF.
        guard var at = find(delimiter, in: body, from: 0),
              at == 0 || (at >= 2 && body[at - 2] == 0x0D && body[at - 1] == 0x0A) else {
            throw fail("multipart body: no boundary delimiter found")
        }
        let between = [0x0D, 0x0A] + delimiter  // CRLF--boundary: ends every part
        var parts: [Part] = []
        while true {
            at += delimiter.count
            if body.count - at >= 2, body[at] == 0x2D, body[at + 1] == 0x2D { break }  // "--": the close delimiter
            // Transport padding (spaces, tabs), then CRLF.
            while at < body.count, body[at] == 0x20 || body[at] == 0x09 { at += 1 }
            guard body.count - at >= 2, body[at] == 0x0D, body[at + 1] == 0x0A else {
                throw fail("multipart body: a boundary delimiter is not followed by a line break (a cut or garbled body)")
            }
            at += 2
            guard parts.count < maxParts else { throw fail("multipart body: more than \(maxParts) parts") }
            if body.count - at >= 2, body[at] == 0x0D, body[at + 1] == 0x0A {  // no header lines at all
                throw fail("multipart part \(parts.count + 1): no Content-Disposition header")
            }
            guard let headerEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: at, limit: maxHeaderBytes + 4) else {
                throw fail("multipart part \(parts.count + 1): headers not ended by an empty line within \(maxHeaderBytes) bytes")
            }
            var part = try header(body[at..<headerEnd], number: parts.count + 1)
            at = headerEnd + 4
            guard let end = find(between, in: body, from: at) else {
                throw fail("multipart part \(parts.count + 1) (\"\(Secrets.shorten(part.name, maxBytes: 60))\"): no closing boundary (a cut body)")
            }
            part.data = Array(body[at..<end])
            parts.append(part)
            at = end + 2
        }
        return MultipartForm(parts: parts)
    }

    /// The part's header lines: `Content-Disposition: form-data; name="…"; filename="…"` and
    /// `Content-Type`; others are ignored.
    private static func header(_ bytes: ArraySlice<UInt8>, number: Int) throws(OpenAIError) -> Part {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("multipart part \(number): headers are not UTF-8") }
        var part = Part(name: "", filename: nil, contentType: nil, data: [])
        var disposition = false
        for line in text.split(separator: "\r\n" as Character) {
            guard let colon = line.firstIndex(of: ":") else { throw fail("multipart part \(number): a header line has no ':'") }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...])
            switch name {
            case "content-disposition":
                let (kind, params) = HeaderParams.parse(value)
                guard kind.lowercased() == "form-data", let n = params["name"], !n.isEmpty else {
                    throw fail("multipart part \(number): Content-Disposition must be form-data with a name")
                }
                part.name = n
                part.filename = params["filename"]
                disposition = true
            case "content-type":
                part.contentType = value.trimmingSpaces
            default:
                continue
            }
        }
        guard disposition else { throw fail("multipart part \(number): no Content-Disposition header") }
        return part
    }

    /// The first index of `needle` in `hay` at or after `from` (and, with `limit`, starting
    /// before `from + limit`).
    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int, limit: Int = .max) -> Int? {
        guard let first = needle.first, hay.count - from >= needle.count else { return nil }
        let lastStart = min(hay.count - needle.count, from.addingSaturated(limit) - needle.count)
        guard lastStart >= from else { return nil }
        return hay.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = from
                while i <= lastStart {
                    if h[i] == first {
                        var j = 1
                        while j < n.count, h[i + j] == n[j] { j += 1 }
                        if j == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }

    static func fail(_ message: String) -> OpenAIError {
        OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_multipart", message: message)
    }
}

/// A header value with parameters: `type; a=b; c="d \"e\""` → ("type", ["a": "b", "c": "d \"e\""]).
/// Parameter names are lower-cased; quoted strings may hold `;` and backslash escapes.
package enum HeaderParams {
    package static func parse(_ value: String) -> (String, [String: String]) {
        let bytes = Array(value.utf8)
        var i = 0
        func skipSpaces() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        func token(until stops: Set<UInt8>) -> String {
            let start = i
            while i < bytes.count, !stops.contains(bytes[i]) { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self).trimmingSpaces
        }
        skipSpaces()
        let head = token(until: [UInt8(ascii: ";")])
        var params: [String: String] = [:]
        while i < bytes.count {
            i += 1  // the ';'
            skipSpaces()
            let name = token(until: [UInt8(ascii: "="), UInt8(ascii: ";")]).lowercased()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { continue }
            i += 1
            skipSpaces()
            var v: [UInt8] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count { i += 1 }
                    v.append(bytes[i])
                    i += 1
                }
                i += 1  // the closing quote
                while i < bytes.count, bytes[i] != UInt8(ascii: ";") { i += 1 }
            } else {
                v = Array(token(until: [UInt8(ascii: ";")]).utf8)
            }
            if !name.isEmpty { params[name] = String(decoding: v, as: UTF8.self) }
        }
        return (head, params)
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
