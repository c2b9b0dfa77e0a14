/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_abuse.c — every function of include/providermux.h called with abuse: NULL for each
 * pointer parameter in turn, invalid UTF-8 and invalid / wrongly typed JSON in every string
 * parameter, oversized and deeply nested input, callbacks that stop a stream at each event
 * index (blocking and async), out-of-range status codes and *_free(NULL). Each call must return
 * a clear status with a non-empty message naming the problem — never crash or hang.
 *
 * Using a handle after it was freed is undefined behaviour (header): not tested here.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

#define MOCK_CONFIG "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}"
#define HELLO_REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"hello there general\"}]}"
#define MANAGE_REQUEST "{\"action\":\"show\",\"provider\":\"m\",\"model\":\"x\"}"

static int32_t ignore_event(const char *event_json, size_t len, void *userdata)
{
    (void)event_json;
    (void)len;
    (void)userdata;
    return 0;
}

static pmx_router *mock_router(void)
{
    pmx_router *r = NULL;
    pmx_error err;
    pmx_status st = pmx_router_new(&r, MOCK_CONFIG, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    return r;
}

/* Verifies a failed call: status, err->code, *out reset, message non-empty, terminated and
 * (when needle is not NULL) containing needle. */
static void expect_fail(int line, const char *what, pmx_status st, const pmx_error *err,
                        pmx_status expected, const char *needle)
{
    CHECK_MSG(st == expected, "line %d: %s: got %s, expected %s (%s)", line, what,
              pmx_status_name(st), pmx_status_name(expected), err->message);
    CHECK_MSG(err->code == st, "line %d: %s: err.code %d != status %d", line, what,
              (int)err->code, (int)st);
    CHECK_MSG(tu_err_terminated(err), "line %d: %s: message not terminated", line, what);
    CHECK_MSG(err->message[0] != '\0', "line %d: %s: empty message", line, what);
    if (needle)
        CHECK_MSG(strstr(err->message, needle) != NULL,
                  "line %d: %s: message should name \"%s\": \"%s\"", line, what, needle,
                  err->message);
}

/* ------------------------------------------------------------------------------------------ */
/* Status names, frees                                                                        */
/* ------------------------------------------------------------------------------------------ */

static void test_status_names_and_frees(void)
{
    static const pmx_status unknown[] = {1, 3, 42, -33, -34, -64, -98, -100, -101, -12345,
                                         INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1};
    size_t i;
    int32_t c;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = pmx_status_name(unknown[i]);
        CHECK_MSG(name != NULL && strcmp(name, "PMX_UNKNOWN_STATUS") == 0,
                  "pmx_status_name(%d) = %s", (int)unknown[i], name ? name : "(null)");
    }
    /* Every value in a wide range yields a non-NULL, non-empty name. */
    for (c = -2000; c <= 2000; c++) {
        const char *name = pmx_status_name(c);
        if (!name || name[0] == '\0') {
            CHECK_MSG(0, "pmx_status_name(%d) NULL or empty", (int)c);
            break;
        }
    }
    CHECK(pmx_version_string() != NULL && pmx_version_string()[0] != '\0');
    CHECK_INT(pmx_version_number(), PMX_VERSION_NUMBER);

    pmx_string_free(NULL);
    pmx_provider_free(NULL);
    pmx_router_free(NULL);
    pmx_stream_free(NULL);
    pmx_stream_cancel(NULL);
    pmx_set_log_callback(NULL, PMX_LOG_TRACE, NULL);
    /* Out-of-range log levels with no callback, and twice NULL. */
    pmx_set_log_callback(NULL, -5, NULL);
    pmx_set_log_callback(NULL, 1000, NULL);
    CHECK(1);
}

/* ------------------------------------------------------------------------------------------ */
/* NULL for every pointer parameter in turn (err given, then err NULL)                        */
/* ------------------------------------------------------------------------------------------ */

#define EXPECT_NULL_ARG(call, needle)                                                        \
    do {                                                                                     \
        pmx_status st_;                                                                      \
        tu_err_poison(&err);                                                                 \
        st_ = (call);                                                                        \
        expect_fail(__LINE__, #call, st_, &err, PMX_ERR_INVALID_ARGUMENT, needle);           \
    } while (0)

static void test_null_everywhere(void)
{
    pmx_error err;
    pmx_router *router = mock_router();
    pmx_provider *prov = NULL;
    pmx_stream *stream;
    pmx_router *rout;
    pmx_provider *pout;
    char *out;
    pmx_status st;

    if (!router)
        return;
    st = pmx_provider_new(&prov, "{\"name\":\"extra\",\"type\":\"mock\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);

    EXPECT_NULL_ARG(pmx_provider_new(NULL, "{\"name\":\"x\",\"type\":\"mock\"}", &err), "out");
    pout = (pmx_provider *)&err;
    EXPECT_NULL_ARG(pmx_provider_new(&pout, NULL, &err), "provider_json");
    CHECK(pout == NULL);

    EXPECT_NULL_ARG(pmx_router_new(NULL, MOCK_CONFIG, &err), "out");
    rout = (pmx_router *)&err;
    EXPECT_NULL_ARG(pmx_router_new(&rout, NULL, &err), "router_json");
    CHECK(rout == NULL);

    EXPECT_NULL_ARG(pmx_router_add_provider(NULL, prov, &err), "router");
    EXPECT_NULL_ARG(pmx_router_add_provider(router, NULL, &err), "provider");
    EXPECT_NULL_ARG(pmx_router_remove_provider(NULL, "m", &err), "router");
    EXPECT_NULL_ARG(pmx_router_remove_provider(router, NULL, &err), "name");

    EXPECT_NULL_ARG(pmx_router_complete(NULL, router, HELLO_REQUEST, &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_complete(&out, NULL, HELLO_REQUEST, &err), "router");
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_complete(&out, router, NULL, &err), "request_json");
    CHECK(out == NULL);

    /* pmx_router_stream: out may be NULL (not an error); router, request, on_event required. */
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_stream(&out, NULL, HELLO_REQUEST, ignore_event, NULL, &err), "router");
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_stream(&out, router, NULL, ignore_event, NULL, &err), "request_json");
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_stream(&out, router, HELLO_REQUEST, NULL, NULL, &err), "on_event");
    CHECK(out == NULL);

    stream = (pmx_stream *)&err;
    EXPECT_NULL_ARG(pmx_router_stream_async(&stream, NULL, HELLO_REQUEST, ignore_event, NULL, &err), "router");
    CHECK(stream == NULL);
    stream = (pmx_stream *)&err;
    EXPECT_NULL_ARG(pmx_router_stream_async(&stream, router, NULL, ignore_event, NULL, &err), "request_json");
    CHECK(stream == NULL);
    stream = (pmx_stream *)&err;
    EXPECT_NULL_ARG(pmx_router_stream_async(&stream, router, HELLO_REQUEST, NULL, NULL, &err), "on_event");
    CHECK(stream == NULL);
    EXPECT_NULL_ARG(pmx_router_stream_async(NULL, router, HELLO_REQUEST, NULL, NULL, &err), "on_event");

    EXPECT_NULL_ARG(pmx_router_embed(NULL, router, "{\"input\":\"x\"}", &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_embed(&out, NULL, "{\"input\":\"x\"}", &err), "router");
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_embed(&out, router, NULL, &err), "request_json");
    CHECK(out == NULL);

    EXPECT_NULL_ARG(pmx_router_models(NULL, router, &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_models(&out, NULL, &err), "router");
    CHECK(out == NULL);
    EXPECT_NULL_ARG(pmx_router_health(NULL, router, &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_health(&out, NULL, &err), "router");
    CHECK(out == NULL);
    EXPECT_NULL_ARG(pmx_router_stats(NULL, router, &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_stats(&out, NULL, &err), "router");
    CHECK(out == NULL);

    EXPECT_NULL_ARG(pmx_router_stats_ex(NULL, router, "{}", &err), "out");
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_stats_ex(&out, NULL, "{}", &err), "router");
    CHECK(out == NULL);
    /* options_json NULL is allowed. */
    out = NULL;
    st = pmx_router_stats_ex(&out, router, NULL, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK(out != NULL);
    pmx_string_free(out);

    EXPECT_NULL_ARG(pmx_router_update_routing(NULL, "{}", &err), "router");
    EXPECT_NULL_ARG(pmx_router_update_routing(router, NULL, &err), "routing_json");

    /* model_manage: out and on_event may be NULL; router and request required. */
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_model_manage(&out, NULL, MANAGE_REQUEST, NULL, NULL, &err), "router");
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_NULL_ARG(pmx_router_model_manage(&out, router, NULL, NULL, NULL, &err), "request_json");
    CHECK(out == NULL);
    /* Everything optional NULL on a mock provider: a clear status (not supported), no crash. */
    tu_err_poison(&err);
    st = pmx_router_model_manage(NULL, router, MANAGE_REQUEST, NULL, NULL, &err);
    expect_fail(__LINE__, "model_manage on mock", st, &err, PMX_ERR_UNSUPPORTED, NULL);

    /* Every call with all pointers NULL and err NULL: only the status. */
    CHECK_STATUS(pmx_provider_new(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_new(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_add_provider(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_remove_provider(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_complete(NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stream(NULL, NULL, NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stream_async(NULL, NULL, NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_embed(NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_models(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_health(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stats(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stats_ex(NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_update_routing(NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_model_manage(NULL, NULL, NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    /* One NULL at a time with err NULL, the others valid. */
    CHECK_STATUS(pmx_router_complete(NULL, router, HELLO_REQUEST, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_complete(&out, router, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stream(NULL, router, HELLO_REQUEST, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stream_async(NULL, router, NULL, ignore_event, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_update_routing(router, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_stats_ex(NULL, router, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);
    CHECK_STATUS(pmx_router_model_manage(NULL, router, NULL, NULL, NULL, NULL), PMX_ERR_INVALID_ARGUMENT, NULL);

    /* Successful calls with err NULL. */
    out = NULL;
    CHECK_STATUS(pmx_router_complete(&out, router, HELLO_REQUEST, NULL), PMX_OK, NULL);
    pmx_string_free(out);
    CHECK_STATUS(pmx_router_stream(NULL, router, HELLO_REQUEST, ignore_event, NULL, NULL), PMX_OK, NULL);
    CHECK_STATUS(pmx_router_add_provider(router, prov, NULL), PMX_OK, NULL);
    CHECK_STATUS(pmx_router_remove_provider(router, "extra", NULL), PMX_OK, NULL);

    /* The router still works after all that. */
    out = NULL;
    tu_err_poison(&err);
    st = pmx_router_complete(&out, router, HELLO_REQUEST, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(err.code, PMX_OK);
    CHECK(err.message[0] == '\0');
    pmx_string_free(out);

    pmx_provider_free(prov);
    pmx_router_free(router);
}

/* ------------------------------------------------------------------------------------------ */
/* One JSON string parameter at a time, through every function that takes one                 */
/* ------------------------------------------------------------------------------------------ */

enum json_param {
    P_ROUTER_CONFIG,
    P_PROVIDER,
    P_COMPLETE,
    P_STREAM,
    P_STREAM_ASYNC,
    P_EMBED,
    P_STATS_OPTIONS,
    P_ROUTING,
    P_MANAGE,
    P_COUNT
};

static const char *const param_names[P_COUNT] = {
    "pmx_router_new", "pmx_provider_new", "pmx_router_complete", "pmx_router_stream",
    "pmx_router_stream_async", "pmx_router_embed", "pmx_router_stats_ex",
    "pmx_router_update_routing", "pmx_router_model_manage",
};

typedef struct {
    int events;
} event_count;

static int32_t count_events(const char *event_json, size_t len, void *userdata)
{
    (void)event_json;
    (void)len;
    ((event_count *)userdata)->events++;
    return 0;
}

/* Calls the function behind `p` with `json`; returns its status, fills *err. Frees anything a
 * (unexpected) success produced. A failing stream call must not have called the callback. */
static pmx_status call_with_json(pmx_router *router, enum json_param p, const char *json,
                                 pmx_error *err)
{
    pmx_status st = PMX_ERR_INTERNAL;
    char *out = (char *)err;
    event_count ec = {0};
    tu_err_poison(err);
    switch (p) {
    case P_ROUTER_CONFIG: {
        pmx_router *r = (pmx_router *)err;
        st = pmx_router_new(&r, json, err);
        CHECK_MSG(st == PMX_OK || r == NULL, "router_new: *out not reset");
        if (st == PMX_OK)
            pmx_router_free(r);
        return st;
    }
    case P_PROVIDER: {
        pmx_provider *pr = (pmx_provider *)err;
        st = pmx_provider_new(&pr, json, err);
        CHECK_MSG(st == PMX_OK || pr == NULL, "provider_new: *out not reset");
        if (st == PMX_OK)
            pmx_provider_free(pr);
        return st;
    }
    case P_COMPLETE:
        st = pmx_router_complete(&out, router, json, err);
        break;
    case P_STREAM:
        st = pmx_router_stream(&out, router, json, count_events, &ec, err);
        if (st != PMX_OK)
            CHECK_MSG(ec.events > 0 || out == NULL, "stream: *out not reset");
        if (st == PMX_ERR_INVALID_JSON || st == PMX_ERR_INVALID_UTF8 ||
            st == PMX_ERR_INVALID_REQUEST || st == PMX_ERR_INVALID_ARGUMENT)
            CHECK_MSG(ec.events == 0, "stream: input error %s after %d events",
                      pmx_status_name(st), ec.events);
        if (st == PMX_OK)
            pmx_string_free(out);
        return st;
    case P_STREAM_ASYNC: {
        pmx_stream *s = (pmx_stream *)err;
        st = pmx_router_stream_async(&s, router, json, ignore_event, NULL, err);
        CHECK_MSG(st == PMX_OK || s == NULL, "stream_async: *out not reset");
        if (st == PMX_OK)
            pmx_stream_free(s);
        return st;
    }
    case P_EMBED:
        st = pmx_router_embed(&out, router, json, err);
        break;
    case P_STATS_OPTIONS:
        st = pmx_router_stats_ex(&out, router, json, err);
        break;
    case P_ROUTING:
        return pmx_router_update_routing(router, json, err);
    case P_MANAGE:
        st = pmx_router_model_manage(&out, router, json, count_events, &ec, err);
        CHECK_MSG(st == PMX_OK || ec.events == 0, "model_manage: events on failure");
        break;
    default: /* not a parameter: say so, without reading param_names out of bounds */
        CHECK_MSG(0, "call_with_json: unknown parameter %d", (int)p);
        return st;
    }
    CHECK_MSG(st == PMX_OK || out == NULL, "%s: *out not reset on failure", param_names[p]);
    if (st == PMX_OK)
        pmx_string_free(out);
    return st;
}

/* Each JSON parameter gets `json` and must fail with `expected`, message containing needle. */
static void expect_all_params(int line, pmx_router *router, const char *label, const char *json,
                              pmx_status expected, const char *needle)
{
    int p;
    pmx_error err;
    for (p = 0; p < P_COUNT; p++) {
        char what[160];
        pmx_status st = call_with_json(router, (enum json_param)p, json, &err);
        snprintf(what, sizeof what, "%s(%s)", param_names[p], label);
        expect_fail(line, what, st, &err, expected, needle);
        CHECK_MSG(err.attempts == 0, "line %d: %s: attempts %d before routing", line, what,
                  (int)err.attempts);
    }
}

static void test_invalid_utf8_everywhere(void)
{
    static const char *const bad[] = {
        "{\"x\":\"\xff\"}",
        "{\"x\":\"\xc3(\"}",
        "{\"x\":\"\xed\xa0\x80\"}",   /* surrogate */
        "{\"x\":\"\xc0\xaf\"}",       /* overlong */
        "{\"x\":\"\xf4\x90\x80\x80\"}", /* > U+10FFFF */
        "{\"\xfe\":1}",                /* in a key */
        "{}\xe2\x82",                  /* truncated sequence after the value */
        "\x80",
    };
    pmx_router *router = mock_router();
    size_t i;
    pmx_error err;
    if (!router)
        return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char label[32];
        snprintf(label, sizeof label, "bad utf8 #%zu", i);
        expect_all_params(__LINE__, router, label, bad[i], PMX_ERR_INVALID_UTF8, "UTF-8");
    }
    /* Invalid UTF-8 inside otherwise valid documents of the right shape. */
    expect_fail(__LINE__, "request content",
                call_with_json(router, P_COMPLETE,
                               "{\"messages\":[{\"role\":\"user\",\"content\":\"a\xff\"}]}", &err),
                &err, PMX_ERR_INVALID_UTF8, "UTF-8");
    /* The provider name of pmx_router_remove_provider is a string too. */
    tu_err_poison(&err);
    expect_fail(__LINE__, "remove_provider(bad utf8)",
                pmx_router_remove_provider(router, "m\xff", &err), &err, PMX_ERR_INVALID_UTF8,
                "UTF-8");
    pmx_router_free(router);
}

static void test_invalid_json_everywhere(void)
{
    static const char *const bad[] = {
        "", " ", "{", "}", "[", "{\"a\":}", "{\"a\" 1}", "{'a':1}", "{\"a\":1,}", "nul",
        "{\"a\":1} trailing", "{\"a\":\"unterminated}", "{\"a\":01}", "\"\\u12\"",
        "{\"a\":NaN}", "{\"a\":1}{\"b\":2}",
    };
    pmx_router *router = mock_router();
    size_t i;
    if (!router)
        return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "bad json #%zu \"%s\"", i, bad[i]);
        /* The header promises line and column for unparsable JSON. */
        expect_all_params(__LINE__, router, label, bad[i], PMX_ERR_INVALID_JSON, "line");
    }
    pmx_router_free(router);
}

/* JSON of the wrong type where an object is expected: each function's documented class. */
static void test_wrong_top_level_type(void)
{
    static const char *const docs[] = {"[]", "[{}]", "5", "-1.5e300", "\"str\"", "true", "null"};
    /* Expected status per parameter (header): configs → CONFIG, requests → INVALID_REQUEST,
     * stats options → INVALID_ARGUMENT ("a bad option, named"), routing → CONFIG. */
    static const pmx_status expect[P_COUNT] = {
        PMX_ERR_CONFIG, PMX_ERR_CONFIG, PMX_ERR_INVALID_REQUEST, PMX_ERR_INVALID_REQUEST,
        PMX_ERR_INVALID_REQUEST, PMX_ERR_INVALID_REQUEST, PMX_ERR_INVALID_ARGUMENT,
        PMX_ERR_CONFIG, PMX_ERR_INVALID_REQUEST,
    };
    pmx_router *router = mock_router();
    size_t i;
    int p;
    pmx_error err;
    if (!router)
        return;
    for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        for (p = 0; p < P_COUNT; p++) {
            char what[96];
            pmx_status st = call_with_json(router, (enum json_param)p, docs[i], &err);
            snprintf(what, sizeof what, "%s(%s)", param_names[p], docs[i]);
            expect_fail(__LINE__, what, st, &err, expect[p], NULL);
        }
    }
    pmx_router_free(router);
}

static void test_wrong_field_types(void)
{
    static const struct {
        const char *json;
        const char *needle;
    } bad[] = {
        {"{\"messages\":5}", "messages"},
        {"{\"messages\":\"hi\"}", "messages"},
        {"{\"messages\":{}}", "messages"},
        {"{\"messages\":[]}", "messages"},
        {"{\"messages\":[5]}", "messages"},
        {"{\"messages\":[{\"role\":5,\"content\":\"x\"}]}", "role"},
        {"{\"model\":[],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model"},
        {"{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model"},
        {"{\"route\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "route"},
        {"{\"route\":[],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "route"},
        {"{\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "stream"},
        {"{\"temperature\":\"hot\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "temperature"},
        {"{\"max_tokens\":\"many\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "max_tokens"},
    };
    pmx_router *router = mock_router();
    size_t i;
    int p;
    pmx_error err;
    if (!router)
        return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (p = P_COMPLETE; p <= P_STREAM_ASYNC; p++) {
            char what[160];
            pmx_status st = call_with_json(router, (enum json_param)p, bad[i].json, &err);
            snprintf(what, sizeof what, "%s(%s)", param_names[p], bad[i].json);
            expect_fail(__LINE__, what, st, &err, PMX_ERR_INVALID_REQUEST, bad[i].needle);
        }
    }
    /* Embeddings, stats options, routing and model management with wrong field types. */
    tu_err_poison(&err);
    expect_fail(__LINE__, "embed input:5", call_with_json(router, P_EMBED, "{\"input\":5}", &err),
                &err, PMX_ERR_INVALID_REQUEST, "input");
    expect_fail(__LINE__, "embed model:[]",
                call_with_json(router, P_EMBED, "{\"model\":[],\"input\":\"x\"}", &err), &err,
                PMX_ERR_INVALID_REQUEST, "model");
    expect_fail(__LINE__, "stats format:5",
                call_with_json(router, P_STATS_OPTIONS, "{\"format\":5}", &err), &err,
                PMX_ERR_INVALID_ARGUMENT, "format");
    expect_fail(__LINE__, "stats format:xml",
                call_with_json(router, P_STATS_OPTIONS, "{\"format\":\"xml\"}", &err), &err,
                PMX_ERR_INVALID_ARGUMENT, "format");
    expect_fail(__LINE__, "stats reset:yes",
                call_with_json(router, P_STATS_OPTIONS, "{\"reset\":\"yes\"}", &err), &err,
                PMX_ERR_INVALID_ARGUMENT, "reset");
    expect_fail(__LINE__, "routing strategy:5",
                call_with_json(router, P_ROUTING, "{\"strategy\":5}", &err), &err,
                PMX_ERR_CONFIG, "strategy");
    expect_fail(__LINE__, "routing order:x",
                call_with_json(router, P_ROUTING, "{\"order\":\"x\"}", &err), &err,
                PMX_ERR_CONFIG, "order");
    expect_fail(__LINE__, "manage action:5",
                call_with_json(router, P_MANAGE, "{\"action\":5,\"provider\":\"m\"}", &err), &err,
                PMX_ERR_INVALID_REQUEST, "action");
    expect_fail(__LINE__, "manage action:fly",
                call_with_json(router, P_MANAGE, "{\"action\":\"fly\",\"provider\":\"m\"}", &err),
                &err, PMX_ERR_INVALID_REQUEST, "action");
    expect_fail(__LINE__, "manage provider:[]",
                call_with_json(router, P_MANAGE, "{\"action\":\"show\",\"provider\":[],\"model\":\"x\"}", &err),
                &err, PMX_ERR_INVALID_REQUEST, "provider");
    /* Config with wrongly typed fields. */
    expect_fail(__LINE__, "config providers:5",
                call_with_json(router, P_ROUTER_CONFIG, "{\"providers\":5}", &err), &err,
                PMX_ERR_CONFIG, "providers");
    expect_fail(__LINE__, "provider name:5",
                call_with_json(router, P_PROVIDER, "{\"name\":5,\"type\":\"mock\"}", &err), &err,
                PMX_ERR_CONFIG, "name");
    expect_fail(__LINE__, "provider type:[]",
                call_with_json(router, P_PROVIDER, "{\"name\":\"p\",\"type\":[]}", &err), &err,
                PMX_ERR_CONFIG, "type");
    pmx_router_free(router);
}

/* ------------------------------------------------------------------------------------------ */
/* Oversized and deeply nested input                                                          */
/* ------------------------------------------------------------------------------------------ */

#define TEN_MB (10u * 1024u * 1024u)

static void test_oversized(void)
{
    pmx_router *router = mock_router();
    pmx_error err;
    pmx_status st;
    char *buf, *out = NULL;
    size_t i, n;
    int p;
    static const char prefix[] = "{\"messages\":[{\"role\":\"user\",\"content\":\"";
    static const char suffix[] = "\"}]}";
    if (!router)
        return;

    /* A valid 10 MB request: one huge user message. Served by the mock, or refused clearly. */
    buf = (char *)malloc(TEN_MB + sizeof prefix + sizeof suffix);
    if (!buf) {
        pmx_router_free(router);
        return;
    }
    n = 0;
    memcpy(buf, prefix, sizeof prefix - 1);
    n += sizeof prefix - 1;
    for (i = 0; i < TEN_MB; i++)
        buf[n++] = (char)('a' + (i % 26 == 25 ? -('a' - ' ') : (int)(i % 26)));
    memcpy(buf + n, suffix, sizeof suffix);
    tu_err_poison(&err);
    st = pmx_router_complete(&out, router, buf, &err);
    if (st == PMX_OK) {
        CHECK(out != NULL && strlen(out) > TEN_MB / 2);
        printf("   10 MB request: served (%zu bytes back)\n", out ? strlen(out) : (size_t)0);
        pmx_string_free(out);
    } else {
        printf("   10 MB request: refused with %s: %s\n", pmx_status_name(st), err.message);
        CHECK(err.code == st && err.message[0] != '\0' && tu_err_terminated(&err));
        CHECK(st != PMX_ERR_INTERNAL);
        CHECK(out == NULL);
    }

    /* 10 MB of ASCII garbage in every JSON parameter → INVALID_JSON. */
    for (i = 0; i < TEN_MB; i++)
        buf[i] = (char)('!' + (i * 7919u) % 90u);
    buf[0] = '@';
    buf[TEN_MB] = '\0';
    expect_all_params(__LINE__, router, "10 MB garbage", buf, PMX_ERR_INVALID_JSON, "line");

    /* 100,000 '[' (and '{"a":' chains): a clear error, no stack overflow. */
    memset(buf, '[', 100000);
    buf[100000] = '\0';
    expect_all_params(__LINE__, router, "100k [", buf, PMX_ERR_INVALID_JSON, NULL);
    for (i = 0; i < 100000; i++)
        buf[i] = (i % 5 == 0) ? '{' : (i % 5 == 1 || i % 5 == 3) ? '"' : (i % 5 == 2) ? 'a' : ':';
    buf[100000] = '\0';
    expect_all_params(__LINE__, router, "100k {\"a\":", buf, PMX_ERR_INVALID_JSON, NULL);
    /* Balanced deep nesting is well-formed JSON: still refused (parser depth limit) or
     * reported as a wrong type, never a crash. */
    n = 50000;
    memset(buf, '[', n);
    memset(buf + n, ']', n);
    buf[2 * n] = '\0';
    for (p = 0; p < P_COUNT; p++) {
        st = call_with_json(router, (enum json_param)p, buf, &err);
        CHECK_MSG(st != PMX_OK && st != PMX_ERR_INTERNAL && err.message[0] != '\0',
                  "%s(balanced 50k): %s %s", param_names[p], pmx_status_name(st), err.message);
    }
    /* Deep nesting inside a valid request field. */
    {
        char *req = tu_format("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"metadata\":%.*s%.*s}",
                              20000, buf, 20000, buf + n);
        if (req) {
            st = call_with_json(router, P_COMPLETE, req, &err);
            CHECK_MSG(st != PMX_ERR_INTERNAL && (st == PMX_OK || err.message[0] != '\0'),
                      "nested metadata: %s %s", pmx_status_name(st), err.message);
            free(req);
        }
    }
    free(buf);

    /* The router still works. */
    out = NULL;
    st = pmx_router_complete(&out, router, HELLO_REQUEST, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    pmx_router_free(router);
}

/* ------------------------------------------------------------------------------------------ */
/* Callbacks that stop the stream at event index k                                            */
/* ------------------------------------------------------------------------------------------ */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;

typedef struct {
    int stop_at;         /* return non-zero at this event index (-1 = never) */
    int stop_value;      /* the non-zero value returned */
    int events;
    int terminals;
    int after_terminal;
    int done;
    int error_code;
    int bad_json;
    int stopped_on_terminal;
} stopper;

static int32_t stop_at_k(const char *event_json, size_t len, void *userdata)
{
    stopper *s = (stopper *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    int idx, ret = 0, terminal = 0;

    pthread_mutex_lock(&g_lock);
    idx = s->events++;
    if (!ev || !type || strlen(event_json) != len)
        s->bad_json++;
    if (s->terminals > 0)
        s->after_terminal++;
    if (type && (strcmp(type, "done") == 0 || strcmp(type, "error") == 0)) {
        terminal = 1;
        s->terminals++;
        if (strcmp(type, "done") == 0)
            s->done = 1;
        else
            s->error_code = (int)json_integer_value(json_object_get(ev, "code"));
    }
    if (idx == s->stop_at) {
        ret = s->stop_value;
        if (terminal)
            s->stopped_on_terminal = 1;
    }
    if (terminal)
        pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    json_decref(ev);
    return ret;
}

static int wait_terminal(stopper *s, double timeout_ms)
{
    double deadline = tu_now_ms() + timeout_ms;
    int got;
    pthread_mutex_lock(&g_lock);
    while (s->terminals == 0 && tu_now_ms() < deadline) {
        tu_cond_wait_ms(&g_cond, &g_lock, 20);
    }
    got = s->terminals;
    pthread_mutex_unlock(&g_lock);
    return got;
}

static void check_stopped(int k, int total, const char *mode, pmx_status st, const pmx_error *err,
                          const stopper *s)
{
    int past_last = (k >= total - 1); /* stop requested on the terminal event itself (or never) */
    CHECK_MSG(s->terminals == 1, "%s k=%d: %d terminal events", mode, k, s->terminals);
    CHECK_MSG(s->after_terminal == 0, "%s k=%d: %d events after the terminal one", mode, k,
              s->after_terminal);
    CHECK_MSG(s->bad_json == 0, "%s k=%d: %d malformed events", mode, k, s->bad_json);
    CHECK_MSG(s->events == k + 1 + (past_last ? 0 : 1) || past_last,
              "%s k=%d: %d events (expected the stopping one plus the terminal)", mode, k,
              s->events);
    if (past_last) {
        /* The terminal event's return value has nothing left to cancel. */
        CHECK_MSG(st == PMX_OK && s->done, "%s k=%d (terminal): got %s, done=%d", mode, k,
                  pmx_status_name(st), s->done);
    } else {
        CHECK_MSG(st == PMX_ERR_CANCELLED, "%s k=%d: got %s (%s)", mode, k, pmx_status_name(st),
                  err ? err->message : "");
        CHECK_MSG(s->error_code == PMX_ERR_CANCELLED && !s->done,
                  "%s k=%d: terminal error code %d, done=%d", mode, k, s->error_code, s->done);
        if (err)
            CHECK_MSG(err->code == PMX_ERR_CANCELLED && err->message[0] != '\0',
                      "%s k=%d: err code %d message \"%s\"", mode, k, (int)err->code, err->message);
    }
}

static void test_stop_at_every_event(void)
{
    static const int32_t stop_values[] = {1, -1, 42, INT32_MIN};
    pmx_router *router = NULL;
    pmx_error err;
    pmx_status st;
    stopper s;
    int total, k;
    char *out = NULL;

    /* A small delay per token so the stream really is in flight when it is stopped. */
    st = pmx_router_new(&router,
                        "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":1}]}",
                        &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (!router)
        return;

    /* Count the events of one full stream. */
    memset(&s, 0, sizeof s);
    s.stop_at = -1;
    st = pmx_router_stream(&out, router, HELLO_REQUEST, stop_at_k, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    out = NULL;
    total = s.events;
    CHECK_MSG(total >= 4 && s.terminals == 1 && s.done, "full stream: %d events", total);
    printf("   mock stream: %d events\n", total);

    for (k = 0; k <= total; k++) {
        /* Blocking stream. */
        memset(&s, 0, sizeof s);
        s.stop_at = k;
        s.stop_value = (int)stop_values[k % 4];
        out = (char *)&err;
        tu_err_poison(&err);
        st = pmx_router_stream(&out, router, HELLO_REQUEST, stop_at_k, &s, &err);
        check_stopped(k, total, "stream", st, &err, &s);
        if (st == PMX_OK)
            pmx_string_free(out);
        else
            CHECK_MSG(out == NULL, "stream k=%d: *out not NULL after failure", k);
        out = NULL;

        /* Blocking stream, out and err NULL. */
        memset(&s, 0, sizeof s);
        s.stop_at = k;
        s.stop_value = 1;
        st = pmx_router_stream(NULL, router, HELLO_REQUEST, stop_at_k, &s, NULL);
        check_stopped(k, total, "stream(out,err NULL)", st, NULL, &s);

        /* Async stream with a handle. */
        {
            pmx_stream *h = NULL;
            memset(&s, 0, sizeof s);
            s.stop_at = k;
            s.stop_value = (int)stop_values[(k + 1) % 4];
            st = pmx_router_stream_async(&h, router, HELLO_REQUEST, stop_at_k, &s, &err);
            CHECK_STATUS(st, PMX_OK, &err);
            CHECK_MSG(wait_terminal(&s, 10000) == 1, "async k=%d: no terminal event", k);
            tu_sleep_ms(20); /* room for any (wrong) late event */
            pthread_mutex_lock(&g_lock);
            check_stopped(k, total, "async",
                          s.done ? PMX_OK : (pmx_status)s.error_code, NULL, &s);
            pthread_mutex_unlock(&g_lock);
            pmx_stream_free(h);
        }
        /* Async fire-and-forget. */
        {
            memset(&s, 0, sizeof s);
            s.stop_at = k;
            s.stop_value = 7;
            st = pmx_router_stream_async(NULL, router, HELLO_REQUEST, stop_at_k, &s, NULL);
            CHECK_STATUS(st, PMX_OK, NULL);
            CHECK_MSG(wait_terminal(&s, 10000) == 1, "async(NULL) k=%d: no terminal event", k);
            tu_sleep_ms(20);
            pthread_mutex_lock(&g_lock);
            check_stopped(k, total, "async(out NULL)",
                          s.done ? PMX_OK : (pmx_status)s.error_code, NULL, &s);
            pthread_mutex_unlock(&g_lock);
        }
    }

    /* A stream stopped at every event leaves the router usable. */
    out = NULL;
    st = pmx_router_complete(&out, router, HELLO_REQUEST, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_string_free(out);
    pmx_router_free(router);
}

/* Handles: double cancel, cancel then free, free of a finished stream. */
static void test_handle_abuse(void)
{
    pmx_router *router = mock_router();
    pmx_error err;
    stopper s;
    pmx_stream *h = NULL;
    pmx_status st;
    if (!router)
        return;
    memset(&s, 0, sizeof s);
    s.stop_at = -1;
    st = pmx_router_stream_async(&h, router, HELLO_REQUEST, stop_at_k, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_stream_cancel(h);
    pmx_stream_cancel(h);
    CHECK(wait_terminal(&s, 10000) == 1);
    pmx_stream_cancel(h); /* no-op after the terminal event */
    pmx_stream_free(h);
    tu_sleep_ms(20);
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK_INT(s.after_terminal, 0);
    pthread_mutex_unlock(&g_lock);

    /* Free right away while running; the terminal event still arrives exactly once. */
    memset(&s, 0, sizeof s);
    s.stop_at = -1;
    h = NULL;
    st = pmx_router_stream_async(&h, router, HELLO_REQUEST, stop_at_k, &s, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    pmx_stream_free(h);
    CHECK(wait_terminal(&s, 10000) == 1);
    tu_sleep_ms(20);
    pthread_mutex_lock(&g_lock);
    CHECK_INT(s.terminals, 1);
    CHECK_INT(s.after_terminal, 0);
    pthread_mutex_unlock(&g_lock);

    /* Remove providers that do not exist, twice, with odd names. */
    tu_err_poison(&err);
    expect_fail(__LINE__, "remove unknown", pmx_router_remove_provider(router, "nope", &err), &err,
                PMX_ERR_PROVIDER_NOT_FOUND, "nope");
    tu_err_poison(&err);
    expect_fail(__LINE__, "remove empty", pmx_router_remove_provider(router, "", &err), &err,
                PMX_ERR_PROVIDER_NOT_FOUND, NULL);
    pmx_router_free(router);
}

int main(void)
{
    tu_watchdog(600);
    signal(SIGPIPE, SIG_IGN);
    RUN(test_status_names_and_frees);
    RUN(test_null_everywhere);
    RUN(test_invalid_utf8_everywhere);
    RUN(test_invalid_json_everywhere);
    RUN(test_wrong_top_level_type);
    RUN(test_wrong_field_types);
    RUN(test_oversized);
    RUN(test_stop_at_every_event);
    RUN(test_handle_abuse);
    return TEST_DONE();
}
