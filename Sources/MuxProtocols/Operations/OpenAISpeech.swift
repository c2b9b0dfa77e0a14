// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// `audio.speech.create` on OpenAI's `/audio/speech` (openai, openai-compatible, groq): JSON in,
/// raw audio bytes out, returned as `{"audio": "<base64>", "content_type": …}` with the
/// content type of the answer's header (else the one `response_format` implies; mp3 when
/// unset). An error answer is JSON with a non-2xx status, mapped like any other.
public struct OpenAISpeech: OperationCodec {
    let preset: any OpenAIPreset
    public init(preset: any OpenAIPreset) { self.preset = preset }

    static let formatTypes = ["mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                              "wav": "audio/wav", "pcm": "audio/pcm"]

    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        try OperationBodies.post(preset, "/audio/speech", OperationBodies.passthrough(request, model: model), model: model,
                                 provider: provider, accept: "application/octet-stream")
    }

    public func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject {
        let format = request.body["response_format"]?.stringValue ?? "mp3"
        let declared = head.header("content-type").flatMap { $0.isEmpty ? nil : $0 }
        if let declared, declared.lowercased().hasPrefix("application/json") {
            throw CodecSupport.protocolError(provider, "/audio/speech answered JSON instead of audio")
        }
        let contentType = declared ?? Self.formatTypes[format] ?? "application/octet-stream"
        return JSONObject([("audio", .string(Base64.encode(body))), ("content_type", .string(contentType))])
    }
}
