// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
import Testing

// The type names users type: aliases accepted wherever a type is read, canonical name kept.

@Suite("ProviderType aliases")
struct ProviderTypeTests {
    @Test("claude, google, lm-studio, llama-cpp parse to their canonical type (and its defaults)")
    func aliases() throws {
        for (alias, canonical) in [("claude", "anthropic"), ("google", "gemini"), ("lm-studio", "lmstudio"), ("llama-cpp", "llamacpp")] {
            let c = try RouterConfig.parse(JSONParser.parse(#"{"providers":[{"name":"p","type":"\#(alias)","api_key":"k-alias"}]}"#),
                                           lookup: { _ in nil })
            #expect(c.providers[0].type.rawValue == canonical, "\(alias)")
            #expect(c.providers[0].baseURL == ProviderType(rawValue: canonical)!.defaults.defaultBaseURL)
        }
        #expect(ProviderType(named: "anthropic") == .anthropic)
        #expect(ProviderType(named: "Claude") == nil, "names are exact, as the canonical ones are")
    }

    @Test("an unknown type's error lists the aliases with what they stand for")
    func unknownListsAliases() {
        do {
            _ = try RouterConfig.parse(JSONParser.parse(#"{"providers":[{"name":"p","type":"claud"}]}"#), lookup: { _ in nil })
            Issue.record("accepted")
        } catch let e as PMXError {
            #expect(e.status == .unknownProviderType)
            #expect(e.message.contains("claude (= anthropic)") && e.message.contains("llama-cpp (= llamacpp)"))
        } catch { Issue.record("\(error)") }
    }

    @Test("discovery targets take the local servers' aliases too")
    func discoveryTargets() throws {
        let c = try RouterConfig.parse(JSONParser.parse(
            #"{"providers":[],"discovery":{"enabled":true,"targets":[{"type":"lm-studio","port":1235},{"type":"llama-cpp"}]}}"#),
                                       lookup: { _ in nil })
        #expect(c.discovery.targets.map(\.kind) == [.lmstudio, .llamacpp])
        #expect(LocalServerKind(named: "claude") == nil, "a cloud alias is no local server")
    }
}
