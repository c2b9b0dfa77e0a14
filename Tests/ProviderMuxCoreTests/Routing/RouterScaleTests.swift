// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// Many providers, long chains (issue 12, item 7): the whole-router calls answer with every
// provider in them and the config checks hold at sizes where the old code recursed or searched
// pairwise. Correctness only: timings are bench/scale.sh's (no timed tests).

private func names(_ n: Int) -> [String] { (0..<n).map { "p\($0)" } }

@Suite("Scale: many providers, long chains")
struct ScaleTests {
    @Test("a fallback chain of 100,000 links is checked without recursion, and a cycle at its end is still found")
    func longChainNoRecursion() throws {
        let n = 100_000
        var graph: [String: [String]] = [:]
        for i in 0..<n { graph["m\(i)"] = ["m\(i + 1)"] }
        #expect(RoutingConfig.findCycle(graph) == nil)
        graph["m\(n)"] = ["m\(n - 2)"]
        #expect(RoutingConfig.findCycle(graph) == ["m\(n - 2)", "m\(n - 1)", "m\(n)", "m\(n - 2)"])
        #expect(RoutingConfig.findCycle(["a": ["b", "c"], "b": ["c"], "c": ["a"]]) == ["a", "b", "c", "a"])
        #expect(RoutingConfig.findCycle(["a": ["b", "c"], "b": ["c"], "c": []]) == nil)
    }

    @Test("routing.order over 3,000 providers: named first in order, the rest as configured; errors name the entry")
    func orderLinear() throws {
        let all = names(3000)
        let order = Array(all.reversed().prefix(1500))
        let got = try RouterConfig.applyOrder(order, to: all, name: { $0 })
        #expect(got == order + all.prefix(1500))
        #expect(throws: PMXError.self) { try RouterConfig.applyOrder(["p1", "nope"], to: all, name: { $0 }) }
        let e = try #require(throws: PMXError.self) { try RouterConfig.applyOrder(["p1", "p2", "p1"], to: all, name: { $0 }) }
        #expect(e.message.contains("routing.order[2]") && e.message.contains("twice"))
    }

    @Test("2,000 providers: health and models list every one, a group of all 2,000 is served, update_routing reorders")
    func manyMockProviders() throws {
        let n = 2000
        let providers = names(n).map { #"{"name":"\#($0)","type":"mock","models":["m","x\#($0)"]}"# }.joined(separator: ",")
        let group = names(n).map { #""\#($0)/m""# }.joined(separator: ",")
        let r = try routerFromConfig(#"{"providers":[\#(providers)],"routing":{"model_groups":{"all":[\#(group)]}}}"#)
        defer { r.close() }
        let request = try ChatRequest.parse(JSONParser.parse(#"{"model":"all","messages":[{"role":"user","content":"hi"}]}"#))
        #expect(try r.complete(request)["provider"] == "p0")
        let health = try #require(try r.health()["providers"]?.arrayValue)
        #expect(health.count == n)
        #expect(health.allSatisfy { $0["healthy"] == true })
        #expect(health[0]["circuits"]?["m"]?["state"] == "closed")  // the request's breaker, on its provider only
        #expect(health[1]["circuits"]?["m"] != nil && health[1]["circuits"]?.objectValue?.count == 1)
        #expect(try r.models()["data"]?.arrayValue?.count == 2 * n)
        let order = names(n).reversed().map { #""\#($0)""# }.joined(separator: ",")
        try r.updateRouting(JSONParser.parse(#"{"order":[\#(order)],"fallbacks":{"m":[\#(names(n).map { #""x\#($0)""# }.joined(separator: ","))]}}"#))
        #expect(r.providerSnapshot.first?.name == "p\(n - 1)")
        let plain = try ChatRequest.parse(JSONParser.parse(#"{"messages":[{"role":"user","content":"hi"}]}"#))
        #expect(try r.complete(plain)["provider"] == .string("p\(n - 1)"))
    }

    @Test("add and remove 2,000 providers one by one; a duplicate is refused, an unknown name is not found")
    func addRemoveMany() throws {
        let r = try routerFromConfig(#"{"providers":[]}"#)
        defer { r.close() }
        for name in names(2000) { try r.addProvider(ProviderConfig.parse(JSONParser.parse(#"{"name":"\#(name)","type":"mock"}"#), path: "p")) }
        let dup = try #require(throws: PMXError.self) { try r.addProvider(ProviderConfig.parse(JSONParser.parse(#"{"name":"p7","type":"mock"}"#), path: "p")) }
        #expect(dup.status == .duplicateProvider)
        for name in names(2000) where name != "p7" { try r.removeProvider(named: name) }
        #expect(r.providerSnapshot.map(\.name) == ["p7"])
        #expect(throws: PMXError.self) { try r.removeProvider(named: "p8") }
        try r.addProvider(ProviderConfig.parse(JSONParser.parse(#"{"name":"p8","type":"mock"}"#), path: "p"))  // removed names free up
    }

    @Test("health over 300 network providers on a closed loopback port: every one probed (64 at a time) and reported")
    func boundedProbes() throws {
        let providers = names(300).map { #"{"name":"\#($0)","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1","api_key":"k"}"# }
        let r = try routerFromConfig(#"{"providers":[\#(providers.joined(separator: ","))]}"#)
        defer { r.close() }
        let health = try #require(try r.health()["providers"]?.arrayValue)
        #expect(health.count == 300)
        #expect(health.allSatisfy { $0["healthy"] == false && $0["error"]?.stringValue != nil })
        #expect(Router.maxConcurrentProbes == 64)
    }
}
