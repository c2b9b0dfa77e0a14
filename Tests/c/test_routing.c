/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_routing.c — router intelligence through the C ABI: lanes chosen by route.lane, tags
 * and aliases; round robin; statistics as JSON and Prometheus text with reset; live routing
 * updates; routing config errors that name the field. In-process mock providers only.
 */
#include "testutil.h"

static const char *LANES_CONFIG =
    "{\"providers\":["
    "  {\"name\":\"cloud\",\"type\":\"mock\",\"models\":[\"gpt-4o\"]},"
    "  {\"name\":\"coder\",\"type\":\"mock\",\"models\":[\"claude\"]},"
    "  {\"name\":\"spare\",\"type\":\"mock\"}],"
    " \"routing\":{\"lanes\":{"
    "   \"code\":{\"providers\":[\"coder/claude\",\"cloud/gpt-4o\"],\"tags\":[\"coding\"],\"aliases\":[\"code-model\"]},"
    "   \"chat\":{\"providers\":[\"cloud\"],\"strategy\":\"priority\"}},"
    "  \"default_lane\":\"chat\"}}";

/* Runs one completion and returns the serving provider (static buffer), or "" on error. */
static const char *served_by(pmx_router *r, const char *request)
{
    static char name[64];
    char *out = NULL;
    pmx_error err;
    pmx_status st = pmx_router_complete(&out, r, request, &err);
    name[0] = '\0';
    if (st != PMX_OK) {
        fprintf(stderr, "complete failed: %s: %s\n", pmx_status_name(st), err.message);
        return name;
    }
    json_t *j = tu_json(out);
    const char *p = tu_jstr(j, "provider");
    snprintf(name, sizeof name, "%s", p ? p : "");
    json_decref(j);
    pmx_string_free(out);
    return name;
}

static void test_lanes(void)
{
    pmx_router *r = NULL;
    pmx_error err;
    CHECK_STATUS(pmx_router_new(&r, LANES_CONFIG, &err), PMX_OK, &err);
    if (!r)
        return;
    const char *msg = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    char *req;

    req = tu_format("{%s,\"route\":{\"lane\":\"code\"}}", msg);
    CHECK(strcmp(served_by(r, req), "coder") == 0);
    free(req);
    req = tu_format("{%s,\"route\":{\"tags\":[\"coding\"]}}", msg);
    CHECK(strcmp(served_by(r, req), "coder") == 0);
    free(req);
    req = tu_format("{%s,\"model\":\"code-model\"}", msg);
    CHECK(strcmp(served_by(r, req), "coder") == 0);
    free(req);
    req = tu_format("{%s}", msg);
    CHECK(strcmp(served_by(r, req), "cloud") == 0); /* the default lane */
    free(req);

    /* An unknown lane: PMX_ERR_INVALID_REQUEST naming route.lane. */
    char *out = NULL;
    req = tu_format("{%s,\"route\":{\"lane\":\"premium\"}}", msg);
    CHECK_STATUS(pmx_router_complete(&out, r, req, &err), PMX_ERR_INVALID_REQUEST, &err);
    CHECK(strstr(err.message, "route.lane") != NULL);
    CHECK(out == NULL);
    free(req);
    pmx_router_free(r);
}

static void test_stats_prometheus_and_reset(void)
{
    pmx_router *r = NULL;
    pmx_error err;
    CHECK_STATUS(pmx_router_new(&r,
        "{\"providers\":[{\"name\":\"a\",\"type\":\"mock\",\"models\":[\"m\"]},{\"name\":\"b\",\"type\":\"mock\",\"models\":[\"m\"]}],"
        " \"routing\":{\"strategy\":\"round_robin\"}}", &err), PMX_OK, &err);
    if (!r)
        return;
    const char *req = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"count\"}]}";
    CHECK(strcmp(served_by(r, req), "a") == 0);
    CHECK(strcmp(served_by(r, req), "b") == 0);
    CHECK(strcmp(served_by(r, req), "a") == 0);

    char *out = NULL;
    CHECK_STATUS(pmx_router_stats_ex(&out, r, NULL, &err), PMX_OK, &err);
    json_t *j = tu_json(out);
    CHECK_INT(tu_jint(j, "requests", -1), 3);
    CHECK_INT(tu_jint(j, "providers.0.requests", -1), 2);
    CHECK_INT(tu_jint(j, "providers.1.requests", -1), 1);
    CHECK(tu_jget(j, "providers.0.models.0.latency_ms.p50") != NULL);
    json_decref(j);
    pmx_string_free(out);

    out = NULL;
    CHECK_STATUS(pmx_router_stats_ex(&out, r, "{\"format\":\"prometheus\",\"reset\":true}", &err), PMX_OK, &err);
    CHECK(out && strstr(out, "# TYPE pmx_router_requests_total counter\n") != NULL);
    CHECK(out && strstr(out, "\npmx_router_requests_total 3\n") != NULL);
    CHECK(out && strstr(out, "pmx_attempts_total{provider=\"a\",model=\"m\"} 2\n") != NULL);
    pmx_string_free(out);

    out = NULL;
    CHECK_STATUS(pmx_router_stats(&out, r, &err), PMX_OK, &err);
    j = tu_json(out);
    CHECK_INT(tu_jint(j, "requests", -1), 0);
    json_decref(j);
    pmx_string_free(out);

    /* Bad options name the key. */
    out = NULL;
    CHECK_STATUS(pmx_router_stats_ex(&out, r, "{\"format\":\"xml\"}", &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "format") != NULL);
    CHECK_STATUS(pmx_router_stats_ex(&out, r, "{\"colour\":1}", &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK(strstr(err.message, "colour") != NULL);
    CHECK_STATUS(pmx_router_stats_ex(NULL, r, NULL, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_router_stats_ex(&out, NULL, NULL, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    pmx_router_free(r);
}

static void test_update_routing(void)
{
    pmx_router *r = NULL;
    pmx_error err;
    CHECK_STATUS(pmx_router_new(&r, "{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"},{\"name\":\"b\",\"type\":\"mock\"}]}", &err),
                 PMX_OK, &err);
    if (!r)
        return;
    const char *req = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    CHECK(strcmp(served_by(r, req), "a") == 0);
    CHECK_STATUS(pmx_router_update_routing(r, "{\"lanes\":{\"bee\":{\"providers\":[\"b\"]}},\"default_lane\":\"bee\"}", &err),
                 PMX_OK, &err);
    CHECK(strcmp(served_by(r, req), "b") == 0);
    CHECK_STATUS(pmx_router_update_routing(r, "{\"lanes\":{\"x\":{\"providers\":[\"ghost\"]}}}", &err), PMX_ERR_CONFIG, &err);
    CHECK(strncmp(err.message, "routing.lanes.x.providers[0]", 28) == 0);
    CHECK(strcmp(served_by(r, req), "b") == 0); /* unchanged after a bad update */
    CHECK_STATUS(pmx_router_update_routing(r, "not json", &err), PMX_ERR_INVALID_JSON, &err);
    CHECK_STATUS(pmx_router_update_routing(NULL, "{}", &err), PMX_ERR_INVALID_ARGUMENT, &err);
    CHECK_STATUS(pmx_router_update_routing(r, NULL, &err), PMX_ERR_INVALID_ARGUMENT, &err);
    pmx_router_free(r);
}

static void test_bad_config(void)
{
    static const struct { const char *json; const char *field; } cases[] = {
        {"{\"providers\":[{\"name\":\"a\",\"type\":\"mock\",\"weight\":-1}]}", "providers[0].weight"},
        {"{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"}],\"routing\":{\"default_lane\":\"nope\"}}", "routing.default_lane"},
        {"{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"}],\"routing\":{\"lanes\":{\"l\":{\"providers\":[\"zz\"]}}}}",
         "routing.lanes.l.providers[0]"},
        {"{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"}],\"routing\":{\"fallbacks\":{\"x\":[\"y\"],\"y\":[\"x\"]}}}",
         "routing.fallbacks"},
        {"{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"}],\"budget\":{\"usd\":3}}", "budget.window"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pmx_router *r = NULL;
        pmx_error err;
        CHECK_STATUS(pmx_router_new(&r, cases[i].json, &err), PMX_ERR_CONFIG, &err);
        CHECK_MSG(strncmp(err.message, cases[i].field, strlen(cases[i].field)) == 0, "case %zu: \"%s\" does not start with %s", i,
                  err.message, cases[i].field);
        CHECK(r == NULL);
        pmx_router_free(r);
    }
}

int main(void)
{
    tu_watchdog(120);
    test_lanes();
    test_stats_prometheus_and_reset();
    test_update_routing();
    test_bad_config();
    return TEST_DONE();
}
