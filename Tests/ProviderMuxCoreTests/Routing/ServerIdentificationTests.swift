import Testing
@testable import ProviderMuxCore

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

@Suite("Discovery: settings")
struct DiscoverySettingsTests {
    private func parse(_ text: String) throws -> DiscoverySettings {
        var r = try FieldReader(JSONParser.parse(text), path: "discovery")
        return try DiscoverySettings.parse(&r)
    }

    private func failure(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch let e as PMXError {
            #expect(e.status == .config)
            return e.message
        } catch { return "\(error)" }
    }

    @Test("defaults: off, the three kinds on 127.0.0.1 at their default ports")
    func defaults() throws {
        let s = try parse("{}")
        #expect(s == DiscoverySettings())
        #expect(!s.enabled && s.intervalMs == 60_000 && s.timeoutMs == 1_000 && s.modelsTTLMs == 300_000)
        #expect(s.targets.map(\.baseURL) == ["http://127.0.0.1:11434", "http://127.0.0.1:1234", "http://127.0.0.1:8080"])
        #expect(s.targets.map(\.kind) == [.ollama, .lmstudio, .llamacpp])
        #expect(LocalServerKind.allCases.map(\.providerType) == [.ollama, .lmstudio, .llamacpp])
    }

    @Test("every key; targets by port, by base_url (trailing / and /v1 dropped), by type alone")
    func full() throws {
        let s = try parse(#"""
            {"enabled":true,"interval_ms":0,"timeout_ms":250,"models_ttl_ms":5000,
             "targets":[{"type":"ollama","port":11500},{"type":"lmstudio","base_url":"http://localhost:1234/v1/"},
                        {"type":"llamacpp","base_url":"http://[::1]:8081/llama/"},{"type":"llamacpp"},
                        {"type":"ollama","base_url":"http://127.3.4.5:9"},{"type":"ollama","base_url":"http://[0:0:0:0:0:0:0:1]:7"}]}
            """#)
        #expect(s.enabled && s.intervalMs == 0 && s.timeoutMs == 250 && s.modelsTTLMs == 5000)
        #expect(s.targets == [
            DiscoveryTarget(kind: .ollama, baseURL: "http://127.0.0.1:11500"),
            DiscoveryTarget(kind: .lmstudio, baseURL: "http://localhost:1234"),
            DiscoveryTarget(kind: .llamacpp, baseURL: "http://[::1]:8081/llama"),
            DiscoveryTarget(kind: .llamacpp, baseURL: "http://127.0.0.1:8080"),
            DiscoveryTarget(kind: .ollama, baseURL: "http://127.3.4.5:9"),
            DiscoveryTarget(kind: .ollama, baseURL: "http://[0:0:0:0:0:0:0:1]:7"),
        ])
    }

    @Test("a non-loopback host is refused, naming the field, unless allow_remote")
    func loopbackOnly() throws {
        let text = #"{"targets":[{"type":"ollama"},{"type":"lmstudio","base_url":"http://10.0.0.5:1234"}]}"#
        #expect(failure(text) == "discovery.targets[1].base_url: host 10.0.0.5 is not loopback; set discovery.allow_remote to probe it")
        for host in ["example.com", "128.0.0.1", "[::2]", "127.0.0.256", "localhost.example.com", "[::ffff:10.0.0.1]"] {
            let m = failure(#"{"targets":[{"type":"llamacpp","base_url":"http://\#(host):8080"}]}"#)
            #expect(m?.hasPrefix("discovery.targets[0].base_url: host ") == true, "\(host): \(m ?? "accepted")")
        }
        let remote = try parse(#"{"allow_remote":true,"targets":[{"type":"lmstudio","base_url":"http://10.0.0.5:1234"}]}"#)
        #expect(remote.targets == [DiscoveryTarget(kind: .lmstudio, baseURL: "http://10.0.0.5:1234")])
    }

    @Test("bad values name the field")
    func errors() {
        #expect(failure(#"{"enabeld":true}"#) == "discovery.enabeld: unknown key")
        #expect(failure(#"{"interval_ms":50}"#) == "discovery.interval_ms: must be 0 (probe only at start) or at least 100, got 50")
        #expect(failure(#"{"timeout_ms":0}"#)?.hasPrefix("discovery.timeout_ms: must be between 1 and 60000") == true)
        #expect(failure(#"{"targets":[]}"#)?.hasPrefix("discovery.targets: must list at least one target") == true)
        #expect(failure(#"{"targets":[{"type":"vllm"}]}"#) == "discovery.targets[0].type: unknown local server type \"vllm\" (expected one of: ollama, lmstudio, llamacpp)")
        #expect(failure(#"{"targets":[{"port":1}]}"#) == "discovery.targets[0].type: is required")
        #expect(failure(#"{"targets":[{"type":"ollama","port":70000}]}"#)?.hasPrefix("discovery.targets[0].port: must be between 1 and 65535") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","port":1,"base_url":"http://127.0.0.1:1"}]}"#) == "discovery.targets[0].base_url: give either port or base_url, not both")
        #expect(failure(#"{"targets":[{"type":"ollama","host":"127.0.0.1"}]}"#) == "discovery.targets[0].host: unknown key")
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"ftp://127.0.0.1"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"http://u:p@127.0.0.1:1"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama","base_url":"http://127.0.0.1:99999"}]}"#)?.hasPrefix("discovery.targets[0].base_url: must be http://") == true)
        #expect(failure(#"{"targets":[{"type":"ollama"},{"type":"ollama","port":11434}]}"#) == "discovery.targets[1]: the same server as targets[0]")
        #expect(failure(#"{"targets":{"type":"ollama"}}"#) == "discovery.targets: expected an array, got object")
    }
}

@Suite("Health: settings")
struct HealthSettingsTests {
    private func parse(_ text: String) throws -> HealthSettings {
        var r = try FieldReader(JSONParser.parse(text), path: "health_checks")
        return try HealthSettings.parse(&r)
    }

    private func failure(_ text: String) -> String? {
        do { _ = try parse(text); return nil } catch { return (error as? PMXError)?.message ?? "\(error)" }
    }

    @Test("defaults, every key, and the back-off a long interval implies")
    func parsing() throws {
        #expect(try parse("{}") == HealthSettings())
        let s = try parse(#"{"enabled":true,"interval_ms":100,"max_backoff_ms":100}"#)
        #expect(s.enabled && s.intervalMs == 100 && s.maxBackoffMs == 100)
        #expect(try parse(#"{"interval_ms":600000}"#).maxBackoffMs == 600_000)
    }

    @Test("errors name the field")
    func errors() {
        #expect(failure(#"{"interval_ms":99}"#)?.hasPrefix("health_checks.interval_ms: must be between 100 and") == true)
        #expect(failure(#"{"interval_ms":1000,"max_backoff_ms":999}"#) == "health_checks.max_backoff_ms: must be at least interval_ms (1000), got 999")
        #expect(failure(#"{"interval":1000}"#) == "health_checks.interval: unknown key")
        #expect(failure(#"{"enabled":"yes"}"#) == "health_checks.enabled: expected true or false, got string")
    }

    @Test("delay: the interval, doubled per further failure, capped")
    func delays() {
        var s = HealthSettings()
        s.intervalMs = 1000
        s.maxBackoffMs = 5000
        #expect([0, 1, 2, 3, 4, 5, 1000].map { s.delayMs(afterFailures: $0) } == [1000, 1000, 2000, 4000, 5000, 5000, 5000])
    }
}
