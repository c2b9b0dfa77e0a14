// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `audio.transcriptions.create` on OpenAI's `/audio/transcriptions` (openai, openai-compatible,
/// groq): the base64 file of the JSON request is decoded and sent as `multipart/form-data`
/// with every other field as a form field (arrays as repeated `name[]`, objects as JSON text),
/// as the openai SDK does. The size of the upload is bounded by `limits.max_request_bytes`
/// like any request body. The answer: OpenAI's JSON (`{"text", "usage"?}`, or `verbose_json`'s
/// segments) as it is; `text`/`srt`/`vtt` answers are plain text, returned as `{"text": …}`.
public struct OpenAITranscriptions: OperationCodec {
    let preset: any OpenAIPreset
    public init(preset: any OpenAIPreset) { self.preset = preset }

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        let file = try AudioFile.parse(request.body)
        var form = MultipartForm()
        form.file("file", filename: file.filename, contentType: file.contentType, data: file.data)
        let modelName = try ModelGuard.require(model, provider: provider, protocolName: "audio.transcriptions",
                                               operation: "for /audio/transcriptions")
        form.field("model", modelName)
        for m in request.body.members where !["file", "model", "stream", "route"].contains(m.key) {
            Self.addField(&form, m.key, m.value)
        }
        let (contentType, body) = form.encoded()
        var headers = OperationBodies.replacing(preset.headers(provider, streaming: false), "Content-Type", with: contentType)
        headers = OperationBodies.replacing(headers, "Accept", with: "application/json")
        return ProviderHTTPCall(method: "POST", url: try preset.url(provider, "/audio/transcriptions", model: model),
                                headers: headers, body: body)
    }

    /// One JSON field as form fields: strings as they are, numbers and booleans as JSON text,
    /// arrays as repeated `name[]` (OpenAI's `timestamp_granularities[]`, `include[]`), objects
    /// (`chunking_strategy`) as JSON text; null is left out.
    static func addField(_ form: inout MultipartForm, _ name: String, _ value: JSONValue) {
        switch value {
        case .null: return
        case .string(let s): form.field(name, s)
        case .array(let items): for item in items { addField(&form, name.hasSuffix("[]") ? name : name + "[]", item) }
        default: form.field(name, JSONWriter.string(value))
        }
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let format = request.body["response_format"]?.stringValue ?? "json"
        if ["text", "srt", "vtt"].contains(format) {
            guard let text = String(validating: body, as: UTF8.self) else {
                throw CodecSupport.protocolError(provider, "/audio/transcriptions \(format) answer is not UTF-8 text")
            }
            return JSONObject([("text", .string(text))])
        }
        var o = try OperationBodies.object(body, provider: provider, what: "/audio/transcriptions response")
        guard o["text"]?.stringValue != nil else {
            throw CodecSupport.protocolError(provider, "/audio/transcriptions response has no text")
        }
        OperationBodies.normalizeUsage(&o)
        return o
    }
}
