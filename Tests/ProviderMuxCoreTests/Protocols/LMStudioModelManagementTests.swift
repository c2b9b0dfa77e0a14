// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// LM Studio's 0.4 REST API for loading and unloading models (lmstudio.ai/docs/developer/rest).

@Suite("LM Studio model loading")
struct LMStudioModelManagementTests {
    static let provider = ProviderConfig(name: "studio", type: .lmstudio, baseURL: "http://127.0.0.1:1234/v1", apiKey: nil,
                                         models: nil, defaultModel: nil, headers: [], retryOverride: nil, timeoutsOverride: nil, mock: nil)

    @Test("calls go to the server root's /api/v1; load options travel as given beside the model")
    func calls() throws {
        let codec = LMStudioCodec()
        let load = codec.loadCall("qwen3-8b", options: JSONObject([("context_length", .int(8192))]), provider: Self.provider)
        #expect(load.method == "POST" && load.url == "http://127.0.0.1:1234/api/v1/models/load")
        #expect(try JSONParser.parse(load.body ?? []) == ["context_length": 8192, "model": "qwen3-8b"])
        let unload = codec.unloadCall("qwen3-8b:2", provider: Self.provider)
        #expect(unload.url == "http://127.0.0.1:1234/api/v1/models/unload")
        #expect(try JSONParser.parse(unload.body ?? []) == ["instance_id": "qwen3-8b:2"])
        #expect(codec.loadedCall(provider: Self.provider).url == "http://127.0.0.1:1234/api/v1/models")
    }

    @Test("the load answer: instance_id (or the older model_instance_id), type, time, config; none is a protocol error")
    func decodeLoad() throws {
        let codec = LMStudioCodec()
        let o = try codec.decodeLoad(Array(#"{"type":"llm","instance_id":"m","load_time_seconds":2.5,"status":"loaded"}"#.utf8),
                                     model: "m", provider: Self.provider)
        #expect(o["instance_id"] == "m" && o["type"] == "llm" && o["load_time_seconds"] == 2.5)
        let old = try codec.decodeLoad(Array(#"{"model_instance_id":"m:2","status":"loaded"}"#.utf8), model: "m", provider: Self.provider)
        #expect(old["instance_id"] == "m:2")
        #expect(throws: PMXError.self) { _ = try codec.decodeLoad(Array(#"{"status":"loaded"}"#.utf8), model: "m", provider: Self.provider) }
    }

    @Test("loaded: only models with instances, each instance with its context length")
    func decodeLoaded() throws {
        let body = #"""
        {"models":[{"type":"llm","key":"qwen3-8b","display_name":"Qwen3 8B","max_context_length":32768,
                    "loaded_instances":[{"id":"qwen3-8b","config":{"context_length":8192}},{"id":"qwen3-8b:2","config":{}}]},
                   {"type":"embedding","key":"nomic","max_context_length":2048,"loaded_instances":[]}]}
        """#
        let models = try LMStudioCodec().decodeLoaded(Array(body.utf8), provider: Self.provider)
        #expect(models.map(\.id) == ["qwen3-8b"])
        #expect(models[0].contextLength == 32768 && models[0].capabilities == ["chat"])
        #expect(models[0].details["instances"] == [["id": "qwen3-8b", "context_length": 8192], ["id": "qwen3-8b:2"]])
        #expect(throws: PMXError.self) { _ = try LMStudioCodec().decodeLoaded(Array(#"{"data":[]}"#.utf8), provider: Self.provider) }
    }
}
