/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common.h — helpers shared by the C benchmarks: a monotonic clock, sample statistics,
 * /proc/self readings, a growable buffer, a tiny JSON result writer on top of jansson, and
 * the raw libcurl baseline client (one reused easy handle, keep-alive, jansson parsing).
 */
#ifndef PMXBENCH_COMMON_H
#define PMXBENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "providermux.h"

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);
/* CPU time of the whole process (all threads) in nanoseconds. */
uint64_t cpu_ns(void);

/* Sample statistics over doubles (the array is sorted in place). */
typedef struct {
    double median, p10, p90, min, max, mean;
    size_t n;
} stats;
stats stats_of(double *samples, size_t n);
json_t *stats_json(const stats *s); /* {"median","p10","p90","min","max","mean","n"} */

/* /proc/self/status fields in KiB ("VmRSS", "VmHWM"); -1 when absent. */
long proc_status_kib(const char *field);
/* Number of entries in /proc/self/task (threads of this process). */
int proc_thread_count(void);

/* Growable byte buffer. */
typedef struct {
    char *data;
    size_t len, cap;
} sbuf;
void sbuf_append(sbuf *b, const char *p, size_t n);
void sbuf_consume(sbuf *b, size_t n); /* drops the first n bytes */
void sbuf_free(sbuf *b);

/* A pmx_event_fn for the JSON event callbacks: counts the delta events into *(long *)counter
 * (the event type is the first key the library writes). */
int32_t count_delta_events(const char *ev, size_t len, void *counter);

/* Dies with a message on a failed pmx call. */
void pmx_check(pmx_status st, const pmx_error *err, const char *what);
/* Creates a router with one provider {"name":name,"type":type,"base_url":base_url}. */
pmx_router *router_one(const char *name, const char *type, const char *base_url);

/* The stream framings the raw client knows. */
typedef enum { FRAMING_OPENAI_SSE, FRAMING_ANTHROPIC_SSE, FRAMING_GEMINI_SSE, FRAMING_NDJSON } framing;

/* The raw libcurl baseline: ONE easy handle, reused for every request (keep-alive). */
typedef struct raw_client {
    CURL *easy;
    struct curl_slist *headers_json;
    struct curl_slist *headers_stream;
    sbuf body;
    /* 1 (raw_init's default): parse every body and event with jansson, as a real client must;
     * 0: transfer and framing only, no JSON (the floor libcurl itself sets; instruction
     * counts compare against both). */
    int parse;
    /* stream state */
    framing fr;
    size_t scan;            /* bytes of body already searched for a delimiter */
    long events;            /* data events parsed */
    long content_events;    /* events that carried content */
    uint64_t t0, first_content_ns;
    int done;
    char errbuf[CURL_ERROR_SIZE];
} raw_client;

void raw_init(raw_client *c);
void raw_cleanup(raw_client *c);
/* POST json to url, read the body, parse it, read choices[0].message.content. Returns the
 * content length (to keep the work observable). Dies on failure. */
size_t raw_complete(raw_client *c, const char *url, const char *body);
/* POST a streamed request; splits events ("\n\n" for SSE, "\n" for NDJSON) as bytes arrive and
 * parses each data JSON. Returns the number of content events (without parsing: of data
 * events); c->first_content_ns is the
 * time from start to the first content event. */
long raw_stream(raw_client *c, const char *url, const char *body, framing fr);

/* Median helpers used by the result document. */
double ns_to_us(double ns);

#endif
