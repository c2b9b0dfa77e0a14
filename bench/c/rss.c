/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rss — VmRSS after WARM and after TOTAL sequential non-streaming requests through one router.
 *
 * Usage: rss PORT WARM TOTAL OUT.json
 *
 * Growth between the two readings (with the same router and connection) points at a leak.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>

#include "common.h"

static const char *REQ_PLAIN =
    "{\"model\":\"bench-model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

static void run(pmx_router *r, int n)
{
    pmx_error err;
    for (int i = 0; i < n; i++) {
        char *out = NULL;
        pmx_check(pmx_router_complete(&out, r, REQ_PLAIN, &err), &err, "pmx_router_complete");
        pmx_string_free(out);
    }
}

int main(int argc, char **argv)
{
    char base[160];
    pmx_router *r;
    int port, warm, total;
    long rss_start, rss_warm, rss_total, hwm_total;
    uint64_t t0, t1;

    if (argc != 5) {
        fprintf(stderr, "usage: %s PORT WARM TOTAL OUT.json\n", argv[0]);
        return 2;
    }
    port = atoi(argv[1]);
    warm = atoi(argv[2]);
    total = atoi(argv[3]);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", port);
    r = router_one("nginx", "openai-compatible", base);
    rss_start = proc_status_kib("VmRSS");
    run(r, warm);
    rss_warm = proc_status_kib("VmRSS");
    t0 = now_ns();
    run(r, total - warm);
    t1 = now_ns();
    rss_total = proc_status_kib("VmRSS");
    hwm_total = proc_status_kib("VmHWM");
    pmx_router_free(r);

    json_t *doc = json_pack("{s:i,s:i,s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "warm_requests", warm, "total_requests", total,
                            "vmrss_router_created_kib", (json_int_t)rss_start, "vmrss_after_warm_kib",
                            (json_int_t)rss_warm, "vmrss_after_total_kib", (json_int_t)rss_total, "growth_kib",
                            (json_int_t)(rss_total - rss_warm), "vmhwm_kib", (json_int_t)hwm_total,
                            "growth_bytes_per_request", (double)(rss_total - rss_warm) * 1024.0 / (total - warm),
                            "mean_request_us", (double)(t1 - t0) / 1e3 / (total - warm));
    fprintf(stderr, "  VmRSS: created %ld KiB, after %d %ld KiB, after %d %ld KiB\n", rss_start, warm, rss_warm, total,
            rss_total);
    if (json_dump_file(doc, argv[4], JSON_INDENT(2)) != 0)
        return 1;
    json_decref(doc);
    return 0;
}
