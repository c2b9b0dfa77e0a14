// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
import Testing

// Replicate's predictions API: the create call, prediction states, the stream's events.

@Suite("Replicate codec")
struct ReplicateCodecTests {
    static let provider = ProviderConfig(name: "rep", type: .replicate, baseURL: "https://api.replicate.com/v1", apiKey: "r8_k",
                                         models: nil, defaultModel: nil, headers: [], retryOverride: nil, timeoutsOverride: nil, mock: nil)

    func call(_ json: String, model: String = "meta/llama", stream: Bool = false) throws -> (ProviderHTTPCall, JSONValue) {
        let c = try ReplicateCodec().chatCall(ChatRequest.parse(JSONParser.parse(json)), model: model, stream: stream, provider: Self.provider)
        return (c, try JSONParser.parse(c.body ?? []))
    }

    @Test("the create call: model path, Prefer: wait when not streaming, input fields")
    func create() throws {
        let (c, body) = try call(#"{"model":"x","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":9,"seed":3,"replicate_input":{"top_k":5}}"#)
        #expect(c.url == "https://api.replicate.com/v1/models/meta/llama/predictions")
        #expect(c.headers.contains { $0 == ("Prefer", "wait") })
        #expect(c.headers.contains { $0 == ("Authorization", "Bearer r8_k") })
        #expect(body == ["input": ["prompt": "hi", "system_prompt": "s", "max_tokens": 9, "seed": 3, "top_k": 5]])
        let (s, sbody) = try call(#"{"model":"x","messages":[{"role":"user","content":"hi"}]}"#, model: "a/b:v1", stream: true)
        #expect(s.url == "https://api.replicate.com/v1/predictions")
        #expect(!s.headers.contains { $0.0 == "Prefer" })
        #expect(sbody["version"] == "v1" && sbody["stream"] == true)
    }

    @Test("models that are not owner/name[:version] are refused before any I/O")
    func badModels() {
        for m in ["llama", "a/b/c", "a/", "../b", "a/b:", "a b/c"] {
            #expect(throws: PMXError.self) { _ = try call(#"{"model":"x","messages":[{"role":"user","content":"hi"}]}"#, model: m) }
        }
    }

    @Test("prediction states: succeeded joins the output pieces with usage; running names its URLs; failed throws")
    func states() throws {
        let codec = ReplicateCodec()
        let done = #"{"id":"p1","model":"meta/llama","status":"succeeded","output":["echo: ","hi"],"metrics":{"input_token_count":1,"output_token_count":2}}"#
        guard case .finished(let r) = try codec.prediction(Array(done.utf8), model: "meta/llama", provider: Self.provider) else {
            Issue.record("not finished"); return
        }
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: hi")
        #expect(r["usage"]?["prompt_tokens"] == 1 && r["usage"]?["completion_tokens"] == 2)
        let running = #"{"status":"processing","urls":{"get":"https://api.replicate.com/v1/predictions/p1","stream":"https://stream.replicate.com/v1/files/x"}}"#
        guard case .running(let poll, let stream) = try codec.prediction(Array(running.utf8), model: nil, provider: Self.provider) else {
            Issue.record("not running"); return
        }
        #expect(poll == "https://api.replicate.com/v1/predictions/p1")
        #expect(stream == "https://stream.replicate.com/v1/files/x")
        #expect(throws: PMXError.self) {
            _ = try codec.prediction(Array(#"{"status":"failed","error":"CUDA out of memory"}"#.utf8), model: nil, provider: Self.provider)
        }
    }

    @Test("the key follows only to the base URL's own origin")
    func followOrigin() throws {
        let codec = ReplicateCodec()
        let same = try codec.followCall("https://api.replicate.com/v1/predictions/p1", stream: false, provider: Self.provider)
        #expect(same.headers.contains { $0.0 == "Authorization" })
        let other = try codec.followCall("https://stream.replicate.com/v1/files/x", stream: true, provider: Self.provider)
        #expect(!other.headers.contains { $0.0 == "Authorization" })
        #expect(other.headers.contains { $0 == ("Accept", "text/event-stream") })
        #expect(throws: PMXError.self) { _ = try codec.followCall("file:///etc/passwd", stream: false, provider: Self.provider) }
    }

    @Test("the stream: output text (multi-line data joined), logs ignored, done ends; error and cancel are errors")
    func stream() throws {
        func events(_ text: String) throws -> [ProviderEvent] {
            let d = ReplicateStreamDecoder(provider: "rep")
            var out: [ProviderEvent] = []
            let bytes = Array(text.utf8)
            // One byte at a time: any split works.
            for b in bytes { try [b].withUnsafeBytes { try d.feed($0) { out.append($0) } } }
            try d.finish { out.append($0) }
            return out
        }
        let ok = try events("event: output\nid: 1:0\ndata: Hello\n\nevent: logs\ndata: loading\n\nevent: output\ndata: a\ndata: b\n\nevent: done\ndata: {}\n\n")
        #expect(ok == [.delta(content: "Hello", toolCalls: nil), .delta(content: "a\nb", toolCalls: nil), .finish(reason: "stop"), .end])
        let failed = try events("event: error\ndata: {\"detail\": \"boom\"}\n\nevent: done\ndata: {\"reason\": \"error\"}\n\n")
        #expect(failed.count == 1)
        if case .error(let e) = failed.first { #expect(e.message.contains("boom")) } else { Issue.record("no error") }
        let canceled = try events("event: done\ndata: {\"reason\": \"canceled\"}\n\n")
        if case .error(let e) = canceled.first { #expect(e.message.contains("canceled")) } else { Issue.record("no error") }
        #expect(throws: PMXError.self) { _ = try events("event: done\ndata: {not json\n\n") }
    }
}
