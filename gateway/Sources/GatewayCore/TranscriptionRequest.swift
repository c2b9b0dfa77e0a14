// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxProtocols

/// `/v1/audio/transcriptions` in OpenAI's form (multipart/form-data, as the openai SDKs send
/// it) → the JSON request of pmx_router_call's `audio.transcriptions.create`, and its result
/// back in the shape `response_format` asks for.
package enum TranscriptionRequest {
    /// The request JSON: the `file` part as `{"data": <base64>, "filename", "content_type"}`,
    /// the other parts as string fields (the library sends them upstream as form fields again,
    /// as written); `name[]` parts (`timestamp_granularities[]`, `include[]`) as arrays,
    /// `name[key]` parts (`chunking_strategy[type]`) as objects, `stream` as a boolean.
    package static func json(_ form: MultipartForm) throws(OpenAIError) -> JSONValue {
        var o = JSONObject()
        var arrays: [String: [JSONValue]] = [:]
        var objects: [String: JSONObject] = [:]
        var order: [String] = []  // field order as sent
        for part in form.parts {
            if part.name == "file" {
                guard part.filename != nil || part.contentType != nil else {
                    throw field("file", "must be a file part (with a filename), not a text field")
                }
                guard o["file"] == nil else { throw field("file", "given twice") }
                var file = JSONObject()
                file["data"] = .string(Base64.encode(part.data))
                file["filename"] = .string(part.filename ?? "audio")
                if let t = part.contentType { file["content_type"] = .string(t) }
                o["file"] = .object(file)
                continue
            }
            guard let text = String(validating: part.data, as: UTF8.self) else { throw field(part.name, "is not UTF-8 text") }
            if part.name.hasSuffix("[]") {
                let name = String(part.name.dropLast(2))
                if arrays[name] == nil { order.append(name) }
                arrays[name, default: []].append(.string(text))
            } else if let open = part.name.firstIndex(of: "["), part.name.hasSuffix("]") {
                let name = String(part.name[..<open])
                let key = String(part.name[part.name.index(after: open)..<part.name.index(before: part.name.endIndex)])
                if objects[name] == nil { order.append(name) }
                objects[name, default: JSONObject()][key] = .string(text)
            } else {
                guard o[part.name] == nil, !order.contains(part.name) else { throw field(part.name, "given twice") }
                if part.name == "stream" { o[part.name] = try bool(text, part.name) } else { o[part.name] = .string(text) }
            }
        }
        for name in order {
            guard o[name] == nil else { throw field(name, "given both as a field and as \(name)[…]") }
            if let a = arrays[name] { o[name] = .array(a) } else if let obj = objects[name] { o[name] = .object(obj) }
        }
        return .object(o)
    }

    /// OpenAI's `response_format`: json / verbose_json answer JSON, text / srt / vtt the text
    /// itself as text/plain.
    package enum Format: String, CaseIterable {
        case json, text, srt, vtt, verboseJSON = "verbose_json"

        package var isText: Bool { self == .text || self == .srt || self == .vtt }
    }

    package static func format(_ request: JSONValue) throws(OpenAIError) -> Format {
        guard let v = request["response_format"] else { return .json }
        guard let s = v.stringValue, let f = Format(rawValue: s) else {
            throw field("response_format", "expected one of \(Format.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        return f
    }

    private static func bool(_ text: String, _ name: String) throws(OpenAIError) -> JSONValue {
        switch text {
        case "true": return true
        case "false": return false
        default: throw field(name, "expected true or false")
        }
    }

    static func field(_ name: String, _ reason: String) -> OpenAIError {
        OpenAIError(httpStatus: 400, type: "invalid_request_error", code: "invalid_value",
                    param: Secrets.shorten(name, maxBytes: 100), message: "\(Secrets.shorten(name, maxBytes: 100)): \(reason)")
    }
}
