// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// Keeps a key out of stream deltas when a provider streams it in pieces: a model that echoes
/// a key sends it over several deltas ("sk-", "proj", "-abc…"), and no single event holds the
/// whole key for the per-event mask (`Secrets.mask` at the ABI) to find.
///
/// Per text channel (the `content`, and each tool call's `arguments` by index):
/// - when what was sent plus a new fragment ends with 4 bytes or more of a key's start, the
///   fragment's part of it is held back and sent at the front of the next fragment (so a text
///   ending in `sk` passes at once; one ending in `sk-p`, for a live key `sk-proj…`, waits);
/// - bytes at the start of a fragment that complete a key begun in what was already sent are
///   replaced with `****`: at most 3 bytes of a key (its public prefix, `sk-`) go out unmasked;
/// - anything still held when a non-delta event comes (usage, retry, done, error) goes out
///   first, as `****` (the stream stopped inside a key).
/// With no key live every event passes through untouched after one atomic load.
package struct SecretStreamGuard {
    private struct Channel {
        var tail: [UInt8] = []   // last bytes sent, for continuation
        var held: [UInt8] = []
    }
    private var content = Channel()
    /// The reasoning text: a channel of its own, flushed when anything else comes (the
    /// reasoning is over).
    private var reasoning = Channel()
    /// `n` > 1: the content and reasoning of each choice, by index. What they hold when the
    /// stream moves on is dropped (it ends with a key's start: nothing of it goes out).
    private var choiceContent: [Int: Channel] = [:]
    private var choiceReasoning: [Int: Channel] = [:]
    private var arguments: [Int64: Channel] = [:]
    /// An operation's own stream (responses.create's `response.….delta` events): the `delta`
    /// text of each item part (by `item_id` and `content_index`) is a channel like a choice's;
    /// what one holds when its `….done` events come is dropped (they carry the whole text, which
    /// the per-event mask sees).
    private var operationText: [String: Channel] = [:]
    /// The matcher, fetched without a lock while the set of keys stays the same.
    private var matchers = Secrets.MatcherCache()
    /// Held fragments shorter than this are sent as they are when flushed.
    package static let holdMinimum = 4

    /// What goes out for `e`, in order: nothing (a fragment held back), the event, or the
    /// held fragments followed by the event.
    package struct Output {
        package var first: ExecutionEvent?
        package var second: ExecutionEvent?

        package func send(to sink: (ExecutionEvent) -> Void) {
            if let first { sink(first) }
            if let second { sink(second) }
        }
    }

    package mutating func pass(_ e: ExecutionEvent, to sink: (ExecutionEvent) -> Void) {
        filtered(e).send(to: sink)
    }

    /// The same as `pass`, returning the events instead of handing them on: the guard calls
    /// nothing outside itself while it changes (RequestExecution keeps it without runtime
    /// exclusivity checks, and hands the events on after).
    package mutating func filtered(_ e: ExecutionEvent) -> Output {
        guard let matcher = matchers.current() else { return Output(first: e) }
        guard case .delta(let text, let toolCalls) = e else { return filteredOther(e, matcher) }
        // Reasoning held when the answer starts: the reasoning stopped inside a key.
        if !reasoning.held.isEmpty {
            reasoning.held = []
            return Output(first: .reasoning("****"), second: filteredDelta(text, toolCalls, matcher).first)
        }
        return filteredDelta(text, toolCalls, matcher)
    }

    /// Every event but a plain delta: reasoning and `n` > 1 deltas through their own
    /// channels; anything else (usage, retry, done, error) after what is held.
    private mutating func filteredOther(_ e: ExecutionEvent, _ matcher: SecretMatcher) -> Output {
        switch e {
        case .reasoning(let text):
            let out = Self.filter(text, &reasoning, matcher)
            return out.isEmpty ? Output() : Output(first: .reasoning(out))
        case .choiceDelta(let index, let text, let thought, let calls):
            // What a choice's channels still hold when the stream moves on is dropped: it
            // ends with a key's start, and nothing of it goes out.
            let outText = text.map { Self.filter($0, &choiceContent[index, default: Channel()], matcher) }
            let outThought = thought.map { Self.filter($0, &choiceReasoning[index, default: Channel()], matcher) }
            if outText?.isEmpty ?? true, outThought?.isEmpty ?? true, calls == nil { return Output() }
            return Output(first: .choiceDelta(index: index, content: outText?.isEmpty == true ? nil : outText,
                                              reasoning: outThought?.isEmpty == true ? nil : outThought, toolCalls: calls))
        case .operation(var event):
            guard let delta = event["delta"]?.stringValue, event["type"]?.stringValue?.hasSuffix(".delta") == true else {
                return Output(first: e)
            }
            let key = (event["item_id"]?.stringValue ?? "") + "/" + String(event["content_index"]?.intValue ?? 0)
            let out = Self.filter(delta, &operationText[key, default: Channel()], matcher)
            if out.isEmpty { return Output() }
            event["delta"] = .string(out)
            return Output(first: .operation(event))
        default:
            if let flushed = flush() {
                reasoning.held = []  // with held content too (reasoning after the answer): dropped
                return Output(first: flushed, second: e)
            }
            if !reasoning.held.isEmpty {
                reasoning.held = []
                return Output(first: .reasoning("****"), second: e)
            }
            return Output(first: e)
        }
    }

    @inline(__always)
    private mutating func filteredDelta(_ text: String?, _ toolCalls: [JSONValue]?, _ matcher: SecretMatcher) -> Output {
        var outText: String? = nil
        if let text { outText = Self.filter(text, &content, matcher) }
        var outCalls: [JSONValue]? = nil
        if let toolCalls {
            outCalls = toolCalls.map { call in
                guard let index = call["index"]?.intValue, let args = call["function"]?["arguments"]?.stringValue,
                      var fn = call["function"]?.objectValue, var o = call.objectValue else { return call }
                var ch = arguments[index] ?? Channel()
                fn["arguments"] = .string(Self.filter(args, &ch, matcher))
                arguments[index] = ch
                o["function"] = .object(fn)
                return .object(o)
            }
        }
        // Everything held and nothing else: the event waits for the next fragment.
        if outText?.isEmpty ?? true, outCalls == nil, text?.isEmpty == false { return Output() }
        return Output(first: .delta(content: outText, toolCalls: outCalls))
    }

    /// One pass over what was sent (the channel's tail), what was held and the new fragment,
    /// in one buffer: the usual fragment, with no key in sight, comes back as it was.
    private static func filter(_ fragment: String, _ ch: inout Channel, _ m: SecretMatcher) -> String {
        // The usual fragment: nothing held, and no byte of it or of the tail can start a key,
        // so nothing is held or replaced. The tail it leaves (the last bytes of tail + fragment)
        // then holds no byte that can start a key either, and such a tail counts for nothing
        // below: `heldSuffix` and `continuation` only look at keys that START in what was sent
        // (at a byte `mayStartKey` finds), and the bytes handed out are those after the tail.
        // So it is kept empty, exactly as strong, instead of copying every fragment into it.
        if ch.held.isEmpty && !m.mayStartKey(ch.tail) && !m.mayStartKey(fragment) {
            if !ch.tail.isEmpty { ch.tail.removeAll(keepingCapacity: true) }
            return fragment
        }
        let hadHeld = !ch.held.isEmpty
        let tailCount = ch.tail.count
        var all = ch.tail
        all += ch.held
        all += fragment.utf8
        ch.held = []
        // What was sent plus this ends with 4 bytes or more of a key's start: hold this part.
        let hold = Swift.min(m.heldSuffix(all, minimum: holdMinimum), all.count - tailCount)
        let end = all.count - hold
        if hold > 0 { ch.held = Array(all[end...]) }
        let cont = tailCount == 0 ? 0 : m.continuation(all, tailCount: tailCount, end: end)
        ch.tail = Array(all[Swift.max(0, end - Swift.max(m.longest - 1, 0))..<end])
        if hold == 0 && cont == 0 && !hadHeld { return fragment }
        var s = Array(all[tailCount..<end])
        if cont > 0 { s.replaceSubrange(0..<Swift.min(cont, s.count), with: Array("****".utf8)) }
        return String(decoding: s, as: UTF8.self)
    }

    /// The held fragments as one delta (nil when nothing is held).
    private mutating func flush() -> ExecutionEvent? {
        if content.held.isEmpty && arguments.isEmpty { return nil }  // every non-delta event asks
        // Held bytes end the text with 4 bytes or more of a key's start (with what was sent
        // before them): the stream stopped inside a key.
        func out(_ held: [UInt8]) -> String { "****" }
        var text: String? = nil
        if !content.held.isEmpty { text = out(content.held); content.held = [] }
        var calls: [JSONValue] = []
        for index in arguments.keys.sorted() where !(arguments[index]!.held.isEmpty) {
            calls.append(["index": .int(index), "function": ["arguments": .string(out(arguments[index]!.held))]])
            arguments[index]!.held = []
        }
        guard text != nil || !calls.isEmpty else { return nil }
        return .delta(content: text, toolCalls: calls.isEmpty ? nil : calls)
    }
}
