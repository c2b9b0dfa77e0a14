/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_async.c — pmx_router_stream_async: many streams from several threads on one router,
 * cancellation from another thread and from inside the callback, pmx_stream_free of a running
 * stream, pmx_router_free with streams in flight, fire-and-forget (out == NULL).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

/* One lock and condition variable for all bookkeeping: simple and good enough for tests. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;

/* Threads that called pmx_router_stream_async: callbacks must never run on them. */
#define MAX_STARTERS 8
static pthread_t g_starters[MAX_STARTERS];
static int g_starter_count = 0;
/* The thread the callbacks of the current router run on (its I/O thread). */
static pthread_t g_io_thread;
static int g_io_thread_set = 0;
static int g_io_thread_mismatch = 0;
static int g_on_starter_thread = 0;

typedef struct async_stream {
    int events;
    int starts;
    int deltas;
    int terminals;
    int after_terminal;
    int done;
    int error_code;
    int bad_json;
    int cancel_in_callback_at; /* call pmx_stream_cancel(handle) at this delta (0 = never) */
    int cancels_issued;
    pmx_stream *handle;        /* set by the starter, under g_lock */
    double terminal_at_ms;
    char expect[128];
    char content[2048];
} async_stream;

static void reset_thread_tracking(void)
{
    pthread_mutex_lock(&g_lock);
    g_starter_count = 0;
    g_io_thread_set = 0;
    g_io_thread_mismatch = 0;
    g_on_starter_thread = 0;
    pthread_mutex_unlock(&g_lock);
}

static void register_starter(void)
{
    pthread_mutex_lock(&g_lock);
    if (g_starter_count < MAX_STARTERS)
        g_starters[g_starter_count++] = pthread_self();
    pthread_mutex_unlock(&g_lock);
}

static int32_t on_event(const char *event_json, size_t len, void *userdata)
{
    async_stream *s = (async_stream *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    pthread_t self = pthread_self();
    int i;
    pmx_stream *to_cancel = NULL;

    (void)len;
    pthread_mutex_lock(&g_lock);
    if (!g_io_thread_set) {
        g_io_thread = self;
        g_io_thread_set = 1;
    } else if (!pthread_equal(g_io_thread, self)) {
        g_io_thread_mismatch++;
    }
    for (i = 0; i < g_starter_count; i++)
        if (pthread_equal(g_starters[i], self))
            g_on_starter_thread++;
    s->events++;
    if (s->terminals > 0)
        s->after_terminal++;
    if (!ev || !type) {
        s->bad_json++;
    } else if (strcmp(type, "start") == 0) {
        s->starts++;
    } else if (strcmp(type, "delta") == 0) {
        const char *c = json_string_value(json_object_get(ev, "content"));
        s->deltas++;
        if (c)
            strncat(s->content, c, sizeof s->content - strlen(s->content) - 1);
        if (s->cancel_in_callback_at > 0 && s->deltas >= s->cancel_in_callback_at && s->handle) {
            to_cancel = s->handle;
            s->cancels_issued++;
        }
    } else if (strcmp(type, "done") == 0 || strcmp(type, "error") == 0) {
        s->terminals++;
        s->terminal_at_ms = tu_now_ms();
        if (strcmp(type, "done") == 0)
            s->done = 1;
        else
            s->error_code = (int)json_integer_value(json_object_get(ev, "code"));
        pthread_cond_broadcast(&g_cond);
    }
    pthread_mutex_unlock(&g_lock);
    /* Cancelling from inside the stream's own callback must be safe (and idempotent). */
    if (to_cancel) {
        pmx_stream_cancel(to_cancel);
        pmx_stream_cancel(to_cancel);
    }
    json_decref(ev);
    return 0;
}

/* Waits (up to timeout_ms) until every stream in `s[0..n)` had its terminal event. Returns 1
 * when they all did. */
static int wait_terminals(async_stream *s, int n, double timeout_ms)
{
    double deadline = tu_now_ms() + timeout_ms;
    int all = 0;
    pthread_mutex_lock(&g_lock);
    for (;;) {
        int i;
        struct timespec ts;
        all = 1;
        for (i = 0; i < n; i++)
            if (s[i].terminals == 0)
                all = 0;
        if (all || tu_now_ms() > deadline)
            break;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_cond, &g_lock, &ts);
    }
    pthread_mutex_unlock(&g_lock);
    return all;
}

/* Waits until stream `s` has at least `deltas` deltas (or ended). */
static int wait_deltas(async_stream *s, int deltas, double timeout_ms)
{
    double deadline = tu_now_ms() + timeout_ms;
    int ok;
    pthread_mutex_lock(&g_lock);
    while (s->deltas < deltas && s->terminals == 0 && tu_now_ms() < deadline) {
        pthread_mutex_unlock(&g_lock);
        tu_sleep_ms(5);
        pthread_mutex_lock(&g_lock);
    }
    ok = s->deltas >= deltas;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

/* A long, slowly streamed reply: ~200 tokens at 20 ms each. */
#define SLOW_CONFIG                                                                           \
    "{\"providers\":[{\"name\":\"slow\",\"type\":\"mock\",\"token_delay_ms\":20}]}"
#define LONG_PROMPT                                                                           \
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt " \
    "ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud exercitation "      \
    "ullamco laboris nisi ut aliquip ex ea commodo consequat duis aute irure dolor in "        \
    "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur excepteur "  \
    "sint occaecat cupidatat non proident sunt in culpa qui officia deserunt mollit anim id "  \
    "est laborum"
#define LONG_REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"" LONG_PROMPT "\"}]}"

/* ------------------------------------------------------------------------------------------ */

#define N_THREADS 4
#define STREAMS_PER_THREAD 8

typedef struct {
    pmx_router *router;
    int index;
    async_stream streams[STREAMS_PER_THREAD];
    pmx_status start_status[STREAMS_PER_THREAD];
    int all_finished;
} starter_arg;

static void *starter(void *p)
{
    starter_arg *a = (starter_arg *)p;
    int i;
    register_starter();
    for (i = 0; i < STREAMS_PER_THREAD; i++) {
        pmx_error err;
        pmx_stream *h = NULL;
        char req[256];
        async_stream *s = &a->streams[i];
        snprintf(s->expect, sizeof s->expect, "mock: thread %d stream %d", a->index, i);
        snprintf(req, sizeof req,
                 "{\"model\":\"t%d\",\"messages\":[{\"role\":\"user\",\"content\":\"thread %d stream %d\"}]}",
                 a->index, a->index, i);
        a->start_status[i] = pmx_router_stream_async(&h, a->router, req, on_event, s, &err);
        pthread_mutex_lock(&g_lock);
        s->handle = h;
        pthread_mutex_unlock(&g_lock);
    }
    /* Stay alive until all of this thread's streams ended (so callbacks could not run on a
     * recycled thread id), then release the handles. */
    a->all_finished = wait_terminals(a->streams, STREAMS_PER_THREAD, 60000.0);
    for (i = 0; i < STREAMS_PER_THREAD; i++)
        pmx_stream_free(a->streams[i].handle);
    return NULL;
}

static void test_many_threads(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":1}]}");
    static starter_arg args[N_THREADS];
    pthread_t th[N_THREADS];
    int t, i;
    if (!r)
        return;
    reset_thread_tracking();
    register_starter(); /* the main thread neither */
    memset(args, 0, sizeof args);
    for (t = 0; t < N_THREADS; t++) {
        args[t].router = r;
        args[t].index = t;
        pthread_create(&th[t], NULL, starter, &args[t]);
    }
    for (t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_mutex_lock(&g_lock);
    for (t = 0; t < N_THREADS; t++) {
        CHECK_MSG(args[t].all_finished, "thread %d: not every stream finished", t);
        for (i = 0; i < STREAMS_PER_THREAD; i++) {
            async_stream *s = &args[t].streams[i];
            CHECK_STATUS(args[t].start_status[i], PMX_OK, NULL);
            CHECK_MSG(s->terminals == 1, "t%d s%d: %d terminal events", t, i, s->terminals);
            CHECK_MSG(s->after_terminal == 0, "t%d s%d: events after the terminal one", t, i);
            CHECK_MSG(s->done, "t%d s%d: ended with error %d", t, i, s->error_code);
            CHECK_MSG(s->starts == 1, "t%d s%d: %d start events", t, i, s->starts);
            CHECK_MSG(s->bad_json == 0, "t%d s%d: bad events", t, i);
            CHECK_MSG(strcmp(s->content, s->expect) == 0, "t%d s%d: content \"%s\", expected \"%s\"",
                      t, i, s->content, s->expect);
        }
    }
    CHECK_MSG(g_io_thread_mismatch == 0, "callbacks ran on %d other threads than the first one",
              g_io_thread_mismatch);
    CHECK_MSG(g_on_starter_thread == 0, "%d callbacks ran on a thread that started a stream",
              g_on_starter_thread);
    pthread_mutex_unlock(&g_lock);
    pmx_router_free(r);
}

typedef struct {
    pmx_stream *stream;
    double cancelled_at_ms;
} cancel_arg;

static void *cancel_thread(void *p)
{
    cancel_arg *a = (cancel_arg *)p;
    a->cancelled_at_ms = tu_now_ms();
    pmx_stream_cancel(a->stream);
    pmx_stream_cancel(a->stream); /* idempotent */
    return NULL;
}

static void test_cancel_from_other_thread(void)
{
    pmx_router *r = tu_router_new(SLOW_CONFIG);
    static async_stream s;
    pmx_stream *h = NULL;
    pmx_error err;
    pmx_status st;
    cancel_arg ca;
    pthread_t th;
    if (!r)
        return;
    reset_thread_tracking();
    memset(&s, 0, sizeof s);
    st = pmx_router_stream_async(&h, r, LONG_REQUEST, on_event, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(h != NULL);
    if (!h) {
        pmx_router_free(r);
        return;
    }
    CHECK(wait_deltas(&s, 2, 10000.0));
    ca.stream = h;
    ca.cancelled_at_ms = 0;
    pthread_create(&th, NULL, cancel_thread, &ca);
    pthread_join(th, NULL);
    CHECK(wait_terminals(&s, 1, 5000.0));
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK_INT(s.done, 0);
    CHECK_STATUS(s.error_code, PMX_ERR_CANCELLED, NULL);
    CHECK_MSG(s.terminal_at_ms - ca.cancelled_at_ms < 1000.0, "cancel took %.0f ms",
              s.terminal_at_ms - ca.cancelled_at_ms);
    CHECK_MSG(strlen(s.content) < strlen("mock: " LONG_PROMPT), "the whole reply arrived anyway");
    pthread_mutex_unlock(&g_lock);
    /* After the terminal event: cancel is a no-op; no further event. */
    pmx_stream_cancel(h);
    tu_sleep_ms(100);
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK_INT(s.after_terminal, 0);
    pthread_mutex_unlock(&g_lock);
    pmx_stream_free(h);
    pmx_router_free(r);
}

static void test_cancel_inside_callback(void)
{
    pmx_router *r = tu_router_new(SLOW_CONFIG);
    static async_stream s;
    pmx_stream *h = NULL;
    pmx_error err;
    pmx_status st;
    if (!r)
        return;
    reset_thread_tracking();
    memset(&s, 0, sizeof s);
    s.cancel_in_callback_at = 3;
    st = pmx_router_stream_async(&h, r, LONG_REQUEST, on_event, &s, &err);
    /* The callback cancels at the first delta >= 3 that finds the handle published. */
    pthread_mutex_lock(&g_lock);
    s.handle = h;
    pthread_mutex_unlock(&g_lock);
    CHECK_STATUS(st, PMX_OK, &err);
    if (!h) {
        pmx_router_free(r);
        return;
    }
    CHECK(wait_terminals(&s, 1, 10000.0));
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK(s.cancels_issued >= 1);
    CHECK_STATUS(s.error_code, PMX_ERR_CANCELLED, NULL);
    CHECK_MSG(s.deltas < 20, "%d deltas after cancelling at the 3rd", s.deltas);
    pthread_mutex_unlock(&g_lock);
    pmx_stream_free(h);
    pmx_router_free(r);
}

static void test_free_running_stream(void)
{
    pmx_router *r = tu_router_new(SLOW_CONFIG);
    static async_stream s;
    pmx_stream *h = NULL;
    pmx_error err;
    pmx_status st;
    if (!r)
        return;
    reset_thread_tracking();
    memset(&s, 0, sizeof s);
    st = pmx_router_stream_async(&h, r, LONG_REQUEST, on_event, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (!h) {
        pmx_router_free(r);
        return;
    }
    CHECK(wait_deltas(&s, 1, 10000.0));
    pmx_stream_free(h); /* cancels; the terminal event still arrives */
    CHECK(wait_terminals(&s, 1, 5000.0));
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK_STATUS(s.error_code, PMX_ERR_CANCELLED, NULL);
    pthread_mutex_unlock(&g_lock);
    pmx_router_free(r);
}

#define IN_FLIGHT 12

static void test_router_free_in_flight(void)
{
    pmx_router *r = tu_router_new(SLOW_CONFIG);
    static async_stream s[IN_FLIGHT];
    pmx_error err;
    int i, started = 0;
    double t0;
    if (!r)
        return;
    reset_thread_tracking();
    memset(s, 0, sizeof s);
    for (i = 0; i < IN_FLIGHT; i++) {
        pmx_status st = pmx_router_stream_async(NULL, r, LONG_REQUEST, on_event, &s[i], &err);
        CHECK_STATUS(st, PMX_OK, &err);
        if (st == PMX_OK)
            started++;
    }
    /* Let half of them get going; the others may still be queued. */
    for (i = 0; i < IN_FLIGHT / 2; i++)
        wait_deltas(&s[i], 1, 5000.0);
    t0 = tu_now_ms();
    pmx_router_free(r);
    /* Every stream got exactly one terminal event before pmx_router_free returned. */
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < started; i++) {
        CHECK_MSG(s[i].terminals == 1, "stream %d: %d terminal events after pmx_router_free", i,
                  s[i].terminals);
        CHECK_MSG(s[i].terminals == 0 || s[i].terminal_at_ms <= tu_now_ms(), "stream %d", i);
        CHECK_MSG(!s[i].done, "stream %d finished its long reply before the router was freed", i);
        CHECK_MSG(s[i].done || s[i].error_code == PMX_ERR_CANCELLED ||
                      s[i].error_code == PMX_ERR_ROUTER_CLOSED,
                  "stream %d: terminal error %s", i, pmx_status_name(s[i].error_code));
    }
    pthread_mutex_unlock(&g_lock);
    CHECK_MSG(tu_now_ms() - t0 < 5000.0, "pmx_router_free took %.0f ms", tu_now_ms() - t0);
    /* Nothing arrives afterwards. */
    tu_sleep_ms(150);
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < started; i++)
        CHECK_MSG(s[i].after_terminal == 0 && s[i].terminals == 1, "stream %d: late events", i);
    pthread_mutex_unlock(&g_lock);
}

static void test_fire_and_forget(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    static async_stream s[5];
    pmx_error err;
    int i;
    if (!r)
        return;
    reset_thread_tracking();
    memset(s, 0, sizeof s);
    for (i = 0; i < 5; i++) {
        char req[128];
        pmx_status st;
        snprintf(s[i].expect, sizeof s[i].expect, "mock: forget %d", i);
        snprintf(req, sizeof req, "{\"messages\":[{\"role\":\"user\",\"content\":\"forget %d\"}]}", i);
        st = pmx_router_stream_async(NULL, r, req, on_event, &s[i], &err);
        CHECK_STATUS(st, PMX_OK, &err);
    }
    CHECK(wait_terminals(s, 5, 10000.0));
    pthread_mutex_lock(&g_lock);
    for (i = 0; i < 5; i++) {
        CHECK_INT(s[i].terminals, 1);
        CHECK(s[i].done);
        CHECK_STR(s[i].content, s[i].expect);
    }
    pthread_mutex_unlock(&g_lock);
    pmx_router_free(r);
}

int main(void)
{
    tu_watchdog(240);
    RUN(test_many_threads);
    RUN(test_cancel_from_other_thread);
    RUN(test_cancel_inside_callback);
    RUN(test_free_running_stream);
    RUN(test_router_free_in_flight);
    RUN(test_fire_and_forget);
    return TEST_DONE();
}
