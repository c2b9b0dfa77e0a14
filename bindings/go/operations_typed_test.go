// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCompleteTextTyped(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"}]}`)
	c, err := r.CompleteText(context.Background(), TextCompletionRequest{Model: "m/x", Prompt: "def f(", Suffix: "pass",
		Extra: map[string]any{"echo": false}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != "text_completion" || c.Provider != "m" || c.Text() != "mock: def f( … pass" || len(c.Raw) == 0 {
		t.Fatalf("completion %+v", c)
	}
	if c.Usage.TotalTokens == 0 || len(c.Attempts) != 1 || c.Attempts[0].Outcome != "ok" {
		t.Fatalf("usage/attempts %+v", c)
	}
	// A typed field the router reads is checked: a bad value is an invalid request naming it.
	negative := -1
	_, err = r.CompleteText(context.Background(), TextCompletionRequest{Prompt: "x", MaxTokens: &negative})
	if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "max_tokens") {
		t.Fatalf("max_tokens -1: %v", err)
	}
}

// Gemini image output through the fake upstream's generateContent (IMAGE modality).
func TestGenerateImageTyped(t *testing.T) {
	r := newRouter(t, fmt.Sprintf(`{"providers":[{"name":"gm","type":"gemini","base_url":"http://127.0.0.1:%d/gotypedimg","api_key":"k"}],
	  "pricing":{"gm/*":{"input_per_mtok":1,"output_per_mtok":30}}}`, upstreamPort))
	img, err := r.GenerateImage(context.Background(), ImageRequest{Model: "gm/gemini-2.5-flash-image", Prompt: "a red fox", Size: "1024x1024"})
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Data) != 1 || img.OutputFormat != "png" || img.Provider != "gm" {
		t.Fatalf("images %+v", img)
	}
	png, err := base64.StdEncoding.DecodeString(img.Data[0].B64JSON)
	if err != nil || string(png) != "\x89PNG\r\n\x1a\na red fox|1:1|0" {
		t.Fatalf("image bytes %q %v", png, err)
	}
	if img.Usage == nil || img.Usage.OutputTokens != 1294 || img.Usage.CompletionTokens != 1294 || img.Usage.CostUSD == nil {
		t.Fatalf("usage %+v", img.Usage)
	}
	_, err = r.GenerateImage(context.Background(), ImageRequest{Model: "gm/gemini-2.5-flash-image", Prompt: "x", ResponseFormat: "url"})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("url from gemini: %v", err)
	}
}

// Mistral's moderation shape through the fake upstream, read as OpenAI's.
func TestModerateTyped(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"mi","type":"mistral","base_url":"`+upstreamBase("gotypedmod")+`","api_key":"k"}]}`)
	m, err := r.Moderate(context.Background(), ModerationRequest{Model: "mi/mistral-moderation-latest",
		Input: []string{"hello", "I will kill it"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != 2 || m.Results[0].Flagged || !m.Results[1].Flagged || m.Provider != "mi" {
		t.Fatalf("moderation %s", m.Raw)
	}
	hot := m.Results[1]
	if !hot.Categories["violence"] || !hot.Categories["violence_and_threats"] || hot.CategoryScores["violence"] != 0.93 ||
		len(hot.CategoryAppliedInputTypes["violence"]) != 1 {
		t.Fatalf("categories %+v", hot)
	}
}

func TestRerankTyped(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"}]}`)
	top := 2
	rr, err := r.Rerank(context.Background(), RerankRequest{Model: "m/r", Query: "red fox",
		Documents: []string{"blue sky", "a red fox", "red"}, TopN: &top})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Results) != 2 || rr.Results[0].Index != 1 || rr.Results[0].RelevanceScore != 1 || rr.Results[1].Index != 2 {
		t.Fatalf("rerank %s", rr.Raw)
	}
}

func TestCountTokensTyped(t *testing.T) {
	r := newRouter(t, `{"providers":[{"name":"m","type":"mock"},
	  {"name":"oa","type":"openai","base_url":"`+upstreamBase("gotypedcount")+`","api_key":"k","models":["gpt-x"]}]}`)
	n, err := r.CountTokens(context.Background(), TokenCountRequest{Model: "m/x", Input: "one two three"})
	if err != nil {
		t.Fatal(err)
	}
	if n.InputTokens != 3 || n.Estimated || n.Provider != "m" {
		t.Fatalf("mock count %s", n.Raw)
	}
	// openai has no counter: the router's estimate, nothing sent.
	est, err := r.CountTokens(context.Background(), TokenCountRequest{Model: "oa/gpt-x",
		Messages: []Message{{Role: "user", Content: "hello there"}}})
	if err != nil || !est.Estimated || est.InputTokens == 0 {
		t.Fatalf("estimate %+v %v", est, err)
	}
}
