// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// upstreamRequests returns the JSON bodies the fake upstream logged for scope, oldest first.
func upstreamRequests(t *testing.T, scope string) []map[string]any {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/_control/%s/requests", upstreamPort, scope))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var log struct {
		Requests []struct {
			JSON map[string]any `json:"json"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(log.Requests))
	for i, r := range log.Requests {
		out[i] = r.JSON
	}
	return out
}

// lastUpstreamRequest is the last JSON body the fake upstream logged for scope.
func lastUpstreamRequest(t *testing.T, scope string) map[string]any {
	t.Helper()
	reqs := upstreamRequests(t, scope)
	if len(reqs) == 0 {
		t.Fatalf("no request logged for %s", scope)
	}
	return reqs[len(reqs)-1]
}

// asJSONValue turns v into what encoding/json decodes its JSON to (for DeepEqual with a log).
func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var weatherTool = FunctionTool("get_weather", "Current weather of a city",
	json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`))

func TestMessageJSONShape(t *testing.T) {
	cases := []struct {
		msg  Message
		want string
	}{
		{Message{Role: "user", Content: "hi"}, `{"role":"user","content":"hi"}`},
		{Message{Role: "user", Parts: []ContentPart{TextPart("what is it?"), ImagePart("https://x.test/a.png", "low")}},
			`{"role":"user","content":[{"type":"text","text":"what is it?"},{"type":"image_url","image_url":{"url":"https://x.test/a.png","detail":"low"}}]}`},
		{Message{Role: "user", Parts: []ContentPart{ImagePart("https://x.test/a.png", "")}},
			`{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]}`},
		{Message{Role: "assistant", ToolCalls: []ToolCall{{ID: "c1", Type: "function", Function: FunctionCall{Name: "f", Arguments: `{"a":1}`}}}},
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}`},
		{Message{Role: "tool", ToolCallID: "c1", Content: "sunny"}, `{"role":"tool","content":"sunny","tool_call_id":"c1"}`},
	}
	for _, c := range cases {
		if got := mustJSON(t, c.msg); got != c.want {
			t.Errorf("marshal:\n got %s\nwant %s", got, c.want)
		}
		var back Message
		if err := json.Unmarshal([]byte(c.want), &back); err != nil || !reflect.DeepEqual(back, c.msg) {
			t.Errorf("unmarshal %s: %+v (%v)", c.want, back, err)
		}
	}
	if _, err := json.Marshal(Message{Role: "user", Content: "a", Parts: []ContentPart{TextPart("b")}}); err == nil ||
		!strings.Contains(err.Error(), "both Content and Parts") {
		t.Fatalf("Content and Parts together: %v", err)
	}

	// A response message: content null beside tool calls, a refusal; it writes back the same.
	answer := `{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}],"refusal":"no"}`
	var rm ResponseMessage
	if err := json.Unmarshal([]byte(answer), &rm); err != nil || rm.Content != "" || rm.Refusal != "no" ||
		len(rm.ToolCalls) != 1 || rm.ToolCalls[0].Function.Name != "f" {
		t.Fatalf("response message %+v (%v)", rm, err)
	}
	if got := asJSONValue(t, rm); !reflect.DeepEqual(got, asJSONValue(t, json.RawMessage(answer))) {
		t.Fatalf("response message written back as %v", got)
	}

	choices := map[string]*ToolChoice{`"auto"`: ToolChoiceAuto, `"none"`: ToolChoiceNone, `"required"`: ToolChoiceRequired,
		`{"type":"function","function":{"name":"get_weather"}}`: ToolChoiceFunction("get_weather")}
	for want, c := range choices {
		if got := mustJSON(t, c); got != want {
			t.Errorf("tool_choice %s, want %s", got, want)
		}
		var back ToolChoice
		if err := json.Unmarshal([]byte(want), &back); err != nil || back != *c {
			t.Errorf("tool_choice back %+v (%v)", back, err)
		}
	}
}

func TestToolCallAccumulator(t *testing.T) {
	var a ToolCallAccumulator
	a.Add([]ToolCallDelta{{Index: 0, ID: "c0", Type: "function", Name: "f", Arguments: `{"a":`}})
	a.Add([]ToolCallDelta{{Index: 1, ID: "c1", Type: "function", Name: "g"}, {Index: 0, Name: "f", Arguments: "1}"}})
	a.Add([]ToolCallDelta{{Index: 1, Arguments: "{}"}})
	a.Add([]ToolCallDelta{{Index: -1, Arguments: " "}}) // no index: the call opened last
	want := []ToolCall{
		{ID: "c0", Type: "function", Function: FunctionCall{Name: "f", Arguments: `{"a":1}`}},
		{ID: "c1", Type: "function", Function: FunctionCall{Name: "g", Arguments: "{} "}},
	}
	if !reflect.DeepEqual(a.Calls(), want) {
		t.Fatalf("calls %+v", a.Calls())
	}
}

func TestTypedRequestReachesUpstreamInOpenAIShape(t *testing.T) {
	control(t, "gotyped/reset", map[string]any{})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gotyped")+`"}]}`)
	req := ChatRequest{
		Model: "fake-small",
		Messages: []Message{
			{Role: "system", Content: "be brief"},
			{Role: "user", Parts: []ContentPart{TextPart("what is in this picture?"),
				ImagePart("data:image/png;base64,iVBORw0KGgo=", "high")}},
		},
		MaxTokens:        50,
		Temperature:      Ptr(0.25),
		TopP:             Ptr(0.5),
		Stop:             []string{"END"},
		Seed:             Ptr[int64](7),
		PresencePenalty:  Ptr(0.0),
		FrequencyPenalty: Ptr(0.5),
		ResponseFormat: &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchemaFormat{Name: "answer",
			Schema: map[string]any{"type": "object"}, Strict: Ptr(true)}},
	}
	resp, err := r.CompleteRequest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Content() != "echo: what is in this picture?" || resp.Provider != "up" || resp.Choices[0].FinishReason != "stop" ||
		resp.Usage.TotalTokens == 0 || len(resp.Attempts) != 1 || resp.Attempts[0].Outcome != "ok" {
		t.Fatalf("response %s", resp.Raw)
	}
	got := lastUpstreamRequest(t, "gotyped")
	wantContent := []any{
		map[string]any{"type": "text", "text": "what is in this picture?"},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
	}
	messages, _ := got["messages"].([]any)
	if len(messages) != 2 || !reflect.DeepEqual(messages[1].(map[string]any)["content"], wantContent) {
		t.Fatalf("upstream messages %v", got["messages"])
	}
	want := map[string]any{"temperature": 0.25, "top_p": 0.5, "stop": []any{"END"}, "seed": 7.0, "max_tokens": 50.0,
		"presence_penalty": 0.0, "frequency_penalty": 0.5,
		"response_format": asJSONValue(t, req.ResponseFormat)}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("upstream %s = %#v, want %#v", k, got[k], v)
		}
	}
}

func TestTypedToolCallsCompleteAndStream(t *testing.T) {
	control(t, "gotools/reset", map[string]any{})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase("gotools")+`"}]}`)
	req := ChatRequest{Model: "fake-small", Messages: []Message{{Role: "user", Content: "weather in Paris?"}},
		Tools: []Tool{weatherTool}, ToolChoice: ToolChoiceAuto}

	resp, err := r.CompleteRequest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := []ToolCall{{ID: "call_fake_1", Type: "function", Function: FunctionCall{Name: "get_weather", Arguments: `{"city": "Paris"}`}}}
	if !reflect.DeepEqual(resp.ToolCalls(), want) || resp.Choices[0].FinishReason != "tool_calls" || resp.Content() != "" {
		t.Fatalf("complete tool calls %+v in %s", resp.ToolCalls(), resp.Raw)
	}
	var args struct{ City string }
	if err := json.Unmarshal([]byte(resp.ToolCalls()[0].Function.Arguments), &args); err != nil || args.City != "Paris" {
		t.Fatalf("arguments %q (%v)", resp.ToolCalls()[0].Function.Arguments, err)
	}
	sent := lastUpstreamRequest(t, "gotools")
	if !reflect.DeepEqual(sent["tools"], asJSONValue(t, []Tool{weatherTool})) || sent["tool_choice"] != "auto" {
		t.Fatalf("upstream tools %v, tool_choice %v", sent["tools"], sent["tool_choice"])
	}

	// The second turn replays the call and answers it: OpenAI's assistant (content null) and
	// tool messages reach the upstream.
	turn2 := req
	turn2.Messages = append(append([]Message(nil), req.Messages...),
		Message{Role: "assistant", ToolCalls: resp.ToolCalls()},
		Message{Role: "tool", ToolCallID: "call_fake_1", Content: "sunny"})
	turn2.ToolChoice = ToolChoiceNone
	if _, err := r.CompleteRequest(context.Background(), turn2); err != nil {
		t.Fatal(err)
	}
	sent = lastUpstreamRequest(t, "gotools")
	msgs, _ := sent["messages"].([]any)
	if len(msgs) != 3 || !reflect.DeepEqual(msgs[1], asJSONValue(t, turn2.Messages[1])) ||
		!reflect.DeepEqual(msgs[2], asJSONValue(t, turn2.Messages[2])) || sent["tool_choice"] != "none" {
		t.Fatalf("second turn sent %v", sent)
	}
	if m1 := msgs[1].(map[string]any); m1["content"] != nil || m1["tool_calls"] == nil {
		t.Fatalf("assistant message sent as %v", m1)
	}

	// Streamed: the pieces arrive typed, join to the same call, and the done response's
	// calls are typed too.
	s, err := r.StreamRequest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var name, id, arguments strings.Builder
	var joined ToolCallAccumulator
	pieces := 0
	for ev := range s.Events() {
		for _, d := range ev.ToolCallDeltas {
			if d.Index != 0 {
				t.Fatalf("delta index %d", d.Index)
			}
			name.WriteString(d.Name)
			id.WriteString(d.ID)
			arguments.WriteString(d.Arguments)
			pieces++
		}
		joined.Add(ev.ToolCallDeltas)
	}
	if name.String() != "get_weather" || id.String() != "call_fake_1" || arguments.String() != `{"city": "Paris"}` || pieces < 2 {
		t.Fatalf("streamed call %q %q %q in %d pieces", name.String(), id.String(), arguments.String(), pieces)
	}
	if !reflect.DeepEqual(joined.Calls(), want) {
		t.Fatalf("accumulated %+v", joined.Calls())
	}
	done, err := s.WaitResponse()
	if err != nil || !reflect.DeepEqual(done.ToolCalls(), want) {
		t.Fatalf("stream done %+v (%v)", done, err)
	}
}

func TestTypedEmbedModelsHealthStats(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock","models":["mini"]},
	  {"name":"down","type":"openai-compatible","base_url":"http://127.0.0.1:9/v1"}],
	  "pricing":{"m/mini":{"input_per_mtok":1.0,"output_per_mtok":2.0}}}`)
	ctx := context.Background()
	emb, err := r.EmbedRequest(ctx, EmbeddingRequest{Model: "mini", Input: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Data) != 2 || emb.Data[1].Index != 1 || len(emb.Data[0].Embedding) != 8 || emb.Provider != "m" ||
		emb.Usage.CostUSD == nil || *emb.Usage.CostUSD <= 0 || len(emb.Attempts) != 1 {
		t.Fatalf("embeddings %s", emb.Raw)
	}
	if _, err := r.CompleteRequest(ctx, ChatRequest{Model: "mini", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	models, err := r.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(models.Data) != 1 || models.Data[0].ID != "m/mini" || models.Data[0].Provider != "m" || models.Data[0].Model != "mini" ||
		len(models.Errors) != 1 || models.Errors[0].Provider != "down" || models.Errors[0].StatusName != "PMX_ERR_CONNECTION" {
		t.Fatalf("models %s", models.Raw)
	}
	health, err := r.CheckHealth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(health.Providers) != 2 || !health.Providers[0].Healthy || health.Providers[0].Circuits["mini"].State != "closed" ||
		health.Providers[1].Healthy || health.Providers[1].ErrorClass != "network" {
		t.Fatalf("health %s", health.Raw)
	}
	stats, err := r.StatsReport(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Requests != 2 || stats.Successes != 2 || len(stats.Providers) != 2 || stats.Providers[0].Name != "m" ||
		len(stats.Providers[0].Models) != 1 || stats.Providers[0].Models[0].LatencyMs.P50 == nil || stats.CostUSD <= 0 {
		t.Fatalf("stats %s", stats.Raw)
	}
	if after, err := r.StatsReport(ctx, false); err != nil || after.Requests != 0 {
		t.Fatalf("stats after reset %+v (%v)", after, err)
	}
	text, err := r.StatsText(ctx, "prometheus", false)
	if err != nil || !strings.Contains(text, "pmx_") {
		t.Fatalf("prometheus %q (%v)", text, err)
	}
}

// isCancelled reports whether err is the binding's cancellation carrying cause.
func isCancelled(err, cause error) bool {
	return errors.Is(err, ErrCancelled) && errors.Is(err, cause)
}

func TestContextEndedRefusesEveryIOCall(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	msgs := []Message{{Role: "user", Content: "hi"}}
	calls := map[string]func() error{
		"Complete":        func() error { _, err := r.Complete(ctx, userRequest("hi")); return err },
		"CompleteRequest": func() error { _, err := r.CompleteRequest(ctx, ChatRequest{Messages: msgs}); return err },
		"Stream":          func() error { _, err := r.Stream(ctx, userRequest("hi")); return err },
		"StreamRequest":   func() error { _, err := r.StreamRequest(ctx, ChatRequest{Messages: msgs}); return err },
		"EmbedJSON":       func() error { _, err := r.EmbedJSON(ctx, `{"input":"a"}`); return err },
		"EmbedRequest":    func() error { _, err := r.EmbedRequest(ctx, EmbeddingRequest{Input: []string{"a"}}); return err },
		"ModelsJSON":      func() error { _, err := r.ModelsJSON(ctx); return err },
		"ListModels":      func() error { _, err := r.ListModels(ctx); return err },
		"HealthJSON":      func() error { _, err := r.HealthJSON(ctx); return err },
		"CheckHealth":     func() error { _, err := r.CheckHealth(ctx); return err },
		"StatsText":       func() error { _, err := r.StatsText(ctx, "json", false); return err },
		"StatsReport":     func() error { _, err := r.StatsReport(ctx, false); return err },
	}
	for name, call := range calls {
		if err := call(); !isCancelled(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
	}
	// Nothing ran: the router counted no request.
	if stats, err := r.StatsReport(context.Background(), false); err != nil || stats.Requests != 0 {
		t.Fatalf("stats %+v (%v)", stats, err)
	}
}

// waitUpstreamRequests waits until the fake upstream logged n requests for scope.
func waitUpstreamRequests(t *testing.T, scope string, n int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if len(upstreamRequests(t, scope)) >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: fewer than %d upstream requests", scope, n)
}

// TestContextCancelsBlockingCalls: the upstream never answers (and the router's timeouts are
// long); each blocking call returns once its context is cancelled or its deadline passes.
func TestContextCancelsBlockingCalls(t *testing.T) {
	const scope = "gohang"
	control(t, scope+"/reset", map[string]any{})
	control(t, scope+"/script", map[string]any{"entries": []any{map[string]any{"hang": true, "times": 100}}})
	defer control(t, scope+"/reset", map[string]any{})
	r := newRouter(t, `{"providers":[{"name":"up","type":"openai-compatible","base_url":"`+upstreamBase(scope)+`",
	  "retry":{"max_attempts":1},"timeouts":{"total_ms":6000,"health_ms":6000}}]}`)

	cancelAfterRequest := func(name string, call func(ctx context.Context) error) {
		before := len(upstreamRequests(t, scope))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		result := make(chan error, 1)
		go func() { result <- call(ctx) }()
		waitUpstreamRequests(t, scope, before+1) // the call is now waiting on the upstream
		cancel()
		if err := <-result; !isCancelled(err, context.Canceled) {
			t.Errorf("%s cancelled mid-call: %v", name, err)
		}
	}
	cancelAfterRequest("ModelsJSON", func(ctx context.Context) error { _, err := r.ModelsJSON(ctx); return err })
	cancelAfterRequest("CheckHealth", func(ctx context.Context) error { _, err := r.CheckHealth(ctx); return err })
	cancelAfterRequest("EmbedJSON", func(ctx context.Context) error {
		_, err := r.EmbedJSON(ctx, `{"model":"fake-embed","input":"a"}`)
		return err
	})
	cancelAfterRequest("CompleteRequest", func(ctx context.Context) error {
		_, err := r.CompleteRequest(ctx, ChatRequest{Model: "fake-small", Messages: []Message{{Role: "user", Content: "hi"}}})
		return err
	})

	// A deadline: the typed embeddings call also sends it as route.timeout_ms.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := r.EmbedRequest(ctx, EmbeddingRequest{Model: "fake-embed", Input: []string{"a"}})
	if !isCancelled(err, context.DeadlineExceeded) {
		t.Fatalf("EmbedRequest past its deadline: %v", err)
	}
}
