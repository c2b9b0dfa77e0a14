// SPDX-License-Identifier: Apache-2.0
// TEMPORARY (ops16b): the interface of /work/brief-ops-interface.md, copied so the codecs build
// before ops16 lands it; dropped when rebasing onto ops16's framework.
import MuxBase
import MuxTransport
import MuxConfig

public enum OperationName: String, Sendable, CaseIterable {
    case chatCompletions = "chat.completions.create", completions = "completions.create",
         embeddings = "embeddings.create", imagesGenerate = "images.generate",
         moderations = "moderations.create", audioTranscriptions = "audio.transcriptions.create",
         audioSpeech = "audio.speech.create", rerank = "rerank", tokensCount = "tokens.count",
         responses = "responses.create", modelsList = "models.list",
         openrouterCredits = "openrouter.credits", openrouterGeneration = "openrouter.generation"
}

public struct OperationRequest: Sendable {
    public var operation: OperationName
    public var body: JSONObject
    public var model: String?
    public var route: RouteOptions

    public init(operation: OperationName, body: JSONObject, model: String?, route: RouteOptions = RouteOptions()) {
        self.operation = operation; self.body = body; self.model = model; self.route = route
    }

    public static func parse(_ operation: OperationName, _ value: JSONValue) throws -> OperationRequest {
        var r = try FieldReader(value, path: "", status: .invalidRequest)
        let model = try r.string("model")
        var route = RouteOptions()
        if var rr = try r.object("route") { route = try RouteOptions.parse(&rr) }
        var body = r.object
        body["route"] = nil
        return OperationRequest(operation: operation, body: body, model: model, route: route)
    }
}

public protocol OperationCodec: Sendable {
    func call(_ request: OperationRequest, model: String?, stream: Bool, provider: ProviderConfig) throws -> ProviderHTTPCall
    func decode(_ body: [UInt8], head: HTTPResponseHead, request: OperationRequest, model: String?, provider: ProviderConfig) throws -> JSONObject
    func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding?
}

extension OperationCodec {
    public func streamDecoder(_ request: OperationRequest, model: String?, provider: ProviderConfig) -> ChatStreamDecoding? { nil }
}
