//! Streaming: the blocking trampoline behind [`Router::stream_with`](crate::Router::stream_with)
//! and [`StreamIter`], the iterator behind [`Router::stream`](crate::Router::stream).
//!
//! Every `extern "C"` function here runs its body inside `std::panic::catch_unwind` and
//! answers non-zero (= cancel the request) when something panicked: a panic never unwinds into
//! the library.

use std::any::Any;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::event::{Event, EventKind};
use crate::sys;
use crate::RouterHandle;

unsafe fn event_bytes<'a>(event_json: *const c_char, len: usize) -> &'a [u8] {
    if event_json.is_null() {
        &[]
    } else {
        std::slice::from_raw_parts(event_json as *const u8, len)
    }
}

// ---------------------------------------------------------------------------------------------
// Blocking streams: events on the calling thread.
// ---------------------------------------------------------------------------------------------

/// What the blocking trampoline sees through `userdata`: the user's closure and, once it
/// panicked, the panic payload (re-raised on the caller's thread after the call returns).
pub(crate) struct BlockingCtx<'a, F> {
    pub(crate) f: &'a mut F,
    pub(crate) panic: Option<Box<dyn Any + Send + 'static>>,
    /// The closure asked to stop once: keep answering "cancel" (the request may already have
    /// finished on the I/O thread, so more buffered events can follow before the terminal one).
    pub(crate) stopped: bool,
}

/// `pmx_event_fn` for calls that deliver events on the calling thread (pmx_router_stream,
/// pmx_router_model_manage). `userdata` is a `*mut BlockingCtx<F>` that outlives the call.
pub(crate) unsafe extern "C" fn blocking_trampoline<F>(
    event_json: *const c_char,
    len: usize,
    userdata: *mut c_void,
) -> i32
where
    F: FnMut(Event) -> bool,
{
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: userdata is the &mut BlockingCtx<F> passed by the caller, alive for the whole
        // blocking call; events of one request never run concurrently, so this is exclusive.
        let ctx = &mut *(userdata as *mut BlockingCtx<F>);
        if ctx.panic.is_some() {
            return 1; // the closure panicked before: do not call it again, keep cancelling
        }
        let event = Event::from_bytes(event_bytes(event_json, len));
        match catch_unwind(AssertUnwindSafe(|| (ctx.f)(event))) {
            Ok(true) if !ctx.stopped => 0,
            Ok(_) => {
                ctx.stopped = true;
                1
            }
            Err(payload) => {
                ctx.panic = Some(payload);
                1
            }
        }
    }));
    outcome.unwrap_or(1)
}

// ---------------------------------------------------------------------------------------------
// Async streams: events on the router's I/O thread, handed over through a channel.
// ---------------------------------------------------------------------------------------------

/// Shared between a [`StreamIter`] and the I/O thread's callback. The callback owns one
/// reference (given to C as `userdata` with `Arc::into_raw`) and releases it on the terminal
/// event, which the header promises is the last use of `userdata`.
pub(crate) struct AsyncShared {
    tx: Sender<Event>,
    cancel: AtomicBool,
}

pub(crate) unsafe extern "C" fn async_trampoline(
    event_json: *const c_char,
    len: usize,
    userdata: *mut c_void,
) -> i32 {
    let shared = userdata as *const AsyncShared;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the callback's own reference keeps `shared` alive until the terminal event.
        let s = &*shared;
        let event = Event::from_bytes(event_bytes(event_json, len));
        let terminal = event.is_terminal();
        // Never blocks (unbounded channel); fails harmlessly when the iterator is gone.
        let _ = s.tx.send(event);
        (terminal, s.cancel.load(Ordering::Acquire))
    }));
    match outcome {
        Ok((terminal, cancel)) => {
            if terminal {
                // The last use of userdata: release the callback's reference.
                let _ = catch_unwind(AssertUnwindSafe(|| drop(Arc::from_raw(shared))));
            }
            cancel as i32
        }
        Err(_) => 1,
    }
}

/// An asynchronous streamed completion: an iterator of [`Event`]s that ends after the terminal
/// event (`done` or `error`, which is yielded too).
///
/// Events are produced on the router's I/O thread and queued in an unbounded
/// `std::sync::mpsc` channel; `next()` blocks until one is there. Dropping the iterator before
/// the end cancels the request (`pmx_stream_cancel`) and frees the handle (`pmx_stream_free`)
/// without waiting for anything: the terminal event still arrives on the I/O thread and only
/// releases the callback's own state. The iterator keeps the router alive, so it may outlive
/// the [`Router`](crate::Router) value it came from and may be sent to another thread.
pub struct StreamIter {
    rx: Receiver<Event>,
    shared: Arc<AsyncShared>,
    handle: *mut sys::pmx_stream,
    finished: bool,
    terminal: Option<Event>,
    // Declared last: dropped after the stream handle was freed in Drop::drop.
    _router: Arc<RouterHandle>,
}

// SAFETY: the stream handle is only used through pmx_stream_cancel / pmx_stream_free, which the
// header allows from any thread; the receiver is Send.
unsafe impl Send for StreamIter {}

impl StreamIter {
    pub(crate) fn start(
        router: &Arc<RouterHandle>,
        request: &std::ffi::CStr,
    ) -> Result<StreamIter, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = Arc::new(AsyncShared {
            tx,
            cancel: AtomicBool::new(false),
        });
        let userdata = Arc::into_raw(shared.clone()) as *mut c_void;
        let mut handle: *mut sys::pmx_stream = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        // SAFETY: valid router and NUL-terminated request; the callback's state lives until the
        // terminal event (its reference above).
        let rc = unsafe {
            sys::pmx_router_stream_async(
                &mut handle,
                router.as_ptr(),
                request.as_ptr(),
                Some(async_trampoline),
                userdata,
                &mut err,
            )
        };
        if rc != sys::PMX_OK {
            // The callback is never called when the start fails: take its reference back.
            // SAFETY: from the Arc::into_raw above, not used by C.
            unsafe { drop(Arc::from_raw(userdata as *const AsyncShared)) };
            return Err(Error::from_raw(rc, &err));
        }
        Ok(StreamIter {
            rx,
            shared,
            handle,
            finished: false,
            terminal: None,
            _router: router.clone(),
        })
    }

    /// Requests cancellation (idempotent). Iteration then ends with an `error` event carrying
    /// PMX_ERR_CANCELLED, unless the stream had already finished.
    pub fn cancel(&self) {
        self.shared.cancel.store(true, Ordering::Release);
        if !self.handle.is_null() {
            // SAFETY: a live handle (freed only through &mut self).
            unsafe { sys::pmx_stream_cancel(self.handle) };
        }
    }

    /// Waits at most `timeout` for the next event: `Ok(Some(event))`, `Ok(None)` after the end,
    /// or `Err(RecvTimeoutError::Timeout)`.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, RecvTimeoutError> {
        if self.finished {
            return Ok(None);
        }
        match self.rx.recv_timeout(timeout) {
            Ok(event) => Ok(Some(self.observe(event))),
            Err(RecvTimeoutError::Disconnected) => {
                self.finish();
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// True once the terminal event was returned by the iterator.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The terminal event, once iteration reached it.
    pub fn terminal(&self) -> Option<&Event> {
        self.terminal.as_ref()
    }

    /// Consumes the rest of the stream and returns the concatenated delta text, or the error
    /// of the terminal `error` event.
    pub fn collect_text(mut self) -> Result<String, Error> {
        let mut text = String::new();
        for event in &mut self {
            match event.kind {
                EventKind::Delta => text.push_str(event.content.as_deref().unwrap_or("")),
                EventKind::Error => return Err(event.error().expect("error event")),
                _ => {}
            }
        }
        match self.terminal {
            Some(_) => Ok(text),
            None => Err(Error::new(
                sys::PMX_ERR_INTERNAL,
                "stream ended without a terminal event",
            )),
        }
    }

    fn observe(&mut self, event: Event) -> Event {
        if event.is_terminal() {
            self.terminal = Some(event.clone());
            self.finish();
        }
        event
    }

    fn finish(&mut self) {
        self.finished = true;
        if !self.handle.is_null() {
            // SAFETY: a live handle; after the terminal event this only releases it.
            unsafe { sys::pmx_stream_free(self.handle) };
            self.handle = std::ptr::null_mut();
        }
    }
}

impl Iterator for StreamIter {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        match self.rx.recv() {
            Ok(event) => Some(self.observe(event)),
            Err(_) => {
                // Unreachable in practice: the sender lives until the terminal event is sent.
                self.finish();
                None
            }
        }
    }
}

impl Drop for StreamIter {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // Still running (or its terminal not read yet): cancel and release, wait for nothing.
            self.shared.cancel.store(true, Ordering::Release);
            // SAFETY: a live handle, never used again.
            unsafe {
                sys::pmx_stream_cancel(self.handle);
                sys::pmx_stream_free(self.handle);
            }
            self.handle = std::ptr::null_mut();
        }
    }
}

impl std::fmt::Debug for StreamIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamIter")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
