// SPDX-License-Identifier: Apache-2.0
// pmx_event.type (include/providermux.h): the typed events' PMX_EVENT_* values.
// BEGIN GENERATED abi:swift-event-types (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
public enum EventType: Int32, Sendable, CaseIterable {
    /// "start": An attempt started: provider, model, attempt.
    case start = 1
    /// "delta": A piece of the answer: text, reasoning, tool_calls.
    case delta = 2
    /// "retry": An attempt failed and the same provider is tried again after delay_ms.
    case retry = 3
    /// "fallback": An attempt failed and the next provider is tried.
    case fallback = 4
    /// "usage": Token counts and cost of the answer.
    case usage = 5
    /// "done": Terminal: the full response (in json).
    case done = 6
    /// "error": Terminal: the request failed (status, message; the error object in json).
    case error = 7
}
// END GENERATED abi:swift-event-types
