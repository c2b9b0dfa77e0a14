/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_protocols.c — one router with one provider per wire protocol (openai-compatible,
 * anthropic, gemini, ollama, cohere, and azure when the fake upstream has its plugin), each on
 * its own scope of the fake upstream (Tests/upstream/fake_upstream.py + protocols/). For every
 * protocol: a reply streamed through pmx_router_stream (the deltas concatenate to the reply, the
 * `done` response is an OpenAI chat.completion) and a plain tool call (finish_reason
 * "tool_calls", the function name, arguments {"city": "Paris"}, an id), and reasoning streamed
 * (reasoning_effort "low": the delta events' "reasoning" before any "content", the done
 * response's reasoning_content; each vendor's own thinking shape at the fake upstream). API
 * keys never show.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#define MODEL "fake-small"
#define FAST_RETRY "\"retry\":{\"max_attempts\":3,\"initial_backoff_ms\":10,\"max_backoff_ms\":50,\"jitter\":0}"

static tu_upstream up;
static pmx_router *router;

typedef struct {
    const char *name;   /* provider name = type = fake-upstream scope */
    int v1;             /* base_url ends in /v1 (OpenAI-style) rather than the scope root */
    const char *extra;  /* extra members of the provider object */
} proto;

static proto protos[8];
static int n_protos = 0;

static void add_proto(const char *name, int v1, const char *extra)
{
    protos[n_protos].name = name;
    protos[n_protos].v1 = v1;
    protos[n_protos].extra = extra;
    n_protos++;
}

static int have_azure_plugin(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/Tests/upstream/protocols/azure.py", tu_source_dir());
    return access(path, R_OK) == 0;
}

static pmx_router *make_router(void)
{
    char *providers = tu_format("%s", "");
    char *json;
    pmx_router *r = NULL;
    pmx_error err;
    pmx_status st;
    int i;
    for (i = 0; i < n_protos; i++) {
        char *next = tu_format("%s{\"name\":\"%s\",\"type\":\"%s\",\"base_url\":\"http://127.0.0.1:%d/%s%s\","
                               "\"api_key\":\"test-key-%s\"%s},",
                               providers, protos[i].name, protos[i].name, up.port, protos[i].name,
                               protos[i].v1 ? "/v1" : "", protos[i].name, protos[i].extra);
        free(providers);
        providers = next;
    }
    json = tu_format("{\"providers\":[%s{\"name\":\"mock\",\"type\":\"mock\"}]," FAST_RETRY "}", providers);
    st = pmx_router_new(&r, json, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (st != PMX_OK)
        fprintf(stderr, "config was: %s\n", json);
    free(providers);
    free(json);
    return r;
}

/* True when no provider's key appears in `text`. */
static int no_keys(const char *text)
{
    int i;
    if (!text)
        return 1;
    for (i = 0; i < n_protos; i++) {
        char key[96];
        snprintf(key, sizeof key, "test-key-%s", protos[i].name);
        if (strstr(text, key)) {
            fprintf(stderr, "api key %s leaked in: %.300s\n", key, text);
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int events, starts, deltas, dones, errors, after_terminal, leaks;
    char content[2048];
    char reasoning[2048];
    int content_before_reasoning; /* a reasoning piece arrived after content: out of order */
    char first_provider[64];
    json_t *done_response;
    json_t *error_event;
} collector;

static int32_t collect(const char *event_json, size_t len, void *userdata)
{
    collector *c = (collector *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = json_string_value(json_object_get(ev, "type"));
    c->events++;
    if (strlen(event_json) != len)
        c->leaks += 1000; /* len must match the NUL-terminated text */
    if (!no_keys(event_json))
        c->leaks++;
    if (c->dones + c->errors)
        c->after_terminal++;
    if (!type)
        type = "?";
    if (strcmp(type, "start") == 0) {
        const char *p = json_string_value(json_object_get(ev, "provider"));
        if (!c->starts && p)
            snprintf(c->first_provider, sizeof c->first_provider, "%s", p);
        c->starts++;
    } else if (strcmp(type, "delta") == 0) {
        const char *s = json_string_value(json_object_get(ev, "content"));
        const char *r = json_string_value(json_object_get(ev, "reasoning"));
        c->deltas++;
        if (s)
            strncat(c->content, s, sizeof c->content - strlen(c->content) - 1);
        if (r) {
            if (c->content[0])
                c->content_before_reasoning++;
            strncat(c->reasoning, r, sizeof c->reasoning - strlen(c->reasoning) - 1);
        }
    } else if (strcmp(type, "done") == 0) {
        c->dones++;
        c->done_response = json_incref(json_object_get(ev, "response"));
    } else if (strcmp(type, "error") == 0) {
        c->errors++;
        c->error_event = json_incref(ev);
    }
    json_decref(ev);
    return 0;
}

/* The OpenAI chat.completion shape plus "provider" and "attempts". */
static void check_completion_shape(json_t *resp, const char *name)
{
    const char *id = tu_jstr(resp, "id");
    CHECK_MSG(resp != NULL, "%s: no response", name);
    if (!resp)
        return;
    CHECK_MSG(id && *id, "%s: response id", name);
    CHECK_STR(tu_jstr(resp, "object"), "chat.completion");
    CHECK_MSG(json_is_integer(tu_jget(resp, "created")), "%s: created is an integer", name);
    CHECK_MSG(tu_jstr(resp, "model") && *tu_jstr(resp, "model"), "%s: model", name);
    CHECK_STR(tu_jstr(resp, "provider"), name);
    CHECK_INT(tu_jlen(resp, "choices"), 1);
    CHECK_STR(tu_jstr(resp, "choices.0.message.role"), "assistant");
    CHECK_MSG(tu_jint(resp, "usage.total_tokens", -1) > 0, "%s: usage.total_tokens > 0 (got %lld)", name,
              tu_jint(resp, "usage.total_tokens", -1));
    CHECK_INT(tu_jint(resp, "usage.total_tokens", -1),
              tu_jint(resp, "usage.prompt_tokens", -1) + tu_jint(resp, "usage.completion_tokens", -1));
    CHECK_MSG(tu_jlen(resp, "attempts") >= 1, "%s: attempts", name);
    CHECK_STR(tu_jstr(resp, "attempts.0.outcome"), "ok");
    CHECK_MSG(json_is_number(tu_jget(resp, "latency_ms")), "%s: latency_ms", name);
}

static void stream_one(const proto *p)
{
    collector c;
    pmx_error err;
    char *out = NULL;
    char *req = tu_format("{\"model\":\"%s/" MODEL "\",\"messages\":[{\"role\":\"user\","
                          "\"content\":\"stream alpha beta gamma via %s\"}]}", p->name, p->name);
    char *expected = tu_format("echo: stream alpha beta gamma via %s", p->name);
    pmx_status st;
    json_t *from_out;

    memset(&c, 0, sizeof c);
    tu_err_poison(&err);
    st = pmx_router_stream(&out, router, req, collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    printf("   %-18s stream: %d events, %d deltas, \"%s\"\n", p->name, c.events, c.deltas, c.content);
    CHECK_INT(c.starts >= 1, 1);
    CHECK_STR(c.first_provider, p->name);
    CHECK_INT(c.dones, 1);
    CHECK_INT(c.errors, 0);
    CHECK_INT(c.after_terminal, 0);
    CHECK_INT(c.leaks, 0);
    CHECK_MSG(c.deltas >= 2, "%s: %d deltas, expected several", p->name, c.deltas);
    CHECK_STR(c.content, expected);
    check_completion_shape(c.done_response, p->name);
    CHECK_STR(tu_jstr(c.done_response, "choices.0.message.content"), expected);
    CHECK_STR(tu_jstr(c.done_response, "choices.0.finish_reason"), "stop");
    CHECK_MSG(json_is_number(tu_jget(c.done_response, "ttft_ms")), "%s: ttft_ms", p->name);
    /* `out` receives the same response as the done event. */
    CHECK_MSG(out != NULL, "%s: out set on success", p->name);
    from_out = tu_json(out);
    CHECK_STR(tu_jstr(from_out, "choices.0.message.content"), expected);
    CHECK_STR(tu_jstr(from_out, "id"), tu_jstr(c.done_response, "id"));
    CHECK_MSG(no_keys(out), "%s: no key in out", p->name);
    json_decref(from_out);
    pmx_string_free(out);
    json_decref(c.done_response);
    json_decref(c.error_event);
    free(req);
    free(expected);
}

static void tool_call_one(const proto *p)
{
    pmx_error err;
    char *out = NULL;
    char *req = tu_format(
        "{\"model\":\"%s/" MODEL "\",\"messages\":[{\"role\":\"user\",\"content\":\"what is the weather in Paris\"}],"
        "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
        "\"description\":\"Current weather of a city\",\"parameters\":{\"type\":\"object\","
        "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]}",
        p->name);
    pmx_status st;
    json_t *resp, *args;
    const char *id, *arguments;

    tu_err_poison(&err);
    st = pmx_router_complete(&out, router, req, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    resp = tu_json(out);
    check_completion_shape(resp, p->name);
    CHECK_STR(tu_jstr(resp, "choices.0.finish_reason"), "tool_calls");
    CHECK_MSG(tu_jlen(resp, "choices.0.message.tool_calls") >= 1, "%s: tool_calls present: %s", p->name,
              out ? out : "(null)");
    id = tu_jstr(resp, "choices.0.message.tool_calls.0.id");
    CHECK_MSG(id && *id, "%s: tool call id non-empty", p->name);
    CHECK_STR(tu_jstr(resp, "choices.0.message.tool_calls.0.type"), "function");
    CHECK_STR(tu_jstr(resp, "choices.0.message.tool_calls.0.function.name"), "get_weather");
    arguments = tu_jstr(resp, "choices.0.message.tool_calls.0.function.arguments");
    CHECK_MSG(arguments != NULL, "%s: arguments is a string", p->name);
    args = tu_json(arguments);
    CHECK_MSG(json_is_object(args) && json_object_size(args) == 1, "%s: arguments %s", p->name,
              arguments ? arguments : "(null)");
    CHECK_STR(tu_jstr(args, "city"), "Paris");
    CHECK_MSG(no_keys(out), "%s: no key in the response", p->name);
    printf("   %-18s tool call: id=%s arguments=%s\n", p->name, id ? id : "(null)",
           arguments ? arguments : "(null)");
    json_decref(args);
    json_decref(resp);
    pmx_string_free(out);
    free(req);
}

/* Reasoning asked for with reasoning_effort; the fake answers "thinking about: <text>" in the
   vendor's own shape (reasoning_content deltas, thinking blocks, thought parts, Ollama
   thinking, Cohere thinking content). */
static void reasoning_one(const proto *p)
{
    collector c;
    pmx_error err;
    char *req = tu_format("{\"model\":\"%s/" MODEL "\",\"reasoning_effort\":\"low\",\"max_tokens\":2000,"
                          "\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}", p->name);
    pmx_status st;

    memset(&c, 0, sizeof c);
    tu_err_poison(&err);
    st = pmx_router_stream(NULL, router, req, collect, &c, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    printf("   %-18s reasoning: \"%s\" then \"%s\"\n", p->name, c.reasoning, c.content);
    CHECK_INT(c.dones, 1);
    CHECK_INT(c.leaks, 0);
    CHECK_STR(c.reasoning, "thinking about: hello there");
    CHECK_STR(c.content, "echo: hello there");
    CHECK_INT(c.content_before_reasoning, 0);
    CHECK_STR(tu_jstr(c.done_response, "choices.0.message.reasoning_content"), "thinking about: hello there");
    json_decref(c.done_response);
    json_decref(c.error_event);
    free(req);
}

static void test_reasoning(void)
{
    int i;
    for (i = 0; i < n_protos; i++)
        reasoning_one(&protos[i]);
}

static void test_streams(void)
{
    int i;
    for (i = 0; i < n_protos; i++)
        stream_one(&protos[i]);
}

static void test_tool_calls(void)
{
    int i;
    for (i = 0; i < n_protos; i++)
        tool_call_one(&protos[i]);
}

static void test_stats_no_keys(void)
{
    char *out = NULL;
    pmx_error err;
    json_t *stats;
    size_t i;
    pmx_status st = pmx_router_stats(&out, router, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_MSG(no_keys(out), "no key in stats");
    stats = tu_json(out);
    CHECK_INT(tu_jlen(stats, "providers"), n_protos + 1);
    for (i = 0; i < tu_jlen(stats, "providers"); i++) {
        json_t *prov = json_array_get(json_object_get(stats, "providers"), i);
        const char *name = json_string_value(json_object_get(prov, "name"));
        if (name && strcmp(name, "mock") != 0)
            CHECK_MSG(tu_jint(prov, "successes", 0) >= 2, "%s: successes %lld", name,
                      tu_jint(prov, "successes", 0));
    }
    json_decref(stats);
    pmx_string_free(out);
}

int main(void)
{
    tu_watchdog(270);
    add_proto("openai-compatible", 1, "");
    add_proto("anthropic", 0, "");
    add_proto("gemini", 0, "");
    add_proto("ollama", 0, "");
    add_proto("cohere", 0, "");
    if (have_azure_plugin())
        add_proto("azure", 0, ",\"api_version\":\"2024-10-21\",\"deployment\":\"d1\"");
    else
        printf("azure: no fake-upstream plugin (Tests/upstream/protocols/azure.py), not tested\n");

    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    printf("fake upstream on port %d\n", up.port);
    router = make_router();
    if (router) {
        RUN(test_streams);
        RUN(test_tool_calls);
        RUN(test_reasoning);
        RUN(test_stats_no_keys);
        pmx_router_free(router);
    }
    tu_upstream_stop(&up);
    return TEST_DONE();
}
