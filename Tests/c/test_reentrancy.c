/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_reentrancy.c — library calls made from inside the library's own callbacks never
 * deadlock: blocking calls from an async stream callback (the router's I/O thread) answer
 * PMX_ERR_WOULD_DEADLOCK at once, non-blocking calls work there, and the stream still ends with
 * exactly one terminal event (mock providers and the fake OpenAI upstream); the log callback
 * runs with no library lock held, so calls from it (ones that log, pmx_set_log_callback) return;
 * a cached answer honours a non-zero return, pmx_stream_cancel and pmx_stream_free from inside
 * its callback like a live stream (one terminal event, the cancellation).
 *
 * A regression here is a hang: the watchdog (alarm) turns it into a failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

static tu_upstream up;
static int have_upstream = 0;

#define MOCK_ROUTER "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"models\":[\"mm\"]}]}"
#define REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;

/* One stream's events, as seen by its callback. */
typedef struct stream_log {
    int events;
    int terminals;
    int after_terminal;
    int done;
    int error_code;
    int deltas;
} stream_log;

/* Records one event; returns 1 when it was the terminal one. Takes g_lock. */
static int log_event(stream_log *s, const char *event_json)
{
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    int terminal = 0;
    pthread_mutex_lock(&g_lock);
    s->events++;
    if (s->terminals > 0)
        s->after_terminal++;
    if (type && strcmp(type, "delta") == 0)
        s->deltas++;
    if (type && (strcmp(type, "done") == 0 || strcmp(type, "error") == 0)) {
        terminal = 1;
        s->terminals++;
        if (strcmp(type, "done") == 0)
            s->done = 1;
        else
            s->error_code = (int)json_integer_value(json_object_get(ev, "code"));
        pthread_cond_broadcast(&g_cond);
    }
    pthread_mutex_unlock(&g_lock);
    json_decref(ev);
    return terminal;
}

/* Waits up to timeout_ms for `s` to get its terminal event; 1 when it did. */
static int wait_terminal(stream_log *s, double timeout_ms)
{
    double deadline = tu_now_ms() + timeout_ms;
    int got;
    pthread_mutex_lock(&g_lock);
    while (s->terminals == 0 && tu_now_ms() < deadline) {
        tu_cond_wait_ms(&g_cond, &g_lock, 20);
    }
    got = s->terminals > 0;
    pthread_mutex_unlock(&g_lock);
    return got;
}

/* ------------------------------------------------------------------------------------------ */
/* Every ABI call from inside an async stream callback                                        */
/* ------------------------------------------------------------------------------------------ */

enum { C_COMPLETE, C_STREAM, C_EMBED, C_MODELS, C_HEALTH, C_MANAGE, C_BLOCKING_COUNT };
static const char *const blocking_names[C_BLOCKING_COUNT] = {
    "pmx_router_complete", "pmx_router_stream", "pmx_router_embed",
    "pmx_router_models", "pmx_router_health", "pmx_router_model_manage"};

typedef struct inside_ctx {
    pmx_router *host;   /* whose stream calls back */
    pmx_router *target; /* the router the callback calls into */
    pmx_provider *extra;
    int acted;
    /* Blocking calls on `target`: status, message, out left NULL. */
    pmx_status blocking[C_BLOCKING_COUNT];
    char messages[C_BLOCKING_COUNT][512];
    int out_null[C_BLOCKING_COUNT];
    /* Non-blocking calls. */
    pmx_status stats, stats_prom, add, remove, update, nested_start;
    int stats_has_requests;
    stream_log nested;
    stream_log outer;
} inside_ctx;

static int32_t nested_cb(const char *event_json, size_t len, void *userdata)
{
    (void)len;
    log_event((stream_log *)userdata, event_json);
    return 0;
}

static int32_t ignore_cb(const char *event_json, size_t len, void *userdata)
{
    (void)event_json;
    (void)len;
    (void)userdata;
    return 0;
}

static void call_blocking(inside_ctx *c)
{
    pmx_error err;
    char *out;
    int i;
    for (i = 0; i < C_BLOCKING_COUNT; i++) {
        out = (char *)0x1; /* must be reset to NULL */
        memset(&err, 0, sizeof err);
        switch (i) {
        case C_COMPLETE: c->blocking[i] = pmx_router_complete(&out, c->target, REQUEST, &err); break;
        case C_STREAM: c->blocking[i] = pmx_router_stream(&out, c->target, REQUEST, ignore_cb, NULL, &err); break;
        case C_EMBED: c->blocking[i] = pmx_router_embed(&out, c->target, "{\"input\":\"x\"}", &err); break;
        case C_MODELS: c->blocking[i] = pmx_router_models(&out, c->target, &err); break;
        case C_HEALTH: c->blocking[i] = pmx_router_health(&out, c->target, &err); break;
        default:
            c->blocking[i] = pmx_router_model_manage(&out, c->target, "{\"action\":\"loaded\",\"provider\":\"m\"}",
                                                     ignore_cb, NULL, &err);
            break;
        }
        c->out_null[i] = out == NULL;
        if (out != NULL && out != (char *)0x1)
            pmx_string_free(out);
        memcpy(c->messages[i], err.message, sizeof err.message);
    }
}

static void call_non_blocking(inside_ctx *c)
{
    pmx_error err;
    char *out = NULL;
    pmx_stream *nested = NULL;
    c->stats = pmx_router_stats(&out, c->target, &err);
    c->stats_has_requests = out != NULL && strstr(out, "\"requests\"") != NULL;
    pmx_string_free(out);
    out = NULL;
    c->stats_prom = pmx_router_stats_ex(&out, c->target, "{\"format\":\"prometheus\"}", &err);
    pmx_string_free(out);
    c->add = pmx_router_add_provider(c->target, c->extra, &err);
    c->update = pmx_router_update_routing(c->target, "{\"strategy\":\"round_robin\"}", &err);
    c->remove = pmx_router_remove_provider(c->target, "extra", &err);
    /* A nested async stream, cancelled and freed right away: its terminal event still comes. */
    c->nested_start = pmx_router_stream_async(&nested, c->target, REQUEST, nested_cb, &c->nested, &err);
    pmx_stream_cancel(nested);
    pmx_stream_free(nested);
}

static int32_t inside_cb(const char *event_json, size_t len, void *userdata)
{
    inside_ctx *c = (inside_ctx *)userdata;
    int first;
    (void)len;
    pthread_mutex_lock(&g_lock);
    first = !c->acted;
    c->acted = 1;
    pthread_mutex_unlock(&g_lock);
    if (first) {
        call_blocking(c);
        call_non_blocking(c);
    }
    log_event(&c->outer, event_json);
    return 0;
}

/* Runs one async stream on `host` whose first callback calls everything on `target`. */
static void run_inside(inside_ctx *c, pmx_router *host, pmx_router *target)
{
    pmx_error err;
    pmx_status st;
    memset(c, 0, sizeof *c);
    c->host = host;
    c->target = target;
    st = pmx_provider_new(&c->extra, "{\"name\":\"extra\",\"type\":\"mock\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_stream_async(NULL, host, REQUEST, inside_cb, c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(wait_terminal(&c->outer, 20000.0));
    CHECK(wait_terminal(&c->nested, 20000.0));
    pmx_provider_free(c->extra);
}

static void check_inside(const inside_ctx *c, const char *whose)
{
    int i;
    for (i = 0; i < C_BLOCKING_COUNT; i++) {
        CHECK_MSG(c->blocking[i] == PMX_ERR_WOULD_DEADLOCK, "%s from a callback: %s (%s)", blocking_names[i],
                  pmx_status_name(c->blocking[i]), c->messages[i]);
        CHECK_MSG(strncmp(c->messages[i], blocking_names[i], strlen(blocking_names[i])) == 0 &&
                      strstr(c->messages[i], whose) != NULL,
                  "message names the call and the thread: %s", c->messages[i]);
        CHECK_MSG(c->out_null[i], "%s left *out non-NULL", blocking_names[i]);
    }
    CHECK_STATUS(c->stats, PMX_OK, NULL);
    CHECK(c->stats_has_requests);
    CHECK_STATUS(c->stats_prom, PMX_OK, NULL);
    CHECK_STATUS(c->add, PMX_OK, NULL);
    CHECK_STATUS(c->update, PMX_OK, NULL);
    CHECK_STATUS(c->remove, PMX_OK, NULL);
    CHECK_STATUS(c->nested_start, PMX_OK, NULL);
    /* Exactly one terminal event each, nothing after it; the outer stream was not disturbed. */
    CHECK_INT(c->outer.terminals, 1);
    CHECK_INT(c->outer.after_terminal, 0);
    CHECK(c->outer.done);
    CHECK_INT(c->nested.terminals, 1);
    CHECK_INT(c->nested.after_terminal, 0);
}

/* The router still answers blocking calls from an ordinary thread. */
static void check_still_works(pmx_router *r)
{
    pmx_error err;
    char *out = NULL;
    pmx_status st = pmx_router_complete(&out, r, REQUEST, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    out = NULL;
    st = pmx_router_health(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
}

static void test_calls_from_async_callback_mock(void)
{
    inside_ctx c;
    pmx_router *r = tu_router_new(MOCK_ROUTER);
    if (!r)
        return;
    run_inside(&c, r, r);
    check_inside(&c, "the router's I/O thread");
    CHECK_CONTAINS(c.messages[C_COMPLETE], "it would wait for itself");
    check_still_works(r);
    pmx_router_free(r);
}

static void test_calls_from_async_callback_upstream(void)
{
    inside_ctx c;
    char *json;
    pmx_router *r;
    if (!have_upstream) {
        CHECK_MSG(0, "fake upstream not running");
        return;
    }
    /* "m" is the name model_manage asks for; it is an openai-compatible provider here. */
    json = tu_format("{\"providers\":[{\"name\":\"m\",\"type\":\"openai-compatible\","
                     "\"base_url\":\"http://127.0.0.1:%d/reent/v1\",\"default_model\":\"fake-small\"}]}",
                     up.port);
    r = tu_router_new(json);
    free(json);
    if (!r)
        return;
    run_inside(&c, r, r);
    check_inside(&c, "the router's I/O thread");
    check_still_works(r);
    pmx_router_free(r);
}

/* Router A's callback calls router B: refused too (B's callbacks could be calling A). */
static void test_calls_across_routers(void)
{
    inside_ctx c;
    pmx_router *a = tu_router_new(MOCK_ROUTER), *b = tu_router_new(MOCK_ROUTER);
    if (a && b) {
        run_inside(&c, a, b);
        check_inside(&c, "another router's I/O thread");
        check_still_works(a);
        check_still_works(b);
    }
    pmx_router_free(a);
    pmx_router_free(b);
}

/* The sync stream's callback runs on the caller's thread: blocking calls work there. */
typedef struct sync_ctx {
    pmx_router *r;
    int acted;
    pmx_status complete;
    stream_log log;
} sync_ctx;

static int32_t sync_cb(const char *event_json, size_t len, void *userdata)
{
    sync_ctx *c = (sync_ctx *)userdata;
    (void)len;
    if (!c->acted) {
        char *out = NULL;
        pmx_error err;
        c->acted = 1;
        c->complete = pmx_router_complete(&out, c->r, REQUEST, &err);
        pmx_string_free(out);
    }
    log_event(&c->log, event_json);
    return 0;
}

static void test_blocking_call_from_sync_stream_callback_works(void)
{
    sync_ctx c;
    pmx_error err;
    pmx_status st;
    memset(&c, 0, sizeof c);
    c.r = tu_router_new(MOCK_ROUTER);
    if (!c.r)
        return;
    st = pmx_router_stream(NULL, c.r, REQUEST, sync_cb, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_STATUS(c.complete, PMX_OK, NULL);
    CHECK_INT(c.log.terminals, 1);
    pmx_router_free(c.r);
}

/* ------------------------------------------------------------------------------------------ */
/* Library calls from inside the log callback                                                 */
/* ------------------------------------------------------------------------------------------ */

typedef struct log_ctx {
    pmx_router *r;
    pmx_provider *extra2;
    pthread_t main_thread;
    int depth, max_depth;
    int lines;
    int acted;
    pmx_status add, stats, update, remove, complete;
    int complete_on_io_thread;
    int saw_extra2_added, saw_extra2_removed, saw_routing_updated;
} log_ctx;

static log_ctx g_log;

static void log_cb(int32_t level, const char *message, size_t len, void *userdata)
{
    log_ctx *c = (log_ctx *)userdata;
    int act;
    (void)level;
    (void)len;
    pthread_mutex_lock(&g_lock);
    c->depth++;
    if (c->depth > c->max_depth)
        c->max_depth = c->depth;
    c->lines++;
    if (strstr(message, "provider extra2 added"))
        c->saw_extra2_added = 1;
    if (strstr(message, "provider extra2 removed"))
        c->saw_extra2_removed = 1;
    if (strstr(message, "routing updated"))
        c->saw_routing_updated = 1;
    act = !c->acted && strstr(message, "provider extra1 added") != NULL;
    if (act)
        c->acted = 1;
    pthread_mutex_unlock(&g_lock);
    if (act) {
        /* Every one of these logs (or waits for the I/O thread, which logs meanwhile). */
        char *out = NULL;
        pmx_error err;
        c->add = pmx_router_add_provider(c->r, c->extra2, &err);
        c->stats = pmx_router_stats(&out, c->r, &err);
        pmx_string_free(out);
        out = NULL;
        c->update = pmx_router_update_routing(c->r, "{\"strategy\":\"round_robin\"}", &err);
        c->remove = pmx_router_remove_provider(c->r, "extra2", &err);
        c->complete_on_io_thread = !pthread_equal(pthread_self(), c->main_thread);
        c->complete = pmx_router_complete(&out, c->r, REQUEST, &err);
        pmx_string_free(out);
    }
    pthread_mutex_lock(&g_lock);
    c->depth--;
    pthread_mutex_unlock(&g_lock);
}

static void test_library_calls_from_log_callback(void)
{
    pmx_provider *extra1 = NULL;
    pmx_error err;
    pmx_status st;
    log_ctx *c = &g_log;
    memset(c, 0, sizeof *c);
    c->main_thread = pthread_self();
    c->r = tu_router_new(MOCK_ROUTER);
    if (!c->r)
        return;
    CHECK_STATUS(pmx_provider_new(&extra1, "{\"name\":\"extra1\",\"type\":\"mock\"}", &err), PMX_OK, &err);
    CHECK_STATUS(pmx_provider_new(&c->extra2, "{\"name\":\"extra2\",\"type\":\"mock\"}", &err), PMX_OK, &err);
    pmx_set_log_callback(log_cb, PMX_LOG_TRACE, c);
    /* Logs "provider extra1 added" on this thread: the callback runs here and calls back in. */
    st = pmx_router_add_provider(c->r, extra1, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_set_log_callback(NULL, PMX_LOG_ERROR, NULL);
    pthread_mutex_lock(&g_lock);
    CHECK(c->acted);
    CHECK_STATUS(c->add, PMX_OK, NULL);
    CHECK_STATUS(c->stats, PMX_OK, NULL);
    CHECK_STATUS(c->update, PMX_OK, NULL);
    CHECK_STATUS(c->remove, PMX_OK, NULL);
    CHECK(!c->complete_on_io_thread);
    CHECK_STATUS(c->complete, PMX_OK, NULL);
    /* The lines those calls logged were delivered after the callback returned, never nested. */
    CHECK(c->saw_extra2_added);
    CHECK(c->saw_routing_updated);
    CHECK(c->saw_extra2_removed);
    CHECK_INT(c->max_depth, 1);
    pthread_mutex_unlock(&g_lock);
    check_still_works(c->r);
    pmx_provider_free(extra1);
    pmx_provider_free(c->extra2);
    pmx_router_free(c->r);
}

/* pmx_set_log_callback from inside the log callback: later lines go to the new one. */
typedef struct switch_ctx {
    int first_calls, second_calls;
    int first_after_switch;
    int switched;
} switch_ctx;

static switch_ctx g_switch;

static void second_log_cb(int32_t level, const char *message, size_t len, void *userdata)
{
    (void)level;
    (void)message;
    (void)len;
    pthread_mutex_lock(&g_lock);
    ((switch_ctx *)userdata)->second_calls++;
    pthread_mutex_unlock(&g_lock);
}

static void first_log_cb(int32_t level, const char *message, size_t len, void *userdata)
{
    switch_ctx *c = (switch_ctx *)userdata;
    int do_switch;
    (void)level;
    (void)message;
    (void)len;
    pthread_mutex_lock(&g_lock);
    c->first_calls++;
    if (c->switched)
        c->first_after_switch++;
    do_switch = !c->switched;
    c->switched = 1;
    pthread_mutex_unlock(&g_lock);
    if (do_switch)
        pmx_set_log_callback(second_log_cb, PMX_LOG_INFO, c);
}

static void test_set_log_callback_from_log_callback(void)
{
    pmx_provider *p = NULL;
    pmx_error err;
    pmx_router *r = tu_router_new(MOCK_ROUTER);
    switch_ctx *c = &g_switch;
    memset(c, 0, sizeof *c);
    if (!r)
        return;
    CHECK_STATUS(pmx_provider_new(&p, "{\"name\":\"x\",\"type\":\"mock\"}", &err), PMX_OK, &err);
    pmx_set_log_callback(first_log_cb, PMX_LOG_INFO, c);
    CHECK_STATUS(pmx_router_add_provider(r, p, &err), PMX_OK, &err);    /* -> first, which switches */
    CHECK_STATUS(pmx_router_remove_provider(r, "x", &err), PMX_OK, &err); /* -> second */
    pmx_set_log_callback(NULL, PMX_LOG_ERROR, NULL);
    pthread_mutex_lock(&g_lock);
    CHECK_INT(c->first_calls, 1);
    CHECK_INT(c->first_after_switch, 0);
    CHECK(c->second_calls >= 1);
    pthread_mutex_unlock(&g_lock);
    pmx_provider_free(p);
    pmx_router_free(r);
}

/* A line the I/O thread delivers: a blocking call from the log callback there refuses. */
typedef struct io_log_ctx {
    pmx_router *r;
    pthread_t main_thread;
    int io_calls, io_would_deadlock;
} io_log_ctx;

static io_log_ctx g_io_log;

static void io_log_cb(int32_t level, const char *message, size_t len, void *userdata)
{
    io_log_ctx *c = (io_log_ctx *)userdata;
    (void)level;
    (void)message;
    (void)len;
    if (pthread_equal(pthread_self(), c->main_thread))
        return;
    {
        char *out = NULL;
        pmx_error err;
        pmx_status st = pmx_router_complete(&out, c->r, REQUEST, &err);
        pmx_string_free(out);
        pthread_mutex_lock(&g_lock);
        c->io_calls++;
        if (st == PMX_ERR_WOULD_DEADLOCK)
            c->io_would_deadlock++;
        pthread_mutex_unlock(&g_lock);
    }
}

static void test_blocking_call_from_log_callback_on_io_thread(void)
{
    stream_log s;
    pmx_error err;
    pmx_status st;
    io_log_ctx *c = &g_io_log;
    memset(c, 0, sizeof *c);
    memset(&s, 0, sizeof s);
    c->main_thread = pthread_self();
    c->r = tu_router_new(MOCK_ROUTER);
    if (!c->r)
        return;
    pmx_set_log_callback(io_log_cb, PMX_LOG_TRACE, c);
    /* The I/O thread logs each attempt ("attempt 1: provider m ...") while this one waits. */
    st = pmx_router_stream_async(NULL, c->r, REQUEST, nested_cb, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(wait_terminal(&s, 20000.0));
    pmx_set_log_callback(NULL, PMX_LOG_ERROR, NULL);
    pthread_mutex_lock(&g_lock);
    CHECK(c->io_calls >= 1);
    CHECK_INT(c->io_would_deadlock, c->io_calls);
    CHECK(s.done);
    CHECK_INT(s.terminals, 1);
    pthread_mutex_unlock(&g_lock);
    check_still_works(c->r);
    pmx_router_free(c->r);
}

/* ------------------------------------------------------------------------------------------ */
/* Cancel and free from inside the callback of a cached answer                                */
/* ------------------------------------------------------------------------------------------ */

#define CACHED_ROUTER "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}],\"cache\":{\"enabled\":true}}"

enum cancel_how { BY_RETURN, BY_CANCEL, BY_FREE };

typedef struct cached_ctx {
    enum cancel_how how;
    const char *at; /* the event type at which to stop */
    pmx_stream *handle;
    int freed;
    int acted;
    stream_log log;
} cached_ctx;

static int32_t cached_cb(const char *event_json, size_t len, void *userdata)
{
    cached_ctx *c = (cached_ctx *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    int stop;
    pmx_stream *h;
    (void)len;
    pthread_mutex_lock(&g_lock); /* the starter holds it until c->handle is set */
    stop = !c->acted && type && strcmp(type, c->at) == 0;
    if (stop)
        c->acted = 1;
    h = c->handle;
    if (stop && c->how == BY_FREE)
        c->freed = 1;
    pthread_mutex_unlock(&g_lock);
    json_decref(ev);
    log_event(&c->log, event_json);
    if (!stop)
        return 0;
    switch (c->how) {
    case BY_RETURN: return 1;
    case BY_CANCEL: pmx_stream_cancel(h); return 0;
    default: pmx_stream_free(h); return 0;
    }
}

/* A router whose cache holds the answer to REQUEST. */
static pmx_router *warm_router(void)
{
    char *out = NULL;
    pmx_error err;
    pmx_router *r = tu_router_new(CACHED_ROUTER);
    if (r) {
        CHECK_STATUS(pmx_router_complete(&out, r, REQUEST, &err), PMX_OK, &err);
        CHECK_CONTAINS(out, "\"content\":\"mock: one two three\"");
        pmx_string_free(out);
    }
    return r;
}

static void check_cancelled(const cached_ctx *c, int deltas)
{
    CHECK(c->acted);
    CHECK_INT(c->log.terminals, 1);
    CHECK_INT(c->log.after_terminal, 0);
    CHECK(!c->log.done);
    CHECK_STATUS(c->log.error_code, PMX_ERR_CANCELLED, NULL);
    CHECK_INT(c->log.deltas, deltas);
}

static void run_cached_async(enum cancel_how how, const char *at, int deltas)
{
    cached_ctx c;
    pmx_error err;
    pmx_status st;
    char *out = NULL;
    pmx_router *r = warm_router();
    if (!r)
        return;
    memset(&c, 0, sizeof c);
    c.how = how;
    c.at = at;
    pthread_mutex_lock(&g_lock);
    st = pmx_router_stream_async(&c.handle, r, REQUEST, cached_cb, &c, &err);
    pthread_mutex_unlock(&g_lock);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(wait_terminal(&c.log, 20000.0));
    pthread_mutex_lock(&g_lock);
    check_cancelled(&c, deltas);
    pthread_mutex_unlock(&g_lock);
    if (!c.freed)
        pmx_stream_free(c.handle);
    /* The cache still answers in full. */
    CHECK_STATUS(pmx_router_complete(&out, r, REQUEST, &err), PMX_OK, &err);
    CHECK_CONTAINS(out, "\"cached\":true");
    pmx_string_free(out);
    pmx_router_free(r);
}

static void test_cached_async_nonzero_return(void) { run_cached_async(BY_RETURN, "start", 0); }
static void test_cached_async_cancel_inside(void) { run_cached_async(BY_CANCEL, "start", 0); }
static void test_cached_async_free_inside(void) { run_cached_async(BY_FREE, "start", 0); }
/* After the last delta: the terminal event is still the cancellation, not `done`. */
static void test_cached_async_cancel_at_usage(void) { run_cached_async(BY_CANCEL, "usage", 1); }
static void test_cached_async_return_at_usage(void) { run_cached_async(BY_RETURN, "usage", 1); }

static void test_cached_sync_nonzero_return(void)
{
    cached_ctx c;
    pmx_error err;
    pmx_status st;
    char *out = (char *)0x1;
    pmx_router *r = warm_router();
    if (!r)
        return;
    memset(&c, 0, sizeof c);
    c.how = BY_RETURN;
    c.at = "start";
    st = pmx_router_stream(&out, r, REQUEST, cached_cb, &c, &err);
    CHECK_STATUS(st, PMX_ERR_CANCELLED, &err);
    CHECK(out == NULL);
    check_cancelled(&c, 0);
    pmx_router_free(r);
}

/* pmx_router_new and pmx_router_free of ANOTHER router from inside an async callback: they
 * start / join that router's I/O thread, never this one's, so they return. */
typedef struct lifecycle_ctx {
    pmx_router *other; /* freed from inside the callback */
    int acted;
    pmx_status created;
    int other_stream_ended;
    stream_log other_log;
    stream_log log;
} lifecycle_ctx;

static int32_t lifecycle_cb(const char *event_json, size_t len, void *userdata)
{
    lifecycle_ctx *c = (lifecycle_ctx *)userdata;
    (void)len;
    if (!c->acted) {
        pmx_router *fresh = NULL;
        pmx_error err;
        c->acted = 1;
        c->created = pmx_router_new(&fresh, MOCK_ROUTER, &err);
        pmx_router_free(fresh);
        /* `other` has an async stream in flight: freeing it cancels that stream, whose
         * terminal event runs on other's I/O thread before pmx_router_free returns. */
        pmx_router_free(c->other);
        c->other = NULL;
        c->other_stream_ended = c->other_log.terminals;
    }
    log_event(&c->log, event_json);
    return 0;
}

static void test_router_new_and_free_from_async_callback(void)
{
    lifecycle_ctx c;
    pmx_error err;
    pmx_status st;
    pmx_router *r = tu_router_new(MOCK_ROUTER);
    memset(&c, 0, sizeof c);
    c.other = tu_router_new("{\"providers\":[{\"name\":\"slow\",\"type\":\"mock\",\"token_delay_ms\":200}]}");
    if (!r || !c.other)
        return;
    st = pmx_router_stream_async(NULL, c.other, REQUEST, nested_cb, &c.other_log, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_stream_async(NULL, r, REQUEST, lifecycle_cb, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(wait_terminal(&c.log, 20000.0));
    pthread_mutex_lock(&g_lock);
    CHECK_STATUS(c.created, PMX_OK, NULL);
    CHECK_INT(c.other_stream_ended, 1);
    CHECK_INT(c.other_log.terminals, 1);
    CHECK_INT(c.log.terminals, 1);
    CHECK(c.log.done);
    pthread_mutex_unlock(&g_lock);
    check_still_works(r);
    pmx_router_free(r);
}

int main(void)
{
    tu_watchdog(180);
    have_upstream = tu_upstream_start(&up) == 0;
    RUN(test_calls_from_async_callback_mock);
    RUN(test_calls_from_async_callback_upstream);
    RUN(test_calls_across_routers);
    RUN(test_blocking_call_from_sync_stream_callback_works);
    RUN(test_router_new_and_free_from_async_callback);
    RUN(test_library_calls_from_log_callback);
    RUN(test_set_log_callback_from_log_callback);
    RUN(test_blocking_call_from_log_callback_on_io_thread);
    RUN(test_cached_async_nonzero_return);
    RUN(test_cached_async_cancel_inside);
    RUN(test_cached_async_free_inside);
    RUN(test_cached_async_cancel_at_usage);
    RUN(test_cached_async_return_at_usage);
    RUN(test_cached_sync_nonzero_return);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
