// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Foundation
import Testing

// The router with discovery and periodic health checks on: real libcurl against fake servers
// with personalities (Tests/upstream/fake_upstream.py --personality).

@Suite("Router: discovery and health checks", .serialized)
struct RouterDiscoveryHealthTests {
    @Test("servers found at creation become providers in the local lane and answer requests; a look-alike is not registered")
    func discoveredJoinLocalLane() throws {
        let ollama = try PersonalityUpstream("ollama")
        let other = try PersonalityUpstream("other")
        defer { ollama.terminate(); other.terminate() }
        let config = #"""
        {"providers":[{"name":"cloud","type":"mock","models":["gpt-4o"]}],
         "discovery":{"enabled":true,"interval_ms":0,"timeout_ms":2000,
                      "targets":[{"type":"ollama","port":\#(ollama.port)},{"type":"ollama","port":\#(other.port)},{"type":"llamacpp","port":\#(other.port)}]}}
        """#
        let router = try Router(config: RouterConfig.parse(JSONParser.parse(config)))
        defer { router.close() }
        let name = "ollama-\(ollama.port)"
        #expect(router.providerSnapshot.map(\.name) == ["cloud", name])
        let found = try #require(router.providerSnapshot.last)
        #expect(found.config.discovered && found.config.models == ["fake-small", "fake-large"])

        // The local lane holds it (and the mock); pinned to it, the request reaches the server.
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"\#(name)/fake-small","messages":[{"role":"user","content":"hi local"}],"route":{"lane":"local"}}"#))
        let r = try #require(completeOnThread(router, request)).get()
        #expect(r["provider"] == .string(name))
        #expect(r["choices"]?.arrayValue?.first?["message"]?["content"] == "echo: hi local")
        #expect(r["usage"]?["cost_usd"] == 0.0)
        let health = try transcribed(.health, router.health())
        #expect(health["providers"]?.arrayValue?.last?["discovered"] == true)
    }

    @Test("periodic health checks mark a dead provider unhealthy and route around it first")
    func healthMonitor() throws {
        let live = try PersonalityUpstream("openai")
        defer { live.terminate() }
        let dead = closedLoopbackPort()
        let config = #"""
        {"providers":[{"name":"dead","type":"openai-compatible","base_url":"http://127.0.0.1:\#(dead)/v1"},
                      {"name":"live","type":"openai-compatible","base_url":"http://127.0.0.1:\#(live.port)/v1"}],
         "health_checks":{"enabled":true,"interval_ms":100}}
        """#
        let router = try Router(config: RouterConfig.parse(JSONParser.parse(config)))
        defer { router.close() }
        var healthy: [String: Bool] = [:]
        for _ in 0..<50 {
            let stats = transcribed(.stats, router.stats())
            for p in stats["providers"]?.arrayValue ?? [] {
                if let n = p["name"]?.stringValue, let h = p["healthy"]?.boolValue { healthy[n] = h }
            }
            if healthy.count == 2 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(healthy == ["dead": false, "live": true])
        let monitor = try #require(try router.health()["providers"]?.arrayValue?.first?["monitor"])
        #expect(monitor["healthy"] == false)
        #expect((monitor["consecutive_failures"]?.intValue ?? 0) >= 1)
        // "dead" is first in priority order, but unhealthy: "live" is tried first.
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"fake-small","messages":[{"role":"user","content":"x"}]}"#))
        let r = try #require(completeOnThread(router, request)).get()
        #expect(r["attempts"]?.arrayValue?.map { $0["provider"]?.stringValue } == ["live"])
    }
}
