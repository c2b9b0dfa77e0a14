// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxShared
import Testing

// The link's degraded mode with no server at all (port 1 on loopback refuses at once): every
// call answers nil (the caller uses local state) and is counted, the URL is shown masked. The
// transitions with a real redis-server are in Tests/python/test_shared_redis.py.

@Suite("Shared: Redis link without a server")
struct RedisLinkTests {
    private func settings() throws -> SharedSettings {
        var s = try SharedSettings.parseURL("redis://app:Link-Test-Password-77@127.0.0.1:1/2") { PMXError(.config, $0) }
        s.timeoutMs = 50
        s.reconnectMs = 10
        return s
    }

    @Test("no server: degraded, every call a counted fallback, no transition, the password masked")
    func degraded() throws {
        let link = RedisLink(settings: try settings())
        let command = RedisLink.Command(.cacheGet, keys: [], args: ["p:", "k"])
        #expect(link.call(command) == nil)
        #expect(link.send(command) == false)
        #expect(link.call(command) == nil)
        #expect(link.linkState == .degraded)
        #expect(link.fallbacks == 3)
        #expect(link.transitions == 0)  // never connected: nothing changed
        let json = link.json()
        #expect(json["redis"]?.stringValue == "degraded")
        #expect(json["url"]?.stringValue == "redis://app:****@127.0.0.1:1/2")
        let error = try #require(json["last_error"]?.stringValue)
        #expect(error.contains("refused"), "\(error)")
        #expect(!JSONWriter.string(json).contains("Link-Test-Password-77"))
    }

    @Test("the shared state answers nil on a degraded link and its budget check says not spent")
    func sharedStateFallsBack() throws {
        let state = try SharedState(settings: try settings())
        let series = SharedState.AttemptSeries(provider: "a", model: "m", rpm: 1, tpm: nil, breaker: BreakerSettings())
        #expect(state.admit(series, estimatedTokens: 1, router: nil, lane: nil) == nil)
        #expect(state.cacheGet("k") == nil)
        #expect(state.cachePut("k", json: "{}", ttlMs: 1000, maxEntries: 10) == false)
        #expect(state.settle(series, outcome: .success, estimatedTokens: 1, actualTokens: 1, cooldownMs: 0,
                             router: nil, routerCharge: 0, lane: nil, laneCharge: 0) == false)
        #expect(state.exhausted(lane: nil, usd: 0) == false)
    }
}
