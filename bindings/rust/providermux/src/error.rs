// SPDX-License-Identifier: Apache-2.0
//! [`Error`]: a failed call or a stream that ended with an `error` event.

use std::fmt;
use std::os::raw::c_char;

use crate::json;
use crate::sys;

/// The kind of an [`Error`]: one variant per `PMX_ERR_*` status of include/providermux.h.
/// Status values are append-only; a code this crate does not know is [`ErrorKind::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    // BEGIN GENERATED abi:rust-kinds (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
    /// PMX_ERR_INVALID_ARGUMENT: a NULL or out-of-range argument (here also: a NUL byte inside
    /// an input string).
    InvalidArgument,
    /// PMX_ERR_INVALID_JSON: an input string is not valid JSON; the message gives line, column
    /// and byte offset.
    InvalidJson,
    /// PMX_ERR_INVALID_UTF8: an input string is not valid UTF-8.
    InvalidUtf8,
    /// PMX_ERR_CONFIG: the router or provider config is invalid; the message names the field
    /// and the reason.
    Config,
    /// PMX_ERR_ENV_VAR_MISSING: a "${VAR}" in the config names an environment variable that is
    /// not set (named, never its value).
    EnvVarMissing,
    /// PMX_ERR_UNKNOWN_PROVIDER_TYPE: a provider "type" is not one this library knows.
    UnknownProviderType,
    /// PMX_ERR_INVALID_REQUEST: the request JSON is well-formed but invalid (empty "messages",
    /// wrong field type, ...).
    InvalidRequest,
    /// PMX_ERR_NO_PROVIDER: no configured provider serves the requested model.
    NoProvider,
    /// PMX_ERR_PROVIDER_NOT_FOUND: a provider named in a call or in "route" does not exist in
    /// this router.
    ProviderNotFound,
    /// PMX_ERR_DUPLICATE_PROVIDER: a provider with this name already exists in the router.
    DuplicateProvider,
    /// PMX_ERR_CANCELLED: the request was cancelled (pmx_stream_cancel, a non-zero callback
    /// return, router freed).
    Cancelled,
    /// PMX_ERR_TIMEOUT: a timeout expired (connect, first byte, idle between chunks or total).
    Timeout,
    /// PMX_ERR_CONNECTION: the connection to the provider failed (refused, reset, DNS, TLS).
    Connection,
    /// PMX_ERR_UPSTREAM_HTTP: the provider answered with an HTTP error not covered by a more
    /// specific code.
    UpstreamHttp,
    /// PMX_ERR_RATE_LIMITED: the provider rate-limited the request (HTTP 429).
    RateLimited,
    /// PMX_ERR_AUTH: the provider rejected the credentials (HTTP 401).
    Auth,
    /// PMX_ERR_UPSTREAM_PROTOCOL: the provider's response could not be understood (malformed
    /// JSON or event, truncated body).
    UpstreamProtocol,
    /// PMX_ERR_STREAM_INTERRUPTED: the provider reported an error inside a stream that had
    /// already produced output.
    StreamInterrupted,
    /// PMX_ERR_UPSTREAM_BAD_REQUEST: the provider rejected the request as invalid (HTTP
    /// 400/413/422): not retried, no failover.
    UpstreamBadRequest,
    /// PMX_ERR_MODEL_NOT_FOUND: the provider does not serve the model (HTTP 404).
    ModelNotFound,
    /// PMX_ERR_UNSUPPORTED: the operation is not supported by the provider (e.g. embeddings on
    /// a chat-only provider).
    Unsupported,
    /// PMX_ERR_UPSTREAM_SERVER: the provider's server failed (HTTP 5xx).
    UpstreamServer,
    /// PMX_ERR_ROUTER_CLOSED: the router is shutting down.
    RouterClosed,
    /// PMX_ERR_RESPONSE_TOO_LARGE: a response exceeded the configured size limit.
    ResponseTooLarge,
    /// PMX_ERR_QUOTA_EXCEEDED: the account's quota or credit is used up (e.g. OpenAI
    /// insufficient_quota): not retried.
    QuotaExceeded,
    /// PMX_ERR_PERMISSION: the credentials are valid but not allowed this model or operation
    /// (HTTP 403).
    Permission,
    /// PMX_ERR_MODEL_NOT_LOADED: the model exists but is not loaded yet (a local server still
    /// loading it): retried.
    ModelNotLoaded,
    /// PMX_ERR_CONTEXT_LENGTH_EXCEEDED: the prompt does not fit the model's context window: not
    /// retried, no failover.
    ContextLengthExceeded,
    /// PMX_ERR_CONTENT_FILTERED: the provider refused the content (safety filters): not
    /// retried, no failover.
    ContentFiltered,
    /// PMX_ERR_BUDGET_EXCEEDED: the router's or the lane's spending budget for the current
    /// window is used up and the budget says `"on_exceeded": "fail"` (or no zero-cost provider
    /// could serve the request).
    BudgetExceeded,
    /// PMX_ERR_CIRCUIT_OPEN: every candidate's circuit breaker is open (too many recent
    /// failures); the error message says when the first one half-opens. error_class
    /// "unavailable".
    CircuitOpen,
    /// PMX_ERR_WOULD_DEADLOCK: a blocking call (pmx_router_complete, _stream, _embed, _models,
    /// _health, _model_manage) was made on one of this library's I/O threads, i.e. from inside
    /// a callback the library runs there (an async stream's event callback, or the log callback
    /// when the line came from an I/O thread). It would wait for an I/O thread that is busy
    /// running the caller: it returns at once instead, nothing is started. Call it from another
    /// thread, or use pmx_router_stream_async. error_class "invalid_request".
    WouldDeadlock,
    /// PMX_ERR_INTERNAL: an internal error; please report it.
    Internal,
    // END GENERATED abi:rust-kinds
    /// A status this crate does not know (a newer library).
    Unknown(i32),
}

impl ErrorKind {
    /// The kind of a `pmx_status` (PMX_OK maps to `Unknown(0)`; it is never an error).
    pub fn from_code(code: i32) -> ErrorKind {
        use ErrorKind::*;
        match code {
            // BEGIN GENERATED abi:rust-from-code (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
            sys::PMX_ERR_INVALID_ARGUMENT => InvalidArgument,
            sys::PMX_ERR_INVALID_JSON => InvalidJson,
            sys::PMX_ERR_INVALID_UTF8 => InvalidUtf8,
            sys::PMX_ERR_CONFIG => Config,
            sys::PMX_ERR_ENV_VAR_MISSING => EnvVarMissing,
            sys::PMX_ERR_UNKNOWN_PROVIDER_TYPE => UnknownProviderType,
            sys::PMX_ERR_INVALID_REQUEST => InvalidRequest,
            sys::PMX_ERR_NO_PROVIDER => NoProvider,
            sys::PMX_ERR_PROVIDER_NOT_FOUND => ProviderNotFound,
            sys::PMX_ERR_DUPLICATE_PROVIDER => DuplicateProvider,
            sys::PMX_ERR_CANCELLED => Cancelled,
            sys::PMX_ERR_TIMEOUT => Timeout,
            sys::PMX_ERR_CONNECTION => Connection,
            sys::PMX_ERR_UPSTREAM_HTTP => UpstreamHttp,
            sys::PMX_ERR_RATE_LIMITED => RateLimited,
            sys::PMX_ERR_AUTH => Auth,
            sys::PMX_ERR_UPSTREAM_PROTOCOL => UpstreamProtocol,
            sys::PMX_ERR_STREAM_INTERRUPTED => StreamInterrupted,
            sys::PMX_ERR_UPSTREAM_BAD_REQUEST => UpstreamBadRequest,
            sys::PMX_ERR_MODEL_NOT_FOUND => ModelNotFound,
            sys::PMX_ERR_UNSUPPORTED => Unsupported,
            sys::PMX_ERR_UPSTREAM_SERVER => UpstreamServer,
            sys::PMX_ERR_ROUTER_CLOSED => RouterClosed,
            sys::PMX_ERR_RESPONSE_TOO_LARGE => ResponseTooLarge,
            sys::PMX_ERR_QUOTA_EXCEEDED => QuotaExceeded,
            sys::PMX_ERR_PERMISSION => Permission,
            sys::PMX_ERR_MODEL_NOT_LOADED => ModelNotLoaded,
            sys::PMX_ERR_CONTEXT_LENGTH_EXCEEDED => ContextLengthExceeded,
            sys::PMX_ERR_CONTENT_FILTERED => ContentFiltered,
            sys::PMX_ERR_BUDGET_EXCEEDED => BudgetExceeded,
            sys::PMX_ERR_CIRCUIT_OPEN => CircuitOpen,
            sys::PMX_ERR_WOULD_DEADLOCK => WouldDeadlock,
            sys::PMX_ERR_INTERNAL => Internal,
            // END GENERATED abi:rust-from-code
            other => Unknown(other),
        }
    }

    /// The `pmx_status` value of this kind.
    pub fn code(self) -> i32 {
        use ErrorKind::*;
        match self {
            // BEGIN GENERATED abi:rust-to-code (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
            InvalidArgument => sys::PMX_ERR_INVALID_ARGUMENT,
            InvalidJson => sys::PMX_ERR_INVALID_JSON,
            InvalidUtf8 => sys::PMX_ERR_INVALID_UTF8,
            Config => sys::PMX_ERR_CONFIG,
            EnvVarMissing => sys::PMX_ERR_ENV_VAR_MISSING,
            UnknownProviderType => sys::PMX_ERR_UNKNOWN_PROVIDER_TYPE,
            InvalidRequest => sys::PMX_ERR_INVALID_REQUEST,
            NoProvider => sys::PMX_ERR_NO_PROVIDER,
            ProviderNotFound => sys::PMX_ERR_PROVIDER_NOT_FOUND,
            DuplicateProvider => sys::PMX_ERR_DUPLICATE_PROVIDER,
            Cancelled => sys::PMX_ERR_CANCELLED,
            Timeout => sys::PMX_ERR_TIMEOUT,
            Connection => sys::PMX_ERR_CONNECTION,
            UpstreamHttp => sys::PMX_ERR_UPSTREAM_HTTP,
            RateLimited => sys::PMX_ERR_RATE_LIMITED,
            Auth => sys::PMX_ERR_AUTH,
            UpstreamProtocol => sys::PMX_ERR_UPSTREAM_PROTOCOL,
            StreamInterrupted => sys::PMX_ERR_STREAM_INTERRUPTED,
            UpstreamBadRequest => sys::PMX_ERR_UPSTREAM_BAD_REQUEST,
            ModelNotFound => sys::PMX_ERR_MODEL_NOT_FOUND,
            Unsupported => sys::PMX_ERR_UNSUPPORTED,
            UpstreamServer => sys::PMX_ERR_UPSTREAM_SERVER,
            RouterClosed => sys::PMX_ERR_ROUTER_CLOSED,
            ResponseTooLarge => sys::PMX_ERR_RESPONSE_TOO_LARGE,
            QuotaExceeded => sys::PMX_ERR_QUOTA_EXCEEDED,
            Permission => sys::PMX_ERR_PERMISSION,
            ModelNotLoaded => sys::PMX_ERR_MODEL_NOT_LOADED,
            ContextLengthExceeded => sys::PMX_ERR_CONTEXT_LENGTH_EXCEEDED,
            ContentFiltered => sys::PMX_ERR_CONTENT_FILTERED,
            BudgetExceeded => sys::PMX_ERR_BUDGET_EXCEEDED,
            CircuitOpen => sys::PMX_ERR_CIRCUIT_OPEN,
            WouldDeadlock => sys::PMX_ERR_WOULD_DEADLOCK,
            Internal => sys::PMX_ERR_INTERNAL,
            // END GENERATED abi:rust-to-code
            Unknown(code) => code,
        }
    }

    /// True for errors in what the caller passed (config, request, arguments): retrying the
    /// same input gives the same error.
    pub fn is_input_error(self) -> bool {
        use ErrorKind::*;
        matches!(
            self,
            InvalidArgument
                | InvalidJson
                | InvalidUtf8
                | Config
                | EnvVarMissing
                | UnknownProviderType
                | InvalidRequest
                | NoProvider
                | ProviderNotFound
                | DuplicateProvider
        )
    }

    /// True for transient provider-side failures that may succeed when tried again later
    /// (timeouts, connection failures, rate limits, 5xx, a model still loading, open
    /// circuits, interrupted streams). The router already retried and failed over within the
    /// call; this only says whether a later retry by the application is reasonable.
    pub fn is_transient(self) -> bool {
        use ErrorKind::*;
        matches!(
            self,
            Timeout
                | Connection
                | RateLimited
                | UpstreamServer
                | ModelNotLoaded
                | CircuitOpen
                | StreamInterrupted
                | UpstreamProtocol
        )
    }
}

/// A failed library call, or a stream that ended with an `error` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The (negative) `pmx_status`.
    pub code: i32,
    /// The status name, e.g. "PMX_ERR_TIMEOUT" (from `pmx_status_name`).
    pub status_name: String,
    /// HTTP status of the provider's last answer, 0 when there was none.
    pub http_status: i32,
    /// Number of provider attempts made (0 when the call failed before routing).
    pub attempts: i32,
    /// Provider of the last attempt, "" when none.
    pub provider: String,
    /// What went wrong; names the field for config errors, lists every attempt when all failed.
    pub message: String,
}

impl Error {
    /// The [`ErrorKind`] of [`Error::code`].
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_code(self.code)
    }

    /// Same as `self.kind().is_transient()`.
    pub fn is_transient(&self) -> bool {
        self.kind().is_transient()
    }

    /// True when the request was cancelled (the caller asked for it).
    pub fn is_cancelled(&self) -> bool {
        self.code == sys::PMX_ERR_CANCELLED
    }

    /// An error made on the Rust side (no library call failed), e.g. a NUL byte in an input.
    pub fn new(code: i32, message: impl Into<String>) -> Error {
        Error {
            code,
            status_name: crate::status_name(code),
            http_status: 0,
            attempts: 0,
            provider: String::new(),
            message: message.into(),
        }
    }

    /// From a filled-in `pmx_error` after a call returned `code`.
    pub(crate) fn from_raw(code: i32, err: &sys::pmx_error) -> Error {
        let code = if code != 0 { code } else { err.code };
        Error {
            code,
            status_name: crate::status_name(code),
            http_status: err.http_status,
            attempts: err.attempts,
            provider: fixed_cstr(&err.provider),
            message: fixed_cstr(&err.message),
        }
    }

    /// From the JSON of a stream's `error` event (`code`, `status_name`, `http_status`,
    /// `provider`, `message`, `attempts` as a count or as the list of attempt objects).
    pub fn from_event_json(event: &str) -> Error {
        let code = json::int_field(event, "code").map_or(sys::PMX_ERR_INTERNAL, |c| c as i32);
        let attempts = match json::field(event, "attempts") {
            Some(raw) if raw.starts_with('[') => json::array_len(raw).unwrap_or(0) as i32,
            Some(raw) => raw.parse().unwrap_or(0),
            None => 0,
        };
        Error {
            code,
            status_name: json::string_field(event, "status_name")
                .unwrap_or_else(|| crate::status_name(code)),
            http_status: json::int_field(event, "http_status").unwrap_or(0) as i32,
            attempts,
            provider: json::string_field(event, "provider").unwrap_or_default(),
            message: json::string_field(event, "message").unwrap_or_default(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.status_name)
        } else {
            write!(f, "{}: {}", self.status_name, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// A NUL-terminated string inside a fixed array (the whole array when no NUL: never overruns).
fn fixed_cstr(buf: &[c_char]) -> String {
    // SAFETY: c_char and u8 have the same size and alignment; the slice covers `buf` only.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr() as *const u8, buf.len()) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}
