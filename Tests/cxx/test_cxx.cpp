// test_cxx.cpp — tests of include/providermux.hpp, the header-only C++17 wrapper, against the
// in-process mock provider (no network). Prints "N passed, N failed" as the last line and exits
// non-zero on any failure.
#include "providermux.hpp"
#include "providermux.hpp" // include guard

#include <atomic>
#include <chrono>
#include <cstdio>
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

    // Models, health, embeddings.
    CHECK(contains(router.models(), "\"object\":\"list\""));
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
        {"bad_config", test_bad_config},
        {"stream", test_stream},
        {"stream_exception", test_stream_exception},
        {"async_stream", test_async_stream},
        {"move", test_move},
        {"stats_and_providers", test_stats_and_providers},
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
