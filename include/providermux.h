/* SPDX-License-Identifier: Apache-2.0 */
/*
 * providermux.h — the C ABI of libprovidermux, one in-process router for LLM providers.
 *
 * This header is the reference. Conventions that hold for every declaration below:
 *
 *  - Status: every fallible function returns a pmx_status (int32_t). 0 is PMX_OK, errors are
 *    negative. Values are append-only: never reused, never renumbered.
 *  - Errors: the last argument of a fallible function is an optional, caller-owned
 *    `pmx_error *err`. When it is not NULL and the call fails, it is filled in (message
 *    NUL-terminated, truncated to fit). On success it is left with code PMX_OK and an empty
 *    message. API keys never appear in any message, log line, stats document or response.
 *    Masking is a byte search over every string handed out (errors, log lines, responses,
 *    stream events, models, health, stats, transcript), done before any truncation: keys of
 *    8 bytes or more are masked wherever their bytes appear (also JSON-escaped), as "****"
 *    (+ their last 4 bytes when 16 bytes or longer); keys of 1-7 bytes are placeholders,
 *    masked as whole words in error messages and log lines only. See README "Behaviour
 *    choices".
 *  - Config and request strings that reach an upstream request line or header (base_url,
 *    api_key, headers, type-specific options, model names) are refused when they hold CR, LF,
 *    NUL or another control character: PMX_ERR_CONFIG / PMX_ERR_INVALID_REQUEST naming the
 *    field. Names in URL paths are percent-encoded.
 *  - Output: out-parameters come first and are named `out`. On failure `*out` is set to NULL.
 *    Strings the library returns are owned by the caller and MUST be released with
 *    pmx_string_free(), never free(). Every *_free function accepts NULL.
 *  - Input: strings are UTF-8 JSON, NUL-terminated, copied by the library before the call
 *    returns (the caller may free them right after). Invalid UTF-8 gives PMX_ERR_INVALID_UTF8,
 *    unparsable JSON gives PMX_ERR_INVALID_JSON with the line and column; so does JSON nested
 *    deeper than 256 levels (the root is level 1), which keeps the stack a call needs small:
 *    a request or answer nested to the limit runs on a thread with a 64 KiB stack.
 *  - Threading: a router is safe to share between threads. Each router owns one I/O thread
 *    (libcurl multi event loop) that carries all of its requests; no thread per request. It
 *    gets at least 1 MiB of stack, whatever the process default (ulimit -s, musl's 128 KiB).
 *  - Re-entrancy: the blocking functions (pmx_router_complete, _stream, _embed, _models,
 *    _health, _model_manage) wait for an I/O thread, so on ANY router's I/O thread (inside an
 *    async stream's callback, or a log line delivered there) they return
 *    PMX_ERR_WOULD_DEADLOCK at once instead of waiting for themselves. Any router's, not only
 *    their own: a blocking call on router B from A's I/O thread while a callback of B calls
 *    into A would deadlock the two. The others (stats, add/remove_provider, update_routing,
 *    stream_async, stream_cancel/free, set_log_callback, status names, frees) work from every
 *    callback. No library lock is held while a callback (stream events, model-management
 *    progress, log lines) runs.
 *  - Using a handle after it was freed is undefined behaviour.
 *  - Global state and libcurl: there is no pmx_global_init. The library calls
 *    curl_global_init(CURL_GLOBAL_DEFAULT) itself, once per process, when the first router is
 *    created (pmx_router_new), and never calls curl_global_cleanup. A host that uses libcurl
 *    itself needs to do nothing for this library; the usual rule of libcurl still holds for the
 *    host's own use: call curl_global_init once, early, before starting threads (with libcurl
 *    older than 7.84.0, or one built without CURL_VERSION_THREADSAFE, curl_global_init is not
 *    thread-safe, so the host's call must not race with the first pmx_router_new on another
 *    thread; making it before the first router is created is always safe). libcurl counts
 *    init calls, so the host's curl_global_cleanup does not tear libcurl down under running
 *    routers. Every transfer sets CURLOPT_NOSIGNAL: the library installs no signal handler.
 *
 * Documentation of each declaration below, in the style of libgit2's and curl's headers:
 * what it does, its parameters, what it returns, who owns what, which threads may call it,
 * and its errors (the status codes it returns; err, when given, is filled for every one).
 *
 * JSON vocabulary (docs/VOCABULARY.md is the full reference):
 *  - Router config: {"providers":[{"name","type","base_url","api_key","models",...}],
 *    "routing":{...}, "retry":{...}, "timeouts":{...}}. "${ENV_VAR}" in a string is expanded.
 *  - Request: an OpenAI Chat Completions request plus an optional "route" object.
 *  - Response: an OpenAI "chat.completion" object plus "provider", "attempts", "latency_ms",
 *    "ttft_ms" (streams) and "usage".
 *  - Stream events: {"type":"start"|"delta"|"retry"|"fallback"|"usage"|"done"|"error", ...}.
 */
#ifndef PROVIDERMUX_H
#define PROVIDERMUX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PMX_API __attribute__((visibility("default")))
#else
#define PMX_API
#endif

/* ---------------------------------------------------------------------------------------- */
/* Versions                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/** Version of this header. The runtime library reports its own with pmx_version_number(). */
/* BEGIN GENERATED abi:c-version (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this) */
#define PMX_VERSION_MAJOR 0
#define PMX_VERSION_MINOR 1
#define PMX_VERSION_PATCH 0
#define PMX_VERSION_STRING "0.1.0"
/** The ABI number; it is the SONAME suffix (libprovidermux.so.0) and changes only on ABI breaks. */
#define PMX_ABI_VERSION 0
/* END GENERATED abi:c-version */
/** A version as one comparable integer: major * 10000 + minor * 100 + patch (minor and patch
 *  stay below 100). Like curl's CURL_VERSION_BITS. */
#define PMX_VERSION_ENCODE(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
/** This header's version, encoded; comparable with pmx_version_number() (e.g. 100 for 0.1.0). */
#define PMX_VERSION_NUMBER PMX_VERSION_ENCODE(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, PMX_VERSION_PATCH)
/**
 * Compile-time check, like curl's CURL_AT_LEAST_VERSION: true when this header is version
 * major.minor.patch or newer. Usable in #if:
 *
 *     #if PMX_AT_LEAST_VERSION(0, 2, 0)
 *         ... code that needs 0.2.0's declarations ...
 *     #endif
 *
 * It tells what the header declares, not which library was loaded: a program that needs a
 * minimum at run time compares pmx_version_number() with PMX_VERSION_ENCODE(...) (symbols are
 * only added within one ABI number, so an older library may lack a function this header has).
 */
#define PMX_AT_LEAST_VERSION(major, minor, patch) \
    (PMX_VERSION_NUMBER >= PMX_VERSION_ENCODE(major, minor, patch))

/**
 * Runtime version of the loaded library, encoded like PMX_VERSION_NUMBER (compare it with
 * PMX_VERSION_ENCODE(major, minor, patch) to require a minimum at run time).
 * Returns: the version number. Cannot fail. Any thread.
 */
PMX_API int32_t pmx_version_number(void);

/**
 * Runtime version as a static string such as "0.1.0".
 * Returns: never NULL; static, do not free. Cannot fail. Any thread.
 */
PMX_API const char *pmx_version_string(void);

/* ---------------------------------------------------------------------------------------- */
/* Status codes and errors                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef int32_t pmx_status;

/* BEGIN GENERATED abi:c-status (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this) */
#define PMX_OK                          0
/** A required pointer argument was NULL, or an argument is out of range. */
#define PMX_ERR_INVALID_ARGUMENT       -1
/** An input string is not valid JSON; the message gives line, column and byte offset. */
#define PMX_ERR_INVALID_JSON           -2
/** An input string is not valid UTF-8. */
#define PMX_ERR_INVALID_UTF8           -3
/** The router or provider config is invalid; the message names the field and the reason. */
#define PMX_ERR_CONFIG                 -4
/** A "${VAR}" in the config names an environment variable that is not set (named, never its
 *  value). */
#define PMX_ERR_ENV_VAR_MISSING        -5
/** A provider "type" is not one this library knows. */
#define PMX_ERR_UNKNOWN_PROVIDER_TYPE  -6
/** The request JSON is well-formed but invalid (empty "messages", wrong field type, ...). */
#define PMX_ERR_INVALID_REQUEST        -7
/** No configured provider serves the requested model. */
#define PMX_ERR_NO_PROVIDER            -8
/** A provider named in a call or in "route" does not exist in this router. */
#define PMX_ERR_PROVIDER_NOT_FOUND     -9
/** A provider with this name already exists in the router. */
#define PMX_ERR_DUPLICATE_PROVIDER    -10
/** The request was cancelled (pmx_stream_cancel, a non-zero callback return, router freed). */
#define PMX_ERR_CANCELLED             -11
/** A timeout expired (connect, first byte, idle between chunks or total). */
#define PMX_ERR_TIMEOUT               -12
/** The connection to the provider failed (refused, reset, DNS, TLS). */
#define PMX_ERR_CONNECTION            -13
/** The provider answered with an HTTP error not covered by a more specific code. */
#define PMX_ERR_UPSTREAM_HTTP         -14
/** The provider rate-limited the request (HTTP 429). */
#define PMX_ERR_RATE_LIMITED          -15
/** The provider rejected the credentials (HTTP 401). */
#define PMX_ERR_AUTH                  -16
/** The provider's response could not be understood (malformed JSON or event, truncated body). */
#define PMX_ERR_UPSTREAM_PROTOCOL     -17
/** The provider reported an error inside a stream that had already produced output. */
#define PMX_ERR_STREAM_INTERRUPTED    -18
/** The provider rejected the request as invalid (HTTP 400/413/422): not retried, no failover. */
#define PMX_ERR_UPSTREAM_BAD_REQUEST  -19
/** The provider does not serve the model (HTTP 404). */
#define PMX_ERR_MODEL_NOT_FOUND       -20
/** The operation is not supported by the provider (e.g. embeddings on a chat-only provider). */
#define PMX_ERR_UNSUPPORTED           -21
/** The provider's server failed (HTTP 5xx). */
#define PMX_ERR_UPSTREAM_SERVER       -22
/** The router is shutting down. */
#define PMX_ERR_ROUTER_CLOSED         -23
/** A response exceeded the configured size limit. */
#define PMX_ERR_RESPONSE_TOO_LARGE    -24
/** The account's quota or credit is used up (e.g. OpenAI insufficient_quota): not retried. */
#define PMX_ERR_QUOTA_EXCEEDED        -25
/** The credentials are valid but not allowed this model or operation (HTTP 403). */
#define PMX_ERR_PERMISSION            -26
/** The model exists but is not loaded yet (a local server still loading it): retried. */
#define PMX_ERR_MODEL_NOT_LOADED      -27
/** The prompt does not fit the model's context window: not retried, no failover. */
#define PMX_ERR_CONTEXT_LENGTH_EXCEEDED -28
/** The provider refused the content (safety filters): not retried, no failover. */
#define PMX_ERR_CONTENT_FILTERED      -29
/** The router's or the lane's spending budget for the current window is used up and the budget
 *  says `"on_exceeded": "fail"` (or no zero-cost provider could serve the request). */
#define PMX_ERR_BUDGET_EXCEEDED       -30
/** Every candidate's circuit breaker is open (too many recent failures); the error message says
 *  when the first one half-opens. error_class "unavailable". */
#define PMX_ERR_CIRCUIT_OPEN          -31
/** A blocking call (pmx_router_complete, _stream, _embed, _models, _health, _model_manage) was
 *  made on one of this library's I/O threads, i.e. from inside a callback the library runs
 *  there (an async stream's event callback, or the log callback when the line came from an I/O
 *  thread). It would wait for an I/O thread that is busy running the caller: it returns at once
 *  instead, nothing is started. Call it from another thread, or use pmx_router_stream_async.
 *  error_class "invalid_request". */
#define PMX_ERR_WOULD_DEADLOCK        -32
/** An internal error; please report it. */
#define PMX_ERR_INTERNAL              -99
/* END GENERATED abi:c-status */

/**
 * Name of a status code as a static string, e.g. "PMX_ERR_TIMEOUT".
 * code:    any value; "PMX_UNKNOWN_STATUS" for values this library does not know (a newer
 *          header's code, or a value that is not a status).
 * Returns: never NULL; static, do not free. Cannot fail. Any thread.
 */
PMX_API const char *pmx_status_name(pmx_status code);

/**
 * Error detail, owned by the caller (stack or heap), filled in by a failing call.
 * Fields are only ever appended at the end in a new ABI version (SONAME).
 */
typedef struct pmx_error {
    /** The status the call returned. */
    pmx_status code;
    /** HTTP status of the provider's last answer, 0 when there was none. */
    int32_t http_status;
    /** Number of provider attempts made (0 when the call failed before routing), candidates passed
        over included; also those left out of the error document's "attempts" array (at most 100
        entries, "attempts_omitted" counts the rest). A request sends at most
        limits.max_total_attempts (route.max_total_attempts) attempts. */
    int32_t attempts;
    /** Name of the provider of the last attempt, "" when none. NUL-terminated. */
    char provider[64];
    /** Human-readable message naming what was wrong; lists every attempt when all failed. */
    char message[512];
} pmx_error;

/* ---------------------------------------------------------------------------------------- */
/* Strings                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/**
 * Frees a string returned by this library (through an `out` parameter).
 * s:       the string, or NULL (then nothing happens). Never a string from elsewhere.
 * Cannot fail. Any thread, including from inside callbacks.
 */
PMX_API void pmx_string_free(char *s);

/* ---------------------------------------------------------------------------------------- */
/* Logging                                                                                  */
/* ---------------------------------------------------------------------------------------- */

#define PMX_LOG_TRACE 0
#define PMX_LOG_DEBUG 1
#define PMX_LOG_INFO  2
#define PMX_LOG_WARN  3
#define PMX_LOG_ERROR 4

/**
 * Log callback. `message` is UTF-8, borrowed for the duration of the call, NUL-terminated and
 * `len` bytes long (excluding the NUL). Secrets are masked before a line reaches it.
 */
typedef void (*pmx_log_fn)(int32_t level, const char *message, size_t len, void *userdata);

/**
 * Installs the process-wide log callback (the library logs nothing by default). Lines with
 * level < min_level are not produced. Pass fn = NULL to stop logging; after that call returns
 * the previous callback is never called again (it waits for a call of it running on another
 * thread to return — except when made from inside the callback itself, or on a library I/O
 * thread, where waiting could deadlock). Thread-safe.
 *
 * The callback may be called from any thread (routers' I/O threads included), never
 * concurrently with itself, and with no library lock held: it may call any library function,
 * pmx_set_log_callback included (that takes effect for the next line). A line logged while
 * another thread is inside the callback is not waited for: that thread delivers it right
 * after its call returns, so a line can reach the callback on another thread than the one
 * that logged it, shortly after that thread went on; lines keep their order. A line logged
 * from inside the callback (by a library call made there) is delivered after the callback
 * returns, never nested. At most 4096 lines wait for a slow callback; beyond that lines are
 * dropped and a PMX_LOG_WARN line says how many. On an I/O thread the blocking functions
 * return PMX_ERR_WOULD_DEADLOCK (see Re-entrancy at the top).
 *
 * fn:        the callback, or NULL to stop logging.
 * min_level: PMX_LOG_TRACE ... PMX_LOG_ERROR; values outside are clamped into that range.
 * userdata:  passed back to every call of fn, untouched; it must stay valid until fn is
 *            replaced (or set to NULL) and that call has returned.
 * Cannot fail (no status).
 */
PMX_API void pmx_set_log_callback(pmx_log_fn fn, int32_t min_level, void *userdata);

/*
 * Transcript (debugging aid, no function of its own). When the environment variable
 * PMX_TRANSCRIPT_DIR is set, the library appends to $PMX_TRANSCRIPT_DIR/pmx-<pid>.log one
 * line per string it hands to the caller: every log line at EVERY level (TRACE included,
 * whether or not a log callback is installed and whatever its min_level), every error
 * (filled pmx_error or `error` event: status name, HTTP status, provider, message, attempts),
 * every response document, every stream and model-management event, every stats document
 * (JSON and Prometheus text), model list and health document. Each line is
 * "<kind> <UTC time> <payload>", kind one of start, log, error, response, event, stats,
 * models, health, manage, record (an observer record); line breaks inside a payload are written as \n.
 *
 * The variable is read once per process, when the first router is created, the log callback
 * is first installed or the first error is returned, whichever comes first. Missing
 * directories are created (mode 0700), the file with mode 0600; writes are serialized, one
 * write(2) per line on an O_APPEND descriptor. If the file cannot be opened (or a write
 * fails) that is logged once at PMX_LOG_WARN and the transcript turns itself off; the library
 * never fails or crashes because of it. Unset, it costs one branch per call site.
 *
 * The transcript holds exactly what the caller received: API keys are masked as everywhere
 * ("****", plus the last 4 bytes of a key of 16 bytes or more) and never appear, but prompts, replies and provider error
 * messages do. Treat the file like the conversations themselves.
 */

/* ---------------------------------------------------------------------------------------- */
/* Providers                                                                                */
/* ---------------------------------------------------------------------------------------- */

/** A validated provider definition, not yet part of a router. */
typedef struct pmx_provider pmx_provider;

/**
 * Creates a provider from one provider JSON object, the same shape as one entry of the router
 * config's "providers" array (e.g. {"name":"local","type":"openai-compatible",
 * "base_url":"http://127.0.0.1:8080/v1"}). "${VAR}" strings are expanded now.
 *
 * out:           receives the new provider; the caller owns it and frees it with
 *                pmx_provider_free. NULL on failure.
 * provider_json: the provider object (UTF-8 JSON, copied).
 * err:           optional, caller-owned; filled on failure.
 * Returns: PMX_OK or an error below.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL), PMX_ERR_INVALID_UTF8, PMX_ERR_INVALID_JSON,
 *         PMX_ERR_CONFIG, PMX_ERR_UNKNOWN_PROVIDER_TYPE, PMX_ERR_ENV_VAR_MISSING.
 *         PMX_ERR_CONFIG also when a cloud type (one with a key variable: openai, anthropic,
 *         gemini, azure, cohere, ...) has no "api_key" and its variable is unset or empty; the
 *         message names the variable. "api_key": "" means "no key, on purpose" (nothing sent).
 * Thread-safe. Does not start any thread or touch the network.
 */
PMX_API pmx_status pmx_provider_new(pmx_provider **out, const char *provider_json, pmx_error *err);

/**
 * Frees a provider. Routers it was added to keep their own copy, unaffected.
 * provider: the provider, or NULL (then nothing happens).
 * Cannot fail. Any thread, but not while another call (e.g. pmx_router_add_provider on
 * another thread) is still using the same provider handle.
 */
PMX_API void pmx_provider_free(pmx_provider *provider);

/* ---------------------------------------------------------------------------------------- */
/* Routers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/** A router: providers, routing policy and one I/O thread. Safe to share between threads. */
typedef struct pmx_router pmx_router;

/**
 * Creates a router from a router config JSON document and starts its I/O thread. The first
 * router of the process also initializes libcurl (see "Global state and libcurl" at the top).
 *
 * out:         receives the router; the caller owns it and frees it with pmx_router_free.
 *              NULL on failure.
 * router_json: the router config (UTF-8 JSON, copied).
 * err:         optional, caller-owned; filled on failure.
 * Returns: PMX_OK or an error below; on failure no thread was left running.
 * Errors: as pmx_provider_new, plus PMX_ERR_DUPLICATE_PROVIDER. Unknown keys are errors.
 *         PMX_ERR_INTERNAL when libcurl cannot be initialized or the I/O thread not started.
 *         With "shared" (state on Redis: {"redis": "redis://[[user]:password@]HOST[:PORT][/DB]",
 *         "key_prefix": "pmx:", "timeout_ms": 20, "reconnect_ms": 1000}), PMX_ERR_CONFIG also
 *         when libhiredis.so.0.14 cannot be loaded (it is loaded on demand, only then); an
 *         unreachable Redis is NOT an error: the router starts degraded (local state) and
 *         connects later. With "shared" the call waits up to timeout_ms for the first connect.
 *         The password never appears in messages, logs or documents.
 * Thread-safe.
 */
PMX_API pmx_status pmx_router_new(pmx_router **out, const char *router_json, pmx_error *err);

/**
 * Frees a router. Async streams still running are cancelled; each still receives its terminal
 * event (on the I/O thread) before this function returns. Blocking calls on other threads must
 * have returned first. Must not be called from inside an event callback of the same router.
 * router: the router, or NULL (then nothing happens).
 * Cannot fail. Any thread but the router's own I/O thread (its callbacks). Blocks until the
 * I/O thread has stopped.
 */
PMX_API void pmx_router_free(pmx_router *router);

/**
 * Adds a provider to the router; it serves new requests from now on, after the providers
 * already there in the routing order. The router takes its own reference: the caller still
 * owns `provider` and may free it right away. Any thread, also while requests are in flight
 * and from inside callbacks.
 * Returns: PMX_OK or an error below; on failure the router is unchanged.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL router or provider), PMX_ERR_DUPLICATE_PROVIDER.
 */
PMX_API pmx_status pmx_router_add_provider(pmx_router *router, const pmx_provider *provider, pmx_error *err);

/**
 * Removes the provider named `name` from the router. Requests already running on it finish
 * normally; new requests no longer see it. Any thread, also from inside callbacks.
 * name: the provider's "name" (UTF-8, NUL-terminated, copied).
 * Returns: PMX_OK or an error below; on failure the router is unchanged.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL router or name), PMX_ERR_INVALID_UTF8,
 *         PMX_ERR_PROVIDER_NOT_FOUND.
 */
PMX_API pmx_status pmx_router_remove_provider(pmx_router *router, const char *name, pmx_error *err);

/**
 * Runs one chat completion and waits for it (retries and failover included).
 *
 * out:           receives the response JSON (an OpenAI chat.completion plus "provider",
 *                "attempts", "latency_ms", "usage"); free it with pmx_string_free.
 * request_json:  an OpenAI Chat Completions request; "stream" is ignored (always false here).
 * err:           optional, caller-owned; filled on failure.
 * Returns: PMX_OK, or the error that ended the request.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out, router or request_json), input errors (PMX_ERR_INVALID_*, PMX_ERR_NO_PROVIDER, PMX_ERR_PROVIDER_NOT_FOUND), or
 *         the class of the last attempt's failure when every provider failed; err->message
 *         then lists every attempt. PMX_ERR_WOULD_DEADLOCK on a library I/O thread (from
 *         inside an async stream callback). Blocks the calling thread; any other thread.
 */
PMX_API pmx_status pmx_router_complete(char **out, pmx_router *router, const char *request_json, pmx_error *err);

/**
 * Stream event callback.
 *
 * event_json: one event object, UTF-8, NUL-terminated, `len` bytes; borrowed for the call only.
 * Return 0 to continue; any other value cancels the request, whose terminal event is then an
 * `error` with code PMX_ERR_CANCELLED. Events of one request never run concurrently. Exactly
 * one terminal event (`done` or `error`) ends every started stream; it is the last use of
 * `userdata`. If the call that starts a stream fails, the callback is never called.
 * The callback must not call pmx_router_free on its own router. Other library calls are fine;
 * blocking ones made from an async stream's callback return PMX_ERR_WOULD_DEADLOCK.
 */
typedef int32_t (*pmx_event_fn)(const char *event_json, size_t len, void *userdata);

/**
 * Runs one streamed chat completion, delivering events on the CALLING thread as they arrive,
 * and returns after the terminal event.
 *
 * out:       may be NULL; when given and the stream succeeds, receives the same full response
 *            JSON that the `done` event carries (free with pmx_string_free).
 * request_json: an OpenAI Chat Completions request; "stream" is ignored (always streamed).
 * on_event:  required; userdata is passed to it untouched.
 * Returns PMX_OK when the stream ended with `done`; otherwise the terminal error's code (also
 * in err). Input errors are returned before any event. Blocks; any thread but a library I/O
 * thread (there: PMX_ERR_WOULD_DEADLOCK, no event). Its callback runs on the calling thread,
 * so blocking calls from it work.
 * Back-pressure: events wait for the callback in a queue bounded to about 1 MiB (each event
 * counted as its text + 64 bytes, plus the events of one network read of at most 16 KiB);
 * while it is full the upstream transfer is paused (TCP flow control holds the provider back)
 * and resumes once the callback has drained it below 256 KiB. A paused transfer is not idle:
 * timeouts.idle_ms and first_byte_ms do not run while paused; timeouts.total_ms does.
 * Errors: before any event: PMX_ERR_INVALID_ARGUMENT (NULL router, request_json or
 *         on_event), PMX_ERR_WOULD_DEADLOCK, and the input errors of pmx_router_complete; after
 *         the first event: the code of the terminal `error` event (as pmx_router_complete's
 *         request errors, PMX_ERR_CANCELLED when the callback returned non-zero).
 */
PMX_API pmx_status pmx_router_stream(char **out, pmx_router *router, const char *request_json,
                                     pmx_event_fn on_event, void *userdata, pmx_error *err);

/** A running stream: async (pmx_router_stream_async) or pulled (pmx_router_stream_open). */
typedef struct pmx_stream pmx_stream;

/**
 * Starts a streamed chat completion and returns at once. Events are delivered on the router's
 * I/O thread: the callback must not block for long, since it delays every request of the router.
 * For the same reason a blocking call made from the callback (pmx_router_complete, _stream,
 * _embed, _models, _health, _model_manage, on this router or any other) returns
 * PMX_ERR_WOULD_DEADLOCK at once; start another async stream, or hand the work to another
 * thread. Non-blocking calls (stats, add/remove_provider, update_routing, stream_async,
 * stream_cancel/free) work from the callback.
 *
 * out:       may be NULL for fire-and-forget; otherwise receives a handle to cancel the stream,
 *            freed with pmx_stream_free (which also cancels it if still running).
 * on_event:  required. Called from the I/O thread, possibly before this function returns.
 *            userdata is passed to it untouched and must stay valid until the terminal event.
 * Returns: PMX_OK when the stream started (the outcome arrives as its terminal event).
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL router, request_json or on_event), the input errors
 *         of pmx_router_complete, PMX_ERR_ROUTER_CLOSED; then the callback is never called.
 * Any thread, also from inside callbacks (this is not a blocking call).
 */
PMX_API pmx_status pmx_router_stream_async(pmx_stream **out, pmx_router *router, const char *request_json,
                                           pmx_event_fn on_event, void *userdata, pmx_error *err);

/**
 * Requests cancellation of a stream. Safe from any thread, including from inside its own
 * callback; idempotent; a no-op after the terminal event. The terminal event (error
 * PMX_ERR_CANCELLED, unless the stream had already finished) follows on the I/O thread. The
 * same for an answer replayed from the response cache: called from inside its callback, no
 * further event but that terminal one follows.
 * Accepts NULL. Cannot fail.
 */
PMX_API void pmx_stream_cancel(pmx_stream *stream);

/**
 * Releases a stream handle; a stream still running is cancelled first (its terminal event still
 * arrives). May be called from inside the stream's own callback. Accepts NULL. For a pulled
 * stream (pmx_router_stream_open) it also ends the validity of the views pmx_stream_next
 * returned, and drops the events nobody pulled.
 * Cannot fail. Any thread; once per handle (the handle is invalid afterwards, while the stream
 * itself still ends with its terminal event).
 */
PMX_API void pmx_stream_free(pmx_stream *stream);

/* ---------------------------------------------------------------------------------------- */
/* Typed events and the pull stream                                                         */
/* ---------------------------------------------------------------------------------------- */

/*
 * The same events as the JSON callback's, as plain C fields, handed out several at a time by
 * pmx_stream_next: an iterator in a binding crosses the FFI once per batch and parses no JSON
 * per delta. The JSON callback calls above stay as they are.
 */

/* Event types (pmx_event.type); the same as the JSON events' "type". */
/* BEGIN GENERATED abi:c-event-types (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this) */
/** "start": An attempt started: provider, model, attempt. */
#define PMX_EVENT_START     1
/** "delta": A piece of the answer: text, reasoning, tool_calls. */
#define PMX_EVENT_DELTA     2
/** "retry": An attempt failed and the same provider is tried again after delay_ms. */
#define PMX_EVENT_RETRY     3
/** "fallback": An attempt failed and the next provider is tried. */
#define PMX_EVENT_FALLBACK  4
/** "usage": Token counts and cost of the answer. */
#define PMX_EVENT_USAGE     5
/** "done": Terminal: the full response (in json). */
#define PMX_EVENT_DONE      6
/** "error": Terminal: the request failed (status, message; the error object in json). */
#define PMX_EVENT_ERROR     7
/* END GENERATED abi:c-event-types */

/**
 * A borrowed UTF-8 string: `len` bytes at `ptr`, followed by a NUL byte that `len` does not
 * count (so `ptr` is also a C string, cut short if the text itself holds a NUL). An absent
 * value is { NULL, 0 }; an empty one is a non-NULL `ptr` with `len` 0. API keys are masked in
 * it as in the JSON events. Owned by the stream: see pmx_stream_next for how long it lives.
 */
typedef struct pmx_str {
    const char *ptr;
    size_t len;
} pmx_str;

/**
 * One entry of a delta's "tool_calls" (OpenAI's streamed shape: the arguments arrive in
 * pieces, joined by `index`). Absent members are { NULL, 0 } (-1 for `index`), as in the
 * event's JSON. This struct never grows: later fields would come through a new pmx_event field.
 */
typedef struct pmx_tool_call_delta {
    /** "index": which call of the answer this piece belongs to; -1 when absent. */
    int64_t index;
    /** "id" (usually only on a call's first piece). */
    pmx_str id;
    /** "type" ("function"). */
    pmx_str type;
    /** "function"."name" (usually only on the first piece). */
    pmx_str name;
    /** "function"."arguments": the next piece of the arguments' JSON text. */
    pmx_str arguments;
} pmx_tool_call_delta;

/**
 * One event, as a borrowed view (nothing in it is the caller's to free). Which fields a type
 * fills; every other field is 0, { NULL, 0 }, NULL or -1 / NaN for numbers marked so:
 *
 *   START     provider, model, attempt (1 for the first attempt).
 *   DELTA     text (the content piece, or absent), reasoning (the reasoning piece, or
 *             absent), tool_calls + tool_call_count.
 *   RETRY     provider, attempt (the one that failed), delay_ms, status, http_status, text
 *             (the failure's message).
 *   FALLBACK  provider (the one left), next_provider (the one tried next), status,
 *             http_status, text (the failure's message).
 *   USAGE     the usage numbers.
 *   DONE      json (always: {"type":"done","response":{...}}), and from the response:
 *             provider, model, text (choices[0].message.content), finish_reason
 *             (choices[0].finish_reason), attempt (attempts made), the usage numbers.
 *   ERROR     json (always: the error event object), status, http_status, provider, text
 *             (the message), attempt (attempts made), usage numbers when the error event
 *             carries a partial "usage".
 *
 * Usage numbers are -1 (counts) or NaN (prices, speed) when absent; they equal the members of
 * the JSON event's "usage" (cost_usd rounded to 8 decimals as there).
 *
 * Growth: fields are only ever appended. The caller passes sizeof(pmx_event) as it was
 * compiled (pmx_stream_next's event_size); the library fills that many bytes of each element,
 * so a program built against an older header keeps working with a newer library.
 */
typedef struct pmx_event {
    /** PMX_EVENT_*. A value this header does not know may come from a newer library (its
        fields are then only `json`, when asked for): skip it. */
    int32_t type;
    /** START: the attempt's number (1-based); RETRY: the failed attempt's; DONE, ERROR: the
        number of attempts made. 0 otherwise. */
    int32_t attempt;
    /** RETRY, FALLBACK: the status of the failure behind it; ERROR: the terminal status
        (as pmx_error.code). 0 otherwise. */
    pmx_status status;
    /** RETRY, FALLBACK, ERROR: the provider's HTTP status, 0 when none. */
    int32_t http_status;
    /** RETRY: milliseconds before the next attempt. 0 otherwise. */
    int64_t delay_ms;
    /** DELTA: the content piece; RETRY, FALLBACK, ERROR: the message; DONE: the answer. */
    pmx_str text;
    /** DELTA: the reasoning piece (the JSON's "reasoning": OpenAI-compatible
        reasoning_content / reasoning, Anthropic thinking, Gemini thoughts, Ollama thinking,
        Cohere thinking),
        absent otherwise. A delta carries reasoning or content, and reasoning comes first. */
    pmx_str reasoning;
    /** START, RETRY, DONE, ERROR: the provider's name; FALLBACK: the provider left. */
    pmx_str provider;
    /** START, DONE: the model. */
    pmx_str model;
    /** FALLBACK: the provider tried next. */
    pmx_str next_provider;
    /** DONE: choices[0].finish_reason ("stop", "length", "tool_calls", ...). */
    pmx_str finish_reason;
    /** DELTA: tool_call_count entries (NULL when 0). */
    const pmx_tool_call_delta *tool_calls;
    size_t tool_call_count;
    /** USAGE, DONE, ERROR: "prompt_tokens", "completion_tokens", "total_tokens",
        "prompt_tokens_details"."cached_tokens"; -1 when absent. */
    int64_t prompt_tokens;
    int64_t completion_tokens;
    int64_t total_tokens;
    int64_t cached_tokens;
    /** USAGE, DONE, ERROR: "cost_usd" (the router's pricing), "upstream_cost_usd" (what the
        provider said), "tokens_per_second"; NaN when absent. */
    double cost_usd;
    double upstream_cost_usd;
    double tokens_per_second;
    /** The event's JSON object exactly as the JSON callback receives it: always for DONE and
        ERROR, for every event when pmx_stream_next was given PMX_NEXT_WITH_JSON; else absent. */
    pmx_str json;
    /** DELTA of a request with "n" > 1: the choice the piece belongs to (0...n-1, the JSON's
        "index"); -1 for every other event. Added after the first version: filled only when
        event_size covers it (sizeof(pmx_event) of this header). */
    int64_t choice_index;
} pmx_event;

/** The size of the first version of pmx_event: the smallest event_size pmx_stream_next takes. */
#define PMX_EVENT_SIZE_MIN (offsetof(pmx_event, json) + sizeof(pmx_str))

/** pmx_stream_next flag: fill every event's `json`, not only DONE's and ERROR's. */
#define PMX_NEXT_WITH_JSON 1u

/**
 * Starts a streamed chat completion whose events the caller pulls with pmx_stream_next, on a
 * thread of its choice, and returns at once.
 *
 * out:          receives the stream; the caller owns it and frees it with pmx_stream_free
 *               (which cancels it if it is still running). NULL on failure.
 * request_json: an OpenAI Chat Completions request; "stream" is ignored (always streamed).
 * err:          optional, caller-owned; filled on failure.
 * Back-pressure as pmx_router_stream's: events wait in a queue bounded to about 1 MiB; while
 * it is full the upstream transfer is paused, and it resumes once pmx_stream_next has taken
 * the queue below 256 KiB. A stream nobody pulls holds its connection paused until
 * timeouts.total_ms, pmx_stream_cancel or pmx_stream_free.
 * pmx_stream_cancel works on it as on an async stream (the events already queued are still
 * returned, then the terminal one). Freeing the router cancels it; its terminal event stays
 * readable with pmx_stream_next until pmx_stream_free.
 * Returns: PMX_OK when the stream started.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out, router or request_json), the input errors of
 *         pmx_router_complete, PMX_ERR_ROUTER_CLOSED. Nothing is started then.
 * Any thread, also from inside callbacks (this call does not wait).
 */
PMX_API pmx_status pmx_router_stream_open(pmx_stream **out, pmx_router *router, const char *request_json,
                                          pmx_error *err);

/**
 * Takes the events of a stream opened with pmx_router_stream_open: all that are queued, up to
 * `capacity`, in order, waiting up to timeout_ms for the first one.
 *
 * out:        an array of `capacity` elements of event_size bytes each; element i receives the
 *             i-th event taken. Its views (strings, tool_calls, json) are owned by the stream
 *             and stay valid until the next pmx_stream_next or pmx_stream_free on this stream.
 * capacity:   at least 1; events beyond it stay queued for the next call.
 * event_size: sizeof(pmx_event) as the caller was compiled; at least PMX_EVENT_SIZE_MIN (the
 *             size of the first pmx_event). The library writes event_size bytes per element
 *             (zeros past the fields it knows) and steps through `out` by event_size.
 * out_count:  receives the number of events written, 0 when the wait timed out.
 * stream:     the stream.
 * timeout_ms: -1 waits as long as it takes; 0 only takes what is queued (never blocks); > 0
 *             waits at most that many milliseconds for the first event.
 * flags:      0, or PMX_NEXT_WITH_JSON. Other bits are refused (PMX_ERR_INVALID_ARGUMENT), so
 *             that a flag added later is never silently ignored by an older library.
 * err:        optional, caller-owned; filled on failure.
 *
 * The end: the terminal event (DONE or ERROR) is the last event of its batch and of the
 * stream; exactly one ends every stream. A call after it was returned fails at once with
 * PMX_ERR_INVALID_ARGUMENT ("the stream has ended"), so a loop that misses it cannot wait
 * forever. A request that failed is not a failure of this call: it returns PMX_OK with the
 * ERROR event.
 * Returns: PMX_OK (events taken, or none when timeout_ms passed).
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out, out_count or stream; capacity 0; event_size too
 *         small; capacity * event_size overflowing; unknown flags; timeout_ms below -1; a stream from pmx_router_stream_async,
 *         whose events go to its callback; another thread inside pmx_stream_next on the same
 *         stream; the terminal event already returned), PMX_ERR_WOULD_DEADLOCK (timeout_ms != 0 on a library
 *         I/O thread, e.g. inside an async stream's callback: it would wait for itself; 0
 *         works there). *out_count is 0 and `out` untouched on every error.
 * Threading: one thread at a time per stream (any thread, it need not be the same each
 * time); pmx_stream_cancel may be called from any thread meanwhile and ends the wait with the
 * terminal event. pmx_stream_free from another thread during a wait also ends it, but the
 * views that call returns are invalid at once: cancel, and free after the call returned.
 */
PMX_API pmx_status pmx_stream_next(pmx_event *out, size_t capacity, size_t event_size, size_t *out_count,
                                   pmx_stream *stream, int32_t timeout_ms, uint32_t flags, pmx_error *err);

/**
 * Computes embeddings: request {"model": ..., "input": "text" | ["text", ...]} in OpenAI's
 * shape; out receives an OpenAI embeddings list plus "provider" and "attempts". Routed, retried
 * and failed over like completions. Blocks; any thread but a library I/O thread.
 * Errors: as pmx_router_complete (PMX_ERR_WOULD_DEADLOCK included), plus PMX_ERR_UNSUPPORTED.
 */
PMX_API pmx_status pmx_router_embed(char **out, pmx_router *router, const char *request_json, pmx_error *err);

/**
 * Runs one operation by name and waits for it: every OpenAI-shaped operation beyond chat,
 * routed, retried, failed over, accounted (usage, cost_usd where priced, stats) and cached
 * like chat.
 *
 * operation:    the openai Python SDK's resource path (UTF-8, NUL-terminated, borrowed):
 *               "completions.create" (prompt, suffix for fill-in-the-middle, max_tokens,
 *               temperature, stop, ...: an OpenAI text_completion object back),
 *               "chat.completions.create", "embeddings.create" and "models.list" (the same
 *               results as pmx_router_complete, pmx_router_embed and pmx_router_models),
 *               "images.generate", "moderations.create", "audio.transcriptions.create",
 *               "audio.speech.create", "rerank", "tokens.count", "responses.create", and
 *               provider-specific ones named "<type>.<what>" ("openrouter.credits",
 *               "openrouter.generation"). Binary payloads travel as base64 inside the JSON:
 *               {"file":{"data":"<base64>","filename":...,"content_type":...}} in,
 *               {"audio":"<base64>","content_type":...} out.
 * request_json: the operation's OpenAI request (plus an optional "route" object, as for chat);
 *               "stream" is ignored (never streamed here).
 * out:          receives the result JSON (the operation's OpenAI shape plus "provider",
 *               "attempts", "latency_ms" and "usage" with "cost_usd" where priced); free it with
 *               pmx_string_free.
 * A provider whose type lacks the operation is refused with PMX_ERR_UNSUPPORTED (naming the
 * type and the operation) and the request fails over to the next candidate.
 * Results beyond completions: "images.generate" {"created","data":[{"b64_json"|"url",
 * "revised_prompt"}]} (gemini: b64_json only, "response_format":"url" is PMX_ERR_UNSUPPORTED
 * there); "moderations.create" {"id","model","results":[...]} (mistral's categories kept beside
 * OpenAI's, "flagged" computed);
 * "audio.transcriptions.create" {"text",...} (bad base64 in file.data: PMX_ERR_INVALID_REQUEST
 * naming file.data, nothing sent; the multipart upload is bounded by limits.max_request_bytes);
 * "audio.speech.create" {"audio","content_type"}; "rerank" {"results":[{"index",
 * "relevance_score","document"?}]} best-first and cut to top_n whatever the provider did;
 * "tokens.count" {"input_tokens":N,"estimated":false}, or, when every candidate lacks a counter,
 * PMX_OK with the router's estimate and "estimated":true (nothing sent); "openrouter.credits" /
 * "openrouter.generation" ({"id"}) the data object of OpenRouter's answer; "responses.create"
 * an OpenAI Response object ({"id":"resp_…","object":"response","status","output":[…],"usage":
 * {"input_tokens","output_tokens",…,"cost_usd"}}): "openai" and "azure" providers get the
 * request as written (the served model in "model"; Azure's /openai/v1/responses, or
 * /openai/responses?api-version=… with "api_version") and answer as the server did; every other
 * type gets it translated to its chat call and answers a Response made from the chat answer
 * ("reasoning", "message" and "function_call" items; "status":"incomplete" with
 * "incomplete_details":{"reason":"max_output_tokens"} when cut; "store":false). There, what chat
 * cannot carry ("previous_response_id", "conversation", built-in tools, file inputs, …) is
 * PMX_ERR_UNSUPPORTED naming the field, and the request fails over. Never served from the cache.
 * Returns: PMX_OK, or the error that ended the request.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out, router, operation or request_json; an unknown
 *         operation, the message naming every known one), the input errors of
 *         pmx_router_complete (PMX_ERR_INVALID_REQUEST naming the field, ...), PMX_ERR_UNSUPPORTED
 *         when no candidate has the operation, else the class of the last attempt's failure
 *         (err->message lists every attempt). Blocks the calling thread; any thread but a
 *         library I/O thread (there: PMX_ERR_WOULD_DEADLOCK).
 */
PMX_API pmx_status pmx_router_call(char **out, pmx_router *router, const char *operation, const char *request_json,
                                   pmx_error *err);

/**
 * pmx_router_call, streamed: events on the CALLING thread as for pmx_router_stream (the same
 * event types, stop rule, back-pressure and terminal event), then returns.
 * A "completions.create" stream sends `delta` events with "content" (the text as it comes),
 * then `usage`, then `done` with the full text_completion object. Several prompts cannot be
 * streamed (PMX_ERR_INVALID_REQUEST). An operation, or a provider's protocol, that has no
 * streamed form makes one plain call: `start`, then `done` with the result ("models.list",
 * which is no routed request, delivers only `done`). "chat.completions.create" is
 * pmx_router_stream.
 * A "responses.create" stream keeps our envelope (`start`, `retry`, `fallback`, `usage`, and
 * exactly one terminal `done` with the whole Response, or `error`) and sends, in between,
 * OpenAI's Responses stream events as they are, each with its own "type" and a rising
 * "sequence_number": "response.created", "response.in_progress", "response.output_item.added",
 * "response.content_part.added", "response.output_text.delta" / "response.reasoning_text.delta"
 * / "response.function_call_arguments.delta", their "….done", "response.content_part.done",
 * "response.output_item.done", "response.completed" (or "response.incomplete"). From openai and
 * azure they are the server's own (other types it sends, such as reasoning summaries, pass too);
 * from every other type they are made from its chat stream. No `delta` events come; a
 * "response.failed" or "error" event from the server ends the stream with our `error`. A
 * retried attempt starts its events again from "response.created"; once a "….delta" event was
 * delivered nothing is retried (PMX_ERR_STREAM_INTERRUPTED, as for chat).
 * out:       may be NULL; when given and the stream succeeds, receives the result `done` carries
 *            (free with pmx_string_free).
 * on_event:  required; userdata is passed to it untouched.
 * Returns PMX_OK when the stream ended with `done`; otherwise the terminal error's code.
 * Errors: before any event: those of pmx_router_call and PMX_ERR_INVALID_ARGUMENT for a NULL
 *         on_event; after the first event: the code of the terminal `error` event.
 *         Blocks; any thread but a library I/O thread (there: PMX_ERR_WOULD_DEADLOCK, no event).
 */
PMX_API pmx_status pmx_router_call_stream(char **out, pmx_router *router, const char *operation, const char *request_json,
                                          pmx_event_fn on_event, void *userdata, pmx_error *err);

/**
 * Lists models: {"object":"list","data":[{"id":"provider/model","object":"model",
 * "provider":..., "model":...}], "errors":[{"provider":..., "message":...}]}. Providers with a
 * configured "models" list answer from it; others are asked (GET {base_url}/models). A failing
 * provider is listed under "errors", not fatal. Providers are asked at most 64 at a time (a
 * finished request starts the next), so the call takes about ceil(n / 64) health timeouts at
 * worst. Blocks; any thread but a library I/O thread (there: PMX_ERR_WOULD_DEADLOCK).
 * out:  receives the list; free it with pmx_string_free. NULL on failure.
 * Returns: PMX_OK, also when some providers failed (they are listed under "errors").
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out or router), PMX_ERR_WOULD_DEADLOCK.
 */
PMX_API pmx_status pmx_router_models(char **out, pmx_router *router, pmx_error *err);

/**
 * pmx_router_models with a filter. query_json: {"search": "claude", "provider": "or"}, both
 * optional. "search" keeps the models whose "id" ("provider/model") contains it, ASCII case
 * ignored (e.g. "claude" finds "or/anthropic/claude-sonnet-4"); "provider" lists that
 * provider's models only and asks no other provider. Models of a provider that publishes its
 * prices (type openrouter: pricing.prompt / pricing.completion of its /models, USD per token)
 * carry "pricing": {"input_per_mtok", "output_per_mtok", "cached_input_per_mtok"?}, and the
 * router keeps those prices for the cost_usd of later requests (a "pricing" section in the
 * config still wins). Blocks; any thread but a library I/O thread.
 * out:  receives the list (same shape as pmx_router_models); free it with pmx_string_free.
 *       NULL on failure.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out, router or query_json; query_json not JSON),
 *         PMX_ERR_INVALID_REQUEST (an unknown key or a non-string value, naming it),
 *         PMX_ERR_PROVIDER_NOT_FOUND (no provider of that name), PMX_ERR_WOULD_DEADLOCK.
 */
PMX_API pmx_status pmx_router_models_query(char **out, pmx_router *router, const char *query_json, pmx_error *err);

/**
 * Probes every provider now and reports {"providers":[{"name","type","healthy","latency_ms",
 * "http_status","error","error_class","circuits":{MODEL:{"state":"closed"|"open"|"half_open",
 * ...}},"rate_limit":{...},"monitor":{...},"discovered":true}]} (error omitted when healthy;
 * "monitor" is the periodic health check's last verdict when "health_checks" is enabled;
 * "discovered" marks providers found by local discovery). Network providers are probed at most
 * 64 at a time (10,000 providers never open 10,000 sockets at once): the call blocks for about
 * ceil(n / 64) health timeouts at worst (timeouts.health_ms), usually one round trip per 64.
 * With "shared" configured the document also has "shared": {"redis": "connected"|"degraded",
 * "url" (password masked), "key_prefix", "timeout_ms", "transitions", "fallbacks",
 * "cache_hits", "cache_misses", "last_error" (while degraded)}: the call PINGs Redis (or
 * reconnects when due), waiting at most timeout_ms. Each provider then also has
 * "state_source": "shared" when its "circuits" and "rate_limit" were read from Redis (read-only
 * round-trips of at most 256 keys each, each within timeout_ms: the state admission uses; "circuits" lists the
 * models this router has sent requests to, up to 1000), "local" when Redis did not answer (this
 * router's own state, which admission uses while degraded).
 * Any thread but a library I/O thread (there: PMX_ERR_WOULD_DEADLOCK).
 * out:  receives the document; free it with pmx_string_free. NULL on failure.
 * Returns: PMX_OK, also when providers are unhealthy (that is what the document reports).
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out or router), PMX_ERR_WOULD_DEADLOCK.
 */
PMX_API pmx_status pmx_router_health(char **out, pmx_router *router, pmx_error *err);

/**
 * Usage statistics since router creation (or the last reset) as JSON:
 * {"requests","successes","failures","retries","fallbacks","cost_usd","cache":{...},
 *  "budget":{...}|null,"lanes":{LANE:{"budget":{...}}},
 *  "providers":[{"name","type","requests","successes","failures","retries","fallbacks",
 *   "prompt_tokens","completion_tokens","cost_usd","in_flight","failures_by_status",
 *   "failures_by_class","rate_limit","models":[{"model","requests",...,"latency_ms":{"p50",
 *   "p95","p99","mean"},"ttft_ms":{"p50","p95"},"tokens_per_second","circuit"}]}]}.
 * "requests" counts routed requests; a provider's "requests" counts attempts. With "shared"
 * configured also "shared": as in pmx_router_health (read without contacting Redis; the
 * providers' "rate_limit" and "circuit" stay this router's local state), and the
 * Prometheus text has pmx_shared_redis_connected, pmx_shared_transitions_total and
 * pmx_shared_fallbacks_total. Never contains secrets. Same as pmx_router_stats_ex with options NULL. Any thread, also from inside
 * callbacks (it does not wait for the I/O thread).
 * out:  receives the document; free it with pmx_string_free. NULL on failure.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out or router).
 */
PMX_API pmx_status pmx_router_stats(char **out, pmx_router *router, pmx_error *err);

/**
 * Statistics with options: options_json may be NULL (= JSON, no reset) or
 * {"format": "json" | "prometheus", "reset": true | false}.
 * "prometheus" gives the text exposition format 0.0.4 (metric names prefixed pmx_, labels
 * provider and model), ready to serve on a /metrics endpoint. "reset" zeroes every counter
 * and latency sample right after taking this snapshot (in-flight counts, cache entries and
 * budget spend are kept), so a scraper that resets never loses a count.
 * out:  receives the text; free with pmx_string_free. Any thread.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL out or router, or a bad option, named),
 *         PMX_ERR_INVALID_JSON, PMX_ERR_INVALID_UTF8.
 */
PMX_API pmx_status pmx_router_stats_ex(char **out, pmx_router *router, const char *options_json, pmx_error *err);

/**
 * Replaces the router's "routing" section (strategy, lanes, model_groups, fallbacks,
 * default_lane, order, exploration, seed) while requests are in flight: each running request
 * keeps the plan it started with; requests started after the call use the new one. Lane
 * budgets whose settings are unchanged keep their spend. Validated like router config: on
 * any error nothing changes.
 * routing_json: the object that goes under "routing" in router config.
 * Errors: PMX_ERR_INVALID_ARGUMENT, PMX_ERR_INVALID_JSON, PMX_ERR_CONFIG (naming the field,
 *         e.g. "routing.lanes.code.providers[1]: no provider named ...").
 * Any thread.
 */
PMX_API pmx_status pmx_router_update_routing(pmx_router *router, const char *routing_json, pmx_error *err);

/* ---------------------------------------------------------------------------------------- */
/* Per-request observer                                                                     */
/* ---------------------------------------------------------------------------------------- */

/**
 * Per-request observer callback: one structured record per request when it ends.
 *
 * record_json: one JSON object, UTF-8, NUL-terminated, `len` bytes; borrowed for the call only
 *              (copy what you keep). API keys are masked as in every string the library
 *              hands out. Every record has every key (null when unknown):
 *   "request_id"      the request's id (see Request ids below)
 *   "operation"       "chat.completions.create", "embeddings.create", or the operation of
 *                     pmx_router_call / _call_stream ("completions.create", ...);
 *                     "stream": true/false
 *   "metadata"        the request's "metadata" object as sent (null without one)
 *   "lane"            the routing lane, "model_requested" the request's "model"
 *   "provider", "model"  who served it and the model it answered with (on failure: the
 *                     last provider tried and the model asked of it)
 *   "attempts"        every attempt as in a response's "attempts": provider, model, outcome
 *                     ("ok", "error", "skipped"), code, status_name, http_status, message,
 *                     latency_ms
 *   "latency_ms", "ttft_ms" (streams that produced output; else null)
 *   "usage"           the response's usage object (prompt_tokens, completion_tokens,
 *                     total_tokens, cost_usd, ...), or a failed stream's partial usage
 *   "cost_usd"        the router's price of the request (null when unpriced)
 *   "cache_hit"       true when the answer came from the response cache (no attempt)
 *   "status"          "ok" or "error"; "code" (0 or the PMX_ERR_* value), "status_name",
 *                     "http_status"; "error_class" and "message" on failure (else null)
 *   "started_at", "ended_at"  wall-clock Unix time in seconds (fractional)
 */
typedef void (*pmx_observer_fn)(const char *record_json, size_t len, void *userdata);

/**
 * Sets (or with fn = NULL clears) the router's per-request observer; it replaces the previous
 * one. Request ids and the observer are the library's per-request hook (logging, tracing,
 * metrics pipelines): see the README's "Observability".
 *
 * When: exactly once per request that started while an observer was set, after the request
 * ended — success, failure after every attempt, a cancellation, a candidate list refused
 * without any attempt (open circuits, rate limits), a response-cache hit — and just BEFORE its
 * terminal event is delivered: when pmx_router_complete / _stream / _embed return, the
 * observer's call for that request has returned; an async stream's terminal callback comes
 * after it. A request refused by the starting call itself (invalid input, unknown lane, spent
 * budget: the call returns the error and no event is ever delivered) gets no record. A record
 * goes to the observer set when the request ends; none set then: no call.
 * Thread: the router's I/O thread, one call at a time. Keep it short (it delays every request
 * of the router). Blocking library calls made from it (pmx_router_complete, _stream, _embed,
 * _models, _health, _model_manage, pmx_stream_next waiting) return PMX_ERR_WOULD_DEADLOCK;
 * non-blocking ones (stats, stream_async, set_observer) work. It must not free its router.
 * Replacing / clearing: after this returns, the previous fn is not called again and no call of
 * it is still running, so its userdata may be freed — except when called on a library I/O
 * thread (from inside any callback the library runs there), where it does not wait and a call
 * of the old fn on another router's thread may still be finishing.
 * Cost: with no observer set a request pays one atomic load for it.
 *
 * Request ids: every request has one, "<8 hex>-<hex counter>" (unique per process, a random
 * prefix per process), or the caller's own: "metadata": {"request_id": "..."} (a string of
 * 1..128 bytes) is used as it is. Responses (and `done` events), `error` events and the
 * library's log lines about the request ("[req 3f9a61c2-1b] openai: attempt 1 failed ...;
 * retrying in 250 ms") carry it.
 *
 * fn:       the callback, or NULL to clear.
 * userdata: passed to fn untouched; must stay valid until fn is replaced/cleared (and, from an
 *           I/O thread, until its running call returned) or the router is freed.
 * Errors: PMX_ERR_INVALID_ARGUMENT (NULL router). Any thread.
 */
PMX_API pmx_status pmx_router_set_observer(pmx_router *router, pmx_observer_fn fn, void *userdata, pmx_error *err);

/**
 * Manages models on a local server provider (type "ollama"; other types answer
 * PMX_ERR_UNSUPPORTED). Blocks until the action finishes.
 *
 * request_json: {"action": "pull" | "delete" | "show" | "loaded", "provider": NAME,
 *               "model": MODEL (not for "loaded")}.
 * on_event:     may be NULL. For "pull", receives {"type":"progress","status":...,
 *               "digest","total","completed"} events on the CALLING thread as the download
 *               proceeds; a non-zero return cancels the pull (PMX_ERR_CANCELLED).
 * out:          may be NULL; receives the result (free with pmx_string_free):
 *               pull/delete → {"provider","model","status"}; show → one model
 *               {"id","provider","model","context_length","capabilities","details"};
 *               loaded → {"object":"list","data":[models as for show]}.
 * Errors: PMX_ERR_INVALID_REQUEST (bad action/fields), PMX_ERR_PROVIDER_NOT_FOUND,
 *         PMX_ERR_UNSUPPORTED, PMX_ERR_MODEL_NOT_FOUND, transport and upstream errors;
 *         PMX_ERR_WOULD_DEADLOCK on a library I/O thread.
 * Not retried. Any thread but a library I/O thread.
 */
PMX_API pmx_status pmx_router_model_manage(char **out, pmx_router *router, const char *request_json,
                                           pmx_event_fn on_event, void *userdata, pmx_error *err);

#ifdef __cplusplus
}
#endif

#endif /* PROVIDERMUX_H */
