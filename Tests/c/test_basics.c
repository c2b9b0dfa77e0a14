/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_basics.c — versions, status names, *_free(NULL), NULL arguments, input validation
 * (JSON, UTF-8, config keys, provider types, environment variables) and secret hygiene.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>

#define MOCK_CONFIG "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}"
#define HELLO_REQUEST "{\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"

static int32_t ignore_event(const char *event_json, size_t len, void *userdata)
{
    (void)event_json;
    (void)len;
    (void)userdata;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

static void test_versions(void)
{
    CHECK_INT(pmx_version_number(), PMX_VERSION_NUMBER);
    CHECK_INT(PMX_VERSION_NUMBER,
              PMX_VERSION_MAJOR * 10000 + PMX_VERSION_MINOR * 100 + PMX_VERSION_PATCH);
    CHECK(pmx_version_string() != NULL);
    CHECK_STR(pmx_version_string(), PMX_VERSION_STRING);
    {
        char expect[32];
        snprintf(expect, sizeof expect, "%d.%d.%d", PMX_VERSION_MAJOR, PMX_VERSION_MINOR,
                 PMX_VERSION_PATCH);
        CHECK_STR(PMX_VERSION_STRING, expect);
    }
    /* Static string: the same pointer every time. */
    CHECK(pmx_version_string() == pmx_version_string());
}

/* PMX_AT_LEAST_VERSION works in #if (compile time, like curl's CURL_AT_LEAST_VERSION) and in
 * expressions; it compares this header's version, inclusive, component by component. */
#if !PMX_AT_LEAST_VERSION(0, 0, 0) || !PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, PMX_VERSION_PATCH)
#error "PMX_AT_LEAST_VERSION must hold for this header's own version and for 0.0.0"
#endif
#if PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, PMX_VERSION_PATCH + 1)
#error "PMX_AT_LEAST_VERSION must not hold for a newer patch"
#endif
#if PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR + 1, 0, 0)
#error "PMX_AT_LEAST_VERSION must not hold for the next major version"
#endif

static void test_version_check_macro(void)
{
    CHECK_INT(PMX_VERSION_ENCODE(1, 2, 3), 10203);
    CHECK_INT(PMX_VERSION_ENCODE(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, PMX_VERSION_PATCH),
              PMX_VERSION_NUMBER);
    CHECK(PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, PMX_VERSION_PATCH));
    CHECK(!PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR, PMX_VERSION_MINOR + 1, 0));
    CHECK(PMX_AT_LEAST_VERSION(PMX_VERSION_MAJOR, 0, 99) || PMX_VERSION_MINOR == 0);
    /* The run-time check a program makes against the loaded library. */
    CHECK(pmx_version_number() >= PMX_VERSION_ENCODE(PMX_VERSION_MAJOR, PMX_VERSION_MINOR, 0));
}

static void test_status_names(void)
{
    static const struct {
        pmx_status code;
        const char *name;
    } table[] = {
        {PMX_OK, "PMX_OK"},
        {PMX_ERR_INVALID_ARGUMENT, "PMX_ERR_INVALID_ARGUMENT"},
        {PMX_ERR_INVALID_JSON, "PMX_ERR_INVALID_JSON"},
        {PMX_ERR_INVALID_UTF8, "PMX_ERR_INVALID_UTF8"},
        {PMX_ERR_CONFIG, "PMX_ERR_CONFIG"},
        {PMX_ERR_ENV_VAR_MISSING, "PMX_ERR_ENV_VAR_MISSING"},
        {PMX_ERR_UNKNOWN_PROVIDER_TYPE, "PMX_ERR_UNKNOWN_PROVIDER_TYPE"},
        {PMX_ERR_INVALID_REQUEST, "PMX_ERR_INVALID_REQUEST"},
        {PMX_ERR_NO_PROVIDER, "PMX_ERR_NO_PROVIDER"},
        {PMX_ERR_PROVIDER_NOT_FOUND, "PMX_ERR_PROVIDER_NOT_FOUND"},
        {PMX_ERR_DUPLICATE_PROVIDER, "PMX_ERR_DUPLICATE_PROVIDER"},
        {PMX_ERR_CANCELLED, "PMX_ERR_CANCELLED"},
        {PMX_ERR_TIMEOUT, "PMX_ERR_TIMEOUT"},
        {PMX_ERR_CONNECTION, "PMX_ERR_CONNECTION"},
        {PMX_ERR_UPSTREAM_HTTP, "PMX_ERR_UPSTREAM_HTTP"},
        {PMX_ERR_RATE_LIMITED, "PMX_ERR_RATE_LIMITED"},
        {PMX_ERR_AUTH, "PMX_ERR_AUTH"},
        {PMX_ERR_UPSTREAM_PROTOCOL, "PMX_ERR_UPSTREAM_PROTOCOL"},
        {PMX_ERR_STREAM_INTERRUPTED, "PMX_ERR_STREAM_INTERRUPTED"},
        {PMX_ERR_UPSTREAM_BAD_REQUEST, "PMX_ERR_UPSTREAM_BAD_REQUEST"},
        {PMX_ERR_MODEL_NOT_FOUND, "PMX_ERR_MODEL_NOT_FOUND"},
        {PMX_ERR_UNSUPPORTED, "PMX_ERR_UNSUPPORTED"},
        {PMX_ERR_UPSTREAM_SERVER, "PMX_ERR_UPSTREAM_SERVER"},
        {PMX_ERR_ROUTER_CLOSED, "PMX_ERR_ROUTER_CLOSED"},
        {PMX_ERR_RESPONSE_TOO_LARGE, "PMX_ERR_RESPONSE_TOO_LARGE"},
        {PMX_ERR_QUOTA_EXCEEDED, "PMX_ERR_QUOTA_EXCEEDED"},
        {PMX_ERR_PERMISSION, "PMX_ERR_PERMISSION"},
        {PMX_ERR_MODEL_NOT_LOADED, "PMX_ERR_MODEL_NOT_LOADED"},
        {PMX_ERR_CONTEXT_LENGTH_EXCEEDED, "PMX_ERR_CONTEXT_LENGTH_EXCEEDED"},
        {PMX_ERR_CONTENT_FILTERED, "PMX_ERR_CONTENT_FILTERED"},
        {PMX_ERR_BUDGET_EXCEEDED, "PMX_ERR_BUDGET_EXCEEDED"},
        {PMX_ERR_CIRCUIT_OPEN, "PMX_ERR_CIRCUIT_OPEN"},
        {PMX_ERR_WOULD_DEADLOCK, "PMX_ERR_WOULD_DEADLOCK"},
        {PMX_ERR_INTERNAL, "PMX_ERR_INTERNAL"},
    };
    static const pmx_status unknown[] = {1, 2, 100, -33, -50, -98, -100, -1000,
                                         INT32_MAX, INT32_MIN};
    size_t i;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *name = pmx_status_name(table[i].code);
        CHECK_MSG(name != NULL && strcmp(name, table[i].name) == 0,
                  "pmx_status_name(%d) = %s, expected %s", (int)table[i].code,
                  name ? name : "(null)", table[i].name);
    }
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *name = pmx_status_name(unknown[i]);
        CHECK_MSG(name != NULL && strcmp(name, "PMX_UNKNOWN_STATUS") == 0,
                  "pmx_status_name(%d) = %s, expected PMX_UNKNOWN_STATUS", (int)unknown[i],
                  name ? name : "(null)");
    }
}

static void test_free_null(void)
{
    /* None of these may crash. */
    pmx_string_free(NULL);
    pmx_provider_free(NULL);
    pmx_router_free(NULL);
    pmx_stream_free(NULL);
    pmx_stream_cancel(NULL);
    pmx_set_log_callback(NULL, PMX_LOG_TRACE, NULL);
    CHECK(1);
}

/* Runs one call expected to fail with PMX_ERR_INVALID_ARGUMENT; verifies the error struct. */
#define EXPECT_INVALID_ARGUMENT(call_with_err)                                               \
    do {                                                                                     \
        pmx_status st_;                                                                      \
        tu_err_poison(&err);                                                                 \
        st_ = (call_with_err);                                                               \
        CHECK_STATUS(st_, PMX_ERR_INVALID_ARGUMENT, &err);                                   \
        CHECK_INT(err.code, PMX_ERR_INVALID_ARGUMENT);                                       \
        CHECK(tu_err_terminated(&err));                                                      \
        CHECK_MSG(err.message[0] != '\0', "%s: empty error message", #call_with_err);        \
    } while (0)

static void test_null_arguments(void)
{
    pmx_error err;
    pmx_router *router = NULL;
    pmx_provider *prov = NULL;
    pmx_stream *stream = NULL;
    char *out = NULL;
    pmx_status st;

    st = pmx_router_new(&router, MOCK_CONFIG, NULL);
    CHECK_STATUS(st, PMX_OK, NULL);
    st = pmx_provider_new(&prov, "{\"name\":\"extra\",\"type\":\"mock\"}", NULL);
    CHECK_STATUS(st, PMX_OK, NULL);
    if (!router || !prov) {
        pmx_router_free(router);
        pmx_provider_free(prov);
        return;
    }

    EXPECT_INVALID_ARGUMENT(pmx_provider_new(NULL, "{\"name\":\"x\",\"type\":\"mock\"}", &err));
    pmx_provider_free(prov);
    prov = (pmx_provider *)&err; /* must be reset to NULL on failure */
    EXPECT_INVALID_ARGUMENT(pmx_provider_new(&prov, NULL, &err));
    CHECK(prov == NULL);
    st = pmx_provider_new(&prov, "{\"name\":\"extra\",\"type\":\"mock\"}", NULL);
    CHECK_STATUS(st, PMX_OK, NULL);

    EXPECT_INVALID_ARGUMENT(pmx_router_new(NULL, MOCK_CONFIG, &err));
    {
        pmx_router *r2 = (pmx_router *)&err;
        EXPECT_INVALID_ARGUMENT(pmx_router_new(&r2, NULL, &err));
        CHECK(r2 == NULL);
    }

    EXPECT_INVALID_ARGUMENT(pmx_router_add_provider(NULL, prov, &err));
    EXPECT_INVALID_ARGUMENT(pmx_router_add_provider(router, NULL, &err));
    EXPECT_INVALID_ARGUMENT(pmx_router_remove_provider(NULL, "m", &err));
    EXPECT_INVALID_ARGUMENT(pmx_router_remove_provider(router, NULL, &err));

    EXPECT_INVALID_ARGUMENT(pmx_router_complete(NULL, router, HELLO_REQUEST, &err));
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_complete(&out, NULL, HELLO_REQUEST, &err));
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_complete(&out, router, NULL, &err));
    CHECK(out == NULL);

    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_stream(&out, NULL, HELLO_REQUEST, ignore_event, NULL, &err));
    CHECK(out == NULL);
    EXPECT_INVALID_ARGUMENT(pmx_router_stream(NULL, router, NULL, ignore_event, NULL, &err));
    EXPECT_INVALID_ARGUMENT(pmx_router_stream(NULL, router, HELLO_REQUEST, NULL, NULL, &err));

    stream = (pmx_stream *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_stream_async(&stream, NULL, HELLO_REQUEST, ignore_event, NULL, &err));
    CHECK(stream == NULL);
    stream = (pmx_stream *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_stream_async(&stream, router, NULL, ignore_event, NULL, &err));
    CHECK(stream == NULL);
    stream = (pmx_stream *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_stream_async(&stream, router, HELLO_REQUEST, NULL, NULL, &err));
    CHECK(stream == NULL);

    EXPECT_INVALID_ARGUMENT(pmx_router_embed(NULL, router, "{\"input\":\"x\"}", &err));
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_embed(&out, NULL, "{\"input\":\"x\"}", &err));
    CHECK(out == NULL);
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_embed(&out, router, NULL, &err));
    CHECK(out == NULL);

    EXPECT_INVALID_ARGUMENT(pmx_router_models(NULL, router, &err));
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_models(&out, NULL, &err));
    CHECK(out == NULL);
    EXPECT_INVALID_ARGUMENT(pmx_router_health(NULL, router, &err));
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_health(&out, NULL, &err));
    CHECK(out == NULL);
    EXPECT_INVALID_ARGUMENT(pmx_router_stats(NULL, router, &err));
    out = (char *)&err;
    EXPECT_INVALID_ARGUMENT(pmx_router_stats(&out, NULL, &err));
    CHECK(out == NULL);

    /* The same with err == NULL: only the status, no crash. */
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

    /* The router still works after all that, and success resets the error struct. */
    tu_err_poison(&err);
    out = NULL;
    st = pmx_router_complete(&out, router, HELLO_REQUEST, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    CHECK_INT(err.code, PMX_OK);
    CHECK_MSG(err.message[0] == '\0', "message not empty on success: \"%s\"", err.message);
    CHECK(out != NULL);
    pmx_string_free(out);

    pmx_provider_free(prov);
    pmx_router_free(router);
}

/* ------------------------------------------------------------------------------------------ */

/* Expects pmx_router_new(json) AND pmx_provider_new(provider_json) (when not NULL) to fail
 * with `code`, the message containing `needle` (when not NULL). */
static void expect_config_failure(int line, const char *router_json, const char *provider_json,
                                  pmx_status code, const char *needle)
{
    pmx_error err;
    pmx_router *router = (pmx_router *)&err;
    pmx_status st;

    tu_err_poison(&err);
    st = pmx_router_new(&router, router_json, &err);
    CHECK_MSG(st == code, "line %d: pmx_router_new: got %s, expected %s (%s)", line,
              pmx_status_name(st), pmx_status_name(code), err.message);
    CHECK_MSG(err.code == code, "line %d: err.code %d", line, (int)err.code);
    CHECK_MSG(router == NULL, "line %d: *out not NULL on failure", line);
    CHECK_MSG(tu_err_terminated(&err), "line %d: message not terminated", line);
    CHECK_MSG(err.attempts == 0, "line %d: attempts %d before routing", line, (int)err.attempts);
    if (needle)
        CHECK_MSG(strstr(err.message, needle) != NULL,
                  "line %d: router message should name \"%s\": \"%s\"", line, needle, err.message);
    if (st == PMX_OK)
        pmx_router_free(router);

    if (provider_json) {
        pmx_provider *prov = (pmx_provider *)&err;
        tu_err_poison(&err);
        st = pmx_provider_new(&prov, provider_json, &err);
        CHECK_MSG(st == code, "line %d: pmx_provider_new: got %s, expected %s (%s)", line,
                  pmx_status_name(st), pmx_status_name(code), err.message);
        CHECK_MSG(err.code == code, "line %d: err.code %d", line, (int)err.code);
        CHECK_MSG(prov == NULL, "line %d: *out not NULL on failure", line);
        if (needle)
            CHECK_MSG(strstr(err.message, needle) != NULL,
                      "line %d: provider message should name \"%s\": \"%s\"", line, needle,
                      err.message);
        if (st == PMX_OK)
            pmx_provider_free(prov);
    }
}

static void test_invalid_json(void)
{
    pmx_error err;
    pmx_router *router = NULL;
    char *out = (char *)&err;
    pmx_status st;

    expect_config_failure(__LINE__, "{\n  \"providers\": [,]\n}", "{\"name\": \"x\",\n\"type\": }",
                          PMX_ERR_INVALID_JSON, "line");
    expect_config_failure(__LINE__, "", "", PMX_ERR_INVALID_JSON, NULL);
    expect_config_failure(__LINE__, "{\"providers\":[]", "{\"name\":\"x\"", PMX_ERR_INVALID_JSON, "line");
    expect_config_failure(__LINE__, "{\"providers\":[]} trailing", NULL, PMX_ERR_INVALID_JSON, "line");

    /* Request JSON too. */
    st = pmx_router_new(&router, MOCK_CONFIG, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (!router)
        return;
    tu_err_poison(&err);
    st = pmx_router_complete(&out, router, "{\"messages\": [\n  {\"role\": \"user\" \"content\": \"x\"}]}", &err);
    CHECK_STATUS(st, PMX_ERR_INVALID_JSON, &err);
    CHECK_CONTAINS(err.message, "line");
    CHECK(out == NULL);
    CHECK_INT(err.attempts, 0);
    pmx_router_free(router);
}

typedef struct {
    int calls;
} event_counter;

static int32_t count_event(const char *event_json, size_t len, void *userdata)
{
    (void)event_json;
    (void)len;
    ((event_counter *)userdata)->calls++;
    return 0;
}

static void test_invalid_utf8(void)
{
    static const char *const bad_configs[] = {
        "{\"providers\":[{\"name\":\"m\xff\",\"type\":\"mock\"}]}",
        "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"\xc3(\"}]}",
        "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"\xed\xa0\x80\"}]}",
        "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"\xc0\xaf\"}]}",
        "{\"providers\":[]}\xe2\x82",
    };
    size_t i;
    pmx_error err;
    pmx_router *router = NULL;
    pmx_status st;

    for (i = 0; i < sizeof bad_configs / sizeof bad_configs[0]; i++) {
        pmx_router *r = (pmx_router *)&err;
        tu_err_poison(&err);
        st = pmx_router_new(&r, bad_configs[i], &err);
        CHECK_MSG(st == PMX_ERR_INVALID_UTF8, "bad config #%zu: got %s (%s)", i,
                  pmx_status_name(st), err.message);
        CHECK(r == NULL);
        if (st == PMX_OK)
            pmx_router_free(r);
    }
    {
        pmx_provider *p = NULL;
        st = pmx_provider_new(&p, "{\"name\":\"\xfe\",\"type\":\"mock\"}", &err);
        CHECK_STATUS(st, PMX_ERR_INVALID_UTF8, &err);
        CHECK(p == NULL);
        pmx_provider_free(p);
    }

    st = pmx_router_new(&router, MOCK_CONFIG, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    if (!router)
        return;
    {
        char *out = (char *)&err;
        event_counter counter = {0};
        const char *req = "{\"messages\":[{\"role\":\"user\",\"content\":\"caf\xe9\"}]}";
        st = pmx_router_complete(&out, router, req, &err);
        CHECK_STATUS(st, PMX_ERR_INVALID_UTF8, &err);
        CHECK(out == NULL);
        st = pmx_router_stream(NULL, router, req, count_event, &counter, &err);
        CHECK_STATUS(st, PMX_ERR_INVALID_UTF8, &err);
        CHECK_INT(counter.calls, 0);
    }
    pmx_router_free(router);
}

static void test_config_errors(void)
{
    /* Unknown provider type. */
    expect_config_failure(__LINE__, "{\"providers\":[{\"name\":\"x\",\"type\":\"bogus-type\"}]}",
                          "{\"name\":\"x\",\"type\":\"bogus-type\"}", PMX_ERR_UNKNOWN_PROVIDER_TYPE,
                          "bogus-type");
    /* Unknown keys are errors and are named: top level, nested section, provider. */
    expect_config_failure(__LINE__, "{\"providers\":[],\"frobnicate\":1}", NULL, PMX_ERR_CONFIG,
                          "frobnicate");
    expect_config_failure(__LINE__, "{\"providers\":[],\"retry\":{\"max_atempts\":2}}", NULL,
                          PMX_ERR_CONFIG, "max_atempts");
    expect_config_failure(__LINE__, "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"colour\":\"red\"}]}",
                          "{\"name\":\"m\",\"type\":\"mock\",\"colour\":\"red\"}", PMX_ERR_CONFIG,
                          "colour");
    /* Missing / wrongly typed required fields. */
    expect_config_failure(__LINE__, "{}", NULL, PMX_ERR_CONFIG, "providers");
    expect_config_failure(__LINE__, "[]", NULL, PMX_ERR_CONFIG, NULL);
    expect_config_failure(__LINE__, "{\"providers\":{}}", NULL, PMX_ERR_CONFIG, "providers");
    expect_config_failure(__LINE__, "{\"providers\":[{\"type\":\"mock\"}]}", "{\"type\":\"mock\"}",
                          PMX_ERR_CONFIG, "name");
    expect_config_failure(__LINE__, "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":\"x\"}]}",
                          "{\"name\":\"m\",\"type\":\"mock\",\"token_delay_ms\":\"x\"}", PMX_ERR_CONFIG,
                          "token_delay_ms");
    expect_config_failure(__LINE__, "{\"providers\":[{\"name\":\"bad name!\",\"type\":\"mock\"}]}",
                          "{\"name\":\"bad name!\",\"type\":\"mock\"}", PMX_ERR_CONFIG, "name");
    expect_config_failure(__LINE__, "{\"providers\":[{\"name\":\"x\",\"type\":\"openai-compatible\"}]}",
                          "{\"name\":\"x\",\"type\":\"openai-compatible\"}", PMX_ERR_CONFIG, "base_url");
    expect_config_failure(__LINE__, "{\"schema_version\":2,\"providers\":[]}", NULL, PMX_ERR_CONFIG,
                          "schema_version");
    expect_config_failure(__LINE__, "{\"providers\":[],\"retry\":{\"max_attempts\":0}}", NULL,
                          PMX_ERR_CONFIG, "max_attempts");
    /* Duplicate names. */
    expect_config_failure(__LINE__,
                          "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"},{\"name\":\"m\",\"type\":\"mock\"}]}",
                          NULL, PMX_ERR_DUPLICATE_PROVIDER, "m");
}

/* ------------------------------------------------------------------------------------------ */

#define SECRET_VAR "PMX_TEST_BASICS_SECRET_KEY"
#define SECRET_VALUE "sk-basics-TOPSECRET-4f2d9a7c"
#define MISSING_VAR "PMX_TEST_BASICS_SURELY_UNSET_VARIABLE"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_lines = 0;
static int log_secret_hits = 0;
static int log_bad_len = 0;

static void capture_log(int32_t level, const char *message, size_t len, void *userdata)
{
    (void)level;
    (void)userdata;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (message == NULL || strlen(message) != len)
        log_bad_len++;
    else if (strstr(message, SECRET_VALUE) != NULL)
        log_secret_hits++;
    pthread_mutex_unlock(&log_lock);
}

static void test_env_vars(void)
{
    pmx_error err;
    pmx_router *router = NULL;
    pmx_status st;
    char *cfg;
    char *out = NULL;
    int port = tu_closed_port();

    unsetenv(MISSING_VAR);
    setenv(SECRET_VAR, SECRET_VALUE, 1);
    pmx_set_log_callback(capture_log, PMX_LOG_TRACE, NULL);

    /* A missing variable is named (and never replaced by something else). */
    expect_config_failure(__LINE__,
                          "{\"providers\":[{\"name\":\"x\",\"type\":\"openai-compatible\","
                          "\"base_url\":\"http://127.0.0.1:9/v1\",\"api_key\":\"${" MISSING_VAR "}\"}]}",
                          "{\"name\":\"x\",\"type\":\"openai-compatible\","
                          "\"base_url\":\"http://127.0.0.1:9/v1\",\"api_key\":\"${" MISSING_VAR "}\"}",
                          PMX_ERR_ENV_VAR_MISSING, MISSING_VAR);

    /* A config error in a config that also holds the expanded secret: the message must not
     * leak it. */
    tu_err_poison(&err);
    st = pmx_router_new(&router,
                        "{\"providers\":[{\"name\":\"x\",\"type\":\"openai-compatible\","
                        "\"base_url\":\"http://127.0.0.1:9/v1\",\"api_key\":\"${" SECRET_VAR "}\","
                        "\"unknown_field\":\"${" SECRET_VAR "}\"}]}",
                        &err);
    CHECK_STATUS(st, PMX_ERR_CONFIG, &err);
    CHECK_NOT_CONTAINS(err.message, SECRET_VALUE);
    if (st == PMX_OK)
        pmx_router_free(router);
    router = NULL;

    /* A working router using the secret against a refused port: complete, stream, models,
     * health, stats — the secret must appear nowhere. */
    cfg = tu_format("{\"providers\":[{\"name\":\"keyed\",\"type\":\"openai-compatible\","
                    "\"base_url\":\"http://127.0.0.1:%d/v1\",\"api_key\":\"${" SECRET_VAR "}\","
                    "\"retry\":{\"max_attempts\":1},\"timeouts\":{\"connect_ms\":500}}]}",
                    port);
    st = pmx_router_new(&router, cfg, &err);
    free(cfg);
    CHECK_STATUS(st, PMX_OK, &err);
    if (router) {
        tu_err_poison(&err);
        st = pmx_router_complete(&out, router,
                                 "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                                 &err);
        CHECK_STATUS(st, PMX_ERR_CONNECTION, &err);
        CHECK_NOT_CONTAINS(err.message, SECRET_VALUE);
        CHECK_STR(err.provider, "keyed");
        CHECK_INT(err.attempts, 1);
        pmx_string_free(out);
        out = NULL;

        st = pmx_router_stream(&out, router,
                               "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                               ignore_event, NULL, &err);
        CHECK_STATUS(st, PMX_ERR_CONNECTION, &err);
        CHECK_NOT_CONTAINS(err.message, SECRET_VALUE);
        pmx_string_free(out);
        out = NULL;

        st = pmx_router_models(&out, router, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        CHECK_NOT_CONTAINS(out, SECRET_VALUE);
        CHECK_CONTAINS(out, "keyed"); /* listed under "errors" */
        pmx_string_free(out);
        out = NULL;

        st = pmx_router_health(&out, router, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        CHECK_NOT_CONTAINS(out, SECRET_VALUE);
        pmx_string_free(out);
        out = NULL;

        st = pmx_router_stats(&out, router, &err);
        CHECK_STATUS(st, PMX_OK, &err);
        CHECK_NOT_CONTAINS(out, SECRET_VALUE);
        pmx_string_free(out);
        out = NULL;
        pmx_router_free(router);
    }

    /* Provider created on its own, added to a router. */
    {
        pmx_provider *p = NULL;
        pmx_router *r = NULL;
        cfg = tu_format("{\"name\":\"keyed2\",\"type\":\"openai-compatible\","
                        "\"base_url\":\"http://127.0.0.1:%d/v1\",\"api_key\":\"Bearer-ish ${" SECRET_VAR "}\","
                        "\"retry\":{\"max_attempts\":1}}",
                        port);
        st = pmx_provider_new(&p, cfg, &err);
        free(cfg);
        CHECK_STATUS(st, PMX_OK, &err);
        st = pmx_router_new(&r, "{\"providers\":[]}", &err);
        CHECK_STATUS(st, PMX_OK, &err);
        if (p && r) {
            st = pmx_router_add_provider(r, p, &err);
            CHECK_STATUS(st, PMX_OK, &err);
            st = pmx_router_add_provider(r, p, &err);
            CHECK_STATUS(st, PMX_ERR_DUPLICATE_PROVIDER, &err);
            CHECK_NOT_CONTAINS(err.message, SECRET_VALUE);
            st = pmx_router_complete(&out, r,
                                     "{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                                     &err);
            CHECK_STATUS(st, PMX_ERR_CONNECTION, &err);
            CHECK_NOT_CONTAINS(err.message, SECRET_VALUE);
            pmx_string_free(out);
            out = NULL;
        }
        pmx_provider_free(p);
        pmx_router_free(r);
    }

    pmx_set_log_callback(NULL, PMX_LOG_TRACE, NULL);
    pthread_mutex_lock(&log_lock);
    CHECK_MSG(log_secret_hits == 0, "%d log lines contain the secret", log_secret_hits);
    CHECK_MSG(log_bad_len == 0, "%d log lines with a wrong len", log_bad_len);
    printf("   (%d log lines captured)\n", log_lines);
    pthread_mutex_unlock(&log_lock);

    /* "$${" is a literal "${": no expansion, no missing-variable error. */
    {
        pmx_router *r = NULL;
        st = pmx_router_new(&r,
                            "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"$${" MISSING_VAR "}\"}]}",
                            &err);
        CHECK_STATUS(st, PMX_OK, &err);
        if (r) {
            st = pmx_router_complete(&out, r, HELLO_REQUEST, &err);
            CHECK_STATUS(st, PMX_OK, &err);
            CHECK_CONTAINS(out, "${" MISSING_VAR "}");
            pmx_string_free(out);
            out = NULL;
        }
        pmx_router_free(r);
    }
    /* A set variable is expanded inside a longer string. */
    {
        pmx_router *r = NULL;
        setenv("PMX_TEST_BASICS_WORD", "expanded", 1);
        st = pmx_router_new(&r,
                            "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"<${PMX_TEST_BASICS_WORD}>\"}]}",
                            &err);
        CHECK_STATUS(st, PMX_OK, &err);
        if (r) {
            st = pmx_router_complete(&out, r, HELLO_REQUEST, &err);
            CHECK_STATUS(st, PMX_OK, &err);
            CHECK_CONTAINS(out, "<expanded>");
            pmx_string_free(out);
            out = NULL;
        }
        pmx_router_free(r);
    }
}

int main(void)
{
    tu_watchdog(240);
    RUN(test_versions);
    RUN(test_version_check_macro);
    RUN(test_status_names);
    RUN(test_free_null);
    RUN(test_null_arguments);
    RUN(test_invalid_json);
    RUN(test_invalid_utf8);
    RUN(test_config_errors);
    RUN(test_env_vars);
    return TEST_DONE();
}
