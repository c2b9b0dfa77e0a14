// SPDX-License-Identifier: Apache-2.0
@testable import MuxConfig
@testable import MuxRouting
import Testing

/// Recorded answers of real servers (trimmed) and of look-alikes.
private enum Recorded {
    static let ollamaVersion = #"{"version":"0.12.6"}"#
    static let ollamaTags = #"""
        {"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-06-01T12:00:00.000000000Z",
        "size":2019393189,"digest":"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}},
        {"model":"nomic-embed-text:latest","size":274302450,"details":{"family":"nomic-bert"}},
        {"name":"llama3.2:latest","model":"llama3.2:latest"}]}
        """#
    static let lmstudioV0 = #"""
        {"object":"list","data":[
        {"id":"qwen2-vl-7b-instruct","object":"model","type":"vlm","publisher":"mlx-community","arch":"qwen2_vl",
         "compatibility_type":"mlx","quantization":"4bit","state":"not-loaded","max_context_length":32768},
        {"id":"text-embedding-nomic-embed-text-v1.5","object":"model","type":"embeddings","publisher":"nomic-ai",
         "arch":"nomic-bert","compatibility_type":"gguf","quantization":"Q4_0","state":"loaded","max_context_length":2048}]}
        """#
    /// LM Studio answers unknown endpoints with 200 and an error object.
    static let lmstudioUnknown = #"{"error":"Unexpected endpoint or method. (GET /api/version)"}"#
    static let llamaProps = #"""
        {"default_generation_settings":{"n_ctx":8192,"params":{"temperature":0.8,"top_k":40}},"total_slots":1,
         "model_path":"/home/u/models/Qwen3-8B-Q4_K_M.gguf","chat_template":"{{ messages }}","build_info":"b6000-abc"}
        """#
    static let llamaModels = #"""
        {"object":"list","data":[{"id":"qwen3-8b","object":"model","created":1735689600,"owned_by":"llamacpp",
         "meta":{"vocab_type":2,"n_ctx_train":40960}}]}
        """#
    static let openaiModels = #"""
        {"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},
        {"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]}
        """#
    static let openaiNotFound = #"{"error":{"message":"Unknown path","type":"invalid_request_error","param":null,"code":null}}"#
    static let html = "<html><head><title>Welcome to nginx!</title></head><body>hello</body></html>"
}

private func ok(_ text: String) -> (status: Int, body: [UInt8]) { (200, Array(text.utf8)) }
private func status(_ code: Int, _ text: String) -> (status: Int, body: [UInt8]) { (code, Array(text.utf8)) }

/// A server answering every path with the same HTML page (nginx, a router's admin page…).
private func everywhere(_ answer: (status: Int, body: [UInt8])) -> ServerIdentification.Answers {
    var a: ServerIdentification.Answers = [:]
    for kind in LocalServerKind.allCases { for p in ServerIdentification.probePaths(for: kind) { a[p] = answer } }
    return a
}

@Suite("Discovery: identification")
struct ServerIdentificationTests {
    @Test("probe paths per kind, in order")
    func probePaths() {
        #expect(ServerIdentification.probePaths(for: .ollama) == ["/api/version", "/api/tags"])
        #expect(ServerIdentification.probePaths(for: .lmstudio) == ["/api/v0/models"])
        #expect(ServerIdentification.probePaths(for: .llamacpp) == ["/props", "/v1/models"])
    }

    @Test("Ollama: version and tags identify it; models by name (or model), without duplicates")
    func ollama() {
        let a: ServerIdentification.Answers = ["/api/version": ok(Recorded.ollamaVersion), "/api/tags": ok(Recorded.ollamaTags)]
        #expect(ServerIdentification.identify(.ollama, answers: a))
        #expect(ServerIdentification.models(.ollama, answers: a) == ["llama3.2:latest", "nomic-embed-text:latest"])
        #expect(ServerIdentification.version(.ollama, answers: a) == "0.12.6")
        #expect(ServerIdentification.identify(.ollama, answers: ["/api/version": ok(Recorded.ollamaVersion), "/api/tags": ok(#"{"models":[]}"#)]))
        // The same answers do not make it another kind.
        #expect(!ServerIdentification.identify(.lmstudio, answers: a))
        #expect(!ServerIdentification.identify(.llamacpp, answers: a))
    }

    @Test("Ollama look-alikes: tags without /api/version, version without tags, wrong shapes, non-200")
    func ollamaLookAlikes() {
        let tags = ok(Recorded.ollamaTags), version = ok(Recorded.ollamaVersion)
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": status(404, "404 page not found"), "/api/tags": tags]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/tags": tags]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": version]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": version, "/api/tags": status(500, Recorded.ollamaTags)]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": ok(#"{"version":12}"#), "/api/tags": tags]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": ok(#"["0.12.6"]"#), "/api/tags": tags]))
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": version, "/api/tags": ok(#"{"models":{}}"#)]))
        // LM Studio says 200 with an error object to paths it does not know.
        #expect(!ServerIdentification.identify(.ollama, answers: ["/api/version": ok(Recorded.lmstudioUnknown), "/api/tags": ok(Recorded.lmstudioUnknown)]))
        #expect(ServerIdentification.version(.ollama, answers: ["/api/version": ok(Recorded.lmstudioUnknown)]) == nil)
    }

    @Test("LM Studio: /api/v0/models entries with type and state; an empty list needs object: list")
    func lmstudio() {
        let a: ServerIdentification.Answers = ["/api/v0/models": ok(Recorded.lmstudioV0)]
        #expect(ServerIdentification.identify(.lmstudio, answers: a))
        #expect(ServerIdentification.models(.lmstudio, answers: a) == ["qwen2-vl-7b-instruct", "text-embedding-nomic-embed-text-v1.5"])
        #expect(ServerIdentification.version(.lmstudio, answers: a) == nil)
        #expect(ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(#"{"object":"list","data":[]}"#)]))
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(#"{"data":[]}"#)]))
        #expect(!ServerIdentification.identify(.ollama, answers: a))
        #expect(!ServerIdentification.identify(.llamacpp, answers: a))
    }

    @Test("LM Studio look-alikes: an OpenAI model list (no type/state), a partial one, an error object")
    func lmstudioLookAlikes() {
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(Recorded.openaiModels)]))
        let mixed = #"{"object":"list","data":[{"id":"a","type":"llm","state":"loaded"},{"id":"b","object":"model"}]}"#
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(mixed)]))
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(#"{"object":"list","data":["a"]}"#)]))
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": ok(Recorded.lmstudioUnknown)]))
        #expect(!ServerIdentification.identify(.lmstudio, answers: ["/api/v0/models": status(401, Recorded.lmstudioV0)]))
    }

    @Test("llama.cpp: /props with default_generation_settings; models from /v1/models, else the model file's name")
    func llamacpp() {
        let a: ServerIdentification.Answers = ["/props": ok(Recorded.llamaProps), "/v1/models": ok(Recorded.llamaModels)]
        #expect(ServerIdentification.identify(.llamacpp, answers: a))
        #expect(ServerIdentification.models(.llamacpp, answers: a) == ["qwen3-8b"])
        let propsOnly: ServerIdentification.Answers = ["/props": ok(Recorded.llamaProps), "/v1/models": status(503, "{}")]
        #expect(ServerIdentification.identify(.llamacpp, answers: propsOnly))
        #expect(ServerIdentification.models(.llamacpp, answers: propsOnly) == ["Qwen3-8B-Q4_K_M.gguf"])
        let windows = #"{"default_generation_settings":{},"model_path":"C:\\models\\phi-4.gguf"}"#
        #expect(ServerIdentification.models(.llamacpp, answers: ["/props": ok(windows)]) == ["phi-4.gguf"])
        #expect(ServerIdentification.models(.llamacpp, answers: ["/props": ok(#"{"default_generation_settings":{}}"#)]) == [])
        #expect(!ServerIdentification.identify(.ollama, answers: a))
        #expect(!ServerIdentification.identify(.lmstudio, answers: a))
    }

    @Test("llama.cpp look-alikes: an OpenAI server (/v1/models but no /props), wrong props shapes")
    func llamacppLookAlikes() {
        #expect(!ServerIdentification.identify(.llamacpp, answers: ["/props": status(404, Recorded.openaiNotFound), "/v1/models": ok(Recorded.openaiModels)]))
        #expect(!ServerIdentification.identify(.llamacpp, answers: ["/v1/models": ok(Recorded.openaiModels)]))
        #expect(!ServerIdentification.identify(.llamacpp, answers: ["/props": ok(#"{"default_generation_settings":"yes"}"#)]))
        #expect(!ServerIdentification.identify(.llamacpp, answers: ["/props": ok(#"{"total_slots":1}"#)]))
        #expect(!ServerIdentification.identify(.llamacpp, answers: ["/props": status(503, Recorded.llamaProps)]))
    }

    @Test("the list paths are probed only when the identity answer already fits")
    func identityFirst() {
        #expect(ServerIdentification.identityHolds(.ollama, answers: ["/api/version": ok(Recorded.ollamaVersion)]))
        #expect(!ServerIdentification.identityHolds(.ollama, answers: ["/api/version": ok(Recorded.html)]))
        #expect(!ServerIdentification.identityHolds(.ollama, answers: ["/api/version": ok(Recorded.lmstudioUnknown)]))
        #expect(ServerIdentification.identityHolds(.llamacpp, answers: ["/props": ok(Recorded.llamaProps)]))
        #expect(!ServerIdentification.identityHolds(.llamacpp, answers: ["/props": ok(Recorded.html)]))
        #expect(ServerIdentification.identityHolds(.lmstudio, answers: ["/api/v0/models": ok(Recorded.lmstudioV0)]))
        #expect(!ServerIdentification.identityHolds(.lmstudio, answers: ["/api/v0/models": ok(Recorded.openaiModels)]))
    }

    @Test("an HTML page answering 200 everywhere, garbage and empty bodies identify as nothing")
    func htmlAndGarbage() {
        let answers = [everywhere(ok(Recorded.html)), everywhere((200, [0xFF, 0xFE, 0x7B, 0x22])), everywhere(ok("")),
                       everywhere(ok(#"{"models": ["#)), everywhere(ok("null")), [:]]
        for a in answers {
            for kind in LocalServerKind.allCases {
                #expect(!ServerIdentification.identify(kind, answers: a))
                #expect(ServerIdentification.models(kind, answers: a) == [])
            }
        }
    }

    @Test("a discovered server's provider config: type, base_url (root or /v1), models, name")
    func providerConfig() {
        let o = DiscoveredServer(kind: .ollama, baseURL: "http://127.0.0.1:11434", models: ["llama3.2:latest"], version: "0.12.6",
                                 providerName: "ollama-11434").providerConfig()
        #expect(o.name == "ollama-11434")
        #expect(o.type == .ollama)
        #expect(o.baseURL == "http://127.0.0.1:11434")
        #expect(o.models == ["llama3.2:latest"])
        #expect(o.apiKey == nil)
        let l = DiscoveredServer(kind: .lmstudio, baseURL: "http://127.0.0.1:1234", models: ["a"], providerName: "lmstudio-1234").providerConfig()
        #expect(l.type == .lmstudio && l.baseURL == "http://127.0.0.1:1234/v1")
        let c = DiscoveredServer(kind: .llamacpp, baseURL: "http://localhost:8080/llama", models: [], providerName: "llamacpp-8080").providerConfig()
        #expect(c.type == .llamacpp && c.baseURL == "http://localhost:8080/llama/v1" && c.models == [])
    }

    @Test("provider names: <kind>-<port>, clashing ones get -2, -3")
    func providerNames() {
        let names = DiscoveryService.providerNames(for: [
            DiscoveryTarget(kind: .ollama), DiscoveryTarget(kind: .lmstudio, port: 11434),
            DiscoveryTarget(kind: .ollama, baseURL: "http://localhost:11434"), DiscoveryTarget(kind: .ollama, baseURL: "http://[::1]:11434/x"),
            DiscoveryTarget(kind: .llamacpp, baseURL: "http://127.0.0.1"), DiscoveryTarget(kind: .llamacpp, baseURL: "https://127.0.0.1/a"),
        ])
        #expect(names == ["ollama-11434", "lmstudio-11434", "ollama-11434-2", "ollama-11434-3", "llamacpp-80", "llamacpp-443"])
    }
}
