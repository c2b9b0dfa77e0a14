/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_mock.c — a router with the built-in mock provider: complete, blocking streams (events on
 * the calling thread, exactly one terminal event, deltas == final content), cancellation by
 * callback return value, request validation and model routing.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

#define MOCK_CONFIG                                                                           \
    "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}],"                                    \
    "\"retry\":{\"max_attempts\":3,\"initial_backoff_ms\":10,\"max_backoff_ms\":50}}"

/* Collects the events of one stream. */
typedef struct {
    pthread_t expected_thread;
    int events;
    int wrong_thread;
    int starts;
    int deltas;
    int retries;
    int fallbacks;
    int usages;
    int terminals;
    int after_terminal;
    int bad_json;
    int bad_len;
    int stop_after_deltas; /* return non-zero from the callback at this delta (0 = never) */
    char first_type[16];
    char last_type[16];
    char content[4096];
    json_t *done_response;  /* "response" of the done event */
    json_t *error_event;    /* the whole error event */
    json_t *start_event;
} collector;

static void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    c->expected_thread = pthread_self();
}

static void collector_clear(collector *c)
{
    json_decref(c->done_response);
    json_decref(c->error_event);
    json_decref(c->start_event);
    memset(c, 0, sizeof *c);
}

static int32_t collect(const char *event_json, size_t len, void *userdata)
{
    collector *c = (collector *)userdata;
    json_t *ev;
    const char *type;

    c->events++;
    if (!pthread_equal(pthread_self(), c->expected_thread))
        c->wrong_thread++;
    if (event_json == NULL || strlen(event_json) != len)
        c->bad_len++;
    if (c->terminals > 0)
        c->after_terminal++;
    ev = tu_json(event_json);
    if (!ev) {
        c->bad_json++;
        return 0;
    }
    type = json_string_value(json_object_get(ev, "type"));
    if (!type)
        type = "?";
    if (c->events == 1)
        snprintf(c->first_type, sizeof c->first_type, "%s", type);
    snprintf(c->last_type, sizeof c->last_type, "%s", type);
    if (strcmp(type, "start") == 0) {
        c->starts++;
        if (!c->start_event)
            c->start_event = json_incref(ev);
    } else if (strcmp(type, "delta") == 0) {
        const char *content = json_string_value(json_object_get(ev, "content"));
        c->deltas++;
        if (content)
            strncat(c->content, content, sizeof c->content - strlen(c->content) - 1);
        if (c->stop_after_deltas > 0 && c->deltas >= c->stop_after_deltas) {
            json_decref(ev);
            return 1;
        }
    } else if (strcmp(type, "retry") == 0) {
        c->retries++;
    } else if (strcmp(type, "fallback") == 0) {
        c->fallbacks++;
    } else if (strcmp(type, "usage") == 0) {
        c->usages++;
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

/* ------------------------------------------------------------------------------------------ */

static void test_complete(void)
{
    pmx_router *r = tu_router_new(MOCK_CONFIG);
    pmx_error err;
    char *out = NULL;
    json_t *resp;
    pmx_status st;

    if (!r)
        return;
    tu_err_poison(&err);
    st = pmx_router_complete(&out, r,
                             "{\"model\":\"anything\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
                             "{\"role\":\"user\",\"content\":\"hello \\\"world\\\" \\u00e9\"}]}",
                             &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(err.code, PMX_OK);
    CHECK(out != NULL);
    resp = tu_json(out);
    CHECK(resp != NULL);
    if (resp) {
        CHECK_STR(tu_jstr(resp, "object"), "chat.completion");
        CHECK(tu_jstr(resp, "id") != NULL);
        CHECK_STR(tu_jstr(resp, "provider"), "m");
        CHECK_STR(tu_jstr(resp, "choices.0.message.role"), "assistant");
        CHECK_STR(tu_jstr(resp, "choices.0.message.content"), "mock: hello \"world\" \xc3\xa9");
        CHECK(tu_jstr(resp, "choices.0.finish_reason") != NULL);
        CHECK_INT(tu_jlen(resp, "attempts"), 1);
        CHECK_STR(tu_jstr(resp, "attempts.0.provider"), "m");
        CHECK_STR(tu_jstr(resp, "attempts.0.outcome"), "ok");
        CHECK(tu_jint(resp, "latency_ms", -1) >= 0);
        CHECK(tu_jint(resp, "usage.prompt_tokens", -1) > 0);
        CHECK(tu_jint(resp, "usage.completion_tokens", -1) > 0);
        CHECK_INT(tu_jint(resp, "usage.total_tokens", -1),
                  tu_jint(resp, "usage.prompt_tokens", -1) + tu_jint(resp, "usage.completion_tokens", -1));
    }
    json_decref(resp);
    pmx_string_free(out);

    /* Fixed reply, "provider/model" addressing. */
    pmx_router_free(r);
    r = tu_router_new("{\"providers\":[{\"name\":\"fixed\",\"type\":\"mock\",\"reply\":\"forty-two\"}]}");
    if (!r)
        return;
    out = NULL;
    st = pmx_router_complete(&out, r,
                             "{\"model\":\"fixed/some-model\",\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}",
                             &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    CHECK_STR(tu_jstr(resp, "choices.0.message.content"), "forty-two");
    CHECK_STR(tu_jstr(resp, "provider"), "fixed");
    json_decref(resp);
    pmx_string_free(out);
    pmx_router_free(r);
}

static void test_blocking_stream(void)
{
    pmx_router *r = tu_router_new(MOCK_CONFIG);
    pmx_error err;
    collector c;
    char *out = NULL;
    pmx_status st;
    json_t *out_json;

    if (!r)
        return;
    collector_init(&c);
    tu_err_poison(&err);
    st = pmx_router_stream(&out, r,
                           "{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"tell me a story about streams\"}]}",
                           collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(err.code, PMX_OK);
    CHECK_INT(c.wrong_thread, 0);
    CHECK_INT(c.terminals, 1);
    CHECK_INT(c.after_terminal, 0);
    CHECK_INT(c.bad_json, 0);
    CHECK_INT(c.bad_len, 0);
    CHECK_STR(c.first_type, "start");
    CHECK_STR(c.last_type, "done");
    CHECK_INT(c.starts, 1);
    CHECK(c.deltas >= 2);
    CHECK_STR(tu_jstr(c.start_event, "provider"), "m");
    CHECK_INT(tu_jint(c.start_event, "attempt", -1), 1);
    CHECK_STR(c.content, "mock: tell me a story about streams");
    CHECK(c.done_response != NULL);
    CHECK_STR(tu_jstr(c.done_response, "choices.0.message.content"), c.content);
    CHECK_STR(tu_jstr(c.done_response, "provider"), "m");
    CHECK(tu_jint(c.done_response, "ttft_ms", -1) >= 0);
    CHECK(tu_jint(c.done_response, "usage.total_tokens", -1) > 0);
    /* `out` carries the same response as the done event. */
    out_json = tu_json(out);
    CHECK(out_json != NULL);
    CHECK_MSG(out_json && c.done_response && json_equal(out_json, c.done_response),
              "stream out differs from the done event's response");
    json_decref(out_json);
    pmx_string_free(out);
    collector_clear(&c);

    /* out == NULL is allowed. */
    collector_init(&c);
    st = pmx_router_stream(NULL, r, "{\"messages\":[{\"role\":\"user\",\"content\":\"again\"}]}",
                           collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(c.terminals, 1);
    CHECK_STR(c.content, "mock: again");
    collector_clear(&c);

    /* Blocking streams from another thread are delivered on that thread. */
    pmx_router_free(r);
}

typedef struct {
    pmx_router *router;
    pmx_status status;
    collector c;
} thread_stream_arg;

static void *stream_on_thread(void *p)
{
    thread_stream_arg *a = (thread_stream_arg *)p;
    pmx_error err;
    collector_init(&a->c);
    a->status = pmx_router_stream(NULL, a->router,
                                  "{\"messages\":[{\"role\":\"user\",\"content\":\"from a thread\"}]}",
                                  collect, &a->c, &err);
    return NULL;
}

static void test_stream_on_other_threads(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":2}]}");
    thread_stream_arg args[3];
    pthread_t th[3];
    int i;
    if (!r)
        return;
    for (i = 0; i < 3; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].router = r;
        pthread_create(&th[i], NULL, stream_on_thread, &args[i]);
    }
    for (i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_STATUS(args[i].status, PMX_OK, NULL);
        CHECK_INT(args[i].c.wrong_thread, 0);
        CHECK_INT(args[i].c.terminals, 1);
        CHECK_STR(args[i].c.content, "mock: from a thread");
        collector_clear(&args[i].c);
    }
    pmx_router_free(r);
}

static void test_callback_cancels(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":5}]}");
    pmx_error err;
    collector c;
    char *out = (char *)&err;
    pmx_status st;
    if (!r)
        return;
    collector_init(&c);
    c.stop_after_deltas = 2;
    tu_err_poison(&err);
    st = pmx_router_stream(&out, r,
                           "{\"messages\":[{\"role\":\"user\",\"content\":\"one two three four five six seven eight\"}]}",
                           collect, &c, &err);
    CHECK_STATUS(st, PMX_ERR_CANCELLED, &err);
    CHECK_INT(err.code, PMX_ERR_CANCELLED);
    CHECK(out == NULL);
    CHECK_INT(c.deltas, 2); /* no delta after the callback asked to stop */
    CHECK_INT(c.terminals, 1);
    CHECK_INT(c.after_terminal, 0);
    CHECK_STR(c.last_type, "error");
    CHECK_INT(tu_jint(c.error_event, "code", 0), PMX_ERR_CANCELLED);
    CHECK_STR(tu_jstr(c.error_event, "status_name"), "PMX_ERR_CANCELLED");
    collector_clear(&c);

    /* Returning non-zero on the very first delta. */
    {
        collector c2;
        collector_init(&c2);
        c2.stop_after_deltas = 1;
        st = pmx_router_stream(NULL, r, "{\"messages\":[{\"role\":\"user\",\"content\":\"x y z\"}]}",
                               collect, &c2, &err);
        CHECK_STATUS(st, PMX_ERR_CANCELLED, &err);
        CHECK_INT(c2.terminals, 1);
        collector_clear(&c2);
    }

    /* The router is still usable afterwards. */
    out = NULL;
    st = pmx_router_complete(&out, r, "{\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    pmx_router_free(r);
}

static void test_invalid_requests(void)
{
    static const char *const bad[] = {
        "{\"messages\":[]}",
        "{}",
        "{\"messages\":\"hello\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":42}",
        "{\"messages\":[42]}",
        "[]",
    };
    pmx_router *r = tu_router_new(MOCK_CONFIG);
    pmx_error err;
    size_t i;
    if (!r)
        return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)&err;
        collector c;
        pmx_stream *s = (pmx_stream *)&err;
        pmx_status st;

        tu_err_poison(&err);
        st = pmx_router_complete(&out, r, bad[i], &err);
        CHECK_MSG(st == PMX_ERR_INVALID_REQUEST, "complete(%s): got %s (%s)", bad[i],
                  pmx_status_name(st), err.message);
        CHECK_INT(err.code, PMX_ERR_INVALID_REQUEST);
        CHECK_INT(err.attempts, 0);
        CHECK(out == NULL);
        if (st == PMX_OK)
            pmx_string_free(out);

        collector_init(&c);
        st = pmx_router_stream(NULL, r, bad[i], collect, &c, &err);
        CHECK_MSG(st == PMX_ERR_INVALID_REQUEST, "stream(%s): got %s", bad[i], pmx_status_name(st));
        CHECK_MSG(c.events == 0, "stream(%s): %d events for a rejected request", bad[i], c.events);
        collector_clear(&c);

        collector_init(&c);
        st = pmx_router_stream_async(&s, r, bad[i], collect, &c, &err);
        CHECK_MSG(st == PMX_ERR_INVALID_REQUEST, "stream_async(%s): got %s", bad[i], pmx_status_name(st));
        CHECK(s == NULL);
        if (st == PMX_OK) {
            pmx_stream_free(s); /* cancels; avoid leaving it running */
            tu_sleep_ms(100);
        }
        CHECK_MSG(c.events == 0, "stream_async(%s): %d events for a rejected request", bad[i], c.events);
        collector_clear(&c);
    }
    pmx_router_free(r);
}

static void test_model_routing(void)
{
    pmx_router *r = tu_router_new("{\"providers\":["
                               "{\"name\":\"ab\",\"type\":\"mock\",\"models\":[\"a\",\"b\"],\"reply\":\"from ab\"},"
                               "{\"name\":\"cd\",\"type\":\"mock\",\"models\":[\"c\",\"d\"],\"reply\":\"from cd\"}]}");
    pmx_error err;
    char *out = (char *)&err;
    pmx_status st;
    json_t *j;
    if (!r)
        return;

    /* Unknown model: nobody lists it and no provider takes any model. */
    tu_err_poison(&err);
    st = pmx_router_complete(&out, r, "{\"model\":\"zzz\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err);
    CHECK_STATUS(st, PMX_ERR_NO_PROVIDER, &err);
    CHECK(out == NULL);
    CHECK_CONTAINS(err.message, "zzz");
    {
        collector c;
        collector_init(&c);
        st = pmx_router_stream(NULL, r, "{\"model\":\"zzz\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                               collect, &c, &err);
        CHECK_STATUS(st, PMX_ERR_NO_PROVIDER, &err);
        CHECK_INT(c.events, 0);
        collector_clear(&c);
    }

    /* A listed model goes to the provider that lists it. */
    out = NULL;
    st = pmx_router_complete(&out, r, "{\"model\":\"d\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    j = tu_json(out);
    CHECK_STR(tu_jstr(j, "provider"), "cd");
    CHECK_STR(tu_jstr(j, "choices.0.message.content"), "from cd");
    json_decref(j);
    pmx_string_free(out);

    /* "org/model" where "org" is no provider is a bare model name (as in Hugging Face ids):
     * nobody serves it. */
    out = (char *)&err;
    st = pmx_router_complete(&out, r, "{\"model\":\"nope/a\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", &err);
    CHECK_STATUS(st, PMX_ERR_NO_PROVIDER, &err);
    CHECK_CONTAINS(err.message, "nope/a");
    CHECK(out == NULL);
    /* An unknown provider in "route". */
    st = pmx_router_complete(&out, r,
                             "{\"model\":\"a\",\"route\":{\"providers\":[\"nope\"]},"
                             "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
                             &err);
    CHECK_STATUS(st, PMX_ERR_PROVIDER_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "nope");

    /* Models list answers from the configured lists. */
    out = NULL;
    st = pmx_router_models(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_CONTAINS(out, "\"ab/a\"");
    CHECK_CONTAINS(out, "\"ab/b\"");
    CHECK_CONTAINS(out, "\"cd/c\"");
    CHECK_CONTAINS(out, "\"cd/d\"");
    j = tu_json(out);
    CHECK_INT(tu_jlen(j, "data"), 4);
    json_decref(j);
    pmx_string_free(out);
    pmx_router_free(r);
}

static void test_mock_script_retry(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"flaky\",\"type\":\"mock\","
                               "\"script\":[{\"status\":429,\"times\":2,\"retry_after_ms\":5}]}],"
                               "\"retry\":{\"max_attempts\":3,\"initial_backoff_ms\":5}}");
    pmx_error err;
    collector c;
    pmx_status st;
    if (!r)
        return;
    collector_init(&c);
    st = pmx_router_stream(NULL, r, "{\"messages\":[{\"role\":\"user\",\"content\":\"retry me\"}]}",
                           collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(c.retries, 2);
    CHECK_INT(c.terminals, 1);
    CHECK_STR(c.content, "mock: retry me");
    CHECK_INT(tu_jlen(c.done_response, "attempts"), 3);
    CHECK_INT(tu_jint(c.done_response, "attempts.0.http_status", 0), 429);
    CHECK_INT(tu_jint(c.done_response, "attempts.0.code", 0), PMX_ERR_RATE_LIMITED);
    CHECK_STR(tu_jstr(c.done_response, "attempts.2.outcome"), "ok");
    collector_clear(&c);
    pmx_router_free(r);
}

static void test_embed_and_stats(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"embedding_dimensions\":5}]}");
    pmx_error err;
    char *out = NULL;
    pmx_status st;
    json_t *j;
    if (!r)
        return;
    st = pmx_router_embed(&out, r, "{\"model\":\"e\",\"input\":[\"alpha\",\"beta\"]}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    j = tu_json(out);
    CHECK_STR(tu_jstr(j, "object"), "list");
    CHECK_INT(tu_jlen(j, "data"), 2);
    CHECK_INT(tu_jlen(j, "data.0.embedding"), 5);
    CHECK_INT(tu_jint(j, "data.1.index", -1), 1);
    CHECK_STR(tu_jstr(j, "provider"), "m");
    json_decref(j);
    pmx_string_free(out);

    out = NULL;
    st = pmx_router_complete(&out, r, "{\"messages\":[{\"role\":\"user\",\"content\":\"count me\"}]}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);

    out = NULL;
    st = pmx_router_stats(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    j = tu_json(out);
    CHECK(tu_jint(j, "requests", -1) >= 1);
    CHECK(tu_jint(j, "successes", -1) >= 1);
    CHECK_INT(tu_jint(j, "failures", -1), 0);
    CHECK_STR(tu_jstr(j, "providers.0.name"), "m");
    CHECK(tu_jint(j, "providers.0.completion_tokens", -1) > 0);
    json_decref(j);
    pmx_string_free(out);

    out = NULL;
    st = pmx_router_health(&out, r, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    j = tu_json(out);
    CHECK_STR(tu_jstr(j, "providers.0.name"), "m");
    CHECK(json_is_true(tu_jget(j, "providers.0.healthy")));
    json_decref(j);
    pmx_string_free(out);
    pmx_router_free(r);
}

int main(void)
{
    tu_watchdog(240);
    RUN(test_complete);
    RUN(test_blocking_stream);
    RUN(test_stream_on_other_threads);
    RUN(test_callback_cancels);
    RUN(test_invalid_requests);
    RUN(test_model_routing);
    RUN(test_mock_script_retry);
    RUN(test_embed_and_stats);
    return TEST_DONE();
}
