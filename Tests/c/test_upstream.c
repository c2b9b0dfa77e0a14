/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_upstream.c — openai-compatible providers against the fake upstream
 * (Tests/upstream/fake_upstream.py): complete, stream, retry on 429 (with Retry-After),
 * failover, all providers failing, providers added/removed at runtime, timeouts, headers and
 * API-key hygiene (sent upstream as "Authorization: Bearer", never shown anywhere else).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

#define KEY "sk-upstream-SECRET-77c1e2a9"
#define FAST_RETRY "\"retry\":{\"max_attempts\":3,\"initial_backoff_ms\":10,\"max_backoff_ms\":50,\"jitter\":0}"

static tu_upstream up;

/* One openai-compatible provider object on `scope` of the fake upstream; `extra` (may be "")
 * is appended inside the object, e.g. ",\"models\":[\"x\"]". */
static char *provider_json(const char *name, const char *scope, const char *extra)
{
    return tu_format("{\"name\":\"%s\",\"type\":\"openai-compatible\","
                     "\"base_url\":\"http://127.0.0.1:%d/%s/v1\",\"api_key\":\"" KEY "\"%s}",
                     name, up.port, scope, extra);
}

/* A router with the given provider objects (a NULL-terminated list of malloc'ed strings, freed
 * here) and the given extra top-level members (e.g. FAST_RETRY). */
static pmx_router *router_with(const char *sections, ...)
{
    va_list ap;
    const char *p;
    char *providers = tu_format("%s", "");
    char *json;
    pmx_router *r = NULL;
    pmx_error err;
    pmx_status st;
    int first = 1;

    va_start(ap, sections);
    while ((p = va_arg(ap, const char *)) != NULL) {
        char *next = tu_format("%s%s%s", providers, first ? "" : ",", p);
        free(providers);
        free((char *)p);
        providers = next;
        first = 0;
    }
    va_end(ap);
    json = tu_format("{\"providers\":[%s]%s%s}", providers, *sections ? "," : "", sections);
    st = pmx_router_new(&r, json, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (st != PMX_OK)
        fprintf(stderr, "config was: %s\n", json);
    free(providers);
    free(json);
    return r;
}

static json_t *upstream_log(const char *scope)
{
    char *text = tu_upstream_requests(&up, scope);
    json_t *j = tu_json(text);
    free(text);
    return j;
}

/* Number of chat completion requests the upstream saw on `scope`. */
static int upstream_count(const char *scope)
{
    json_t *j = upstream_log(scope);
    int n = (int)tu_jlen(j, "requests");
    json_decref(j);
    return n;
}

#define USER(text) "{\"messages\":[{\"role\":\"user\",\"content\":\"" text "\"}]"

/* Event collector for blocking streams. */
typedef struct {
    int events, starts, deltas, retries, fallbacks, terminals, after_terminal;
    char content[2048];
    json_t *done_response;
    json_t *error_event;
    json_t *fallback_event;
} collector;

static int32_t collect(const char *event_json, size_t len, void *userdata)
{
    collector *c = (collector *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    (void)len;
    c->events++;
    if (c->terminals)
        c->after_terminal++;
    if (!type)
        type = "?";
    if (strcmp(type, "start") == 0) {
        c->starts++;
    } else if (strcmp(type, "delta") == 0) {
        const char *s = json_string_value(json_object_get(ev, "content"));
        c->deltas++;
        if (s)
            strncat(c->content, s, sizeof c->content - strlen(c->content) - 1);
    } else if (strcmp(type, "retry") == 0) {
        c->retries++;
    } else if (strcmp(type, "fallback") == 0) {
        c->fallbacks++;
        if (!c->fallback_event)
            c->fallback_event = json_incref(ev);
    } else if (strcmp(type, "done") == 0) {
        c->terminals++;
        c->done_response = json_incref(json_object_get(ev, "response"));
    } else if (strcmp(type, "error") == 0) {
        c->terminals++;
        c->error_event = json_incref(ev);
    }
    json_decref(ev);
    return 0;
}

static void collector_clear(collector *c)
{
    json_decref(c->done_response);
    json_decref(c->error_event);
    json_decref(c->fallback_event);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------------------------ */

static void test_complete(void)
{
    pmx_router *r = router_with(FAST_RETRY, provider_json("fake", "complete", ""), NULL);
    pmx_error err;
    char *out = NULL;
    json_t *resp, *log;
    pmx_status st;
    if (!r)
        return;
    tu_err_poison(&err);
    st = pmx_router_complete(&out, r, USER("hello upstream") ",\"model\":\"fake-small\",\"temperature\":0.5}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(err.code, PMX_OK);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "object"), "chat.completion");
    CHECK_STR(tu_jstr(resp, "choices.0.message.content"), "echo: hello upstream");
    CHECK_STR(tu_jstr(resp, "provider"), "fake");
    CHECK_STR(tu_jstr(resp, "model"), "fake-small");
    CHECK_INT(tu_jint(resp, "usage.prompt_tokens", -1), 2);
    CHECK_INT(tu_jint(resp, "usage.completion_tokens", -1), 3);
    CHECK_INT(tu_jint(resp, "usage.total_tokens", -1), 5);
    CHECK_INT(tu_jlen(resp, "attempts"), 1);
    CHECK_STR(tu_jstr(resp, "attempts.0.outcome"), "ok");
    CHECK_STR(tu_jstr(resp, "attempts.0.provider"), "fake");
    CHECK(tu_jint(resp, "latency_ms", -1) >= 0);
    CHECK_NOT_CONTAINS(out, KEY);
    json_decref(resp);
    pmx_string_free(out);

    /* What the upstream received: an OpenAI request, the route stripped, extras passed on. */
    log = upstream_log("complete");
    CHECK_INT(tu_jlen(log, "requests"), 1);
    CHECK_STR(tu_jstr(log, "requests.0.method"), "POST");
    CHECK_STR(tu_jstr(log, "requests.0.path"), "/complete/v1/chat/completions");
    CHECK_STR(tu_jstr(log, "requests.0.json.model"), "fake-small");
    CHECK_STR(tu_jstr(log, "requests.0.json.messages.0.content"), "hello upstream");
    CHECK(json_is_number(tu_jget(log, "requests.0.json.temperature")));
    CHECK(!json_is_true(tu_jget(log, "requests.0.json.stream")));
    json_decref(log);
    pmx_router_free(r);
}

static void test_stream(void)
{
    pmx_router *r = router_with(FAST_RETRY, provider_json("fake", "stream", ",\"default_model\":\"fake-large\""), NULL);
    pmx_error err;
    collector c;
    char *out = NULL;
    json_t *log;
    pmx_status st;
    if (!r)
        return;
    memset(&c, 0, sizeof c);
    st = pmx_router_stream(&out, r, USER("stream this please") "}", collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(c.terminals, 1);
    CHECK_INT(c.after_terminal, 0);
    CHECK(c.starts >= 1);
    CHECK(c.deltas >= 3); /* one chunk per word */
    CHECK_STR(c.content, "echo: stream this please");
    CHECK_STR(tu_jstr(c.done_response, "choices.0.message.content"), "echo: stream this please");
    CHECK_STR(tu_jstr(c.done_response, "provider"), "fake");
    CHECK_STR(tu_jstr(c.done_response, "model"), "fake-large");
    CHECK(tu_jint(c.done_response, "ttft_ms", -1) >= 0);
    CHECK(tu_jint(c.done_response, "usage.completion_tokens", -1) > 0);
    CHECK_NOT_CONTAINS(out, KEY);
    collector_clear(&c);
    pmx_string_free(out);

    log = upstream_log("stream");
    CHECK_INT(tu_jlen(log, "requests"), 1);
    CHECK(json_is_true(tu_jget(log, "requests.0.json.stream")));
    CHECK_STR(tu_jstr(log, "requests.0.json.model"), "fake-large"); /* the default_model */
    json_decref(log);
    pmx_router_free(r);
}

static void test_retry_on_429(void)
{
    pmx_router *r = router_with(FAST_RETRY, provider_json("fake", "retry", ""), NULL);
    pmx_error err;
    char *out = NULL;
    json_t *resp;
    pmx_status st;
    collector c;
    double t0;
    if (!r)
        return;

    CHECK_INT(tu_upstream_script(&up, "retry", "[{\"status\":429,\"times\":2}]"), 200);
    st = pmx_router_complete(&out, r, USER("retry me") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "choices.0.message.content"), "echo: retry me");
    CHECK_INT(tu_jlen(resp, "attempts"), 3);
    CHECK_STR(tu_jstr(resp, "attempts.0.outcome"), "error");
    CHECK_INT(tu_jint(resp, "attempts.0.http_status", 0), 429);
    CHECK_INT(tu_jint(resp, "attempts.0.code", 0), PMX_ERR_RATE_LIMITED);
    CHECK_STR(tu_jstr(resp, "attempts.0.status_name"), "PMX_ERR_RATE_LIMITED");
    CHECK_STR(tu_jstr(resp, "attempts.1.outcome"), "error");
    CHECK_STR(tu_jstr(resp, "attempts.2.outcome"), "ok");
    json_decref(resp);
    pmx_string_free(out);
    CHECK_INT(upstream_count("retry"), 3);

    /* The same as a stream: two retry events, one start per attempt at most. */
    CHECK_INT(tu_upstream_script(&up, "retry", "[{\"status\":429,\"times\":2}]"), 200);
    memset(&c, 0, sizeof c);
    st = pmx_router_stream(NULL, r, USER("retry stream") ",\"model\":\"fake-small\"}", collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(c.retries, 2);
    CHECK_INT(c.terminals, 1);
    CHECK_STR(c.content, "echo: retry stream");
    CHECK_INT(tu_jlen(c.done_response, "attempts"), 3);
    collector_clear(&c);

    /* Retry-After: 1 is honoured (about one second). */
    CHECK_INT(tu_upstream_script(&up, "retry", "[{\"status\":429,\"retry_after\":1}]"), 200);
    t0 = tu_now_ms();
    out = NULL;
    st = pmx_router_complete(&out, r, USER("after a while") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_MSG(tu_now_ms() - t0 >= 900.0, "Retry-After: 1 ignored (%.0f ms)", tu_now_ms() - t0);
    resp = tu_json(out);
    CHECK_INT(tu_jlen(resp, "attempts"), 2);
    json_decref(resp);
    pmx_string_free(out);

    /* Retries exhausted: the 429 is the final answer. */
    CHECK_INT(tu_upstream_script(&up, "retry", "[{\"status\":429,\"times\":5}]"), 200);
    out = (char *)&err;
    tu_err_poison(&err);
    st = pmx_router_complete(&out, r, USER("never") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_ERR_RATE_LIMITED, &err);
    CHECK(out == NULL);
    CHECK_INT(err.http_status, 429);
    CHECK_INT(err.attempts, 3);
    CHECK_STR(err.provider, "fake");
    CHECK_NOT_CONTAINS(err.message, KEY);
    pmx_router_free(r);
}

static void test_failover(void)
{
    pmx_router *r = router_with("\"retry\":{\"max_attempts\":2,\"initial_backoff_ms\":10,\"jitter\":0}",
                                provider_json("prov-a", "fa", ""), provider_json("prov-b", "fb", ""), NULL);
    pmx_error err;
    char *out = NULL;
    json_t *resp;
    pmx_status st;
    collector c;
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "fa", "[{\"status\":500,\"times\":100}]"), 200);

    st = pmx_router_complete(&out, r, USER("fail over") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "provider"), "prov-b");
    CHECK_STR(tu_jstr(resp, "choices.0.message.content"), "echo: fail over");
    CHECK_INT(tu_jlen(resp, "attempts"), 3);
    CHECK_STR(tu_jstr(resp, "attempts.0.provider"), "prov-a");
    CHECK_INT(tu_jint(resp, "attempts.0.http_status", 0), 500);
    CHECK_INT(tu_jint(resp, "attempts.0.code", 0), PMX_ERR_UPSTREAM_SERVER);
    CHECK_STR(tu_jstr(resp, "attempts.1.provider"), "prov-a");
    CHECK_STR(tu_jstr(resp, "attempts.2.provider"), "prov-b");
    CHECK_STR(tu_jstr(resp, "attempts.2.outcome"), "ok");
    json_decref(resp);
    pmx_string_free(out);
    CHECK_INT(upstream_count("fa"), 2);
    CHECK_INT(upstream_count("fb"), 1);

    memset(&c, 0, sizeof c);
    st = pmx_router_stream(NULL, r, USER("stream over") ",\"model\":\"fake-small\"}", collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(c.fallbacks, 1);
    CHECK_STR(tu_jstr(c.fallback_event, "from"), "prov-a");
    CHECK_STR(tu_jstr(c.fallback_event, "to"), "prov-b");
    CHECK_INT(tu_jint(c.fallback_event, "code", 0), PMX_ERR_UPSTREAM_SERVER);
    CHECK_STR(c.content, "echo: stream over");
    CHECK_STR(tu_jstr(c.done_response, "provider"), "prov-b");
    collector_clear(&c);

    /* "route" restricts the providers: only prov-a → it fails. */
    out = (char *)&err;
    st = pmx_router_complete(&out, r,
                             USER("only a") ",\"model\":\"fake-small\",\"route\":{\"providers\":[\"prov-a\"],\"max_attempts\":1}}",
                             &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_SERVER, &err);
    CHECK_INT(err.attempts, 1);
    CHECK(out == NULL);

    /* Stats count the fallbacks; never the key. */
    out = NULL;
    st = pmx_router_stats(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK(tu_jint(resp, "fallbacks", -1) >= 2);
    CHECK(tu_jint(resp, "requests", -1) >= 3);
    CHECK_NOT_CONTAINS(out, KEY);
    json_decref(resp);
    pmx_string_free(out);
    pmx_router_free(r);
}

static void test_all_fail(void)
{
    pmx_router *r = router_with("\"retry\":{\"max_attempts\":2,\"initial_backoff_ms\":10,\"jitter\":0}",
                                provider_json("alpha-prov", "xa", ""), provider_json("beta-prov", "xb", ""), NULL);
    pmx_error err;
    char *out = (char *)&err;
    pmx_status st;
    collector c;
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "xa", "[{\"status\":500,\"times\":100}]"), 200);
    CHECK_INT(tu_upstream_script(&up, "xb", "[{\"status\":503,\"times\":100}]"), 200);

    tu_err_poison(&err);
    st = pmx_router_complete(&out, r, USER("doomed") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_SERVER, &err);
    CHECK_INT(err.code, PMX_ERR_UPSTREAM_SERVER);
    CHECK(out == NULL);
    CHECK_INT(err.attempts, 4);
    CHECK_INT(err.http_status, 503);
    CHECK_STR(err.provider, "beta-prov");
    CHECK_CONTAINS(err.message, "alpha-prov");
    CHECK_CONTAINS(err.message, "beta-prov");
    CHECK_NOT_CONTAINS(err.message, KEY);
    CHECK(tu_err_terminated(&err));

    memset(&c, 0, sizeof c);
    st = pmx_router_stream(NULL, r, USER("doomed stream") ",\"model\":\"fake-small\"}", collect, &c, &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_SERVER, &err);
    CHECK_INT(c.terminals, 1);
    CHECK_INT(c.deltas, 0);
    CHECK_INT(tu_jint(c.error_event, "code", 0), PMX_ERR_UPSTREAM_SERVER);
    CHECK_STR(tu_jstr(c.error_event, "status_name"), "PMX_ERR_UPSTREAM_SERVER");
    CHECK_INT(tu_jint(c.error_event, "http_status", 0), 503);
    CHECK_STR(tu_jstr(c.error_event, "provider"), "beta-prov");
    CHECK_CONTAINS(tu_jstr(c.error_event, "message"), "alpha-prov");
    CHECK_CONTAINS(tu_jstr(c.error_event, "message"), "beta-prov");
    CHECK_INT(tu_jlen(c.error_event, "attempts"), 4);
    collector_clear(&c);
    pmx_router_free(r);
}

/* HTTP 400 is the caller's fault: PMX_ERR_UPSTREAM_BAD_REQUEST, not retried, no failover. */
static void test_bad_request_no_failover(void)
{
    pmx_router *r = router_with(FAST_RETRY, provider_json("strict", "bad", ""),
                                provider_json("lenient", "bad2", ""), NULL);
    pmx_error err;
    char *out = (char *)&err;
    pmx_status st;
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "bad", "[{\"status\":400,\"times\":5,\"message\":\"bad field\"}]"), 200);
    tu_err_poison(&err);
    st = pmx_router_complete(&out, r, USER("malformed") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_BAD_REQUEST, &err);
    CHECK_INT(err.http_status, 400);
    CHECK_INT(err.attempts, 1);
    CHECK_STR(err.provider, "strict");
    if (st == PMX_OK)
        pmx_string_free(out);
    else
        CHECK(out == NULL);
    CHECK_INT(upstream_count("bad"), 1);
    CHECK_INT(upstream_count("bad2"), 0);
    pmx_router_free(r);
}

typedef struct {
    pthread_mutex_t lock;
    collector c;
} async_collector;

static int32_t collect_async(const char *event_json, size_t len, void *userdata)
{
    async_collector *a = (async_collector *)userdata;
    int32_t rc;
    pthread_mutex_lock(&a->lock);
    rc = collect(event_json, len, &a->c);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

static void test_runtime_providers(void)
{
    pmx_router *r = router_with(FAST_RETRY, NULL);
    pmx_provider *p1 = NULL, *p2 = NULL, *p1_again = NULL, *p3 = NULL;
    pmx_error err;
    char *out = (char *)&err;
    char *json;
    json_t *resp;
    pmx_status st;
    if (!r)
        return;

    st = pmx_router_complete(&out, r, USER("anyone") "}", &err);
    CHECK_STATUS(st, PMX_ERR_NO_PROVIDER, &err);
    CHECK(out == NULL);

    json = provider_json("dyn1", "dyn1", "");
    st = pmx_provider_new(&p1, json, &err);
    free(json);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_add_provider(r, p1, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_provider_free(p1); /* the router keeps its own reference */

    out = NULL;
    st = pmx_router_complete(&out, r, USER("one") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "provider"), "dyn1");
    json_decref(resp);
    pmx_string_free(out);

    json = provider_json("dyn1", "elsewhere", "");
    st = pmx_provider_new(&p1_again, json, &err);
    free(json);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_add_provider(r, p1_again, &err);
    CHECK_STATUS(st, PMX_ERR_DUPLICATE_PROVIDER, &err);
    CHECK_CONTAINS(err.message, "dyn1");
    pmx_provider_free(p1_again);

    json = provider_json("dyn2", "dyn2", "");
    st = pmx_provider_new(&p2, json, &err);
    free(json);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_add_provider(r, p2, &err);
    CHECK_STATUS(st, PMX_OK, &err);

    /* dyn2 comes after dyn1 in the routing order; "route" picks it explicitly. */
    out = NULL;
    st = pmx_router_complete(&out, r, USER("two") ",\"model\":\"fake-small\",\"route\":{\"providers\":[\"dyn2\"]}}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "provider"), "dyn2");
    json_decref(resp);
    pmx_string_free(out);
    out = NULL;
    st = pmx_router_complete(&out, r, USER("first in order") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "provider"), "dyn1");
    json_decref(resp);
    pmx_string_free(out);

    st = pmx_router_remove_provider(r, "dyn1", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    out = NULL;
    st = pmx_router_complete(&out, r, USER("three") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "provider"), "dyn2");
    json_decref(resp);
    pmx_string_free(out);

    st = pmx_router_remove_provider(r, "dyn1", &err);
    CHECK_STATUS(st, PMX_ERR_PROVIDER_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "dyn1");
    out = (char *)&err;
    st = pmx_router_complete(&out, r, USER("x") ",\"route\":{\"providers\":[\"dyn1\"]}}", &err);
    CHECK_STATUS(st, PMX_ERR_PROVIDER_NOT_FOUND, &err);

    CHECK_INT(upstream_count("dyn1"), 2);
    CHECK_INT(upstream_count("dyn2"), 2);
    CHECK_INT(upstream_count("elsewhere"), 0);

    /* The same provider object can be added again after removal. */
    st = pmx_router_remove_provider(r, "dyn2", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    out = (char *)&err;
    st = pmx_router_complete(&out, r, USER("nobody") "}", &err);
    CHECK_STATUS(st, PMX_ERR_NO_PROVIDER, &err);
    st = pmx_router_add_provider(r, p2, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_provider_free(p2);

    /* Removing a provider while a stream runs on it: that stream finishes normally. */
    json = provider_json("dyn3", "dyn3", "");
    st = pmx_provider_new(&p3, json, &err);
    free(json);
    CHECK_STATUS(st, PMX_OK, &err);
    st = pmx_router_add_provider(r, p3, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_provider_free(p3);
    CHECK_INT(tu_upstream_script(&up, "dyn3", "[{\"chunk_delay_ms\":60}]"), 200);
    {
        static async_collector a;
        pmx_stream *s = NULL;
        double deadline;
        memset(&a.c, 0, sizeof a.c);
        pthread_mutex_init(&a.lock, NULL);
        st = pmx_router_stream_async(&s, r,
                                     USER("slow words keep coming one by one") ",\"model\":\"dyn3/fake-small\"}",
                                     collect_async, &a, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        deadline = tu_now_ms() + 10000.0;
        for (;;) {
            int deltas;
            pthread_mutex_lock(&a.lock);
            deltas = a.c.deltas + a.c.terminals;
            pthread_mutex_unlock(&a.lock);
            if (deltas > 0 || tu_now_ms() > deadline)
                break;
            tu_sleep_ms(5);
        }
        st = pmx_router_remove_provider(r, "dyn3", &err);
        CHECK_STATUS(st, PMX_OK, &err);
        deadline = tu_now_ms() + 15000.0;
        for (;;) {
            int done;
            pthread_mutex_lock(&a.lock);
            done = a.c.terminals;
            pthread_mutex_unlock(&a.lock);
            if (done || tu_now_ms() > deadline)
                break;
            tu_sleep_ms(10);
        }
        pthread_mutex_lock(&a.lock);
        CHECK_INT(a.c.terminals, 1);
        CHECK_MSG(a.c.done_response != NULL, "stream on a removed provider failed: %s",
                  a.c.error_event ? tu_jstr(a.c.error_event, "message") : "(no terminal)");
        CHECK_STR(a.c.content, "echo: slow words keep coming one by one");
        pthread_mutex_unlock(&a.lock);
        pmx_stream_free(s);
        pmx_router_free(r);
        pthread_mutex_lock(&a.lock);
        collector_clear(&a.c);
        pthread_mutex_unlock(&a.lock);
        pthread_mutex_destroy(&a.lock);
    }
}

/* ------------------------------------------------------------------------------------------ */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_key_hits = 0;
static int log_lines = 0;

static void capture_log(int32_t level, const char *message, size_t len, void *userdata)
{
    (void)level;
    (void)len;
    (void)userdata;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (message && strstr(message, KEY))
        log_key_hits++;
    pthread_mutex_unlock(&log_lock);
}

static void test_api_key(void)
{
    pmx_router *r;
    pmx_error err;
    char *out = NULL;
    json_t *log;
    pmx_status st;
    collector c;
    size_t i, n;

    pmx_set_log_callback(capture_log, PMX_LOG_TRACE, NULL);
    r = router_with("\"retry\":{\"max_attempts\":1}",
                    provider_json("keyed", "auth", ",\"headers\":{\"X-Team\":\"search\"}"),
                    tu_format("{\"name\":\"keyless\",\"type\":\"openai-compatible\","
                              "\"base_url\":\"http://127.0.0.1:%d/noauth/v1\"}", up.port),
                    NULL);
    if (!r) {
        pmx_set_log_callback(NULL, 0, NULL);
        return;
    }

    st = pmx_router_complete(&out, r, USER("authorize me") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_NOT_CONTAINS(out, KEY);
    pmx_string_free(out);

    memset(&c, 0, sizeof c);
    out = NULL;
    st = pmx_router_stream(&out, r, USER("stream auth") ",\"model\":\"fake-small\"}", collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_NOT_CONTAINS(out, KEY);
    collector_clear(&c);
    pmx_string_free(out);

    /* The upstream saw the key as a bearer token, plus the configured extra header. */
    log = upstream_log("auth");
    n = tu_jlen(log, "requests");
    CHECK_INT(n, 2);
    for (i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "requests.%zu.headers.authorization", i);
        CHECK_STR(tu_jstr(log, path), "Bearer " KEY);
        snprintf(path, sizeof path, "requests.%zu.headers.x-team", i);
        CHECK_STR(tu_jstr(log, path), "search");
    }
    json_decref(log);

    /* No key configured: no Authorization header at all. */
    out = NULL;
    st = pmx_router_complete(&out, r, USER("no key") ",\"model\":\"keyless/fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    log = upstream_log("noauth");
    CHECK_INT(tu_jlen(log, "requests"), 1);
    CHECK(tu_jget(log, "requests.0.headers.authorization") == NULL);
    json_decref(log);

    /* Rejected credentials: PMX_ERR_AUTH, the key in no message. */
    CHECK_INT(tu_upstream_script(&up, "auth", "[{\"status\":401,\"message\":\"bad key\"}]"), 200);
    out = (char *)&err;
    st = pmx_router_complete(&out, r,
                             USER("denied") ",\"model\":\"fake-small\",\"route\":{\"providers\":[\"keyed\"]}}",
                             &err);
    CHECK_STATUS(st, PMX_ERR_AUTH, &err);
    CHECK_INT(err.http_status, 401);
    CHECK_NOT_CONTAINS(err.message, KEY);
    CHECK(out == NULL);

    CHECK_INT(tu_upstream_script(&up, "auth", "[{\"status\":403}]"), 200);
    memset(&c, 0, sizeof c);
    st = pmx_router_stream(NULL, r,
                           USER("denied stream") ",\"model\":\"fake-small\",\"route\":{\"providers\":[\"keyed\"]}}",
                           collect, &c, &err);
    CHECK_STATUS(st, PMX_ERR_PERMISSION, &err);
    CHECK_NOT_CONTAINS(err.message, KEY);
    CHECK(c.error_event != NULL);
    if (c.error_event) {
        char *text = json_dumps(c.error_event, 0);
        CHECK_NOT_CONTAINS(text, KEY);
        free(text);
    }
    collector_clear(&c);

    /* Everything else the router hands out. */
    out = NULL;
    st = pmx_router_stats(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_NOT_CONTAINS(out, KEY);
    pmx_string_free(out);
    out = NULL;
    st = pmx_router_models(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_CONTAINS(out, "keyed/fake-small");
    CHECK_NOT_CONTAINS(out, KEY);
    pmx_string_free(out);
    out = NULL;
    st = pmx_router_health(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_NOT_CONTAINS(out, KEY);
    pmx_string_free(out);
    out = NULL;
    st = pmx_router_embed(&out, r, "{\"model\":\"keyed/fake-embed\",\"input\":\"vector\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_NOT_CONTAINS(out, KEY);
    {
        json_t *j = tu_json(out);
        CHECK_INT(tu_jlen(j, "data.0.embedding"), 8);
        CHECK_STR(tu_jstr(j, "provider"), "keyed");
        json_decref(j);
    }
    pmx_string_free(out);
    pmx_router_free(r);

    pmx_set_log_callback(NULL, 0, NULL);
    pthread_mutex_lock(&log_lock);
    CHECK_MSG(log_key_hits == 0, "%d of %d log lines contain the API key", log_key_hits, log_lines);
    pthread_mutex_unlock(&log_lock);
}

static void test_timeouts(void)
{
    pmx_router *r = router_with("\"retry\":{\"max_attempts\":1}",
                                provider_json("sleepy", "hang", ",\"timeouts\":{\"first_byte_ms\":300,\"idle_ms\":300}"),
                                NULL);
    pmx_error err;
    char *out = (char *)&err;
    pmx_status st;
    double t0;
    collector c;
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "hang", "[{\"hang\":true}]"), 200);
    t0 = tu_now_ms();
    st = pmx_router_complete(&out, r, USER("hello?") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_ERR_TIMEOUT, &err);
    CHECK(out == NULL);
    CHECK_MSG(tu_now_ms() - t0 < 3000.0, "first_byte_ms 300 took %.0f ms", tu_now_ms() - t0);

    /* Idle timeout in the middle of a stream. */
    CHECK_INT(tu_upstream_script(&up, "hang", "[{\"chunk_delay_ms\":2000}]"), 200);
    memset(&c, 0, sizeof c);
    t0 = tu_now_ms();
    st = pmx_router_stream(NULL, r, USER("slow stream") ",\"model\":\"fake-small\"}", collect, &c, &err);
    CHECK_MSG(st == PMX_ERR_TIMEOUT || st == PMX_ERR_STREAM_INTERRUPTED,
              "idle stream ended with %s (%s)", pmx_status_name(st), err.message);
    CHECK_INT(c.terminals, 1);
    CHECK_MSG(tu_now_ms() - t0 < 3000.0, "idle_ms 300 took %.0f ms", tu_now_ms() - t0);
    collector_clear(&c);
    pmx_router_free(r);
}

int main(void)
{
    tu_watchdog(270);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    printf("fake upstream on port %d\n", up.port);
    RUN(test_complete);
    RUN(test_stream);
    RUN(test_retry_on_429);
    RUN(test_failover);
    RUN(test_all_fail);
    RUN(test_bad_request_no_failover);
    RUN(test_runtime_providers);
    RUN(test_api_key);
    RUN(test_timeouts);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
