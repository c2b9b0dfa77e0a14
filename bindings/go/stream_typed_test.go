// SPDX-License-Identifier: Apache-2.0

package providermux

// Typed events: the fields filled from the library's pmx_event view (no JSON per event).

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// streamAll runs one stream to its end: the concatenated deltas and every event.
func streamAll(t *testing.T, r *Router, request string, opts ...StreamOption) (string, []Event) {
	t.Helper()
	s, err := r.Stream(context.Background(), request, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return collect(t, s)
}

func TestTypedEventsMock(t *testing.T) {
	r := newRouter(t, mockConfig)
	text, events := streamAll(t, r, userRequest("typed fields"))
	if text != "mock: typed fields" {
		t.Fatalf("deltas %q", text)
	}
	start, last := events[0], events[len(events)-1]
	if start.Type != "start" || start.Provider != "m" || start.Attempt != 1 || start.Raw != nil {
		t.Fatalf("start %+v", start)
	}
	sawUsage := false
	for _, ev := range events[:len(events)-1] {
		if ev.Raw != nil {
			t.Fatalf("%s event carries JSON without WithEventJSON: %s", ev.Type, ev.Raw)
		}
		if ev.Type == "usage" {
			sawUsage = true
			u := ev.Usage
			if u == nil || u.TotalTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Fatalf("usage %+v", u)
			}
		}
	}
	if !sawUsage {
		t.Fatal("no usage event")
	}
	if last.Type != "done" || last.Answer != text || last.FinishReason != "stop" || last.Provider != "m" ||
		last.Attempt != 1 || last.Usage == nil || last.Usage.TotalTokens <= 0 || !json.Valid(last.Raw) {
		t.Fatalf("done %+v", last)
	}
	resp, err := ParseResponse(last.Response)
	if err != nil || resp.Content() != text || resp.Provider != "m" {
		t.Fatalf("done response %s (%v)", last.Response, err)
	}

	// WithEventJSON: every event carries its JSON too, and it says what the typed fields say.
	_, events = streamAll(t, r, userRequest("with json"), WithEventJSON())
	for _, ev := range events {
		var f struct {
			Type    string `json:"type"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(ev.Raw, &f); err != nil || f.Type != ev.Type || f.Content != ev.Content {
			t.Fatalf("event %+v, JSON %s (%v)", ev, ev.Raw, err)
		}
	}
	waitNoLiveHandles(t)
}

func TestTypedToolCallDeltas(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gotyped")+`"}]}`)
	_, events := streamAll(t, r, weatherToolRequest)
	var name, id, args strings.Builder
	pieces := 0
	for _, ev := range events {
		for _, d := range ev.ToolCallDeltas {
			pieces++
			if d.Index != 0 {
				t.Fatalf("tool call index %d", d.Index)
			}
			name.WriteString(d.Name)
			id.WriteString(d.ID)
			args.WriteString(d.Arguments)
		}
		if ev.ToolCallDeltas != nil {
			// ToolCalls is the same pieces in OpenAI's JSON shape.
			var calls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			}
			if err := json.Unmarshal(ev.ToolCalls, &calls); err != nil || len(calls) != len(ev.ToolCallDeltas) ||
				calls[0].Function.Arguments != ev.ToolCallDeltas[0].Arguments || calls[0].ID != ev.ToolCallDeltas[0].ID {
				t.Fatalf("ToolCalls %s vs %+v (%v)", ev.ToolCalls, ev.ToolCallDeltas, err)
			}
		} else if ev.ToolCalls != nil {
			t.Fatalf("ToolCalls without deltas: %s", ev.ToolCalls)
		}
	}
	var parsed map[string]any
	if pieces == 0 || name.String() != "get_weather" || id.Len() == 0 || json.Unmarshal([]byte(args.String()), &parsed) != nil {
		t.Fatalf("tool call: %d pieces, name %q, id %q, arguments %q", pieces, name.String(), id.String(), args.String())
	}
	last := events[len(events)-1]
	if last.Type != "done" || last.FinishReason != "tool_calls" {
		t.Fatalf("done %+v", last)
	}
}

func TestTypedRetryAndError(t *testing.T) {
	control(t, "gotypedretry/script", map[string]any{"entries": []any{map[string]any{"status": 500}}})
	defer control(t, "gotypedretry/reset", map[string]any{})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gotypedretry")+`"}],
	  "retry":{"max_attempts":3,"initial_backoff_ms":10,"jitter":0}}`)
	_, events := streamAll(t, r, `{"model":"fake-small","messages":[{"role":"user","content":"retry me"}]}`)
	var retry *Event
	for i := range events {
		if events[i].Type == "retry" {
			retry = &events[i]
		}
	}
	if retry == nil || retry.Code != CodeUpstreamServer || retry.HTTPStatus != 500 || retry.Provider != "up" ||
		retry.Attempt != 1 || retry.DelayMs < 0 || retry.Message == "" {
		t.Fatalf("retry %+v", retry)
	}
	if last := events[len(events)-1]; last.Type != "done" || last.Attempt != 2 {
		t.Fatalf("done %+v", last)
	}

	control(t, "gotypedretry/script", map[string]any{"entries": []any{map[string]any{"status": 429, "times": 3}}})
	_, events = streamAll(t, r, `{"model":"fake-small","messages":[{"role":"user","content":"x"}],"route":{"max_attempts":1}}`)
	last := events[len(events)-1]
	var pe *Error
	if last.Type != "error" || last.Code != CodeRateLimited || last.HTTPStatus != 429 || last.Provider != "up" ||
		last.Attempt != 1 || last.Message == "" || !errors.As(last.Err, &pe) || pe.Message != last.Message ||
		pe.Attempts != 1 || !json.Valid(pe.Details) {
		t.Fatalf("error %+v (%#v)", last, last.Err)
	}
}

func TestTypedCancelMidStream(t *testing.T) {
	waitNoLiveHandles(t)
	r := newRouter(t, `{"providers":[{"name":"slow","type":"mock","token_delay_ms":50}]}`)
	s, err := r.Stream(context.Background(), userRequest(strings.Repeat("word ", 200)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deltas := 0
	var terminal Event
	for {
		ev, ok := s.Next()
		if !ok {
			break
		}
		if ev.Type == "start" {
			// From another goroutine, while this one may be waiting inside Next.
			go s.Cancel()
		}
		if ev.Type == "delta" {
			deltas++
		}
		terminal = ev
	}
	if terminal.Type != "error" || terminal.Code != CodeCancelled || terminal.Provider != "slow" ||
		!errors.Is(terminal.Err, ErrCancelled) || deltas >= 200 {
		t.Fatalf("terminal %+v after %d deltas", terminal, deltas)
	}
	if n := atomic.LoadInt64(&liveHandles); n != 0 {
		t.Fatalf("live handles after the terminal event: %d", n)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("an event after the terminal one")
	}
}
