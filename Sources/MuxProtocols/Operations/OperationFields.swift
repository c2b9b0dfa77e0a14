// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// The checks made on a request of each operation beyond chat before anything is routed, so
/// that a bad request fails once with PMX_ERR_INVALID_REQUEST naming the field, instead of at
/// every candidate. Only what the router and codecs read is checked; the rest goes upstream.
public enum OperationFields {
    public static func check(_ operation: OperationName, _ body: JSONObject) throws {
        switch operation {
        case .imagesGenerate:
            try nonEmptyString(body, "prompt")
            try int(body, "n", 1...128)
        case .moderations:
            guard let input = body["input"] else { throw fail("input", "is required") }
            switch input {
            case .string: break
            case .array(let items) where !items.isEmpty:
                let strings = items.allSatisfy { $0.stringValue != nil }
                let parts = items.allSatisfy { $0.objectValue != nil }
                if !strings && !parts { throw fail("input", "expected strings or content parts, not a mix") }
            default: throw fail("input", "expected a string or a non-empty array, got \(input.typeName)")
            }
        case .audioTranscriptions:
            _ = try AudioFile.parse(body)
        case .audioSpeech:
            try nonEmptyString(body, "input")
            guard let voice = body["voice"], voice.stringValue != nil || voice.objectValue != nil else {
                throw fail("voice", body["voice"] == nil ? "is required" : "expected a string or an object")
            }
        case .rerank:
            _ = try RerankInput.parse(body)
        case .tokensCount:
            if body["messages"] == nil, body["input"] == nil { throw fail("messages", "is required (or \"input\", a string)") }
            if let m = body["messages"], (m.arrayValue?.isEmpty ?? true) { throw fail("messages", "expected a non-empty array") }
            if let i = body["input"], i.stringValue == nil { throw fail("input", "expected a string, got \(i.typeName)") }
        case .openrouterGeneration:
            try nonEmptyString(body, "id")
        default:
            break
        }
    }

    static func fail(_ field: String, _ reason: String) -> PMXError {
        PMXError(.invalidRequest, "\(field): \(reason)")
    }

    static func nonEmptyString(_ body: JSONObject, _ key: String) throws {
        guard let v = body[key] else { throw fail(key, "is required") }
        guard let s = v.stringValue else { throw fail(key, "expected a string, got \(v.typeName)") }
        if s.isEmpty { throw fail(key, "must not be empty") }
    }

    static func int(_ body: JSONObject, _ key: String, _ range: ClosedRange<Int64>) throws {
        guard let v = body[key], !v.isNull else { return }
        guard let n = v.intValue, range.contains(n) else {
            throw fail(key, "expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
    }
}
