/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shared — the per-request cost of shared state on Redis (bench/shared.sh, issue 17 item 6).
 *
 * One router config in four variants: local state, "shared" on Redis, and each of the two with
 * the response cache on (every request distinct: a miss, then a store). The provider is the
 * in-process mock (no HTTP: what differs between the variants is only the state) with rpm/tpm
 * limits, under a router budget and the default circuit breaker, so that admission checks all
 * of them.
 *
 * Usage:
 *   shared count REDIS_URL          under valgrind --tool=callgrind: per variant a warm-up, then
 *                                   phases of 2 and 12 pmx_router_complete calls, each one
 *                                   callgrind dump named "<variant> <calls>" (timeout_ms 1000:
 *                                   the client runs ~50x slower under valgrind); for local and
 *                                   shared also 2 streams of 16 and of 256 words (dumps
 *                                   "<variant> stream16" / "stream256", lines "deltas <label> N"):
 *                                   the per-chunk cost, which shared state must not change
 *   shared calls REDIS_URL VARIANT N   N calls of one variant (Redis INFO is read around it;
 *                                   timeout_ms 1000: a fallback would count no Redis work)
 *   shared time REDIS_URL N ROUNDS [TIMEOUT_MS]   wall clock: ROUNDS rounds, the variants
 *                                   interleaved (order rotating), N calls each; prints the median
 *                                   and p99 µs per call. TIMEOUT_MS (default 20, the library's)
 *                                   is "shared"'s timeout_ms: past it a call falls back to local
 *                                   state for reconnect_ms (1 s), which would measure local state
 * Every mode ends by printing each router's "shared" stats line: a run whose shared variants
 * fell back to local state (fallbacks > 0) is reported by bench/shared.py.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "common.h"

enum { VARIANTS = 4, WARM = 3, SMALL = 2, LARGE = 12 };

static const char *NAMES[VARIANTS] = {"local", "shared", "local_cache", "shared_cache"};

static pmx_router *router_for(int variant, const char *redis_url, int timeout_ms)
{
    char cfg[1024];
    int shared = variant == 1 || variant == 3, cache = variant >= 2;
    char shared_section[256] = "", cache_section[128] = "";
    if (shared)
        snprintf(shared_section, sizeof shared_section,
                 ",\"shared\":{\"redis\":\"%s\",\"key_prefix\":\"pmxbench:%s:\",\"timeout_ms\":%d}", redis_url,
                 NAMES[variant], timeout_ms);
    if (cache)
        snprintf(cache_section, sizeof cache_section, ",\"cache\":{\"enabled\":true,\"ttl_ms\":600000,\"max_entries\":100000}");
    snprintf(cfg, sizeof cfg,
             "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"limits\":{\"rpm\":10000000,\"tpm\":1000000000}}],"
             "\"budget\":{\"usd\":1000000,\"window\":\"1d\",\"on_exceeded\":\"fail\"}%s%s}",
             shared_section, cache_section);
    pmx_router *r = NULL;
    pmx_error err;
    pmx_check(pmx_router_new(&r, cfg, &err), &err, "pmx_router_new");
    return r;
}

/* Each request distinct (this process's id and start time, and a counter, in the text): with
 * the cache on, every one is a miss, also after earlier runs on the same Redis. */
static void complete_n(pmx_router *r, int n)
{
    static long serial;
    static unsigned long long nonce;
    if (!nonce)
        nonce = (unsigned long long)getpid() << 40 ^ now_ns();
    for (int i = 0; i < n; i++) {
        char req[192];
        snprintf(req, sizeof req,
                 "{\"model\":\"m/bench\",\"messages\":[{\"role\":\"user\",\"content\":\"hello %llx %ld\"}]}", nonce,
                 serial++);
        char *out = NULL;
        pmx_error err;
        pmx_check(pmx_router_complete(&out, r, req, &err), &err, "pmx_router_complete");
        pmx_string_free(out);
    }
}

static long deltas;

/* n streams of the mock's echo of a `words`-word prompt (one delta per word), each distinct. */
static void stream_n(pmx_router *r, int n, int words)
{
    static long serial;
    char *req = malloc((size_t)words * 4 + 256);
    for (int i = 0; i < n; i++) {
        int at = sprintf(req, "{\"model\":\"m/bench\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"s%ld",
                         serial++);
        for (int w = 1; w < words; w++)
            at += sprintf(req + at, " w%d", w % 100);
        strcpy(req + at, "\"}]}");
        pmx_error err;
        pmx_check(pmx_router_stream(NULL, r, req, count_delta_events, &deltas, &err), &err, "pmx_router_stream");
    }
    free(req);
}

static void stream_phase(pmx_router *r, const char *name, int words)
{
    char label[64];
    snprintf(label, sizeof label, "%s stream%d", name, words);
    long before = deltas;
    CALLGRIND_DUMP_STATS_AT("between phases");
    stream_n(r, SMALL, words);
    CALLGRIND_DUMP_STATS_AT(label);
    printf("deltas %s %ld\n", label, deltas - before);
}

/* The "shared" member of the router's stats, as one line: "<variant> shared {...}". */
static void print_shared(pmx_router *r, const char *name)
{
    char *out = NULL;
    pmx_error err;
    pmx_check(pmx_router_stats(&out, r, &err), &err, "pmx_router_stats");
    json_error_t jerr;
    json_t *stats = json_loads(out, 0, &jerr);
    json_t *shared = stats ? json_object_get(stats, "shared") : NULL;
    char *txt = shared ? json_dumps(shared, JSON_COMPACT) : NULL;
    printf("stats %s %s\n", name, txt ? txt : "null");
    free(txt);
    json_decref(stats);
    pmx_string_free(out);
}

static int variant_named(const char *name)
{
    for (int v = 0; v < VARIANTS; v++)
        if (strcmp(NAMES[v], name) == 0)
            return v;
    fprintf(stderr, "shared: unknown variant %s\n", name);
    exit(2);
}

static void count(const char *url)
{
    for (int v = 0; v < VARIANTS; v++) {
        pmx_router *r = router_for(v, url, 1000);
        complete_n(r, WARM);
        /* Each phase between two dumps (bench/instructions.py reads each dump's totals). */
        CALLGRIND_DUMP_STATS_AT("between phases");
        complete_n(r, SMALL);
        char label[64];
        snprintf(label, sizeof label, "%s %d", NAMES[v], SMALL);
        CALLGRIND_DUMP_STATS_AT(label);
        complete_n(r, LARGE);
        snprintf(label, sizeof label, "%s %d", NAMES[v], LARGE);
        CALLGRIND_DUMP_STATS_AT(label);
        if (v < 2) {
            stream_n(r, 1, 16);
            stream_phase(r, NAMES[v], 16);
            stream_phase(r, NAMES[v], 256);
        }
        print_shared(r, NAMES[v]);
        pmx_router_free(r);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void timed(const char *url, int n, int rounds, int timeout_ms)
{
    pmx_router *r[VARIANTS];
    double *per_call = calloc((size_t)n, sizeof *per_call);
    for (int v = 0; v < VARIANTS; v++) {
        r[v] = router_for(v, url, timeout_ms);
        complete_n(r[v], 50);
    }
    for (int round = 0; round < rounds; round++) {
        for (int k = 0; k < VARIANTS; k++) {
            int v = (k + round) % VARIANTS;
            for (int i = 0; i < n; i++) {
                uint64_t t0 = now_ns();
                complete_n(r[v], 1);
                per_call[i] = (double)(now_ns() - t0) / 1000.0;
            }
            qsort(per_call, (size_t)n, sizeof *per_call, cmp_double);
            printf("time %s %d %.2f %.2f\n", NAMES[v], round, per_call[n / 2], per_call[(n * 99 + 99) / 100 - 1]);
        }
    }
    for (int v = 0; v < VARIANTS; v++) {
        print_shared(r[v], NAMES[v]);
        pmx_router_free(r[v]);
    }
    free(per_call);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "count") == 0) {
        count(argv[2]);
    } else if (argc >= 5 && strcmp(argv[1], "calls") == 0) {
        int v = variant_named(argv[3]);
        pmx_router *r = router_for(v, argv[2], 1000);
        complete_n(r, atoi(argv[4]));
        print_shared(r, NAMES[v]);
        pmx_router_free(r);
    } else if (argc >= 5 && strcmp(argv[1], "time") == 0) {
        int n = atoi(argv[3]), rounds = atoi(argv[4]);
        if (n < 1 || rounds < 1) {
            fprintf(stderr, "shared: N and ROUNDS must be positive\n");
            return 2;
        }
        timed(argv[2], n, rounds, argc > 5 ? atoi(argv[5]) : 20);
    } else {
        fprintf(stderr, "usage: shared count REDIS_URL | calls REDIS_URL VARIANT N | time REDIS_URL N ROUNDS [TIMEOUT_MS]\n");
        return 2;
    }
    return 0;
}
