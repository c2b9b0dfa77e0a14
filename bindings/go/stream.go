// SPDX-License-Identifier: Apache-2.0

package providermux

/*
#include <stdlib.h>
#include <providermux.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// StreamOption configures Router.Stream and Router.StreamRequest.
type StreamOption func(*streamConfig)

type streamConfig struct {
	flags C.uint32_t
}

// WithEventJSON fills Event.Raw for every event (the library then writes each event's JSON
// too); without it only done and error events carry Raw.
func WithEventJSON() StreamOption {
	return func(c *streamConfig) { c.flags |= C.PMX_NEXT_WITH_JSON }
}

// batchCapacity is the number of events one pmx_stream_next call takes at most.
const batchCapacity = 32

// liveHandles counts the library stream handles opened and not yet freed.
var liveHandles int64

// streamCore is the library stream behind a Stream. It never references the Stream, so an
// abandoned Stream can be collected (its finalizer then cancels and frees the handle).
//
// Events are pulled (pmx_stream_next, one cgo call per batch) by whichever goroutine needs
// the next one, converted to Go values at once (the views die at the next pull) and queued.
type streamCore struct {
	router *Router
	flags  C.uint32_t

	mu       sync.Mutex
	queue    []Event
	finished chan struct{} // closed when the terminal event has been pulled
	closed   chan struct{} // closed when the handle is freed
	terminal *Event

	cause atomic.Value // the context error behind a cancellation

	// pmu: one pull at a time (the library allows one reader per stream); it also keeps the
	// handle from being freed during a pull.
	pmu   sync.Mutex
	batch *C.pmx_event // C array of batchCapacity events, allocated on the first pull
	ended bool         // the terminal event was pulled (under pmu)

	hmu    sync.Mutex
	handle *C.pmx_stream // nil once freed
}

func (c *streamCore) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

func (c *streamCore) pop() (Event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return Event{}, false
	}
	ev := c.queue[0]
	c.queue[0] = Event{}
	c.queue = c.queue[1:]
	return ev, true
}

// pull takes one batch, waiting up to timeoutMs (-1: as long as it takes) for its first event.
// It returns false when nothing more can come (the terminal event was pulled or the handle is
// freed).
func (c *streamCore) pull(timeoutMs int32) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.pullLocked(timeoutMs)
}

func (c *streamCore) pullLocked(timeoutMs int32) bool {
	c.hmu.Lock()
	h := c.handle // stays valid: freeing takes pmu, which this goroutine holds
	c.hmu.Unlock()
	if h == nil || c.ended {
		return false
	}
	if c.batch == nil {
		c.batch = (*C.pmx_event)(C.malloc(C.size_t(batchCapacity) * C.sizeof_pmx_event))
	}
	var n C.size_t
	var cerr C.pmx_error
	rc := C.pmx_stream_next(c.batch, batchCapacity, C.sizeof_pmx_event, &n, h,
		C.int32_t(timeoutMs), c.flags, &cerr)
	if rc != 0 {
		// Not a failed request (that is an error event) but a refused call, e.g.
		// PMX_ERR_WOULD_DEADLOCK on a library I/O thread: it ends the stream.
		e := newError(rc, &cerr)
		c.push([]Event{{Type: "error", Code: e.Code, Message: e.Message, Err: e}})
		c.endLocked()
		return false
	}
	if n == 0 {
		return true
	}
	views := unsafe.Slice(c.batch, int(n))
	events := make([]Event, len(views))
	for i := range views {
		events[i] = eventFromView(&views[i])
	}
	last := &events[len(events)-1]
	if last.Type == "error" && last.Code == CodeCancelled {
		if cause, _ := c.cause.Load().(error); cause != nil {
			last.Err.(*Error).cause = cause
		}
	}
	c.push(events)
	if last.Terminal() {
		c.endLocked() // everything is copied: the handle is not needed any more
		return false
	}
	return true
}

func (c *streamCore) push(events []Event) {
	c.mu.Lock()
	c.queue = append(c.queue, events...)
	if last := events[len(events)-1]; last.Terminal() && c.terminal == nil {
		c.terminal = &last
		close(c.finished)
	}
	c.mu.Unlock()
}

// endLocked marks the stream ended and frees the handle (pmu held).
func (c *streamCore) endLocked() {
	c.ended = true
	c.freeLocked()
}

// requestCancel asks the library to cancel (idempotent, a no-op after the terminal event).
// Any goroutine, also while another one waits in a pull.
func (c *streamCore) requestCancel() {
	c.hmu.Lock()
	if c.handle != nil {
		C.pmx_stream_cancel(c.handle)
	}
	c.hmu.Unlock()
}

// drainAndFree cancels nothing by itself: it pulls (waiting at most wait in all) until the
// terminal event has come, queueing what arrives, then frees the handle.
func (c *streamCore) drainAndFree(wait time.Duration) {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	deadline := time.Now().Add(wait)
	for !c.ended {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		ms := left.Milliseconds() + 1
		if ms > 1000 {
			ms = 1000
		}
		if !c.pullLocked(int32(ms)) {
			break
		}
	}
	c.freeLocked()
}

// freeLocked releases the handle and the batch (pmu held). Idempotent.
func (c *streamCore) freeLocked() {
	c.hmu.Lock()
	h := c.handle
	c.handle = nil
	c.hmu.Unlock()
	if h == nil {
		return
	}
	C.pmx_stream_free(h)
	if c.batch != nil {
		C.free(unsafe.Pointer(c.batch))
		c.batch = nil
	}
	atomic.AddInt64(&liveHandles, -1)
	close(c.closed)
	c.router.untrack(c)
}

// Stream is a running streamed completion. Read its events with Next or Events (not both),
// then Close it (Close also cancels a stream still running). Events are pulled from the
// library in batches by the reader (one cgo call per batch, no JSON parsed per event); the
// library holds the upstream transfer back while about 1 MiB of events waits unread.
type Stream struct {
	core      *streamCore
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	eventsMu  sync.Mutex
	events    chan Event

	rmu       sync.Mutex
	exhausted bool
	response  json.RawMessage
	err       error
}

// Stream starts a streamed chat completion and returns at once. Input errors (bad JSON,
// unknown lane, no provider, ...) are returned here; failures after the start arrive as an
// `error` event. Cancelling ctx cancels the stream (its terminal event is then an `error`
// with CodeCancelled, unless it had already finished). Options: WithEventJSON.
func (r *Router) Stream(ctx context.Context, requestJSON string, opts ...StreamOption) (*Stream, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, cancelledError(err)
	}
	var cfg streamConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	core := &streamCore{router: r, flags: cfg.flags, finished: make(chan struct{}),
		closed: make(chan struct{})}
	req := C.CString(requestJSON)
	defer C.free(unsafe.Pointer(req))

	ptr, err := r.acquire()
	if err != nil {
		return nil, err
	}
	var out *C.pmx_stream
	var cerr C.pmx_error
	if rc := C.pmx_router_stream_open(&out, ptr, req, &cerr); rc != 0 {
		r.release()
		return nil, newError(rc, &cerr)
	}
	atomic.AddInt64(&liveHandles, 1)
	core.handle = out
	r.track(core) // before releasing r.mu: Router.Close then sees this handle
	r.release()

	// A watcher only for contexts that can end: it forwards the cancellation.
	if done := ctx.Done(); done != nil {
		go func() {
			select {
			case <-core.finished:
			case <-core.closed:
			case <-done:
				core.cause.Store(ctx.Err())
				core.requestCancel()
			}
		}()
	}

	s := &Stream{core: core, done: make(chan struct{})}
	runtime.SetFinalizer(s, func(s *Stream) {
		// Unreachable, so nobody reads it: cancel and free the handle.
		s.core.requestCancel()
		s.core.pmu.Lock()
		s.core.freeLocked()
		s.core.pmu.Unlock()
	})
	return s, nil
}

// Next blocks until the next event and returns it; ok is false after the terminal event has
// been returned or after Close.
func (s *Stream) Next() (ev Event, ok bool) {
	c := s.core
	for {
		s.rmu.Lock()
		if !s.exhausted {
			select {
			case <-s.done:
				s.exhausted = true
			default:
			}
		}
		if s.exhausted {
			s.rmu.Unlock()
			return Event{}, false
		}
		if ev, ok = c.pop(); ok {
			if ev.Terminal() {
				s.exhausted = true
				s.record(ev)
			}
			s.rmu.Unlock()
			return ev, true
		}
		s.rmu.Unlock()
		if !c.pull(-1) {
			// Nothing more will be pulled: what is queued is all there is.
			if c.queued() > 0 {
				continue
			}
			s.rmu.Lock()
			s.exhausted = true
			s.rmu.Unlock()
			return Event{}, false
		}
	}
}

func (s *Stream) record(ev Event) {
	if ev.Type == "done" {
		s.response = ev.Response
	} else if s.err == nil {
		s.err = ev.Err
	}
}

// Events returns a channel carrying the events, closed after the terminal event (or Close).
// The first call starts a goroutine that feeds it from Next.
func (s *Stream) Events() <-chan Event {
	s.eventsMu.Lock()
	defer s.eventsMu.Unlock()
	if s.events == nil {
		s.events = make(chan Event, 16)
		go func(ch chan<- Event) {
			defer close(ch)
			for {
				ev, ok := s.Next()
				if !ok {
					return
				}
				select {
				case ch <- ev:
				case <-s.done:
					return
				}
			}
		}(s.events)
	}
	return s.events
}

// Cancel requests cancellation (idempotent; any goroutine). The stream then ends with an
// `error` event with CodeCancelled, unless it had already finished.
func (s *Stream) Cancel() { s.core.requestCancel() }

// Finished is closed once the terminal event has been taken from the library (by Next,
// Events, Wait or Close; it may still be queued, unread).
func (s *Stream) Finished() <-chan struct{} { return s.core.finished }

// Response is the full response once a `done` event has been read (nil before, or on error).
func (s *Stream) Response() json.RawMessage {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.response
}

// Err is the stream's error once an `error` event has been read (an *Error), else nil.
func (s *Stream) Err() error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.err
}

// Wait reads the remaining events and returns the `done` response or the stream's error.
func (s *Stream) Wait() (json.RawMessage, error) {
	for {
		if _, ok := s.Next(); !ok {
			break
		}
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.response == nil && s.err == nil {
		t := s.core.terminalEvent()
		if t == nil {
			return nil, &Error{Code: CodeCancelled, StatusName: StatusName(CodeCancelled),
				Message: "stream closed"}
		}
		s.record(*t)
	}
	return s.response, s.err
}

func (c *streamCore) terminalEvent() *Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.terminal
}

// closeWait bounds how long Close waits for the terminal event of a cancelled stream.
const closeWait = 30 * time.Second

// Close cancels the stream if it is still running, waits (bounded) for its terminal event
// and frees the handle. Unread events are dropped; Next then returns false. Idempotent.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		runtime.SetFinalizer(s, nil)
		c := s.core
		c.requestCancel()         // a no-op once finished
		c.drainAndFree(closeWait) // ends a pull in progress too: cancel ended its wait
		close(s.done)
		s.rmu.Lock()
		if s.response == nil && s.err == nil {
			if t := c.terminalEvent(); t != nil {
				s.record(*t)
			}
		}
		s.rmu.Unlock()
	})
	return nil
}

// Complete runs one chat completion and returns the response JSON (an OpenAI chat.completion
// plus "provider", "attempts", "latency_ms", "usage"). It runs as a stream internally, so
// cancelling ctx cancels the request in the library; the error is then an *Error with
// CodeCancelled that also matches ctx.Err() with errors.Is.
func (r *Router) Complete(ctx context.Context, requestJSON string) (string, error) {
	s, err := r.Stream(ctx, requestJSON)
	if err != nil {
		return "", err
	}
	defer s.Close()
	resp, err := s.Wait()
	if err != nil {
		return "", err
	}
	return string(resp), nil
}
