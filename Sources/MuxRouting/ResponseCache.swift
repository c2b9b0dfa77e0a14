// SPDX-License-Identifier: Apache-2.0
import MuxBase
import MuxConfig
import MuxProtocols
import MuxProviders

/// Exact-match response cache: a response is replayed for a later request whose normalized body
/// (see `key(for:)`) is identical, while it is younger than the TTL. Bounded by entry count and
/// by bytes; the least recently used entries go first. get and put are O(1): entries live in an
/// index-linked list (array slots with prev/next indices and a free list) found by a dictionary.
/// Thread-safe: one `Locked` around the whole state. When `settings.enabled` is false, get finds
/// nothing and put stores nothing (and neither counts anything).
public final class ResponseCache: Sendable {
    public struct Stats: Sendable, Equatable {
        public var hits = 0, misses = 0, entries = 0, bytes = 0, evictions = 0, expirations = 0
        public init() {}
    }

    public let settings: CacheSettings
    private let state: Locked<LRUState>

    public init(settings: CacheSettings) {
        self.settings = settings
        self.state = Locked(LRUState())
    }

    /// Request body keys that do not change the answer: transport (`stream`, `stream_options`),
    /// the router's own `route`, and bookkeeping (`metadata`, `user`).
    package static let ignoredKeys: Set<String> = ["stream", "stream_options", "route", "metadata", "user"]

    /// The normalized request key: the body without the ignored keys, object keys sorted
    /// recursively, serialized compactly, with integral numbers written one way (1 and 1.0 are
    /// the same key; `"n": 1` is the same as no `n`). The `model` string is kept as written. nil for
    /// requests that must not be cached: `n` > 1 (several sampled choices are not one answer to replay).
    /// The key of any cacheable request: a chat request's own key; for another operation of
    /// pmx_router_call its name and then its normalized body (the same body asked of two
    /// operations is two answers). nil: not cached (embeddings, live-state operations).
    public static func key(for operation: AttemptOperation) -> String? {
        switch operation {
        case .chat(let r, _): return key(for: r)
        case .embed: return nil
        case .call(let r, _):
            guard r.operation.isCacheable else { return nil }
            var body = JSONObject()
            for m in sortedMembers(r.body) where !ignoredKeys.contains(m.key) { body.appendUnchecked(m.key, normalized(m.value)) }
            return r.operation.rawValue + "\n" + JSONWriter.string(.object(body))
        }
    }

    public static func key(for request: ChatRequest) -> String? {
        let n = request.body["n"]?.doubleValue
        if let n, n > 1 { return nil }
        var body = JSONObject()
        for m in sortedMembers(request.body) where !ignoredKeys.contains(m.key) {
            if m.key == "n" && n == 1 { continue }  // the default: "n":1 and no n ask the same
            body.appendUnchecked(m.key, normalized(m.value))
        }
        return JSONWriter.string(.object(body))
    }

    package static func sortedMembers(_ o: JSONObject) -> [JSONObject.Member] {
        o.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// Keys sorted at every level; integral doubles (within the exactly representable range)
    /// become integers, -0.0 becomes 0.
    package static func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .double(let d) where d.rounded() == d && abs(d) <= 9_007_199_254_740_992:
            return .int(Int64(d))
        case .array(let a):
            return .array(a.map(normalized))
        case .object(let o):
            var out = JSONObject()
            for m in sortedMembers(o) { out.appendUnchecked(m.key, normalized(m.value)) }
            return .object(out)
        default:
            return v
        }
    }

    /// A fresh entry (younger than the TTL) or nil, counting a hit or a miss. A hit becomes the
    /// most recently used; an expired entry is dropped (and counted) when seen.
    public func get(_ key: String, nowNs: UInt64) -> JSONObject? {
        guard settings.enabled else { return nil }
        let ttlNs = SafeNumbers.nanos(ms: settings.ttlMs)  // saturating: settings built in code are not range-checked
        return state.withLock { st in
            guard let i = st.index[key] else {
                st.stats.misses += 1
                return nil
            }
            let storedNs = st.slots[i].storedNs
            if nowNs >= storedNs && nowNs - storedNs >= ttlNs {
                st.remove(i)
                st.stats.expirations += 1
                st.stats.misses += 1
                return nil
            }
            st.moveToFront(i)
            st.stats.hits += 1
            return st.slots[i].response
        }
    }

    /// Stores a successful response (errors are never passed here). Its size is the key's bytes
    /// plus the serialized response's bytes. Least recently used entries are evicted until both
    /// limits hold; an entry bigger than `max_bytes` on its own is not stored. A put under a key
    /// already present replaces that entry.
    public func put(_ key: String, response: JSONObject, nowNs: UInt64) {
        guard settings.enabled else { return }
        let size = key.utf8.count + JSONWriter.bytes(.object(response)).count
        let maxEntries = settings.maxEntries, maxBytes = settings.maxBytes
        state.withLock { st in
            if let old = st.index[key] { st.remove(old) }
            guard size <= maxBytes else { return }
            while let tail = st.tail, st.stats.entries + 1 > maxEntries || st.stats.bytes + size > maxBytes {
                st.remove(tail)
                st.stats.evictions += 1
            }
            st.insertFront(LRUState.Slot(key: key, response: response, size: size, storedNs: nowNs))
        }
    }

    /// Drops every entry (counters are kept).
    public func clear() {
        state.withLock { st in
            let counters = st.stats
            st = LRUState()
            st.stats = counters
            st.stats.entries = 0
            st.stats.bytes = 0
        }
    }

    public var stats: Stats { state.withLock { $0.stats } }

    /// hits, misses, evictions and expirations back to 0; entries (and their bytes) are kept.
    public func resetCounters() {
        state.withLock { st in
            st.stats.hits = 0
            st.stats.misses = 0
            st.stats.evictions = 0
            st.stats.expirations = 0
        }
    }
}

/// The LRU list: slots in an array linked by indices (head = most recent), a free list of
/// vacated slots, and a dictionary from key to slot. Every operation is O(1).
package struct LRUState: Sendable {
    package struct Slot: Sendable {
        package var key: String
        package var response: JSONObject
        package var size: Int
        package var storedNs: UInt64
        package var prev: Int? = nil
        package var next: Int? = nil
    }

    package var slots: [Slot] = []
    package var free: [Int] = []
    package var index: [String: Int] = [:]
    package var head: Int?
    package var tail: Int?
    package var stats = ResponseCache.Stats()

    package mutating func insertFront(_ slot: Slot) {
        let i: Int
        if let f = free.popLast() {
            i = f
            slots[i] = slot
        } else {
            i = slots.count
            slots.append(slot)
        }
        index[slot.key] = i
        link(i)
        stats.entries += 1
        stats.bytes += slot.size
    }

    package mutating func remove(_ i: Int) {
        unlink(i)
        index[slots[i].key] = nil
        stats.entries -= 1
        stats.bytes -= slots[i].size
        slots[i].response = JSONObject()  // release the memory now, not when the slot is reused
        slots[i].key = ""
        free.append(i)
    }

    package mutating func moveToFront(_ i: Int) {
        guard head != i else { return }
        unlink(i)
        link(i)
    }

    private mutating func link(_ i: Int) {
        slots[i].prev = nil
        slots[i].next = head
        if let h = head { slots[h].prev = i }
        head = i
        if tail == nil { tail = i }
    }

    private mutating func unlink(_ i: Int) {
        let p = slots[i].prev, n = slots[i].next
        if let p { slots[p].next = n } else { head = n }
        if let n { slots[n].prev = p } else { tail = p }
        slots[i].prev = nil
        slots[i].next = nil
    }
}

/// A cached answer replayed as stream events: what a streamed request receives on a cache hit.
public enum CacheReplay {
    /// [.start(provider: response["provider"] ?? "cache", model: response["model"], attempt: 1),
    ///  one reasoning delta with the message's `reasoning_content` (if any),
    ///  one .delta with the whole message content (if any), one .delta with the tool calls in
    ///  OpenAI streaming delta shape (each with "index", "id", "type", "function": {"name",
    ///  "arguments"}, plus any provider-specific keys the call carried) if any,
    ///  .usage if the response has one]. The caller sends .done itself.
    public static func events(for response: JSONObject) -> [ExecutionEvent] {
        var events: [ExecutionEvent] = [
            .start(provider: response["provider"]?.stringValue ?? "cache",
                   model: response["model"]?.stringValue ?? "", attempt: 1),
        ]
        let choice = response["choices"]?.arrayValue?.first
        let message = choice?["message"]
        if let reasoning = message?["reasoning_content"]?.stringValue, !reasoning.isEmpty {
            events.append(.reasoning(reasoning))  // before the answer, as it streamed
        }
        // A chat answer's content, or a text completion's text.
        if let content = message?["content"]?.stringValue ?? choice?["text"]?.stringValue, !content.isEmpty {
            events.append(.delta(content: content, toolCalls: nil))
        }
        if let calls = message?["tool_calls"]?.arrayValue, !calls.isEmpty {
            let deltas: [JSONValue] = calls.enumerated().map { i, call in
                var o = JSONObject()
                o["index"] = .int(Int64(i))
                o["id"] = .string(call["id"]?.stringValue ?? "")
                o["type"] = .string(call["type"]?.stringValue ?? "function")
                o["function"] = [
                    "name": .string(call["function"]?["name"]?.stringValue ?? ""),
                    "arguments": .string(call["function"]?["arguments"]?.stringValue ?? ""),
                ]
                for m in call.objectValue?.members ?? [] where !StreamAccumulator.openAIToolCallKeys.contains(m.key) {
                    o[m.key] = m.value
                }
                return .object(o)
            }
            events.append(.delta(content: nil, toolCalls: deltas))
        }
        if var usage = Usage(openAI: response["usage"]) {
            // The stored answer's cost_usd is the router's own price (set when it was served).
            usage.costUSD = response["usage"]?["cost_usd"]?.doubleValue
            usage.upstreamCostUSD = Usage.reportedCost(response["usage"]?["upstream_cost_usd"])
            events.append(.usage(usage))
        }
        return events
    }
}
