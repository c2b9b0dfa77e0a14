// SPDX-License-Identifier: Apache-2.0
//! Rust API of libprovidermux: one in-process router for LLM providers, over its C ABI
//! (include/providermux.h is the reference; the raw declarations are the `providermux-sys`
//! crate, re-exported as [`sys`]).
//!
//! Requests and responses are typed in OpenAI's shape ([`ChatRequest`], [`ChatCompletion`],
//! serde): `resp.choices[0].message.content`, tool calls, usage with `cost_usd`, the provider
//! and every attempt. Stream events are typed too ([`Event`]): copied from the library's
//! `pmx_event` view, pulled in batches, with no JSON parsed per event. Errors carry the status
//! ([`Error::code`], [`ErrorKind`]). The raw JSON stays reachable: every request method also
//! takes JSON text, and [`Router::complete_json`] returns the response's text.
//!
//! ```no_run
//! use providermux::{ChatRequest, Message, Router};
//! let router = Router::new(r#"{"providers":[{"name":"m","type":"mock"}]}"#)?;
//! let request = ChatRequest::new("m/any").message(Message::user("hi"));
//! let resp = router.complete(&request)?;                      // typed response
//! println!("{:?} via {}", resp.choices[0].message.content, resp.provider);
//! for event in router.stream(&request)? {                      // typed events, iterator
//!     if let Some(text) = &event.content { print!("{text}"); }
//! }
//! router.stream_with(&request, |event| {                       // the same, with a closure
//!     if let Some(text) = &event.content { print!("{text}"); }
//!     true                                                     // false = cancel
//! })?;
//! let raw: String = router.complete_json(r#"{"messages":[{"role":"user","content":"hi"}]}"#)?;
//! # Ok::<(), providermux::Error>(())
//! ```

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

pub mod embedding;
pub mod error;
pub mod event;
pub mod json;
pub mod observer;
pub mod operation_types;
pub mod request;
pub mod response;
pub mod stream;

/// The raw C declarations (the `providermux-sys` crate).
pub use providermux_sys as sys;

pub use embedding::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, Model, ModelList,
};
pub use error::{Error, ErrorKind};
pub use event::{Event, EventKind, ToolCallDelta, Usage};
pub use observer::RequestRecord;
pub use operation_types::{
    Image, ImageRequest, ImagesResponse, Moderation, ModerationRequest, ModerationResponse,
    RerankRequest, RerankResponse, RerankResult, TextChoice, TextCompletion,
    TextCompletionRequest, TokenCount, TokenCountRequest,
};
pub use request::{
    ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl, Message, RequestBody,
    Role, Tool, ToolCall,
};
pub use response::{
    Attempt, ChatCompletion, Choice, CompletionUsage, PromptTokensDetails, ResponseMessage,
};
pub use stream::StreamIter;

/// Runtime version of the loaded library, e.g. "0.1.0".
pub fn version() -> String {
    // SAFETY: a static NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(sys::pmx_version_string()) }
        .to_string_lossy()
        .into_owned()
}

/// Runtime version as MAJOR * 10000 + MINOR * 100 + PATCH.
pub fn version_number() -> i32 {
    // SAFETY: no arguments, thread-safe.
    unsafe { sys::pmx_version_number() }
}

/// Name of a status code, e.g. "PMX_ERR_TIMEOUT" ("PMX_UNKNOWN_STATUS" when unknown).
pub fn status_name(code: i32) -> String {
    // SAFETY: a static NUL-terminated string, never NULL.
    unsafe { CStr::from_ptr(sys::pmx_status_name(code)) }
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------------------------

/// Log levels for [`set_log_callback`].
pub mod log_level {
    pub const TRACE: i32 = crate::sys::PMX_LOG_TRACE;
    pub const DEBUG: i32 = crate::sys::PMX_LOG_DEBUG;
    pub const INFO: i32 = crate::sys::PMX_LOG_INFO;
    pub const WARN: i32 = crate::sys::PMX_LOG_WARN;
    pub const ERROR: i32 = crate::sys::PMX_LOG_ERROR;
}

type LogFn = Box<dyn Fn(i32, &str) + Send + Sync + 'static>;

/// The installed log callback. Boxed twice so the pointer handed to C stays put.
static LOG_CALLBACK: Mutex<Option<Box<LogFn>>> = Mutex::new(None);

unsafe extern "C" fn log_trampoline(
    level: i32,
    message: *const c_char,
    len: usize,
    userdata: *mut c_void,
) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: userdata is the &LogFn installed below; it is kept alive until a later
        // pmx_set_log_callback has returned, after which the library never calls it again.
        let f = &*(userdata as *const LogFn);
        let bytes = if message.is_null() {
            &[][..]
        } else {
            std::slice::from_raw_parts(message as *const u8, len)
        };
        f(level, &String::from_utf8_lossy(bytes));
    }));
}

/// Installs the process-wide log callback `f(level, line)` for lines at `min_level` and above
/// (see [`log_level`]). It may be called from any thread (routers' I/O threads included), never
/// concurrently with itself; a panic inside it is swallowed. Replaces any previous callback.
/// It may call the library (a blocking call made while it runs on a router's I/O thread
/// returns `ErrorKind::WouldDeadlock`), but not `set_log_callback` / `clear_log_callback`:
/// those drop the closure that is running.
pub fn set_log_callback<F>(min_level: i32, f: F)
where
    F: Fn(i32, &str) + Send + Sync + 'static,
{
    let boxed: Box<LogFn> = Box::new(Box::new(f));
    let userdata = &*boxed as *const LogFn as *mut c_void;
    let mut slot = LOG_CALLBACK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the trampoline and its userdata stay valid until replaced (below, after the call).
    unsafe { sys::pmx_set_log_callback(Some(log_trampoline), min_level, userdata) };
    // The previous callback is never called again once the call above returned.
    *slot = Some(boxed);
}

/// Stops logging (the library logs nothing by default).
pub fn clear_log_callback() {
    let mut slot = LOG_CALLBACK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: NULL uninstalls.
    unsafe { sys::pmx_set_log_callback(None, sys::PMX_LOG_ERROR, std::ptr::null_mut()) };
    *slot = None;
}

// ---------------------------------------------------------------------------------------------
// Routers
// ---------------------------------------------------------------------------------------------

/// The owned `pmx_router*`; freed when the last reference goes (the [`Router`] and any
/// [`StreamIter`] still alive). The observer's slot (its C userdata) is dropped after the
/// router is freed, so the library never calls into freed memory.
pub(crate) struct RouterHandle(NonNull<sys::pmx_router>, Box<observer::ObserverSlot>);

// SAFETY: the header says "a router is safe to share between threads": every pmx_router_*
// function may be called on the same router from any thread concurrently (each router owns
// one I/O thread that carries all requests). The only thread-restricted call is
// pmx_router_free, which must not run while blocking calls are in progress on other threads
// and not inside one of the router's event callbacks; RouterHandle frees only in Drop, i.e.
// when no `&Router` (so no blocking call) and no StreamIter exist any more, and the crate's
// async callbacks never own a RouterHandle, so the drop never happens on the I/O thread.
unsafe impl Send for RouterHandle {}
unsafe impl Sync for RouterHandle {}

impl RouterHandle {
    pub(crate) fn as_ptr(&self) -> *mut sys::pmx_router {
        self.0.as_ptr()
    }
}

impl Drop for RouterHandle {
    fn drop(&mut self) {
        // SAFETY: owned pointer, freed exactly once, no other user left (see above).
        unsafe { sys::pmx_router_free(self.0.as_ptr()) }
    }
}

/// A router: providers, routing policy and one I/O thread.
///
/// `Router` is `Send + Sync`: the C library documents a router as safe to share between
/// threads, so share it with `Arc<Router>` (or scoped threads) and call any method from any
/// thread concurrently. Dropping it frees the router (`pmx_router_free`) once no
/// [`StreamIter`] of it is alive any more: Rust's borrows guarantee that no blocking call is
/// still running on another thread at that point, as the header requires.
///
/// Chat requests are typed ([`ChatRequest`]) or JSON text ([`RequestBody`]); configs and the
/// other documents are JSON text (docs/VOCABULARY.md describes them).
pub struct Router {
    inner: Arc<RouterHandle>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("ptr", &self.inner.0)
            .finish()
    }
}

/// A request's JSON text as a C string.
fn request_cstring<R: RequestBody + ?Sized>(request: &R) -> Result<CString, Error> {
    cstring(&request.request_json()?, "request")
}

fn cstring(text: &str, what: &str) -> Result<CString, Error> {
    CString::new(text).map_err(|e| {
        Error::new(
            sys::PMX_ERR_INVALID_ARGUMENT,
            format!("{what}: contains a NUL byte at offset {}", e.nul_position()),
        )
    })
}

/// Copies a library-owned string and frees it with pmx_string_free.
unsafe fn take_string(s: *mut c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    let text = CStr::from_ptr(s).to_string_lossy().into_owned();
    sys::pmx_string_free(s);
    Some(text)
}

fn check(rc: i32, err: &sys::pmx_error) -> Result<(), Error> {
    if rc == sys::PMX_OK {
        Ok(())
    } else {
        Err(Error::from_raw(rc, err))
    }
}

impl Router {
    /// Creates a router from a router config JSON document and starts its I/O thread.
    /// Errors name the offending field (e.g. `providers[0].bogus: unknown key`, ErrorKind::Config).
    pub fn new(config: &str) -> Result<Router, Error> {
        let config = cstring(config, "config")?;
        let mut out: *mut sys::pmx_router = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        // SAFETY: valid out pointer and NUL-terminated input.
        let rc = unsafe { sys::pmx_router_new(&mut out, config.as_ptr(), &mut err) };
        check(rc, &err)?;
        let ptr = NonNull::new(out)
            .ok_or_else(|| Error::new(sys::PMX_ERR_INTERNAL, "pmx_router_new returned NULL"))?;
        Ok(Router {
            inner: Arc::new(RouterHandle(ptr, Box::default())),
        })
    }

    /// The raw `pmx_router*`, for calls through [`sys`]. Valid while `self` lives.
    pub fn as_raw(&self) -> *mut sys::pmx_router {
        self.inner.as_ptr()
    }

    /// This router's observer slot (lives as long as the router itself).
    pub(crate) fn observer_slot(&self) -> &observer::ObserverSlot {
        &self.inner.1
    }

    /// Runs a call with an `out` string, returning the string.
    fn call_out(
        &self,
        f: impl FnOnce(*mut *mut c_char, *mut sys::pmx_router, *mut sys::pmx_error) -> i32,
    ) -> Result<String, Error> {
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        let rc = f(&mut out, self.as_raw(), &mut err);
        // SAFETY: whatever the library put in `out` is ours to free.
        let text = unsafe { take_string(out) };
        check(rc, &err)?;
        Ok(text.unwrap_or_default())
    }

    /// Runs one chat completion and waits for it (retries and failover included). Returns the
    /// typed response: an OpenAI chat.completion plus `provider`, `attempts`, `latency_ms` and
    /// `usage.cost_usd`. `request` is a [`ChatRequest`] (or JSON text, see [`RequestBody`]).
    pub fn complete<R: RequestBody + ?Sized>(&self, request: &R) -> Result<ChatCompletion, Error> {
        ChatCompletion::from_json(&self.complete_json(request)?)
    }

    /// As [`Router::complete`], returning the response's JSON text as the library wrote it
    /// (the escape hatch for members this crate does not type).
    pub fn complete_json<R: RequestBody + ?Sized>(&self, request: &R) -> Result<String, Error> {
        let request = request_cstring(request)?;
        // SAFETY: valid pointers for the duration of the call.
        self.call_out(|out, r, err| unsafe {
            sys::pmx_router_complete(out, r, request.as_ptr(), err)
        })
    }

    /// Computes embeddings, typed: one vector per input, plus `usage`, `provider` and
    /// `attempts`.
    pub fn embeddings<R: RequestBody + ?Sized>(
        &self,
        request: &R,
    ) -> Result<EmbeddingResponse, Error> {
        response::from_json_text(&self.embed(request)?, "an embeddings list")
    }

    /// Every provider's models, typed (`ModelList::errors`: the providers that failed).
    pub fn list_models(&self) -> Result<ModelList, Error> {
        response::from_json_text(&self.models()?, "a model list")
    }

    /// Computes embeddings and returns the JSON text: `{"model": ..., "input": "text" |
    /// ["text", ...]}` as an [`EmbeddingRequest`] or JSON text.
    pub fn embed<R: RequestBody + ?Sized>(&self, request: &R) -> Result<String, Error> {
        let request = request_cstring(request)?;
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe { sys::pmx_router_embed(out, r, request.as_ptr(), err) })
    }

    /// Lists the models of every provider as JSON text (failing providers are listed under
    /// "errors"); [`Router::list_models`] is the typed form.
    pub fn models(&self) -> Result<String, Error> {
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe { sys::pmx_router_models(out, r, err) })
    }

    /// The models list filtered (`pmx_router_models_query`): `search` keeps the models whose id
    /// contains it (ASCII case ignored), `provider` lists that provider's models only and asks no
    /// other. An unknown provider is an error (PMX_ERR_PROVIDER_NOT_FOUND).
    pub fn models_query(
        &self,
        search: Option<&str>,
        provider: Option<&str>,
    ) -> Result<String, Error> {
        let mut fields = Vec::new();
        if let Some(s) = search {
            fields.push(format!(r#""search":{}"#, json::quote(s)));
        }
        if let Some(p) = provider {
            fields.push(format!(r#""provider":{}"#, json::quote(p)));
        }
        let query = cstring(&format!("{{{}}}", fields.join(",")), "query")?;
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe {
            sys::pmx_router_models_query(out, r, query.as_ptr(), err)
        })
    }

    /// Probes every provider now.
    pub fn health(&self) -> Result<String, Error> {
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe { sys::pmx_router_health(out, r, err) })
    }

    /// Usage statistics since router creation (or the last reset), as JSON.
    pub fn stats(&self) -> Result<String, Error> {
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe { sys::pmx_router_stats(out, r, err) })
    }

    /// Statistics with options: `format` is "json" or "prometheus" (text exposition format
    /// 0.0.4, metric names prefixed `pmx_`); `reset` zeroes the counters right after this
    /// snapshot.
    pub fn stats_ex(&self, format: &str, reset: bool) -> Result<String, Error> {
        let options = format!(r#"{{"format":{},"reset":{}}}"#, json::quote(format), reset);
        let options = cstring(&options, "format")?;
        // SAFETY: as above.
        self.call_out(|out, r, err| unsafe {
            sys::pmx_router_stats_ex(out, r, options.as_ptr(), err)
        })
    }

    /// Adds a provider (one entry of the config's "providers" array, as JSON). It serves new
    /// requests from now on, after the providers already there.
    pub fn add_provider(&self, provider: &str) -> Result<(), Error> {
        let provider = cstring(provider, "provider")?;
        let mut handle: *mut sys::pmx_provider = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        // SAFETY: valid pointers; the provider is freed below (the router keeps its own reference).
        unsafe {
            let rc = sys::pmx_provider_new(&mut handle, provider.as_ptr(), &mut err);
            check(rc, &err)?;
            let rc = sys::pmx_router_add_provider(self.as_raw(), handle, &mut err);
            sys::pmx_provider_free(handle);
            check(rc, &err)
        }
    }

    /// Removes the provider called `name`; requests already running on it finish normally.
    pub fn remove_provider(&self, name: &str) -> Result<(), Error> {
        let name = cstring(name, "name")?;
        let mut err = sys::pmx_error::default();
        // SAFETY: valid pointers.
        let rc = unsafe { sys::pmx_router_remove_provider(self.as_raw(), name.as_ptr(), &mut err) };
        check(rc, &err)
    }

    /// Replaces the config's "routing" section (the object, as JSON) while requests run.
    /// Validated like config: on any error nothing changes.
    pub fn update_routing(&self, routing: &str) -> Result<(), Error> {
        let routing = cstring(routing, "routing")?;
        let mut err = sys::pmx_error::default();
        // SAFETY: valid pointers.
        let rc =
            unsafe { sys::pmx_router_update_routing(self.as_raw(), routing.as_ptr(), &mut err) };
        check(rc, &err)
    }

    /// Runs a streamed completion on the calling thread, calling `on_event` for each event,
    /// in order, on this thread; returns the full typed response (the one the `done` event
    /// carries). The events are those of [`Router::stream`] (typed, pulled in batches).
    ///
    /// `on_event` returns `true` to continue and `false` to cancel (for good: later `true`s do
    /// not undo it). It still receives the events that follow, up to the terminal one: an
    /// `error` with PMX_ERR_CANCELLED, which the call then returns, or `done` if the request had
    /// already finished when the cancel arrived.
    /// If `on_event` panics, the request is cancelled, the closure is not called again, and
    /// the panic is resumed on this thread once the stream has ended.
    pub fn stream_with<R, F>(&self, request: &R, mut on_event: F) -> Result<ChatCompletion, Error>
    where
        R: RequestBody + ?Sized,
        F: FnMut(Event) -> bool,
    {
        let mut stream = self.stream(request)?;
        let mut stopped = false;
        let mut panic = None;
        while let Some(event) = stream.next() {
            if panic.is_some() {
                continue; // draining to the terminal event: the closure is not called again
            }
            match catch_unwind(AssertUnwindSafe(|| on_event(event))) {
                Ok(true) => {}
                Ok(false) => {
                    if !stopped {
                        stopped = true;
                        stream.cancel();
                    }
                }
                Err(payload) => {
                    panic = Some(payload);
                    stream.cancel();
                }
            }
        }
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
        stream.completion()
    }

    /// Starts a streamed completion (`pmx_router_stream_open`) and returns an iterator of its
    /// typed events, pulled in batches on the iterating thread and ending after the terminal
    /// one. Input errors are returned here, at once. Dropping the iterator early cancels the
    /// request. Only `done` and `error` events carry `json`. See [`StreamIter`].
    pub fn stream<R: RequestBody + ?Sized>(&self, request: &R) -> Result<StreamIter, Error> {
        let request = request_cstring(request)?;
        StreamIter::start(&self.inner, &request, 0)
    }

    /// As [`Router::stream`], with every event's `json` filled too (`PMX_NEXT_WITH_JSON`: the
    /// library then writes each event's JSON as well).
    pub fn stream_with_json<R: RequestBody + ?Sized>(
        &self,
        request: &R,
    ) -> Result<StreamIter, Error> {
        let request = request_cstring(request)?;
        StreamIter::start(&self.inner, &request, sys::PMX_NEXT_WITH_JSON)
    }

    /// Runs one operation by name (`pmx_router_call`): `operation` is the openai Python SDK's
    /// resource path ("completions.create", "images.generate", "rerank", ...; see
    /// [`operations`]), `request` its OpenAI request as JSON text or a [`RequestBody`]. Returns
    /// the result JSON (the operation's OpenAI shape plus "provider", "attempts", "usage").
    /// An unknown operation is an invalid-argument error naming the known ones.
    pub fn call<R: RequestBody + ?Sized>(&self, operation: &str, request: &R) -> Result<String, Error> {
        let operation = cstring(operation, "operation")?;
        let request = request_cstring(request)?;
        // SAFETY: valid pointers for the call's duration; no callback.
        self.call_out(|out, r, err| unsafe {
            sys::pmx_router_call(out, r, operation.as_ptr(), request.as_ptr(), err)
        })
    }

    /// Streams one operation (`pmx_router_call_stream`): its events (JSON, e.g. "delta" with
    /// "content" for completions) go to `on_event` on this thread, `false` cancels; returns the
    /// result JSON of `done`. Panics are handled as in [`Router::stream_with`].
    pub fn call_stream_with<R, F>(&self, operation: &str, request: &R, mut on_event: F) -> Result<String, Error>
    where
        R: RequestBody + ?Sized,
        F: FnMut(Event) -> bool,
    {
        let operation = cstring(operation, "operation")?;
        let request = request_cstring(request)?;
        // SAFETY: every pointer is valid for the blocking call's duration.
        self.call_with_events(&mut on_event, |out, r, callback, userdata, err| unsafe {
            sys::pmx_router_call_stream(out, r, operation.as_ptr(), request.as_ptr(), callback, userdata, err)
        })
    }

    /// Model management on a local server provider (type "ollama"):
    /// `{"action": "pull"|"delete"|"show"|"loaded", "provider": NAME, "model": MODEL}`.
    /// Returns the result JSON.
    pub fn model_manage(&self, request: &str) -> Result<String, Error> {
        let request = cstring(request, "request")?;
        // SAFETY: valid pointers; no callback.
        self.call_out(|out, r, err| unsafe {
            sys::pmx_router_model_manage(out, r, request.as_ptr(), None, std::ptr::null_mut(), err)
        })
    }

    /// As [`Router::model_manage`], with pull progress events (`{"type":"progress",...}`)
    /// delivered to `on_progress` on this thread; `false` cancels. Panics are handled as in
    /// [`Router::stream_with`].
    pub fn model_manage_with<F>(&self, request: &str, mut on_progress: F) -> Result<String, Error>
    where
        F: FnMut(Event) -> bool,
    {
        let request = cstring(request, "request")?;
        // SAFETY: every pointer is valid for the blocking call's duration.
        self.call_with_events(&mut on_progress, |out, r, callback, userdata, err| unsafe {
            sys::pmx_router_model_manage(out, r, request.as_ptr(), callback, userdata, err)
        })
    }

    /// A blocking call that delivers JSON events to `on_event` on this thread
    /// (`pmx_router_model_manage`). A panic in `on_event` cancels the call and is resumed here
    /// once the library call has returned.
    fn call_with_events<F, C>(&self, on_event: &mut F, call: C) -> Result<String, Error>
    where
        F: FnMut(Event) -> bool,
        C: FnOnce(
            *mut *mut c_char,
            *mut sys::pmx_router,
            sys::pmx_event_fn,
            *mut c_void,
            *mut sys::pmx_error,
        ) -> sys::pmx_status,
    {
        let mut ctx = stream::BlockingCtx {
            f: on_event,
            panic: None,
            stopped: false,
        };
        let mut out: *mut c_char = std::ptr::null_mut();
        let mut err = sys::pmx_error::default();
        // SAFETY: ctx outlives the blocking call, which is the only user of the userdata.
        let rc = call(
            &mut out,
            self.as_raw(),
            Some(stream::blocking_trampoline::<F>),
            &mut ctx as *mut stream::BlockingCtx<'_, F> as *mut c_void,
            &mut err,
        );
        // SAFETY: ours to free.
        let text = unsafe { take_string(out) };
        if let Some(payload) = ctx.panic.take() {
            resume_unwind(payload);
        }
        check(rc, &err)?;
        Ok(text.unwrap_or_default())
    }
}

/// Operation names of [`Router::call`] (`pmx_router_call`): the openai Python SDK's resource
/// paths, plus provider-specific ones named "<type>.<what>".
pub mod operations {
    pub const CHAT_COMPLETIONS: &str = "chat.completions.create";
    pub const COMPLETIONS: &str = "completions.create";
    pub const EMBEDDINGS: &str = "embeddings.create";
    pub const IMAGES_GENERATE: &str = "images.generate";
    pub const MODERATIONS: &str = "moderations.create";
    pub const AUDIO_TRANSCRIPTIONS: &str = "audio.transcriptions.create";
    pub const AUDIO_SPEECH: &str = "audio.speech.create";
    pub const RERANK: &str = "rerank";
    pub const TOKENS_COUNT: &str = "tokens.count";
    pub const RESPONSES: &str = "responses.create";
    pub const MODELS_LIST: &str = "models.list";
    pub const OPENROUTER_CREDITS: &str = "openrouter.credits";
    pub const OPENROUTER_GENERATION: &str = "openrouter.generation";
}

#[cfg(test)]
mod tests {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    #[test]
    fn auto_traits() {
        assert_send_sync::<super::Router>();
        assert_send_sync::<super::Error>();
        assert_send::<super::StreamIter>();
    }
}
