// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// Issue 15: a cloud provider type with no key anywhere is refused when the config is parsed
// (its requests would go out unauthenticated), naming the variable; `"api_key": ""` says the
// key is intentionally absent. ProviderConfig.parse through ProviderKey.resolve.
@Suite("Provider API keys: required for cloud types unless intentionally empty")
struct ProviderKeyTests {
    private func provider(_ json: String, env: [String: String] = [:]) throws -> ProviderConfig {
        try ProviderConfig.parse(JSONParser.parse(json), path: "providers[0]", lookup: { env[$0] })
    }

    private func refusal(_ json: String, env: [String: String] = [:]) -> PMXError? {
        do { _ = try provider(json, env: env); return nil } catch let e as PMXError { return e } catch { return nil }
    }

    /// Every type with a key variable, with the fields it needs besides the key.
    private var cloudTypes: [(ProviderType, String, String)] {
        ProviderType.allCases.compactMap { t in
            guard let env = t.defaults.apiKeyEnv else { return nil }
            let url = t.defaults.defaultBaseURL == nil ? #","base_url":"https://example.invalid""# : ""
            return (t, env, #"{"name":"p","type":"\#(t.rawValue)""# + url)
        }
    }

    @Test("no api_key and the variable unset: PMX_ERR_CONFIG naming the field and the variable, for every cloud type")
    func refusedWhenUnset() throws {
        #expect(cloudTypes.count >= 14)
        for (type, env, head) in cloudTypes {
            let e = try #require(refusal(head + "}"), "\(type) accepted without a key")
            #expect(e.status == .config, "\(type): \(e.status)")
            #expect(e.message.contains("providers[0].api_key"), "\(e.message)")
            #expect(e.message.contains(env), "\(type): \(e.message)")
            #expect(e.message.contains(#""api_key": """#), "the message says how to opt out: \(e.message)")
        }
    }

    @Test("a variable set but empty counts as unset")
    func refusedWhenEmpty() throws {
        let e = try #require(refusal(#"{"name":"p","type":"anthropic"}"#, env: ["ANTHROPIC_API_KEY": ""]))
        #expect(e.status == .config)
        #expect(e.message.contains("ANTHROPIC_API_KEY"))
    }

    @Test("\"api_key\": \"\" is an intentional no-key: accepted, no credentials sent")
    func intentionallyEmpty() throws {
        for (type, _, head) in cloudTypes {
            let p = try provider(head + #","api_key":""}"#)
            #expect(p.apiKey == nil, "\(type)")
        }
    }

    @Test("the key comes from api_key first, else from the type's variable")
    func keySources() throws {
        #expect(try provider(#"{"name":"p","type":"gemini","api_key":"g-config-key-1"}"#,
                             env: ["GEMINI_API_KEY": "g-env-key-2"]).apiKey == "g-config-key-1")
        #expect(try provider(#"{"name":"p","type":"gemini"}"#, env: ["GEMINI_API_KEY": "g-env-key-2"]).apiKey == "g-env-key-2")
        // An explicit empty key wins over the variable too: the config said "none".
        #expect(try provider(#"{"name":"p","type":"gemini","api_key":""}"#, env: ["GEMINI_API_KEY": "g-env-key-2"]).apiKey == nil)
    }

    @Test("local types and openai-compatible need no key")
    func localTypesNeedNone() throws {
        for json in [#"{"name":"p","type":"ollama"}"#, #"{"name":"p","type":"lmstudio"}"#, #"{"name":"p","type":"llamacpp"}"#,
                     #"{"name":"p","type":"openai-compatible","base_url":"http://127.0.0.1:8080/v1"}"#,
                     #"{"name":"p","type":"mock"}"#] {
            #expect(try provider(json).apiKey == nil, "\(json)")
        }
        #expect(try provider(#"{"name":"p","type":"ollama","api_key":"local-key-123"}"#).apiKey == "local-key-123")
    }

    @Test("a whole router config is refused when one provider lacks its key")
    func routerRefused() throws {
        let doc = try JSONParser.parse(#"{"providers":[{"name":"m","type":"mock"},{"name":"o","type":"openai"}]}"#)
        do {
            _ = try RouterConfig.parse(doc, lookup: { _ in nil })
            Issue.record("accepted")
        } catch let e as PMXError {
            #expect(e.status == .config)
            #expect(e.message.contains("providers[1].api_key") && e.message.contains("OPENAI_API_KEY"), "\(e.message)")
        }
    }
}
