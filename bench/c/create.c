/* SPDX-License-Identifier: Apache-2.0 */
/*
 * create — pmx_router_new time from a 20-provider config (no discovery, no health checks).
 *
 * Usage: create PORT ITERATIONS OUT.json
 *
 * Each iteration times pmx_router_new (validation, provider setup, I/O thread start) and,
 * separately, pmx_router_free (I/O thread stop).
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

static char *config_20(int port)
{
    static const char *types[5] = {"openai-compatible", "anthropic", "ollama", "openai", "llamacpp"};
    static const char *paths[5] = {"/v1", "/anthropic", "/ollama", "/v1", "/v1"};
    json_t *providers = json_array();
    for (int i = 0; i < 20; i++) {
        char name[32], url[128];
        snprintf(name, sizeof name, "p%02d", i);
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, paths[i % 5]);
        json_t *p = json_pack("{s:s,s:s,s:s,s:[s,s],s:{s:i}}", "name", name, "type", types[i % 5], "base_url", url,
                              "models", "bench-model", "bench-model-2", "retry", "max_attempts", 2);
        if (i % 5 == 1 || i % 5 == 3)
            json_object_set_new(p, "api_key", json_string("sk-bench-not-a-real-key"));
        json_array_append_new(providers, p);
    }
    json_t *cfg = json_pack("{s:o,s:{s:s},s:{s:i,s:i},s:{s:i,s:i}}", "providers", providers, "routing", "strategy",
                            "priority", "retry", "max_attempts", 3, "initial_backoff_ms", 200, "timeouts",
                            "connect_ms", 10000, "total_ms", 600000);
    char *txt = json_dumps(cfg, JSON_COMPACT);
    json_decref(cfg);
    return txt;
}

int main(int argc, char **argv)
{
    int port, iters;
    char *cfg;
    pmx_error err;

    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT ITERATIONS OUT.json\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    iters = atoi(argv[2]);
    cfg = config_20(port);
    double *tn = calloc((size_t)iters, sizeof *tn), *tf = calloc((size_t)iters, sizeof *tf);

    for (int i = 0; i < 10; i++) {
        pmx_router *r = NULL;
        pmx_check(pmx_router_new(&r, cfg, &err), &err, "pmx_router_new");
        pmx_router_free(r);
    }
    for (int i = 0; i < iters; i++) {
        pmx_router *r = NULL;
        uint64_t t0 = now_ns();
        pmx_status st = pmx_router_new(&r, cfg, &err);
        uint64_t t1 = now_ns();
        pmx_check(st, &err, "pmx_router_new");
        pmx_router_free(r);
        uint64_t t2 = now_ns();
        tn[i] = (double)(t1 - t0);
        tf[i] = (double)(t2 - t1);
    }
    stats sn = stats_of(tn, (size_t)iters), sf = stats_of(tf, (size_t)iters);
    json_t *doc = json_pack("{s:i,s:i,s:f,s:f,s:o,s:o}", "providers", 20, "iterations", iters, "new_us",
                            ns_to_us(sn.median), "free_us", ns_to_us(sf.median), "new_ns", stats_json(&sn), "free_ns",
                            stats_json(&sf));
    fprintf(stderr, "  router_new (20 providers): median %.1f us, free %.1f us\n", ns_to_us(sn.median),
            ns_to_us(sf.median));
    if (json_dump_file(doc, argv[3], JSON_INDENT(2)) != 0)
        return 1;
    json_decref(doc);
    free(cfg);
    free(tn);
    free(tf);
    return 0;
}
