// SPDX-License-Identifier: Apache-2.0
@testable import MuxBase
@testable import MuxConfig
@testable import MuxProtocols
@testable import MuxRouting
import Testing

// ResponseCache: keys, TTL on a fake clock (nowNs passed in), LRU eviction by entries and by
// bytes; CacheSettings parsing; CacheReplay events.

private func request(_ text: String) throws -> ChatRequest { try ChatRequest.parse(JSONParser.parse(text)) }
private func key(_ text: String) throws -> String? { ResponseCache.key(for: try request(text)) }

private func enabled(ttlMs: Int = 1000, maxEntries: Int = 100, maxBytes: Int = 1 << 20) -> ResponseCache {
    var s = CacheSettings()
    s.enabled = true
    s.ttlMs = ttlMs
    s.maxEntries = maxEntries
    s.maxBytes = maxBytes
    return ResponseCache(settings: s)
}

/// JSONObject from a JSONValue literal.
private func object(_ v: JSONValue) -> JSONObject { v.objectValue ?? JSONObject() }

private func answer(_ text: String) -> JSONObject {
    object(["choices": [["index": 0, "message": ["role": "assistant", "content": .string(text)]]]])
}

private let ms: UInt64 = 1_000_000
private let t0: UInt64 = 5_000_000_000

@Suite("ResponseCache")
struct ResponseCacheTests {
    // MARK: keys

    @Test func keyIgnoresStreamRouteMetadataUserAndKeyOrder() throws {
        let plain = try #require(try key(#"{"model":"a/m","messages":[{"role":"user","content":"hi"}],"temperature":0.5}"#))
        let noisy = try key(#"{"temperature":0.5,"stream":true,"stream_options":{"include_usage":true},"user":"u1","#
            + #""metadata":{"x":"y"},"route":{"max_attempts":2},"messages":[{"content":"hi","role":"user"}],"model":"a/m"}"#)
        #expect(noisy == plain)
        #expect(plain == #"{"messages":[{"content":"hi","role":"user"}],"model":"a/m","temperature":0.5}"#)
    }

    @Test func keySortsNestedObjectsAndNormalizesNumbers() throws {
        let k1 = try key(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10,"top_p":1,"#
            + #""tools":[{"type":"function","function":{"parameters":{"b":1,"a":2.0},"name":"f"}}]}"#)
        let k2 = try key(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":10.0,"top_p":1.0,"#
            + #""tools":[{"function":{"name":"f","parameters":{"a":2,"b":1.0}},"type":"function"}]}"#)
        #expect(k1 != nil)
        #expect(k1 == k2)
    }

    @Test func keyDiffersOnMessagesModelAndParameters() throws {
        let base = try key(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        #expect(base != nil)
        #expect(try key(#"{"model":"m","messages":[{"role":"user","content":"hi!"}]}"#) != base)
        #expect(try key(#"{"model":"m","messages":[{"role":"system","content":"hi"}]}"#) != base)
        #expect(try key(#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"user","content":"hi"}]}"#) != base)
        #expect(try key(#"{"model":"p/m","messages":[{"role":"user","content":"hi"}]}"#) != base)  // model kept as written
        #expect(try key(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":1}"#) != base)
        #expect(try key(#"{"messages":[{"role":"user","content":"hi"}]}"#) != base)
    }

    @Test func severalChoicesAreNotCacheable() throws {
        var r = try request(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":1}"#)
        #expect(ResponseCache.key(for: r) != nil)
        #expect(ResponseCache.key(for: r) == (try key(#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)))
        r.body["n"] = 2  // ChatRequest.parse rejects n > 1 today; the cache must not rely on that
        #expect(ResponseCache.key(for: r) == nil)
        r.body["n"] = 3.0
        #expect(ResponseCache.key(for: r) == nil)
    }

    // MARK: get / put

    @Test func missThenHit() {
        let c = enabled()
        #expect(c.get("k", nowNs: t0) == nil)
        c.put("k", response: answer("A"), nowNs: t0)
        #expect(c.get("k", nowNs: t0 + 10 * ms) == answer("A"))
        #expect(c.get("other", nowNs: t0 + 10 * ms) == nil)
        let s = c.stats
        #expect(s.hits == 1)
        #expect(s.misses == 2)
        #expect(s.entries == 1)
        #expect(s.bytes == 1 + JSONWriter.bytes(.object(answer("A"))).count)
    }

    @Test func entryExpiresAtTTL() {
        let c = enabled(ttlMs: 1000)
        c.put("k", response: answer("A"), nowNs: t0)
        #expect(c.get("k", nowNs: t0 + 1000 * ms - 1) != nil)  // still younger than the TTL
        #expect(c.get("k", nowNs: t0 + 1000 * ms) == nil)  // exactly the TTL: expired and dropped
        let s = c.stats
        #expect(s.expirations == 1)
        #expect(s.entries == 0)
        #expect(s.bytes == 0)
        #expect(s.hits == 1)
        #expect(s.misses == 1)
        #expect(c.get("k", nowNs: t0) == nil)  // gone for good, even at an earlier time
        #expect(c.stats.expirations == 1)
    }

    @Test func putReplacesAndRestartsTTL() {
        let c = enabled(ttlMs: 1000)
        c.put("k", response: answer("A"), nowNs: t0)
        c.put("k", response: answer("B"), nowNs: t0 + 900 * ms)
        #expect(c.get("k", nowNs: t0 + 1500 * ms) == answer("B"))
        #expect(c.stats.entries == 1)
        #expect(c.stats.bytes == 1 + JSONWriter.bytes(.object(answer("B"))).count)
    }

    @Test func leastRecentlyUsedIsEvictedByEntryCount() {
        let c = enabled(maxEntries: 3)
        for k in ["a", "b", "c"] { c.put(k, response: answer(k), nowNs: t0) }
        #expect(c.get("a", nowNs: t0) != nil)  // a is now the most recent; b is the least
        c.put("d", response: answer("d"), nowNs: t0)
        #expect(c.stats.evictions == 1)
        #expect(c.stats.entries == 3)
        #expect(c.get("b", nowNs: t0) == nil)
        #expect(c.get("a", nowNs: t0) != nil)
        #expect(c.get("c", nowNs: t0) != nil)
        #expect(c.get("d", nowNs: t0) != nil)
        c.put("e", response: answer("e"), nowNs: t0)  // order now (old→new) a, c, d → a goes
        #expect(c.get("a", nowNs: t0) == nil)
        #expect(c.stats.evictions == 2)
    }

    @Test func leastRecentlyUsedIsEvictedByBytes() {
        let one = 1 + JSONWriter.bytes(.object(answer("x"))).count  // every entry here has this size
        let c = enabled(maxEntries: 100, maxBytes: 1024)
        let fit = 1024 / one  // entries that fit
        for i in 0..<fit { c.put(String(UnicodeScalar(UInt8(97 + i))), response: answer("x"), nowNs: t0) }
        #expect(c.stats.entries == fit)
        #expect(c.stats.evictions == 0)
        #expect(c.get("a", nowNs: t0) != nil)  // b is now the least recent
        c.put("Z", response: answer("x"), nowNs: t0)
        #expect(c.stats.evictions == 1)
        #expect(c.stats.entries == fit)
        #expect(c.stats.bytes == fit * one)
        #expect(c.get("b", nowNs: t0) == nil)
        #expect(c.get("a", nowNs: t0) != nil)
        #expect(c.get("Z", nowNs: t0) != nil)
    }

    @Test func bigEntryEvictsSeveralSmallOnes() {
        let c = enabled(maxBytes: 1024)
        for k in ["a", "b", "c", "d"] { c.put(k, response: answer(String(repeating: "s", count: 150)), nowNs: t0) }
        #expect(c.stats.entries == 4)
        c.put("big", response: answer(String(repeating: "B", count: 700)), nowNs: t0)
        #expect(c.get("big", nowNs: t0) != nil)
        #expect(c.stats.bytes <= 1024)
        #expect(c.get("a", nowNs: t0) == nil)
        #expect(c.get("b", nowNs: t0) == nil)
        #expect(c.get("d", nowNs: t0) != nil)  // the most recent small one survives
        #expect(c.stats.evictions >= 2)
    }

    @Test func oversizedEntryIsNotStored() {
        let c = enabled(maxBytes: 1024)
        c.put("small", response: answer("s"), nowNs: t0)
        c.put("huge", response: answer(String(repeating: "x", count: 2000)), nowNs: t0)
        #expect(c.get("huge", nowNs: t0) == nil)
        #expect(c.get("small", nowNs: t0) != nil)  // nothing was evicted for it
        #expect(c.stats.entries == 1)
        #expect(c.stats.evictions == 0)
    }

    @Test func slotsAreReusedAfterRemoval() {
        let c = enabled(maxEntries: 2)
        for i in 0..<50 { c.put("k\(i)", response: answer("v\(i)"), nowNs: t0) }
        #expect(c.stats.entries == 2)
        #expect(c.stats.evictions == 48)
        #expect(c.get("k48", nowNs: t0) == answer("v48"))
        #expect(c.get("k49", nowNs: t0) == answer("v49"))
        #expect(c.get("k47", nowNs: t0) == nil)
    }

    @Test func clearAndResetCounters() {
        let c = enabled()
        c.put("a", response: answer("a"), nowNs: t0)
        c.put("b", response: answer("b"), nowNs: t0)
        _ = c.get("a", nowNs: t0)
        _ = c.get("z", nowNs: t0)
        c.resetCounters()
        #expect(c.stats == { var s = ResponseCache.Stats(); s.entries = 2; s.bytes = 2 * (1 + JSONWriter.bytes(.object(answer("a"))).count); return s }())
        c.clear()
        #expect(c.stats.entries == 0)
        #expect(c.stats.bytes == 0)
        #expect(c.get("a", nowNs: t0) == nil)
        c.put("a", response: answer("a2"), nowNs: t0)
        #expect(c.get("a", nowNs: t0) == answer("a2"))
    }

    @Test func disabledCacheStoresAndCountsNothing() {
        let c = ResponseCache(settings: CacheSettings())
        c.put("k", response: answer("A"), nowNs: t0)
        #expect(c.get("k", nowNs: t0) == nil)
        #expect(c.stats == ResponseCache.Stats())
    }

    // MARK: settings

    @Test func settingsDefaultsAndParse() throws {
        let d = CacheSettings()
        #expect(!d.enabled)
        #expect(d.ttlMs == 300_000)
        #expect(d.maxEntries == 1000)
        #expect(d.maxBytes == 16 << 20)

        var r = try FieldReader(JSONParser.parse(#"{"enabled":true,"ttl_ms":5,"max_entries":2,"max_bytes":4096}"#), path: "cache")
        let s = try CacheSettings.parse(&r)
        #expect(s.enabled && s.ttlMs == 5 && s.maxEntries == 2 && s.maxBytes == 4096)

        var empty = try FieldReader(JSONParser.parse("{}"), path: "cache")
        #expect(try CacheSettings.parse(&empty) == CacheSettings())
    }

    @Test(arguments: [
        (#"{"ttl_ms":0}"#, "cache.ttl_ms"), (#"{"max_entries":0}"#, "cache.max_entries"),
        (#"{"max_bytes":1023}"#, "cache.max_bytes"), (#"{"enabled":"yes"}"#, "cache.enabled"),
        (#"{"ttl":5}"#, "cache.ttl: unknown key"),
    ])
    func settingsRejectBadValues(_ text: String, _ fragment: String) throws {
        var r = try FieldReader(JSONParser.parse(text), path: "cache")
        do {
            _ = try CacheSettings.parse(&r)
            Issue.record("accepted \(text)")
        } catch let e as PMXError {
            #expect(e.status == .config)
            #expect(e.message.contains(fragment), "\(e.message)")
        }
    }

    // MARK: replay

    @Test func replayOfContent() {
        var response = answer("Hello there")
        response["model"] = "gpt-x"
        response["provider"] = "openai"
        response["usage"] = ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5]
        let events = CacheReplay.events(for: response).map { $0.json() }
        #expect(events == [
            ["type": "start", "provider": "openai", "model": "gpt-x", "attempt": 1],
            ["type": "delta", "content": "Hello there"],
            ["type": "usage", "usage": ["prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5]],
        ])
    }

    @Test func replayWithoutProviderOrUsage() {
        let events = CacheReplay.events(for: answer("x")).map { $0.json() }
        #expect(events == [
            ["type": "start", "provider": "cache", "model": "", "attempt": 1],
            ["type": "delta", "content": "x"],
        ])
    }

    @Test func replayOfToolCalls() {
        let calls: JSONValue = [
            ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Oslo"}"#]],
            ["id": "call_2", "type": "function", "function": ["name": "get_time", "arguments": "{}"],
             "extra_content": ["google": ["thought_signature": "sig"]]],
        ]
        let response = object([
            "model": "m", "provider": "p",
            "choices": [["index": 0, "message": ["role": "assistant", "content": nil, "tool_calls": calls],
                         "finish_reason": "tool_calls"]],
        ])
        let events = CacheReplay.events(for: response)
        #expect(events.count == 2)
        #expect(events.map { $0.json() } == [
            ["type": "start", "provider": "p", "model": "m", "attempt": 1],
            ["type": "delta", "tool_calls": [
                ["index": 0, "id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Oslo"}"#]],
                ["index": 1, "id": "call_2", "type": "function", "function": ["name": "get_time", "arguments": "{}"],
                 "extra_content": ["google": ["thought_signature": "sig"]]],
            ]],
        ])
    }

    /// Replaying through the stream accumulator rebuilds the cached message.
    @Test func replayRoundTripsThroughTheAccumulator() {
        let response = object([
            "model": "m",
            "choices": [["index": 0, "message": ["role": "assistant", "content": "Let me check.", "tool_calls": [
                ["id": "c1", "type": "function", "function": ["name": "f", "arguments": #"{"a":1}"#]],
            ]]]],
        ])
        var acc = StreamAccumulator()
        for e in CacheReplay.events(for: response) {
            if case .delta(let content, let calls) = e { acc.apply(.delta(content: content, toolCalls: calls)) }
        }
        let rebuilt = acc.response(fallbackModel: "m")
        #expect(rebuilt["choices"]?.arrayValue?.first?["message"] == response["choices"]?.arrayValue?.first?["message"])
    }
}
