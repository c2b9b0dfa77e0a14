// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

func ollamaRouter(t *testing.T, scope string) *Router {
	t.Helper()
	control(t, scope+"/reset", map[string]any{})
	return newRouter(t, fmt.Sprintf(`{"providers":[{"name":"local","type":"ollama","base_url":"http://127.0.0.1:%d/%s"},
	  {"name":"mock","type":"mock"}],"retry":{"initial_backoff_ms":10}}`, upstreamPort, scope))
}

func TestModelManagementTyped(t *testing.T) {
	r := ollamaRouter(t, "gomm")
	ctx := context.Background()
	var progress []PullProgress
	res, err := r.PullModel(ctx, "local", "qwen2.5", func(p PullProgress) { progress = append(progress, p) })
	if err != nil || *res != (ModelActionResult{Provider: "local", Model: "qwen2.5", Status: "success"}) {
		t.Fatalf("pull %+v (%v)", res, err)
	}
	sawBytes := false
	for _, p := range progress {
		if p.Type != "progress" || p.Status == "" {
			t.Fatalf("progress event %+v", p)
		}
		sawBytes = sawBytes || (p.Total > 0 && p.Completed >= 0 && p.Digest != "")
	}
	if len(progress) < 3 || !sawBytes {
		t.Fatalf("progress %+v", progress)
	}
	shown, err := r.ShowModel(ctx, "local", "qwen2.5")
	if err != nil || shown.ID != "local/qwen2.5" || shown.ContextLength <= 0 || !contains(shown.Capabilities, "chat") {
		t.Fatalf("show %+v (%v)", shown, err)
	}
	if _, err := r.CompleteRequest(ctx, ChatRequest{Model: "local/qwen2.5", Messages: []Message{{Role: "user", Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	loaded, err := r.LoadedModels(ctx, "local")
	if err != nil || len(loaded.Data) != 1 || loaded.Data[0].Model != "qwen2.5" {
		t.Fatalf("loaded %+v (%v)", loaded, err)
	}
	deleted, err := r.DeleteModel(ctx, "local", "qwen2.5")
	if err != nil || deleted.Status != "deleted" {
		t.Fatalf("delete %+v (%v)", deleted, err)
	}
	if _, err := r.DeleteModel(ctx, "local", "qwen2.5"); !errors.Is(err, ErrModelNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	if _, err := r.ShowModel(ctx, "mock", "m"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "mock") {
		t.Fatalf("show on mock: %v", err)
	}
	if _, err := r.ManageModelJSON(ctx, `{"action":"upgrade","provider":"local","model":"m"}`, nil); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("bad action: %v", err)
	}
}

// doneless is a context no goroutine can watch (Done is nil) whose Err turns non-nil on
// cancel: the pull can then only stop through the library, by the progress callback's answer.
type doneless struct {
	context.Context
	cancelled atomic.Bool
}

func (c *doneless) Done() <-chan struct{} { return nil }
func (c *doneless) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

func TestPullCancelledByContext(t *testing.T) {
	r := ollamaRouter(t, "gommcancel")
	control(t, "gommcancel/script", map[string]any{"entries": []any{map[string]any{"chunk_delay_ms": 200, "times": 2}}})

	// The library stops the pull: the callback answers "cancel" at the next progress event.
	ctx := &doneless{Context: context.Background()}
	events := 0
	_, err := r.PullModel(ctx, "local", "llama3.2", func(PullProgress) {
		events++
		ctx.cancelled.Store(true)
	})
	if !isCancelled(err, context.Canceled) || events != 1 {
		t.Fatalf("pull cancelled in its progress callback: %v after %d events", err, events)
	}

	// An ordinary context cancelled mid-pull: the call returns with the context's error.
	ctx2, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = r.PullModel(ctx2, "local", "llama3.2", func(PullProgress) { cancel() })
	if !isCancelled(err, context.Canceled) {
		t.Fatalf("pull with a cancelled context: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
