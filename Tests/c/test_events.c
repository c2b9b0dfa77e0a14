/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_events.c — typed events and the pull stream (pmx_router_stream_open, pmx_stream_next).
 *
 * Every typed field is checked against the JSON of the same event (PMX_NEXT_WITH_JSON hands
 * both out), over the mock provider and the fake OpenAI upstream (tool-call deltas, usage,
 * keys echoed by the provider); the pulled events are the JSON callback's, in the same order;
 * then the end, timeouts, capacity 1, cancel / free mid-stream and misuse.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stddef.h>

static tu_upstream up;

#define KEY "sk-events-typed-view-KEY-7f3a9c"
#define USER(text) "{\"messages\":[{\"role\":\"user\",\"content\":\"" text "\"}]"

/* ---------------------------------------------------------------------------------------- */
/* Typed view == JSON                                                                       */
/* ---------------------------------------------------------------------------------------- */

static const char *type_name(int32_t t)
{
    switch (t) {
    case PMX_EVENT_START: return "start";
    case PMX_EVENT_DELTA: return "delta";
    case PMX_EVENT_RETRY: return "retry";
    case PMX_EVENT_FALLBACK: return "fallback";
    case PMX_EVENT_USAGE: return "usage";
    case PMX_EVENT_DONE: return "done";
    case PMX_EVENT_ERROR: return "error";
    default: return "?";
    }
}

/* A typed string is the JSON string at `v` (absent when `v` is not a string), NUL-terminated. */
static void check_str(pmx_str s, json_t *v, const char *what)
{
    if (!json_is_string(v)) {
        CHECK_MSG(s.ptr == NULL && s.len == 0, "%s: absent in the JSON, typed \"%.*s\"", what, (int)s.len,
                  s.ptr ? s.ptr : "");
        return;
    }
    CHECK_MSG(s.ptr != NULL, "%s: NULL, the JSON has \"%s\"", what, json_string_value(v));
    if (!s.ptr)
        return;
    CHECK_MSG(s.len == json_string_length(v) && memcmp(s.ptr, json_string_value(v), s.len) == 0,
              "%s: typed \"%.*s\", the JSON has \"%s\"", what, (int)s.len, s.ptr, json_string_value(v));
    CHECK_MSG(s.ptr[s.len] == '\0', "%s: not NUL-terminated", what);
}

static void check_int(long long typed, json_t *v, long long absent, const char *what)
{
    long long want = json_is_integer(v) ? (long long)json_integer_value(v) : absent;
    CHECK_MSG(typed == want, "%s: typed %lld, the JSON says %lld", what, typed, want);
}

static void check_double(double typed, json_t *v, const char *what)
{
    if (!json_is_number(v)) {
        CHECK_MSG(isnan(typed), "%s: absent in the JSON, typed %g", what, typed);
        return;
    }
    CHECK_MSG(typed == json_number_value(v), "%s: typed %.17g, the JSON says %.17g", what, typed, json_number_value(v));
}

static void check_usage(const pmx_event *e, json_t *u)
{
    check_int(e->prompt_tokens, json_object_get(u, "prompt_tokens"), -1, "prompt_tokens");
    check_int(e->completion_tokens, json_object_get(u, "completion_tokens"), -1, "completion_tokens");
    check_int(e->total_tokens, json_object_get(u, "total_tokens"), -1, "total_tokens");
    check_int(e->cached_tokens, tu_jget(u, "prompt_tokens_details.cached_tokens"), -1, "cached_tokens");
    check_double(e->cost_usd, json_object_get(u, "cost_usd"), "cost_usd");
    check_double(e->upstream_cost_usd, json_object_get(u, "upstream_cost_usd"), "upstream_cost_usd");
    check_double(e->tokens_per_second, json_object_get(u, "tokens_per_second"), "tokens_per_second");
}

static void check_no_usage(const pmx_event *e)
{
    CHECK(e->prompt_tokens == -1 && e->completion_tokens == -1 && e->total_tokens == -1 && e->cached_tokens == -1);
    CHECK(isnan(e->cost_usd) && isnan(e->upstream_cost_usd) && isnan(e->tokens_per_second));
}

/* Every field of `e` against its own JSON (e->json, which must be there). */
static void check_event(const pmx_event *e)
{
    json_t *j, *tc;
    size_t i;
    CHECK_MSG(e->json.ptr != NULL, "%s event without json", type_name(e->type));
    if (!e->json.ptr)
        return;
    CHECK(e->json.ptr[e->json.len] == '\0');
    CHECK_INT(strlen(e->json.ptr), e->json.len);
    j = tu_json(e->json.ptr);
    CHECK(j != NULL);
    if (!j)
        return;
    CHECK_STR(json_string_value(json_object_get(j, "type")), type_name(e->type));
    check_str(e->reasoning, json_object_get(j, "reasoning"), "reasoning"); /* set on reasoning deltas only */
    check_int(e->choice_index, json_object_get(j, "index"), -1, "choice_index"); /* deltas of n > 1 requests only */
    switch (e->type) {
    case PMX_EVENT_START:
        check_str(e->provider, json_object_get(j, "provider"), "start.provider");
        check_str(e->model, json_object_get(j, "model"), "start.model");
        check_int(e->attempt, json_object_get(j, "attempt"), 0, "start.attempt");
        CHECK(e->text.ptr == NULL && e->status == 0 && e->tool_calls == NULL);
        check_no_usage(e);
        break;
    case PMX_EVENT_DELTA:
        check_str(e->text, json_object_get(j, "content"), "delta.content");
        tc = json_object_get(j, "tool_calls");
        CHECK_INT(e->tool_call_count, json_array_size(tc));
        CHECK((e->tool_calls != NULL) == (e->tool_call_count > 0));
        for (i = 0; i < e->tool_call_count && i < json_array_size(tc); i++) {
            json_t *c = json_array_get(tc, i);
            const pmx_tool_call_delta *t = &e->tool_calls[i];
            check_int(t->index, json_object_get(c, "index"), -1, "tool_calls.index");
            check_str(t->id, json_object_get(c, "id"), "tool_calls.id");
            check_str(t->type, json_object_get(c, "type"), "tool_calls.type");
            check_str(t->name, tu_jget(c, "function.name"), "tool_calls.function.name");
            check_str(t->arguments, tu_jget(c, "function.arguments"), "tool_calls.function.arguments");
        }
        CHECK(e->provider.ptr == NULL && e->status == 0 && e->attempt == 0);
        check_no_usage(e);
        break;
    case PMX_EVENT_RETRY:
        check_str(e->provider, json_object_get(j, "provider"), "retry.provider");
        check_int(e->attempt, json_object_get(j, "attempt"), 0, "retry.attempt");
        check_int(e->delay_ms, json_object_get(j, "delay_ms"), 0, "retry.delay_ms");
        check_int(e->status, json_object_get(j, "code"), 0, "retry.code");
        check_int(e->http_status, json_object_get(j, "http_status"), 0, "retry.http_status");
        check_str(e->text, json_object_get(j, "message"), "retry.message");
        CHECK(e->status < 0);
        break;
    case PMX_EVENT_FALLBACK:
        check_str(e->provider, json_object_get(j, "from"), "fallback.from");
        check_str(e->next_provider, json_object_get(j, "to"), "fallback.to");
        check_int(e->status, json_object_get(j, "code"), 0, "fallback.code");
        check_int(e->http_status, json_object_get(j, "http_status"), 0, "fallback.http_status");
        check_str(e->text, json_object_get(j, "message"), "fallback.message");
        CHECK(e->status < 0);
        break;
    case PMX_EVENT_USAGE:
        check_usage(e, json_object_get(j, "usage"));
        CHECK(e->prompt_tokens >= 0);
        break;
    case PMX_EVENT_DONE: {
        json_t *r = json_object_get(j, "response");
        check_str(e->provider, json_object_get(r, "provider"), "done.provider");
        check_str(e->model, json_object_get(r, "model"), "done.model");
        check_str(e->text, tu_jget(r, "choices.0.message.content"), "done.content");
        check_str(e->finish_reason, tu_jget(r, "choices.0.finish_reason"), "done.finish_reason");
        check_usage(e, json_object_get(r, "usage"));
        CHECK_INT(e->attempt, tu_jlen(r, "attempts") + (size_t)tu_jint(r, "attempts_omitted", 0));
        CHECK(e->status == 0);
        break;
    }
    case PMX_EVENT_ERROR:
        check_int(e->status, json_object_get(j, "code"), 0, "error.code");
        check_int(e->http_status, json_object_get(j, "http_status"), 0, "error.http_status");
        check_str(e->provider, json_object_get(j, "provider"), "error.provider");
        check_str(e->text, json_object_get(j, "message"), "error.message");
        if (json_object_get(j, "usage"))
            check_usage(e, json_object_get(j, "usage"));
        else
            check_no_usage(e);
        CHECK(e->status < 0);
        break;
    default:
        CHECK_MSG(0, "unknown event type %d", e->type);
    }
    json_decref(j);
}

/* ---------------------------------------------------------------------------------------- */
/* Pulling a whole stream                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define MAX_EVENTS 256

/* What a stream handed out: every event's JSON (pulled with PMX_NEXT_WITH_JSON, or from the
 * callback), its type, the text of deltas joined. */
typedef struct {
    int n;
    int types[MAX_EVENTS];
    char *json[MAX_EVENTS];
    char content[4096];
    char arguments[4096];
    int batches, terminals, after_terminal;
    pmx_status terminal_status;
} trace;

static void trace_clear(trace *t)
{
    int i;
    for (i = 0; i < t->n; i++)
        free(t->json[i]);
    memset(t, 0, sizeof *t);
}

static void trace_add(trace *t, int32_t type, const char *json, size_t len)
{
    if (t->terminals)
        t->after_terminal++;
    if (type == PMX_EVENT_DONE || type == PMX_EVENT_ERROR)
        t->terminals++;
    if (t->n < MAX_EVENTS) {
        t->types[t->n] = type;
        t->json[t->n] = json ? strndup(json, len) : NULL;
        t->n++;
    }
}

/* Pulls `s` to its end, `capacity` events per call, checking each typed event against its
 * JSON when `flags` asks for it. */
static void pull_all(pmx_stream *s, size_t capacity, uint32_t flags, trace *t)
{
    pmx_event ev[64];
    pmx_error err;
    int guard = 0;
    if (capacity > 64)
        capacity = 64;
    while (!t->terminals && guard++ < 10000) {
        size_t count = 99, i;
        pmx_status st = pmx_stream_next(ev, capacity, sizeof(pmx_event), &count, s, -1, flags, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        if (st != PMX_OK)
            return;
        CHECK(count >= 1 && count <= capacity); /* -1 waits for at least one */
        t->batches++;
        for (i = 0; i < count; i++) {
            const pmx_event *e = &ev[i];
            if (flags & PMX_NEXT_WITH_JSON)
                check_event(e);
            else if (e->type == PMX_EVENT_DONE || e->type == PMX_EVENT_ERROR)
                check_event(e); /* their JSON is always there */
            else
                CHECK_MSG(e->json.ptr == NULL, "%s event with json not asked for", type_name(e->type));
            /* The terminal event is the batch's last. */
            if (e->type == PMX_EVENT_DONE || e->type == PMX_EVENT_ERROR) {
                CHECK_INT(i, count - 1);
                t->terminal_status = e->status;
            }
            if (e->type == PMX_EVENT_DELTA && e->text.ptr)
                strncat(t->content, e->text.ptr, sizeof t->content - strlen(t->content) - 1);
            if (e->type == PMX_EVENT_DELTA && e->tool_call_count > 0 && e->tool_calls[0].arguments.ptr)
                strncat(t->arguments, e->tool_calls[0].arguments.ptr, sizeof t->arguments - strlen(t->arguments) - 1);
            trace_add(t, e->type, e->json.ptr, e->json.len);
        }
    }
}

static int32_t trace_callback(const char *event_json, size_t len, void *userdata)
{
    trace *t = (trace *)userdata;
    json_t *j = tu_json(event_json);
    const char *type = json_string_value(json_object_get(j, "type"));
    int32_t code = 0;
    for (code = PMX_EVENT_START; code <= PMX_EVENT_ERROR; code++)
        if (type && strcmp(type, type_name(code)) == 0)
            break;
    if (code == PMX_EVENT_DELTA && json_is_string(json_object_get(j, "content")))
        strncat(t->content, json_string_value(json_object_get(j, "content")), sizeof t->content - strlen(t->content) - 1);
    trace_add(t, code, event_json, len);
    json_decref(j);
    return 0;
}

/* Opens a pull stream; NULL (and a failed check) when it does not start. */
static pmx_stream *open_stream(pmx_router *r, const char *request)
{
    pmx_stream *s = NULL;
    pmx_error err;
    pmx_status st = pmx_router_stream_open(&s, r, request, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    return s;
}

/* Opens a pull stream for `request`, pulls it to its end into `t` (cleared first), frees it. */
static void pull_request(pmx_router *r, const char *request, size_t capacity, uint32_t flags, trace *t)
{
    pmx_stream *s = open_stream(r, request);
    memset(t, 0, sizeof *t);
    if (s)
        pull_all(s, capacity, flags, t);
    pmx_stream_free(s);
}

/* The events' JSON minus what differs between two runs (ids, times, latencies). */
static json_t *comparable(const char *text)
{
    json_t *j = tu_json(text);
    json_t *r = json_object_get(j, "response");
    if (r) {
        json_object_del(r, "id");
        json_object_del(r, "created");
        json_object_del(r, "latency_ms");
        json_object_del(r, "ttft_ms");
        json_object_del(r, "attempts");
        json_object_del(r, "usage"); /* tokens_per_second is measured */
        json_object_del(r, "request_id"); /* one per request */
    }
    json_object_del(j, "attempts");
    json_object_del(j, "request_id");
    return j;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void test_layout(void)
{
    /* Sources/ProviderMux/EventView.swift writes these offsets (EventLayout). */
    CHECK_INT(sizeof(pmx_str), 16);
    CHECK_INT(sizeof(pmx_event), 216);
    CHECK_INT(PMX_EVENT_SIZE_MIN, 208);
    CHECK_INT(offsetof(pmx_event, choice_index), 208);
    CHECK_INT(offsetof(pmx_event, type), 0);
    CHECK_INT(offsetof(pmx_event, attempt), 4);
    CHECK_INT(offsetof(pmx_event, status), 8);
    CHECK_INT(offsetof(pmx_event, http_status), 12);
    CHECK_INT(offsetof(pmx_event, delay_ms), 16);
    CHECK_INT(offsetof(pmx_event, text), 24);
    CHECK_INT(offsetof(pmx_event, reasoning), 40);
    CHECK_INT(offsetof(pmx_event, provider), 56);
    CHECK_INT(offsetof(pmx_event, model), 72);
    CHECK_INT(offsetof(pmx_event, next_provider), 88);
    CHECK_INT(offsetof(pmx_event, finish_reason), 104);
    CHECK_INT(offsetof(pmx_event, tool_calls), 120);
    CHECK_INT(offsetof(pmx_event, tool_call_count), 128);
    CHECK_INT(offsetof(pmx_event, prompt_tokens), 136);
    CHECK_INT(offsetof(pmx_event, completion_tokens), 144);
    CHECK_INT(offsetof(pmx_event, total_tokens), 152);
    CHECK_INT(offsetof(pmx_event, cached_tokens), 160);
    CHECK_INT(offsetof(pmx_event, cost_usd), 168);
    CHECK_INT(offsetof(pmx_event, upstream_cost_usd), 176);
    CHECK_INT(offsetof(pmx_event, tokens_per_second), 184);
    CHECK_INT(offsetof(pmx_event, json), 192);
    CHECK_INT(sizeof(pmx_tool_call_delta), 72);
    CHECK_INT(offsetof(pmx_tool_call_delta, index), 0);
    CHECK_INT(offsetof(pmx_tool_call_delta, id), 8);
    CHECK_INT(offsetof(pmx_tool_call_delta, type), 24);
    CHECK_INT(offsetof(pmx_tool_call_delta, name), 40);
    CHECK_INT(offsetof(pmx_tool_call_delta, arguments), 56);
}

/* Retry, fallback, start, deltas, usage, done: every type but error, typed == JSON, and the
 * same events as the JSON callback's in the same order. */
#define RETRY_FALLBACK_ROUTER                                                                   \
    "{\"providers\":[{\"name\":\"a\",\"type\":\"mock\",\"script\":[{\"status\":429,\"retry_after_ms\":1},"  \
    "{\"status\":500,\"times\":10}]},{\"name\":\"b\",\"type\":\"mock\"}],"                            \
    "\"retry\":{\"max_attempts\":2,\"initial_backoff_ms\":1,\"jitter\":0}}"

static void test_mock_events_match_json(void)
{
    pmx_router *r = tu_router_new(RETRY_FALLBACK_ROUTER);
    pmx_router *r2 = tu_router_new(RETRY_FALLBACK_ROUTER);
    trace pulled, pushed;
    pmx_error err;
    int i, seen[8] = {0};
    pmx_status st;
    if (!r || !r2)
        return;
    memset(&pushed, 0, sizeof pushed);
    pull_request(r, USER("typed events please") ",\"stream_options\":{\"include_usage\":true}}", 64, PMX_NEXT_WITH_JSON,
                 &pulled);
    st = pmx_router_stream(NULL, r2, USER("typed events please") ",\"stream_options\":{\"include_usage\":true}}",
                           trace_callback, &pushed, &err);
    CHECK_STATUS(st, PMX_OK, &err);

    CHECK_INT(pulled.terminals, 1);
    CHECK_INT(pulled.after_terminal, 0);
    CHECK_INT(pulled.terminal_status, 0);
    CHECK_STR(pulled.content, "mock: typed events please");
    for (i = 0; i < pulled.n; i++)
        if (pulled.types[i] >= 1 && pulled.types[i] <= 7)
            seen[pulled.types[i]]++;
    CHECK(seen[PMX_EVENT_START] >= 2);
    CHECK(seen[PMX_EVENT_RETRY] >= 1);
    CHECK(seen[PMX_EVENT_FALLBACK] >= 1);
    CHECK(seen[PMX_EVENT_DELTA] >= 3);
    CHECK_INT(seen[PMX_EVENT_DONE], 1);

    /* The same request through the JSON callback: the same events, in the same order. */
    CHECK_INT(pulled.n, pushed.n);
    for (i = 0; i < pulled.n && i < pushed.n; i++) {
        json_t *a = comparable(pulled.json[i]), *b = comparable(pushed.json[i]);
        CHECK_MSG(json_equal(a, b), "event %d differs:\n  pulled %s\n  pushed %s", i, pulled.json[i], pushed.json[i]);
        json_decref(a);
        json_decref(b);
    }
    trace_clear(&pulled);
    trace_clear(&pushed);
    pmx_router_free(r);
    pmx_router_free(r2);
}

/* Without PMX_NEXT_WITH_JSON: no JSON but done's and error's, the typed fields the same. */
static void test_json_only_when_asked(void)
{
    pmx_router *r = tu_router_new(RETRY_FALLBACK_ROUTER);
    trace t;
    if (!r)
        return;
    pull_request(r, USER("no json") "}", 64, 0, &t);
    CHECK_INT(t.terminals, 1);
    CHECK_STR(t.content, "mock: no json");
    trace_clear(&t);
    pmx_router_free(r);
}

/* Capacity 1: one event per call, all of them, in order; then the end. */
static void test_capacity_one_and_the_end(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    pmx_stream *s;
    trace t;
    pmx_event ev[2];
    size_t count = 7;
    pmx_error err;
    pmx_status st;
    if (!r)
        return;
    memset(&t, 0, sizeof t);
    s = open_stream(r, USER("one at a time") "}");
    if (!s) {
        pmx_router_free(r);
        return;
    }
    pull_all(s, 1, 0, &t);
    CHECK_INT(t.batches, t.n);
    CHECK_INT(t.types[0], PMX_EVENT_START);
    CHECK_INT(t.types[t.n - 1], PMX_EVENT_DONE);
    CHECK_STR(t.content, "mock: one at a time");
    /* After the terminal event: refused at once, whatever the timeout, nothing written. */
    memset(ev, 0xAB, sizeof ev);
    st = pmx_stream_next(ev, 2, sizeof(pmx_event), &count, s, -1, 0, &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "ended");
    CHECK_INT(count, 0);
    CHECK_INT(((unsigned char *)ev)[0], 0xAB);
    st = pmx_stream_next(ev, 2, sizeof(pmx_event), &count, s, 0, 0, &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    trace_clear(&t);
    pmx_stream_free(s);
    pmx_router_free(r);
}

/* A larger event_size (a newer header's struct): the library zeroes what it does not know and
 * steps through the array by event_size. */
static void test_event_size_growth(void)
{
    typedef struct {
        pmx_event v1;
        char later[40];
    } bigger_event;
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    pmx_stream *s;
    bigger_event ev[16];
    size_t count = 0, i, total = 0;
    int done = 0, guard = 0;
    pmx_error err;
    char content[256] = "";
    if (!r)
        return;
    s = open_stream(r, USER("grown") "}");
    while (s && !done && guard++ < 1000) {
        memset(ev, 0x5A, sizeof ev);
        CHECK_STATUS(pmx_stream_next(&ev[0].v1, 16, sizeof(bigger_event), &count, s, -1, 0, &err), PMX_OK, &err);
        for (i = 0; i < count; i++) {
            size_t k, zero = 1;
            for (k = 0; k < sizeof ev[i].later; k++)
                zero &= ev[i].later[k] == 0;
            CHECK_MSG(zero, "event %zu: bytes past pmx_event not zeroed", i);
            if (ev[i].v1.type == PMX_EVENT_DELTA && ev[i].v1.text.ptr)
                strncat(content, ev[i].v1.text.ptr, sizeof content - strlen(content) - 1);
            done |= ev[i].v1.type == PMX_EVENT_DONE;
        }
        /* Elements past count are untouched. */
        if (count < 16)
            CHECK_INT(((unsigned char *)&ev[count])[0], 0x5A);
        total += count;
    }
    CHECK(done);
    CHECK(total >= 3);
    CHECK_STR(content, "mock: grown");
    pmx_stream_free(s);
    pmx_router_free(r);
}

/* Tool-call deltas and the usage event over the fake OpenAI upstream: typed == JSON. */
static char *upstream_router(const char *scope, const char *extra)
{
    return tu_format("{\"providers\":[{\"name\":\"fake\",\"type\":\"openai-compatible\","
                     "\"base_url\":\"http://127.0.0.1:%d/%s/v1\",\"api_key\":\"" KEY "\"}]%s}",
                     up.port, scope, extra);
}

#define WEATHER_TOOLS                                                                           \
    ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"     \
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]"

static void test_upstream_tool_calls_and_usage(void)
{
    char *cfg = upstream_router("evtools", "");
    pmx_router *r = tu_router_new(cfg);
    trace t;
    int i, tool_deltas = 0, usage = 0;
    free(cfg);
    if (!r)
        return;
    pull_request(r, USER("what is the weather in Paris") WEATHER_TOOLS ",\"stream_options\":{\"include_usage\":true}}",
                 64, PMX_NEXT_WITH_JSON, &t);
    CHECK_INT(t.terminal_status, 0);
    for (i = 0; i < t.n; i++) {
        tool_deltas += t.types[i] == PMX_EVENT_DELTA && strstr(t.json[i], "tool_calls") != NULL;
        usage += t.types[i] == PMX_EVENT_USAGE;
    }
    CHECK(tool_deltas >= 3);
    CHECK_INT(usage, 1);
    CHECK_CONTAINS(t.arguments, "Paris"); /* the argument pieces, joined */
    trace_clear(&t);
    pmx_router_free(r);
}

/* A provider echoing the key: masked in every typed string, as in the JSON events. */
static void test_masking(void)
{
    char *cfg = upstream_router("evecho", "");
    pmx_router *r = tu_router_new(cfg);
    pmx_stream *s;
    trace t;
    int i;
    free(cfg);
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "evecho", "[{\"echo_credentials\":true,\"times\":2}]"), 200);
    pull_request(r, USER("echo please") "}", 3, 0, &t);
    CHECK_INT(t.terminal_status, 0);
    CHECK_CONTAINS(t.content, "credentials received");
    CHECK_NOT_CONTAINS(t.content, KEY);
    CHECK_CONTAINS(t.content, "****3a9c"); /* "****" + the key's last 4 bytes */
    for (i = 0; i < t.n; i++)
        if (t.json[i])
            CHECK_NOT_CONTAINS(t.json[i], KEY);
    trace_clear(&t);

    /* The tool call's arguments carry it too. */
    pull_request(r, USER("weather please") WEATHER_TOOLS "}", 64, 0, &t);
    CHECK_CONTAINS(t.arguments, "Paris");
    CHECK_NOT_CONTAINS(t.arguments, KEY);
    CHECK_NOT_CONTAINS(t.arguments, "events-typed-view");
    trace_clear(&t);

    /* And the error's message (a 401 echoing the key). */
    CHECK_INT(tu_upstream_script(&up, "evecho", "[{\"status\":401,\"echo_credentials\":true,\"times\":5}]"), 200);
    memset(&t, 0, sizeof t);
    s = open_stream(r, USER("fail please") "}");
    if (s) {
        pmx_event ev[8];
        size_t count = 0, k;
        pmx_error err;
        int ended = 0, guard = 0;
        while (!ended && guard++ < 100) {
            CHECK_STATUS(pmx_stream_next(ev, 8, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_OK, &err);
            for (k = 0; k < count; k++) {
                if (ev[k].text.ptr) {
                    CHECK_NOT_CONTAINS(ev[k].text.ptr, KEY);
                    CHECK_NOT_CONTAINS(ev[k].text.ptr, "events-typed-view");
                }
                if (ev[k].type == PMX_EVENT_ERROR) {
                    ended = 1;
                    check_event(&ev[k]);
                    CHECK_INT(ev[k].status, PMX_ERR_AUTH);
                    CHECK_INT(ev[k].http_status, 401);
                    CHECK(ev[k].text.ptr && strstr(ev[k].text.ptr, "****") != NULL);
                    CHECK_NOT_CONTAINS(ev[k].json.ptr, KEY);
                }
            }
        }
        CHECK(ended);
    }
    trace_clear(&t);
    pmx_stream_free(s);
    pmx_router_free(r);
}

/* Timeouts: 0 never blocks, > 0 comes back empty when nothing arrives; cancel ends the stream
 * with its terminal event; a second reader meanwhile is refused. */
typedef struct {
    pmx_stream *s;
    pmx_status st;
    size_t count;
    int32_t type, status;
} reader_arg;

static void *blocked_reader(void *p)
{
    reader_arg *a = (reader_arg *)p;
    pmx_event ev[4];
    pmx_error err;
    a->st = pmx_stream_next(ev, 4, sizeof(pmx_event), &a->count, a->s, -1, 0, &err);
    if (a->st == PMX_OK && a->count > 0) {
        a->type = ev[a->count - 1].type;
        a->status = ev[a->count - 1].status;
    }
    return NULL;
}

static void test_timeouts_cancel_and_one_reader(void)
{
    char *cfg = upstream_router("evhang", "");
    pmx_router *r = tu_router_new(cfg);
    pmx_stream *s;
    pmx_event ev[4];
    size_t count = 9;
    pmx_error err;
    pthread_t th;
    reader_arg a;
    int refused = 0, tries;
    free(cfg);
    if (!r)
        return;
    CHECK_INT(tu_upstream_script(&up, "evhang", "[{\"hang\":true}]"), 200);
    s = open_stream(r, USER("hang") "}");
    if (!s) {
        pmx_router_free(r);
        return;
    }
    /* The start event comes; then nothing: the upstream never answers. */
    CHECK_STATUS(pmx_stream_next(ev, 4, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_OK, &err);
    CHECK_INT(count, 1);
    CHECK_INT(ev[0].type, PMX_EVENT_START);
    count = 9;
    CHECK_STATUS(pmx_stream_next(ev, 4, sizeof(pmx_event), &count, s, 0, 0, &err), PMX_OK, &err);
    CHECK_INT(count, 0);
    count = 9;
    CHECK_STATUS(pmx_stream_next(ev, 4, sizeof(pmx_event), &count, s, 30, 0, &err), PMX_OK, &err);
    CHECK_INT(count, 0);

    /* A reader waits; a second one is refused while it does. */
    memset(&a, 0, sizeof a);
    a.s = s;
    pthread_create(&th, NULL, blocked_reader, &a);
    for (tries = 0; tries < 500 && !refused; tries++) {
        pmx_status st = pmx_stream_next(ev, 4, sizeof(pmx_event), &count, s, 0, 0, &err);
        if (st == PMX_ERR_INVALID_ARGUMENT) {
            refused = 1;
            CHECK_CONTAINS(err.message, "another thread");
        } else {
            CHECK_STATUS(st, PMX_OK, &err);
            CHECK_INT(count, 0);
            tu_sleep_ms(10);
        }
    }
    CHECK(refused);
    /* Cancel from this thread ends the reader's wait with the terminal event. */
    pmx_stream_cancel(s);
    pthread_join(th, NULL);
    CHECK_STATUS(a.st, PMX_OK, NULL);
    CHECK_INT(a.count, 1);
    CHECK_INT(a.type, PMX_EVENT_ERROR);
    CHECK_INT(a.status, PMX_ERR_CANCELLED);
    pmx_stream_free(s);
    pmx_router_free(r);
}

/* Freed mid-stream (events unread, a transfer running) or before any pull: no leak, no hang
 * (valgrind runs this program: scripts/sanitize.sh). */
static void test_free_mid_stream(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":5}]}");
    pmx_stream *s;
    pmx_event ev[2];
    size_t count = 0;
    pmx_error err;
    if (!r)
        return;
    s = open_stream(r, USER("free me before the end of this long answer") "}");
    pmx_stream_free(s);
    s = open_stream(r, USER("free me after two events") "}");
    if (s) {
        CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_OK, &err);
        CHECK(count >= 1);
    }
    pmx_stream_free(s);
    /* A stream left open when its router goes: cancelled, its terminal event still readable. */
    s = open_stream(r, USER("outlive the router") "}");
    pmx_router_free(r);
    if (s) {
        trace t;
        memset(&t, 0, sizeof t);
        pull_all(s, 2, 0, &t);
        CHECK_INT(t.terminals, 1);
        CHECK_INT(t.terminal_status, PMX_ERR_CANCELLED);
        trace_clear(&t);
    }
    pmx_stream_free(s);
}

/* An error before any output: the ERROR event, json and typed, then the end. */
static void test_error_terminal(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\","
                                  "\"script\":[{\"status\":503,\"times\":10,\"message\":\"down\"}]}],"
                                  "\"retry\":{\"max_attempts\":1}}");
    trace t;
    if (!r)
        return;
    pull_request(r, USER("fail") "}", 64, PMX_NEXT_WITH_JSON, &t);
    CHECK_INT(t.terminals, 1);
    CHECK_INT(t.terminal_status, PMX_ERR_UPSTREAM_SERVER);
    CHECK_INT(t.types[t.n - 1], PMX_EVENT_ERROR);
    trace_clear(&t);
    pmx_router_free(r);
}

/* Misuse: NULL arguments, bad sizes / flags / timeouts, a callback stream. */
static int32_t ignore_event(const char *event_json, size_t len, void *userdata)
{
    (void)event_json; (void)len; (void)userdata;
    return 0;
}

typedef struct {
    pmx_stream *pull;
    pmx_status wait_status, poll_status;
    int done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} io_thread_probe;

/* Inside an async stream's callback (a library I/O thread): a wait would deadlock, a poll is fine. */
static int32_t probe_on_io_thread(const char *event_json, size_t len, void *userdata)
{
    io_thread_probe *p = (io_thread_probe *)userdata;
    pmx_event ev[1];
    size_t count = 0;
    (void)len;
    if (strstr(event_json, "\"type\":\"start\"") && p->wait_status == 1) {
        p->wait_status = pmx_stream_next(ev, 1, sizeof(pmx_event), &count, p->pull, -1, 0, NULL);
        p->poll_status = pmx_stream_next(ev, 1, sizeof(pmx_event), &count, p->pull, 0, 0, NULL);
    }
    if (strstr(event_json, "\"type\":\"done\"") || strstr(event_json, "\"type\":\"error\"")) {
        pthread_mutex_lock(&p->lock);
        p->done = 1;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
    return 0;
}

static void test_misuse(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    pmx_stream *s = NULL, *async = NULL;
    pmx_event ev[2];
    size_t count = 5;
    pmx_error err;
    io_thread_probe probe;
    int k;
    if (!r)
        return;
    CHECK_STATUS(pmx_router_stream_open(NULL, r, USER("x") "}", &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_router_stream_open(&s, NULL, USER("x") "}", &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK(s == NULL);
    CHECK_STATUS(pmx_router_stream_open(&s, r, NULL, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_router_stream_open(&s, r, "{\"messages\":", &err), PMX_ERR_INVALID_JSON, &err);
    CHECK_STATUS(pmx_router_stream_open(&s, r, "{\"messages\":[]}", &err), PMX_ERR_INVALID_REQUEST, &err);
    CHECK(s == NULL);

    s = open_stream(r, USER("misuse") "}");
    if (!s) {
        pmx_router_free(r);
        return;
    }
    CHECK_STATUS(pmx_stream_next(NULL, 2, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "out is NULL");
    CHECK_INT(count, 0);
    CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), NULL, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), &count, NULL, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_stream_next(ev, 0, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "capacity");
    CHECK_STATUS(pmx_stream_next(ev, 2, PMX_EVENT_SIZE_MIN - 8, &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "event_size");
    CHECK_STATUS(pmx_stream_next(ev, 2, (size_t)-1, &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "event_size");
    CHECK_STATUS(pmx_stream_next(ev, (size_t)-1, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "capacity");
    CHECK_STATUS(pmx_stream_next(ev, (size_t)1 << 60, sizeof(pmx_event), &count, s, -1, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "does not fit");
    CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), &count, s, -1, 0x80, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "flags");
    CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), &count, s, -2, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "timeout_ms");
    /* None of these took an event: the stream is still whole. */
    {
        trace t;
        memset(&t, 0, sizeof t);
        pull_all(s, 64, 0, &t);
        CHECK_INT(t.types[0], PMX_EVENT_START);
        CHECK_STR(t.content, "mock: misuse");
        trace_clear(&t);
    }
    pmx_stream_free(s);
    pmx_stream_free(NULL);
    pmx_stream_cancel(NULL);

    /* A callback stream has no queue to pull. */
    memset(&probe, 0, sizeof probe);
    pthread_mutex_init(&probe.lock, NULL);
    pthread_cond_init(&probe.cond, NULL);
    CHECK_STATUS(pmx_router_stream_async(&async, r, USER("pushed") "}", probe_on_io_thread, &probe, &err), PMX_OK, &err);
    if (async) {
        CHECK_STATUS(pmx_stream_next(ev, 2, sizeof(pmx_event), &count, async, 0, 0, &err), PMX_ERR_INVALID_ARGUMENT, &err);
        CHECK_CONTAINS(err.message, "pmx_router_stream_async");
    }
    pthread_mutex_lock(&probe.lock);
    for (k = 0; k < 500 && !probe.done; k++)
        tu_cond_wait_ms(&probe.cond, &probe.lock, 10);
    pthread_mutex_unlock(&probe.lock);
    pmx_stream_free(async);

    /* On an I/O thread: waiting is refused, polling works. */
    memset(&probe, 0, sizeof probe);
    pthread_mutex_init(&probe.lock, NULL);
    pthread_cond_init(&probe.cond, NULL);
    probe.pull = open_stream(r, USER("pulled from a callback") "}");
    probe.wait_status = 1;
    CHECK_STATUS(pmx_router_stream_async(NULL, r, USER("pushed") "}", probe_on_io_thread, &probe, &err), PMX_OK, &err);
    pthread_mutex_lock(&probe.lock);
    for (k = 0; k < 500 && !probe.done; k++)
        tu_cond_wait_ms(&probe.cond, &probe.lock, 10);
    pthread_mutex_unlock(&probe.lock);
    CHECK(probe.done);
    CHECK_STATUS(probe.wait_status, PMX_ERR_WOULD_DEADLOCK, NULL);
    CHECK_STATUS(probe.poll_status, PMX_OK, NULL);
    pmx_stream_free(probe.pull);
    (void)ignore_event;
    pmx_router_free(r);
}

int main(void)
{
    tu_watchdog(270);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    RUN(test_layout);
    RUN(test_mock_events_match_json);
    RUN(test_json_only_when_asked);
    RUN(test_capacity_one_and_the_end);
    RUN(test_event_size_growth);
    RUN(test_upstream_tool_calls_and_usage);
    RUN(test_masking);
    RUN(test_timeouts_cancel_and_one_reader);
    RUN(test_free_mid_stream);
    RUN(test_error_terminal);
    RUN(test_misuse);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
