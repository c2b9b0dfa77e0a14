// SPDX-License-Identifier: Apache-2.0
import MuxBase

/// What a routed request tells its consumer, on the loop thread. Serialized to the JSON event
/// vocabulary only by consumers that stream (a blocking `complete` never builds these strings).
///
/// Every case but `delta` is boxed (`indirect`): one of them comes per attempt or per stream,
/// a delta per token. Unboxed, the enum was as large as its largest payload (a retry's
/// `PMXError`, ~200 bytes), and every delta paid for copying that much through the enum's
/// outlined copy as it went through the guard, the queue and the consumer (~400 instructions
/// per chunk); boxed, it is the size of the delta's two references.
public enum ExecutionEvent {
    indirect case start(provider: String, model: String, attempt: Int)
    case delta(content: String?, toolCalls: [JSONValue]?)
    /// A piece of the model's reasoning: a `delta` event whose `reasoning` is set (the JSON
    /// `{"type":"delta","reasoning":…}`, pmx_event's `reasoning`). Boxed like the rest: only
    /// reasoning models send it, and plain chat's delta stays the size it was.
    indirect case reasoning(String)
    /// A delta of a request that asked for several choices (`n` > 1): every delta of such a
    /// request names its choice (`{"type":"delta","index":1,…}`, pmx_event `choice_index`).
    indirect case choiceDelta(index: Int, content: String?, reasoning: String?, toolCalls: [JSONValue]?)
    indirect case retry(provider: String, attempt: Int, delayMs: Int, error: PMXError)
    indirect case fallback(from: String, to: String, error: PMXError)
    indirect case usage(Usage)
    /// An event of an operation's own stream (responses.create's `response.*` events): its
    /// JSON is the object as it is, with its own `type`.
    indirect case operation(JSONObject)
    case done(JSONObject)
    indirect case error(PMXError)

    public var isTerminal: Bool {
        switch self {
        case .done, .error: true
        default: false
        }
    }

    /// Appends this event's JSON text (the same as `json()`) to `out`.
    public func writeJSON(into out: inout [UInt8]) {
        var sink = JSONByteSink(capacity: 256)
        writeJSON(into: &sink)
        sink.copy(to: &out)
    }

    /// The same into a byte sink (the hosts' event text, EventJSONText: one reused sink per
    /// stream). Deltas, one per token, are written directly without building a `JSONValue`.
    package func writeJSON(into out: inout JSONByteSink) {
        guard case .delta(let content, let toolCalls) = self else {
            JSONWriter.write(json(), into: &out)
            return
        }
        if let content {
            JSONWriter.literal(#"{"type":"delta","content":"#, into: &out)
            JSONWriter.writeString(content, into: &out)
        } else {
            JSONWriter.literal(#"{"type":"delta""#, into: &out)
        }
        if let toolCalls {
            JSONWriter.literal(#","tool_calls":"#, into: &out)
            JSONWriter.write(.array(toolCalls), into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    public func json() -> JSONValue {
        var o = JSONObject()
        switch self {
        case .start(let provider, let model, let attempt):
            o["type"] = "start"; o["provider"] = .string(provider); o["model"] = .string(model)
            o["attempt"] = .int(Int64(attempt))
        case .delta(let content, let toolCalls):
            o["type"] = "delta"
            if let content { o["content"] = .string(content) }
            if let toolCalls { o["tool_calls"] = .array(toolCalls) }
        case .reasoning(let text):
            o["type"] = "delta"; o["reasoning"] = .string(text)
        case .choiceDelta(let index, let content, let reasoning, let toolCalls):
            o["type"] = "delta"; o["index"] = .int(Int64(index))
            if let content { o["content"] = .string(content) }
            if let reasoning { o["reasoning"] = .string(reasoning) }
            if let toolCalls { o["tool_calls"] = .array(toolCalls) }
        case .retry(let provider, let attempt, let delayMs, let e):
            o["type"] = "retry"; o["provider"] = .string(provider); o["attempt"] = .int(Int64(attempt))
            o["delay_ms"] = .int(Int64(delayMs))
            Self.writeFailure(e, into: &o)
        case .fallback(let from, let to, let e):
            o["type"] = "fallback"; o["from"] = .string(from); o["to"] = .string(to)
            Self.writeFailure(e, into: &o)
        case .usage(let u):
            o["type"] = "usage"; o["usage"] = u.json()
        case .operation(let event):
            return .object(event)
        case .done(let response):
            o["type"] = "done"; o["response"] = .object(response)
        case .error(let e):
            return e.json()
        }
        return .object(o)
    }

    /// What a retry / fallback event says about the failure behind it.
    private static func writeFailure(_ e: PMXError, into o: inout JSONObject) {
        PMXError.writeStatus(e.status, errorClass: false, into: &o)
        o["http_status"] = .int(Int64(e.httpStatus))
        o["message"] = .string(e.message)
    }
}
