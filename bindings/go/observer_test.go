// SPDX-License-Identifier: Apache-2.0

package providermux

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// The per-request observer: one record per request before Complete returns (a retried and
// failed-over request lists its attempts), clearing, a panicking observer, and the attributes
// the slog bridge logs (the bridge itself needs Go 1.21: slog_observer.go).
func TestObserverRecords(t *testing.T) {
	control(t, "goobsa/reset", map[string]any{})
	control(t, "goobsb/reset", map[string]any{})
	r := newRouter(t, fmt.Sprintf(`{"providers":[
		{"name":"a","type":"openai-compatible","base_url":%q,"api_key":"sk-go-observer-SECRET-1234"},
		{"name":"b","type":"openai-compatible","base_url":%q,"api_key":"sk-go-observer-SECRET-1234"}],
		"retry":{"max_attempts":2,"initial_backoff_ms":10,"jitter":0}}`, upstreamBase("goobsa"), upstreamBase("goobsb")))
	var mu sync.Mutex
	var records []RequestRecord
	if err := r.SetObserver(func(rec RequestRecord) { mu.Lock(); records = append(records, rec); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	control(t, "goobsa/script", map[string]any{"entries": []any{map[string]any{"status": 429, "times": 100}}})
	out, err := r.Complete(context.Background(), `{"model":"fake-small","metadata":{"team":"go"},"messages":[{"role":"user","content":"hi"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(records) != 1 {
		t.Fatalf("records after Complete: %d, want 1", len(records))
	}
	rec := records[0]
	mu.Unlock()
	if !rec.OK() || rec.Provider != "b" || rec.ProviderType != "openai-compatible" || rec.RequestID == "" {
		t.Errorf("record: %+v", rec)
	}
	if !strings.Contains(out, `"request_id":"`+rec.RequestID+`"`) {
		t.Errorf("response lacks the record's request_id %q: %s", rec.RequestID, out)
	}
	var outcomes []string
	for _, a := range rec.Attempts {
		outcomes = append(outcomes, a.Provider+":"+a.Outcome)
	}
	if strings.Join(outcomes, ",") != "a:error,a:error,b:ok" {
		t.Errorf("attempts %v", outcomes)
	}
	if string(rec.Metadata) != `{"team":"go"}` || rec.Usage == nil || rec.Usage.TotalTokens == 0 {
		t.Errorf("metadata %s usage %+v", rec.Metadata, rec.Usage)
	}
	if strings.Contains(string(rec.Raw), "SECRET") {
		t.Errorf("the key in a record: %s", rec.Raw)
	}
	attrs := map[string]interface{}{}
	for _, kv := range recordAttrs(rec) {
		attrs[kv.Key] = kv.Value
	}
	if attrs["request_id"] != rec.RequestID || attrs["provider"] != "b" || attrs["attempts"] != 3 || attrs["status"] != "ok" {
		t.Errorf("slog attributes %v", attrs)
	}

	// A panicking observer does not disturb the request; cleared, nothing is called.
	if err := r.SetObserver(func(RequestRecord) { panic("observer bug") }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Complete(context.Background(), userRequest("still answered")); err != nil {
		t.Fatal(err)
	}
	if err := r.SetObserver(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Complete(context.Background(), userRequest("unobserved")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(records) != 1 {
		t.Errorf("records: %d, want 1", len(records))
	}
}
