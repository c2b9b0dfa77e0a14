// SPDX-License-Identifier: Apache-2.0
//! Raw FFI declarations of libprovidermux's C ABI (`include/providermux.h`, the reference for
//! ownership, threading and callbacks): every function, the structs `pmx_error`, `pmx_event`,
//! `pmx_str`, `pmx_tool_call_delta`, and the status, event-type and log-level constants.
//! Everything here is `unsafe` to call; the safe, typed API is the `providermux` crate.
//!
//! The constants are generated from the project's `abi/abi.json` (scripts/gen-abi-tables.py);
//! the project's `scripts/check-rust-sys.py` (ctest `rust_sys_decls`) checks every declaration and
//! struct field here against the header. The build script links the library (pkg-config
//! `providermux`, or `PROVIDERMUX_LIB_DIR`) and exports the directory it found to dependents'
//! build scripts as `DEP_PROVIDERMUX_LIB_DIR` (see the crate's README for the rpath).
#![allow(non_camel_case_types)]
#![no_std]

use core::ffi::{c_char, c_void};

/// `typedef int32_t pmx_status;`
pub type pmx_status = i32;

// BEGIN GENERATED abi:rust-version (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
pub const PMX_VERSION_MAJOR: i32 = 0;
pub const PMX_VERSION_MINOR: i32 = 1;
pub const PMX_VERSION_PATCH: i32 = 0;
/// Version of the header these declarations follow (MAJOR * 10000 + MINOR * 100 + PATCH).
pub const PMX_VERSION_NUMBER: i32 =
    PMX_VERSION_MAJOR * 10000 + PMX_VERSION_MINOR * 100 + PMX_VERSION_PATCH;
pub const PMX_VERSION_STRING: &str = "0.1.0";
pub const PMX_ABI_VERSION: i32 = 0;
// END GENERATED abi:rust-version

// BEGIN GENERATED abi:rust-status (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
pub const PMX_OK: pmx_status = 0;
pub const PMX_ERR_INVALID_ARGUMENT: pmx_status = -1;
pub const PMX_ERR_INVALID_JSON: pmx_status = -2;
pub const PMX_ERR_INVALID_UTF8: pmx_status = -3;
pub const PMX_ERR_CONFIG: pmx_status = -4;
pub const PMX_ERR_ENV_VAR_MISSING: pmx_status = -5;
pub const PMX_ERR_UNKNOWN_PROVIDER_TYPE: pmx_status = -6;
pub const PMX_ERR_INVALID_REQUEST: pmx_status = -7;
pub const PMX_ERR_NO_PROVIDER: pmx_status = -8;
pub const PMX_ERR_PROVIDER_NOT_FOUND: pmx_status = -9;
pub const PMX_ERR_DUPLICATE_PROVIDER: pmx_status = -10;
pub const PMX_ERR_CANCELLED: pmx_status = -11;
pub const PMX_ERR_TIMEOUT: pmx_status = -12;
pub const PMX_ERR_CONNECTION: pmx_status = -13;
pub const PMX_ERR_UPSTREAM_HTTP: pmx_status = -14;
pub const PMX_ERR_RATE_LIMITED: pmx_status = -15;
pub const PMX_ERR_AUTH: pmx_status = -16;
pub const PMX_ERR_UPSTREAM_PROTOCOL: pmx_status = -17;
pub const PMX_ERR_STREAM_INTERRUPTED: pmx_status = -18;
pub const PMX_ERR_UPSTREAM_BAD_REQUEST: pmx_status = -19;
pub const PMX_ERR_MODEL_NOT_FOUND: pmx_status = -20;
pub const PMX_ERR_UNSUPPORTED: pmx_status = -21;
pub const PMX_ERR_UPSTREAM_SERVER: pmx_status = -22;
pub const PMX_ERR_ROUTER_CLOSED: pmx_status = -23;
pub const PMX_ERR_RESPONSE_TOO_LARGE: pmx_status = -24;
pub const PMX_ERR_QUOTA_EXCEEDED: pmx_status = -25;
pub const PMX_ERR_PERMISSION: pmx_status = -26;
pub const PMX_ERR_MODEL_NOT_LOADED: pmx_status = -27;
pub const PMX_ERR_CONTEXT_LENGTH_EXCEEDED: pmx_status = -28;
pub const PMX_ERR_CONTENT_FILTERED: pmx_status = -29;
pub const PMX_ERR_BUDGET_EXCEEDED: pmx_status = -30;
pub const PMX_ERR_CIRCUIT_OPEN: pmx_status = -31;
pub const PMX_ERR_WOULD_DEADLOCK: pmx_status = -32;
pub const PMX_ERR_INTERNAL: pmx_status = -99;
/// Every error status of the header, in header order (PMX_OK excluded).
pub const PMX_ERR_ALL: &[pmx_status] = &[
    PMX_ERR_INVALID_ARGUMENT,
    PMX_ERR_INVALID_JSON,
    PMX_ERR_INVALID_UTF8,
    PMX_ERR_CONFIG,
    PMX_ERR_ENV_VAR_MISSING,
    PMX_ERR_UNKNOWN_PROVIDER_TYPE,
    PMX_ERR_INVALID_REQUEST,
    PMX_ERR_NO_PROVIDER,
    PMX_ERR_PROVIDER_NOT_FOUND,
    PMX_ERR_DUPLICATE_PROVIDER,
    PMX_ERR_CANCELLED,
    PMX_ERR_TIMEOUT,
    PMX_ERR_CONNECTION,
    PMX_ERR_UPSTREAM_HTTP,
    PMX_ERR_RATE_LIMITED,
    PMX_ERR_AUTH,
    PMX_ERR_UPSTREAM_PROTOCOL,
    PMX_ERR_STREAM_INTERRUPTED,
    PMX_ERR_UPSTREAM_BAD_REQUEST,
    PMX_ERR_MODEL_NOT_FOUND,
    PMX_ERR_UNSUPPORTED,
    PMX_ERR_UPSTREAM_SERVER,
    PMX_ERR_ROUTER_CLOSED,
    PMX_ERR_RESPONSE_TOO_LARGE,
    PMX_ERR_QUOTA_EXCEEDED,
    PMX_ERR_PERMISSION,
    PMX_ERR_MODEL_NOT_LOADED,
    PMX_ERR_CONTEXT_LENGTH_EXCEEDED,
    PMX_ERR_CONTENT_FILTERED,
    PMX_ERR_BUDGET_EXCEEDED,
    PMX_ERR_CIRCUIT_OPEN,
    PMX_ERR_WOULD_DEADLOCK,
    PMX_ERR_INTERNAL,
];
// END GENERATED abi:rust-status

/// Typed event types (pmx_event.type).
// BEGIN GENERATED abi:rust-event-types (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
pub const PMX_EVENT_START: i32 = 1;
pub const PMX_EVENT_DELTA: i32 = 2;
pub const PMX_EVENT_RETRY: i32 = 3;
pub const PMX_EVENT_FALLBACK: i32 = 4;
pub const PMX_EVENT_USAGE: i32 = 5;
pub const PMX_EVENT_DONE: i32 = 6;
pub const PMX_EVENT_ERROR: i32 = 7;
// END GENERATED abi:rust-event-types

pub const PMX_LOG_TRACE: i32 = 0;
pub const PMX_LOG_DEBUG: i32 = 1;
pub const PMX_LOG_INFO: i32 = 2;
pub const PMX_LOG_WARN: i32 = 3;
pub const PMX_LOG_ERROR: i32 = 4;

/// `typedef struct pmx_error { pmx_status code; int32_t http_status; int32_t attempts;
/// char provider[64]; char message[512]; } pmx_error;` (588 bytes, alignment 4).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct pmx_error {
    /// The status the call returned.
    pub code: pmx_status,
    /// HTTP status of the provider's last answer, 0 when there was none.
    pub http_status: i32,
    /// Number of provider attempts made.
    pub attempts: i32,
    /// Name of the provider of the last attempt, "" when none. NUL-terminated.
    pub provider: [c_char; 64],
    /// Human-readable message. NUL-terminated.
    pub message: [c_char; 512],
}

impl Default for pmx_error {
    fn default() -> Self {
        pmx_error {
            code: PMX_OK,
            http_status: 0,
            attempts: 0,
            provider: [0; 64],
            message: [0; 512],
        }
    }
}

// Compile-time layout checks against the header.
const _: () = assert!(core::mem::size_of::<pmx_error>() == 4 + 4 + 4 + 64 + 512);
const _: () = assert!(core::mem::align_of::<pmx_error>() == 4);

/// `PMX_EVENT_SIZE_MIN`: the smallest `event_size` `pmx_stream_next` accepts (through `json`,
/// the last field of the first version of `pmx_event`; `choice_index` came after it).
pub const PMX_EVENT_SIZE_MIN: usize = core::mem::offset_of!(pmx_event, json) + core::mem::size_of::<pmx_str>();

/// `pmx_stream_next` flag: fill every event's `json`, not only DONE's and ERROR's.
pub const PMX_NEXT_WITH_JSON: u32 = 1;

/// `typedef struct pmx_str { const char *ptr; size_t len; } pmx_str;`: a borrowed UTF-8
/// string (NUL after `len` bytes); absent is `{ NULL, 0 }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pmx_str {
    pub ptr: *const c_char,
    pub len: usize,
}

/// `pmx_tool_call_delta`: one entry of a delta's tool_calls; `index` -1 when absent.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pmx_tool_call_delta {
    pub index: i64,
    pub id: pmx_str,
    /// The C field `type`.
    pub type_: pmx_str,
    pub name: pmx_str,
    pub arguments: pmx_str,
}

/// `pmx_event`: one event as a borrowed view (see the header for which fields a type fills;
/// counts are -1 and amounts NaN when absent). Only ever grows at the end: pass
/// `size_of::<pmx_event>()` as `pmx_stream_next`'s `event_size`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pmx_event {
    /// The C field `type`: PMX_EVENT_*.
    pub type_: i32,
    pub attempt: i32,
    pub status: pmx_status,
    pub http_status: i32,
    pub delay_ms: i64,
    pub text: pmx_str,
    pub reasoning: pmx_str,
    pub provider: pmx_str,
    pub model: pmx_str,
    pub next_provider: pmx_str,
    pub finish_reason: pmx_str,
    pub tool_calls: *const pmx_tool_call_delta,
    pub tool_call_count: usize,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
    pub cached_tokens: i64,
    pub cost_usd: f64,
    pub upstream_cost_usd: f64,
    pub tokens_per_second: f64,
    pub json: pmx_str,
    /// DELTA of a request with `n` > 1: the choice it belongs to; -1 for every other event.
    pub choice_index: i64,
}

// Layout checks against the header (x86_64 / aarch64 figures of sizeof in C).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<pmx_tool_call_delta>() == 72);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<pmx_event>() == 216);
const _: () = assert!(PMX_EVENT_SIZE_MIN == 208);

/// Opaque `pmx_provider`.
#[repr(C)]
pub struct pmx_provider {
    _private: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// Opaque `pmx_router`.
#[repr(C)]
pub struct pmx_router {
    _private: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// Opaque `pmx_stream`.
#[repr(C)]
pub struct pmx_stream {
    _private: [u8; 0],
    _not_send_sync: core::marker::PhantomData<(*mut u8, core::marker::PhantomPinned)>,
}

/// `typedef void (*pmx_log_fn)(int32_t level, const char *message, size_t len, void *userdata);`
pub type pmx_log_fn = Option<
    unsafe extern "C" fn(level: i32, message: *const c_char, len: usize, userdata: *mut c_void),
>;

/// `typedef void (*pmx_observer_fn)(const char *record_json, size_t len, void *userdata);`
pub type pmx_observer_fn = Option<
    unsafe extern "C" fn(record_json: *const c_char, len: usize, userdata: *mut c_void),
>;

/// `typedef int32_t (*pmx_event_fn)(const char *event_json, size_t len, void *userdata);`
pub type pmx_event_fn = Option<
    unsafe extern "C" fn(event_json: *const c_char, len: usize, userdata: *mut c_void) -> i32,
>;

extern "C" {
    pub fn pmx_version_number() -> i32;
    pub fn pmx_version_string() -> *const c_char;
    pub fn pmx_status_name(code: pmx_status) -> *const c_char;

    pub fn pmx_string_free(s: *mut c_char);

    pub fn pmx_set_log_callback(f: pmx_log_fn, min_level: i32, userdata: *mut c_void);

    pub fn pmx_provider_new(
        out: *mut *mut pmx_provider,
        provider_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_provider_free(provider: *mut pmx_provider);

    pub fn pmx_router_new(
        out: *mut *mut pmx_router,
        router_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_free(router: *mut pmx_router);
    pub fn pmx_router_add_provider(
        router: *mut pmx_router,
        provider: *const pmx_provider,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_remove_provider(
        router: *mut pmx_router,
        name: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;

    pub fn pmx_router_complete(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        request_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_stream(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        request_json: *const c_char,
        on_event: pmx_event_fn,
        userdata: *mut c_void,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_stream_async(
        out: *mut *mut pmx_stream,
        router: *mut pmx_router,
        request_json: *const c_char,
        on_event: pmx_event_fn,
        userdata: *mut c_void,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_stream_open(
        out: *mut *mut pmx_stream,
        router: *mut pmx_router,
        request_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_stream_next(
        out: *mut pmx_event,
        capacity: usize,
        event_size: usize,
        out_count: *mut usize,
        stream: *mut pmx_stream,
        timeout_ms: i32,
        flags: u32,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_stream_cancel(stream: *mut pmx_stream);
    pub fn pmx_stream_free(stream: *mut pmx_stream);

    pub fn pmx_router_embed(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        request_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_call(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        operation: *const c_char,
        request_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_call_stream(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        operation: *const c_char,
        request_json: *const c_char,
        on_event: pmx_event_fn,
        userdata: *mut c_void,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_models(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_models_query(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        query_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_health(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_stats(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_stats_ex(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        options_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_update_routing(
        router: *mut pmx_router,
        routing_json: *const c_char,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_set_observer(
        router: *mut pmx_router,
        f: pmx_observer_fn,
        userdata: *mut c_void,
        err: *mut pmx_error,
    ) -> pmx_status;
    pub fn pmx_router_model_manage(
        out: *mut *mut c_char,
        router: *mut pmx_router,
        request_json: *const c_char,
        on_event: pmx_event_fn,
        userdata: *mut c_void,
        err: *mut pmx_error,
    ) -> pmx_status;
}
