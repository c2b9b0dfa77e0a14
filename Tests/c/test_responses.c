/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_responses.c — responses.create through pmx_router_call / pmx_router_call_stream: passed
 * through to the fake OpenAI and Azure /responses (Tests/upstream/protocols/responses.py,
 * responses_azure.py), translated to chat for the mock, the fake Anthropic and an
 * OpenAI-compatible server; complete and stream (the `response.*` events between our `start`
 * and `done`), a tool call round trip, a refused previous_response_id failing over.
 */
#include "testutil.h"

static tu_upstream up;

typedef struct {
    int starts, usages, ops, deltas, terminals, seq_ok;
    long long last_seq;
    char first[32], last[32], last_op[40];
    char text[1024];
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
    if (strncmp(type, "response.", 9) == 0) {
        long long seq = tu_jint(ev, "sequence_number", -1);
        if (e->ops == 0)
            e->seq_ok = 1;
        if (e->ops > 0 && seq <= e->last_seq)
            e->seq_ok = 0;
        e->last_seq = seq;
        e->ops++;
        snprintf(e->last_op, sizeof e->last_op, "%s", type);
        if (strcmp(type, "response.output_text.delta") == 0) {
            const char *d = tu_jstr(ev, "delta");
            e->deltas++;
            if (d)
                strncat(e->text, d, sizeof e->text - strlen(e->text) - 1);
        }
    } else if (strcmp(type, "start") == 0) {
        e->starts++;
    } else if (strcmp(type, "usage") == 0) {
        e->usages++;
    } else if (strcmp(type, "done") == 0) {
        e->terminals++;
        e->done = json_incref(json_object_get(ev, "response"));
    } else if (strcmp(type, "error") == 0) {
        e->terminals++;
    }
    json_decref(ev);
    return 0;
}

/* One complete and one streamed call of `request` on `r`; both must answer `want`. */
static void complete_and_stream(pmx_router *r, const char *request, const char *want, const char *provider)
{
    pmx_error err;
    char *out = NULL;
    json_t *o;
    events ev;
    pmx_status st = pmx_router_call(&out, r, "responses.create", request, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    o = tu_json(out);
    CHECK_STR(tu_jstr(o, "object"), "response");
    CHECK_STR(tu_jstr(o, "status"), "completed");
    CHECK_STR(tu_jstr(o, "output.0.type"), "message");
    CHECK_STR(tu_jstr(o, "output.0.content.0.type"), "output_text");
    CHECK_STR(tu_jstr(o, "output.0.content.0.text"), want);
    CHECK_STR(tu_jstr(o, "provider"), provider);
    CHECK(tu_jint(o, "usage.input_tokens", -1) > 0 && tu_jint(o, "usage.output_tokens", -1) > 0);
    CHECK(tu_jlen(o, "attempts") >= 1);
    json_decref(o);
    pmx_string_free(out);

    memset(&ev, 0, sizeof ev);
    out = NULL;
    st = pmx_router_call_stream(&out, r, "responses.create", request, on_event, &ev, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_STR(ev.first, "start");
    CHECK_STR(ev.last, "done");
    CHECK_STR(ev.last_op, "response.completed");
    CHECK(ev.seq_ok);
    CHECK_STR(ev.text, want);
    CHECK(ev.deltas >= 2 && ev.terminals == 1);
    CHECK_STR(tu_jstr(ev.done, "object"), "response");
    CHECK_STR(tu_jstr(ev.done, "output.0.content.0.text"), want);
    CHECK_STR(tu_jstr(ev.done, "provider"), provider);
    CHECK(tu_jint(ev.done, "usage.output_tokens", -1) > 0);
    o = tu_json(out);
    CHECK_STR(tu_jstr(o, "output.0.content.0.text"), want);
    json_decref(o);
    json_decref(ev.done);
    pmx_string_free(out);
}

/* pmx_router_call of responses.create that must succeed: its result parsed (NULL on failure). */
static json_t *call_ok(pmx_router *r, const char *request)
{
    pmx_error err;
    char *out = NULL;
    json_t *o;
    pmx_status st = pmx_router_call(&out, r, "responses.create", request, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    o = out ? tu_json(out) : NULL;
    pmx_string_free(out);
    return o;
}

/* A tool call then its output sent back, on `model`: the function_call item is checked, the
   final answer returned (parsed). */
static json_t *tool_round_trip(pmx_router *r, const char *model)
{
    char *request = tu_format("{\"model\":\"%s\",\"input\":\"weather in Paris?\",\"tools\":[{\"type\":\"function\","
                              "\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\"}}]}", model);
    json_t *o = call_ok(r, request);
    free(request);
    CHECK_STR(tu_jstr(o, "output.0.type"), "function_call");
    CHECK_STR(tu_jstr(o, "output.0.call_id"), "call_fake_1");
    CHECK_STR(tu_jstr(o, "output.0.name"), "get_weather");
    CHECK_CONTAINS(tu_jstr(o, "output.0.arguments"), "Paris");
    json_decref(o);
    request = tu_format("{\"model\":\"%s\",\"input\":[{\"role\":\"user\",\"content\":\"and tomorrow?\"},"
                        "{\"type\":\"function_call\",\"call_id\":\"call_fake_1\",\"name\":\"get_weather\",\"arguments\":\"{}\"},"
                        "{\"type\":\"function_call_output\",\"call_id\":\"call_fake_1\",\"output\":\"sunny\"}],"
                        "\"tools\":[{\"type\":\"function\",\"name\":\"get_weather\"}]}", model);
    o = call_ok(r, request);
    free(request);
    return o;
}

static void test_mock(void)
{
    pmx_router *r = tu_router_new("{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}");
    pmx_error err;
    char *out = NULL;
    pmx_status st;
    if (!r)
        return;
    complete_and_stream(r, "{\"model\":\"m/x\",\"input\":\"one two\"}", "mock: one two", "m");
    /* Items in: the last user message is answered. */
    complete_and_stream(r, "{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"three four\"}]}]}",
                        "mock: three four", "m");
    /* What chat cannot carry is refused, naming the field; bad input names the field. */
    st = pmx_router_call(&out, r, "responses.create", "{\"input\":\"x\",\"previous_response_id\":\"resp_1\"}", &err);
    CHECK_STATUS(st, PMX_ERR_UNSUPPORTED, &err);
    CHECK_CONTAINS(err.message, "previous_response_id");
    st = pmx_router_call(&out, r, "responses.create", "{\"input\":5}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_REQUEST, &err);
    CHECK_CONTAINS(err.message, "input");
    pmx_router_free(r);
}

static void test_passthrough(void)
{
    char *config = tu_format(
        "{\"providers\":[{\"name\":\"oai\",\"type\":\"openai\",\"base_url\":\"http://127.0.0.1:%d/oai/v1\",\"api_key\":\"k\","
        "\"models\":[\"gpt-x\"]},"
        "{\"name\":\"az\",\"type\":\"azure\",\"base_url\":\"http://127.0.0.1:%d/az\",\"api_key\":\"k\",\"models\":[\"dep\"],"
        "\"api_version\":\"2025-04-01-preview\"}],"
        "\"pricing\":{\"oai/gpt-x\":{\"input_per_mtok\":1,\"output_per_mtok\":2}},"
        "\"retry\":{\"initial_backoff_ms\":5,\"max_backoff_ms\":10}}",
        up.port, up.port);
    pmx_router *r = tu_router_new(config);
    char *log;
    json_t *o;
    if (!r) {
        free(config);
        return;
    }
    tu_upstream_script(&up, "oai", "[{\"status\":500}]");
    complete_and_stream(r, "{\"model\":\"oai/gpt-x\",\"input\":\"hello world\",\"store\":false}", "echo: hello world", "oai");
    complete_and_stream(r, "{\"model\":\"az/dep\",\"input\":\"hi there\"}", "echo: hi there", "az");
    log = tu_upstream_requests(&up, "oai");
    CHECK_CONTAINS(log, "/oai/v1/responses");
    CHECK_CONTAINS(log, "\"store\": false");
    free(log);
    log = tu_upstream_requests(&up, "az");
    CHECK_CONTAINS(log, "/az/openai/responses?api-version=2025-04-01-preview");
    free(log);

    /* Priced from input/output tokens; previous_response_id passes through. */
    o = call_ok(r, "{\"model\":\"oai/gpt-x\",\"input\":\"a b c\",\"previous_response_id\":\"resp_0\"}");
    CHECK(json_real_value(json_object_get(json_object_get(o, "usage"), "cost_usd")) > 0);
    json_decref(o);

    o = tool_round_trip(r, "oai/gpt-x");
    CHECK_STR(tu_jstr(o, "output.0.content.0.text"), "echo: tool said sunny");
    json_decref(o);
    pmx_router_free(r);
    free(config);
}

static void test_translated(void)
{
    char *config = tu_format(
        "{\"providers\":[{\"name\":\"claude\",\"type\":\"anthropic\",\"base_url\":\"http://127.0.0.1:%d/claude\",\"api_key\":\"k\","
        "\"models\":[\"c\"]},"
        "{\"name\":\"local\",\"type\":\"openai-compatible\",\"base_url\":\"http://127.0.0.1:%d/local/v1\",\"api_key\":\"k\","
        "\"models\":[\"l\"]},"
        "{\"name\":\"oai\",\"type\":\"openai\",\"base_url\":\"http://127.0.0.1:%d/oai2/v1\",\"api_key\":\"k\",\"models\":[\"c\"]}],"
        "\"retry\":{\"initial_backoff_ms\":5,\"max_backoff_ms\":10}}",
        up.port, up.port, up.port);
    pmx_router *r = tu_router_new(config);
    char *log;
    json_t *o;
    if (!r) {
        free(config);
        return;
    }
    complete_and_stream(r, "{\"model\":\"claude/c\",\"input\":\"good morning\",\"instructions\":\"be brief\"}", "echo: good morning",
                        "claude");
    complete_and_stream(r, "{\"model\":\"local/l\",\"input\":\"good night\"}", "echo: good night", "local");
    log = tu_upstream_requests(&up, "claude");
    CHECK_CONTAINS(log, "/claude/v1/messages");
    CHECK_CONTAINS(log, "be brief");
    free(log);
    log = tu_upstream_requests(&up, "local");
    CHECK_CONTAINS(log, "/local/v1/chat/completions");
    CHECK_NOT_CONTAINS(log, "/responses");
    free(log);

    /* A tool call from a chat server becomes a function_call item; the output goes back as a
       tool message. */
    o = tool_round_trip(r, "local/l");
    CHECK_STR(tu_jstr(o, "object"), "response");
    json_decref(o);
    log = tu_upstream_requests(&up, "local");
    CHECK_CONTAINS(log, "\"tool_call_id\": \"call_fake_1\"");
    CHECK_CONTAINS(log, "\"role\": \"tool\"");
    free(log);

    /* Stored responses live on openai: the anthropic candidate refuses, the request fails over. */
    o = call_ok(r, "{\"model\":\"c\",\"input\":\"x\",\"previous_response_id\":\"resp_1\"}");
    CHECK_STR(tu_jstr(o, "provider"), "oai");
    CHECK_STR(tu_jstr(o, "attempts.0.status_name"), "PMX_ERR_UNSUPPORTED");
    json_decref(o);
    pmx_router_free(r);
    free(config);
}

int main(void)
{
    tu_watchdog(270);
    RUN(test_mock);
    if (tu_upstream_start(&up) != 0) {
        CHECK_MSG(0, "could not start the fake upstream");
        return TEST_DONE();
    }
    RUN(test_passthrough);
    RUN(test_translated);
    tu_upstream_stop(&up);
    return TEST_DONE();
}
