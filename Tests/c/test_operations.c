/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_operations.c — pmx_router_call / pmx_router_call_stream from C: completions.create on
 * the mock and, against the fake upstream (Tests/upstream/fake_upstream.py and its
 * protocols/completions.py, ollama_generate.py, llamacpp_infill.py), on OpenAI /completions,
 * Ollama /api/generate, llama.cpp /infill and Mistral /fim/completions: complete, stream, a
 * failover from a provider type without the operation, a retried 429 and 500; argument errors.
 */
#include "testutil.h"

static tu_upstream up;

typedef struct {
    int deltas, usages, fallbacks, terminals;
    char first[16], last[16];
    char content[1024];
    json_t *done;
} events;

static int32_t on_event(const char *event_json, size_t len, void *userdata)
{
    events *e = (events *)userdata;
    json_t *ev = tu_json(event_json);
    const char *type = ev ? json_string_value(json_object_get(ev, "type")) : "?";
    (void)len;
    if (!type)
        type = "?";
    if (!e->first[0])
        snprintf(e->first, sizeof e->first, "%s", type);
    snprintf(e->last, sizeof e->last, "%s", type);
    if (strcmp(type, "delta") == 0) {
        const char *c = json_string_value(json_object_get(ev, "content"));
        e->deltas++;
        if (c)
            strncat(e->content, c, sizeof e->content - strlen(e->content) - 1);
    } else if (strcmp(type, "usage") == 0) {
        e->usages++;
    } else if (strcmp(type, "fallback") == 0) {
        e->fallbacks++;
    } else if (strcmp(type, "done") == 0) {
        e->terminals++;
        e->done = json_incref(json_object_get(ev, "response"));
    } else if (strcmp(type, "error") == 0) {
        e->terminals++;
    }
    json_decref(ev);
    return 0;
}

static void test_mock(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    pmx_error err;
    char *out = NULL;
    json_t *o;
    events ev;
    pmx_status st;

    if (!r)
        return;
    st = pmx_router_call(&out, r, "completions.create", "{\"model\":\"m/x\",\"prompt\":\"def f(\",\"suffix\":\"pass\"}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    o = tu_json(out);
    CHECK_STR(tu_jstr(o, "object"), "text_completion");
    CHECK_STR(tu_jstr(o, "choices.0.text"), "mock: def f( \xe2\x80\xa6 pass");
    CHECK_STR(tu_jstr(o, "provider"), "m");
    CHECK_INT(tu_jlen(o, "attempts"), 1);
    CHECK(tu_jint(o, "usage.completion_tokens", -1) == 5);
    json_decref(o);
    pmx_string_free(out);

    memset(&ev, 0, sizeof ev);
    out = NULL;
    st = pmx_router_call_stream(&out, r, "completions.create", "{\"prompt\":\"one two\"}", on_event, &ev, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_STR(ev.first, "start");
    CHECK_STR(ev.last, "done");
    CHECK_STR(ev.content, "mock: one two");
    CHECK(ev.deltas == 3 && ev.usages == 1 && ev.terminals == 1);
    CHECK_STR(tu_jstr(ev.done, "object"), "text_completion");
    CHECK_STR(tu_jstr(ev.done, "choices.0.text"), "mock: one two");
    o = tu_json(out);
    CHECK_STR(tu_jstr(o, "choices.0.text"), "mock: one two");
    json_decref(o);
    json_decref(ev.done);
    pmx_string_free(out);

    /* Chat by name: the same as pmx_router_complete. */
    out = NULL;
    st = pmx_router_call(&out, r, "chat.completions.create", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &err);
    CHECK_STATUS(st, PMX_OK, &err);
    o = tu_json(out);
    CHECK_STR(tu_jstr(o, "choices.0.message.content"), "mock: hi");
    json_decref(o);
    pmx_string_free(out);

    /* Argument errors: unknown operation (naming the known ones), NULLs, a bad request. */
    out = NULL;
    st = pmx_router_call(&out, r, "completion.create", "{\"prompt\":\"x\"}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "\"completions.create\"");
    CHECK(out == NULL);
    st = pmx_router_call(&out, r, NULL, "{}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    st = pmx_router_call(NULL, r, "completions.create", "{\"prompt\":\"x\"}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    st = pmx_router_call_stream(&out, r, "completions.create", "{\"prompt\":\"x\"}", NULL, NULL, &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_ARGUMENT, &err);
    st = pmx_router_call(&out, r, "completions.create", "{\"prompt\":5}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_REQUEST, &err);
    CHECK_CONTAINS(err.message, "prompt");
    /* The mock answers moderations since ops16b; OpenRouter's account stays unsupported. */
    st = pmx_router_call(&out, r, "openrouter.credits", "{}", &err);
    CHECK_STATUS(st, PMX_ERR_UNSUPPORTED, &err);
    pmx_router_free(r);
}

/* name, type, base suffix, fim (suffix sent), path reached */
static const char *const protos[][5] = {
    {"openai", "openai", "/v1", "", "/v1/completions"},
    {"ollama", "ollama", "", "fim", "/api/generate"},
    {"llamacpp", "llamacpp", "/v1", "fim", "/infill"},
    {"mistral", "mistral", "/v1", "fim", "/v1/fim/completions"},
};

static void test_upstream_protocols(void)
{
    size_t i;
    for (i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        const char *name = protos[i][0];
        int fim = protos[i][3][0] != 0;
        char *config = tu_format(
            "{\"providers\":[{\"name\":\"claude\",\"type\":\"anthropic\",\"base_url\":\"http://127.0.0.1:%d/claude\","
            "\"api_key\":\"k\",\"models\":[\"code\"]},"
            "{\"name\":\"%s\",\"type\":\"%s\",\"base_url\":\"http://127.0.0.1:%d/%s%s\",\"api_key\":\"k\",\"models\":[\"code\"]}],"
            "\"retry\":{\"initial_backoff_ms\":5,\"max_backoff_ms\":10}}",
            up.port, name, protos[i][1], up.port, name, protos[i][2]);
        char *request = tu_format("{\"model\":\"code\",\"prompt\":\"x y\"%s}", fim ? ",\"suffix\":\"z\"" : "");
        const char *want = fim ? "echo: x y | z" : "echo: x y";
        pmx_router *r = tu_router_new(config);
        pmx_error err;
        char *out = NULL;
        json_t *o;
        events ev;
        pmx_status st;
        char *log;

        printf("   %s\n", name);
        if (!r)
            continue;
        /* A 500 then an answer: the anthropic provider is refused first (unsupported). */
        tu_upstream_script(&up, name, "[{\"status\":500}]");
        st = pmx_router_call(&out, r, "completions.create", request, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        o = tu_json(out);
        CHECK_STR(tu_jstr(o, "object"), "text_completion");
        CHECK_STR(tu_jstr(o, "choices.0.text"), want);
        CHECK_STR(tu_jstr(o, "provider"), name);
        CHECK_INT(tu_jlen(o, "attempts"), 3);
        CHECK_STR(tu_jstr(o, "attempts.0.status_name"), "PMX_ERR_UNSUPPORTED");
        CHECK_STR(tu_jstr(o, "attempts.1.status_name"), "PMX_ERR_UPSTREAM_SERVER");
        json_decref(o);
        pmx_string_free(out);

        /* A 429 then a stream. */
        tu_upstream_script(&up, name, "[{\"status\":429,\"retry_after\":0}]");
        memset(&ev, 0, sizeof ev);
        out = NULL;
        st = pmx_router_call_stream(&out, r, "completions.create", request, on_event, &ev, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        CHECK_STR(ev.content, want);
        CHECK(ev.deltas >= 3);
        CHECK(ev.fallbacks == 1 && ev.usages == 1);
        CHECK_STR(tu_jstr(ev.done, "choices.0.text"), want);
        CHECK_STR(tu_jstr(ev.done, "object"), "text_completion");
        json_decref(ev.done);
        pmx_string_free(out);

        log = tu_upstream_requests(&up, name);
        CHECK_CONTAINS(log, protos[i][4]);
        free(log);
        log = tu_upstream_requests(&up, "claude");
        CHECK_NOT_CONTAINS(log, "/claude/");
        free(log);
        pmx_router_free(r);
        free(config);
        free(request);
    }
}

int main(void)
{
    tu_watchdog(270);
    RUN(test_mock);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    RUN(test_upstream_protocols);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
