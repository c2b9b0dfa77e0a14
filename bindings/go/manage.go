// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <stdlib.h>
#include <providermux.h>
#include "bridge.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
)

// PullProgress is one progress event of a model pull (Ollama's): Status ("pulling manifest",
// "downloading", "success", ...), and for a layer its Digest with Total and Completed bytes.
type PullProgress struct {
	Type      string `json:"type"` // "progress"
	Status    string `json:"status"`
	Digest    string `json:"digest,omitempty"`
	Total     int64  `json:"total,omitempty"`
	Completed int64  `json:"completed,omitempty"`
}

// ModelActionResult is the result of a pull or a delete.
type ModelActionResult struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Status   string `json:"status"` // "success", "deleted"
}

// ManageModelJSON manages models on a local server provider (type "ollama"; others answer
// ErrUnsupported): request {"action": "pull" | "delete" | "show" | "loaded", "provider": NAME,
// "model": MODEL (not for "loaded")}. onEvent (may be nil) receives a pull's progress events
// (JSON) on the goroutine that called. Cancelling ctx stops a pull at its next progress event
// (ErrCancelled, matching ctx.Err()); in any case the call returns at once, as EmbedJSON does.
func (r *Router) ManageModelJSON(ctx context.Context, requestJSON string, onEvent func(eventJSON string)) (string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	handle := registerManage(&manageState{ctx: ctx, onEvent: onEvent})
	text, err := r.callOut(ctx, requestJSON, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		defer unregisterManage(handle) // after the last event: the call has returned
		return C.pmxgo_model_manage(out, ptr, arg, C.uintptr_t(handle), cerr)
	})
	if err != nil {
		if cause := contextEnded(ctx); cause != nil {
			return "", cancelledError(cause) // the callback's cancel, reported as the context's
		}
	}
	return text, err
}

// PullModel downloads a model onto an Ollama provider; onProgress (may be nil) receives the
// progress on the calling goroutine. Cancelling ctx stops the pull (see ManageModelJSON).
func (r *Router) PullModel(ctx context.Context, provider, model string, onProgress func(PullProgress)) (*ModelActionResult, error) {
	var onEvent func(string)
	if onProgress != nil {
		onEvent = func(ev string) {
			var p PullProgress
			if json.Unmarshal([]byte(ev), &p) == nil {
				onProgress(p)
			}
		}
	}
	text, err := r.ManageModelJSON(ctx, manageRequest("pull", provider, model), onEvent)
	return decodeDocument(text, err, func(*ModelActionResult, json.RawMessage) {})
}

// DeleteModel deletes a model from an Ollama provider.
func (r *Router) DeleteModel(ctx context.Context, provider, model string) (*ModelActionResult, error) {
	text, err := r.ManageModelJSON(ctx, manageRequest("delete", provider, model), nil)
	return decodeDocument(text, err, func(*ModelActionResult, json.RawMessage) {})
}

// ShowModel describes one model of an Ollama provider (context length, capabilities, details).
func (r *Router) ShowModel(ctx context.Context, provider, model string) (*Model, error) {
	text, err := r.ManageModelJSON(ctx, manageRequest("show", provider, model), nil)
	return decodeDocument(text, err, func(*Model, json.RawMessage) {})
}

// LoadedModels lists the models an Ollama provider has in memory now.
func (r *Router) LoadedModels(ctx context.Context, provider string) (*ModelList, error) {
	text, err := r.ManageModelJSON(ctx, manageRequest("loaded", provider, ""), nil)
	return decodeDocument(text, err, func(v *ModelList, raw json.RawMessage) { v.Raw = raw })
}

func manageRequest(action, provider, model string) string {
	req := struct {
		Action   string `json:"action"`
		Provider string `json:"provider"`
		Model    string `json:"model,omitempty"`
	}{action, provider, model}
	b, _ := json.Marshal(req) // strings only: cannot fail
	return string(b)
}

// manageState is one model-management call's callback, found by its handle from C.
type manageState struct {
	ctx     context.Context
	onEvent func(string)
}

var (
	manageNext     uint64
	manageMu       sync.Mutex
	manageByHandle = map[uint64]*manageState{}
)

func registerManage(s *manageState) uint64 {
	h := atomic.AddUint64(&manageNext, 1)
	manageMu.Lock()
	manageByHandle[h] = s
	manageMu.Unlock()
	return h
}

func unregisterManage(h uint64) {
	manageMu.Lock()
	delete(manageByHandle, h)
	manageMu.Unlock()
}

//export pmxgoManageEvent
func pmxgoManageEvent(handle C.uintptr_t, event *C.char, n C.size_t) C.int32_t {
	manageMu.Lock()
	s := manageByHandle[uint64(handle)]
	manageMu.Unlock()
	if s == nil {
		return 0
	}
	if s.ctx.Err() != nil {
		return 1 // cancels the pull (PMX_ERR_CANCELLED)
	}
	if s.onEvent != nil {
		text := C.GoStringN(event, C.int(n)) // copied: the event is borrowed
		func() {
			defer func() { _ = recover() }() // a panic must not unwind into C
			s.onEvent(text)
		}()
	}
	return 0
}
