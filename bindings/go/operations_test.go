// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCallCompletions(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"}],
	  "pricing":{"m/priced":{"input_per_mtok":1000000,"output_per_mtok":1000000}}}`)
	out, err := r.Call(context.Background(), OpCompletions, `{"model":"m/priced","prompt":"def f(","suffix":"pass"}`)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Object   string `json:"object"`
		Provider string `json:"provider"`
		Choices  []struct {
			Text string `json:"text"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int     `json:"total_tokens"`
			CostUSD     float64 `json:"cost_usd"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Object != "text_completion" || o.Provider != "m" || len(o.Choices) != 1 || o.Choices[0].Text != "mock: def f( … pass" {
		t.Fatalf("result %s", out)
	}
	if o.Usage.CostUSD != float64(o.Usage.TotalTokens) || o.Usage.TotalTokens == 0 {
		t.Fatalf("usage %s", out)
	}

	var text strings.Builder
	var last string
	done, err := r.CallStream(context.Background(), OpCompletions, `{"prompt":"a b"}`, func(ev string) {
		var e struct {
			Type    string `json:"type"`
			Content string `json:"content"`
		}
		_ = json.Unmarshal([]byte(ev), &e)
		text.WriteString(e.Content)
		last = e.Type
	})
	if err != nil || text.String() != "mock: a b" || last != "done" || !strings.Contains(done, `"text_completion"`) {
		t.Fatalf("stream: %v %q %q %s", err, text.String(), last, done)
	}

	_, err = r.Call(context.Background(), "completion.create", `{"prompt":"x"}`)
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), `"completions.create"`) {
		t.Fatalf("unknown operation: %v", err)
	}
	// The mock answers every operation but OpenRouter's own.
	_, err = r.Call(context.Background(), OpOpenRouterCredits, `{}`)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("openrouter.credits on the mock: %v", err)
	}
}

func TestCallResponses(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"}]}`)
	out, err := r.Call(context.Background(), OpResponses, `{"input":"one two","instructions":"be brief"}`)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Object string `json:"object"`
		Status string `json:"status"`
		Output []struct {
			Type    string `json:"type"`
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Object != "response" || o.Status != "completed" || len(o.Output) != 1 || o.Output[0].Content[0].Text != "mock: one two" {
		t.Fatalf("result %s", out)
	}
	var types []string
	var text strings.Builder
	_, err = r.CallStream(context.Background(), OpResponses, `{"input":"a b"}`, func(ev string) {
		var e struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
		}
		_ = json.Unmarshal([]byte(ev), &e)
		types = append(types, e.Type)
		if e.Type == "response.output_text.delta" {
			text.WriteString(e.Delta)
		}
	})
	// Our start, OpenAI's events (created ... completed), our usage and done.
	joined := strings.Join(types, " ")
	if err != nil || text.String() != "mock: a b" || !strings.HasPrefix(joined, "start response.created response.in_progress") ||
		!strings.HasSuffix(joined, "response.completed usage done") {
		t.Fatalf("stream: %v %q %v", err, text.String(), types)
	}
}
