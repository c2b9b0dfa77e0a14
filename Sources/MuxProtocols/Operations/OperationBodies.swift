// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxTransport
import MuxConfig

/// An operation that POSTs the caller's JSON body (with the provider's model) to one path of an
/// OpenAI-shaped server: the call is the same for all of them, only the path differs.
public protocol OpenAIPassthroughOperation: OperationCodec {
    var preset: any OpenAIPreset { get }
    var path: String { get }
}

extension OpenAIPassthroughOperation {
    public func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall {
        try OperationBodies.post(preset, path, OperationBodies.passthrough(request, model: model), model: model, provider: provider)
    }
}

/// What the operation codecs share: the caller's body sent on with the provider's model, a
/// JSON object answer read into a clear protocol error, and header edits for calls that are
/// not JSON in and out (multipart uploads, binary answers, GETs).
enum OperationBodies {
    /// The request body as the caller wrote it (the router's `route` is already gone), with
    /// `model` set to the provider's model name when there is one.
    static func passthrough(_ request: OperationRequest, model: String?) -> JSONObject {
        var body = request.body
        if let model { body["model"] = .string(model) }
        body["stream"] = nil
        return body
    }

    /// A JSON POST of `body` to `path` on an OpenAI-shaped server, with the preset's URL and
    /// headers (`accept` replaces the JSON `Accept` where the answer is not JSON).
    static func post(_ preset: any OpenAIPreset, _ path: String, _ body: JSONObject, model: String?,
                     provider: ProviderConfig, accept: String? = nil) throws -> ProviderHTTPCall {
        var headers = preset.headers(provider, streaming: false)
        if let accept { headers = replacing(headers, "Accept", with: accept) }
        return ProviderHTTPCall(method: "POST", url: try preset.url(provider, path, model: model),
                                headers: headers, body: JSONWriter.bytes(.object(body)))
    }

    /// Usage reported as `input_tokens` / `output_tokens` (gpt-image, gpt-4o-transcribe) gets
    /// `prompt_tokens` / `completion_tokens` beside them, the names the router's accounting and
    /// pricing read; the vendor's own keys stay (openai's types declare them).
    static func normalizeUsage(_ o: inout JSONObject) {
        guard var u = o["usage"]?.objectValue, u["prompt_tokens"] == nil, let input = u["input_tokens"]?.intValue else { return }
        u["prompt_tokens"] = .int(input)
        u["completion_tokens"] = .int(u["output_tokens"]?.intValue ?? 0)
        o["usage"] = .object(u)
    }

    /// A 2xx answer that must be a JSON object (`what` names it in the error).
    static func object(_ body: [UInt8], provider: ProviderConfig, what: String) throws -> JSONObject {
        let json = try CodecSupport.parseBody(body, provider: provider, what: what)
        guard let o = json.objectValue else {
            throw CodecSupport.protocolError(provider, "\(what): expected an object, got \(json.typeName)")
        }
        return o
    }

    /// `headers` with `name` (case-insensitive) set to `value`, or removed when `value` is nil.
    static func replacing(_ headers: [(String, String)], _ name: String, with value: String?) -> [(String, String)] {
        var out = headers.filter { $0.0.lowercased() != name.lowercased() }
        if let value { out.insert((name, value), at: 0) }
        return out
    }

    /// A non-negative integer count in a vendor's answer, or a protocol error naming `path`.
    static func count(_ value: JSONValue?, provider: ProviderConfig, path: String) throws -> Int64 {
        guard let n = value?.intValue, n >= 0 else {
            throw CodecSupport.protocolError(provider, "\(path): expected a non-negative integer, got \(value?.typeName ?? "nothing")")
        }
        return n
    }
}
