// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// The OpenAI-compatible variants over REAL libcurl against Tests/upstream/fake_upstream.py:
// azure (protocols/azure.py: deployment URLs with api-version, the v1 API, api-key auth, the
// prompt-filter first chunk, retry-after-ms), lmstudio (protocols/lmstudio.py: /api/v0/models),
// llamacpp (protocols/llamacpp.py: /health 503 "Loading model") and the num_ctx extension
// parameter. Every
// blocking call runs on its own thread with a bounded wait, so nothing here can hang. The cloud
// presets (openai, groq, mistral, …) and openrouter's attribution headers and error events are
// rows of ProtocolTable.swift (`ProtocolCase.presets`, `ProtocolCase.openrouter`).

private let vaKey = "test-key-variants-123"

// Thread handoff, stream collection and blocking wrappers: IntegrationSupport.swift.
private typealias VaStream = ProtocolStream
private func onThread<T>(_ seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: @escaping @Sendable () -> T) -> T? { runOnThread(seconds, sourceLocation: sourceLocation, body) }
private func complete(_ router: Router, _ request: ChatRequest) -> Result<JSONObject, PMXError>? { completeOnThread(router, request) }
private func stream(_ router: Router, _ request: ChatRequest) -> ProtocolStream? { streamOnThread(router, request) }
private func embed(_ router: Router, _ request: EmbedRequest) -> Result<JSONObject, PMXError>? { embedOnThread(router, request) }

private func chat(_ prompt: String, model: String = "gpt-4o", extra: String = "") throws -> ChatRequest {
    try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(model)","messages":[{"role":"user","content":"\#(prompt)"}]\#(extra)}"#))
}

private func content(_ r: JSONObject) -> JSONValue? { r["choices"]?.arrayValue?.first?["message"]?["content"] }

@Suite("OpenAI-compatible variants: libcurl against the fake upstream", .serialized)
final class VariantsIntegrationTests {
    let server: FakeUpstreamServer
    let id = String(UUID().uuidString.prefix(8)).lowercased()

    init() throws {
        server = try FakeUpstreamServer.shared.get()
    }

    func scope(_ tag: String) -> String { "va-\(tag)-\(id)" }
    var root: String { "http://127.0.0.1:\(server.port)" }

    /// A provider object; `base` is the full base_url.
    func provider(_ name: String, type: String, base: String, key: String? = vaKey, extra: String = "") -> String {
        let k = key.map { #","api_key":"\#($0)""# } ?? ""
        return #"{"name":"\#(name)","type":"\#(type)","base_url":"\#(base)"\#(k)\#(extra)}"#
    }

    func makeRouter(_ providers: [String], extra: String = "") throws -> Router {
        try Router(config: RouterConfig.parse(
            #"{"providers":[\#(providers.joined(separator: ","))],"retry":{"initial_backoff_ms":10,"jitter":0}\#(extra)}"#))
    }

    // MARK: - Azure

    func azureDeployment(_ s: String) -> String {
        provider("az", type: "azure", base: "\(root)/\(s)", extra: #","api_version":"2024-10-21","deployment":"gpt4o-prod""#)
    }

    @Test("azure with api_version + deployment: chat through the deployments URL, api-key header, no Authorization")
    func azureDeploymentChat() throws {
        let s = scope("azd")
        let router = try makeRouter([azureDeployment(s)])
        defer { router.close() }
        let r = try #require(complete(router, try chat("hello there world"))).get()
        #expect(content(r) == "echo: hello there world")
        #expect(r["model"] == "gpt4o-prod")
        #expect(r["provider"] == "az")
        #expect(withoutCost(r["usage"]) == ["prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7])
        let entry = try #require(try server.requests(s).first)
        #expect(entry["method"] == "POST")
        #expect(entry["path"] == .string("/\(s)/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"))
        #expect(entry["headers"]?["api-key"] == .string(vaKey))
        #expect(entry["headers"]?["authorization"] == nil)
        #expect(entry["json"]?["stream"] == false)
    }

    @Test("azure stream: the first choices: [] chunk with prompt_filter_results does not break the stream")
    func azureDeploymentStream() throws {
        let s = scope("azs")
        let router = try makeRouter([azureDeployment(s)])
        defer { router.close() }
        let prompt = "the quick brown fox"
        let out = try #require(stream(router, try chat(prompt)))
        let r = try out.result.get()
        #expect(out.text == "echo: " + prompt)
        #expect(out.lines.first == "start az gpt-4o #1")
        #expect(out.lines.filter { $0 == "delta" }.count == 5)
        #expect(out.lines.last == "done az")
        #expect(out.terminals == 1)
        #expect(content(r) == .string("echo: " + prompt))
        #expect(r["model"] == "gpt4o-prod")
        #expect(r["usage"]?["total_tokens"] == 9)
        let entry = try #require(try server.requests(s).first)
        #expect(entry["path"] == .string("/\(s)/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"))
        #expect(entry["headers"]?["api-key"] == .string(vaKey))
        #expect(entry["headers"]?["authorization"] == nil)
        #expect(entry["headers"]?["accept"] == "text/event-stream")
        #expect(entry["json"]?["stream"] == true)
    }

    @Test("azure embeddings through the deployments URL")
    func azureDeploymentEmbeddings() throws {
        let s = scope("aze")
        let router = try makeRouter([azureDeployment(s)])
        defer { router.close() }
        let req = try EmbedRequest.parse(JSONParser.parse(#"{"model":"text-embedding-3-small","input":["alpha","beta gamma"]}"#))
        let r = try #require(embed(router, req)).get()
        #expect(r["object"] == "list")
        #expect(r["data"]?.arrayValue?.count == 2)
        #expect(r["data"]?.arrayValue?.allSatisfy { $0["embedding"]?.arrayValue?.count == 8 } == true)
        let entry = try #require(try server.requests(s).first)
        #expect(entry["path"] == .string("/\(s)/openai/deployments/gpt4o-prod/embeddings?api-version=2024-10-21"))
        #expect(entry["headers"]?["api-key"] == .string(vaKey))
        #expect(entry["headers"]?["authorization"] == nil)
    }

    @Test("azure without api_version: the v1 API, model in the body")
    func azureV1() throws {
        let s = scope("azv")
        let router = try makeRouter([provider("az", type: "azure", base: "\(root)/\(s)")])
        defer { router.close() }
        let r = try #require(complete(router, try chat("hi v1", model: "gpt-4o-mini"))).get()
        #expect(content(r) == "echo: hi v1")
        #expect(r["model"] == "gpt-4o-mini")
        let out = try #require(stream(router, try chat("streamed v1", model: "gpt-4o-mini")))
        #expect(out.error == nil, "\(out.lines)")
        #expect(out.text == "echo: streamed v1")
        let log = try server.requests(s)
        #expect(log.map { $0["path"]?.stringValue ?? "" } == ["/\(s)/openai/v1/chat/completions", "/\(s)/openai/v1/chat/completions"])
        #expect(log.allSatisfy { $0["json"]?["model"] == "gpt-4o-mini" })
        #expect(log.allSatisfy { $0["headers"]?["api-key"] == .string(vaKey) && $0["headers"]?["authorization"] == nil })
    }

    @Test("azure retry-after-ms honoured: 429 with retry-after-ms 300, then success after ≥ 0.25 s")
    func azureRetryAfterMs() throws {
        let s = scope("azr")
        let router = try makeRouter([azureDeployment(s)])
        defer { router.close() }
        try server.script(s, #"[{"status":429,"retry_after_ms":300}]"#)
        let started = Date()
        let r = try #require(complete(router, try chat("patience"))).get()
        let elapsed = Date().timeIntervalSince(started)
        #expect(content(r) == "echo: patience")
        #expect(elapsed >= 0.25, "retried after \(elapsed) s")
        let attempts = try #require(r["attempts"]?.arrayValue)
        #expect(attempts.map { $0["status_name"]?.stringValue } == ["PMX_ERR_RATE_LIMITED", nil])
        #expect(attempts.first?["message"]?.stringValue?.contains("fake fault 429") == true)
        let log = try server.requests(s)
        #expect(log.count == 2)
        if log.count == 2, let t0 = log[0]["time"]?.doubleValue, let t1 = log[1]["time"]?.doubleValue {
            #expect(t1 - t0 >= 0.25, "server saw the retry after \(t1 - t0) s")
        }
    }

    // MARK: - LM Studio

    @Test("lmstudio: models() from /api/v0/models with context_length, capabilities and details.state; chat over /v1")
    func lmstudio() throws {
        let s = scope("lm")
        let router = try makeRouter([provider("lm", type: "lmstudio", base: "\(root)/\(s)/v1", key: nil)])
        defer { router.close() }
        let doc = try #require(onThread { transcribed(.models, (try? router.models()) ?? .null) })
        #expect(doc["errors"] == [])
        let data = try #require(doc["data"]?.arrayValue)
        #expect(data.compactMap { $0["id"]?.stringValue } == ["lm/qwen2.5-7b-instruct", "lm/text-embedding-nomic-embed-text-v1.5"])
        #expect(data.map { $0["context_length"] } == [32768, 2048])
        #expect(data.map { $0["capabilities"] } == [["chat"], ["embeddings"]])
        #expect(data.map { $0["details"]?["state"] } == ["loaded", "not-loaded"])
        #expect(data.first?["details"]?["quantization"] == "Q4_K_M")
        #expect(data.first?["details"]?["type"] == "llm")

        let r = try #require(complete(router, try chat("local hello", model: "qwen2.5-7b-instruct"))).get()
        #expect(content(r) == "echo: local hello")
        let out = try #require(stream(router, try chat("local stream", model: "qwen2.5-7b-instruct")))
        #expect(out.text == "echo: local stream")
        let log = try server.requests(s)
        #expect(log.map { $0["path"]?.stringValue ?? "" } ==
                ["/\(s)/api/v0/models", "/\(s)/v1/chat/completions", "/\(s)/v1/chat/completions"])
        #expect(log.allSatisfy { $0["headers"]?["authorization"] == nil })
    }

    // MARK: - llama.cpp

    @Test("llamacpp: health() healthy on /health 200; a 503 \"Loading model\" is unhealthy with error_class model_not_loaded")
    func llamacppHealth() throws {
        let s = scope("lch")
        let router = try makeRouter([provider("lc", type: "llamacpp", base: "\(root)/\(s)/v1", key: nil)],
                                    extra: #","timeouts":{"health_ms":2000}"#)
        defer { router.close() }
        let first = try #require(onThread { transcribed(.health, (try? router.health()) ?? .null) })
        let ok = try #require(first["providers"]?.arrayValue?.first)
        #expect(ok["healthy"] == true)
        #expect(ok["http_status"] == 200)
        #expect(ok["type"] == "llamacpp")

        try server.script(s, #"[{"status":503,"message":"Loading model"}]"#)
        let second = try #require(onThread { transcribed(.health, (try? router.health()) ?? .null) })
        let loading = try #require(second["providers"]?.arrayValue?.first)
        #expect(loading["healthy"] == false)
        #expect(loading["http_status"] == 503)
        #expect(loading["error_class"] == "model_not_loaded")
        #expect(loading["error"]?.stringValue?.contains("loading") == true, "\(loading)")

        let log = try server.requests(s)
        #expect(log.map { $0["path"]?.stringValue ?? "" } == ["/\(s)/health", "/\(s)/health"])
        #expect(log.allSatisfy { $0["method"] == "GET" })
    }

    @Test("llamacpp: a chat while the model loads is MODEL_NOT_LOADED and retried; chat over /v1 then works")
    func llamacppChatAndLoading() throws {
        let s = scope("lcc")
        let router = try makeRouter([provider("lc", type: "llamacpp", base: "\(root)/\(s)/v1", key: nil)])
        defer { router.close() }
        let r = try #require(complete(router, try chat("llama hello", model: "x"))).get()
        #expect(content(r) == "echo: llama hello")
        try server.script(s, #"[{"status":503,"message":"Loading model"}]"#)
        let r2 = try #require(complete(router, try chat("after load", model: "x"))).get()
        #expect(content(r2) == "echo: after load")
        // The /v1 route is the OpenAI protocol's: its 503 body says "Loading model" too here.
        #expect(r2["attempts"]?.arrayValue?.map { $0["status_name"]?.stringValue } == ["PMX_ERR_MODEL_NOT_LOADED", nil])
        #expect(try server.requests(s).map { $0["path"]?.stringValue ?? "" }.allSatisfy { $0 == "/\(s)/v1/chat/completions" })
    }

    @Test("llamacpp: the server closes the connection (Connection: close), the next request reconnects")
    func llamacppReconnect() throws {
        let s = scope("lcr")
        let router = try makeRouter([provider("lc", type: "llamacpp", base: "\(root)/\(s)/v1", key: nil)])
        defer { router.close() }
        try server.script(s, #"[{"close_connection":true}]"#)
        for word in ["first", "second", "third"] {
            let r = try #require(complete(router, try chat(word, model: "x"))).get()
            #expect(content(r) == .string("echo: \(word)"))
            #expect(r["attempts"]?.arrayValue?.count == 1)
        }
        let out = try #require(stream(router, try chat("streamed after", model: "x")))
        #expect(out.error == nil, "\(out.lines)")
        #expect(out.text == "echo: streamed after")
        #expect(try server.requests(s).count == 4)
    }

    // MARK: - num_ctx (an extension parameter) on an OpenAI-compatible provider

    @Test("num_ctx (sent as the alias context_length) is dropped from an OpenAI-compatible request by default")
    func numCtxDropped() throws {
        let s = scope("ctx")
        let router = try makeRouter([provider("oc", type: "openai-compatible", base: "\(root)/\(s)/v1")])
        defer { router.close() }
        let r = try #require(complete(router, try chat("context", model: "m", extra: #","context_length":8192,"temperature":0.5"#))).get()
        #expect(content(r) == "echo: context")
        let sent = try #require(try server.requests(s).first?["json"]?.objectValue)
        #expect(sent["num_ctx"] == nil)
        #expect(sent["context_length"] == nil)
        #expect(sent["temperature"] == 0.5)
    }

    @Test("num_ctx with unsupported_params reject: the attempt fails with UNSUPPORTED, no request sent")
    func numCtxRejected() throws {
        let s = scope("ctxr")
        let router = try makeRouter([provider("oc", type: "openai-compatible", base: "\(root)/\(s)/v1")],
                                    extra: #","unsupported_params":"reject""#)
        defer { router.close() }
        let result = try #require(complete(router, try chat("context", model: "m", extra: #","context_length":8192"#)))
        guard case .failure(let e) = result else { Issue.record("succeeded: \(result)"); return }
        #expect(e.status == .unsupported, "\(e.status.nameString): \(e.message)")
        #expect(e.message.contains("num_ctx"), "\(e.message)")
        #expect(try server.requests(s).isEmpty)
    }

    @Test("num_ctx with reject: every OpenAI-compatible provider refuses (UNSUPPORTED, nothing sent); route.unsupported_params drop overrides")
    func numCtxRejectFailsOver() throws {
        let a = scope("ctxa"), b = scope("ctxb")
        let router = try makeRouter([provider("a", type: "openai-compatible", base: "\(root)/\(a)/v1"),
                                     provider("b", type: "groq", base: "\(root)/\(b)/v1")],
                                    extra: #","unsupported_params":"reject""#)
        defer { router.close() }
        let result = try #require(complete(router, try chat("context", model: "m", extra: #","num_ctx":8192"#)))
        guard case .failure(let e) = result else { Issue.record("succeeded: \(result)"); return }
        #expect(e.status == .unsupported, "\(e.status.nameString): \(e.message)")
        #expect(try server.requests(a).isEmpty && server.requests(b).isEmpty)
        // The request's own route.unsupported_params overrides the router's.
        let r = try #require(complete(router, try chat("context", model: "m", extra: #","num_ctx":8192,"route":{"unsupported_params":"drop"}"#))).get()
        #expect(r["provider"] == "a")
        #expect(try server.requests(a).first?["json"]?["num_ctx"] == nil)
        #expect(try server.requests(b).isEmpty)
    }
}
