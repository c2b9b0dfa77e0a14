// Package providermux is the Go binding of libprovidermux, an in-process router for LLM
// providers (OpenAI-compatible servers, local servers, a mock), over its C ABI with cgo.
//
// The library is found with pkg-config (`providermux.pc` from an installed prefix):
//
//	PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig CGO_LDFLAGS=-Wl,-rpath,$PREFIX/lib go build
//
// Every JSON document (config, request, response, event) is the library's own vocabulary
// (docs/VOCABULARY.md of the repository); this package passes strings through unchanged and
// adds small typed conveniences (ChatRequest, ChatResponse, Event, Error).
//
// A Router is safe for concurrent use. Requests (Complete, Stream) take a context.Context:
// cancelling it cancels the request in the library (pmx_stream_cancel), which then ends with
// an Error whose code is CodeCancelled.
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
	"runtime"
	"strconv"
	"sync"
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

// Embed computes embeddings: request {"model": ..., "input": "text" | ["a", "b"]}; returns an
// OpenAI embeddings list plus "provider" and "attempts". Blocks (not cancellable).
func (r *Router) Embed(requestJSON string) (string, error) {
	cs := C.CString(requestJSON)
	defer C.free(unsafe.Pointer(cs))
	ptr, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.release()
	var out *C.char
	var cerr C.pmx_error
	rc := C.pmx_router_embed(&out, ptr, cs, &cerr)
	text := takeString(out)
	if rc != 0 {
		return "", newError(rc, &cerr)
	}
	return text, nil
}

// Models lists the models of every provider (JSON). Blocks.
func (r *Router) Models() (string, error) {
	return r.callOut(func(out **C.char, ptr *C.pmx_router, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_models(out, ptr, cerr)
	})
}

// Health probes every provider now and reports their state (JSON). Blocks up to the health
// timeout.
func (r *Router) Health() (string, error) {
	return r.callOut(func(out **C.char, ptr *C.pmx_router, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_health(out, ptr, cerr)
	})
}

// Stats returns usage statistics since the router was created (or last reset). format is
// "json" (or "") or "prometheus" (text exposition 0.0.4); reset zeroes the counters right
// after this snapshot.
func (r *Router) Stats(format string, reset bool) (string, error) {
	if format == "" {
		format = "json"
	}
	opts := `{"format":` + jsonString(format) + `,"reset":` + strconv.FormatBool(reset) + `}`
	cs := C.CString(opts)
	defer C.free(unsafe.Pointer(cs))
	return r.callOut(func(out **C.char, ptr *C.pmx_router, cerr *C.pmx_error) C.pmx_status {
		return C.pmx_router_stats_ex(out, ptr, cs, cerr)
	})
}

func (r *Router) callOut(fn func(out **C.char, ptr *C.pmx_router, cerr *C.pmx_error) C.pmx_status) (string, error) {
	ptr, err := r.acquire()
	if err != nil {
		return "", err
	}
	defer r.release()
	var out *C.char
	var cerr C.pmx_error
	rc := fn(&out, ptr, &cerr)
	text := takeString(out)
	if rc != 0 {
		return "", newError(rc, &cerr)
	}
	return text, nil
}
