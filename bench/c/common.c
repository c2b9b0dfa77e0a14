/* SPDX-License-Identifier: Apache-2.0 */
/* common.c — see common.h. */
#define _GNU_SOURCE

#include "common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double ns_to_us(double ns) { return ns / 1000.0; }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    double frac = pos - (double)i;
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] * (1.0 - frac) + sorted[i + 1] * frac;
}

stats stats_of(double *samples, size_t n)
{
    stats s = {0, 0, 0, 0, 0, 0, n};
    double sum = 0;
    if (n == 0)
        return s;
    qsort(samples, n, sizeof *samples, cmp_double);
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    s.median = quantile(samples, n, 0.5);
    s.p10 = quantile(samples, n, 0.1);
    s.p90 = quantile(samples, n, 0.9);
    s.min = samples[0];
    s.max = samples[n - 1];
    s.mean = sum / (double)n;
    return s;
}

json_t *stats_json(const stats *s)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:I}", "median", s->median, "p10", s->p10, "p90", s->p90,
                     "min", s->min, "max", s->max, "mean", s->mean, "n", (json_int_t)s->n);
}

long proc_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t flen = strlen(field);
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            v = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

int proc_thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

void sbuf_append(sbuf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sbuf_consume(sbuf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

void sbuf_free(sbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int32_t count_delta_events(const char *ev, size_t len, void *counter)
{
    static const char delta[] = "{\"type\":\"delta\"";
    if (len >= sizeof delta - 1 && memcmp(ev, delta, sizeof delta - 1) == 0)
        ++*(long *)counter;
    return 0;
}

void pmx_check(pmx_status st, const pmx_error *err, const char *what)
{
    if (st != PMX_OK) {
        fprintf(stderr, "%s failed: %s (%d) %s\n", what, pmx_status_name(st), st, err ? err->message : "");
        exit(1);
    }
}

pmx_router *router_one(const char *name, const char *type, const char *base_url)
{
    /* "api_key": "" = keyless on purpose: the raw client it is compared with sends no key, and
     * the cloud types (anthropic, gemini) refuse to start without one otherwise. */
    json_t *cfg = json_pack("{s:[{s:s,s:s,s:s,s:s}]}", "providers", "name", name, "type", type, "base_url", base_url,
                            "api_key", "");
    char *txt = json_dumps(cfg, JSON_COMPACT);
    pmx_router *r = NULL;
    pmx_error err;
    pmx_status st = pmx_router_new(&r, txt, &err);
    pmx_check(st, &err, "pmx_router_new");
    free(txt);
    json_decref(cfg);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Raw libcurl client                                                                       */
/* ---------------------------------------------------------------------------------------- */

static size_t write_plain(char *p, size_t size, size_t nmemb, void *ud)
{
    raw_client *c = ud;
    sbuf_append(&c->body, p, size * nmemb);
    return size * nmemb;
}

/* Parses one event's data JSON and counts it; returns 1 when it carried content. */
static int raw_event(raw_client *c, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *root, *content = NULL;
    int has = 0;
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        c->done = 1;
        return 0;
    }
    if (!c->parse) {
        c->events++;
        c->content_events++;
        return 1;
    }
    root = json_loadb(data, len, 0, &jerr);
    if (!root) {
        fprintf(stderr, "raw client: bad event JSON: %s\n", jerr.text);
        exit(1);
    }
    c->events++;
    switch (c->fr) {
    case FRAMING_OPENAI_SSE: {
        json_t *choice = json_array_get(json_object_get(root, "choices"), 0);
        content = json_object_get(json_object_get(choice, "delta"), "content");
        break;
    }
    case FRAMING_ANTHROPIC_SSE: {
        json_t *delta = json_object_get(root, "delta");
        content = json_object_get(delta, "text");
        if (json_is_string(json_object_get(root, "type")) &&
            strcmp(json_string_value(json_object_get(root, "type")), "message_stop") == 0)
            c->done = 1;
        break;
    }
    case FRAMING_GEMINI_SSE: {
        /* Every event is a whole GenerateContentResponse; the last carries finishReason. */
        json_t *cand = json_array_get(json_object_get(root, "candidates"), 0);
        content = json_object_get(json_array_get(json_object_get(json_object_get(cand, "content"), "parts"), 0), "text");
        if (json_object_get(cand, "finishReason"))
            c->done = 1;
        break;
    }
    case FRAMING_NDJSON:
        content = json_object_get(json_object_get(root, "message"), "content");
        if (json_is_true(json_object_get(root, "done"))) {
            c->done = 1;
            content = NULL;
        }
        break;
    }
    if (json_is_string(content) && json_string_length(content) > 0) {
        has = 1;
        if (c->content_events++ == 0)
            c->first_content_ns = now_ns() - c->t0;
    }
    json_decref(root);
    return has;
}

/* Handles one framed event: SSE lines ("event: ...", "data: ...") or one NDJSON line. */
static void raw_frame(raw_client *c, const char *p, size_t n)
{
    if (c->fr == FRAMING_NDJSON) {
        if (n > 0)
            raw_event(c, p, n);
        return;
    }
    /* SSE: find the data line(s); these bodies carry one data line per event. */
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) >= 5 && memcmp(p, "data:", 5) == 0) {
            const char *d = p + 5;
            if (d < le && *d == ' ')
                d++;
            raw_event(c, d, (size_t)(le - d));
        }
        p = nl ? nl + 1 : end;
    }
}

/* The first delimiter ("\n", or "\n\n" when dlen is 2) at or after data[0..len): memchr for
 * the newline (vectorised in glibc), where memmem with a two-byte needle costs ~8 instructions
 * a byte and would make the floor look higher than it is. */
static char *find_delim(char *data, size_t len, size_t dlen)
{
    char *p = data, *end = data + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        if (dlen == 1)
            return nl;
        if (nl + 1 >= end)
            return NULL;
        if (nl[1] == '\n')
            return nl;
        p = nl + 1;
    }
    return NULL;
}

static size_t write_stream(char *p, size_t size, size_t nmemb, void *ud)
{
    raw_client *c = ud;
    size_t n = size * nmemb, start = 0;
    size_t dlen = c->fr == FRAMING_NDJSON ? 1 : 2; /* "\n" or "\n\n" */
    sbuf_append(&c->body, p, n);
    for (;;) {
        size_t from = c->scan > start ? c->scan : start;
        char *hit = from < c->body.len ? find_delim(c->body.data + from, c->body.len - from, dlen) : NULL;
        if (!hit) {
            c->scan = c->body.len >= dlen ? c->body.len - dlen + 1 : 0;
            break;
        }
        size_t pos = (size_t)(hit - c->body.data);
        raw_frame(c, c->body.data + start, pos - start);
        start = pos + dlen;
        c->scan = start;
    }
    sbuf_consume(&c->body, start);
    c->scan = c->scan >= start ? c->scan - start : 0;
    return n;
}

void raw_init(raw_client *c)
{
    memset(c, 0, sizeof *c);
    c->parse = 1;
    c->easy = curl_easy_init();
    if (!c->easy) {
        fprintf(stderr, "curl_easy_init failed\n");
        exit(1);
    }
    c->headers_json = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers_json = curl_slist_append(c->headers_json, "Accept: application/json");
    c->headers_stream = curl_slist_append(NULL, "Content-Type: application/json");
    c->headers_stream = curl_slist_append(c->headers_stream, "Accept: text/event-stream");
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
}

void raw_cleanup(raw_client *c)
{
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers_json);
    curl_slist_free_all(c->headers_stream);
    sbuf_free(&c->body);
}

static void raw_perform(raw_client *c, const char *url)
{
    long code = 0;
    CURLcode rc;
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    rc = curl_easy_perform(c->easy);
    if (rc != CURLE_OK) {
        fprintf(stderr, "raw client: %s: %s\n", url, c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        exit(1);
    }
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
        fprintf(stderr, "raw client: %s: HTTP %ld\n", url, code);
        exit(1);
    }
}

size_t raw_complete(raw_client *c, const char *url, const char *body)
{
    json_error_t jerr;
    json_t *root, *content;
    size_t n;
    c->body.len = 0;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers_json);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, write_plain);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
    raw_perform(c, url);
    if (!c->parse)
        return c->body.len;
    root = json_loadb(c->body.data, c->body.len, 0, &jerr);
    if (!root) {
        fprintf(stderr, "raw client: bad JSON: %s\n", jerr.text);
        exit(1);
    }
    content = json_object_get(json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message"),
                              "content");
    n = json_string_length(content);
    json_decref(root);
    return n;
}

long raw_stream(raw_client *c, const char *url, const char *body, framing fr)
{
    c->body.len = 0;
    c->scan = 0;
    c->fr = fr;
    c->events = c->content_events = 0;
    c->first_content_ns = 0;
    c->done = 0;
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers_stream);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, write_stream);
    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
    c->t0 = now_ns();
    raw_perform(c, url);
    if (!c->parse)
        c->done = 1; /* the end marker is in the JSON, which was not read */
    if (!c->done) {
        fprintf(stderr, "raw client: %s: stream ended without its final event\n", url);
        exit(1);
    }
    return c->content_events;
}
