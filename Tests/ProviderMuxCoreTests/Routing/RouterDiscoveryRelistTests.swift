// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// Discovery's re-listed model set replaces a discovered provider's models (issue 16 item 5);
// Tests/python/test_provider_catalogue.py checks it through the library with a live server.

@Suite("Router: discovery re-listing")
struct RouterDiscoveryRelistTests {
    static func found(_ models: [String], port: Int = 1) -> ProviderConfig {
        var c = DiscoveredServer(kind: .ollama, baseURL: "http://127.0.0.1:\(port)", models: models, providerName: "ollama-\(port)").providerConfig()
        c.discovered = true
        return c
    }

    func resolves(_ router: Router, _ model: String) -> Bool {
        (try? CandidateResolver.resolve(model: model, route: RouteOptions(), providers: router.providerSnapshot))?.isEmpty == false
    }

    @Test("a changed list replaces the models in place; an unchanged one keeps the runtime; configured providers stay")
    func relist() throws {
        let router = try Router(config: RouterConfig.parse(JSONParser.parse(#"{"providers":[{"name":"cloud","type":"mock","models":["gpt-4o"]}]}"#)))
        defer { router.close() }
        router.replaceDiscovered([Self.found(["llama3.2"]), Self.found(["phi4"], port: 2)])
        #expect(router.providerSnapshot.map(\.name) == ["cloud", "ollama-1", "ollama-2"])
        #expect(!resolves(router, "qwen3"))
        let before = router.providerSnapshot

        router.replaceDiscovered([Self.found(["llama3.2", "qwen3"]), Self.found(["phi4"], port: 2)])
        let after = router.providerSnapshot
        #expect(after.map(\.name) == ["cloud", "ollama-1", "ollama-2"], "same place in the order")
        #expect(after[1].config.models == ["llama3.2", "qwen3"])
        #expect(after[1].config.discovered)
        #expect(after[0] === before[0] && after[2] === before[2], "untouched runtimes are kept")
        #expect(resolves(router, "qwen3"))

        router.replaceDiscovered([Self.found(["qwen3"]), Self.found(["phi4"], port: 2)])
        #expect(!resolves(router, "llama3.2"))
        #expect(resolves(router, "qwen3"))
    }
}
