// SPDX-License-Identifier: Apache-2.0
//! Streaming: [`StreamIter`], the pull iterator behind [`Router::stream`](crate::Router::stream)
//! and [`Router::stream_with`](crate::Router::stream_with), and the JSON-callback trampoline
//! behind [`Router::model_manage_with`](crate::Router::model_manage_with).
//!
//! Every `extern "C"` function here runs its body inside `std::panic::catch_unwind` and
//! answers non-zero (= cancel the request) when something panicked: a panic never unwinds into
//! the library.

use std::any::Any;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::event::{Event, EventKind};
use crate::response::ChatCompletion;
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
// Blocking calls with a JSON callback (model management): events on the calling thread.
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

/// `pmx_event_fn` for calls that deliver JSON events on the calling thread
/// (pmx_router_model_manage). `userdata` is a `*mut BlockingCtx<F>` that outlives the call.
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
// Pull streams: typed events taken in batches on the iterating thread.
// ---------------------------------------------------------------------------------------------

/// Events taken per `pmx_stream_next` call at most.
pub const BATCH_CAPACITY: usize = 32;

/// A streamed completion: an iterator of [`Event`]s that ends after the terminal event
/// (`done` or `error`, which is yielded too).
///
/// Events are pulled from the library in batches (`pmx_router_stream_open`, then one
/// `pmx_stream_next` call per batch of up to [`BATCH_CAPACITY`] events) on the thread that
/// iterates, and copied from the library's typed view: no JSON is parsed per event. The
/// library holds the upstream transfer back while about 1 MiB of events waits unread.
/// Dropping the iterator before the end cancels the request and frees the handle
/// (`pmx_stream_free`) without waiting. The iterator keeps the router alive, so it may outlive
/// the [`Router`](crate::Router) value it came from and may be sent to another thread.
pub struct StreamIter {
    handle: *mut sys::pmx_stream,
    /// The current batch: `pmx_event` views, valid until the next pull or the free.
    batch: Vec<sys::pmx_event>,
    /// The next element of `batch` to hand out.
    pos: usize,
    flags: u32,
    finished: bool,
    terminal: Option<Event>,
    // Declared last: dropped after the stream handle was freed in Drop::drop.
    _router: Arc<RouterHandle>,
}

// SAFETY: the handle is used by one thread at a time (&mut self for pulls; pmx_stream_cancel
// and pmx_stream_free may be called from any thread); the views in `batch` point into the
// stream's own memory, which does not depend on the thread.
unsafe impl Send for StreamIter {}

impl StreamIter {
    pub(crate) fn start(
        router: &Arc<RouterHandle>,
        request: &std::ffi::CStr,
        flags: u32,
    ) -> Result<StreamIter, Error> {
        let mut handle: *mut sys::pmx_stream = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        // SAFETY: valid router and NUL-terminated request; the handle is ours to free.
        let rc = unsafe {
            sys::pmx_router_stream_open(&mut handle, router.as_ptr(), request.as_ptr(), &mut err)
        };
        if rc != sys::PMX_OK {
            return Err(Error::from_raw(rc, &err));
        }
        Ok(StreamIter {
            handle,
            batch: Vec::with_capacity(BATCH_CAPACITY),
            pos: 0,
            flags,
            finished: false,
            terminal: None,
            _router: router.clone(),
        })
    }

    /// Requests cancellation (idempotent). Iteration then ends with an `error` event carrying
    /// PMX_ERR_CANCELLED, unless the stream had already finished.
    pub fn cancel(&self) {
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
        if self.pos >= self.batch.len() {
            // Rounded up, so that a short timeout still waits; at most i32::MAX ms.
            let ms = ((timeout.as_nanos() + 999_999) / 1_000_000).min(i32::MAX as u128) as i32;
            match self.pull(ms) {
                Ok(0) => return Err(RecvTimeoutError::Timeout),
                Ok(_) => {}
                Err(e) => return Ok(Some(self.fail(e))),
            }
        }
        Ok(self.take())
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

    /// Consumes the rest of the stream and returns the typed response `done` carries, or the
    /// error of `error`.
    pub fn completion(self) -> Result<ChatCompletion, Error> {
        ChatCompletion::from_json(&self.result()?)
    }

    /// Consumes the rest of the stream and returns the full response JSON of `done`, or the
    /// error of `error`.
    pub fn result(mut self) -> Result<String, Error> {
        for _ in &mut self {}
        match &self.terminal {
            Some(t) if t.kind == EventKind::Done => {
                Ok(t.response().unwrap_or_default().to_string())
            }
            Some(t) => Err(t.error().expect("error event")),
            None => Err(Error::new(
                sys::PMX_ERR_INTERNAL,
                "stream ended without a terminal event",
            )),
        }
    }

    /// Takes the next batch, waiting up to `timeout_ms` (-1: as long as it takes) for its first
    /// event; returns how many were taken.
    fn pull(&mut self, timeout_ms: i32) -> Result<usize, Error> {
        debug_assert!(!self.handle.is_null() && self.pos >= self.batch.len());
        // The previous batch's views die with this call: none of them is read afterwards.
        self.batch.clear();
        self.pos = 0;
        let mut n: usize = 0;
        let mut err = sys::pmx_error::default();
        // SAFETY: `batch` has room for BATCH_CAPACITY events of size_of::<pmx_event>() bytes;
        // the library writes `n` of them, which are plain data (set_len below).
        let rc = unsafe {
            sys::pmx_stream_next(
                self.batch.as_mut_ptr(),
                BATCH_CAPACITY,
                std::mem::size_of::<sys::pmx_event>(),
                &mut n,
                self.handle,
                timeout_ms,
                self.flags,
                &mut err,
            )
        };
        if rc != sys::PMX_OK {
            return Err(Error::from_raw(rc, &err));
        }
        let n = n.min(BATCH_CAPACITY);
        // SAFETY: the library initialised the first n elements.
        unsafe { self.batch.set_len(n) };
        Ok(n)
    }

    /// The next event of the current batch, copied out of its view.
    fn take(&mut self) -> Option<Event> {
        let view = self.batch.get(self.pos)?;
        // SAFETY: a view of the current batch: no pull or free happened since it was taken.
        let event = unsafe { Event::from_view(view) };
        self.pos += 1;
        if event.is_terminal() {
            self.terminal = Some(event.clone());
            self.finish();
        }
        Some(event)
    }

    /// A refused pull (e.g. PMX_ERR_WOULD_DEADLOCK on a library I/O thread) ends the stream
    /// with an `error` event carrying it.
    fn fail(&mut self, error: Error) -> Event {
        let event = Event::from_error(&error);
        self.terminal = Some(event.clone());
        self.finish();
        event
    }

    fn finish(&mut self) {
        self.finished = true;
        self.batch.clear(); // its views die with the handle
        self.pos = 0;
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
        while !self.finished {
            if self.pos < self.batch.len() {
                return self.take();
            }
            if let Err(e) = self.pull(-1) {
                return Some(self.fail(e));
            }
        }
        None
    }
}

impl Drop for StreamIter {
    fn drop(&mut self) {
        if !self.handle.is_null() {
            // Still running (or its terminal not read yet): pmx_stream_free cancels it and
            // waits for nothing.
            // SAFETY: a live handle, never used again.
            unsafe { sys::pmx_stream_free(self.handle) };
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
