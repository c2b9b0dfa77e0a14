// SPDX-License-Identifier: Apache-2.0

// Package providermux is the Go binding of libprovidermux, an in-process router for LLM
// providers (OpenAI-compatible servers, local servers, a mock), over its C ABI with cgo.
//
// Import it as
//
//	import providermux "github.com/providermux/libprovidermux/bindings/go"
//
// (versions are the repository's tags bindings/go/vX.Y.Z). The library is found with
// pkg-config (providermux.pc of an installed prefix, whose Libs carry the rpath, so binaries
// start without LD_LIBRARY_PATH):
//
//	PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig go build
//
// Requests and responses are OpenAI's chat completion shape as structs (ChatRequest with
// Message content parts, Tools, ToolChoice, ResponseFormat; ChatResponse with typed ToolCalls;
// EmbeddingRequest, ModelList, HealthReport, Stats); the JSON-text calls (Complete, Stream,
// EmbedJSON, ...) pass the library's own vocabulary (docs/VOCABULARY.md) through unchanged.
//
// A Router is safe for concurrent use. Every call that does I/O takes a context.Context
// first: cancelling it cancels a completion or stream in the library (pmx_stream_cancel), which
// then ends with an Error whose code is CodeCancelled; embeddings, models and health return at
// once while the library call (which has no cancel) finishes in the background.
//
// Licensed under the Apache-2.0 license (LICENSE in this module, the same text as the
// repository's). The module's version is the library's (abi/abi.json of the repository,
// listed in its CHANGELOG.md); Version reports the loaded library's at run time.
package providermux

/*
#cgo pkg-config: providermux
#include <stdlib.h>
#include <providermux.h>
#include "bridge.h"
*/
import "C"

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// Log levels for SetLogCallback.
const (
	LogTrace = 0
	LogDebug = 1
	LogInfo  = 2
	LogWarn  = 3
	LogError = 4
)

// Version is the runtime version of the loaded library, e.g. "0.1.0".
func Version() string { return C.GoString(C.pmx_version_string()) }

// VersionNumber is the runtime version as MAJOR*10000 + MINOR*100 + PATCH.
func VersionNumber() int { return int(C.pmx_version_number()) }

// StatusName is the name of a status code, e.g. "PMX_ERR_TIMEOUT" ("PMX_UNKNOWN_STATUS" for
// codes the library does not know).
func StatusName(code int32) string { return C.GoString(C.pmx_status_name(C.pmx_status(code))) }

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

var (
	logMu sync.Mutex // serialises SetLogCallback
	logFn struct {
		sync.RWMutex
		fn func(level int, msg string)
	}
)

// SetLogCallback installs fn as the process-wide log callback (the library logs nothing by
// default); lines below minLevel are not produced. fn may be called from any thread, the
// routers' I/O threads included, never concurrently with itself: keep it quick and do not
// call SetLogCallback or Router.Close from it. SetLogCallback(nil, 0) stops logging.
func SetLogCallback(fn func(level int, msg string), minLevel int) {
	logMu.Lock()
	defer logMu.Unlock()
	if fn == nil {
		C.pmxgo_set_log(0, C.int32_t(minLevel)) // after this returns the callback is never called
		logFn.Lock()
		logFn.fn = nil
		logFn.Unlock()
		return
	}
	logFn.Lock()
	logFn.fn = fn
	logFn.Unlock()
	C.pmxgo_set_log(1, C.int32_t(minLevel))
}

//export pmxgoLog
func pmxgoLog(level C.int32_t, msg *C.char, n C.size_t) {
	logFn.RLock()
	fn := logFn.fn
	logFn.RUnlock()
	if fn == nil {
		return
	}
	text := C.GoStringN(msg, C.int(n)) // copied: the message is borrowed
	defer func() { _ = recover() }()   // a panic must not unwind into C
	fn(int(level), text)
}

// ---------------------------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------------------------

// Router is a router built from a config: providers, routing policy and one I/O thread.
// Safe for concurrent use. Close it when done (a finalizer closes a forgotten one).
type Router struct {
	// mu guards ptr: calls hold it shared while they use ptr, Close holds it exclusively.
	mu      sync.RWMutex
	ptr     *C.pmx_router
	streams map[*streamCore]struct{} // streams whose handle is not yet freed
	smu     sync.Mutex
	// observer is the handle of the SetObserver function in force (0: none); omu guards it.
	observer uintptr
	omu      sync.Mutex
}

// NewRouter creates a router from a router config JSON document.
func NewRouter(configJSON string) (*Router, error) {
	cfg := C.CString(configJSON)
	defer C.free(unsafe.Pointer(cfg))
	var out *C.pmx_router
	var cerr C.pmx_error
	if rc := C.pmx_router_new(&out, cfg, &cerr); rc != 0 {
		return nil, newError(rc, &cerr)
	}
	r := &Router{ptr: out, streams: make(map[*streamCore]struct{})}
	runtime.SetFinalizer(r, (*Router).Close)
	return r, nil
}

// Close frees the router. Streams still running are cancelled and receive their terminal
// event; blocking calls in other goroutines are waited for. Idempotent; always returns nil.
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr == nil {
		return nil
	}
	runtime.SetFinalizer(r, nil)
	r.smu.Lock()
	cores := make([]*streamCore, 0, len(r.streams))
	for c := range r.streams {
		cores = append(cores, c)
	}
	r.streams = map[*streamCore]struct{}{}
	r.smu.Unlock()
	// No stream handle may outlive its router: cancel them all, then take each one's events
	// up to its terminal one (still readable by Next afterwards) and free it.
	for _, c := range cores {
		c.requestCancel()
	}
	for _, c := range cores {
		c.drainAndFree(closeWait)
	}
	C.pmx_router_free(r.ptr)
	r.ptr = nil
	r.omu.Lock()
	forgetObserver(r.observer) // the library calls it no more
	r.observer = 0
	r.omu.Unlock()
	return nil
}

// acquire returns the router pointer with r.mu held shared; call release when done.
func (r *Router) acquire() (*C.pmx_router, error) {
	r.mu.RLock()
	if r.ptr == nil {
		r.mu.RUnlock()
		return nil, routerClosedError()
	}
	return r.ptr, nil
}

func (r *Router) release() { r.mu.RUnlock() }

func (r *Router) track(c *streamCore) {
	r.smu.Lock()
	r.streams[c] = struct{}{}
	r.smu.Unlock()
}

func (r *Router) untrack(c *streamCore) {
	r.smu.Lock()
	delete(r.streams, c)
	r.smu.Unlock()
}

// AddProvider adds a provider (one entry of the config's "providers", as JSON); it serves new
// requests after the providers already there.
func (r *Router) AddProvider(providerJSON string) error {
	cs := C.CString(providerJSON)
	defer C.free(unsafe.Pointer(cs))
	var prov *C.pmx_provider
	var cerr C.pmx_error
	if rc := C.pmx_provider_new(&prov, cs, &cerr); rc != 0 {
		return newError(rc, &cerr)
	}
	defer C.pmx_provider_free(prov) // the router keeps its own reference
	ptr, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	if rc := C.pmx_router_add_provider(ptr, prov, &cerr); rc != 0 {
		return newError(rc, &cerr)
	}
	return nil
}

// RemoveProvider removes the provider called name; requests already running on it finish.
func (r *Router) RemoveProvider(name string) error {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	ptr, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	var cerr C.pmx_error
	if rc := C.pmx_router_remove_provider(ptr, cs, &cerr); rc != 0 {
		return newError(rc, &cerr)
	}
	return nil
}

// UpdateRouting replaces the config's "routing" section (the JSON object that goes under
// "routing") while requests run; on any error nothing changes.
func (r *Router) UpdateRouting(routingJSON string) error {
	cs := C.CString(routingJSON)
	defer C.free(unsafe.Pointer(cs))
	ptr, err := r.acquire()
	if err != nil {
		return err
	}
	defer r.release()
	var cerr C.pmx_error
	if rc := C.pmx_router_update_routing(ptr, cs, &cerr); rc != 0 {
		return newError(rc, &cerr)
	}
	return nil
}

// takeString copies a library-owned string into Go memory and frees it.
func takeString(s *C.char) string {
	if s == nil {
		return ""
	}
	defer C.pmx_string_free(s)
	return C.GoString(s)
}

// EmbedJSON computes embeddings: request {"model": ..., "input": "text" | ["a", "b"]}; returns
// an OpenAI embeddings list plus "provider" and "attempts" (EmbedRequest is the typed form).
// The library call blocks and has no cancel of its own: when ctx ends first, EmbedJSON
// returns at once with an *Error (CodeCancelled) matching ctx.Err(), and the call finishes in
// the background (bounded by the router's timeouts; its result is dropped; Router.Close waits
// for it).
func (r *Router) EmbedJSON(ctx context.Context, requestJSON string) (string, error) {
	return r.callOut(ctx, requestJSON, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_embed(out, ptr, arg, cerr)
	})
}

// ModelsJSON lists the models of every provider (JSON; ListModels is the typed form). It
// blocks up to about one health timeout per 64 providers; cancelling ctx returns at once as
// for EmbedJSON.
func (r *Router) ModelsJSON(ctx context.Context) (string, error) {
	return r.callOut(ctx, "", func(out **C.char, ptr *C.pmx_router, _ *C.char, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_models(out, ptr, cerr)
	})
}

// ModelsQueryJSON is ModelsJSON filtered (pmx_router_models_query): search keeps the models
// whose id contains it (ASCII case ignored), provider lists that provider's models only and asks
// no other; an empty string leaves that filter out. An unknown provider is ErrProviderNotFound.
func (r *Router) ModelsQueryJSON(ctx context.Context, search, provider string) (string, error) {
	query := "{"
	if search != "" {
		query += `"search":` + jsonString(search)
	}
	if provider != "" {
		if search != "" {
			query += ","
		}
		query += `"provider":` + jsonString(provider)
	}
	query += "}"
	return r.callOut(ctx, query, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_models_query(out, ptr, arg, cerr)
	})
}

// HealthJSON probes every provider now and reports their state (JSON; CheckHealth is the
// typed form). It blocks up to about one health timeout per 64 providers; cancelling ctx
// returns at once as for EmbedJSON.
func (r *Router) HealthJSON(ctx context.Context) (string, error) {
	return r.callOut(ctx, "", func(out **C.char, ptr *C.pmx_router, _ *C.char, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_health(out, ptr, cerr)
	})
}

// StatsText returns usage statistics since the router was created (or last reset). format
// is "json" (or "") or "prometheus" (text exposition 0.0.4); reset zeroes the counters right
// after this snapshot. It does not wait for I/O; a ctx already ended refuses the call.
func (r *Router) StatsText(ctx context.Context, format string, reset bool) (string, error) {
	if format == "" {
		format = "json"
	}
	opts := `{"format":` + jsonString(format) + `,"reset":` + strconv.FormatBool(reset) + `}`
	return r.callOut(ctx, opts, func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_stats_ex(out, ptr, arg, cerr)
	})
}

// Embed is EmbedJSON without a context.
//
// Deprecated: use EmbedRequest (typed) or EmbedJSON (a context, JSON text); kept for existing
// callers.
func (r *Router) Embed(requestJSON string) (string, error) {
	return r.EmbedJSON(context.Background(), requestJSON)
}

// Models is ModelsJSON without a context.
//
// Deprecated: use ListModels (typed) or ModelsJSON; kept for existing callers.
func (r *Router) Models() (string, error) { return r.ModelsJSON(context.Background()) }

// Health is HealthJSON without a context.
//
// Deprecated: use CheckHealth (typed) or HealthJSON; kept for existing callers.
func (r *Router) Health() (string, error) { return r.HealthJSON(context.Background()) }

// Stats is StatsText without a context.
//
// Deprecated: use StatsReport (typed) or StatsText; kept for existing callers.
func (r *Router) Stats(format string, reset bool) (string, error) {
	return r.StatsText(context.Background(), format, reset)
}

// outCall is one blocking library call writing a string to out; arg is the call's C string
// argument (NULL when the call takes none).
type outCall func(out **C.char, ptr *C.pmx_router, arg *C.char, cerr *C.pmx_error) C.pmx_status

// callOut runs fn and returns its string. These library calls cannot be cancelled, so with a
// context that can end, fn runs on its own goroutine and callOut returns ctx's error as soon
// as ctx ends; that goroutine still finishes the call (holding the router shared, so
// Router.Close waits for it) and frees what it returns. arg ("" = none) is copied to C memory
// owned by that goroutine, never freed while the call may use it.
func (r *Router) callOut(ctx context.Context, arg string, fn outCall) (string, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return "", cancelledError(err)
	}
	if ctx.Done() == nil {
		return r.callOutNow(arg, fn)
	}
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1) // buffered: the goroutine never blocks on an abandoned call
	go func() {
		text, err := r.callOutNow(arg, fn)
		done <- result{text, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			if cause := contextEnded(ctx); cause != nil {
				// The call failed because the context's deadline ran out (EmbedRequest sends it
				// as route.timeout_ms): report it as the context's, as Complete does.
				return "", cancelledError(cause)
			}
		}
		return res.text, res.err
	case <-ctx.Done():
		return "", cancelledError(ctx.Err())
	}
}

// contextEnded is ctx's error, or DeadlineExceeded once its deadline has passed even if its
// timer has not fired yet; nil while ctx runs.
func contextEnded(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (r *Router) callOutNow(arg string, fn outCall) (string, error) {
	var carg *C.char
	if arg != "" {
		carg = C.CString(arg)
		defer C.free(unsafe.Pointer(carg))
	}
	ptr, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.release()
	var out *C.char
	var cerr C.pmx_error
	rc := fn(&out, ptr, carg, &cerr)
	text := takeString(out)
	if rc != 0 {
		return "", newError(rc, &cerr)
	}
	return text, nil
}
