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
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Event is one stream event. Raw is the whole event object; the other fields are the common
// ones decoded from it.
type Event struct {
	Type      string          // "start", "delta", "retry", "fallback", "usage", "done", "error"
	Content   string          // delta: text
	ToolCalls json.RawMessage // delta: tool call deltas (OpenAI shape), nil when none
	Raw       json.RawMessage // the event as the library sent it
	Response  json.RawMessage // done: the full response object
	Err       error           // error: an *Error
}

// Terminal reports whether e ends its stream (done or error).
func (e Event) Terminal() bool { return e.Type == "done" || e.Type == "error" }

type eventFields struct {
	Type      string          `json:"type"`
	Content   *string         `json:"content"`
	ToolCalls json.RawMessage `json:"tool_calls"`
	Response  json.RawMessage `json:"response"`
}

// parseEvent decodes an event; raw must be owned by the caller (it is kept in Event.Raw).
func parseEvent(raw []byte) Event {
	var f eventFields
	if err := json.Unmarshal(raw, &f); err != nil {
		return Event{Type: "error", Raw: raw, Err: &Error{Code: CodeInternal,
			StatusName: StatusName(CodeInternal), Message: "unparsable event: " + err.Error(),
			Details: raw}}
	}
	ev := Event{Type: f.Type, Raw: raw}
	if f.Content != nil {
		ev.Content = *f.Content
	}
	if len(f.ToolCalls) > 0 && string(f.ToolCalls) != "null" {
		ev.ToolCalls = f.ToolCalls
	}
	switch f.Type {
	case "done":
		ev.Response = f.Response
	case "error":
		ev.Err = errorFromEvent(raw)
	}
	return ev
}

// liveHandles counts the cgo.Handles of started streams whose terminal event has not arrived.
var liveHandles int64

// streamCore is what the C callback reaches through its cgo.Handle. It never references the
// Stream, so an abandoned Stream can be collected (its finalizer then cancels the request).
type streamCore struct {
	router *Router

	mu       sync.Mutex
	queue    []Event
	notify   chan struct{} // capacity 1: "the queue grew"
	finished chan struct{} // closed when the terminal event is queued
	terminal *Event

	cancelReq int32 // atomic: the callback returns non-zero once set
	cause     atomic.Value

	hmu    sync.Mutex
	handle *C.pmx_stream // nil once freed; never touched on the I/O thread
}

func (c *streamCore) push(ev Event) {
	c.mu.Lock()
	c.queue = append(c.queue, ev)
	if ev.Terminal() && c.terminal == nil {
		t := ev
		c.terminal = &t
		close(c.finished)
	}
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// requestCancel asks the library to cancel (idempotent, a no-op after the terminal event).
func (c *streamCore) requestCancel() {
	atomic.StoreInt32(&c.cancelReq, 1)
	c.hmu.Lock()
	if c.handle != nil {
		C.pmx_stream_cancel(c.handle)
	}
	c.hmu.Unlock()
}

// freeHandle releases the stream handle (cancelling the stream if still running).
func (c *streamCore) freeHandle() {
	c.hmu.Lock()
	h := c.handle
	c.handle = nil
	if h != nil {
		C.pmx_stream_free(h)
	}
	c.hmu.Unlock()
	if h != nil {
		c.router.untrack(c)
	}
}

//export pmxgoStreamEvent
func pmxgoStreamEvent(data *C.char, n C.size_t, h C.uintptr_t) C.int32_t {
	handle := cgo.Handle(h)
	c, ok := handle.Value().(*streamCore)
	if !ok {
		return 1
	}
	// The bytes are borrowed for this call only: copy them before anything else.
	raw := C.GoBytes(unsafe.Pointer(data), C.int(n))
	ev := parseEvent(raw)
	if ev.Type == "error" {
		if e, ok := ev.Err.(*Error); ok && e.Code == CodeCancelled {
			if cause, _ := c.cause.Load().(error); cause != nil {
				e.cause = cause
			}
		}
	}
	if ev.Terminal() {
		// The terminal event is the last use of userdata (header guarantee). Deleted before
		// the event is queued, so a reader that sees the terminal event sees no live handle.
		handle.Delete()
		atomic.AddInt64(&liveHandles, -1)
		c.push(ev)
		return 0
	}
	c.push(ev) // never blocks: the queue is unbounded
	if atomic.LoadInt32(&c.cancelReq) != 0 {
		return 1
	}
	return 0
}

// Stream is a running streamed completion. Read its events with Next or Events (not both),
// then Close it (Close also cancels a stream still running). Events are queued without bound
// as they arrive, so a slow reader never delays the router's I/O thread.
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
// with CodeCancelled, unless it had already finished).
func (r *Router) Stream(ctx context.Context, requestJSON string) (*Stream, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, cancelledError(err)
	}
	core := &streamCore{router: r, notify: make(chan struct{}, 1), finished: make(chan struct{})}
	req := C.CString(requestJSON)
	defer C.free(unsafe.Pointer(req))

	ptr, err := r.acquire()
	if err != nil {
		return nil, err
	}
	h := cgo.NewHandle(core)
	atomic.AddInt64(&liveHandles, 1)
	var out *C.pmx_stream
	var cerr C.pmx_error
	// The handle crosses as a uintptr_t; the C helper makes it the void *userdata.
	rc := C.pmxgo_stream_async(&out, ptr, req, C.uintptr_t(h), &cerr)
	if rc != 0 {
		r.release()
		h.Delete() // the callback is never called when the start fails
		atomic.AddInt64(&liveHandles, -1)
		return nil, newError(rc, &cerr)
	}
	core.hmu.Lock()
	core.handle = out
	core.hmu.Unlock()
	r.track(core) // before releasing r.mu: Close then sees this handle
	r.release()

	// One watcher per stream: forwards ctx cancellation, frees the handle once finished.
	go func() {
		select {
		case <-core.finished:
		case <-ctx.Done():
			core.cause.Store(ctx.Err())
			core.requestCancel()
			<-core.finished
		}
		core.freeHandle()
	}()

	s := &Stream{core: core, done: make(chan struct{})}
	runtime.SetFinalizer(s, func(s *Stream) { s.core.requestCancel() })
	return s, nil
}

// Next blocks until the next event and returns it; ok is false after the terminal event has
// been returned or after Close.
func (s *Stream) Next() (ev Event, ok bool) {
	c := s.core
	for {
		s.rmu.Lock()
		if s.exhausted {
			s.rmu.Unlock()
			return Event{}, false
		}
		c.mu.Lock()
		if len(c.queue) > 0 {
			ev = c.queue[0]
			c.queue[0] = Event{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			if ev.Terminal() {
				s.exhausted = true
				s.record(ev)
			}
			s.rmu.Unlock()
			return ev, true
		}
		c.mu.Unlock()
		s.rmu.Unlock()
		select {
		case <-c.notify:
		case <-c.finished:
		case <-s.done:
			s.rmu.Lock()
			s.exhausted = true
			s.rmu.Unlock()
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

// Finished is closed once the terminal event has arrived (read or not).
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
		select {
		case <-c.finished:
		default:
			c.requestCancel()
			select {
			case <-c.finished:
			case <-time.After(closeWait):
			}
		}
		close(s.done)
		c.freeHandle()
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
