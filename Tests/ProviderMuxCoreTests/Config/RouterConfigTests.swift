// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// RouterConfig.parse / ProviderConfig.parse: validation names the field and the reason,
// `${VAR}` expansion, mock scripts, per-provider overrides.

/// Parses a router config with an injected environment (never the process environment).
private func parseConfig(_ text: String, env: [String: String] = [:]) throws -> RouterConfig {
    try RouterConfig.parse(JSONParser.parse(text), lookup: { env[$0] })
}

/// The PMXError `body` throws (an issue is recorded when it throws nothing or something else).
private func configError(_ text: String, env: [String: String] = [:],
                         sourceLocation: SourceLocation = #_sourceLocation) -> PMXError? {
    do {
        _ = try parseConfig(text, env: env)
        Issue.record("config was accepted: \(text)", sourceLocation: sourceLocation)
    } catch let e as PMXError {
        return e
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Asserts the config fails with `status` and a message containing every fragment.
private func expectConfigError(_ text: String, _ status: Status, _ fragments: String..., env: [String: String] = [:],
                               sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e = configError(text, env: env, sourceLocation: sourceLocation) else { return }
    #expect(e.status == status, "\(e)", sourceLocation: sourceLocation)
    for f in fragments {
        #expect(e.message.contains(f), "message \"\(e.message)\" lacks \"\(f)\"", sourceLocation: sourceLocation)
    }
}

/// One provider wrapped in a router config.
private func withProvider(_ provider: String) -> String { #"{"providers":[\#(provider)]}"# }

@Suite("RouterConfig")
struct RouterConfigTests {
    static let full = #"""
    {
      "schema_version": 1,
      "providers": [
        {"name": "local", "type": "openai-compatible", "base_url": "http://127.0.0.1:8080/v1/",
         "api_key": "${LOCAL_KEY}", "models": ["llama3", "qwen"], "default_model": "llama3",
         "headers": {"X-Team": "search", "X-Empty": ""},
         "retry": {"max_attempts": 1}, "timeouts": {"connect_ms": 500}},
        {"name": "cloud.eu-1", "type": "openai", "api_key": "sk-cloud-xyz"},
        {"name": "mock", "type": "mock", "reply": "hi", "latency_ms": 5}
      ],
      "routing": {"order": ["mock", "local"]},
      "retry": {"max_attempts": 4, "initial_backoff_ms": 50, "max_backoff_ms": 900,
                "multiplier": 1.5, "jitter": 0.1, "max_retry_after_ms": 7000},
      "timeouts": {"connect_ms": 1000, "first_byte_ms": 2000, "idle_ms": 3000,
                   "total_ms": 4000, "health_ms": 500},
      "limits": {"max_response_bytes": 2048}
    }
    """#

    @Test("a full valid config: every field read, routing.order applied")
    func fullConfig() throws {
        let c = try parseConfig(Self.full, env: ["LOCAL_KEY": "sk-local-123"])
        #expect(c.providers.map(\.name) == ["mock", "local", "cloud.eu-1"])
        let local = try #require(c.providers.first { $0.name == "local" })
        #expect(local.type == .openaiCompatible)
        #expect(local.baseURL == "http://127.0.0.1:8080/v1")  // trailing slash dropped
        #expect(local.apiKey == "sk-local-123")
        #expect(local.models == ["llama3", "qwen"])
        #expect(local.defaultModel == "llama3")
        #expect(local.headers.map { "\($0.0)=\($0.1)" } == ["X-Team=search", "X-Empty="])
        #expect(local.serves("qwen") && !local.serves("gpt-4o"))
        #expect(local.mock == nil)

        let cloud = try #require(c.providers.first { $0.name == "cloud.eu-1" })
        #expect(cloud.type == .openai)
        #expect(cloud.baseURL == "https://api.openai.com/v1")
        #expect(cloud.apiKey == "sk-cloud-xyz")
        #expect(cloud.models == nil)
        #expect(cloud.serves("anything"))

        let mock = try #require(c.providers.first { $0.name == "mock" })
        #expect(mock.type == .mock)
        #expect(mock.baseURL == "")
        #expect(mock.mock?.reply == "hi")
        #expect(mock.mock?.latencyMs == 5)

        #expect(c.retry.maxAttempts == 4)
        #expect(c.retry.initialBackoffMs == 50)
        #expect(c.retry.maxBackoffMs == 900)
        #expect(c.retry.multiplier == 1.5)
        #expect(c.retry.jitter == 0.1)
        #expect(c.retry.maxRetryAfterMs == 7000)
        #expect(c.timeouts.connectMs == 1000)
        #expect(c.timeouts.firstByteMs == 2000)
        #expect(c.timeouts.idleMs == 3000)
        #expect(c.timeouts.totalMs == 4000)
        #expect(c.timeouts.healthMs == 500)
        #expect(c.maxResponseBytes == 2048)

        // Per-provider overrides sit over the router's sections.
        let r = local.retry(over: c.retry)
        #expect(r.maxAttempts == 1)
        #expect(r.initialBackoffMs == 50)
        let t = local.timeouts(over: c.timeouts)
        #expect(t.connectMs == 500)
        #expect(t.idleMs == 3000)
    }

    @Test("defaults of the documented vocabulary")
    func defaults() throws {
        let c = try parseConfig(#"{"providers":[{"name":"m","type":"mock"}]}"#)
        #expect(c.providers.count == 1)
        #expect(c.retry.maxAttempts == 3)
        #expect(c.retry.initialBackoffMs == 200)
        #expect(c.retry.maxBackoffMs == 10_000)
        #expect(c.retry.multiplier == 2.0)
        #expect(c.retry.jitter == 0.2)
        #expect(c.retry.maxRetryAfterMs == 60_000)
        #expect(c.timeouts.connectMs == 10_000)
        #expect(c.timeouts.firstByteMs == 120_000)
        #expect(c.timeouts.idleMs == 60_000)
        #expect(c.timeouts.totalMs == 600_000)
        #expect(c.timeouts.healthMs == 3_000)
        #expect(c.maxResponseBytes == 64 * 1024 * 1024)
        let m = c.providers[0]
        #expect(m.apiKey == nil && m.models == nil && m.defaultModel == nil && m.headers.isEmpty)
        #expect(m.mock?.reply == nil)
        #expect(m.mock?.latencyMs == 0)
        #expect(m.mock?.tokenDelayMs == 0)
        #expect(m.mock?.embeddingDimensions == 8)
        #expect(m.mock?.script == [])
        #expect(m.retry(over: c.retry) == c.retry)
        #expect(m.timeouts(over: c.timeouts) == c.timeouts)
    }

    @Test("providers may be empty; the text entry point parses too")
    func emptyProviders() throws {
        #expect(try parseConfig(#"{"providers":[]}"#).providers.isEmpty)
        #expect(try RouterConfig.parse(#"{"schema_version":1,"providers":[]}"#).providers.isEmpty)
    }

    @Test("top-level errors name the field and the reason")
    func topLevelErrors() {
        expectConfigError(#"{}"#, .config, "providers: is required")
        expectConfigError(#"{"providers":{}}"#, .config, "providers: expected an array, got object")
        expectConfigError(#"{"providers":[],"bogus":1}"#, .config, "bogus: unknown key")
        expectConfigError(#"{"providers":[],"schema_version":2}"#, .config, "schema_version", "2")
        expectConfigError(#"[]"#, .config, "expected an object, got array")
        expectConfigError(#"{"providers":[],"routing":{"order":[],"colour":"x"}}"#, .config, "routing.colour: unknown key")
        expectConfigError(#"{"providers":[],"limits":{"max_response_bytes":10}}"#, .config, "limits.max_response_bytes", "got 10")
        expectConfigError(#"{"providers":[],"limits":{"max_bytes":10}}"#, .config, "limits.max_bytes: unknown key")
    }

    @Test("provider errors name providers[i].field")
    func providerErrors() {
        expectConfigError(withProvider(#"{"name":"m","type":"mock","bogus":1}"#), .config, "providers[0].bogus: unknown key")
        expectConfigError(#"{"providers":[{"name":"a","type":"mock"},{"name":"b","type":"mock","bogus":1}]}"#, .config,
                          "providers[1].bogus: unknown key")
        expectConfigError(withProvider(#""mock""#), .config, "providers[0]: expected an object, got string")
        expectConfigError(withProvider(#"{"type":"mock"}"#), .config, "providers[0].name: is required")
        expectConfigError(withProvider(#"{"name":"m"}"#), .config, "providers[0].type: is required")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","models":"x"}"#), .config, "providers[0].models: expected an array")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","models":["a",""]}"#), .config, "providers[0].models[1]")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","headers":{"X-A":5}}"#), .config, "providers[0].headers.X-A: expected a string")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","headers":{"Bad Name":"v"}}"#), .config, "providers[0].headers.Bad Name", "header name")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","headers":{"X-A":"a\r\nX-Injected: 1"}}"#), .config, "providers[0].headers.X-A", "line breaks")
        // Mock-only options are unknown keys on a network provider.
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":"http://h/v1","reply":"x"}"#), .config,
                          "providers[0].reply: unknown key")
    }

    @Test("unknown provider type: PMX_ERR_UNKNOWN_PROVIDER_TYPE naming it and the available ones")
    func unknownType() {
        expectConfigError(withProvider(#"{"name":"x","type":"bogus-ai"}"#), .unknownProviderType,
                          "providers[0].type", "\"bogus-ai\"", "openai-compatible", "mock")
    }

    @Test("every provider type the design names is accepted, with its preset base URL where it has one")
    func everyDesignType() throws {
        for type in ["openai", "anthropic", "gemini", "ollama", "lmstudio", "llamacpp", "cohere", "openrouter", "groq",
                     "together", "cerebras", "mistral", "deepseek", "xai", "fireworks", "huggingface"] {
            // A key: the cloud types refuse to start without one (ProviderKeyTests).
            let c = try RouterConfig.parse(JSONParser.parse(withProvider(#"{"name":"p","type":"\#(type)","api_key":"k-every-type"}"#)), lookup: { _ in nil })
            #expect(c.providers[0].type.rawValue == type)
            #expect(c.providers[0].baseURL.hasPrefix("http"), "\(type) has a default base URL")
        }
        // Azure and openai-compatible have no default: the resource / server is the user's.
        #expect(configError(withProvider(#"{"name":"p","type":"azure"}"#))?.message.contains("base_url") == true)
    }

    @Test("type-specific options are accepted only for their type")
    func typeOptions() throws {
        let c = try RouterConfig.parse(JSONParser.parse(withProvider(
            #"{"name":"az","type":"azure","base_url":"https://r.openai.azure.com","api_key":"","api_version":"2024-10-21","deployment":"gpt4o"}"#)), lookup: { _ in nil })
        #expect(c.providers[0].options["api_version"] == "2024-10-21")
        #expect(c.providers[0].options["deployment"] == "gpt4o")
        expectConfigError(withProvider(#"{"name":"x","type":"openai","api_version":"1"}"#), .config, "providers[0].api_version: unknown key")
        expectConfigError(withProvider(#"{"name":"x","type":"anthropic","default_max_tokens":"many"}"#), .config, "providers[0].default_max_tokens")
    }

    @Test("provider names: 1 to 63 of [A-Za-z0-9._-]", arguments: [
        "bad name", "a/b", "x:y", "ünïcode", "", String(repeating: "n", count: 64),
    ])
    func badNames(name: String) {
        expectConfigError(withProvider(#"{"name":"\#(name)","type":"mock"}"#), .config, "providers[0].name")
    }

    @Test("valid names are accepted")
    func goodNames() throws {
        for name in ["a", "A.b_c-9", String(repeating: "n", count: 63)] {
            #expect(try parseConfig(withProvider(#"{"name":"\#(name)","type":"mock"}"#)).providers[0].name == name)
        }
    }

    @Test("duplicate names: PMX_ERR_DUPLICATE_PROVIDER naming the second")
    func duplicateNames() {
        expectConfigError(#"{"providers":[{"name":"a","type":"mock"},{"name":"b","type":"mock"},{"name":"a","type":"mock"}]}"#,
                          .duplicateProvider, "providers[2].name", "\"a\"")
    }

    @Test("base_url: required for openai-compatible, http(s) only, refused on mock, defaulted for openai")
    func baseURL() throws {
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible"}"#), .config, "providers[0].base_url", "required")
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":""}"#), .config, "providers[0].base_url")
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":"ftp://h/v1"}"#), .config,
                          "providers[0].base_url", "http://")
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":"localhost:8080/v1"}"#), .config,
                          "providers[0].base_url")
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":5}"#), .config,
                          "providers[0].base_url: expected a string, got number")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","base_url":"http://h/v1"}"#), .config, "providers[0].base_url", "not used")
        let c = try parseConfig(withProvider(#"{"name":"o","type":"openai","base_url":"https://proxy.example/v1///","api_key":""}"#))
        #expect(c.providers[0].baseURL == "https://proxy.example/v1")
    }

    @Test("wrong types name the field", arguments: [
        (#""retry":{"max_attempts":"3"}"#, "retry.max_attempts: expected an integer, got string"),
        (#""retry":{"max_attempts":2.5}"#, "retry.max_attempts: expected an integer, got 2.5"),
        (#""retry":{"jitter":"0.1"}"#, "retry.jitter: expected a number, got string"),
        (#""retry":[]"#, "retry: expected an object, got array"),
        (#""timeouts":{"idle_ms":true}"#, "timeouts.idle_ms: expected an integer, got boolean"),
        (#""routing":{"order":"a"}"#, "routing.order: expected an array of strings, got string"),
        (#""routing":{"order":[1]}"#, "routing.order[0]: expected a non-empty string, got number"),
    ])
    func wrongTypes(section: String, message: String) {
        expectConfigError(#"{"providers":[{"name":"a","type":"mock"}],\#(section)}"#, .config, message)
    }

    @Test("out-of-range values name the field, the range and the value", arguments: [
        (#""retry":{"max_attempts":0}"#, "retry.max_attempts: must be between 1 and 100, got 0"),
        (#""retry":{"max_attempts":101}"#, "retry.max_attempts: must be between 1 and 100, got 101"),
        (#""retry":{"initial_backoff_ms":-1}"#, "retry.initial_backoff_ms"),
        (#""retry":{"multiplier":0.5}"#, "retry.multiplier: must be between 1"),
        (#""retry":{"jitter":1.5}"#, "retry.jitter: must be between 0"),
        (#""retry":{"max_retry_after_ms":-5}"#, "retry.max_retry_after_ms"),
        (#""timeouts":{"connect_ms":0}"#, "timeouts.connect_ms: must be between 1"),
        (#""timeouts":{"total_ms":0}"#, "timeouts.total_ms"),
        (#""timeouts":{"idle_ms":-1}"#, "timeouts.idle_ms"),
        (#""retry":{"max_tries":3}"#, "retry.max_tries: unknown key"),
        (#""timeouts":{"read_ms":3}"#, "timeouts.read_ms: unknown key"),
    ])
    func outOfRange(section: String, message: String) {
        expectConfigError(#"{"providers":[{"name":"a","type":"mock"}],\#(section)}"#, .config, message)
    }

    @Test("0 is allowed where it means 'off' (first_byte_ms, idle_ms, backoff)")
    func zeroes() throws {
        let c = try parseConfig(#"{"providers":[],"timeouts":{"first_byte_ms":0,"idle_ms":0},"retry":{"initial_backoff_ms":0,"jitter":0}}"#)
        #expect(c.timeouts.firstByteMs == 0 && c.timeouts.idleMs == 0)
        #expect(c.retry.initialBackoffMs == 0 && c.retry.jitter == 0)
    }

    private static let threeMocks = #"{"name":"a","type":"mock"},{"name":"b","type":"mock"},{"name":"c","type":"mock"}"#

    @Test("routing.order: an unknown provider or a duplicate is an error naming the entry")
    func routingOrderErrors() {
        expectConfigError(#"{"providers":[\#(Self.threeMocks)],"routing":{"order":["a","zzz"]}}"#, .config,
                          "routing.order[1]", "\"zzz\"")
        expectConfigError(#"{"providers":[\#(Self.threeMocks)],"routing":{"order":["b","a","b"]}}"#, .config,
                          "routing.order[2]", "\"b\"", "twice")
    }

    @Test("routing.order reorders; unnamed providers follow in array order")
    func routingOrder() throws {
        #expect(try parseConfig(#"{"providers":[\#(Self.threeMocks)],"routing":{"order":["c","a","b"]}}"#).providers.map(\.name) == ["c", "a", "b"])
        #expect(try parseConfig(#"{"providers":[\#(Self.threeMocks)],"routing":{"order":["c"]}}"#).providers.map(\.name) == ["c", "a", "b"])
        #expect(try parseConfig(#"{"providers":[\#(Self.threeMocks)],"routing":{"order":["b","c"]}}"#).providers.map(\.name) == ["b", "c", "a"])
        #expect(try parseConfig(#"{"providers":[\#(Self.threeMocks)],"routing":{}}"#).providers.map(\.name) == ["a", "b", "c"])
        #expect(try parseConfig(#"{"providers":[\#(Self.threeMocks)]}"#).providers.map(\.name) == ["a", "b", "c"])
    }
}

@Suite("Config ${VAR} expansion")
struct EnvExpansionTests {
    @Test("present variables expand anywhere inside any string value")
    func present() throws {
        let text = #"{"providers":[{"name":"o","type":"openai-compatible","base_url":"http://${HOST}:${PORT}/v1","api_key":"${KEY}","headers":{"X-Id":"team-${TEAM}-x"}}]}"#
        let c = try parseConfig(text, env: ["HOST": "127.0.0.1", "PORT": "9000", "KEY": "sk-abc", "TEAM": "search"])
        let p = c.providers[0]
        #expect(p.baseURL == "http://127.0.0.1:9000/v1")
        #expect(p.apiKey == "sk-abc")
        #expect(p.headers.first?.1 == "team-search-x")
    }

    @Test("a missing variable: PMX_ERR_ENV_VAR_MISSING naming it and the field, never another variable's value")
    func missing() throws {
        let text = #"{"providers":[{"name":"o","type":"openai-compatible","base_url":"http://${HOST}/v1","api_key":"${SECRET_KEY}","headers":{"X-T":"${OTHER}"}}]}"#
        let e = try #require(configError(text, env: ["HOST": "host-value-1234", "SECRET_KEY": "sk-very-secret-5678"]))
        #expect(e.status == .envVarMissing)
        #expect(e.message.contains("OTHER"))
        #expect(e.message.contains("providers[0].headers.X-T"))
        #expect(!e.message.contains("host-value-1234"))
        #expect(!e.message.contains("sk-very-secret-5678"))
    }

    @Test("the lookup is the injected closure, not the process environment")
    func injectedLookup() throws {
        // PATH is set in every process environment; the injected lookup does not know it.
        let text = #"{"providers":[{"name":"m","type":"mock","reply":"${PATH}"}]}"#
        let e = try #require(configError(text, env: [:]))
        #expect(e.status == .envVarMissing)
        #expect(e.message.contains("PATH"))
        #expect(try parseConfig(text, env: ["PATH": "injected"]).providers[0].mock?.reply == "injected")
    }

    @Test("$${ is a literal ${ and looks nothing up")
    func literal() throws {
        final class Calls: @unchecked Sendable { var names: [String] = [] }
        let calls = Calls()
        let doc = try JSONParser.parse(#"{"providers":[{"name":"m","type":"mock","reply":"cost $${NOT_A_VAR} and $5 and ${A}$"}]}"#)
        let c = try RouterConfig.parse(doc, lookup: { name in calls.names.append(name); return name == "A" ? "x" : nil })
        #expect(c.providers[0].mock?.reply == "cost ${NOT_A_VAR} and $5 and x$")
        #expect(calls.names == ["A"])
    }

    @Test("invalid variable names and an unterminated ${ are config errors", arguments: [
        (#"${1ABC}"#, "not a valid environment variable name"),
        (#"${}"#, "not a valid environment variable name"),
        (#"${A-B}"#, "not a valid environment variable name"),
        (#"${A B}"#, "not a valid environment variable name"),
        (#"x${ABC"#, "unterminated"),
    ])
    func invalidNames(value: String, fragment: String) throws {
        let e = try #require(configError(#"{"providers":[{"name":"m","type":"mock","reply":"\#(value)"}]}"#, env: ["ABC": "v", "A": "v"]))
        #expect(e.status == .config)
        #expect(e.message.contains("providers[0].reply"))
        #expect(e.message.contains(fragment), "\(e.message)")
    }

    @Test("expansion happens before validation: an expanded value is validated")
    func expandedThenValidated() {
        expectConfigError(withProvider(#"{"name":"o","type":"openai-compatible","base_url":"${URL}"}"#), .config,
                          "providers[0].base_url", env: ["URL": "ftp://nope"])
    }

    @Test("EnvExpansion.expand(string:) directly")
    func direct() throws {
        let env: EnvExpansion.Lookup = { ["A": "1", "B_2": "two"][$0] }
        #expect(try EnvExpansion.expand(string: "${A}${B_2}", path: "p", lookup: env) == "1two")
        #expect(try EnvExpansion.expand(string: "no dollars", path: "p", lookup: env) == "no dollars")
        #expect(try EnvExpansion.expand(string: "$$", path: "p", lookup: env) == "$$")
        #expect(try EnvExpansion.expand(string: "$${A}", path: "p", lookup: env) == "${A}")
        #expect(try EnvExpansion.expand(string: "é${A}ö", path: "p", lookup: env) == "é1ö")
    }
}

@Suite("Mock provider options")
struct MockOptionsTests {
    private func script(_ entries: String) throws -> [MockOptions.ScriptEntry] {
        try #require(try parseConfig(withProvider(#"{"name":"m","type":"mock","script":[\#(entries)]}"#)).providers[0].mock).script
    }

    @Test("status entries with times, retry_after_ms and message")
    func statusEntries() throws {
        let s = try script(#"{"status":429,"times":2,"retry_after_ms":50,"message":"slow down"},{"status":503}"#)
        #expect(s == [
            .init(fault: .status(429, retryAfterMs: 50, message: "slow down"), times: 2),
            .init(fault: .status(503, retryAfterMs: nil, message: nil), times: 1),
        ])
    }

    @Test("drop_after_deltas, error timeout / connection, ok")
    func otherEntries() throws {
        let s = try script(#"{"drop_after_deltas":3},{"error":"timeout"},{"error":"connection","times":4},{"ok":true}"#)
        #expect(s == [
            .init(fault: .dropAfterDeltas(3), times: 1),
            .init(fault: .timeout, times: 1),
            .init(fault: .connection, times: 4),
            .init(fault: .ok, times: 1),
        ])
    }

    @Test("bad script entries name providers[i].script[j]", arguments: [
        (#"{"status":429,"error":"timeout"}"#, "only one of"),
        (#"{"status":500,"drop_after_deltas":1}"#, "only one of"),
        (#"{"drop_after_deltas":1,"ok":true}"#, "only one of"),
        (#"{}"#, "needs one of"),
        (#"{"times":2}"#, "needs one of"),
        (#"{"error":"dns"}"#, "\"dns\""),
        (#"{"status":600}"#, "providers[0].script[0].status"),
        (#"{"status":99}"#, "providers[0].script[0].status"),
        (#"{"status":429,"times":0}"#, "providers[0].script[0].times"),
        (#"{"status":"429"}"#, "providers[0].script[0].status: expected an integer"),
        (#"{"status":429,"bogus":1}"#, "providers[0].script[0].bogus: unknown key"),
        (#"{"drop_after_deltas":-1}"#, "providers[0].script[0].drop_after_deltas"),
        (#""status""#, "providers[0].script[0]: expected an object"),
    ])
    func badEntries(entry: String, fragment: String) {
        expectConfigError(withProvider(#"{"name":"m","type":"mock","script":[\#(entry)]}"#), .config, fragment)
    }

    @Test("a bad entry after good ones names its index")
    func indexNamed() {
        expectConfigError(withProvider(#"{"name":"m","type":"mock","script":[{"ok":true},{"status":200,"ok":true}]}"#), .config,
                          "providers[0].script[1]")
    }

    @Test("mock options are read and validated")
    func options() throws {
        let m = try #require(try parseConfig(withProvider(#"{"name":"m","type":"mock","reply":"","token_delay_ms":20,"embedding_dimensions":3,"models":["x"]}"#)).providers[0].mock)
        #expect(m.reply == "")
        #expect(m.tokenDelayMs == 20)
        #expect(m.embeddingDimensions == 3)
        expectConfigError(withProvider(#"{"name":"m","type":"mock","embedding_dimensions":0}"#), .config, "providers[0].embedding_dimensions")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","latency_ms":-1}"#), .config, "providers[0].latency_ms")
        expectConfigError(withProvider(#"{"name":"m","type":"mock","script":{}}"#), .config, "providers[0].script: expected an array")
    }
}

@Suite("Per-provider retry / timeouts overrides")
struct ProviderOverrideTests {
    @Test("overrides are validated at parse time, with the provider's path", arguments: [
        (#""retry":{"max_attempts":"x"}"#, "providers[0].retry.max_attempts: expected an integer, got string"),
        (#""retry":{"max_attempts":0}"#, "providers[0].retry.max_attempts: must be between 1 and 100"),
        (#""retry":{"bogus":1}"#, "providers[0].retry.bogus: unknown key"),
        (#""retry":5"#, "providers[0].retry: expected an object, got number"),
        (#""timeouts":{"idle_ms":-1}"#, "providers[0].timeouts.idle_ms"),
        (#""timeouts":{"connect_ms":0}"#, "providers[0].timeouts.connect_ms"),
        (#""timeouts":{"slow_ms":1}"#, "providers[0].timeouts.slow_ms: unknown key"),
    ])
    func validated(section: String, message: String) {
        expectConfigError(withProvider(#"{"name":"m","type":"mock",\#(section)}"#), .config, message)
    }

    @Test("ProviderConfig.retry(over:) / timeouts(over:) apply only the keys the provider sets")
    func applied() throws {
        let c = try parseConfig(#"""
        {"providers":[
           {"name":"a","type":"mock","retry":{"max_attempts":1,"jitter":0},"timeouts":{"idle_ms":250,"total_ms":9000}},
           {"name":"b","type":"mock"}],
         "retry":{"max_attempts":5,"initial_backoff_ms":70,"jitter":0.3},
         "timeouts":{"connect_ms":1111,"idle_ms":2222}}
        """#)
        let a = c.providers[0], b = c.providers[1]
        let ra = a.retry(over: c.retry)
        #expect(ra.maxAttempts == 1)
        #expect(ra.jitter == 0)
        #expect(ra.initialBackoffMs == 70)
        #expect(ra.maxBackoffMs == 10_000)
        let ta = a.timeouts(over: c.timeouts)
        #expect(ta.idleMs == 250)
        #expect(ta.totalMs == 9000)
        #expect(ta.connectMs == 1111)
        #expect(b.retry(over: c.retry) == c.retry)
        #expect(b.timeouts(over: c.timeouts) == c.timeouts)
        // Over any base, not only the router's.
        var base = RetrySettings()
        base.maxAttempts = 9
        base.multiplier = 3
        #expect(a.retry(over: base).maxAttempts == 1)
        #expect(a.retry(over: base).multiplier == 3)
    }

    @Test("ProviderConfig.parse on its own uses the caller's path in errors")
    func standalonePath() throws {
        let p = try ProviderConfig.parse(JSONParser.parse(#"{"name":"solo","type":"mock"}"#), path: "provider")
        #expect(p.name == "solo")
        do {
            _ = try ProviderConfig.parse(JSONParser.parse(#"{"name":"solo","type":"mock","nope":1}"#), path: "provider")
            Issue.record("accepted an unknown key")
        } catch let e as PMXError {
            #expect(e.message == "provider.nope: unknown key")
        }
    }
}
