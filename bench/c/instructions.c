/* SPDX-License-Identifier: Apache-2.0 */
/* Instruction-count driver for bench/instructions.sh: N blocking requests (complete; stream,
 * JSON event callback; or pull, the typed pull stream) through one openai-compatible provider
 * with an API key (so masking runs) against the bench nginx. Run under
 * `valgrind --tool=callgrind`; the difference between two values of N (or two stream sizes) is
 * the cost per request (per chunk), all threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "providermux.h"
static long events;
static int32_t on_ev(const char *j, size_t n, void *u) { (void)j; (void)n; (void)u; events++; return 0; }
/* mode "pull": the typed pull stream (pmx_router_stream_open + pmx_stream_next, 64 events per
 * call, no JSON asked for), read to its end. */
static int32_t pull(pmx_router *r, const char *req, pmx_error *err)
{
    static pmx_event ev[64];
    pmx_stream *s; size_t count; int32_t st;
    if ((st = pmx_router_stream_open(&s, r, req, err))) return st;
    for (;;) {
        if ((st = pmx_stream_next(ev, 64, sizeof(pmx_event), &count, s, -1, 0, err))) break;
        events += (long)count;
        if (count && (ev[count - 1].type == PMX_EVENT_DONE || ev[count - 1].type == PMX_EVENT_ERROR)) {
            st = ev[count - 1].status;
            break;
        }
    }
    pmx_stream_free(s);
    return st;
}
int main(int argc, char **argv)
{
    int port = atoi(argv[1]); const char *mode = argv[2]; int n = atoi(argv[3]);
    const char *path = argc > 4 ? argv[4] : "";
    char cfg[512];
    snprintf(cfg, sizeof cfg, "{\"providers\":[{\"name\":\"o\",\"type\":\"openai-compatible\",\"api_key\":\"sk-bench-0123456789abcdef\","
             "\"base_url\":\"http://127.0.0.1:%d%s/v1\"}]}", port, path);
    pmx_router *r; pmx_error err;
    if (pmx_router_new(&r, cfg, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    const char *req = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    for (int i = 0; i < n; i++) {
        char *out = NULL; int32_t st;
        if (strcmp(mode, "complete") == 0) st = pmx_router_complete(&out, r, req, &err);
        else if (strcmp(mode, "pull") == 0) st = pull(r, req, &err);
        else st = pmx_router_stream(NULL, r, req, on_ev, NULL, &err);
        if (st) { fprintf(stderr, "st %d %s\n", st, err.message); return 1; }
        pmx_string_free(out);
    }
    pmx_router_free(r);
    fprintf(stderr, "events %ld\n", events);
    return 0;
}
