/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_small_stacks.c — the library on threads with small stacks (issue 12: nothing from
 * outside may crash the host).
 *
 * JSON nested as deep as the parser accepts (256 levels, the root at level 1) is parsed,
 * converted, written and released by recursive code on whatever thread runs it. The caller's
 * thread here has a 64 KiB stack: a request nested to the limit is served, deeper ones (up to
 * jansson's old limit of 2,048, which crashed such a thread, and beyond) are
 * PMX_ERR_INVALID_JSON. The I/O thread is created while the process default stack is 32 KiB
 * (pthread_setattr_default_np, as a host on musl or with a small `ulimit -s` has it): the
 * library gives its own thread at least 1 MiB (an async stream's callback, on that thread,
 * reads its size), an answer nested to the limit is decoded there, and a deeper one is an
 * upstream protocol error of that attempt.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <pthread.h>

#define KEY "sk-small-stacks-KEY-5be1d07a"
#define LIMIT 256 /* JSONParser.maxDepth */

static tu_upstream up;

/* `n` nested arrays ("[[…]]"), malloc'ed. */
static char *nested(size_t n)
{
    char *s = (char *)malloc(2 * n + 1);
    if (!s)
        return NULL;
    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}

/* A chat request whose member "x_deep" holds `arrays` nested arrays: the innermost is at
 * level arrays + 1. */
static char *deep_request(const char *model, size_t arrays)
{
    char *deep = nested(arrays);
    char *req = tu_format("{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                          "\"metadata\":{\"k\":\"v\"},\"x_deep\":%s}",
                          model, deep ? deep : "0");
    free(deep);
    return req;
}

/* ---------------------------------------------------------------------------------------- */
/* A caller's thread with a 64 KiB stack                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    pmx_router *router;
    size_t arrays;
    int stream; /* 0: pmx_router_complete, 1: pmx_router_stream, 2: stream_open + next */
    pmx_status status;
    pmx_error err;
    int events;
    int terminal_ok;
} call_job;

static int32_t count_event(const char *json, size_t len, void *userdata)
{
    call_job *job = (call_job *)userdata;
    (void)len;
    job->events++;
    if (strstr(json, "\"type\":\"done\""))
        job->terminal_ok = 1;
    return 0;
}

static void *run_call(void *arg)
{
    call_job *job = (call_job *)arg;
    char *req = deep_request("mock/m", job->arrays);
    char *out = NULL;
    if (!req) {
        job->status = PMX_ERR_INTERNAL;
        return NULL;
    }
    if (job->stream == 0) {
        job->status = pmx_router_complete(&out, job->router, req, &job->err);
        job->terminal_ok = job->status == PMX_OK && out && strstr(out, "\"choices\"");
    } else if (job->stream == 1) {
        job->status = pmx_router_stream(NULL, job->router, req, count_event, job, &job->err);
    } else {
        pmx_stream *s = NULL;
        job->status = pmx_router_stream_open(&s, job->router, req, &job->err);
        while (job->status == PMX_OK) {
            pmx_event ev[8];
            size_t n = 0, i;
            int ended = 0;
            job->status = pmx_stream_next(ev, 8, sizeof(pmx_event), &n, s, 5000, 0, &job->err);
            for (i = 0; i < n; i++) {
                job->events++;
                if (ev[i].type == PMX_EVENT_DONE)
                    job->terminal_ok = 1;
                if (ev[i].type == PMX_EVENT_DONE || ev[i].type == PMX_EVENT_ERROR)
                    ended = 1;
            }
            if (ended || n == 0)
                break;
        }
        pmx_stream_free(s);
    }
    pmx_string_free(out);
    free(req);
    return NULL;
}

/* Runs `job` on a thread with a `stack`-byte stack and waits for it. */
static int on_small_stack(call_job *job, size_t stack)
{
    pthread_attr_t attr;
    pthread_t t;
    int rc;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack);
    rc = pthread_create(&t, &attr, run_call, job);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return -1;
    pthread_join(t, NULL);
    return 0;
}

static void test_caller_thread_64k(void)
{
    static const size_t refused[] = {LIMIT, LIMIT + 1, 1023, 2047, 20000};
    pmx_router *router = tu_router_new("{\"providers\":[{\"name\":\"mock\",\"type\":\"mock\"}]}");
    int mode;
    size_t i;
    if (!router)
        return;
    for (mode = 0; mode < 3; mode++) {
        call_job job;
        /* At the limit: served, on every call shape. */
        memset(&job, 0, sizeof job);
        job.router = router;
        job.arrays = LIMIT - 1;
        job.stream = mode;
        CHECK(on_small_stack(&job, 64 << 10) == 0);
        CHECK_MSG(job.status == PMX_OK && job.terminal_ok, "mode %d, %d levels: %s %s", mode, LIMIT,
                  pmx_status_name(job.status), job.err.message);
        /* Deeper: a clean input error naming the depth, no event, no crash. */
        for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            memset(&job, 0, sizeof job);
            job.router = router;
            job.arrays = refused[i];
            job.stream = mode;
            CHECK(on_small_stack(&job, 64 << 10) == 0);
            CHECK_MSG(job.status == PMX_ERR_INVALID_JSON && strstr(job.err.message, "maximum parsing depth") &&
                          job.events == 0,
                      "mode %d, %zu levels: %s %s (%d events)", mode, refused[i] + 1, pmx_status_name(job.status),
                      job.err.message, job.events);
        }
    }
    pmx_router_free(router);
}

/* ---------------------------------------------------------------------------------------- */
/* The I/O thread when the process default stack is 32 KiB                                  */
/* ---------------------------------------------------------------------------------------- */

/* An OpenAI chat answer with a member "x_deep" of `arrays` nested arrays, as a JSON string
 * (quotes escaped) for the fake upstream's `body` fault. */
static char *deep_answer_body(size_t arrays)
{
    char *deep = nested(arrays);
    char *body = tu_format("{\\\"id\\\":\\\"chatcmpl-deep\\\",\\\"object\\\":\\\"chat.completion\\\",\\\"created\\\":1,"
                           "\\\"model\\\":\\\"m\\\",\\\"choices\\\":[{\\\"index\\\":0,\\\"message\\\":{\\\"role\\\":"
                           "\\\"assistant\\\",\\\"content\\\":\\\"deep answer\\\"},\\\"finish_reason\\\":\\\"stop\\\"}],"
                           "\\\"x_deep\\\":%s}",
                           deep ? deep : "0");
    free(deep);
    return body;
}

/* An async stream's callback runs on the router's I/O thread: it records that thread's stack
 * size, and the terminal event wakes the test. */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    size_t stack;
    int ended;
} io_probe;

static int32_t probe_event(const char *json, size_t len, void *userdata)
{
    io_probe *p = (io_probe *)userdata;
    pthread_attr_t attr;
    size_t size = 0;
    (void)len;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_lock(&p->lock);
    if (p->stack == 0 || size < p->stack)
        p->stack = size;
    if (strstr(json, "\"type\":\"done\"") || strstr(json, "\"type\":\"error\""))
        p->ended = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

static void test_io_thread_with_a_tiny_default_stack(void)
{
    io_probe probe = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    pthread_attr_t tiny, saved;
    pmx_router *router;
    pmx_error err;
    pmx_status st;
    char *cfg, *out = NULL, *body, *script, *req;

    /* The process default while the router (and so its I/O thread) is created: 32 KiB. */
    CHECK(pthread_getattr_default_np(&saved) == 0);
    pthread_attr_init(&tiny);
    pthread_attr_setstacksize(&tiny, 32 << 10);
    CHECK(pthread_setattr_default_np(&tiny) == 0);
    cfg = tu_format("{\"providers\":[{\"name\":\"up\",\"type\":\"openai-compatible\","
                    "\"base_url\":\"http://127.0.0.1:%d/stack/v1\",\"api_key\":\"" KEY "\"},"
                    "{\"name\":\"mock\",\"type\":\"mock\"}],"
                    "\"retry\":{\"max_attempts\":1}}",
                    up.port);
    router = tu_router_new(cfg);
    CHECK(pthread_setattr_default_np(&saved) == 0);
    pthread_attr_destroy(&tiny);
    pthread_attr_destroy(&saved);
    free(cfg);
    if (!router)
        return;

    /* The I/O thread got a stack of its own size, not the process default. */
    st = pmx_router_stream_async(NULL, router, "{\"model\":\"mock/m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                                 probe_event, &probe, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pthread_mutex_lock(&probe.lock);
    while (st == PMX_OK && !probe.ended)
        tu_cond_wait_ms(&probe.cond, &probe.lock, 1000);
    pthread_mutex_unlock(&probe.lock);
    CHECK_MSG(probe.stack >= (1u << 20), "I/O thread stack: %zu bytes", probe.stack);

    /* An answer nested to the limit (x_deep at level 2, its innermost array at 256). */
    body = deep_answer_body(LIMIT - 1);
    script = tu_format("[{\"body\":\"%s\"}]", body);
    CHECK_INT(tu_upstream_script(&up, "stack", script), 200);
    req = deep_request("up/m", LIMIT - 1);
    st = pmx_router_complete(&out, router, req, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (out)
        CHECK_CONTAINS(out, "deep answer");
    pmx_string_free(out);
    out = NULL;
    free(body);
    free(script);

    /* One level deeper: that attempt's upstream protocol error, naming the depth. */
    body = deep_answer_body(LIMIT);
    script = tu_format("[{\"body\":\"%s\"}]", body);
    CHECK_INT(tu_upstream_script(&up, "stack", script), 200);
    st = pmx_router_complete(&out, router, req, &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_PROTOCOL, &err);
    CHECK_CONTAINS(err.message, "maximum parsing depth");
    CHECK(out == NULL);
    free(body);
    free(script);
    free(req);
    pmx_router_free(router);
}

int main(void)
{
    tu_watchdog(120);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    RUN(test_caller_thread_64k);
    RUN(test_io_thread_with_a_tiny_default_stack);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
