// SPDX-License-Identifier: Apache-2.0
// test_cxx.cpp — tests of include/providermux.hpp, the header-only C++17 wrapper, against the
// in-process mock provider (no network). Prints "N passed, N failed" as the last line and exits
// non-zero on any failure.
#include "providermux.hpp"
#include "providermux.hpp" // include guard

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace pmx = providermux;

static int g_passed = 0;
static int g_failed = 0;

static void check(bool ok, const char *what, const char *file, int line, const std::string &detail = {})
{
    if (ok) {
        ++g_passed;
        return;
    }
    ++g_failed;
    std::fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what, detail.empty() ? "" : " — ",
                 detail.c_str());
    std::fflush(stderr);
}

#define CHECK(cond) check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)
#define FAIL(what) check(false, what, __FILE__, __LINE__)
#define CHECK_EQ(actual, expected)                                                            \
    do {                                                                                      \
        const auto &a_ = (actual);                                                            \
        const auto &e_ = (expected);                                                          \
        check(a_ == e_, #actual " == " #expected, __FILE__, __LINE__,                        \
              "got '" + to_text(a_) + "', expected '" + to_text(e_) + "'");                   \
    } while (0)

template <class T>
static std::string to_text(const T &v)
{
    if constexpr (std::is_arithmetic_v<T>)
        return std::to_string(v);
    else
        return std::string(v);
}

static bool contains(std::string_view haystack, std::string_view needle)
{
    return haystack.find(needle) != std::string_view::npos;
}

static const char *const kConfig =
    R"({"providers":[{"name":"m","type":"mock","token_delay_ms":5,"api_key":"sk-cxx-test-SECRET-3b8f1"}]})";
static const char *const kSlowConfig =
    R"({"providers":[{"name":"slow","type":"mock","token_delay_ms":200}]})";

static std::string request(std::string_view text)
{
    return R"({"messages":[{"role":"user","content":)" + pmx::json::quote(text) + "}]}";
}

// Concatenates the top-level "content" of every delta event.
struct Collector {
    std::string text;
    std::vector<std::string> types;
    void operator()(std::string_view event)
    {
        const auto type = pmx::json::string_member(event, "type").value_or("?");
        types.push_back(type);
        if (type == "delta")
            text += pmx::json::string_member(event, "content").value_or("");
    }
};

// ---------------------------------------------------------------------------------------------

static void test_versions()
{
    CHECK_EQ(pmx::version(), std::string(PMX_VERSION_STRING));
    CHECK_EQ(pmx::version_number(), PMX_VERSION_NUMBER);
    CHECK_EQ(pmx::status_name(PMX_ERR_CONFIG), std::string("PMX_ERR_CONFIG"));
    CHECK_EQ(pmx::status_name(12345), std::string("PMX_UNKNOWN_STATUS"));
    static_assert(!std::is_copy_constructible_v<pmx::Router>, "Router is move-only");
    static_assert(!std::is_copy_assignable_v<pmx::Router>, "Router is move-only");
    static_assert(std::is_nothrow_move_constructible_v<pmx::Router>, "Router moves noexcept");
    static_assert(std::is_nothrow_move_assignable_v<pmx::Router>, "Router moves noexcept");
    static_assert(!std::is_copy_constructible_v<pmx::Stream>, "Stream is move-only");
    static_assert(std::is_nothrow_move_constructible_v<pmx::Stream>, "Stream moves noexcept");
    static_assert(std::is_base_of_v<std::runtime_error, pmx::Error>, "Error is a runtime_error");
}

static void test_json_scanner()
{
    namespace json = pmx::json;
    const std::string ev =
        R"({"type":"delta","nested":{"content":"wrong","x":[1,{"content":"no"}]},)"
        R"( "content" : "a\"b\\c\n\u00e9\ud83d\ude00\/", "n": -42, "f": 3.9, "arr": [1, [2, 3], "x,]"]})";
    CHECK_EQ(json::string_member(ev, "type").value_or("<none>"), std::string("delta"));
    CHECK_EQ(json::string_member(ev, "content").value_or("<none>"),
             std::string("a\"b\\c\n\xc3\xa9\xf0\x9f\x98\x80/"));
    CHECK_EQ(json::int_member(ev, "n").value_or(0), -42LL);
    CHECK_EQ(json::int_member(ev, "f").value_or(0), 3LL);
    CHECK(!json::member(ev, "x")); // only nested
    CHECK(!json::string_member(ev, "n"));
    CHECK(!json::int_member(ev, "type"));
    CHECK_EQ(json::array_size(json::member(ev, "arr").value_or("")).value_or(99), std::size_t{3});
    CHECK_EQ(json::array_size("[]").value_or(99), std::size_t{0});
    CHECK(!json::member("not json", "a"));
    CHECK(!json::member(R"({"a":"unterminated)", "a"));
    CHECK(!json::member(R"({"a":1,"b":)", "b"));
    CHECK(!json::unquote(R"("bad \x escape")"));
    CHECK_EQ(json::unquote(R"("\ud800x")").value_or(""), std::string("\xef\xbf\xbdx")); // lone surrogate
    CHECK_EQ(json::string_member(R"({"k\u0065y":"v"})", "key").value_or(""), std::string("v"));
    CHECK_EQ(json::quote(std::string("a\"\\\n\x01\x7f\xc3\xa9", 8)),
             std::string(R"("a\"\\\n\u0001\u007f)") + "\xc3\xa9\"");
    // quote and unquote round-trip
    const std::string tricky("tab\t quote\" back\\ nl\n ctrl\x02 utf8 \xe2\x82\xac", 37);
    CHECK_EQ(json::unquote(json::quote(tricky)).value_or(""), tricky);
}

static void test_complete()
{
    pmx::Router router(kConfig);
    CHECK(static_cast<bool>(router));
    CHECK(router.handle() != nullptr);
    const std::string response = router.complete(request("hello \"world\" \xc3\xa9"));
    const auto provider = pmx::json::string_member(response, "provider");
    CHECK_EQ(provider.value_or(""), std::string("m"));
    CHECK(contains(response, R"("content":"mock: hello \"world\" )"));
    CHECK(contains(response, "\"chat.completion\""));

    // Request errors are thrown with their status and message.
    try {
        router.complete(R"({"messages":[]})");
        FAIL("empty messages should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_REQUEST);
        CHECK_EQ(e.status_name(), std::string("PMX_ERR_INVALID_REQUEST"));
        CHECK(contains(e.what(), "PMX_ERR_INVALID_REQUEST: "));
        CHECK(!e.message().empty());
    }
    try {
        router.complete("{not json");
        FAIL("bad JSON should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_JSON);
    }
    try {
        router.complete(R"({"messages":[{"role":"user","content":"x"}],"route":{"providers":["nope"]}})");
        FAIL("unknown provider should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_PROVIDER_NOT_FOUND);
    }
}

static void test_call_operation()
{
    pmx::Router router(kConfig);
    const std::string out = router.call("completions.create", R"({"prompt":"def f(","suffix":"pass"})");
    CHECK(contains(out, "\"text_completion\""));
    CHECK(contains(out, "\"text\":\"mock: def f( \xe2\x80\xa6 pass\""));
    std::string text;
    const std::string done = router.call_stream("completions.create", R"({"prompt":"a b"})", [&](std::string_view ev) {
        if (auto c = pmx::json::string_member(ev, "content"))
            text += *c;
        return true;
    });
    CHECK_EQ(text, std::string("mock: a b"));
    CHECK(contains(done, "text_completion"));
    try {
        router.call("completion.create", "{}");
        FAIL("an unknown operation should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_ARGUMENT);
        CHECK(contains(e.message(), "\"completions.create\""));
    }
}

static void test_call_responses()
{
    pmx::Router router(kConfig);
    const std::string out = router.call("responses.create", R"({"input":"one two"})");
    CHECK(contains(out, "\"object\":\"response\""));
    CHECK(contains(out, "\"text\":\"mock: one two\""));
    std::string text, first, last_op;
    const std::string done = router.call_stream("responses.create", R"({"input":"a b"})", [&](std::string_view ev) {
        auto type = pmx::json::string_member(ev, "type");
        if (type && first.empty())
            first = *type;
        if (type && type->rfind("response.", 0) == 0)
            last_op = *type;
        if (type && *type == "response.output_text.delta")
            if (auto d = pmx::json::string_member(ev, "delta"))
                text += *d;
        return true;
    });
    CHECK_EQ(first, std::string("start"));
    CHECK_EQ(last_op, std::string("response.completed"));
    CHECK_EQ(text, std::string("mock: a b"));
    CHECK(contains(done, "\"object\":\"response\""));
}

static void test_bad_config()
{
    try {
        pmx::Router router(R"({"providers":[{"name":"m","type":"mock","bogus":1}]})");
        FAIL("an unknown key should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_CONFIG);
        CHECK_EQ(e.status_name(), std::string("PMX_ERR_CONFIG"));
        CHECK(contains(e.message(), "providers[0].bogus"));
        CHECK(contains(e.what(), "PMX_ERR_CONFIG: providers[0].bogus"));
        CHECK_EQ(e.http_status(), 0);
        CHECK_EQ(e.attempts(), 0);
        CHECK(e.provider().empty());
        CHECK(e.event_json().empty());
    }
    try {
        pmx::Router router(R"({"providers":[{"name":"m","type":"mock"}],"retry":{"max_attempts":"x"}})");
        FAIL("a mistyped field should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_CONFIG);
        CHECK(contains(e.message(), "retry.max_attempts"));
    }
    try {
        pmx::Router router(R"({"providers":[{"name":"m","type":"no-such-type"}]})");
        FAIL("an unknown provider type should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_UNKNOWN_PROVIDER_TYPE);
    }
    // Caught as std::exception too.
    try {
        pmx::Router router("[");
        FAIL("bad JSON should throw");
    } catch (const std::exception &e) {
        CHECK(contains(e.what(), "PMX_ERR_INVALID_JSON"));
    }
}

static void test_stream()
{
    pmx::Router router(kConfig);
    Collector collector;
    const std::string response = router.stream(request("one two three"), std::ref(collector));
    CHECK_EQ(collector.text, std::string("mock: one two three"));
    CHECK(!collector.types.empty() && collector.types.front() == "start");
    CHECK(!collector.types.empty() && collector.types.back() == "done");
    CHECK_EQ(pmx::json::string_member(response, "provider").value_or(""), std::string("m"));
    CHECK(pmx::json::member(response, "ttft_ms").has_value());

    // A lambda returning bool: false cancels; the stream then throws PMX_ERR_CANCELLED.
    int deltas = 0;
    try {
        router.stream(request("a b c d e f"), [&](std::string_view event) {
            if (pmx::json::string_member(event, "type") == "delta")
                ++deltas;
            return deltas < 2;
        });
        FAIL("a cancelled stream should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_CANCELLED);
        CHECK_EQ(e.provider(), std::string("m"));
        CHECK(contains(e.event_json(), "\"type\":\"error\""));
    }
    CHECK_EQ(deltas, 2);

    // An rvalue callable, returning true throughout.
    int events = 0;
    router.stream(request("x"), [&events](std::string_view) { ++events; return true; });
    CHECK(events >= 3);

    // Input errors are thrown before any event.
    int called = 0;
    try {
        router.stream(R"({"messages":[]})", [&](std::string_view) { ++called; });
        FAIL("empty messages should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_REQUEST);
    }
    CHECK_EQ(called, 0);
}

struct CallbackFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

static void test_stream_exception()
{
    pmx::Router router(kConfig);
    int calls_after_throw = 0;
    bool thrown = false;
    try {
        router.stream(request("alpha beta gamma delta"), [&](std::string_view event) {
            if (thrown)
                ++calls_after_throw;
            if (pmx::json::string_member(event, "type") == "delta") {
                thrown = true;
                throw CallbackFailure("boom from the callback");
            }
        });
        FAIL("the callback's exception should propagate");
    } catch (const CallbackFailure &e) {
        CHECK_EQ(std::string(e.what()), std::string("boom from the callback"));
    } catch (const std::exception &e) {
        check(false, "caught the callback's own exception type", __FILE__, __LINE__, e.what());
    }
    CHECK(thrown);
    CHECK_EQ(calls_after_throw, 0);

    // Non-std exceptions too.
    try {
        router.stream(request("x"), [](std::string_view) { throw 42; });
        FAIL("an int should propagate");
    } catch (int v) {
        CHECK_EQ(v, 42);
    }

    // The router still works afterwards, and counted the cancelled requests as failures.
    Collector collector;
    router.stream(request("still alive"), std::ref(collector));
    CHECK_EQ(collector.text, std::string("mock: still alive"));
    CHECK(contains(router.complete(request("again")), "mock: again"));
    const std::string stats = router.stats();
    CHECK_EQ(pmx::json::int_member(stats, "requests").value_or(-1), 4LL);
    CHECK_EQ(pmx::json::int_member(stats, "successes").value_or(-1), 2LL);
}

static void test_async_stream()
{
    pmx::Router router(kConfig);
    // Runs to the end.
    {
        auto collector = std::make_shared<Collector>();
        std::atomic<std::thread::id> io_thread{};
        pmx::Stream stream = router.stream_async(request("async one two"), [collector, &io_thread](std::string_view ev) {
            io_thread = std::this_thread::get_id();
            (*collector)(ev);
        });
        CHECK(static_cast<bool>(stream));
        CHECK(stream.wait_for(std::chrono::seconds(20)));
        CHECK(stream.finished());
        const std::string response = stream.result();
        CHECK_EQ(pmx::json::string_member(response, "provider").value_or(""), std::string("m"));
        CHECK(contains(response, "mock: async one two"));
        CHECK_EQ(collector->text, std::string("mock: async one two"));
        CHECK(io_thread.load() != std::this_thread::get_id()); // delivered on the I/O thread
        CHECK(contains(stream.terminal_event(), "\"type\":\"done\""));
        // The callable was destroyed after the terminal event: only our copy is left.
        CHECK_EQ(collector.use_count(), 1L);
    }
    // The callable is destroyed before the stream counts as finished: a destructor that takes
    // 300 ms has run to its end when wait_for() returns (it used to run after the wake-up,
    // racing with the waiter; valgrind's scheduling showed it in the use_count check above).
    {
        struct SlowToDestroy {
            std::shared_ptr<std::atomic<bool>> done;
            ~SlowToDestroy()
            {
                std::this_thread::sleep_for(std::chrono::milliseconds(300));
                if (done)
                    done->store(true);
            }
        };
        auto destroyed = std::make_shared<std::atomic<bool>>(false);
        auto slow = std::make_shared<SlowToDestroy>();
        slow->done = destroyed;
        pmx::Stream stream = router.stream_async(request("slow to destroy"),
                                                 [slow = std::move(slow)](std::string_view) {});
        CHECK(stream.wait_for(std::chrono::seconds(20)));
        CHECK(destroyed->load());
    }
    // Cancelled from the caller.
    {
        pmx::Router slow(kSlowConfig);
        std::atomic<int> deltas{0};
        pmx::Stream stream = slow.stream_async(request("a b c d e f g h i j"), [&deltas](std::string_view ev) {
            if (pmx::json::string_member(ev, "type") == "delta")
                ++deltas;
        });
        const auto start = std::chrono::steady_clock::now();
        while (deltas.load() == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(deltas.load() >= 1);
        stream.cancel();
        stream.cancel(); // idempotent
        CHECK(stream.wait_for(std::chrono::seconds(10)));
        try {
            stream.result();
            FAIL("a cancelled stream should throw");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_CANCELLED);
            CHECK_EQ(e.provider(), std::string("slow"));
        }
        CHECK(deltas.load() < 10);
    }
    // Cancelled by the callable (returns false) and from inside it (cancel()).
    {
        pmx::Stream stream = router.stream_async(request("x y z"), [](std::string_view) { return false; });
        try {
            stream.result();
            FAIL("should throw");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_CANCELLED);
        }
    }
    // An exception thrown by the callable cancels the stream and comes back from result().
    {
        pmx::Stream stream = router.stream_async(request("x y z"), [](std::string_view ev) {
            if (pmx::json::string_member(ev, "type") == "delta")
                throw CallbackFailure("async boom");
        });
        try {
            stream.result();
            FAIL("should throw");
        } catch (const CallbackFailure &e) {
            CHECK_EQ(std::string(e.what()), std::string("async boom"));
        }
        CHECK(contains(stream.terminal_event(), "PMX_ERR_CANCELLED"));
    }
    // Input errors are thrown at once, and the callable is never called (but destroyed).
    {
        auto token = std::make_shared<int>(0);
        try {
            pmx::Stream stream = router.stream_async(R"({"messages":[]})", [token](std::string_view) { ++*token; });
            FAIL("should throw");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_INVALID_REQUEST);
        }
        CHECK_EQ(*token, 0);
        CHECK_EQ(token.use_count(), 1L);
    }
    // Dropping a running stream cancels it; its callable still gets the terminal event.
    {
        pmx::Router slow(kSlowConfig);
        auto done = std::make_shared<std::atomic<bool>>(false);
        {
            pmx::Stream stream = slow.stream_async(request("a b c d e f g h"), [done](std::string_view ev) {
                if (pmx::json::string_member(ev, "type") == "error")
                    *done = true;
            });
        } // ~Stream
        const auto start = std::chrono::steady_clock::now();
        while (!done->load() && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        CHECK(done->load());
    }
    // Freeing the router delivers the terminal event; the Stream may outlive the Router.
    {
        pmx::Stream stream;
        {
            pmx::Router slow(kSlowConfig);
            stream = slow.stream_async(request("a b c d e f g h"), [](std::string_view) {});
        } // ~Router: cancels, waits for the terminal event
        CHECK(stream.finished());
        try {
            stream.result();
            FAIL("should throw");
        } catch (const pmx::Error &e) {
            CHECK(e.status() == PMX_ERR_CANCELLED || e.status() == PMX_ERR_ROUTER_CLOSED);
        }
    }
    // Empty streams.
    {
        pmx::Stream empty;
        CHECK(!empty);
        CHECK(!empty.finished());
        empty.cancel();
        CHECK(empty.terminal_event().empty());
        try {
            empty.wait();
            FAIL("should throw");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_INVALID_ARGUMENT);
        }
    }
}

static void test_move()
{
    pmx::Router a(kConfig);
    pmx_router *const handle = a.handle();
    pmx::Router b(std::move(a));
    CHECK(!a); // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(a.handle() == nullptr);
    CHECK(b.handle() == handle);
    CHECK(contains(b.complete(request("moved")), "mock: moved"));
    try {
        a.complete(request("x"));
        FAIL("a moved-from router should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_ROUTER_CLOSED);
    }
    try {
        a.stream(request("x"), [](std::string_view) {});
        FAIL("a moved-from router should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_ROUTER_CLOSED);
    }

    // Move assignment frees the target's router and takes the source's.
    pmx::Router c(kSlowConfig);
    c = std::move(b);
    CHECK(!b);
    CHECK(c.handle() == handle);
    CHECK(contains(c.complete(request("assigned")), "mock: assigned"));
    pmx::Router &alias = c;
    c = std::move(alias); // self-move keeps the router
    CHECK(c.handle() == handle);

    pmx::Router d;
    CHECK(!d);
    d = std::move(c);
    CHECK(d.handle() == handle);

    // release() / adopting constructor.
    pmx_router *raw = d.release();
    CHECK(!d);
    pmx::Router e(raw);
    CHECK(contains(e.complete(request("adopted")), "mock: adopted"));

    // Streams move too.
    pmx::Stream s1 = e.stream_async(request("s"), [](std::string_view) {});
    pmx::Stream s2(std::move(s1));
    CHECK(!s1);
    CHECK(static_cast<bool>(s2));
    pmx::Stream s3;
    s3 = std::move(s2);
    CHECK(contains(s3.result(), "mock: s"));
    // a, b, c, d, s1, s2 are destroyed empty at scope exit: nothing to free, nothing crashes.
}

static void test_stats_and_providers()
{
    pmx::Router router(kConfig);
    router.complete(request("count me"));
    const std::string prom = router.stats_ex("prometheus");
    CHECK(contains(prom, "# TYPE pmx_router_requests_total counter"));
    CHECK(contains(prom, "pmx_router_requests_total 1"));
    CHECK(contains(prom, "provider=\"m\""));
    const std::string json_stats = router.stats_ex();
    CHECK_EQ(pmx::json::int_member(json_stats, "requests").value_or(-1), 1LL);
    // reset: this snapshot still counts, the next one starts from zero.
    CHECK(contains(router.stats_ex("prometheus", true), "pmx_router_requests_total 1"));
    CHECK(contains(router.stats_ex("prometheus"), "pmx_router_requests_total 0"));
    CHECK_EQ(pmx::json::int_member(router.stats(), "requests").value_or(-1), 0LL);
    try {
        router.stats_ex("xml");
        FAIL("an unknown format should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_ARGUMENT);
        CHECK(contains(e.message(), "format"));
    }

    // Providers at runtime.
    router.add_provider(R"({"name":"m2","type":"mock"})");
    const std::string r2 = router.complete(
        R"({"messages":[{"role":"user","content":"hi"}],"route":{"providers":["m2"]}})");
    CHECK_EQ(pmx::json::string_member(r2, "provider").value_or(""), std::string("m2"));
    try {
        router.add_provider(R"({"name":"m2","type":"mock"})");
        FAIL("a duplicate should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_DUPLICATE_PROVIDER);
    }
    try {
        router.add_provider(R"({"name":"m3","type":"mock","oops":true})");
        FAIL("a bad provider should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_CONFIG);
        CHECK(contains(e.message(), "oops"));
    }
    router.remove_provider("m2");
    try {
        router.remove_provider("m2");
        FAIL("removing twice should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_PROVIDER_NOT_FOUND);
    }

    // Routing updates.
    router.update_routing(R"({"strategy":"priority"})");
    try {
        router.update_routing(R"({"lanes":{"x":{"providers":["ghost"]}}})");
        FAIL("a bad routing section should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_CONFIG);
        CHECK(contains(e.message(), "routing"));
    }
    CHECK(contains(router.complete(request("after update")), "mock: after update"));

    // The per-request observer: one record per request, before complete() returns; a throwing
    // observer does not disturb the call; cleared, no more records.
    {
        std::vector<std::string> records;
        router.set_observer([&records](std::string_view record) { records.emplace_back(record); });
        const std::string observed = router.complete(request("observed"));
        CHECK_EQ(records.size(), static_cast<size_t>(1));
        CHECK(!records.empty() && contains(records.back(), "\"status\":\"ok\""));
        const auto id = pmx::json::string_member(observed, "request_id");
        CHECK(id.has_value());
        CHECK(id && !records.empty() && pmx::json::string_member(records.back(), "request_id") == id);
        router.set_observer([](std::string_view) { throw std::runtime_error("observer failure"); });
        CHECK(contains(router.complete(request("still fine")), "mock: still fine"));
        router.set_observer(nullptr);
        router.complete(request("unobserved"));
        CHECK_EQ(records.size(), static_cast<size_t>(1));
    }

    // Models, health, embeddings.
    CHECK(contains(router.models(), "\"object\":\"list\""));
    CHECK(contains(router.models(R"({"search":"no-such-model-anywhere"})"), "\"data\":[]"));
    try {
        router.models(R"({"provider":"ghost"})");
        FAIL("an unknown provider in a models query should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_PROVIDER_NOT_FOUND);
    }
    CHECK(contains(router.health(), "\"providers\""));
    try {
        const std::string emb = router.embed(R"({"model":"x","input":"hello"})");
        CHECK(contains(emb, "embedding"));
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_UNSUPPORTED); // either is a valid answer of the mock
    }
}

static void test_error_from_event()
{
    const pmx::Error e = pmx::Error::from_event(
        R"({"type":"error","code":-15,"status_name":"PMX_ERR_RATE_LIMITED","http_status":429,)"
        R"("provider":"p\"q","message":"slow \u0064own","attempts":[{"provider":"a"},{"provider":"b"}]})");
    CHECK_EQ(e.status(), PMX_ERR_RATE_LIMITED);
    CHECK_EQ(e.http_status(), 429);
    CHECK_EQ(e.provider(), std::string("p\"q"));
    CHECK_EQ(e.attempts(), 2);
    CHECK_EQ(e.message(), std::string("slow down"));
    CHECK_EQ(std::string(e.what()), std::string("PMX_ERR_RATE_LIMITED: slow down"));
    const pmx::Error f = pmx::Error::from_event(R"({"type":"error","attempts":3})");
    CHECK_EQ(f.status(), PMX_ERR_INTERNAL);
    CHECK_EQ(f.attempts(), 3);
    pmx_error err{};
    err.code = PMX_ERR_TIMEOUT;
    err.http_status = 504;
    err.attempts = 2;
    std::snprintf(err.provider, sizeof err.provider, "%s", "prov");
    std::snprintf(err.message, sizeof err.message, "%s", "too slow");
    const pmx::Error g = pmx::Error::from_c(PMX_ERR_TIMEOUT, err);
    CHECK_EQ(g.status(), PMX_ERR_TIMEOUT);
    CHECK_EQ(g.http_status(), 504);
    CHECK_EQ(g.attempts(), 2);
    CHECK_EQ(g.provider(), std::string("prov"));
    CHECK_EQ(std::string(g.what()), std::string("PMX_ERR_TIMEOUT: too slow"));
}

// ---------------------------------------------------------------------------------------------
// Typed events (pmx::Event, pmx::EventStream over pmx_router_stream_open / pmx_stream_next)

static pmx_str cstr(const char *s)
{
    return pmx_str{s, s ? std::strlen(s) : 0};
}

// The view's accessors on hand-made structs: absent strings, -1 / NaN numbers, tool calls.
static void test_event_view()
{
    pmx_tool_call_delta calls[2]{};
    calls[0].index = 0;
    calls[0].id = cstr("call_1");
    calls[0].type = cstr("function");
    calls[0].name = cstr("get_weather");
    calls[0].arguments = cstr("{\"ci");
    calls[1].index = -1;
    calls[1].arguments = cstr("");
    pmx_event delta{};
    delta.type = PMX_EVENT_DELTA;
    delta.tool_calls = calls;
    delta.tool_call_count = 2;
    delta.prompt_tokens = delta.completion_tokens = delta.total_tokens = delta.cached_tokens = -1;
    delta.cost_usd = delta.upstream_cost_usd = delta.tokens_per_second = std::nan("");
    const pmx::Event d(delta);
    CHECK(d.type() == pmx::EventType::delta);
    CHECK_EQ(d.type_name(), std::string_view("delta"));
    CHECK(!d.is_terminal());
    CHECK(!d.has_text());
    CHECK(d.text().empty() && d.json().empty() && d.response().empty());
    CHECK(!d.total_tokens() && !d.cost_usd() && !d.tokens_per_second());
    CHECK_EQ(d.tool_calls().size(), std::size_t{2});
    std::string names;
    for (const pmx::ToolCallDelta tc : d.tool_calls())
        names += std::string(tc.name()) + "|" + std::string(tc.arguments()) + ";";
    CHECK_EQ(names, std::string("get_weather|{\"ci;|;"));
    CHECK_EQ(d.tool_calls()[0].index().value_or(-7), std::int64_t{0});
    CHECK_EQ(d.tool_calls()[0].id(), std::string_view("call_1"));
    CHECK(!d.tool_calls()[1].index());
    CHECK(d.tool_calls()[1].id().empty());

    pmx_event usage{};
    usage.type = PMX_EVENT_USAGE;
    usage.prompt_tokens = 7;
    usage.completion_tokens = 5;
    usage.total_tokens = 12;
    usage.cached_tokens = 0;
    usage.cost_usd = 0.25;
    usage.upstream_cost_usd = std::nan("");
    usage.tokens_per_second = 10.5;
    const pmx::Event u(usage);
    CHECK_EQ(u.total_tokens().value_or(-1), std::int64_t{12});
    CHECK_EQ(u.cached_tokens().value_or(-1), std::int64_t{0});
    CHECK_EQ(u.cost_usd().value_or(-1), 0.25);
    CHECK(!u.upstream_cost_usd());
    CHECK(u.tool_calls().empty() && u.tool_calls().begin() == u.tool_calls().end());

    pmx_event error{};
    error.type = PMX_EVENT_ERROR;
    error.status = PMX_ERR_RATE_LIMITED;
    error.http_status = 429;
    error.attempt = 2;
    error.provider = cstr("p");
    error.text = cstr("slow down");
    error.json = cstr(R"({"type":"error","code":-15})");
    const pmx::Error e = pmx::Event(error).error();
    CHECK(pmx::Event(error).is_terminal());
    CHECK_EQ(e.status(), PMX_ERR_RATE_LIMITED);
    CHECK_EQ(e.http_status(), 429);
    CHECK_EQ(e.attempts(), 2);
    CHECK_EQ(e.provider(), std::string("p"));
    CHECK_EQ(std::string(e.what()), std::string("PMX_ERR_RATE_LIMITED: slow down"));
    CHECK_EQ(e.event_json(), std::string(R"({"type":"error","code":-15})"));

    pmx_event done{};
    done.type = PMX_EVENT_DONE;
    done.json = cstr(R"({"type":"done","response":{"id":"x","choices":[]}})");
    CHECK_EQ(pmx::Event(done).response(), std::string_view(R"({"id":"x","choices":[]})"));

    pmx_event future{};
    future.type = 99; // a newer library's type
    CHECK(pmx::Event(future).type_name().empty());
    CHECK(!pmx::Event(future).is_terminal());
}

// A whole stream through range-for: typed fields of every type the mock sends, no JSON unless
// asked for, one pull per batch.
static void test_events_pull()
{
    pmx::Router router(kConfig);
    std::string text, types;
    bool saw_usage = false;
    pmx::EventStream stream = router.events(request("one two three"));
    CHECK(static_cast<bool>(stream));
    for (const pmx::Event ev : stream) {
        types += std::string(ev.type_name()) + " ";
        switch (ev.type()) {
        case pmx::EventType::start:
            CHECK_EQ(ev.provider(), std::string_view("m"));
            CHECK_EQ(ev.attempt(), 1);
            CHECK(ev.json().empty());
            break;
        case pmx::EventType::delta:
            text += ev.text();
            CHECK(ev.json().empty());
            CHECK(ev.tool_calls().empty());
            break;
        case pmx::EventType::usage:
            saw_usage = true;
            CHECK(ev.total_tokens().value_or(-1) > 0);
            CHECK_EQ(ev.total_tokens().value_or(-1),
                     ev.prompt_tokens().value_or(-1) + ev.completion_tokens().value_or(-1));
            break;
        case pmx::EventType::done:
            CHECK_EQ(ev.text(), std::string_view("mock: one two three"));
            CHECK_EQ(ev.finish_reason(), std::string_view("stop"));
            CHECK_EQ(ev.provider(), std::string_view("m"));
            CHECK_EQ(ev.attempt(), 1);
            CHECK(contains(ev.json(), "\"type\":\"done\""));
            CHECK_EQ(pmx::json::string_member(ev.response(), "provider").value_or(""), std::string("m"));
            break;
        default:
            FAIL("unexpected event type");
        }
    }
    CHECK_EQ(text, std::string("mock: one two three"));
    CHECK(saw_usage);
    CHECK(types.rfind("start ", 0) == 0);
    CHECK(contains(types, " done ") && types.size() >= 5 && types.substr(types.size() - 5) == "done ");
    CHECK(stream.finished());
    CHECK(stream.begin() == stream.end()); // iteration has ended; no further pull
    CHECK_EQ(pmx::json::string_member(stream.result(), "provider").value_or(""), std::string("m"));

    // PMX_NEXT_WITH_JSON: every event also carries its JSON object; taken by hand, batch by batch.
    pmx::EventStream with_json = router.events(request("a b"), PMX_NEXT_WITH_JSON);
    std::size_t events = 0, batches = 0;
    while (!with_json.finished()) {
        const std::size_t n = with_json.next_batch(-1);
        CHECK(n >= 1 && n <= pmx::EventStream::batch_capacity);
        ++batches;
        for (std::size_t i = 0; i < n; ++i) {
            const pmx::Event ev = with_json.batch(i);
            CHECK_EQ(pmx::json::string_member(ev.json(), "type").value_or("?"), std::string(ev.type_name()));
            if (ev.type() == pmx::EventType::delta)
                CHECK_EQ(pmx::json::string_member(ev.json(), "content").value_or("?"), std::string(ev.text()));
            ++events;
        }
    }
    CHECK(events >= 4 && batches <= events);
    CHECK_EQ(with_json.next_batch(0), std::size_t{0}); // after the end: nothing, no library call
    CHECK_EQ(with_json.result().empty(), false);

    // A moved stream continues where the first left off.
    pmx::EventStream first = router.events(request("moved stream"));
    auto it = first.begin();
    CHECK(it != first.end() && (*it).type() == pmx::EventType::start);
    pmx::EventStream second = std::move(first);
    CHECK(!first); // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    CHECK(first.begin() == first.end());
    std::string moved_text;
    for (const pmx::Event ev : second)
        if (ev.type() != pmx::EventType::start)
            moved_text += ev.type() == pmx::EventType::delta ? std::string(ev.text()) : std::string();
    CHECK_EQ(moved_text, std::string("mock: moved stream"));

    // Input errors are thrown by events(), before any event.
    try {
        router.events(R"({"messages":[]})");
        FAIL("empty messages should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_REQUEST);
    }
    pmx::EventStream empty;
    CHECK(empty.begin() == empty.end());
    try {
        empty.result();
        FAIL("an empty stream's result() should throw");
    } catch (const pmx::Error &e) {
        CHECK_EQ(e.status(), PMX_ERR_INVALID_ARGUMENT);
    }
}

// cancel() from the loop and from another thread; failures as ERROR events and Error.
static void test_events_cancel_and_errors()
{
    pmx::Router slow(kSlowConfig);
    {
        pmx::EventStream stream = slow.events(request("w1 w2 w3 w4 w5 w6 w7 w8"));
        int deltas = 0;
        int terminal_status = 0;
        for (const pmx::Event ev : stream) {
            if (ev.type() == pmx::EventType::delta && ++deltas == 1)
                stream.cancel();
            if (ev.is_terminal())
                terminal_status = ev.type() == pmx::EventType::error ? ev.status() : 1;
        }
        CHECK_EQ(terminal_status, PMX_ERR_CANCELLED);
        CHECK(deltas < 8);
        try {
            stream.result();
            FAIL("a cancelled stream's result() should throw");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_CANCELLED);
            CHECK_EQ(e.provider(), std::string("slow"));
            CHECK(contains(e.event_json(), "\"type\":\"error\""));
        }
    }
    {
        // Another thread cancels while this one waits inside the iteration.
        pmx::EventStream stream = slow.events(request("w1 w2 w3 w4 w5 w6 w7 w8"));
        std::atomic<bool> started{false};
        std::thread canceller([&] {
            while (!started)
                std::this_thread::yield();
            stream.cancel();
        });
        int last = 0;
        for (const pmx::Event ev : stream) {
            started = true;
            last = ev.status();
        }
        canceller.join();
        CHECK_EQ(last, PMX_ERR_CANCELLED);
    }
    {
        // An upstream failure: the mock answers 401 (not retried), an ERROR event.
        pmx::Router failing(R"({"providers":[{"name":"f","type":"mock","script":[{"status":401,"message":"bad key"}]}]})");
        pmx::EventStream stream = failing.events(request("x"));
        std::vector<pmx::EventType> types;
        for (const pmx::Event ev : stream) {
            types.push_back(ev.type());
            if (ev.type() == pmx::EventType::error) {
                CHECK_EQ(ev.status(), PMX_ERR_AUTH);
                CHECK_EQ(ev.http_status(), 401);
                CHECK_EQ(ev.provider(), std::string_view("f"));
                CHECK(contains(ev.text(), "bad key"));
                CHECK_EQ(ev.error().status(), PMX_ERR_AUTH);
            }
        }
        CHECK(!types.empty() && types.back() == pmx::EventType::error);
        try {
            stream.result();
            FAIL("result() should throw the ERROR event");
        } catch (const pmx::Error &e) {
            CHECK_EQ(e.status(), PMX_ERR_AUTH);
            CHECK_EQ(e.http_status(), 401);
        }
    }
    {
        // Router::stream inside an async callable (the I/O thread) is refused, nothing started.
        pmx::Router router(kConfig);
        auto status = std::make_shared<std::atomic<int>>(0);
        pmx::Router *const r = &router;
        pmx::Stream outer = router.stream_async(request("outer"), [r, status](std::string_view) {
            if (status->load() != 0)
                return;
            try {
                r->stream(request("inner"), [](std::string_view) {});
                status->store(1);
            } catch (const pmx::Error &e) {
                status->store(e.status());
            }
        });
        outer.wait();
        CHECK_EQ(status->load(), PMX_ERR_WOULD_DEADLOCK);
        CHECK_EQ(pmx::json::int_member(router.stats(), "requests").value_or(-1), 1LL);
    }
}

int main()
{
    struct {
        const char *name;
        void (*fn)();
    } const tests[] = {
        {"versions", test_versions},
        {"json_scanner", test_json_scanner},
        {"error_from_event", test_error_from_event},
        {"complete", test_complete},
        {"call_operation", test_call_operation},
        {"call_responses", test_call_responses},
        {"bad_config", test_bad_config},
        {"stream", test_stream},
        {"stream_exception", test_stream_exception},
        {"async_stream", test_async_stream},
        {"move", test_move},
        {"stats_and_providers", test_stats_and_providers},
        {"event_view", test_event_view},
        {"events_pull", test_events_pull},
        {"events_cancel_and_errors", test_events_cancel_and_errors},
    };
    for (const auto &t : tests) {
        const int failed_before = g_failed;
        try {
            t.fn();
        } catch (const std::exception &e) {
            check(false, "unexpected exception", __FILE__, __LINE__, std::string(t.name) + ": " + e.what());
        } catch (...) {
            check(false, "unexpected non-std exception", __FILE__, __LINE__, t.name);
        }
        std::printf("%s %s\n", g_failed == failed_before ? "ok  " : "FAIL", t.name);
    }
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
