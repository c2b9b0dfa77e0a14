// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxShared
import Testing

// The shared state's key layout and the parsing of its scripts' replies (no server needed:
// Tests/python/test_shared_redis.py runs the scripts on a real redis-server).

@Suite("Shared: keys and replies")
struct SharedStateTests {
    private func s(_ text: String) -> RedisValue { .string(Array(text.utf8)) }

    @Test("every key starts with the prefix; one per provider, provider+model, budget")
    func keyLayout() {
        let k = SharedKeys(prefix: "app:")
        #expect(k.rateLimit(provider: "openai") == "app:rl:openai")
        #expect(k.breaker(provider: "openai", model: "gpt-4o") == "app:cb:openai/gpt-4o")
        #expect(k.routerBudget == "app:budget:router")
        #expect(k.laneBudget("code") == "app:budget:lane:code")
        #expect(k.cachePrefix == "app:cache:")
        #expect(SharedKeys.suffix(of: "app:cb:a/m", after: k.breakerPrefix) == "a/m")
        #expect(SharedKeys.suffix(of: "other:cb:a/m", after: k.breakerPrefix) == nil)
    }

    @Test("the admit reply: verdicts, waits and spend")
    func admission() throws {
        let ok = try #require(SharedState.parseAdmission(.array([.integer(0), s("0"), s("0.25"), s("0"), s("")])))
        #expect(ok.verdict == .admitted && ok.routerSpent == 0.25 && ok.laneSpent == 0)
        #expect(SharedState.parseAdmission(.array([.integer(1), s("1500"), s("0"), s("0")]))?.verdict == .circuitOpen(halfOpensInMs: 1500))
        #expect(SharedState.parseAdmission(.array([.integer(2), s("0"), s("0"), s("0")]))?.verdict == .probeInFlight)
        #expect(SharedState.parseAdmission(.array([.integer(3), s("30000"), s("0"), s("0")]))?.verdict == .rateLimited(waitMs: 30000))
        // A wait beyond Int32 is clamped, not trapped on; anything malformed is "no answer" (local state).
        #expect(SharedState.parseAdmission(.array([.integer(3), s("1e300"), s("0"), s("0")]))?.verdict == .rateLimited(waitMs: Int(Int32.max)))
        #expect(SharedState.parseAdmission(.array([.integer(9), s("0"), s("0"), s("0")])) == nil)
        #expect(SharedState.parseAdmission(.array([.integer(0), s("x"), s("0"), s("0")])) == nil)
        #expect(SharedState.parseAdmission(.error("ERR boom")) == nil)
        #expect(SharedState.parseAdmission(.array([.integer(0)])) == nil)
    }

    @Test("the settle reply: the spend of the router's and the lane's budget is remembered")
    func settled() {
        let keys = SharedKeys(prefix: "p:")
        let seen = Locked<[String: Double]>([:])
        SharedState.noteSettled(.array([s("1.5"), s("0.75"), s(""), s("p:cb:a/m"), s("p:budget:lane:code")]), keys: keys, into: seen)
        #expect(seen.withLock { $0 } == ["": 1.5, "code": 0.75])
        // No budget: '' is not a number, nothing is recorded.
        SharedState.noteSettled(.array([s(""), s(""), s(""), s("p:cb:a/m"), s("p:budget:lane:")]), keys: keys, into: seen)
        #expect(seen.withLock { $0 } == ["": 1.5, "code": 0.75])
    }

    @Test("the scripts name only KEYS and the prefix they are given")
    func scriptsStayInTheirKeys() {
        for name in SharedScripts.Name.allCases {
            let text = SharedScripts.source(name)
            #expect(!text.isEmpty)
            // Every key a script touches is KEYS[n] or built from ARGV[1] (the prefix).
            #expect(!text.contains("redis.call('KEYS'") && !text.contains("FLUSH"))
        }
        #expect(SharedScripts.source(.cacheGet).contains("ARGV[1] .. 'cache:'"))
    }
}
