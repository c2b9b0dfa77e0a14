// SPDX-License-Identifier: Apache-2.0
// providermux.hpp — header-only C++17 RAII wrapper over the C ABI in providermux.h.
//
// Everything here is a thin layer over include/providermux.h, which stays the reference for
// semantics (routing, retries, events, threading). This header adds:
//
//  - ownership: Router and Stream own their handle (move-only, freed by the destructor); every
//    string the library returns is released with pmx_string_free before the call returns and
//    handed back as a std::string;
//  - errors: every failure throws providermux::Error (a std::runtime_error) carrying the status,
//    its name, the HTTP status, the provider and the number of attempts;
//  - typed events: Router::events() opens a pull stream (EventStream) whose events are typed,
//    borrowed views (Event: type, text, tool-call pieces, usage numbers, ...) taken from the
//    library in batches (pmx_router_stream_open / pmx_stream_next): range-for over it crosses
//    into the library once per batch and parses no JSON per delta;
//  - callbacks: any callable taking std::string_view and returning bool (true = continue,
//    false = cancel) or void. Exceptions thrown by a callable never cross the C boundary: they
//    are caught in the C trampoline, the stream is cancelled, and the exception is rethrown to
//    the caller (Router::stream) or from Stream::result() (async streams).
//
// JSON goes in and out as std::string (UTF-8). The header depends on no JSON library: the
// small scanner in providermux::json reads top-level members of the library's own output
// (responses, stats, error events), enough for simple consumers; use a real JSON library for
// anything more. Typed streams need it only for the `response` of a DONE event (once per
// stream); the async callback uses it for each event's type (stream_async's callable receives
// JSON from the I/O thread, with no typed view).
//
// Example:
//
//     providermux::Router router(R"({"providers":[{"name":"m","type":"mock"}]})");
//     const std::string request = R"({"messages":[{"role":"user","content":"hi"}]})";
//     std::string response = router.complete(request);
//     for (const providermux::Event ev : router.events(request))
//         if (ev.type() == providermux::EventType::delta)
//             std::cout << ev.text();
//
// Link with the library (CMake: find_package(providermux) and providermux::providermux;
// pkg-config: providermux). Requires C++17.
#ifndef PROVIDERMUX_HPP
#define PROVIDERMUX_HPP

#include "providermux.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace providermux {

// -----------------------------------------------------------------------------------------
// Versions and status names
// -----------------------------------------------------------------------------------------

/// Runtime version of the loaded library, e.g. "0.1.0" (PMX_VERSION_STRING is the header's).
/// Thread-safe; never throws except std::bad_alloc.
inline std::string version() { return pmx_version_string(); }

/// Runtime version as MAJOR * 10000 + MINOR * 100 + PATCH. Thread-safe.
inline int version_number() noexcept { return static_cast<int>(pmx_version_number()); }

/// Name of a status code, e.g. "PMX_ERR_TIMEOUT"; "PMX_UNKNOWN_STATUS" for unknown values.
/// Thread-safe.
inline std::string status_name(int status) { return pmx_status_name(static_cast<pmx_status>(status)); }

// -----------------------------------------------------------------------------------------
// A minimal JSON scanner (for the library's own, well-formed output)
// -----------------------------------------------------------------------------------------

/// Reads top-level members of a JSON object without a JSON library. Meant for the library's
/// output (events, responses): it follows strings with escapes and nested objects/arrays
/// correctly but does not validate; malformed input gives std::nullopt, never undefined
/// behaviour. All functions are pure and thread-safe.
namespace json {

namespace detail {

inline std::size_t skip_ws(std::string_view s, std::size_t i) noexcept
{
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        ++i;
    return i;
}

/// Index just past the string literal whose opening quote is at s[i]; npos if unterminated.
inline std::size_t skip_string(std::string_view s, std::size_t i) noexcept
{
    for (++i; i < s.size(); ++i) {
        if (s[i] == '\\')
            ++i;
        else if (s[i] == '"')
            return i + 1;
    }
    return std::string_view::npos;
}

/// Index just past the JSON value starting at s[i] (no leading whitespace); npos if malformed.
inline std::size_t skip_value(std::string_view s, std::size_t i) noexcept
{
    if (i >= s.size())
        return std::string_view::npos;
    if (s[i] == '"')
        return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                i = skip_string(s, i);
                if (i == std::string_view::npos)
                    return i;
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            ++i;
        }
        return std::string_view::npos;
    }
    const std::size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
        ++i;
    return i == start ? std::string_view::npos : i;
}

inline int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

inline bool read_hex4(std::string_view s, std::size_t i, unsigned &out) noexcept
{
    if (i + 4 > s.size())
        return false;
    out = 0;
    for (std::size_t k = 0; k < 4; ++k) {
        const int d = hex_digit(s[i + k]);
        if (d < 0)
            return false;
        out = out * 16 + static_cast<unsigned>(d);
    }
    return true;
}

inline void append_utf8(std::string &out, unsigned cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

} // namespace detail

/// Decodes a JSON string literal (with its quotes, e.g. the raw value from member()) into
/// UTF-8: every escape including \uXXXX and surrogate pairs (a lone surrogate becomes U+FFFD).
/// std::nullopt if `literal` is not exactly one string literal.
inline std::optional<std::string> unquote(std::string_view literal)
{
    if (literal.size() < 2 || literal.front() != '"' ||
        detail::skip_string(literal, 0) != literal.size())
        return std::nullopt;
    std::string out;
    out.reserve(literal.size() - 2);
    const std::size_t end = literal.size() - 1;
    for (std::size_t i = 1; i < end; ++i) {
        const char c = literal[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i >= end)
            return std::nullopt;
        switch (literal[i]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
            unsigned cp = 0;
            if (!detail::read_hex4(literal.substr(0, end), i + 1, cp))
                return std::nullopt;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low = 0;
                if (i + 2 < end && literal[i + 1] == '\\' && literal[i + 2] == 'u' &&
                    detail::read_hex4(literal.substr(0, end), i + 3, low) && low >= 0xDC00 &&
                    low <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            detail::append_utf8(out, cp);
            break;
        }
        default:
            return std::nullopt;
        }
    }
    return out;
}

/// `text` as a quoted JSON string literal: ", \ and control characters escaped, other bytes
/// (UTF-8) unchanged. Use it to build request JSON from user input.
inline std::string quote(std::string_view text)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xF];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

/// The raw JSON text of the top-level member `key` of the object `object_json` (e.g. `"delta"`
/// with its quotes, `42`, `{...}`), as a view into `object_json`. Nested objects are skipped,
/// so a key of the same name deeper down is never matched. std::nullopt when absent or when
/// `object_json` is not an object.
inline std::optional<std::string_view> member(std::string_view object_json, std::string_view key)
{
    const std::string_view s = object_json;
    std::size_t i = detail::skip_ws(s, 0);
    if (i >= s.size() || s[i] != '{')
        return std::nullopt;
    i = detail::skip_ws(s, i + 1);
    if (i < s.size() && s[i] == '}')
        return std::nullopt;
    while (i < s.size()) {
        if (s[i] != '"')
            return std::nullopt;
        const std::size_t key_end = detail::skip_string(s, i);
        if (key_end == std::string_view::npos)
            return std::nullopt;
        const std::string_view raw_key = s.substr(i + 1, key_end - i - 2);
        bool match;
        if (raw_key.find('\\') == std::string_view::npos)
            match = raw_key == key;
        else
            match = unquote(s.substr(i, key_end - i)) == std::optional<std::string>(std::string(key));
        i = detail::skip_ws(s, key_end);
        if (i >= s.size() || s[i] != ':')
            return std::nullopt;
        i = detail::skip_ws(s, i + 1);
        const std::size_t value_end = detail::skip_value(s, i);
        if (value_end == std::string_view::npos)
            return std::nullopt;
        if (match)
            return s.substr(i, value_end - i);
        i = detail::skip_ws(s, value_end);
        if (i >= s.size() || s[i] != ',')
            return std::nullopt;
        i = detail::skip_ws(s, i + 1);
    }
    return std::nullopt;
}

/// The top-level string member `key`, decoded; std::nullopt when absent or not a string.
inline std::optional<std::string> string_member(std::string_view object_json, std::string_view key)
{
    const auto raw = member(object_json, key);
    if (!raw || raw->empty() || raw->front() != '"')
        return std::nullopt;
    return unquote(*raw);
}

/// The top-level number member `key` as an integer (a fraction is truncated); std::nullopt
/// when absent or not a number.
inline std::optional<long long> int_member(std::string_view object_json, std::string_view key)
{
    const auto raw = member(object_json, key);
    if (!raw || raw->empty())
        return std::nullopt;
    long long value = 0;
    const char *first = raw->data();
    const char *last = raw->data() + raw->size();
    const auto result = std::from_chars(first, last, value);
    if (result.ec != std::errc() || result.ptr == first)
        return std::nullopt;
    return value;
}

/// Number of elements of a JSON array given as raw text (e.g. from member()); std::nullopt
/// if `array_json` is not an array.
inline std::optional<std::size_t> array_size(std::string_view array_json)
{
    const std::string_view s = array_json;
    std::size_t i = detail::skip_ws(s, 0);
    if (i >= s.size() || s[i] != '[')
        return std::nullopt;
    i = detail::skip_ws(s, i + 1);
    if (i < s.size() && s[i] == ']')
        return std::size_t{0};
    std::size_t count = 0;
    while (i < s.size()) {
        const std::size_t end = detail::skip_value(s, i);
        if (end == std::string_view::npos)
            return std::nullopt;
        ++count;
        i = detail::skip_ws(s, end);
        if (i < s.size() && s[i] == ']')
            return count;
        if (i >= s.size() || s[i] != ',')
            return std::nullopt;
        i = detail::skip_ws(s, i + 1);
    }
    return std::nullopt;
}

} // namespace json

// -----------------------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------------------

namespace detail {

/// Length of a NUL-terminated string inside a fixed-size buffer, at most `max`.
inline std::size_t bounded_length(const char *s, std::size_t max) noexcept
{
    const void *nul = std::memchr(s, '\0', max);
    return nul ? static_cast<std::size_t>(static_cast<const char *>(nul) - s) : max;
}

} // namespace detail

/// Every failure of this wrapper: a failed library call, or a stream that ended with an
/// `error` event. what() is "STATUS_NAME: message".
class Error : public std::runtime_error {
public:
    /// status: a negative pmx_status (PMX_ERR_*). The other fields are optional details.
    Error(int status, const std::string &message, int http_status = 0, std::string provider = {},
          int attempts = 0, std::string event_json = {})
        : std::runtime_error(message.empty() ? providermux::status_name(status)
                                             : providermux::status_name(status) + ": " + message),
          status_(status), http_status_(http_status), attempts_(attempts), message_(message),
          provider_(std::move(provider)), event_json_(std::move(event_json))
    {
    }

    /// From the status a C call returned and the pmx_error it filled in.
    static Error from_c(pmx_status status, const pmx_error &err)
    {
        const int code = status != PMX_OK ? static_cast<int>(status) : static_cast<int>(err.code);
        return Error(code, std::string(err.message, detail::bounded_length(err.message, sizeof err.message)),
                     static_cast<int>(err.http_status),
                     std::string(err.provider, detail::bounded_length(err.provider, sizeof err.provider)),
                     static_cast<int>(err.attempts));
    }

    /// From a stream's `error` event: reads "code", "message", "http_status", "provider" and
    /// "attempts" (a count, or the array of attempt objects, which is counted). `fallback_status`
    /// is used when the event carries no code. event_json() keeps the whole event.
    static Error from_event(std::string_view event_json, int fallback_status = PMX_ERR_INTERNAL)
    {
        int attempts = 0;
        if (const auto raw = json::member(event_json, "attempts")) {
            if (const auto n = json::array_size(*raw))
                attempts = static_cast<int>(*n);
            else if (const auto v = json::int_member(event_json, "attempts"))
                attempts = static_cast<int>(*v);
        }
        return Error(static_cast<int>(json::int_member(event_json, "code").value_or(fallback_status)),
                     json::string_member(event_json, "message").value_or(std::string()),
                     static_cast<int>(json::int_member(event_json, "http_status").value_or(0)),
                     json::string_member(event_json, "provider").value_or(std::string()), attempts,
                     std::string(event_json));
    }

    /// The status code, a negative PMX_ERR_* value.
    int status() const noexcept { return status_; }
    /// The status code's name, e.g. "PMX_ERR_CONFIG".
    std::string status_name() const { return providermux::status_name(status_); }
    /// HTTP status of the provider's last answer, 0 when there was none.
    int http_status() const noexcept { return http_status_; }
    /// Provider of the last attempt, "" when none.
    const std::string &provider() const noexcept { return provider_; }
    /// Number of provider attempts made (0 when the call failed before routing).
    int attempts() const noexcept { return attempts_; }
    /// The library's message alone (what() prefixes it with the status name).
    const std::string &message() const noexcept { return message_; }
    /// For stream errors, the whole `error` event JSON; "" otherwise.
    const std::string &event_json() const noexcept { return event_json_; }

private:
    int status_;
    int http_status_;
    int attempts_;
    std::string message_;
    std::string provider_;
    std::string event_json_;
};

// -----------------------------------------------------------------------------------------
// Internals: owned strings and callback trampolines
// -----------------------------------------------------------------------------------------

namespace detail {

/// unique_ptr deleter for strings the library returns.
struct StringDeleter {
    void operator()(char *s) const noexcept { pmx_string_free(s); }
};
using OwnedString = std::unique_ptr<char, StringDeleter>;

inline std::string to_string(const OwnedString &s) { return s ? std::string(s.get()) : std::string(); }

/// Runs `on_event`; returns true to continue, false to cancel.
template <class Fn>
bool invoke_event(Fn &fn, std::string_view event)
{
    using Result = std::invoke_result_t<Fn &, std::string_view>;
    static_assert(std::is_void_v<Result> || std::is_same_v<Result, bool>,
                  "providermux: an event callback must return bool (true = continue, false = "
                  "cancel) or void");
    if constexpr (std::is_void_v<Result>) {
        std::invoke(fn, event);
        return true;
    } else {
        return std::invoke(fn, event);
    }
}

inline bool is_terminal_type(const std::optional<std::string> &type) noexcept
{
    return type && (*type == "done" || *type == "error");
}

/// State of one blocking call with a JSON callback (Router::stream, Router::model_manage). Lives
/// on the caller's stack; events arrive on the calling thread.
template <class Fn>
struct BlockingCall {
    Fn *fn;
    std::exception_ptr exception;
    /// A copy of the last event: when the call fails after its first event, that is the
    /// terminal `error` event (the last one of every stream), so no event's type is scanned.
    std::string last_event;

    static std::int32_t trampoline(const char *event_json, std::size_t len, void *userdata) noexcept
    {
        auto *self = static_cast<BlockingCall *>(userdata);
        const std::string_view event(event_json, len);
        std::int32_t cancel = 0;
        try {
            self->last_event.assign(event); // reuses its capacity: no allocation per event
        } catch (...) { // std::bad_alloc: the status and pmx_error are still reported
            self->last_event.clear();
        }
        if (self->exception)
            return 1; // the callable already failed: keep cancelling, never call it again
        try {
            if (!invoke_event(*self->fn, event))
                cancel = 1;
        } catch (...) {
            self->exception = std::current_exception();
            cancel = 1;
        }
        return cancel;
    }
};

/// What an async stream's Stream handle and its callback share.
struct AsyncShared {
    std::mutex mutex;
    std::condition_variable finished_cv;
    bool finished = false;
    std::string terminal_event;     // the `done` or `error` event
    std::exception_ptr exception;   // thrown by the callable
};

/// Heap state of one async stream; deleted by the trampoline on the terminal event (the last
/// use of userdata, per providermux.h), so the callable lives exactly as long as needed.
template <class Fn>
struct AsyncCall {
    Fn fn;
    std::shared_ptr<AsyncShared> shared;
    std::exception_ptr exception;

    static std::int32_t trampoline(const char *event_json, std::size_t len, void *userdata) noexcept
    {
        auto *self = static_cast<AsyncCall *>(userdata);
        const std::string_view event(event_json, len);
        std::int32_t cancel = 0;
        if (self->exception) {
            cancel = 1;
        } else {
            try {
                if (!invoke_event(self->fn, event))
                    cancel = 1;
            } catch (...) {
                self->exception = std::current_exception();
                cancel = 1;
            }
        }
        bool terminal = false;
        try {
            terminal = is_terminal_type(json::string_member(event, "type"));
        } catch (...) {
            // std::bad_alloc: cannot tell; a cheap check that needs no allocation
            terminal = event.find("\"type\":\"done\"") != std::string_view::npos ||
                       event.find("\"type\":\"error\"") != std::string_view::npos;
        }
        if (terminal) {
            std::shared_ptr<AsyncShared> shared = std::move(self->shared);
            std::exception_ptr exception = std::move(self->exception);
            // Destroy the callable (here, on the I/O thread) before the stream is seen as
            // finished: once wait() returns, nothing of it runs any more, so whatever its
            // destructor touches may go away with the waiter.
            delete self;
            {
                std::lock_guard<std::mutex> lock(shared->mutex);
                try {
                    shared->terminal_event.assign(event);
                } catch (...) {
                    shared->terminal_event.clear();
                }
                shared->exception = std::move(exception);
                shared->finished = true;
            }
            shared->finished_cv.notify_all();
        }
        return cancel;
    }
};

} // namespace detail

// -----------------------------------------------------------------------------------------
// Stream: an asynchronous streamed completion
// -----------------------------------------------------------------------------------------

class Router;

/// A running asynchronous stream, created by Router::stream_async(). Move-only; owns its
/// pmx_stream handle.
///
/// Threading: the callable given to stream_async() runs on the router's I/O thread (possibly
/// before stream_async() returns), never concurrently with itself; it must not block for long
/// (it delays every request of the router), must not wait on its own stream (wait(), result())
/// and must not destroy the Router. It is destroyed on the I/O thread right after the terminal
/// event (`done` or `error`), which is its last call, and before the stream counts as finished:
/// when wait() or wait_for() returns true, it is gone. An exception it throws cancels the
/// stream and is rethrown by result().
///
/// The other members may be called from any thread. The destructor cancels a stream still
/// running and returns at once (pmx_stream_free); the terminal event still reaches the
/// callable afterwards, on the I/O thread. A Stream may outlive its Router: the router
/// delivers every terminal event before pmx_router_free returns.
class Stream {
public:
    /// An empty stream (no handle): operator bool is false, cancel() is a no-op.
    Stream() noexcept = default;
    Stream(const Stream &) = delete;
    Stream &operator=(const Stream &) = delete;
    /// Moves the handle; `other` becomes empty.
    Stream(Stream &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), shared_(std::move(other.shared_))
    {
    }
    /// Releases the current handle (cancelling it if running) and takes `other`'s.
    Stream &operator=(Stream &&other) noexcept
    {
        if (this != &other) {
            reset();
            handle_ = std::exchange(other.handle_, nullptr);
            shared_ = std::move(other.shared_);
        }
        return *this;
    }
    /// pmx_stream_free: cancels the stream if still running; does not wait.
    ~Stream() { reset(); }

    /// True when this object holds a stream handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /// The C handle, still owned by this object (nullptr when empty).
    pmx_stream *handle() const noexcept { return handle_; }

    /// Requests cancellation: any thread, also from inside the callable; idempotent; a no-op
    /// once finished. The terminal event (an `error` with PMX_ERR_CANCELLED unless the stream
    /// had already finished) follows on the I/O thread.
    void cancel() noexcept { pmx_stream_cancel(handle_); }

    /// True once the terminal event has been delivered (false for an empty stream).
    bool finished() const
    {
        if (!shared_)
            return false;
        std::lock_guard<std::mutex> lock(shared_->mutex);
        return shared_->finished;
    }

    /// Blocks until the terminal event has been delivered. Not from inside the callable.
    /// Throws Error(PMX_ERR_INVALID_ARGUMENT) on an empty stream.
    void wait() const
    {
        std::unique_lock<std::mutex> lock(require().mutex);
        shared_->finished_cv.wait(lock, [this] { return shared_->finished; });
    }

    /// Waits at most `timeout` for the terminal event; returns finished().
    template <class Rep, class Period>
    bool wait_for(const std::chrono::duration<Rep, Period> &timeout) const
    {
        std::unique_lock<std::mutex> lock(require().mutex);
        return shared_->finished_cv.wait_for(lock, timeout, [this] { return shared_->finished; });
    }

    /// Waits for the end, then: rethrows the callable's exception if it threw; returns the full
    /// response JSON (the `done` event's "response") on success; throws Error built from the
    /// `error` event otherwise (PMX_ERR_CANCELLED after cancel()).
    std::string result() const
    {
        wait();
        std::string terminal;
        std::exception_ptr exception;
        {
            std::lock_guard<std::mutex> lock(shared_->mutex);
            terminal = shared_->terminal_event;
            exception = shared_->exception;
        }
        if (exception)
            std::rethrow_exception(exception);
        if (json::string_member(terminal, "type") == std::optional<std::string>("done"))
            return std::string(json::member(terminal, "response").value_or(std::string_view()));
        throw Error::from_event(terminal);
    }

    /// The terminal event JSON once finished ("" before, or for an empty stream).
    std::string terminal_event() const
    {
        if (!shared_)
            return std::string();
        std::lock_guard<std::mutex> lock(shared_->mutex);
        return shared_->finished ? shared_->terminal_event : std::string();
    }

    /// Frees the handle now (cancelling the stream if running) and makes this object empty.
    void reset() noexcept
    {
        pmx_stream_free(std::exchange(handle_, nullptr));
        shared_.reset();
    }

private:
    friend class Router;
    Stream(pmx_stream *handle, std::shared_ptr<detail::AsyncShared> shared) noexcept
        : handle_(handle), shared_(std::move(shared))
    {
    }

    detail::AsyncShared &require() const
    {
        if (!shared_)
            throw Error(PMX_ERR_INVALID_ARGUMENT, "empty providermux::Stream");
        return *shared_;
    }

    pmx_stream *handle_ = nullptr;
    std::shared_ptr<detail::AsyncShared> shared_;
};

// -----------------------------------------------------------------------------------------
// Typed events and the pull stream (pmx_event, pmx_router_stream_open, pmx_stream_next)
// -----------------------------------------------------------------------------------------

/// The type of an Event (pmx_event.type), the JSON events' "type" as numbers. A value not
/// listed here comes from a newer library: skip such events.
enum class EventType : std::int32_t {
    start = PMX_EVENT_START,
    delta = PMX_EVENT_DELTA,
    retry = PMX_EVENT_RETRY,
    fallback = PMX_EVENT_FALLBACK,
    usage = PMX_EVENT_USAGE,
    done = PMX_EVENT_DONE,
    error = PMX_EVENT_ERROR,
};

namespace detail {

/// A pmx_str as a view; an absent string ({NULL, 0}) is an empty view.
inline std::string_view view(const pmx_str &s) noexcept
{
    return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}

/// A usage count: -1 in the C struct means absent.
inline std::optional<std::int64_t> count(std::int64_t value) noexcept
{
    return value < 0 ? std::nullopt : std::optional<std::int64_t>(value);
}

/// A price or speed: NaN in the C struct means absent.
inline std::optional<double> amount(double value) noexcept
{
    return std::isnan(value) ? std::nullopt : std::optional<double>(value);
}

} // namespace detail

/// One entry of a delta's tool_calls (OpenAI's streamed shape: a call's arguments arrive in
/// pieces, joined by index). A borrowed view, valid as long as the Event it came from.
class ToolCallDelta {
public:
    explicit ToolCallDelta(const pmx_tool_call_delta &delta) noexcept : d_(&delta) {}
    /// "index": which call of the answer this piece belongs to; nullopt when absent.
    std::optional<std::int64_t> index() const noexcept { return detail::count(d_->index); }
    /// "id" (usually only on a call's first piece); empty when absent.
    std::string_view id() const noexcept { return detail::view(d_->id); }
    /// "type" ("function"); empty when absent.
    std::string_view type() const noexcept { return detail::view(d_->type); }
    /// "function"."name" (usually only on the first piece); empty when absent.
    std::string_view name() const noexcept { return detail::view(d_->name); }
    /// "function"."arguments": the next piece of the arguments' JSON text.
    std::string_view arguments() const noexcept { return detail::view(d_->arguments); }
    /// The C struct.
    const pmx_tool_call_delta &raw() const noexcept { return *d_; }

private:
    const pmx_tool_call_delta *d_;
};

/// The tool_calls of a delta Event: a range of ToolCallDelta (range-for, size(), [i]).
class ToolCallDeltas {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = ToolCallDelta;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = ToolCallDelta;

        iterator() noexcept = default;
        explicit iterator(const pmx_tool_call_delta *p) noexcept : p_(p) {}
        ToolCallDelta operator*() const noexcept { return ToolCallDelta(*p_); }
        iterator &operator++() noexcept { ++p_; return *this; }
        iterator operator++(int) noexcept { iterator old = *this; ++p_; return old; }
        bool operator==(const iterator &o) const noexcept { return p_ == o.p_; }
        bool operator!=(const iterator &o) const noexcept { return p_ != o.p_; }

    private:
        const pmx_tool_call_delta *p_ = nullptr;
    };

    ToolCallDeltas(const pmx_tool_call_delta *first, std::size_t size) noexcept
        : first_(size ? first : nullptr), size_(first ? size : 0)
    {
    }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// The i-th entry; i < size().
    ToolCallDelta operator[](std::size_t i) const noexcept { return ToolCallDelta(first_[i]); }
    iterator begin() const noexcept { return iterator(first_); }
    iterator end() const noexcept { return iterator(first_ ? first_ + size_ : nullptr); }

private:
    const pmx_tool_call_delta *first_;
    std::size_t size_;
};

/// One stream event as a typed, borrowed view of a pmx_event (no JSON parsed). Every string is
/// a view owned by the EventStream it came from, valid until that stream takes its next batch
/// (for range-for: until the loop moves past the batch; copy what you keep). Which fields a
/// type fills is documented at pmx_event in providermux.h; the others are empty / nullopt / 0.
class Event {
public:
    explicit Event(const pmx_event &event) noexcept : e_(&event) {}

    /// PMX_EVENT_* as EventType (a value outside the enum: a newer library's event; skip it).
    EventType type() const noexcept { return static_cast<EventType>(e_->type); }
    /// The JSON events' "type" ("start", "delta", ... "error"); "" for an unknown type.
    std::string_view type_name() const noexcept
    {
        switch (type()) {
        case EventType::start: return "start";
        case EventType::delta: return "delta";
        case EventType::retry: return "retry";
        case EventType::fallback: return "fallback";
        case EventType::usage: return "usage";
        case EventType::done: return "done";
        case EventType::error: return "error";
        }
        return std::string_view();
    }
    /// DONE or ERROR: exactly one of them ends every stream, as its last event.
    bool is_terminal() const noexcept { return type() == EventType::done || type() == EventType::error; }

    /// START: the attempt's number (1-based); RETRY: the failed attempt's; DONE, ERROR: the
    /// number of attempts made. 0 otherwise.
    int attempt() const noexcept { return static_cast<int>(e_->attempt); }
    /// RETRY, FALLBACK: the failure's status; ERROR: the terminal status. 0 otherwise.
    int status() const noexcept { return static_cast<int>(e_->status); }
    /// RETRY, FALLBACK, ERROR: the provider's HTTP status, 0 when none.
    int http_status() const noexcept { return static_cast<int>(e_->http_status); }
    /// RETRY: milliseconds before the next attempt.
    std::int64_t delay_ms() const noexcept { return e_->delay_ms; }

    /// DELTA: the content piece; RETRY, FALLBACK, ERROR: the message; DONE: the answer.
    std::string_view text() const noexcept { return detail::view(e_->text); }
    /// True when text() is present (a delta with only tool calls has none).
    bool has_text() const noexcept { return e_->text.ptr != nullptr; }
    /// DELTA: the reasoning piece.
    std::string_view reasoning() const noexcept { return detail::view(e_->reasoning); }
    /// DELTA of a request with "n" > 1: the choice it belongs to; nullopt otherwise.
    std::optional<std::int64_t> choice_index() const noexcept
    {
        return e_->choice_index >= 0 ? std::optional<std::int64_t>(e_->choice_index) : std::nullopt;
    }
    /// START, RETRY, DONE, ERROR: the provider; FALLBACK: the provider left.
    std::string_view provider() const noexcept { return detail::view(e_->provider); }
    /// START, DONE: the model.
    std::string_view model() const noexcept { return detail::view(e_->model); }
    /// FALLBACK: the provider tried next.
    std::string_view next_provider() const noexcept { return detail::view(e_->next_provider); }
    /// DONE: choices[0].finish_reason ("stop", "length", "tool_calls", ...).
    std::string_view finish_reason() const noexcept { return detail::view(e_->finish_reason); }
    /// DELTA: the tool-call pieces (empty when none).
    ToolCallDeltas tool_calls() const noexcept { return ToolCallDeltas(e_->tool_calls, e_->tool_call_count); }

    /// USAGE, DONE, ERROR: token counts, nullopt when absent.
    std::optional<std::int64_t> prompt_tokens() const noexcept { return detail::count(e_->prompt_tokens); }
    std::optional<std::int64_t> completion_tokens() const noexcept { return detail::count(e_->completion_tokens); }
    std::optional<std::int64_t> total_tokens() const noexcept { return detail::count(e_->total_tokens); }
    std::optional<std::int64_t> cached_tokens() const noexcept { return detail::count(e_->cached_tokens); }
    /// USAGE, DONE, ERROR: "cost_usd", "upstream_cost_usd", "tokens_per_second"; nullopt when absent.
    std::optional<double> cost_usd() const noexcept { return detail::amount(e_->cost_usd); }
    std::optional<double> upstream_cost_usd() const noexcept { return detail::amount(e_->upstream_cost_usd); }
    std::optional<double> tokens_per_second() const noexcept { return detail::amount(e_->tokens_per_second); }

    /// The event's JSON object, as the JSON callback receives it: always for DONE and ERROR,
    /// for every event when the stream was opened with PMX_NEXT_WITH_JSON; else empty.
    std::string_view json() const noexcept { return detail::view(e_->json); }
    /// DONE: the full response JSON (the "response" member of json()); empty otherwise.
    std::string_view response() const noexcept
    {
        if (type() != EventType::done)
            return std::string_view();
        return providermux::json::member(json(), "response").value_or(std::string_view());
    }
    /// ERROR: the failure as an Error (status, message, HTTP status, provider, attempts and
    /// the error event's JSON), built from the typed fields.
    Error error() const
    {
        return Error(status() != 0 ? status() : PMX_ERR_INTERNAL, std::string(text()), http_status(),
                     std::string(provider()), attempt(), std::string(json()));
    }

    /// The C struct.
    const pmx_event &raw() const noexcept { return *e_; }

private:
    const pmx_event *e_;
};

/// A streamed chat completion whose typed events the caller pulls on a thread of its choice
/// (Router::events: pmx_router_stream_open + pmx_stream_next), one FFI call per batch of up to
/// batch_capacity events. Move-only; owns its pmx_stream handle.
///
///     for (const providermux::Event ev : router.events(request))
///         if (ev.type() == providermux::EventType::delta)
///             std::cout << ev.text();
///
/// Iteration ends after the terminal event (DONE or ERROR, which it yields). The Events of a
/// batch stay valid until the next batch is taken (by the iterator moving past the batch, or
/// next_batch()). A failed request is not thrown by iteration: it is the ERROR event
/// (ev.error() gives the Error); result() throws it. Iterating throws Error only when
/// pmx_stream_next fails (PMX_ERR_WOULD_DEADLOCK on a router's I/O thread, e.g. inside a
/// stream_async() callable).
///
/// Threading: one thread at a time iterates (any thread); cancel() works from any thread
/// meanwhile and ends the wait with the terminal event. The destructor frees the handle
/// (pmx_stream_free), cancelling a stream still running; destroy it only once no thread is
/// iterating it. An EventStream may outlive its Router (freeing the router cancels it; its
/// terminal event stays readable).
class EventStream {
public:
    /// Events taken per pmx_stream_next call at most.
    static constexpr std::size_t batch_capacity = 64;

    /// The iterator of range-for: an input iterator over the stream's remaining events.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Event;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Event;

        iterator() noexcept = default;
        Event operator*() const noexcept { return s_->current(); }
        /// Moves to the next event, taking the next batch (waiting for it) when this one is
        /// used up. Throws Error when pmx_stream_next fails.
        iterator &operator++()
        {
            s_->advance();
            return *this;
        }
        bool operator==(const iterator &o) const noexcept { return at_end() == o.at_end(); }
        bool operator!=(const iterator &o) const noexcept { return !(*this == o); }

    private:
        friend class EventStream;
        explicit iterator(EventStream *s) noexcept : s_(s) {}
        bool at_end() const noexcept { return !s_ || s_->pos_ >= s_->count_; }
        EventStream *s_ = nullptr;
    };

    /// An empty stream (no handle): operator bool is false, iteration is empty.
    EventStream() noexcept = default;
    EventStream(const EventStream &) = delete;
    EventStream &operator=(const EventStream &) = delete;
    /// Moves the handle and the current batch; `other` becomes empty.
    EventStream(EventStream &&other) noexcept { take(other); }
    /// Releases the current handle (cancelling it if running) and takes `other`'s.
    EventStream &operator=(EventStream &&other) noexcept
    {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    /// pmx_stream_free: cancels the stream if still running; does not wait.
    ~EventStream() { reset(); }

    /// True when this object holds a stream handle.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The C handle, still owned by this object (nullptr when empty).
    pmx_stream *handle() const noexcept { return handle_; }

    /// Requests cancellation (pmx_stream_cancel): any thread, also while another one waits in
    /// the iteration; idempotent. The events already queued still come, then the terminal one
    /// (ERROR with PMX_ERR_CANCELLED unless the stream had already finished).
    void cancel() noexcept { pmx_stream_cancel(handle_); }

    /// True once the terminal event has been taken.
    bool finished() const noexcept { return finished_; }

    /// Starts (or continues) the iteration at the first event not yet passed, taking a batch
    /// first when none is at hand.
    iterator begin()
    {
        if (pos_ >= count_)
            advance();
        return iterator(this);
    }
    iterator end() noexcept { return iterator(); }

    /// Takes the next batch by hand (pmx_stream_next), waiting up to timeout_ms for its first
    /// event (-1: as long as it takes; 0: only what is queued). Returns the number of events
    /// taken, 0 when the wait ran out or the stream has ended; the previous batch's Events are
    /// invalid afterwards. Read them with batch_size() / batch(i).
    /// Throws Error when pmx_stream_next fails, or on an empty stream (PMX_ERR_INVALID_ARGUMENT).
    std::size_t next_batch(std::int32_t timeout_ms = -1)
    {
        if (!handle_)
            throw Error(PMX_ERR_INVALID_ARGUMENT, "empty providermux::EventStream");
        if (finished_) {
            pos_ = count_ = 0;
            return 0;
        }
        std::size_t n = 0;
        pmx_error err{};
        const pmx_status rc = pmx_stream_next(batch_.get(), batch_capacity, sizeof(pmx_event), &n,
                                              handle_, timeout_ms, flags_, &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
        pos_ = 0;
        count_ = n;
        if (n > 0) {
            last_ = n;
            finished_ = Event(batch_[n - 1]).is_terminal();
        }
        return n;
    }
    /// The number of events of the current batch.
    std::size_t batch_size() const noexcept { return count_; }
    /// The i-th event of the current batch; i < batch_size().
    Event batch(std::size_t i) const noexcept { return Event(batch_[i]); }

    /// Reads the remaining events and returns the full response JSON of DONE, or throws the
    /// Error of ERROR (PMX_ERR_CANCELLED after cancel()). Also after iteration has ended.
    std::string result()
    {
        if (!handle_)
            throw Error(PMX_ERR_INVALID_ARGUMENT, "empty providermux::EventStream");
        while (!finished_)
            next_batch(-1);
        // The terminal event is the last of the last batch, taken by this object and still valid.
        const Event terminal(batch_[last_ - 1]);
        if (terminal.type() == EventType::done)
            return std::string(terminal.response());
        throw terminal.error();
    }

    /// Frees the handle now (cancelling the stream if running) and makes this object empty.
    void reset() noexcept
    {
        pmx_stream_free(std::exchange(handle_, nullptr));
        batch_.reset();
        pos_ = count_ = last_ = 0;
        finished_ = false;
    }

private:
    friend class Router;
    /// Owns `handle` from here on, also when allocating the batch throws (it is freed then).
    EventStream(pmx_stream *handle, std::uint32_t flags) : handle_(handle), flags_(flags)
    {
        try {
            batch_.reset(new pmx_event[batch_capacity]);
        } catch (...) {
            reset();
            throw;
        }
    }

    void take(EventStream &other) noexcept
    {
        handle_ = std::exchange(other.handle_, nullptr);
        batch_ = std::move(other.batch_);
        flags_ = other.flags_;
        pos_ = std::exchange(other.pos_, 0);
        count_ = std::exchange(other.count_, 0);
        last_ = std::exchange(other.last_, 0);
        finished_ = std::exchange(other.finished_, false);
    }

    Event current() const noexcept { return Event(batch_[pos_]); }

    /// One step of the iteration: the next event of this batch, or the first of the next one
    /// (waiting for it); past the end once the terminal event was passed.
    void advance()
    {
        if (pos_ < count_)
            ++pos_;
        while (pos_ >= count_ && !finished_ && handle_)
            next_batch(-1);
    }

    pmx_stream *handle_ = nullptr;
    std::unique_ptr<pmx_event[]> batch_;
    std::uint32_t flags_ = 0;
    std::size_t pos_ = 0;   // the current event of the batch (== count_: none)
    std::size_t count_ = 0; // events in the batch
    std::size_t last_ = 0;  // size of the last batch that held events (the terminal's)
    bool finished_ = false; // the terminal event was taken
};

// -----------------------------------------------------------------------------------------
// Router
// -----------------------------------------------------------------------------------------

/// A router: providers, routing policy and one I/O thread (pmx_router). Move-only, unique
/// owner of its handle; the destructor frees it (pmx_router_free), cancelling async streams
/// still running and waiting for their terminal events.
///
/// Threading: a Router may be shared between threads (by reference) and all its member
/// functions may run concurrently, except that the destructor / move-assignment must not run
/// while other threads still use it, nor from inside one of its own event callbacks.
///
/// Errors: every member function throws Error on failure (std::bad_alloc aside). On an empty
/// (default-constructed or moved-from) Router they throw Error(PMX_ERR_ROUTER_CLOSED).
class Router {
public:
    /// An empty router (no handle).
    Router() noexcept = default;

    /// Creates a router from a router config JSON document and starts its I/O thread
    /// (pmx_router_new). Throws Error: PMX_ERR_INVALID_JSON, PMX_ERR_INVALID_UTF8,
    /// PMX_ERR_CONFIG (the message names the field), PMX_ERR_ENV_VAR_MISSING,
    /// PMX_ERR_UNKNOWN_PROVIDER_TYPE, PMX_ERR_DUPLICATE_PROVIDER.
    explicit Router(const std::string &config_json)
    {
        pmx_error err{};
        const pmx_status rc = pmx_router_new(&handle_, config_json.c_str(), &err);
        if (rc != PMX_OK) {
            handle_ = nullptr;
            throw Error::from_c(rc, err);
        }
    }

    /// Takes ownership of a handle from pmx_router_new (may be nullptr).
    explicit Router(pmx_router *handle) noexcept : handle_(handle) {}

    Router(const Router &) = delete;
    Router &operator=(const Router &) = delete;
    /// Moves the handle; `other` becomes empty (its destructor then does nothing).
    Router(Router &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), observer_(std::move(other.observer_)) {}
    /// Frees the current router, then takes `other`'s handle.
    Router &operator=(Router &&other) noexcept
    {
        if (this != &other) {
            pmx_router_free(std::exchange(handle_, std::exchange(other.handle_, nullptr)));
            observer_ = std::move(other.observer_);
        }
        return *this;
    }
    /// pmx_router_free. Blocking calls on other threads must have returned first.
    ~Router() { pmx_router_free(handle_); }

    /// True when this object holds a router.
    explicit operator bool() const noexcept { return handle_ != nullptr; }
    /// The C handle, still owned by this object (nullptr when empty).
    pmx_router *handle() const noexcept { return handle_; }
    /// Gives up ownership: returns the handle (free it with pmx_router_free), leaves this empty.
    pmx_router *release() noexcept { return std::exchange(handle_, nullptr); }

    /// Runs one chat completion and waits for it, retries and failover included
    /// (pmx_router_complete). Returns the response JSON (an OpenAI chat.completion plus
    /// "provider", "attempts", "latency_ms", "usage"). Blocks the calling thread.
    /// Throws Error: input errors, or the last attempt's failure (message lists every attempt).
    std::string complete(const std::string &request_json) const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_complete(&out, require(), request_json.c_str(), &err);
        return take(rc, out, err);
    }

    /// Runs one streamed chat completion on the CALLING thread (pmx_router_stream): calls
    /// `on_event(std::string_view event_json)` for every event (`start`, `delta`, `retry`,
    /// `fallback`, `usage`, then `done` or `error`); the view is valid during the call only.
    /// `on_event` returns void, or bool: false cancels the stream. Returns the full response
    /// JSON (as carried by `done`). For typed events without JSON, see events().
    ///
    /// If `on_event` throws, the exception is caught before it reaches C, the stream is
    /// cancelled, `on_event` is not called again, and the exception is rethrown here once
    /// pmx_router_stream has returned. Otherwise a stream that ends with `error` throws Error
    /// built from that event (PMX_ERR_CANCELLED when `on_event` returned false).
    template <class F>
    std::string stream(const std::string &request_json, F &&on_event) const
    {
        return with_events(on_event, EventErrors::from_event, [&](char **out, pmx_event_fn fn, void *userdata, pmx_error *err) {
            return pmx_router_stream(out, require(), request_json.c_str(), fn, userdata, err);
        });
    }

    /// Starts a streamed chat completion whose typed events the caller pulls
    /// (pmx_router_stream_open), and returns at once; see EventStream. `flags`: 0, or
    /// PMX_NEXT_WITH_JSON to have every event's json() (DONE's and ERROR's always have it).
    /// Throws Error for input errors only (those of complete()), and then nothing is started.
    EventStream events(const std::string &request_json, std::uint32_t flags = 0) const
    {
        pmx_stream *handle = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_stream_open(&handle, require(), request_json.c_str(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
        return EventStream(handle, flags);
    }

    /// Starts a streamed chat completion and returns at once (pmx_router_stream_async).
    /// `on_event` (copied or moved into the stream) is called on the router's I/O THREAD, see
    /// Stream for the rules; it returns void, or bool: false cancels. Throws Error for input
    /// errors only, and then `on_event` is never called.
    template <class F>
    Stream stream_async(const std::string &request_json, F &&on_event) const
    {
        using Fn = std::decay_t<F>;
        static_assert(std::is_invocable_v<Fn &, std::string_view>,
                      "providermux: on_event must be callable with std::string_view");
        auto shared = std::make_shared<detail::AsyncShared>();
        auto call = std::unique_ptr<detail::AsyncCall<Fn>>(
            new detail::AsyncCall<Fn>{Fn(std::forward<F>(on_event)), shared, nullptr});
        pmx_stream *handle = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_stream_async(&handle, require(), request_json.c_str(),
                                                      &detail::AsyncCall<Fn>::trampoline,
                                                      call.get(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err); // the callback is never called: `call` is freed here
        call.release();                   // owned by the trampoline now, deleted at the end
        return Stream(handle, std::move(shared));
    }

    /// Computes embeddings (pmx_router_embed): {"model": ..., "input": "text" | [...]}.
    /// Returns an OpenAI embeddings list plus "provider" and "attempts". Blocks.
    /// Throws Error: as complete(), plus PMX_ERR_UNSUPPORTED.
    std::string embed(const std::string &request_json) const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_embed(&out, require(), request_json.c_str(), &err);
        return take(rc, out, err);
    }

    /// Runs one operation by name (pmx_router_call): "completions.create", "images.generate",
    /// "rerank", ... (the openai Python SDK's resource paths; see the header). Returns the
    /// result JSON (the operation's OpenAI shape plus "provider", "attempts", "usage"). Blocks.
    /// Throws Error: PMX_ERR_INVALID_ARGUMENT for an unknown operation (naming the known ones),
    /// else as complete(), plus PMX_ERR_UNSUPPORTED when no provider has the operation.
    std::string call(const std::string &operation, const std::string &request_json) const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_call(&out, require(), operation.c_str(), request_json.c_str(), &err);
        return take(rc, out, err);
    }

    /// Streams one operation (pmx_router_call_stream): `on_event(std::string_view event_json)`
    /// receives each event on the CALLING thread ("delta" with "content" for completions, ...);
    /// returning false cancels. Returns the result JSON of `done`. Exceptions it throws cancel
    /// the stream and are rethrown here, as in stream().
    template <class F>
    std::string call_stream(const std::string &operation, const std::string &request_json, F &&on_event) const
    {
        return with_events(on_event, EventErrors::from_event, [&](char **out, pmx_event_fn fn, void *userdata, pmx_error *err) {
            return pmx_router_call_stream(out, require(), operation.c_str(), request_json.c_str(), fn, userdata, err);
        });
    }

    /// Lists the models of every provider (pmx_router_models); failing providers are listed
    /// under "errors", not thrown. Blocks.
    std::string models() const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_models(&out, require(), &err);
        return take(rc, out, err);
    }

    /// The models list filtered (pmx_router_models_query): query_json is
    /// {"search": "claude", "provider": "name"}, both optional. Throws pmx::Error on a bad
    /// query (PMX_ERR_INVALID_REQUEST) or an unknown provider (PMX_ERR_PROVIDER_NOT_FOUND). Blocks.
    std::string models(const std::string &query_json) const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_models_query(&out, require(), query_json.c_str(), &err);
        return take(rc, out, err);
    }

    /// Probes every provider now (pmx_router_health). Blocks up to the health timeout.
    std::string health() const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_health(&out, require(), &err);
        return take(rc, out, err);
    }

    /// Usage statistics JSON since creation or the last reset (pmx_router_stats).
    std::string stats() const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_stats(&out, require(), &err);
        return take(rc, out, err);
    }

    /// Statistics with options (pmx_router_stats_ex): `format` "json" or "prometheus" (text
    /// exposition format 0.0.4); `reset` zeroes the counters right after this snapshot.
    /// Throws Error(PMX_ERR_INVALID_ARGUMENT) for an unknown format.
    std::string stats_ex(const std::string &format = "json", bool reset = false) const
    {
        const std::string options =
            "{\"format\":" + json::quote(format) + ",\"reset\":" + (reset ? "true" : "false") + "}";
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = pmx_router_stats_ex(&out, require(), options.c_str(), &err);
        return take(rc, out, err);
    }

    /// Adds a provider (one entry of the config's "providers", as JSON); it serves new requests
    /// from now on. Any thread, also while requests run. Throws Error: as Router(config), plus
    /// PMX_ERR_DUPLICATE_PROVIDER.
    void add_provider(const std::string &provider_json)
    {
        pmx_router *router = require();
        pmx_provider *provider = nullptr;
        pmx_error err{};
        pmx_status rc = pmx_provider_new(&provider, provider_json.c_str(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
        rc = pmx_router_add_provider(router, provider, &err);
        pmx_provider_free(provider); // the router keeps its own reference
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
    }

    /// Removes the provider called `name`; requests already running on it finish.
    /// Throws Error(PMX_ERR_PROVIDER_NOT_FOUND).
    void remove_provider(const std::string &name)
    {
        pmx_error err{};
        const pmx_status rc = pmx_router_remove_provider(require(), name.c_str(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
    }

    /// Replaces the config's "routing" section (the object, as JSON) while requests run; on any
    /// error nothing changes. Throws Error: PMX_ERR_INVALID_JSON, PMX_ERR_CONFIG (naming the
    /// field).
    void update_routing(const std::string &routing_json)
    {
        pmx_error err{};
        const pmx_status rc = pmx_router_update_routing(require(), routing_json.c_str(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
    }

    /// Model management on a local server provider (pmx_router_model_manage):
    /// {"action": "pull"|"delete"|"show"|"loaded", "provider": NAME, "model": MODEL}. Returns
    /// the result JSON. Blocks. Throws Error.
    std::string model_manage(const std::string &request_json) const
    {
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc =
            pmx_router_model_manage(&out, require(), request_json.c_str(), nullptr, nullptr, &err);
        return take(rc, out, err);
    }

    /// As model_manage(), with `on_progress(std::string_view event_json)` receiving "pull"
    /// progress events on the CALLING thread; returning false cancels. Exceptions it throws
    /// cancel the action and are rethrown here, as in stream().
    template <class F>
    std::string model_manage(const std::string &request_json, F &&on_progress) const
    {
        return with_events(on_progress, EventErrors::from_status, [&](char **out, pmx_event_fn fn, void *userdata, pmx_error *err) {
            return pmx_router_model_manage(out, require(), request_json.c_str(), fn, userdata, err);
        });
    }

    /// The per-request observer (pmx_router_set_observer): `fn(std::string_view record_json)`
    /// is called once per request when it ends (just before its terminal event: a blocking call
    /// returns after it), on the router's I/O thread, one call at a time; the view is valid
    /// during the call only. Keep it short; blocking calls from it throw
    /// PMX_ERR_WOULD_DEADLOCK. An exception it throws is swallowed (it cannot cross the C
    /// boundary). An empty function clears it. Not from inside the observer itself (the
    /// function object it runs would be destroyed under it). Throws Error.
    void set_observer(std::function<void(std::string_view)> fn)
    {
        pmx_error err{};
        if (!fn) {
            const pmx_status rc = pmx_router_set_observer(require(), nullptr, nullptr, &err);
            if (rc != PMX_OK)
                throw Error::from_c(rc, err);
            observer_.reset();  // not called any more once set_observer returned
            return;
        }
        auto next = std::make_unique<std::function<void(std::string_view)>>(std::move(fn));
        const pmx_status rc = pmx_router_set_observer(require(), &Router::observe, next.get(), &err);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
        observer_ = std::move(next);  // the previous one is no longer called
    }

private:
    /// Where a failed blocking stream's Error comes from: its terminal `error` event (streams:
    /// it carries the attempts), or the status and pmx_error (model management).
    enum class EventErrors { from_event, from_status };

    /// A blocking call that delivers JSON events on the calling thread: `c_call(out, fn,
    /// userdata, err)` makes it with the trampoline; `on_event(std::string_view)` returning
    /// false cancels, an exception it throws cancels and is rethrown here.
    template <class F, class Call>
    std::string with_events(F &on_event, EventErrors errors, Call &&c_call) const
    {
        using Fn = std::remove_reference_t<F>;
        static_assert(std::is_invocable_v<Fn &, std::string_view>,
                      "providermux: the event callback must be callable with std::string_view");
        detail::BlockingCall<Fn> call{&on_event, nullptr, std::string()};
        char *out = nullptr;
        pmx_error err{};
        const pmx_status rc = c_call(&out, &detail::BlockingCall<Fn>::trampoline, &call, &err);
        detail::OwnedString owned(out);
        if (call.exception)
            std::rethrow_exception(call.exception);
        if (rc != PMX_OK) {
            if (errors == EventErrors::from_event && !call.last_event.empty())
                throw Error::from_event(call.last_event, rc);
            throw Error::from_c(rc, err);
        }
        return detail::to_string(owned);
    }

    static void observe(const char *record_json, size_t len, void *userdata) noexcept
    {
        try {
            (*static_cast<std::function<void(std::string_view)> *>(userdata))(std::string_view(record_json, len));
        } catch (...) {
        }
    }

    pmx_router *require() const
    {
        if (!handle_)
            throw Error(PMX_ERR_ROUTER_CLOSED, "empty providermux::Router (moved from or default)");
        return handle_;
    }

    static std::string take(pmx_status rc, char *out, const pmx_error &err)
    {
        detail::OwnedString owned(out);
        if (rc != PMX_OK)
            throw Error::from_c(rc, err);
        return detail::to_string(owned);
    }

    pmx_router *handle_ = nullptr;
    /// The observer's function object, owned here for as long as the library may call it.
    std::unique_ptr<std::function<void(std::string_view)>> observer_;
};

} // namespace providermux

#endif // PROVIDERMUX_HPP
