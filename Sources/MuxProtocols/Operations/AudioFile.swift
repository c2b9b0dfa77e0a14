// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The audio file of `audio.transcriptions.create` as it crosses the C ABI:
/// `{"file": {"data": "<base64>", "filename": "a.wav", "content_type": "audio/wav"}}`. The
/// base64 is decoded strictly (a bad byte is PMX_ERR_INVALID_REQUEST naming `file.data`); the
/// filename must carry the real extension, since OpenAI picks the decoder from it.
public struct AudioFile: Sendable {
    public var data: [UInt8]
    public var filename: String
    public var contentType: String

    public static func parse(_ body: JSONObject) throws -> AudioFile {
        guard let file = body["file"] else { throw OperationFields.fail("file", "is required") }
        guard let o = file.objectValue else {
            throw OperationFields.fail("file", "expected an object {\"data\": <base64>, \"filename\": …}, got \(file.typeName)")
        }
        guard let text = o["data"]?.stringValue else { throw OperationFields.fail("file.data", "is required (the file as a base64 string)") }
        let data: [UInt8]
        switch Base64.decodeOrProblem(text) {
        case .success(let bytes): data = bytes
        case .failure(let p): throw OperationFields.fail("file.data", p.text)
        }
        if data.isEmpty { throw OperationFields.fail("file.data", "is empty") }
        let filename = o["filename"]?.stringValue ?? "audio.wav"
        guard !filename.isEmpty, !WireSafety.hasControl(filename) else {
            throw OperationFields.fail("file.filename", "must be a file name without control characters")
        }
        let contentType = o["content_type"]?.stringValue ?? "application/octet-stream"
        guard WireSafety.isHeaderValue(contentType) else { throw OperationFields.fail("file.content_type", "is not a valid header value") }
        return AudioFile(data: data, filename: filename, contentType: contentType)
    }
}
