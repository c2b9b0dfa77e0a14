// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <providermux.h>
#include "bridge.h"
*/
import "C"

import (
	"encoding/json"
	"sync"
	"unsafe"
)

// RequestRecord is the per-request observer's record (pmx_router_set_observer): one per
// request, when it ends. Raw is the whole JSON object (include/providermux.h lists its keys).
type RequestRecord struct {
	RequestID      string          `json:"request_id"`
	Operation      string          `json:"operation"` // "chat.completions.create", "embeddings.create"
	Stream         bool            `json:"stream"`
	Metadata       json.RawMessage `json:"metadata"` // the request's "metadata" ("null" without one)
	Lane           string          `json:"lane"`
	ModelRequested string          `json:"model_requested"`
	Provider       string          `json:"provider"`
	ProviderType   string          `json:"provider_type"` // "openai", "anthropic", ...
	Model          string          `json:"model"`         // the model that answered
	Attempts       []Attempt       `json:"attempts"`
	LatencyMs      float64         `json:"latency_ms"`
	TTFTMs         *float64        `json:"ttft_ms"` // streams that produced output
	Usage          *Usage          `json:"usage"`
	CostUSD        *float64        `json:"cost_usd"`
	CacheHit       bool            `json:"cache_hit"`
	Status         string          `json:"status"` // "ok" or "error"
	Code           int32           `json:"code"`
	StatusName     string          `json:"status_name"`
	HTTPStatus     int             `json:"http_status"`
	ErrorClass     string          `json:"error_class"`
	Message        string          `json:"message"`
	StartedAt      float64         `json:"started_at"` // Unix seconds
	EndedAt        float64         `json:"ended_at"`
	Raw            json.RawMessage `json:"-"`
}

// OK reports whether the request succeeded.
func (r *RequestRecord) OK() bool { return r.Status == "ok" }

// Observers registered with the C library by number (Go memory never crosses into C).
var observers struct {
	sync.Mutex
	next uintptr
	fns  map[uintptr]func(RequestRecord)
}

// SetObserver sets the router's per-request observer: fn is called once per request when it
// ends (success, failure, cancellation, cache hit), before the call that ran it returns, on the
// router's I/O thread, one call at a time — keep it quick; blocking Router calls made from it
// fail with ErrWouldDeadlock. A panic in fn is recovered (it never unwinds into C). nil clears
// it; after SetObserver returns the previous fn is not called again. Requests started before an
// observer was set are not recorded. SlogObserver (Go 1.21+) bridges it to log/slog.
func (r *Router) SetObserver(fn func(RequestRecord)) error {
	ptr, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	var handle uintptr
	if fn != nil {
		observers.Lock()
		if observers.fns == nil {
			observers.fns = map[uintptr]func(RequestRecord){}
		}
		observers.next++
		handle = observers.next
		observers.fns[handle] = fn
		observers.Unlock()
	}
	var cerr C.pmx_error
	if rc := C.pmxgo_set_observer(ptr, C.uintptr_t(handle), &cerr); rc != 0 {
		forgetObserver(handle)
		return newError(rc, &cerr)
	}
	r.omu.Lock()
	old := r.observer
	r.observer = handle
	r.omu.Unlock()
	forgetObserver(old)
	return nil
}

func forgetObserver(handle uintptr) {
	if handle == 0 {
		return
	}
	observers.Lock()
	delete(observers.fns, handle)
	observers.Unlock()
}

//export pmxgoObserve
func pmxgoObserve(handle C.uintptr_t, record *C.char, n C.size_t) {
	observers.Lock()
	fn := observers.fns[uintptr(handle)]
	observers.Unlock()
	if fn == nil {
		return
	}
	raw := C.GoBytes(unsafe.Pointer(record), C.int(n)) // copied: the record is borrowed
	var rec RequestRecord
	if json.Unmarshal(raw, &rec) != nil {
		return
	}
	rec.Raw = raw
	defer func() { _ = recover() }() // a panic must not unwind into C
	fn(rec)
}

// recordAttrs is the record as the key/value pairs the slog bridge logs (kept apart from the
// log/slog file, which needs Go 1.21, so that Go 1.19 tests it).
func recordAttrs(r RequestRecord) []keyValue {
	kv := []keyValue{
		{"request_id", r.RequestID}, {"operation", r.Operation}, {"provider", r.Provider},
		{"model", r.Model}, {"status", r.Status}, {"latency_ms", r.LatencyMs}, {"attempts", len(r.Attempts)},
	}
	if r.Lane != "" {
		kv = append(kv, keyValue{"lane", r.Lane})
	}
	if r.TTFTMs != nil {
		kv = append(kv, keyValue{"ttft_ms", *r.TTFTMs})
	}
	if r.Usage != nil {
		kv = append(kv, keyValue{"prompt_tokens", r.Usage.PromptTokens}, keyValue{"completion_tokens", r.Usage.CompletionTokens},
			keyValue{"total_tokens", r.Usage.TotalTokens})
	}
	if r.CostUSD != nil {
		kv = append(kv, keyValue{"cost_usd", *r.CostUSD})
	}
	if r.CacheHit {
		kv = append(kv, keyValue{"cache_hit", true})
	}
	if !r.OK() {
		kv = append(kv, keyValue{"status_name", r.StatusName}, keyValue{"code", r.Code}, keyValue{"error", r.Message})
	}
	return kv
}

type keyValue struct {
	Key   string
	Value interface{}
}
