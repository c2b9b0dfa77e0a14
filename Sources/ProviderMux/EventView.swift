// SPDX-License-Identifier: Apache-2.0
// ExecutionEvent → pmx_event (include/providermux.h), for pmx_stream_next. No behaviour: each
// field is what the event's JSON says (ExecutionEvent.writeJSON), copied into the stream's
// arena with keys masked, as the JSON events are (Marshalling.swift says why there).
#if canImport(Glibc)
import MuxBase
import MuxRouting
import Glibc
#endif

/// pmx_event's and pmx_tool_call_delta's layout on the 64-bit platforms the library builds
/// for (Tests/c checks every offset with offsetof, as it does pmx_error's).
enum EventLayout {
    static let size = 208
    static let type = 0, attempt = 4, status = 8, httpStatus = 12, delayMs = 16
    static let text = 24, reasoning = 40, provider = 56, model = 72, nextProvider = 88, finishReason = 104
    static let toolCalls = 120, toolCallCount = 128
    static let promptTokens = 136, completionTokens = 144, totalTokens = 152, cachedTokens = 160
    static let costUSD = 168, upstreamCostUSD = 176, tokensPerSecond = 184
    static let json = 192
    /// Appended in the second version (a caller's event_size of 216 or more): the choice index.
    static let choiceIndex = 208, sizeWithChoice = 216

    static let toolSize = 72
    static let toolIndex = 0, toolID = 8, toolType = 24, toolName = 40, toolArguments = 56

    /// PMX_NEXT_WITH_JSON.
    static let flagWithJSON: UInt32 = 1
}

/// Writes batches of events as pmx_event views into one arena reused across calls: the
/// strings (each followed by a NUL), the JSON texts and the tool-call arrays of a batch, valid
/// until the next batch is written. Two passes: the bytes first (the arena may move while it
/// grows), then the structs, whose pointers are only taken once the arena is final.
final class EventViewWriter {
    /// A string written to the arena: offset and length; offset -1 for an absent one.
    private struct Span {
        var offset = -1
        var count = 0
    }

    /// One event's fields as offsets, until the arena is final.
    private struct Slot {
        var type: Int32 = 0, attempt: Int32 = 0, status: Int32 = 0, httpStatus: Int32 = 0
        var delayMs: Int64 = 0
        var text = Span(), reasoning = Span(), provider = Span(), model = Span()
        var nextProvider = Span(), finishReason = Span(), json = Span()
        /// Arena offset of this delta's pmx_tool_call_delta array, and its entries in `tools`.
        var toolArray = -1, firstTool = 0, toolCount = 0
        var promptTokens: Int64 = -1, completionTokens: Int64 = -1, totalTokens: Int64 = -1, cachedTokens: Int64 = -1
        var costUSD = Double.nan, upstreamCostUSD = Double.nan, tokensPerSecond = Double.nan
        var choiceIndex: Int64 = -1
    }

    private struct ToolSlot {
        var index: Int64 = -1
        var id = Span(), type = Span(), name = Span(), arguments = Span()
    }

    // Only the one reader inside pmx_stream_next touches these (PullStream's `busy` guard), so
    // the runtime's exclusivity checks (~200 instructions a batch) are left out.
    private let arena = ByteArena()
    @exclusivity(unchecked) private var slots: [Slot] = []
    @exclusivity(unchecked) private var tools: [ToolSlot] = []
    private let json = EventJSONText()
    @exclusivity(unchecked) private var matcher: SecretMatcher?
    @exclusivity(unchecked) private var matchers = Secrets.MatcherCache()
    /// The transcript is on: every event's JSON is recorded (Transcript.swift), as the JSON
    /// callback's are, so that the secret scan sees what the host got.
    @exclusivity(unchecked) private var recording = false

    /// Writes `events` into `out` (elements of `stride` bytes, the caller's sizeof(pmx_event)).
    func write(_ events: [ExecutionEvent], to out: UnsafeMutableRawPointer, stride: Int, flags: UInt32) {
        arena.reset()
        slots.removeAll(keepingCapacity: true)
        tools.removeAll(keepingCapacity: true)
        matcher = matchers.current()  // once per batch: atomic loads, no lock while the keys stay the same
        recording = Transcript.isOn
        let withJSON = flags & EventLayout.flagWithJSON != 0
        for event in events { slots.append(slot(event, withJSON: withJSON)) }
        // The arena is final: its addresses hold until the next batch.
        let base = arena.base
        for slot in slots where slot.toolArray >= 0 {
            for k in 0..<slot.toolCount {
                let t = tools[slot.firstTool + k], p = base! + slot.toolArray + k * EventLayout.toolSize
                p.storeBytes(of: t.index, toByteOffset: EventLayout.toolIndex, as: Int64.self)
                store(t.id, base, p + EventLayout.toolID)
                store(t.type, base, p + EventLayout.toolType)
                store(t.name, base, p + EventLayout.toolName)
                store(t.arguments, base, p + EventLayout.toolArguments)
            }
        }
        for (i, s) in slots.enumerated() {
            let p = out + i * stride
            memset(p, 0, stride)
            p.storeBytes(of: s.type, toByteOffset: EventLayout.type, as: Int32.self)
            p.storeBytes(of: s.attempt, toByteOffset: EventLayout.attempt, as: Int32.self)
            p.storeBytes(of: s.status, toByteOffset: EventLayout.status, as: Int32.self)
            p.storeBytes(of: s.httpStatus, toByteOffset: EventLayout.httpStatus, as: Int32.self)
            p.storeBytes(of: s.delayMs, toByteOffset: EventLayout.delayMs, as: Int64.self)
            store(s.text, base, p + EventLayout.text)
            store(s.reasoning, base, p + EventLayout.reasoning)
            store(s.provider, base, p + EventLayout.provider)
            store(s.model, base, p + EventLayout.model)
            store(s.nextProvider, base, p + EventLayout.nextProvider)
            store(s.finishReason, base, p + EventLayout.finishReason)
            if s.toolArray >= 0 {
                p.storeBytes(of: base! + s.toolArray, toByteOffset: EventLayout.toolCalls, as: UnsafeMutableRawPointer.self)
                p.storeBytes(of: s.toolCount, toByteOffset: EventLayout.toolCallCount, as: Int.self)
            }
            p.storeBytes(of: s.promptTokens, toByteOffset: EventLayout.promptTokens, as: Int64.self)
            p.storeBytes(of: s.completionTokens, toByteOffset: EventLayout.completionTokens, as: Int64.self)
            p.storeBytes(of: s.totalTokens, toByteOffset: EventLayout.totalTokens, as: Int64.self)
            p.storeBytes(of: s.cachedTokens, toByteOffset: EventLayout.cachedTokens, as: Int64.self)
            p.storeBytes(of: s.costUSD, toByteOffset: EventLayout.costUSD, as: Double.self)
            p.storeBytes(of: s.upstreamCostUSD, toByteOffset: EventLayout.upstreamCostUSD, as: Double.self)
            p.storeBytes(of: s.tokensPerSecond, toByteOffset: EventLayout.tokensPerSecond, as: Double.self)
            store(s.json, base, p + EventLayout.json)
            if stride >= EventLayout.sizeWithChoice {
                p.storeBytes(of: s.choiceIndex, toByteOffset: EventLayout.choiceIndex, as: Int64.self)
            }
        }
    }

    /// A pmx_str at `p`: { NULL, 0 } when absent.
    @inline(__always)
    private func store(_ s: Span, _ base: UnsafeMutableRawPointer?, _ p: UnsafeMutableRawPointer) {
        guard s.offset >= 0, let base else { return }  // the element was zeroed
        p.storeBytes(of: base + s.offset, toByteOffset: 0, as: UnsafeMutableRawPointer.self)
        p.storeBytes(of: s.count, toByteOffset: 8, as: Int.self)
    }

    // MARK: pass 1: the bytes

    private func slot(_ event: ExecutionEvent, withJSON: Bool) -> Slot {
        var s = Slot()
        switch event {
        case .start(let provider, let model, let attempt):
            s.type = EventType.start.rawValue
            s.provider = put(provider, .text); s.model = put(model, .text)
            s.attempt = Int32(clamping: attempt)
        case .delta(let content, let toolCalls):
            s.type = EventType.delta.rawValue
            s.text = put(content, .text)
            if let toolCalls, !toolCalls.isEmpty { putTools(toolCalls, into: &s) }
        case .reasoning(let text):
            s.type = EventType.delta.rawValue
            s.reasoning = put(text, .text)
        case .choiceDelta(let index, let content, let reasoning, let toolCalls):
            s.type = EventType.delta.rawValue
            s.choiceIndex = Int64(index)
            s.text = put(content, .text)
            s.reasoning = put(reasoning, .text)
            if let toolCalls, !toolCalls.isEmpty { putTools(toolCalls, into: &s) }
        case .retry(let provider, let attempt, let delayMs, let e):
            s.type = EventType.retry.rawValue
            s.provider = put(provider, .text); s.attempt = Int32(clamping: attempt)
            s.delayMs = Int64(clamping: delayMs)
            failure(e, into: &s)
        case .fallback(let from, let to, let e):
            s.type = EventType.fallback.rawValue
            s.provider = put(from, .text); s.nextProvider = put(to, .text)
            failure(e, into: &s)
        case .usage(let u):
            s.type = EventType.usage.rawValue
            usage(u, into: &s)
        case .done(let response):
            s.type = EventType.done.rawValue
            s.provider = put(response["provider"]?.stringValue, .text)
            s.model = put(response["model"]?.stringValue, .text)
            if let choice = response["choices"]?.arrayValue?.first {
                s.text = put(choice["message"]?["content"]?.stringValue, .text)
                s.finishReason = put(choice["finish_reason"]?.stringValue, .text)
            }
            let omitted = response["attempts_omitted"]?.intValue ?? 0
            s.attempt = Int32(clamping: Int64(clamping: response["attempts"]?.arrayValue?.count ?? 0).addingSaturated(omitted))
            if let u = response["usage"]?.objectValue { usage(json: u, into: &s) }
        case .operation:
            // An operation's own event (responses.create's `response.*`): pmx_router_call_stream
            // delivers only JSON events, and pulled streams are chat, so no typed form is
            // defined; were one pulled, it is a type this header does not know, with its JSON.
            s.type = 0
            s.json = putJSON(event)
            return s
        case .error(let e):
            s.type = EventType.error.rawValue
            failure(e, into: &s)
            s.provider = put(e.provider, .text)
            s.attempt = Int32(clamping: e.attemptCount)
            if let u = e.partialUsage { usage(u, into: &s) }
        }
        if withJSON || event.isTerminal {
            s.json = putJSON(event)
        } else if recording {
            _ = putJSON(event)  // what the host got, for the transcript; not handed out
        }
        return s
    }

    private func failure(_ e: PMXError, into s: inout Slot) {
        s.status = e.status.rawValue
        s.httpStatus = Int32(clamping: e.httpStatus)
        s.text = put(e.message, .message)
    }

    /// The numbers of the `usage` event's object (Usage.json()): the same rounding of cost_usd.
    private func usage(_ u: Usage, into s: inout Slot) {
        s.promptTokens = Int64(clamping: u.promptTokens)
        s.completionTokens = Int64(clamping: u.completionTokens)
        s.totalTokens = Int64(clamping: u.totalTokens)
        s.cachedTokens = u.cachedTokens.map { Int64(clamping: $0) } ?? -1
        s.costUSD = u.reportedCostUSD ?? .nan
        s.upstreamCostUSD = u.upstreamCostUSD ?? .nan
        s.tokensPerSecond = u.tokensPerSecond ?? .nan
    }

    /// The numbers of a response's `usage` object, as the done event's JSON has them.
    private func usage(json u: JSONObject, into s: inout Slot) {
        s.promptTokens = u["prompt_tokens"]?.intValue ?? -1
        s.completionTokens = u["completion_tokens"]?.intValue ?? -1
        s.totalTokens = u["total_tokens"]?.intValue ?? -1
        s.cachedTokens = u["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? -1
        s.costUSD = u["cost_usd"]?.doubleValue ?? .nan
        s.upstreamCostUSD = u["upstream_cost_usd"]?.doubleValue ?? .nan
        s.tokensPerSecond = u["tokens_per_second"]?.doubleValue ?? .nan
    }

    /// A delta's tool calls: the structs' room in the arena now, their fields in pass 2.
    private func putTools(_ calls: [JSONValue], into s: inout Slot) {
        s.firstTool = tools.count
        s.toolCount = calls.count
        for call in calls {
            var t = ToolSlot()
            t.index = call["index"]?.intValue ?? -1
            t.id = put(call["id"]?.stringValue, .text)
            t.type = put(call["type"]?.stringValue, .text)
            t.name = put(call["function"]?["name"]?.stringValue, .text)
            t.arguments = put(call["function"]?["arguments"]?.stringValue, .text)
            tools.append(t)
        }
        arena.align8()
        s.toolArray = arena.appendZeros(calls.count * EventLayout.toolSize)
    }

    /// `s` (UTF-8) into the arena, keys masked like the JSON events' (`surface`), then a NUL.
    private func put(_ s: String?, _ surface: Secrets.Surface) -> Span {
        guard var s else { return Span() }
        let offset = s.withUTF8 { arena.append(UnsafeRawBufferPointer($0)) }
        if let matcher, let masked = matcher.mask(arena.bytes(at: offset, count: arena.count - offset), surface) {
            arena.truncate(to: offset)
            masked.withUnsafeBytes { _ = arena.append($0) }
        }
        let span = Span(offset: offset, count: arena.count - offset)
        arena.appendByte(0)
        return span
    }

    /// The event's JSON text exactly as the JSON callback gets it (EventSerializer).
    private func putJSON(_ event: ExecutionEvent) -> Span {
        json.with(event) { text in
            if recording { Transcript.record(.event, text) }
            let offset = arena.append(UnsafeRawBufferPointer(text))
            arena.appendByte(0)
            return Span(offset: offset, count: text.count)
        }
    }
}
