/* SPDX-License-Identifier: Apache-2.0 */
/*
 * latency — raw libcurl vs libprovidermux, interleaved, one process.
 *
 * Usage: latency PORT ITER_PLAIN ITER_S16 ITER_S256 ITER_S4096 ITER_PROTO OUT.json
 *
 * Measures (medians over interleaved ABBA rounds):
 *  - non-streaming: raw POST + body + jansson parse vs pmx_router_complete + pmx_string_free;
 *  - OpenAI SSE streams of 16/256/4096 chunks: raw splitter + jansson per event vs
 *    pmx_router_stream with a callback that counts events; time to first content / delta;
 *  - Anthropic SSE, Gemini SSE and Ollama NDJSON streams (256 chunks), the same way.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *REQ_PLAIN =
    "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_STREAM =
    "{\"model\":\"bench-model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_ANTHROPIC =
    "{\"model\":\"bench-model\",\"max_tokens\":4096,\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* ---------------------------------------------------------------------------------------- */
/* pmx side                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    long events, deltas;
    uint64_t t0, first_delta_ns;
    int terminal_error;
} count_state;

/* The event type is the first key the library writes; fall back to a search. */
static int is_type(const char *ev, size_t len, const char *type)
{
    static const char prefix[] = "{\"type\":\"";
    size_t tl = strlen(type);
    const char *p;
    if (len > sizeof prefix - 1 + tl && memcmp(ev, prefix, sizeof prefix - 1) == 0)
        return memcmp(ev + sizeof prefix - 1, type, tl) == 0 && ev[sizeof prefix - 1 + tl] == '"';
    p = strstr(ev, "\"type\":\"");
    return p && strncmp(p + 8, type, tl) == 0 && p[8 + tl] == '"';
}

static int32_t count_events(const char *ev, size_t len, void *ud)
{
    count_state *s = ud;
    s->events++;
    if (is_type(ev, len, "delta")) {
        if (s->deltas++ == 0)
            s->first_delta_ns = now_ns() - s->t0;
    } else if (is_type(ev, len, "error")) {
        s->terminal_error = 1;
        fprintf(stderr, "pmx stream error event: %.*s\n", (int)len, ev);
    }
    return 0;
}

/* The same stream through pmx_router_stream_async: events run on the router's I/O thread, so
 * the difference to pmx_router_stream is the cost of handing events to the calling thread. */
typedef struct {
    count_state c;
    int finished;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} async_state;

static int32_t count_async(const char *ev, size_t len, void *ud)
{
    async_state *a = ud;
    count_events(ev, len, &a->c);
    if (is_type(ev, len, "done") || is_type(ev, len, "error")) {
        pthread_mutex_lock(&a->mu);
        a->finished = 1;
        pthread_cond_signal(&a->cv);
        pthread_mutex_unlock(&a->mu);
    }
    return 0;
}

static void pmx_async_once(pmx_router *r, const char *req, async_state *a)
{
    pmx_error err;
    memset(&a->c, 0, sizeof a->c);
    a->finished = 0;
    a->c.t0 = now_ns();
    pmx_check(pmx_router_stream_async(NULL, r, req, count_async, a, &err), &err, "pmx_router_stream_async");
    pthread_mutex_lock(&a->mu);
    while (!a->finished)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
}

static void pmx_stream_once(pmx_router *r, const char *req, count_state *s)
{
    pmx_error err;
    pmx_status st;
    memset(s, 0, sizeof *s);
    s->t0 = now_ns();
    st = pmx_router_stream(NULL, r, req, count_events, s, &err);
    pmx_check(st, &err, "pmx_router_stream");
}

/* ---------------------------------------------------------------------------------------- */
/* Benchmarks                                                                               */
/* ---------------------------------------------------------------------------------------- */

static json_t *bench_plain(raw_client *raw, int port, int iters)
{
    char url[128], base[128];
    pmx_router *r;
    double *a = calloc((size_t)iters, sizeof *a), *b = calloc((size_t)iters, sizeof *b);
    double *ca = calloc((size_t)iters, sizeof *ca), *cb = calloc((size_t)iters, sizeof *cb);
    pmx_error err;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
    r = router_one("nginx", "openai-compatible", base);

    for (int i = 0; i < 50; i++) { /* warm up both: connections, caches */
        char *out = NULL;
        raw_complete(raw, url, REQ_PLAIN);
        pmx_check(pmx_router_complete(&out, r, REQ_PLAIN, &err), &err, "pmx_router_complete");
        pmx_string_free(out);
    }
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 2; k++) {
            int pmx_first = (i & 1) == 0; /* ABBA */
            uint64_t c0 = cpu_ns(), t0 = now_ns();
            if ((k == 0) == pmx_first) {
                char *out = NULL;
                pmx_status st = pmx_router_complete(&out, r, REQ_PLAIN, &err);
                pmx_string_free(out);
                b[i] = (double)(now_ns() - t0);
                cb[i] = (double)(cpu_ns() - c0);
                pmx_check(st, &err, "pmx_router_complete");
            } else {
                raw_complete(raw, url, REQ_PLAIN);
                a[i] = (double)(now_ns() - t0);
                ca[i] = (double)(cpu_ns() - c0);
            }
        }
    }
    pmx_router_free(r);
    stats sa = stats_of(a, (size_t)iters), sb = stats_of(b, (size_t)iters);
    stats sca = stats_of(ca, (size_t)iters), scb = stats_of(cb, (size_t)iters);
    json_t *o = json_pack("{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:o,s:o}", "iterations", iters,
                          "raw_us", ns_to_us(sa.median), "pmx_us", ns_to_us(sb.median),
                          "added_us", ns_to_us(sb.median - sa.median), "ratio", sb.median / sa.median,
                          "raw_cpu_us", ns_to_us(sca.median), "pmx_cpu_us", ns_to_us(scb.median),
                          "raw_ns", stats_json(&sa), "pmx_ns", stats_json(&sb));
    free(a);
    free(b);
    free(ca);
    free(cb);
    fprintf(stderr, "  non-streaming: raw %.1f us, pmx %.1f us, added %.1f us\n", ns_to_us(sa.median),
            ns_to_us(sb.median), ns_to_us(sb.median - sa.median));
    return o;
}

/* One streamed comparison: the raw client on url vs a pmx router on (type, base). */
static json_t *bench_stream(raw_client *raw, const char *label, const char *url, const char *type,
                            const char *base, const char *req, framing fr, int chunks, int iters)
{
    pmx_router *r = router_one("nginx", type, base);
    double *a = calloc((size_t)iters, sizeof *a), *b = calloc((size_t)iters, sizeof *b);
    double *fa = calloc((size_t)iters, sizeof *fa), *fb = calloc((size_t)iters, sizeof *fb);
    double *ca = calloc((size_t)iters, sizeof *ca), *cb = calloc((size_t)iters, sizeof *cb);
    double *d = calloc((size_t)iters, sizeof *d);
    async_state as;
    long pmx_events = 0, pmx_deltas = 0, raw_content = 0;
    count_state s;
    int warm = iters < 20 ? 3 : 10;

    pthread_mutex_init(&as.mu, NULL);
    pthread_cond_init(&as.cv, NULL);
    for (int i = 0; i < warm; i++) {
        raw_stream(raw, url, req, fr);
        pmx_stream_once(r, req, &s);
        pmx_async_once(r, req, &as);
    }
    for (int i = 0; i < iters; i++) {
        for (int k = 0; k < 2; k++) {
            int pmx_first = (i & 1) == 0;
            uint64_t c0 = cpu_ns(), t0 = now_ns();
            if ((k == 0) == pmx_first) {
                pmx_stream_once(r, req, &s);
                b[i] = (double)(now_ns() - t0);
                cb[i] = (double)(cpu_ns() - c0);
                fb[i] = (double)s.first_delta_ns;
                pmx_events = s.events;
                pmx_deltas = s.deltas;
                if (s.deltas != chunks || s.terminal_error) {
                    fprintf(stderr, "%s: pmx delivered %ld deltas, expected %d\n", label, s.deltas, chunks);
                    exit(1);
                }
            } else {
                raw_content = raw_stream(raw, url, req, fr);
                a[i] = (double)(now_ns() - t0);
                ca[i] = (double)(cpu_ns() - c0);
                fa[i] = (double)raw->first_content_ns;
                if (raw_content != chunks) {
                    fprintf(stderr, "%s: raw parsed %ld content events, expected %d\n", label, raw_content, chunks);
                    exit(1);
                }
            }
        }
        {
            uint64_t t0 = now_ns();
            pmx_async_once(r, req, &as);
            d[i] = (double)(now_ns() - t0);
            if (as.c.deltas != chunks || as.c.terminal_error) {
                fprintf(stderr, "%s: pmx async delivered %ld deltas, expected %d\n", label, as.c.deltas, chunks);
                exit(1);
            }
        }
    }
    pthread_mutex_destroy(&as.mu);
    pthread_cond_destroy(&as.cv);
    pmx_router_free(r);
    stats sa = stats_of(a, (size_t)iters), sb = stats_of(b, (size_t)iters);
    stats sfa = stats_of(fa, (size_t)iters), sfb = stats_of(fb, (size_t)iters);
    stats sca = stats_of(ca, (size_t)iters), scb = stats_of(cb, (size_t)iters);
    double per_chunk_us = ns_to_us((sb.median - sa.median) / chunks);
    json_t *o = json_pack(
        "{s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:f,s:f,s:f,s:o,s:o,s:o,s:o}", "chunks", chunks,
        "iterations", iters, "raw_ms", sa.median / 1e6, "pmx_ms", sb.median / 1e6, "added_us",
        ns_to_us(sb.median - sa.median), "added_us_per_chunk", per_chunk_us, "ratio", sb.median / sa.median,
        "raw_us_per_chunk", ns_to_us(sa.median / chunks), "pmx_us_per_chunk", ns_to_us(sb.median / chunks),
        "pmx_events_per_s", (double)pmx_events / (sb.median / 1e9), "pmx_events", (json_int_t)pmx_events,
        "pmx_deltas", (json_int_t)pmx_deltas, "raw_events_per_s", (double)raw->events / (sa.median / 1e9),
        "raw_ttft_us", ns_to_us(sfa.median), "pmx_ttft_us", ns_to_us(sfb.median), "raw_ns", stats_json(&sa),
        "pmx_ns", stats_json(&sb), "raw_ttft_ns", stats_json(&sfa), "pmx_ttft_ns", stats_json(&sfb));
    fprintf(stderr, "  %s: raw %.3f ms, pmx %.3f ms, added %.3f us/chunk, ttft raw %.1f us pmx %.1f us\n", label,
            sa.median / 1e6, sb.median / 1e6, per_chunk_us, ns_to_us(sfa.median), ns_to_us(sfb.median));
    free(a);
    free(b);
    stats sd = stats_of(d, (size_t)iters);
    json_object_set_new(o, "pmx_async_ms", json_real(sd.median / 1e6));
    json_object_set_new(o, "pmx_async_added_us_per_chunk", json_real(ns_to_us((sd.median - sa.median) / chunks)));
    json_object_set_new(o, "raw_cpu_ms", json_real(sca.median / 1e6));
    json_object_set_new(o, "pmx_cpu_ms", json_real(scb.median / 1e6));
    json_object_set_new(o, "added_cpu_us_per_chunk", json_real(ns_to_us((scb.median - sca.median) / chunks)));
    free(fa);
    free(fb);
    free(ca);
    free(cb);
    free(d);
    fprintf(stderr, "    async (events on the I/O thread): %.3f ms, added %.3f us/chunk\n", sd.median / 1e6,
            ns_to_us((sd.median - sa.median) / chunks));
    return o;
}

int main(int argc, char **argv)
{
    raw_client raw;
    json_t *doc, *streams, *protocols;
    char url[160], base[160];
    int port, it_plain, it16, it256, it4096, itproto;

    if (argc != 8) {
        fprintf(stderr, "usage: %s PORT ITER_PLAIN ITER_S16 ITER_S256 ITER_S4096 ITER_PROTO OUT.json\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    it_plain = atoi(argv[2]);
    it16 = atoi(argv[3]);
    it256 = atoi(argv[4]);
    it4096 = atoi(argv[5]);
    itproto = atoi(argv[6]);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    raw_init(&raw);
    doc = json_object();
    json_object_set_new(doc, "nonstream", bench_plain(&raw, port, it_plain));

    streams = json_object();
    const int counts[3] = {16, 256, 4096};
    const int iters[3] = {it16, it256, it4096};
    for (int i = 0; i < 3; i++) {
        char label[32];
        snprintf(label, sizeof label, "sse%d", counts[i]);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/sse%d/v1/chat/completions", port, counts[i]);
        snprintf(base, sizeof base, "http://127.0.0.1:%d/sse%d/v1", port, counts[i]);
        json_object_set_new(streams, label + 3,
                            bench_stream(&raw, label, url, "openai-compatible", base, REQ_STREAM, FRAMING_OPENAI_SSE,
                                         counts[i], iters[i]));
    }
    json_object_set_new(doc, "stream", streams);

    protocols = json_object();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/anthropic/v1/messages", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/anthropic", port);
    json_object_set_new(protocols, "anthropic",
                        bench_stream(&raw, "anthropic", url, "anthropic", base, REQ_ANTHROPIC, FRAMING_ANTHROPIC_SSE,
                                     256, itproto));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/gemini/v1beta/models/bench-model:streamGenerateContent?alt=sse", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/gemini", port);
    json_object_set_new(protocols, "gemini",
                        bench_stream(&raw, "gemini", url, "gemini", base, REQ_STREAM, FRAMING_GEMINI_SSE, 256, itproto));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ollama/api/chat", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/ollama", port);
    json_object_set_new(protocols, "ollama",
                        bench_stream(&raw, "ollama", url, "ollama", base, REQ_STREAM, FRAMING_NDJSON, 256, itproto));
    json_object_set_new(doc, "protocols", protocols);

    if (json_dump_file(doc, argv[7], JSON_INDENT(2)) != 0) {
        fprintf(stderr, "cannot write %s\n", argv[7]);
        return 1;
    }
    json_decref(doc);
    raw_cleanup(&raw);
    curl_global_cleanup();
    return 0;
}
