/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scale.c — how the router's whole-router calls grow with the number of providers.
 *
 *   scale [--kind mock|closed] [--check] N...
 *
 * For each N: pmx_router_new on a config of N providers (with a model group of all N
 * deployments and a fallback chain of N models), one pmx_router_complete routed over the N
 * deployments of the group (mock only), pmx_router_health, pmx_router_models, pmx_router_stats,
 * pmx_router_update_routing (order of all N names reversed + the group + the chain),
 * N × pmx_router_add_provider on an empty router
 * then N × pmx_router_remove_provider, and pmx_router_free. Wall milliseconds per call (per
 * whole loop for add/remove) and process CPU milliseconds, one line per (N, call), tab-separated.
 *
 * --kind mock    in-process providers (no network; health and models answer at once)
 * --kind closed  openai-compatible providers pointing at a closed loopback port: every health
 *                and models probe is a real connection attempt that is refused
 * --check        also checks the documents (N entries in health, N models, the request served):
 *                the ctest smoke test runs this with 1,000 providers. It never asserts timings.
 *
 * Self-contained (only providermux.h): the bench/c Makefile builds it like the others, ctest
 * builds it alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "providermux.h"

static double ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* CPU time of the whole process (every thread: the router works on its I/O thread too). On a
   shared machine this is the steadier figure; wall time includes waiting for a core. */
static double cpu_ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
static double cpu_start;

/* A growable string. */
typedef struct { char *p; size_t len, cap; } str;
static void add(str *s, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        size_t room = s->cap - s->len;
        va_start(ap, fmt);
        int n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) abort();
        if (s->p && (size_t)n < room) { s->len += (size_t)n; return; }
        s->cap = (s->cap + (size_t)n + 1) * 2;
        s->p = realloc(s->p, s->cap);
        if (!s->p) abort();
    }
}

static int check_mode = 0;
static int failures = 0;

static void die(const char *what, pmx_status st, const pmx_error *e) {
    fprintf(stderr, "scale: %s failed: %s (%d): %s\n", what, pmx_status_name(st), st, e ? e->message : "");
    exit(1);
}

static void expect(int ok, const char *what) {
    if (!ok) { fprintf(stderr, "scale: check failed: %s\n", what); failures++; }
}

static size_t count(const char *doc, const char *needle) {
    size_t n = 0;
    for (const char *p = doc; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void provider_json(str *s, const char *kind, int i) {
    if (strcmp(kind, "mock") == 0)
        add(s, "{\"name\":\"p%05d\",\"type\":\"mock\",\"models\":[\"m\",\"m%05d\"]}", i, i);
    else /* port 9 (discard) is closed on loopback: connect() is refused at once */
        add(s, "{\"name\":\"p%05d\",\"type\":\"openai-compatible\",\"base_url\":\"http://127.0.0.1:9/v1\","
               "\"api_key\":\"k\",\"models\":[\"m\",\"m%05d\"]}", i, i);
}

/* The routing section: order (reversed when `reverse`), a group of every deployment, a chain. */
static void routing_json(str *s, int n, int reverse) {
    add(s, "{\"order\":[");
    for (int i = 0; i < n; i++) add(s, "%s\"p%05d\"", i ? "," : "", reverse ? n - 1 - i : i);
    add(s, "],\"model_groups\":{\"all\":[");
    for (int i = 0; i < n; i++) add(s, "%s\"p%05d/m\"", i ? "," : "", i);
    add(s, "]},\"fallbacks\":{\"m00000\":[");
    for (int i = 1; i < n; i++) add(s, "%s\"m%05d\"", i > 1 ? "," : "", i);
    add(s, "]}}");
}

static void row(int n, const char *kind, const char *call, double ms) {
    printf("%d\t%s\t%s\t%.1f\t%.1f\n", n, kind, call, ms, cpu_ms_now() - cpu_start);
    fflush(stdout);
}

static void run(int n, const char *kind) {
    pmx_error e;
    str cfg = {0};
    add(&cfg, "{\"providers\":[");
    for (int i = 0; i < n; i++) { if (i) add(&cfg, ","); provider_json(&cfg, kind, i); }
    add(&cfg, "],\"routing\":");
    routing_json(&cfg, n, 0);
    add(&cfg, "}");

    pmx_router *r = NULL;
    double t = ms_now(); cpu_start = cpu_ms_now();
    pmx_status st = pmx_router_new(&r, cfg.p, &e);
    row(n, kind, "router_new", ms_now() - t);
    if (st != PMX_OK) die("pmx_router_new", st, &e);

    char *out = NULL;
    if (strcmp(kind, "mock") == 0) {
        /* Routed over all N deployments of the group (planned, ordered, the first one serves); it
           also gives every deployment a circuit breaker, which health reports. */
        t = ms_now(); cpu_start = cpu_ms_now();
        st = pmx_router_complete(&out, r, "{\"model\":\"all\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &e);
        row(n, kind, "complete_group_of_n", ms_now() - t);
        if (st != PMX_OK) die("pmx_router_complete", st, &e);
        if (check_mode) expect(strstr(out, "\"provider\":\"p") != NULL, "the group request is served");
        pmx_string_free(out);
    }

    t = ms_now(); cpu_start = cpu_ms_now();
    st = pmx_router_health(&out, r, &e);
    row(n, kind, "health", ms_now() - t);
    if (st != PMX_OK) die("pmx_router_health", st, &e);
    if (check_mode) expect(count(out, "\"name\":\"p") == (size_t)n, "health lists every provider");
    pmx_string_free(out);

    t = ms_now(); cpu_start = cpu_ms_now();
    st = pmx_router_models(&out, r, &e);
    row(n, kind, "models", ms_now() - t);
    if (st != PMX_OK) die("pmx_router_models", st, &e);
    if (check_mode) expect(count(out, "\"object\":\"model\"") == (size_t)(2 * n), "models lists 2 models a provider");
    pmx_string_free(out);

    t = ms_now(); cpu_start = cpu_ms_now();
    st = pmx_router_stats(&out, r, &e);
    row(n, kind, "stats", ms_now() - t);
    if (st != PMX_OK) die("pmx_router_stats", st, &e);
    if (check_mode) expect(count(out, "\"name\":\"p") == (size_t)n, "stats lists every provider");
    pmx_string_free(out);

    str routing = {0};
    routing_json(&routing, n, 1);
    t = ms_now(); cpu_start = cpu_ms_now();
    st = pmx_router_update_routing(r, routing.p, &e);
    row(n, kind, "update_routing", ms_now() - t);
    if (st != PMX_OK) die("pmx_router_update_routing", st, &e);
    free(routing.p);

    t = ms_now(); cpu_start = cpu_ms_now();
    pmx_router_free(r);
    row(n, kind, "router_free", ms_now() - t);

    /* N adds to an empty router, then N removes. */
    st = pmx_router_new(&r, "{\"providers\":[]}", &e);
    if (st != PMX_OK) die("pmx_router_new (empty)", st, &e);
    pmx_provider **ps = calloc((size_t)n, sizeof *ps);
    for (int i = 0; i < n; i++) {
        str one = {0};
        provider_json(&one, kind, i);
        st = pmx_provider_new(&ps[i], one.p, &e);
        free(one.p);
        if (st != PMX_OK) die("pmx_provider_new", st, &e);
    }
    t = ms_now(); cpu_start = cpu_ms_now();
    for (int i = 0; i < n; i++) {
        st = pmx_router_add_provider(r, ps[i], &e);
        if (st != PMX_OK) die("pmx_router_add_provider", st, &e);
    }
    row(n, kind, "add_provider_x_n", ms_now() - t);
    t = ms_now(); cpu_start = cpu_ms_now();
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%05d", i);
        st = pmx_router_remove_provider(r, name, &e);
        if (st != PMX_OK) die("pmx_router_remove_provider", st, &e);
    }
    row(n, kind, "remove_provider_x_n", ms_now() - t);
    for (int i = 0; i < n; i++) pmx_provider_free(ps[i]);
    free(ps);
    pmx_router_free(r);
    free(cfg.p);
}

int main(int argc, char **argv) {
    const char *kind = "mock";
    int any = 0;
    printf("providers\tkind\tcall\twall_ms\tcpu_ms\n");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) { kind = argv[++i]; continue; }
        if (strcmp(argv[i], "--check") == 0) { check_mode = 1; continue; }
        int n = atoi(argv[i]);
        if (n < 1 || n > 99999) { fprintf(stderr, "usage: scale [--kind mock|closed] [--check] N... (1 ≤ N ≤ 99999)\n"); return 2; }
        if (strcmp(kind, "mock") != 0 && strcmp(kind, "closed") != 0) { fprintf(stderr, "scale: unknown --kind %s\n", kind); return 2; }
        run(n, kind);
        any = 1;
    }
    if (!any) { fprintf(stderr, "usage: scale [--kind mock|closed] [--check] N...\n"); return 2; }
    return failures ? 1 : 0;
}
