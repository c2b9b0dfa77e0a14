/* SPDX-License-Identifier: Apache-2.0 */
/*
 * soak.c — long-running churn test of pmx_router_stream_async.
 *
 *   soak SECONDS STREAMS BASE_URL LONG_BASE_URL [ROUTER_SWAP_SECONDS] [PROMPT_REPEAT]
 *
 * Keeps STREAMS async streams in flight on one router (openai-compatible providers on the
 * upstream, a dead provider that always fails over, and a mock provider as fallback); as each
 * ends, another starts. ~10% of streams are cancelled from the main thread at a random time,
 * ~5% have their handle freed while running, and every ROUTER_SWAP_SECONDS the router is freed
 * with its streams in flight and a new one is created. Every stream has its own struct (userdata)
 * that counts its events: exactly one terminal event, nothing after it, and the struct is
 * poisoned (kept in quarantine for a while before free()) so a late callback is detected.
 * A watchdog aborts when no event arrives for 30 s while streams are in flight. VmRSS is sampled
 * every second. Exit status: 0 = clean, 1 = violations, 2 = setup error; abort() on a hang.
 */
#define _GNU_SOURCE
#include <providermux.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAGIC_LIVE 0x50a4b17eU
#define MAGIC_DEAD 0xdeadbeefU
#define QUARANTINE_NS (3ull * 1000000000ull)
#define WATCHDOG_NS (30ull * 1000000000ull)
#define NSTATUS 128 /* error status histogram: index = -code (codes are >= -99) */

typedef struct soak_stream {
    _Atomic uint32_t magic;
    _Atomic int events;
    _Atomic int terminals;
    _Atomic int after_terminal;
    int terminal_code; /* 0 = done, else the error code */
    int kind;
    uint64_t id;
    uint64_t generation; /* router generation */
    pmx_stream *handle;  /* main thread only */
    uint64_t cancel_at_ns;    /* 0 = never */
    uint64_t free_at_ns;      /* 0 = never (handle freed after the terminal) */
    int cancelled_by_us;
    int handle_freed_early;
    uint64_t retired_at_ns;
    struct soak_stream *next; /* in-flight list / completion queue / quarantine */
    struct soak_stream *prev;
    struct soak_stream *qnext;
    struct soak_stream *anext; /* pending-action list (cancel / early free), main thread */
    struct soak_stream *aprev;
    int in_actions;
} soak_stream;

/* Completion queue: callbacks push terminal streams; the main thread pops. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static soak_stream *g_done_head;
static soak_stream *g_done_tail;

static _Atomic uint64_t g_last_event_ns;
static _Atomic int g_in_flight;
static _Atomic int g_stop_watchdog;
static _Atomic long g_violations;
static _Atomic long g_late_events;        /* events on a poisoned (retired) struct */
static _Atomic long g_double_terminals;
static _Atomic long g_events_after_terminal;
static _Atomic long g_total_events;
static _Atomic long g_bad_events;
static _Atomic long g_fallback_events;
static _Atomic long g_retry_events;

/* RSS samples (kB), one per second, written by the sampler thread. */
#define MAX_SAMPLES 100000
static long g_rss[MAX_SAMPLES];
static _Atomic int g_nrss;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The number after "<field>:" in /proc/self/status (VmRSS in kB, Threads), or -1. */
static long proc_status_field(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t len = strlen(field);
    long value = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            value = strtol(line + len + 1, NULL, 10);
            break;
        }
    fclose(f);
    return value;
}

static long read_rss_kb(void) { return proc_status_field("VmRSS"); }
static int count_threads(void) { return (int)proc_status_field("Threads"); }

/* xorshift64*: main thread only. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ull;
}
static double rnd01(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

/* Value of the integer field "key" at top level of a small event (first occurrence). */
static int find_int(const char *json, const char *key, int dflt)
{
    const char *p = strstr(json, key);
    if (!p)
        return dflt;
    p += strlen(key);
    return (int)strtol(p, NULL, 10);
}

static int32_t on_event(const char *event_json, size_t len, void *userdata)
{
    soak_stream *s = userdata;
    uint32_t magic = atomic_load(&s->magic);
    const char *t;
    int terminal = 0, code = 0;

    atomic_store(&g_last_event_ns, now_ns());
    atomic_fetch_add(&g_total_events, 1);
    if (magic != MAGIC_LIVE) {
        atomic_fetch_add(&g_late_events, 1);
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: event on a retired stream struct (magic %08x): %.*s\n", magic,
                (int)(len > 200 ? 200 : len), event_json);
        return 0;
    }
    if (event_json == NULL || len == 0 || event_json[len] != '\0' || strlen(event_json) != len) {
        atomic_fetch_add(&g_bad_events, 1);
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: stream %llu: malformed event buffer\n", (unsigned long long)s->id);
        return 0;
    }
    atomic_fetch_add(&s->events, 1);
    t = strstr(event_json, "\"type\":\"");
    if (!t) {
        atomic_fetch_add(&g_bad_events, 1);
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: stream %llu: event without type: %.*s\n", (unsigned long long)s->id,
                (int)(len > 200 ? 200 : len), event_json);
        return 0;
    }
    t += 8;
    if (strncmp(t, "done\"", 5) == 0) {
        terminal = 1;
        code = 0;
    } else if (strncmp(t, "error\"", 6) == 0) {
        terminal = 1;
        code = find_int(event_json, "\"code\":", PMX_ERR_INTERNAL);
        if (code == 0)
            code = PMX_ERR_INTERNAL;
    } else if (strncmp(t, "fallback\"", 9) == 0) {
        atomic_fetch_add(&g_fallback_events, 1);
    } else if (strncmp(t, "retry\"", 6) == 0) {
        atomic_fetch_add(&g_retry_events, 1);
    }
    if (atomic_load(&s->terminals) > 0) {
        atomic_fetch_add(&s->after_terminal, 1);
        atomic_fetch_add(&g_events_after_terminal, 1);
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: stream %llu: event after its terminal event: %.*s\n",
                (unsigned long long)s->id, (int)(len > 200 ? 200 : len), event_json);
        if (terminal)
            atomic_fetch_add(&g_double_terminals, 1);
        return 0;
    }
    if (terminal) {
        s->terminal_code = code;
        atomic_store(&s->terminals, 1);
        pthread_mutex_lock(&g_lock);
        s->qnext = NULL;
        if (g_done_tail)
            g_done_tail->qnext = s;
        else
            g_done_head = s;
        g_done_tail = s;
        pthread_cond_signal(&g_cond);
        pthread_mutex_unlock(&g_lock);
        /* Last use of s. */
    }
    return 0;
}

/* Watchdog + RSS sampler. */
static void *watchdog_main(void *arg)
{
    uint64_t next_sample = now_ns();
    (void)arg;
    while (!atomic_load(&g_stop_watchdog)) {
        uint64_t t = now_ns();
        if (t >= next_sample) {
            int n = atomic_load(&g_nrss);
            if (n < MAX_SAMPLES) {
                g_rss[n] = read_rss_kb();
                atomic_store(&g_nrss, n + 1);
            }
            next_sample += 1000000000ull;
        }
        if (atomic_load(&g_in_flight) > 0 && t > atomic_load(&g_last_event_ns) + WATCHDOG_NS) {
            fprintf(stderr, "WATCHDOG: no event for 30 s with %d streams in flight: hang; aborting\n",
                    atomic_load(&g_in_flight));
            fflush(stderr);
            abort();
        }
        usleep(50000);
    }
    return NULL;
}

/* ---- the main thread's bookkeeping ---- */

static soak_stream g_flight; /* sentinel of the in-flight list (doubly linked) */
static soak_stream g_actions; /* sentinel of the pending-action list */

static void actions_add(soak_stream *s)
{
    s->anext = g_actions.anext;
    s->aprev = &g_actions;
    g_actions.anext->aprev = s;
    g_actions.anext = s;
    s->in_actions = 1;
}
static void actions_del(soak_stream *s)
{
    if (!s->in_actions)
        return;
    s->aprev->anext = s->anext;
    s->anext->aprev = s->aprev;
    s->anext = s->aprev = NULL;
    s->in_actions = 0;
}
static soak_stream *g_quar_head, *g_quar_tail;

static long n_cancelled_by_cancel, n_cancelled_by_free, n_cancelled_by_router;
static long n_started, n_start_errors, n_completed, n_cancelled, n_errors, n_cancel_calls,
    n_early_frees, n_router_swaps, n_router_news;
static long n_by_status[NSTATUS];
static int max_in_flight;
static double max_router_free_ms, sum_router_free_ms;
static long n_router_free_in_flight; /* streams in flight when routers were freed */

static void flight_add(soak_stream *s)
{
    s->next = g_flight.next;
    s->prev = &g_flight;
    g_flight.next->prev = s;
    g_flight.next = s;
}
static void flight_del(soak_stream *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void retire(soak_stream *s)
{
    atomic_store(&s->magic, MAGIC_DEAD);
    s->retired_at_ns = now_ns();
    s->qnext = NULL;
    if (g_quar_tail)
        g_quar_tail->qnext = s;
    else
        g_quar_head = s;
    g_quar_tail = s;
}

static void drain_quarantine(int all)
{
    uint64_t t = now_ns();
    while (g_quar_head && (all || g_quar_head->retired_at_ns + QUARANTINE_NS < t)) {
        soak_stream *s = g_quar_head;
        g_quar_head = s->qnext;
        if (!g_quar_head)
            g_quar_tail = NULL;
        /* A callback may still be reading magic of a buggy stream: we only get here after 3 s. */
        free(s);
    }
}

/* Handles terminal streams: counts, checks, frees the handle, retires the struct. */
static void finish(soak_stream *s)
{
    int terms = atomic_load(&s->terminals);
    if (terms != 1) {
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: stream %llu: %d terminal events\n", (unsigned long long)s->id, terms);
    }
    if (s->terminal_code == 0)
        n_completed++;
    else if (s->terminal_code == PMX_ERR_CANCELLED) {
        n_cancelled++;
        if (s->cancelled_by_us)
            n_cancelled_by_cancel++;
        else if (s->handle_freed_early)
            n_cancelled_by_free++;
        else
            n_cancelled_by_router++;
    }
    else
        n_errors++;
    if (s->terminal_code != 0) {
        int idx = -s->terminal_code;
        if (idx < 0 || idx >= NSTATUS)
            idx = NSTATUS - 1;
        n_by_status[idx]++;
    }
    if (s->terminal_code != 0 && s->terminal_code != PMX_ERR_CANCELLED &&
        s->terminal_code != PMX_ERR_ROUTER_CLOSED && !s->cancelled_by_us && !s->handle_freed_early) {
        /* Unexpected failure: not a violation of the event contract, but worth a line. */
        static int printed;
        if (printed++ < 10)
            fprintf(stderr, "note: stream %llu (kind %d) ended with %s\n", (unsigned long long)s->id,
                    s->kind, pmx_status_name(s->terminal_code));
    }
    if (s->handle) {
        pmx_stream_free(s->handle);
        s->handle = NULL;
    }
    flight_del(s);
    actions_del(s);
    atomic_fetch_sub(&g_in_flight, 1);
    retire(s);
}

static int drain_completions(uint64_t wait_ns)
{
    soak_stream *list;
    int n = 0;
    pthread_mutex_lock(&g_lock);
    if (!g_done_head && wait_ns) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)wait_ns;
        while (ts.tv_nsec >= 1000000000L) {
            ts.tv_nsec -= 1000000000L;
            ts.tv_sec++;
        }
        pthread_cond_timedwait(&g_cond, &g_lock, &ts);
    }
    list = g_done_head;
    g_done_head = g_done_tail = NULL;
    pthread_mutex_unlock(&g_lock);
    while (list) {
        soak_stream *next = list->qnext;
        finish(list);
        list = next;
        n++;
    }
    return n;
}

static char *g_config;
static char g_req[4][8192];

static pmx_router *new_router(void)
{
    pmx_router *r = NULL;
    pmx_error err;
    if (pmx_router_new(&r, g_config, &err) != PMX_OK) {
        fprintf(stderr, "pmx_router_new: %s: %s\n", pmx_status_name(err.code), err.message);
        exit(2);
    }
    n_router_news++;
    return r;
}

static uint64_t g_generation;

static void start_one(pmx_router *r)
{
    soak_stream *s = calloc(1, sizeof *s);
    pmx_error err;
    pmx_status st;
    double u = rnd01();
    uint64_t t = now_ns();
    static uint64_t next_id;
    if (!s) {
        perror("calloc");
        exit(2);
    }
    atomic_store(&s->magic, MAGIC_LIVE);
    s->id = ++next_id;
    s->generation = g_generation;
    /* 55% sse256 via the upstream, 15% sse4096, 15% a dead provider failing over to the slow
     * mock, 15% the slow mock directly. */
    s->kind = u < 0.55 ? 0 : u < 0.70 ? 1 : u < 0.85 ? 2 : 3;
    if (rnd01() < 0.10)
        s->cancel_at_ns = t + (uint64_t)(rnd01() * 60e6); /* within 60 ms */
    else if (rnd01() < 0.05)
        s->free_at_ns = t + (uint64_t)(rnd01() * 60e6);
    flight_add(s);
    if (s->cancel_at_ns || s->free_at_ns)
        actions_add(s);
    atomic_fetch_add(&g_in_flight, 1);
    st = pmx_router_stream_async(&s->handle, r, g_req[s->kind], on_event, s, &err);
    if (st != PMX_OK) {
        static int printed;
        if (printed++ < 5)
            fprintf(stderr, "pmx_router_stream_async: %s: %s\n", pmx_status_name(st), err.message);
        n_start_errors++;
        flight_del(s);
        actions_del(s);
        atomic_fetch_sub(&g_in_flight, 1);
        retire(s);
        return;
    }
    n_started++;
    {
        int f = atomic_load(&g_in_flight);
        if (f > max_in_flight)
            max_in_flight = f;
    }
}

/* Cancels / frees handles whose time has come (streams not yet seen terminal by main). */
static void do_random_actions(void)
{
    uint64_t t = now_ns();
    soak_stream *s, *nx;
    for (s = g_actions.anext; s != &g_actions; s = nx) {
        nx = s->anext;
        if (s->cancel_at_ns && t >= s->cancel_at_ns) {
            s->cancel_at_ns = 0;
            if (s->handle) {
                pmx_stream_cancel(s->handle);
                s->cancelled_by_us = 1;
                n_cancel_calls++;
                if (rnd01() < 0.3)
                    pmx_stream_cancel(s->handle); /* idempotent */
            }
        }
        if (s->free_at_ns && t >= s->free_at_ns) {
            s->free_at_ns = 0;
            if (s->handle) {
                pmx_stream_free(s->handle);
                s->handle = NULL;
                s->handle_freed_early = 1;
                n_early_frees++;
            }
        }
        if (!s->cancel_at_ns && !s->free_at_ns)
            actions_del(s);
    }
}

static void append_json_escaped(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(dst);
    for (; *src && n + 8 < cap; src++) {
        if (*src == '"' || *src == '\\')
            dst[n++] = '\\';
        dst[n++] = *src;
    }
    dst[n] = '\0';
}

int main(int argc, char **argv)
{
    double seconds;
    int streams, swap_s, repeat, i;
    const char *base, *long_base;
    char prompt[4096] = "";
    pthread_t wd;
    pmx_router *router;
    uint64_t t0, t_end, next_swap, next_report;
    long rss_10 = -1, rss_end, rss_max = 0, rss_first;
    int nrss, threads_end;

    if (argc < 5) {
        fprintf(stderr, "usage: %s SECONDS STREAMS BASE_URL LONG_BASE_URL [SWAP_SECONDS] [PROMPT_REPEAT]\n",
                argv[0]);
        return 2;
    }
    seconds = atof(argv[1]);
    streams = atoi(argv[2]);
    base = argv[3];
    long_base = argv[4];
    swap_s = argc > 5 ? atoi(argv[5]) : 10;
    repeat = argc > 6 ? atoi(argv[6]) : 1;
    if (seconds <= 0 || streams <= 0 || swap_s <= 0 || repeat <= 0) {
        fprintf(stderr, "soak: bad arguments\n");
        return 2;
    }
    g_rng ^= (uint64_t)getpid() * 0x2545F4914F6CDD1Dull ^ now_ns();

    if (asprintf(&g_config,
                 "{\"providers\":["
                 "{\"name\":\"up\",\"type\":\"openai-compatible\",\"base_url\":\"%s\"},"
                 "{\"name\":\"uplong\",\"type\":\"openai-compatible\",\"base_url\":\"%s\"},"
                 "{\"name\":\"dead\",\"type\":\"openai-compatible\",\"base_url\":\"http://127.0.0.1:9/v1\","
                 "\"retry\":{\"max_attempts\":1}},"
                 "{\"name\":\"mock\",\"type\":\"mock\",\"token_delay_ms\":2}],"
                 "\"routing\":{\"order\":[\"up\",\"mock\"]},"
                 "\"retry\":{\"max_attempts\":2,\"initial_backoff_ms\":20,\"max_backoff_ms\":100},"
                 "\"timeouts\":{\"connect_ms\":5000,\"first_byte_ms\":20000,\"idle_ms\":20000,\"total_ms\":60000}}",
                 base, long_base) < 0)
        return 2;
    for (i = 0; i < repeat; i++)
        append_json_escaped(prompt, sizeof prompt, "Tell me a long story about a soak test. ");
    snprintf(g_req[0], sizeof g_req[0],
             "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}],"
             "\"route\":{\"providers\":[\"up\",\"mock\"]}}", prompt);
    snprintf(g_req[1], sizeof g_req[1],
             "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}],"
             "\"route\":{\"providers\":[\"uplong\",\"mock\"]}}", prompt);
    snprintf(g_req[2], sizeof g_req[2],
             "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}],"
             "\"route\":{\"providers\":[\"dead\",\"mock\"]}}", prompt);
    snprintf(g_req[3], sizeof g_req[3],
             "{\"model\":\"mock/any\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"%s\"}]}",
             prompt);

    g_flight.next = g_flight.prev = &g_flight;
    g_actions.anext = g_actions.aprev = &g_actions;
    atomic_store(&g_last_event_ns, now_ns());
    if (pthread_create(&wd, NULL, watchdog_main, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }

    printf("soak: %.0f s, %d streams in flight, router swap every %d s, library %s, upstream %s\n",
           seconds, streams, swap_s, pmx_version_string(), base);
    fflush(stdout);
    router = new_router();
    t0 = now_ns();
    t_end = t0 + (uint64_t)(seconds * 1e9);
    next_swap = t0 + (uint64_t)swap_s * 1000000000ull;
    next_report = t0 + 10000000000ull;

    while (now_ns() < t_end) {
        uint64_t t;
        while (atomic_load(&g_in_flight) < streams)
            start_one(router);
        drain_completions(1000000); /* up to 1 ms */
        do_random_actions();
        drain_quarantine(0);
        t = now_ns();
        if (t >= next_swap) {
            /* Free the router with its streams in flight; every stream must have its terminal
             * event when pmx_router_free returns. */
            pmx_router *old = router;
            uint64_t g = g_generation;
            soak_stream *s;
            uint64_t f0;
            double ms;
            long inflight_old = 0;
            router = new_router();
            g_generation++;
            for (s = g_flight.next; s != &g_flight; s = s->next)
                if (s->generation == g)
                    inflight_old++;
            f0 = now_ns();
            pmx_router_free(old);
            ms = (double)(now_ns() - f0) / 1e6;
            if (ms > max_router_free_ms)
                max_router_free_ms = ms;
            sum_router_free_ms += ms;
            n_router_swaps++;
            n_router_free_in_flight += inflight_old;
            for (s = g_flight.next; s != &g_flight; s = s->next)
                if (s->generation == g && atomic_load(&s->terminals) != 1) {
                    atomic_fetch_add(&g_violations, 1);
                    fprintf(stderr, "VIOLATION: stream %llu has no terminal event after pmx_router_free\n",
                            (unsigned long long)s->id);
                }
            next_swap = now_ns() + (uint64_t)swap_s * 1000000000ull;
        }
        if (t >= next_report) {
            printf("  t=%3.0fs started=%ld completed=%ld cancelled=%ld errors=%ld in_flight=%d rss=%ld kB\n",
                   (double)(t - t0) / 1e9, n_started, n_completed, n_cancelled, n_errors,
                   atomic_load(&g_in_flight), read_rss_kb());
            fflush(stdout);
            next_report += 10000000000ull;
        }
    }

    /* End: free the router with whatever is in flight, then check everything ended. */
    {
        soak_stream *s;
        uint64_t f0 = now_ns();
        long inflight_old = atomic_load(&g_in_flight);
        double ms;
        pmx_router_free(router);
        ms = (double)(now_ns() - f0) / 1e6;
        if (ms > max_router_free_ms)
            max_router_free_ms = ms;
        sum_router_free_ms += ms;
        n_router_swaps++;
        n_router_free_in_flight += inflight_old;
        for (s = g_flight.next; s != &g_flight; s = s->next)
            if (atomic_load(&s->terminals) != 1) {
                atomic_fetch_add(&g_violations, 1);
                fprintf(stderr, "VIOLATION: stream %llu has no terminal event after the final pmx_router_free\n",
                        (unsigned long long)s->id);
            }
        drain_completions(0);
    }
    if (atomic_load(&g_in_flight) != 0) {
        atomic_fetch_add(&g_violations, 1);
        fprintf(stderr, "VIOLATION: %d streams still in flight at the end\n", atomic_load(&g_in_flight));
    }
    /* Late events would arrive now: wait, then free every struct. */
    usleep(500000);
    drain_completions(0);
    drain_quarantine(1);
    t_end = now_ns();
    atomic_store(&g_stop_watchdog, 1);
    pthread_join(wd, NULL);
    threads_end = count_threads();

    nrss = atomic_load(&g_nrss);
    rss_first = nrss > 0 ? g_rss[0] : -1;
    for (i = 0; i < nrss; i++)
        if (g_rss[i] > rss_max)
            rss_max = g_rss[i];
    if (nrss > 0)
        rss_10 = g_rss[(int)(nrss / 10)];
    rss_end = read_rss_kb();

    printf("\n== soak results ==\n");
    printf("wall time            %.1f s\n", (double)(t_end - t0) / 1e9);
    printf("streams started      %ld (start errors %ld)\n", n_started, n_start_errors);
    printf("  completed (done)   %ld\n", n_completed);
    printf("  cancelled          %ld (by pmx_stream_cancel %ld of %ld calls, by pmx_stream_free of a running stream %ld of %ld, by pmx_router_free %ld)\n",
           n_cancelled, n_cancelled_by_cancel, n_cancel_calls, n_cancelled_by_free, n_early_frees,
           n_cancelled_by_router);
    printf("  other errors       %ld\n", n_errors);
    printf("errors by status    ");
    {
        int any = 0;
        for (i = 0; i < NSTATUS; i++)
            if (n_by_status[i]) {
                printf(" %s=%ld", pmx_status_name(-i), n_by_status[i]);
                any = 1;
            }
        printf("%s\n", any ? "" : " none");
    }
    printf("events               %ld (malformed %ld, fallback %ld, retry %ld)\n", atomic_load(&g_total_events),
           atomic_load(&g_bad_events), atomic_load(&g_fallback_events), atomic_load(&g_retry_events));
    printf("router swaps         %ld (streams in flight at pmx_router_free: %ld; free time max %.1f ms, mean %.1f ms)\n",
           n_router_swaps, n_router_free_in_flight, max_router_free_ms,
           n_router_swaps ? sum_router_free_ms / (double)n_router_swaps : 0.0);
    printf("max in flight        %d\n", max_in_flight);
    printf("throughput           %.0f streams/s\n", (double)n_started / ((double)(t_end - t0) / 1e9));
    printf("RSS                  first %ld kB, at 10%% %ld kB, end %ld kB, max %ld kB; growth 10%%->end %+ld kB (%+.1f%%)\n",
           rss_first, rss_10, rss_end, rss_max, rss_end - rss_10,
           rss_10 > 0 ? 100.0 * (double)(rss_end - rss_10) / (double)rss_10 : 0.0);
    printf("threads at end       %d (main only expected after the last router is freed)\n", threads_end);
    printf("violations           %ld (late events %ld, events after terminal %ld, double terminals %ld)\n",
           atomic_load(&g_violations), atomic_load(&g_late_events), atomic_load(&g_events_after_terminal),
           atomic_load(&g_double_terminals));
    printf("RESULT               %s\n", atomic_load(&g_violations) == 0 ? "PASS" : "FAIL");
    free(g_config);
    return atomic_load(&g_violations) == 0 ? 0 : 1;
}
