/* SPDX-License-Identifier: Apache-2.0 */
/*
 * counted — the counted loopback run behind bench/instructions.sh and the CI guard.
 *
 * Usage: valgrind --tool=callgrind --callgrind-out-file=F counted PORT
 *
 * One process measures everything: for each workload it runs a warm-up, then two phases of
 * different sizes (a small and a large number of requests, or the same number of streams of 16
 * and of 256 chunks), each bracketed by two CALLGRIND_DUMP_STATS_AT, so every phase becomes one
 * callgrind dump (all threads) named "<side> <workload> <size>".
 * bench/instructions.py subtracts the two phases of a workload: the fixed costs (process start,
 * router creation, connection set-up, the dump itself) cancel, and what is left is the cost
 * per request or per chunk. Under plain execution (no valgrind) the client requests do
 * nothing, which makes this a quick smoke test of the paths.
 *
 * Workloads, each on the library (pmx: one router, one provider with an API key so that
 * masking runs, the JSON event callback) and on the raw libcurl client of common.c (the same
 * requests, one easy handle) twice: "raw" without JSON parsing, "rawjson" with jansson per
 * body or event; streams also through the typed pull API ("pull"):
 *   complete           OpenAI chat.completion            phases of 2 and 12 requests
 *   openai / anthropic / gemini / ollama streams        2 streams of 16, 2 streams of 256 chunks
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "common.h"

enum { SMALL_REQUESTS = 2, LARGE_REQUESTS = 12, STREAMS = 2, WARM = 2 };

/* A priced model for OpenAI (the cost is computed, as in real use); Gemini names the model in
 * the URL, so its requests name the file nginx serves. */
static const char *REQ_PLAIN =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_STREAM =
    "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"max_tokens\":4096,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
static const char *REQ_STREAM_GEMINI =
    "{\"model\":\"bench-model\",\"stream\":true,\"max_tokens\":4096,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

/* A stream protocol: provider type, URL prefix of the 16- and 256-chunk bodies (bench/nginx),
 * the path the raw client posts to, and its framing. */
typedef struct {
    const char *name, *type, *prefix16, *prefix256, *path;
    framing fr;
} protocol;

static const protocol PROTOCOLS[] = {
    {"openai", "openai-compatible", "/sse16", "/sse256", "/v1/chat/completions", FRAMING_OPENAI_SSE},
    {"anthropic", "anthropic", "/anthropic16", "/anthropic", "/v1/messages", FRAMING_ANTHROPIC_SSE},
    {"gemini", "gemini", "/gemini16", "/gemini",
     "/v1beta/models/bench-model:streamGenerateContent?alt=sse", FRAMING_GEMINI_SSE},
    {"ollama", "ollama", "/ollama16", "/ollama", "/api/chat", FRAMING_NDJSON},
};

static int port;
static long deltas;

/* One router, one provider of `type` at base URL prefix `prefix` (the OpenAI-style types
 * append /v1 themselves where their wire format needs it), with an API key. */
static pmx_router *router_at(const char *type, const char *prefix)
{
    char cfg[512];
    const char *v1 = strcmp(type, "openai-compatible") == 0 ? "/v1" : "";
    pmx_router *r = NULL;
    pmx_error err;
    snprintf(cfg, sizeof cfg,
             "{\"providers\":[{\"name\":\"bench\",\"type\":\"%s\",\"api_key\":\"sk-bench-0123456789abcdef\","
             "\"base_url\":\"http://127.0.0.1:%d%s%s\"}]}",
             type, port, prefix, v1);
    pmx_check(pmx_router_new(&r, cfg, &err), &err, "pmx_router_new");
    return r;
}

static void pmx_complete_n(pmx_router *r, int n)
{
    for (int i = 0; i < n; i++) {
        char *out = NULL;
        pmx_error err;
        pmx_check(pmx_router_complete(&out, r, REQ_PLAIN, &err), &err, "pmx_router_complete");
        pmx_string_free(out);
    }
}

static const char *stream_request(const char *protocol_name)
{
    return strcmp(protocol_name, "gemini") == 0 ? REQ_STREAM_GEMINI : REQ_STREAM;
}

static void pmx_stream_n(pmx_router *r, int n, long chunks, const char *what)
{
    for (int i = 0; i < n; i++) {
        pmx_error err;
        deltas = 0;
        pmx_check(pmx_router_stream(NULL, r, stream_request(what), count_delta_events, &deltas, &err), &err, "pmx_router_stream");
        if (deltas != chunks) {
            fprintf(stderr, "counted: %s: %ld delta events, expected %ld\n", what, deltas, chunks);
            exit(1);
        }
    }
}

static void raw_complete_n(raw_client *c, const char *url, int n)
{
    for (int i = 0; i < n; i++)
        raw_complete(c, url, REQ_PLAIN);
}

/* Without parsing, the raw client counts data events, which include the final ones. */
static void raw_stream_n(raw_client *c, const char *url, framing fr, int n, long chunks, const char *what)
{
    for (int i = 0; i < n; i++) {
        long got = raw_stream(c, url, stream_request(what), fr);
        if (c->parse ? got != chunks : got < chunks) {
            fprintf(stderr, "counted: raw %s: %ld content events, expected %ld\n", what, got, chunks);
            exit(1);
        }
    }
}

/* Phase markers: everything between begin and end is one dump named `label`. A phase starts
 * with a dump of its own (discarded), not CALLGRIND_ZERO_STATS: in valgrind 3.19, costs of
 * functions on the stack when zeroing came back in the next dump (the first phase after a
 * warm-up read 2-3x too high, and "summary:" disagreed with "totals:"); a dump resets cleanly. */
static void begin(void) { CALLGRIND_DUMP_STATS_AT("between phases"); }
static void end(const char *label)
{
    CALLGRIND_DUMP_STATS_AT(label);
    printf("phase %s\n", label);
}

/* The two raw clients: "raw" moves and frames the bytes only (libcurl's floor, the figure the
 * targets are "added" to), "rawjson" also parses every body and event with jansson. */
static const char *RAW_SIDES[2] = {"raw", "rawjson"};

/* The typed pull stream (pmx_router_stream_open + pmx_stream_next, 64 events per call, no JSON
 * asked for), read to its terminal event: what the bindings' iterators do. */
static void pull_n(pmx_router *r, int n, long chunks, const char *what)
{
    static pmx_event ev[64];
    for (int i = 0; i < n; i++) {
        pmx_stream *st = NULL;
        pmx_error err;
        size_t count = 0;
        long got = 0;
        int32_t status = PMX_OK;
        pmx_check(pmx_router_stream_open(&st, r, stream_request(what), &err), &err, "pmx_router_stream_open");
        for (;;) {
            pmx_check(pmx_stream_next(ev, 64, sizeof(pmx_event), &count, st, -1, 0, &err), &err, "pmx_stream_next");
            for (size_t k = 0; k < count; k++)
                got += ev[k].type == PMX_EVENT_DELTA;
            if (count && (ev[count - 1].type == PMX_EVENT_DONE || ev[count - 1].type == PMX_EVENT_ERROR)) {
                status = ev[count - 1].type == PMX_EVENT_DONE ? PMX_OK : ev[count - 1].status;
                break;
            }
        }
        pmx_stream_free(st);
        if (status != PMX_OK || got != chunks) {
            fprintf(stderr, "counted: pull %s: status %d, %ld delta events, expected %ld\n", what, status, got, chunks);
            exit(1);
        }
    }
}

static void measure_complete(raw_client *raw)
{
    char url[160], label[64];
    pmx_router *r = router_at("openai-compatible", "");
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", port);
    pmx_complete_n(r, WARM);
    raw_complete_n(raw, url, WARM);
    const int sizes[2] = {SMALL_REQUESTS, LARGE_REQUESTS};
    for (int k = 0; k < 2; k++) {
        begin();
        pmx_complete_n(r, sizes[k]);
        snprintf(label, sizeof label, "pmx complete %d", sizes[k]);
        end(label);
        for (int side = 0; side < 2; side++) {
            raw->parse = side;
            begin();
            raw_complete_n(raw, url, sizes[k]);
            snprintf(label, sizeof label, "%s complete %d", RAW_SIDES[side], sizes[k]);
            end(label);
        }
    }
    pmx_router_free(r);
}

static void measure_stream(raw_client *raw, const protocol *p)
{
    const char *prefixes[2] = {p->prefix16, p->prefix256};
    const long chunks[2] = {16, 256};
    for (int k = 0; k < 2; k++) {
        char url[256], label[64];
        pmx_router *r = router_at(p->type, prefixes[k]);
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s%s", port, prefixes[k], p->path);
        pmx_stream_n(r, WARM, chunks[k], p->name);
        pull_n(r, WARM, chunks[k], p->name);
        raw->parse = 1;
        raw_stream_n(raw, url, p->fr, WARM, chunks[k], p->name);
        begin();
        pmx_stream_n(r, STREAMS, chunks[k], p->name);
        snprintf(label, sizeof label, "pmx %s %ld", p->name, chunks[k]);
        end(label);
        begin();
        pull_n(r, STREAMS, chunks[k], p->name);
        snprintf(label, sizeof label, "pull %s %ld", p->name, chunks[k]);
        end(label);
        for (int side = 0; side < 2; side++) {
            raw->parse = side;
            begin();
            raw_stream_n(raw, url, p->fr, STREAMS, chunks[k], p->name);
            snprintf(label, sizeof label, "%s %s %ld", RAW_SIDES[side], p->name, chunks[k]);
            end(label);
        }
        pmx_router_free(r);
    }
}

int main(int argc, char **argv)
{
    raw_client raw;
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT   (under valgrind --tool=callgrind)\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    raw_init(&raw);
    measure_complete(&raw);
    for (size_t i = 0; i < sizeof PROTOCOLS / sizeof PROTOCOLS[0]; i++)
        measure_stream(&raw, &PROTOCOLS[i]);
    raw_cleanup(&raw);
    curl_global_cleanup();
    return 0;
}
