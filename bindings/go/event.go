// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <providermux.h>
*/
import "C"

import (
	"encoding/json"
	"math"
	"unsafe"
)

// Event is one stream event, filled from the library's typed event view (pmx_event): no JSON
// is parsed per event. Which fields a type fills follows pmx_event in providermux.h; the others
// are zero.
type Event struct {
	Type    string // "start", "delta", "retry", "fallback", "usage", "done", "error"
	Content string // delta: text
	// ToolCalls is ToolCallDeltas as JSON (OpenAI's streamed shape), nil when none.
	//
	// Deprecated: use the typed ToolCallDeltas (joined by a ToolCallAccumulator); kept for
	// existing callers.
	ToolCalls json.RawMessage
	// Raw is the event object as the library wrote it: always for done and error, for every
	// event when the stream was started WithEventJSON(); nil otherwise.
	Raw      json.RawMessage
	Response json.RawMessage // done: the full response object
	Err      error           // error: an *Error

	Reasoning      string          // delta: the reasoning piece
	ToolCallDeltas []ToolCallDelta // delta: the tool call pieces, nil when none
	Provider       string          // start, retry, done, error: the provider; fallback: the one left
	NextProvider   string          // fallback: the provider tried next
	Model          string          // start, done
	Attempt        int             // start: 1-based attempt; retry: the failed one's; done, error: attempts made
	DelayMs        int64           // retry: milliseconds before the next attempt
	Code           int32           // retry, fallback: the failure's status; error: the terminal status
	HTTPStatus     int             // retry, fallback, error: the provider's HTTP status, 0 when none
	Message        string          // retry, fallback, error: the failure's message
	Answer         string          // done: choices[0].message.content
	FinishReason   string          // done: choices[0].finish_reason
	Usage          *UsageNumbers   // usage, done (and error when it carries a partial usage); else nil
}

// Terminal reports whether e ends its stream (done or error).
func (e Event) Terminal() bool { return e.Type == "done" || e.Type == "error" }

// ToolCallDelta is one piece of a streamed tool call (OpenAI's shape: a call's arguments
// arrive in pieces, joined by Index).
type ToolCallDelta struct {
	Index     int    // which call of the answer; -1 when absent
	ID        string // usually only on a call's first piece
	Type      string // "function"
	Name      string // function name, usually only on the first piece
	Arguments string // the next piece of the arguments' JSON text
}

// UsageNumbers holds the usage numbers of a usage, done or error event. Counts are -1 and
// amounts NaN when the library did not have them.
type UsageNumbers struct {
	PromptTokens     int64
	CompletionTokens int64
	TotalTokens      int64
	CachedTokens     int64   // prompt_tokens_details.cached_tokens
	CostUSD          float64 // the router's pricing
	UpstreamCostUSD  float64 // what the provider reported
	TokensPerSecond  float64
}

var eventTypeNames = map[int32]string{
	EventStart: "start", EventDelta: "delta", EventRetry: "retry", EventFallback: "fallback",
	EventUsage: "usage", EventDone: "done", EventError: "error",
}

// goStr copies a borrowed pmx_str ("" when absent).
func goStr(s C.pmx_str) string {
	if s.ptr == nil || s.len == 0 {
		return ""
	}
	return C.GoStringN(s.ptr, C.int(s.len))
}

// goBytes copies a borrowed pmx_str (nil when absent).
func goBytes(s C.pmx_str) []byte {
	if s.ptr == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(s.ptr), C.int(s.len))
}

// eventFromView copies one borrowed pmx_event into an Event. Only done's JSON is parsed (once,
// for its "response"); an error event is built from the typed fields.
func eventFromView(e *C.pmx_event) Event {
	code := int32(e._type)
	ev := Event{Type: eventTypeNames[code], Attempt: int(e.attempt), Raw: goBytes(e.json)}
	switch code {
	case EventStart:
		ev.Provider, ev.Model = goStr(e.provider), goStr(e.model)
	case EventDelta:
		ev.Content, ev.Reasoning = goStr(e.text), goStr(e.reasoning)
		if e.tool_call_count > 0 && e.tool_calls != nil {
			ev.ToolCallDeltas = toolCallDeltas(e.tool_calls, int(e.tool_call_count))
			ev.ToolCalls = toolCallsJSON(ev.ToolCallDeltas)
		}
	case EventRetry, EventFallback:
		ev.Provider, ev.NextProvider = goStr(e.provider), goStr(e.next_provider)
		ev.DelayMs, ev.Code, ev.HTTPStatus = int64(e.delay_ms), int32(e.status), int(e.http_status)
		ev.Message = goStr(e.text)
	case EventUsage:
		ev.Usage = usageFromView(e)
	case EventDone:
		ev.Provider, ev.Model = goStr(e.provider), goStr(e.model)
		ev.Answer, ev.FinishReason = goStr(e.text), goStr(e.finish_reason)
		ev.Usage = usageFromView(e)
		var done struct {
			Response json.RawMessage `json:"response"`
		}
		if err := json.Unmarshal(ev.Raw, &done); err == nil {
			ev.Response = done.Response
		}
	case EventError:
		ev.Provider, ev.Code, ev.HTTPStatus = goStr(e.provider), int32(e.status), int(e.http_status)
		ev.Message = goStr(e.text)
		ev.Usage = usageFromView(e)
		code := ev.Code
		if code == 0 {
			code = CodeInternal
		}
		ev.Err = &Error{Code: code, StatusName: StatusName(code), HTTPStatus: ev.HTTPStatus,
			Provider: ev.Provider, Message: ev.Message, Attempts: ev.Attempt, Details: ev.Raw}
	}
	return ev
}

func toolCallDeltas(first *C.pmx_tool_call_delta, n int) []ToolCallDelta {
	views := unsafe.Slice(first, n)
	out := make([]ToolCallDelta, n)
	for i := range views {
		v := &views[i]
		out[i] = ToolCallDelta{Index: int(v.index), ID: goStr(v.id), Type: goStr(v._type),
			Name: goStr(v.name), Arguments: goStr(v.arguments)}
		if v.index < 0 {
			out[i].Index = -1
		}
	}
	return out
}

// toolCallsJSON writes the pieces in OpenAI's streamed tool_calls shape (Event.ToolCalls),
// leaving out absent members as the JSON event does.
func toolCallsJSON(deltas []ToolCallDelta) json.RawMessage {
	type function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments,omitempty"`
	}
	type call struct {
		Index    *int      `json:"index,omitempty"`
		ID       string    `json:"id,omitempty"`
		Type     string    `json:"type,omitempty"`
		Function *function `json:"function,omitempty"`
	}
	calls := make([]call, len(deltas))
	for i, d := range deltas {
		if d.Index >= 0 {
			index := d.Index
			calls[i].Index = &index
		}
		calls[i].ID, calls[i].Type = d.ID, d.Type
		if d.Name != "" || d.Arguments != "" {
			calls[i].Function = &function{Name: d.Name, Arguments: d.Arguments}
		}
	}
	b, err := json.Marshal(calls)
	if err != nil {
		return nil
	}
	return b
}

// usageFromView gives the usage numbers, or nil when the event has none.
func usageFromView(e *C.pmx_event) *UsageNumbers {
	u := UsageNumbers{PromptTokens: int64(e.prompt_tokens), CompletionTokens: int64(e.completion_tokens),
		TotalTokens: int64(e.total_tokens), CachedTokens: int64(e.cached_tokens),
		CostUSD: float64(e.cost_usd), UpstreamCostUSD: float64(e.upstream_cost_usd),
		TokensPerSecond: float64(e.tokens_per_second)}
	if u.PromptTokens < 0 && u.CompletionTokens < 0 && u.TotalTokens < 0 && u.CachedTokens < 0 &&
		math.IsNaN(u.CostUSD) && math.IsNaN(u.UpstreamCostUSD) && math.IsNaN(u.TokensPerSecond) {
		return nil
	}
	return &u
}
