/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_observer.c — pmx_router_set_observer and request ids against the fake upstream
 * (real libcurl over loopback): one record per request, handed over before the blocking call
 * returns; a success, a retried-then-failed-over request with its attempts and outcomes, a
 * failure, a stream (ttft_ms), a cache hit, a caller-given request id, the id in log lines and
 * in the response / done / error events, clearing, and no API key anywhere in a record.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

#define KEY "sk-observer-SECRET-4b1d9e70"
#define USER(text) "{\"messages\":[{\"role\":\"user\",\"content\":\"" text "\"}]"

static tu_upstream up;

/* Records the observer received (copies), in order. */
typedef struct {
    pthread_mutex_t lock;
    int count;
    char *records[16];
} record_box;

static void observe(const char *record_json, size_t len, void *userdata)
{
    record_box *b = (record_box *)userdata;
    pthread_mutex_lock(&b->lock);
    if (b->count < 16) {
        b->records[b->count] = malloc(len + 1);
        memcpy(b->records[b->count], record_json, len + 1);
    }
    b->count++;
    pthread_mutex_unlock(&b->lock);
}

static void box_init(record_box *b)
{
    memset(b, 0, sizeof *b);
    pthread_mutex_init(&b->lock, NULL);
}

static void box_clear(record_box *b)
{
    int i;
    for (i = 0; i < b->count && i < 16; i++)
        free(b->records[i]);
    pthread_mutex_destroy(&b->lock);
}

/* The last record received, parsed (NULL when none). */
static json_t *last_record(record_box *b)
{
    json_t *j = NULL;
    pthread_mutex_lock(&b->lock);
    if (b->count > 0 && b->count <= 16) {
        CHECK_NOT_CONTAINS(b->records[b->count - 1], KEY);
        CHECK_NOT_CONTAINS(b->records[b->count - 1], "SECRET");
        j = tu_json(b->records[b->count - 1]);
    }
    pthread_mutex_unlock(&b->lock);
    return j;
}

static char *provider_json(const char *name, const char *scope)
{
    return tu_format("{\"name\":\"%s\",\"type\":\"openai-compatible\","
                     "\"base_url\":\"http://127.0.0.1:%d/%s/v1\",\"api_key\":\"" KEY "\"}",
                     name, up.port, scope);
}

static pmx_router *router_two(const char *scope_a, const char *scope_b, const char *extra)
{
    char *a = provider_json("prov-a", scope_a), *b = provider_json("prov-b", scope_b);
    char *json = tu_format("{\"providers\":[%s,%s],\"retry\":{\"max_attempts\":2,\"initial_backoff_ms\":10,"
                           "\"max_backoff_ms\":20,\"jitter\":0}%s}", a, b, extra);
    pmx_router *r = tu_router_new(json);
    free(a);
    free(b);
    free(json);
    return r;
}

/* Every test's setup: a router over two providers with the observer collecting into `box`
 * (NULL, box untouched, when the router could not be made). */
static pmx_router *observed_router(record_box *box, const char *scope_a, const char *scope_b, const char *extra)
{
    pmx_error err;
    pmx_router *r = router_two(scope_a, scope_b, extra);
    if (!r)
        return NULL;
    box_init(box);
    CHECK_STATUS(pmx_router_set_observer(r, observe, box, &err), PMX_OK, &err);
    return r;
}

/* Every test's teardown. */
static void observed_free(pmx_router *r, record_box *box)
{
    pmx_router_free(r);
    box_clear(box);
}

/* A success: every field of the record, handed over before pmx_router_complete returned. */
static void test_success(void)
{
    record_box box;
    pmx_router *r = observed_router(&box, "oka", "okb", "");
    pmx_error err;
    char *out = NULL;
    json_t *rec, *resp;
    pmx_status st;
    if (!r)
        return;
    st = pmx_router_complete(&out, r, USER("observed") ",\"model\":\"fake-small\","
                             "\"metadata\":{\"user\":\"u-1\",\"tags\":\"blue\"}}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(box.count, 1); /* before the call returned */
    rec = last_record(&box);
    resp = tu_json(out);
    if (rec && resp) {
        CHECK(tu_jstr(resp, "request_id") != NULL);
        CHECK_STR(tu_jstr(rec, "request_id"), tu_jstr(resp, "request_id"));
        CHECK_STR(tu_jstr(rec, "operation"), "chat.completions.create");
        CHECK(json_is_false(tu_jget(rec, "stream")));
        CHECK_STR(tu_jstr(rec, "metadata.user"), "u-1");
        CHECK_STR(tu_jstr(rec, "model_requested"), "fake-small");
        CHECK_STR(tu_jstr(rec, "provider"), "prov-a");
        CHECK_STR(tu_jstr(rec, "model"), tu_jstr(resp, "model"));
        CHECK_INT(tu_jlen(rec, "attempts"), 1);
        CHECK_STR(tu_jstr(rec, "attempts.0.outcome"), "ok");
        CHECK(json_is_number(tu_jget(rec, "attempts.0.latency_ms")));
        CHECK(json_is_number(tu_jget(rec, "latency_ms")));
        CHECK(json_is_null(tu_jget(rec, "ttft_ms")));
        CHECK_INT(tu_jint(rec, "usage.prompt_tokens", -1), tu_jint(resp, "usage.prompt_tokens", -2));
        CHECK_INT(tu_jint(rec, "usage.completion_tokens", -1), tu_jint(resp, "usage.completion_tokens", -2));
        CHECK(tu_jint(rec, "usage.total_tokens", 0) > 0);
        CHECK(json_is_null(tu_jget(rec, "lane")));
        CHECK(json_is_false(tu_jget(rec, "cache_hit")));
        CHECK_STR(tu_jstr(rec, "status"), "ok");
        CHECK_INT(tu_jint(rec, "code", -1), 0);
        CHECK_STR(tu_jstr(rec, "status_name"), "PMX_OK");
        CHECK(json_is_null(tu_jget(rec, "message")));
        CHECK(json_real_value(tu_jget(rec, "ended_at")) >= json_real_value(tu_jget(rec, "started_at")));
        CHECK(json_real_value(tu_jget(rec, "started_at")) > 1.7e9);
    }
    json_decref(rec);
    json_decref(resp);
    pmx_string_free(out);

    /* Cleared: no record for the next request. */
    CHECK_STATUS(pmx_router_set_observer(r, NULL, NULL, &err), PMX_OK, &err);
    st = pmx_router_complete(&out, r, USER("unobserved") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    CHECK_INT(box.count, 1);
    CHECK_STATUS(pmx_router_set_observer(NULL, observe, &box, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    observed_free(r, &box);
}

/* The id in log lines: every line about one request starts with "[req <id>] ". */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];

static void on_log(int32_t level, const char *message, size_t len, void *userdata)
{
    (void)level;
    (void)len;
    (void)userdata;
    pthread_mutex_lock(&log_lock);
    strncat(log_text, message, sizeof log_text - strlen(log_text) - 2);
    strcat(log_text, "\n");
    pthread_mutex_unlock(&log_lock);
}

/* Retried on a 429, then failed over: every attempt with its outcome; the log lines carry the id. */
static void test_retried_then_failed_over(void)
{
    record_box box;
    pmx_router *r = observed_router(&box, "rfa", "rfb", "");
    pmx_error err;
    char *out = NULL, *want = NULL;
    json_t *rec;
    pmx_status st;
    if (!r)
        return;
    log_text[0] = 0;
    pmx_set_log_callback(on_log, PMX_LOG_INFO, NULL);
    CHECK_INT(tu_upstream_script(&up, "rfa", "[{\"status\":429,\"times\":100}]"), 200);
    st = pmx_router_complete(&out, r, USER("retry then fail over") ",\"model\":\"fake-small\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_set_log_callback(NULL, PMX_LOG_ERROR, NULL);
    CHECK_INT(box.count, 1);
    rec = last_record(&box);
    if (rec) {
        CHECK_STR(tu_jstr(rec, "provider"), "prov-b");
        CHECK_INT(tu_jlen(rec, "attempts"), 3);
        CHECK_STR(tu_jstr(rec, "attempts.0.provider"), "prov-a");
        CHECK_STR(tu_jstr(rec, "attempts.0.outcome"), "error");
        CHECK_INT(tu_jint(rec, "attempts.0.http_status", 0), 429);
        CHECK_STR(tu_jstr(rec, "attempts.0.status_name"), "PMX_ERR_RATE_LIMITED");
        CHECK_STR(tu_jstr(rec, "attempts.1.provider"), "prov-a");
        CHECK_STR(tu_jstr(rec, "attempts.1.outcome"), "error");
        CHECK_STR(tu_jstr(rec, "attempts.2.provider"), "prov-b");
        CHECK_STR(tu_jstr(rec, "attempts.2.outcome"), "ok");
        CHECK_STR(tu_jstr(rec, "status"), "ok");
        want = tu_format("[req %s] prov-a: attempt 1 failed", tu_jstr(rec, "request_id"));
        pthread_mutex_lock(&log_lock);
        CHECK_CONTAINS(log_text, want);
        pthread_mutex_unlock(&log_lock);
        free(want);
        want = tu_format("[req %s] prov-a: PMX_ERR_RATE_LIMITED", tu_jstr(rec, "request_id"));
        pthread_mutex_lock(&log_lock);
        CHECK_CONTAINS(log_text, want);
        CHECK_NOT_CONTAINS(log_text, KEY);
        pthread_mutex_unlock(&log_lock);
        free(want);
    }
    json_decref(rec);
    pmx_string_free(out);
    observed_free(r, &box);
}

/* Every provider fails: status, code, message and every attempt; the caller's own request id. */
static void test_failure(void)
{
    record_box box;
    pmx_router *r = observed_router(&box, "fxa", "fxb", "");
    pmx_error err;
    char *out = NULL;
    json_t *rec;
    pmx_status st;
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "fxa", "[{\"status\":500,\"times\":100}]"), 200);
    CHECK_INT(tu_upstream_script(&up, "fxb", "[{\"status\":500,\"times\":100}]"), 200);
    st = pmx_router_complete(&out, r, USER("doomed") ",\"model\":\"fake-small\","
                             "\"metadata\":{\"request_id\":\"caller-7\"}}", &err);
    CHECK_STATUS(st, PMX_ERR_UPSTREAM_SERVER, &err);
    CHECK_INT(box.count, 1);
    rec = last_record(&box);
    if (rec) {
        CHECK_STR(tu_jstr(rec, "request_id"), "caller-7");
        CHECK_STR(tu_jstr(rec, "status"), "error");
        CHECK_INT(tu_jint(rec, "code", 0), PMX_ERR_UPSTREAM_SERVER);
        CHECK_STR(tu_jstr(rec, "status_name"), "PMX_ERR_UPSTREAM_SERVER");
        CHECK_INT(tu_jint(rec, "http_status", 0), 500);
        CHECK(tu_jstr(rec, "error_class") != NULL && *tu_jstr(rec, "error_class"));
        CHECK_CONTAINS(tu_jstr(rec, "message"), "all 4 attempts");
        CHECK_STR(tu_jstr(rec, "provider"), "prov-b");
        CHECK_INT(tu_jlen(rec, "attempts"), 4);
        CHECK_STR(tu_jstr(rec, "attempts.3.outcome"), "error");
        CHECK(json_is_null(tu_jget(rec, "usage")));
        CHECK(json_is_null(tu_jget(rec, "cost_usd")));
    }
    json_decref(rec);
    observed_free(r, &box);
}

/* Collects a stream's done / error event. */
typedef struct {
    json_t *terminal;
    int deltas;
} stream_seen;

static int32_t on_event(const char *event_json, size_t len, void *userdata)
{
    stream_seen *s = (stream_seen *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    (void)len;
    if (type && strcmp(type, "delta") == 0)
        s->deltas++;
    if (type && (strcmp(type, "done") == 0 || strcmp(type, "error") == 0)) {
        s->terminal = ev;
        return 0;
    }
    json_decref(ev);
    return 0;
}

/* A stream: ttft_ms, stream true, the done event's response carries the record's id; a failed
 * stream's error event carries it too. */
static void test_stream(void)
{
    record_box box;
    pmx_router *r = observed_router(&box, "sa", "sb", "");
    pmx_error err;
    stream_seen seen = {0};
    json_t *rec;
    pmx_status st;
    if (!r)
        return;
    st = pmx_router_stream(NULL, r, USER("stream me please") ",\"model\":\"fake-small\"}", on_event, &seen, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(box.count, 1);
    CHECK(seen.deltas > 0);
    rec = last_record(&box);
    if (rec && seen.terminal) {
        CHECK(json_is_true(tu_jget(rec, "stream")));
        CHECK(json_is_number(tu_jget(rec, "ttft_ms")));
        CHECK(json_number_value(tu_jget(rec, "ttft_ms")) <= json_number_value(tu_jget(rec, "latency_ms")));
        CHECK_STR(tu_jstr(seen.terminal, "type"), "done");
        CHECK_STR(tu_jstr(seen.terminal, "response.request_id"), tu_jstr(rec, "request_id"));
        CHECK_STR(tu_jstr(rec, "status"), "ok");
    }
    json_decref(rec);
    json_decref(seen.terminal);

    memset(&seen, 0, sizeof seen);
    CHECK_INT(tu_upstream_script(&up, "sa", "[{\"status\":400,\"times\":1}]"), 200);
    st = pmx_router_stream(NULL, r, USER("bad stream") ",\"model\":\"fake-small\"}", on_event, &seen, &err);
    CHECK(st != PMX_OK);
    CHECK_INT(box.count, 2);
    rec = last_record(&box);
    if (rec && seen.terminal) {
        CHECK_STR(tu_jstr(seen.terminal, "type"), "error");
        CHECK_STR(tu_jstr(seen.terminal, "request_id"), tu_jstr(rec, "request_id"));
        CHECK_STR(tu_jstr(rec, "status"), "error");
        CHECK_INT(tu_jint(rec, "code", 0), st);
    }
    json_decref(rec);
    json_decref(seen.terminal);
    observed_free(r, &box);
}

/* A response-cache hit: cache_hit true, no attempt, a new request id. */
static void test_cache_hit(void)
{
    record_box box;
    pmx_router *r = observed_router(&box, "ca", "cb", ",\"cache\":{\"enabled\":true}");
    pmx_error err;
    char *out = NULL;
    json_t *first, *second;
    if (!r)
        return;
    CHECK_STATUS(pmx_router_complete(&out, r, USER("cache me") ",\"model\":\"fake-small\"}", &err), PMX_OK, &err);
    pmx_string_free(out);
    first = last_record(&box);
    CHECK_STATUS(pmx_router_complete(&out, r, USER("cache me") ",\"model\":\"fake-small\"}", &err), PMX_OK, &err);
    pmx_string_free(out);
    CHECK_INT(box.count, 2);
    second = last_record(&box);
    if (first && second) {
        CHECK(json_is_false(tu_jget(first, "cache_hit")));
        CHECK(json_is_true(tu_jget(second, "cache_hit")));
        CHECK_INT(tu_jlen(second, "attempts"), 0);
        CHECK_STR(tu_jstr(second, "provider"), "prov-a");
        CHECK(strcmp(tu_jstr(first, "request_id"), tu_jstr(second, "request_id")) != 0);
    }
    json_decref(first);
    json_decref(second);
    observed_free(r, &box);
}

int main(void)
{
    tu_watchdog(270);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    RUN(test_success);
    RUN(test_retried_then_failed_over);
    RUN(test_failure);
    RUN(test_stream);
    RUN(test_cache_hit);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
