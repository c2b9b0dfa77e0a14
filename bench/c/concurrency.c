/* SPDX-License-Identifier: Apache-2.0 */
/*
 * concurrency — N concurrent 256-chunk SSE streams through ONE router (pmx_router_stream_async).
 *
 * Usage: concurrency PORT STREAMS ROUNDS OUT.json
 *
 * Reports per round: wall time from the first start to the last terminal event, the peak
 * number of streams between their `start` and terminal events, VmHWM before/after (RSS growth
 * per stream in KiB), and the thread count of the process sampled every 2 ms during the round
 * (this program's own threads: main + the sampler; the library adds one I/O thread per router).
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

static const char *REQ_STREAM =
    "{\"model\":\"bench-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

typedef struct {
    atomic_long events;
    atomic_long deltas;
    atomic_int finished;
    atomic_int errors;
    atomic_int in_flight;
    atomic_int max_in_flight;
    int total;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} shared;

static int type_is(const char *ev, size_t len, const char *t)
{
    size_t tl = strlen(t);
    const char *p = memmem(ev, len, "\"type\":\"", 8);
    return p && (size_t)(ev + len - p) > 8 + tl && memcmp(p + 8, t, tl) == 0 && p[8 + tl] == '"';
}

static int32_t on_event(const char *ev, size_t len, void *ud)
{
    shared *s = ud;
    atomic_fetch_add(&s->events, 1);
    if (type_is(ev, len, "delta")) {
        atomic_fetch_add(&s->deltas, 1);
    } else if (type_is(ev, len, "start")) {
        int n = atomic_fetch_add(&s->in_flight, 1) + 1;
        int m = atomic_load(&s->max_in_flight);
        while (n > m && !atomic_compare_exchange_weak(&s->max_in_flight, &m, n)) {
        }
    } else if (type_is(ev, len, "done") || type_is(ev, len, "error")) {
        if (type_is(ev, len, "error")) {
            if (atomic_fetch_add(&s->errors, 1) < 3)
                fprintf(stderr, "stream error: %.*s\n", (int)(len > 400 ? 400 : len), ev);
        }
        atomic_fetch_sub(&s->in_flight, 1);
        if (atomic_fetch_add(&s->finished, 1) + 1 == s->total) {
            pthread_mutex_lock(&s->mu);
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
    }
    return 0;
}

static atomic_int g_sampling;
static atomic_int g_max_threads;

static void *sampler(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 2000000};
    while (atomic_load(&g_sampling)) {
        int n = proc_thread_count();
        if (n > atomic_load(&g_max_threads))
            atomic_store(&g_max_threads, n);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static json_t *round_run(pmx_router *r, int n, int round)
{
    shared s;
    pthread_t th;
    pmx_error err;
    long hwm0, hwm1, rss0, rss1;
    uint64_t t0, t1, t_started;

    memset(&s, 0, sizeof s);
    s.total = n;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);

    hwm0 = proc_status_kib("VmHWM");
    rss0 = proc_status_kib("VmRSS");
    atomic_store(&g_max_threads, 0);
    atomic_store(&g_sampling, 1);
    pthread_create(&th, NULL, sampler, NULL);

    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        pmx_status st = pmx_router_stream_async(NULL, r, REQ_STREAM, on_event, &s, &err);
        pmx_check(st, &err, "pmx_router_stream_async");
    }
    t_started = now_ns();
    pthread_mutex_lock(&s.mu);
    while (atomic_load(&s.finished) < n)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    t1 = now_ns();

    atomic_store(&g_sampling, 0);
    pthread_join(th, NULL);
    hwm1 = proc_status_kib("VmHWM");
    rss1 = proc_status_kib("VmRSS");

    double wall_ms = (double)(t1 - t0) / 1e6;
    long total_deltas = atomic_load(&s.deltas);
    json_t *o = json_pack("{s:i,s:i,s:f,s:f,s:i,s:i,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:f,s:i}", "round", round, "streams",
                          n, "wall_ms", wall_ms, "start_calls_ms", (double)(t_started - t0) / 1e6, "errors",
                          atomic_load(&s.errors), "max_in_flight", atomic_load(&s.max_in_flight), "events",
                          (json_int_t)atomic_load(&s.events), "deltas", (json_int_t)total_deltas,
                          "deltas_per_s", (double)total_deltas / (wall_ms / 1e3), "vmhwm_before_kib",
                          (json_int_t)hwm0, "vmhwm_after_kib", (json_int_t)hwm1, "vmrss_before_kib",
                          (json_int_t)rss0, "vmrss_after_kib", (json_int_t)rss1, "rss_growth_per_stream_kib",
                          (double)(hwm1 - hwm0) / n, "max_threads", atomic_load(&g_max_threads));
    fprintf(stderr,
            "  round %d: %d streams in %.1f ms, max in flight %d, errors %d, HWM %ld -> %ld KiB (%.1f KiB/stream), "
            "threads max %d\n",
            round, n, wall_ms, atomic_load(&s.max_in_flight), atomic_load(&s.errors), hwm0, hwm1,
            (double)(hwm1 - hwm0) / n, atomic_load(&g_max_threads));
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    return o;
}

int main(int argc, char **argv)
{
    char base[160];
    pmx_router *r;
    json_t *doc, *rounds;
    int port, n, nrounds, threads_before, threads_router;

    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT STREAMS ROUNDS OUT.json\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    n = atoi(argv[2]);
    nrounds = atoi(argv[3]);

    threads_before = proc_thread_count();
    snprintf(base, sizeof base, "http://127.0.0.1:%d/sse256/v1", port);
    r = router_one("nginx", "openai-compatible", base);
    threads_router = proc_thread_count();

    /* Warm up: a few streams so one-time allocations (libcurl, TLS init, codecs) are in the
     * baseline, not counted per stream. */
    {
        json_t *w = round_run(r, 8, 0);
        json_decref(w);
    }

    doc = json_object();
    rounds = json_array();
    for (int i = 1; i <= nrounds; i++)
        json_array_append_new(rounds, round_run(r, n, i));
    json_object_set_new(doc, "streams", json_integer(n));
    json_object_set_new(doc, "rounds", rounds);
    json_object_set_new(doc, "threads_before_router", json_integer(threads_before));
    json_object_set_new(doc, "threads_with_router", json_integer(threads_router));
    json_object_set_new(doc, "bench_own_threads_during_run", json_integer(2));
    pmx_router_free(r);
    json_object_set_new(doc, "threads_after_router_free", json_integer(proc_thread_count()));
    if (json_dump_file(doc, argv[4], JSON_INDENT(2)) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[4]);
        return 1;
    }
    json_decref(doc);
    return 0;
}
