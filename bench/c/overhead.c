/* SPDX-License-Identifier: Apache-2.0 */
/*
 * overhead — where the fixed cost of one blocking request goes, from the floor up.
 *
 * Usage: overhead PORT ITERATIONS OUT.json
 *
 * Interleaved, medians:
 *  - handoff: a bare round trip between two threads (mutex + condition variable, the same
 *    mechanism a blocking pmx call uses to hand work to the I/O thread and get the answer
 *    back, without the library): the floor of any "one I/O thread" design;
 *  - mock: pmx_router_complete on the in-process mock provider (no HTTP): the handoff plus
 *    request parsing, routing, accounting and the response JSON;
 *  - http: pmx_router_complete against nginx, and the raw libcurl client, as in latency.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *REQ = "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* ---- a bare two-thread round trip --------------------------------------------------------- */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t to_worker = PTHREAD_COND_INITIALIZER, to_caller = PTHREAD_COND_INITIALIZER;
static int request_pending, answer_ready, stop_worker;

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!request_pending && !stop_worker) pthread_cond_wait(&to_worker, &mu);
        if (stop_worker) break;
        request_pending = 0;
        answer_ready = 1;
        pthread_mutex_unlock(&mu);
        pthread_cond_signal(&to_caller);
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void handoff_once(void)
{
    pthread_mutex_lock(&mu);
    request_pending = 1;
    pthread_mutex_unlock(&mu);
    pthread_cond_signal(&to_worker);
    pthread_mutex_lock(&mu);
    while (!answer_ready) pthread_cond_wait(&to_caller, &mu);
    answer_ready = 0;
    pthread_mutex_unlock(&mu);
}

static void complete_once(pmx_router *r)
{
    char *out = NULL;
    pmx_error err;
    pmx_check(pmx_router_complete(&out, r, REQ, &err), &err, "pmx_router_complete");
    pmx_string_free(out);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: overhead PORT ITERATIONS OUT.json\n");
        return 2;
    }
    int port = atoi(argv[1]);
    size_t n = (size_t)atol(argv[2]);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);

    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    pmx_router *mock = NULL;
    pmx_error err;
    pmx_check(pmx_router_new(&mock, "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\",\"reply\":\"ok\"}]}", &err), &err,
              "pmx_router_new");
    pmx_router *http = router_one("h", "openai-compatible", url);
    raw_client raw;
    raw_init(&raw);
    char raw_url[160];
    snprintf(raw_url, sizeof raw_url, "%s/chat/completions", url);

    double *t_handoff = calloc(n, sizeof(double)), *t_mock = calloc(n, sizeof(double));
    double *t_http = calloc(n, sizeof(double)), *t_raw = calloc(n, sizeof(double));
    for (size_t i = 0; i < 50; i++) { /* warm up connections and caches */
        handoff_once();
        complete_once(mock);
        complete_once(http);
        raw_complete(&raw, raw_url, REQ);
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        handoff_once();
        uint64_t t1 = now_ns();
        complete_once(mock);
        uint64_t t2 = now_ns();
        complete_once(http);
        uint64_t t3 = now_ns();
        raw_complete(&raw, raw_url, REQ);
        uint64_t t4 = now_ns();
        t_handoff[i] = (double)(t1 - t0) / 1e3;
        t_mock[i] = (double)(t2 - t1) / 1e3;
        t_http[i] = (double)(t3 - t2) / 1e3;
        t_raw[i] = (double)(t4 - t3) / 1e3;
    }
    stats sh = stats_of(t_handoff, n), sm = stats_of(t_mock, n), sp = stats_of(t_http, n), sr = stats_of(t_raw, n);

    json_t *o = json_object();
    json_object_set_new(o, "iterations", json_integer((json_int_t)n));
    json_object_set_new(o, "handoff_us", json_real(sh.median));
    json_object_set_new(o, "mock_complete_us", json_real(sm.median));
    json_object_set_new(o, "http_complete_us", json_real(sp.median));
    json_object_set_new(o, "raw_complete_us", json_real(sr.median));
    if (json_dump_file(o, argv[3], JSON_INDENT(2)) != 0) {
        fprintf(stderr, "overhead: cannot write %s\n", argv[3]);
        return 1;
    }
    json_decref(o);
    printf("handoff %.1f us, mock complete %.1f us, http complete %.1f us, raw %.1f us\n", sh.median, sm.median,
           sp.median, sr.median);

    pthread_mutex_lock(&mu);
    stop_worker = 1;
    pthread_mutex_unlock(&mu);
    pthread_cond_signal(&to_worker);
    pthread_join(th, NULL);
    raw_cleanup(&raw);
    pmx_router_free(mock);
    pmx_router_free(http);
    free(t_handoff); free(t_mock); free(t_http); free(t_raw);
    return 0;
}
