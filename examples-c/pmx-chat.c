/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pmx-chat — chat completions through libprovidermux from the command line.
 *
 * Usage: pmx-chat [OPTIONS] [PROMPT...]     (pmx-chat --help lists them, with examples)
 *
 * One question: the prompt is the arguments joined by spaces, or all of stdin when there are
 * none (an empty prompt is a usage error). The reply goes to stdout as it arrives; then one
 * summary line goes to stderr:
 *
 *   [provider=NAME model=MODEL latency_ms=N ttft_ms=N prompt_tokens=N completion_tokens=N total_tokens=N]
 *
 * A conversation: -i (or no PROMPT with stdin a terminal) reads one message per line and keeps
 * the history, so each request carries the whole conversation; /reset forgets it, /quit or
 * end of input (Ctrl-D) leaves. -v shows each attempt, retry and failover on stderr.
 * --list-models prints the router's models. Colour only when the stream is a terminal (and
 * NO_COLOR is unset), or as --color says.
 *
 * CONFIG defaults to $PMX_CONFIG, else examples/router.json (relative to the current directory).
 * Exit status: 0 done, 1 the request failed, 2 usage or config error, 130 interrupted (Ctrl-C
 * cancels the stream with pmx_stream_cancel; in a conversation it cancels the reply only).
 *
 * The single-question mode is the same program as examples-python/pmx_chat.py; both print the
 * same summary line. Installed by `cmake --install` (bin/pmx-chat).
 * Build: cc -std=c99 pmx-chat.c $(pkg-config --cflags --libs providermux jansson) -lpthread
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "providermux.h"

#define PROG "pmx-chat"

static volatile sig_atomic_t g_interrupted = 0;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

/* Ctrl-C only sets a flag (no SA_RESTART: a blocked read returns EINTR); the main thread
 * notices it and cancels. */
static void install_sigint(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Options and colour                                                                       */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    const char *config_path, *model, *system_msg;
    int no_stream, verbose, interactive, list_models;
    int colour_out, colour_err; /* ANSI colour on stdout / stderr */
} options;

#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

/* `code` when colour is on for that stream, else "". */
static const char *paint(int on, const char *code)
{
    return on ? code : "";
}

/* --color=auto: a terminal, unless NO_COLOR (https://no-color.org) is set and non-empty. */
static int colour_wanted(const char *when, FILE *f)
{
    const char *no_colour = getenv("NO_COLOR");
    if (strcmp(when, "always") == 0)
        return 1;
    if (strcmp(when, "never") == 0)
        return 0;
    return isatty(fileno(f)) && !(no_colour && *no_colour);
}

/* ---------------------------------------------------------------------------------------- */
/* A growable byte buffer and a JSON string escaper                                        */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buffer;

/* Room for `extra` more bytes and the terminating NUL; `data` is always a C string after it
 * (also when nothing was ever appended: an empty stdin is "", not uninitialised memory). */
static void buf_reserve(buffer *b, size_t extra)
{
    if (b->len + extra + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (b->len + extra + 1 > cap)
            cap *= 2;
        p = realloc(b->data, cap);
        if (!p) {
            fprintf(stderr, PROG ": out of memory\n");
            exit(2);
        }
        b->data = p;
        b->cap = cap;
    }
    b->data[b->len] = '\0';
}

static void buf_append(buffer *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(buffer *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

/* Appends `s` as a quoted JSON string. Bytes >= 0x80 pass through unchanged: the library
 * validates UTF-8 (and reports PMX_ERR_INVALID_UTF8 for bad input). */
static void buf_json_string(buffer *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    buf_append(b, "\"", 1);
    for (; *p; p++) {
        switch (*p) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        case '\f': buf_append(b, "\\f", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                char u[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 0xf]};
                buf_append(b, u, sizeof u);
            } else {
                buf_append(b, (const char *)p, 1);
            }
        }
    }
    buf_append(b, "\"", 1);
}

/* Reads a whole stream; returns 0 on success. */
static int read_all(FILE *f, buffer *b)
{
    char chunk[8192];
    size_t n;
    buf_reserve(b, 0);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(b, chunk, n);
    return ferror(f) ? -1 : 0;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (!p) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(2);
    }
    return memcpy(p, s, n);
}

/* ---------------------------------------------------------------------------------------- */
/* The conversation and the request                                                         */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    const char *role; /* static: "user" / "assistant" */
    char *content;    /* owned */
} turn;

typedef struct {
    turn *turns;
    size_t count, cap;
} history;

static void history_add(history *h, const char *role, const char *content)
{
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        turn *p = realloc(h->turns, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, PROG ": out of memory\n");
            exit(2);
        }
        h->turns = p;
        h->cap = cap;
    }
    h->turns[h->count].role = role;
    h->turns[h->count].content = dup_string(content);
    h->count++;
}

static void history_drop_last(history *h)
{
    if (h->count > 0)
        free(h->turns[--h->count].content);
}

static void history_clear(history *h)
{
    while (h->count > 0)
        history_drop_last(h);
}

/* {"messages":[system?, every turn], "model"?}, into `request` (emptied first). */
static void build_request(buffer *request, const options *opt, const history *h)
{
    size_t i;
    request->len = 0;
    buf_puts(request, "{\"messages\":[");
    if (opt->system_msg) {
        buf_puts(request, "{\"role\":\"system\",\"content\":");
        buf_json_string(request, opt->system_msg);
        buf_puts(request, "}");
    }
    for (i = 0; i < h->count; i++) {
        if (i > 0 || opt->system_msg)
            buf_puts(request, ",");
        buf_puts(request, "{\"role\":\"");
        buf_puts(request, h->turns[i].role);
        buf_puts(request, "\",\"content\":");
        buf_json_string(request, h->turns[i].content);
        buf_puts(request, "}");
    }
    buf_puts(request, "]");
    if (opt->model) {
        buf_puts(request, ",\"model\":");
        buf_json_string(request, opt->model);
    }
    buf_puts(request, "}");
}

/* ---------------------------------------------------------------------------------------- */
/* Output                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static int g_colour_err = 0; /* set once in main, before any thread starts */

static int fail(const char *status_name, const char *message, int exit_code)
{
    fflush(stdout);
    fprintf(stderr, "%s" PROG ": error: %s: %s%s\n", paint(g_colour_err, C_RED), status_name, message,
            paint(g_colour_err, C_OFF));
    fflush(stderr);
    return exit_code;
}

/* A number in a document, truncated to an integer; 0 when absent (like the Python example). */
static long long num(json_t *v)
{
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return 0;
}

static const char *str_or_empty(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

/* Ends the reply line and prints the summary line for a response object. */
static void finish(json_t *response, int summary)
{
    json_t *usage = json_object_get(response, "usage");
    fputs("\n", stdout);
    fflush(stdout);
    if (!summary)
        return;
    fprintf(stderr,
            "%s[provider=%s model=%s latency_ms=%lld ttft_ms=%lld prompt_tokens=%lld "
            "completion_tokens=%lld total_tokens=%lld]%s\n",
            paint(g_colour_err, C_DIM), str_or_empty(json_object_get(response, "provider")),
            str_or_empty(json_object_get(response, "model")),
            num(json_object_get(response, "latency_ms")), num(json_object_get(response, "ttft_ms")),
            num(json_object_get(usage, "prompt_tokens")),
            num(json_object_get(usage, "completion_tokens")),
            num(json_object_get(usage, "total_tokens")), paint(g_colour_err, C_OFF));
    fflush(stderr);
}

/* -v: one stderr line per stream event that is not text (attempt start, retry, failover). */
static void verbose_event(const char *type, json_t *ev)
{
    const char *on = paint(g_colour_err, C_YELLOW), *off = paint(g_colour_err, C_OFF);
    if (strcmp(type, "start") == 0) {
        const char *model = str_or_empty(json_object_get(ev, "model"));
        fprintf(stderr, "%s[attempt %lld: provider=%s%s%s]%s\n", on, num(json_object_get(ev, "attempt")),
                str_or_empty(json_object_get(ev, "provider")), *model ? " model=" : "", model, off);
    } else if (strcmp(type, "retry") == 0) {
        fprintf(stderr, "%s[retry: provider=%s attempt=%lld in %lld ms after %s (HTTP %lld): %s]%s\n", on,
                str_or_empty(json_object_get(ev, "provider")), num(json_object_get(ev, "attempt")),
                num(json_object_get(ev, "delay_ms")), str_or_empty(json_object_get(ev, "status_name")),
                num(json_object_get(ev, "http_status")), str_or_empty(json_object_get(ev, "message")), off);
    } else if (strcmp(type, "fallback") == 0) {
        fprintf(stderr, "%s[failover: %s -> %s after %s (HTTP %lld): %s]%s\n", on,
                str_or_empty(json_object_get(ev, "from")), str_or_empty(json_object_get(ev, "to")),
                str_or_empty(json_object_get(ev, "status_name")), num(json_object_get(ev, "http_status")),
                str_or_empty(json_object_get(ev, "message")), off);
    } else {
        return;
    }
    fflush(stderr);
}

/* -v without streaming: the response's attempts, one line each, after the fact. */
static void verbose_attempts(json_t *attempts)
{
    size_t i;
    json_t *a;
    json_array_foreach(attempts, i, a) {
        const char *outcome = str_or_empty(json_object_get(a, "outcome"));
        const char *model = str_or_empty(json_object_get(a, "model"));
        fprintf(stderr, "%s[attempt %zu: provider=%s%s%s %s", paint(g_colour_err, C_YELLOW), i + 1,
                str_or_empty(json_object_get(a, "provider")), *model ? " model=" : "", model, outcome);
        if (strcmp(outcome, "ok") != 0)
            fprintf(stderr, " %s: %s", str_or_empty(json_object_get(a, "status_name")),
                    str_or_empty(json_object_get(a, "message")));
        fprintf(stderr, "]%s\n", paint(g_colour_err, C_OFF));
    }
    fflush(stderr);
}

/* The assistant's text in a chat.completion (owned copy; "" when it has none). */
static char *reply_of(json_t *response)
{
    json_t *content = json_object_get(
        json_object_get(json_array_get(json_object_get(response, "choices"), 0), "message"), "content");
    return dup_string(str_or_empty(content));
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming                                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int verbose;
    int finished;
    int printed;          /* some reply text went to stdout */
    json_t *response;     /* the done event's response */
    pmx_status code;      /* the error event's code */
    char status_name[64];
    char message[1024];
} stream_state;

/* Runs on the router's I/O thread. */
static int32_t on_event(const char *event_json, size_t len, void *userdata)
{
    stream_state *st = userdata;
    json_error_t jerr;
    json_t *ev = json_loadb(event_json, len, 0, &jerr);
    const char *type = json_string_value(json_object_get(ev, "type"));

    if (type && strcmp(type, "delta") == 0) {
        const char *content = json_string_value(json_object_get(ev, "content"));
        if (content && *content) {
            fputs(content, stdout);
            fflush(stdout);
            pthread_mutex_lock(&st->lock);
            st->printed = 1;
            pthread_mutex_unlock(&st->lock);
        }
    } else if (type && (strcmp(type, "done") == 0 || strcmp(type, "error") == 0)) {
        pthread_mutex_lock(&st->lock);
        if (strcmp(type, "done") == 0) {
            st->code = PMX_OK;
            st->response = json_incref(json_object_get(ev, "response"));
        } else {
            json_t *code = json_object_get(ev, "code");
            st->code = json_is_integer(code) ? (pmx_status)json_integer_value(code) : PMX_ERR_INTERNAL;
            snprintf(st->status_name, sizeof st->status_name, "%s",
                     json_string_value(json_object_get(ev, "status_name"))
                         ? json_string_value(json_object_get(ev, "status_name"))
                         : pmx_status_name(st->code));
            snprintf(st->message, sizeof st->message, "%s",
                     str_or_empty(json_object_get(ev, "message")));
        }
        st->finished = 1;
        pthread_cond_signal(&st->cond);
        pthread_mutex_unlock(&st->lock);
    } else if (type && st->verbose) {
        verbose_event(type, ev);
    }
    json_decref(ev);
    return 0;
}

static void wait_a_little(pthread_cond_t *cond, pthread_mutex_t *lock)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cond, lock, &ts);
}

/* One streamed request. On success *reply receives the assistant's text (owned). */
static int run_stream(pmx_router *router, const char *request, const options *opt, char **reply)
{
    stream_state st;
    pmx_stream *stream = NULL;
    pmx_error err;
    pmx_status rc;
    int cancelled = 0, exit_code;

    memset(&st, 0, sizeof st);
    st.verbose = opt->verbose;
    pthread_mutex_init(&st.lock, NULL);
    pthread_cond_init(&st.cond, NULL);

    rc = pmx_router_stream_async(&stream, router, request, on_event, &st, &err);
    if (rc != PMX_OK) {
        exit_code = fail(pmx_status_name(rc), err.message, 1);
        goto out;
    }

    pthread_mutex_lock(&st.lock);
    while (!st.finished) {
        if (g_interrupted && !cancelled) {
            cancelled = 1;
            pthread_mutex_unlock(&st.lock);
            pmx_stream_cancel(stream); /* the terminal event follows on the I/O thread */
            signal(SIGINT, SIG_DFL);   /* a second Ctrl-C ends the program at once */
            pthread_mutex_lock(&st.lock);
            continue;
        }
        wait_a_little(&st.cond, &st.lock);
    }
    pthread_mutex_unlock(&st.lock);

    if (st.code == PMX_OK) {
        *reply = reply_of(st.response);
        finish(st.response, !opt->interactive || opt->verbose);
        exit_code = 0;
    } else {
        if (st.printed)
            fputs("\n", stdout); /* end the partial reply line */
        exit_code = fail(st.status_name, st.message,
                         (st.code == PMX_ERR_CANCELLED || cancelled) ? 130 : 1);
    }

out:
    pmx_stream_free(stream);
    json_decref(st.response);
    pthread_cond_destroy(&st.cond);
    pthread_mutex_destroy(&st.lock);
    return exit_code;
}

/* ---------------------------------------------------------------------------------------- */
/* Non-streaming: pmx_router_complete on a worker so that Ctrl-C still ends the program      */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    pmx_router *router;
    const char *request;
    char *out;
    pmx_status rc;
    pmx_error err;
    int finished;
    pthread_mutex_t lock;
    pthread_cond_t cond;
} complete_job;

static void *complete_worker(void *arg)
{
    complete_job *job = arg;
    char *out = NULL;
    pmx_status rc = pmx_router_complete(&out, job->router, job->request, &job->err);
    pthread_mutex_lock(&job->lock);
    job->out = out;
    job->rc = rc;
    job->finished = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

static int run_complete(pmx_router *router, const char *request, const options *opt, char **reply)
{
    complete_job job;
    pthread_t worker;
    json_error_t jerr;
    json_t *response;

    memset(&job, 0, sizeof job);
    job.router = router;
    job.request = request;
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.cond, NULL);
    if (pthread_create(&worker, NULL, complete_worker, &job) != 0)
        return fail("PMX_ERR_INTERNAL", "cannot start a thread", 1);

    pthread_mutex_lock(&job.lock);
    while (!job.finished) {
        if (g_interrupted) {
            /* A blocking completion cannot be cancelled and the router must not be freed
             * while it runs: leave at once. */
            fputs("\n", stdout);
            fflush(stdout);
            _exit(130);
        }
        wait_a_little(&job.cond, &job.lock);
    }
    pthread_mutex_unlock(&job.lock);
    pthread_join(worker, NULL);
    pthread_cond_destroy(&job.cond);
    pthread_mutex_destroy(&job.lock);

    if (job.rc != PMX_OK)
        return fail(pmx_status_name(job.rc), job.err.message, 1);
    response = json_loads(job.out, 0, &jerr);
    pmx_string_free(job.out);
    if (!response)
        return fail("PMX_ERR_INTERNAL", "the library returned a response that is not JSON", 1);
    if (opt->verbose)
        verbose_attempts(json_object_get(response, "attempts"));
    *reply = reply_of(response);
    fputs(*reply, stdout);
    finish(response, !opt->interactive || opt->verbose);
    json_decref(response);
    return 0;
}

/* One request of the conversation so far; on success the reply joins the history. */
static int ask(pmx_router *router, const options *opt, history *h)
{
    buffer request = {0};
    char *reply = NULL;
    int exit_code;
    build_request(&request, opt, h);
    exit_code = opt->no_stream ? run_complete(router, request.data, opt, &reply)
                               : run_stream(router, request.data, opt, &reply);
    if (reply) {
        history_add(h, "assistant", reply);
        free(reply);
    }
    free(request.data);
    return exit_code;
}

/* ---------------------------------------------------------------------------------------- */
/* Model listing and the interactive conversation                                           */
/* ---------------------------------------------------------------------------------------- */

/* Every "provider/model" id on stdout; providers that could not answer on stderr. */
static int list_models(pmx_router *router)
{
    char *out = NULL;
    pmx_error err;
    json_error_t jerr;
    json_t *doc, *item;
    size_t i;
    pmx_status rc = pmx_router_models(&out, router, &err);
    if (rc != PMX_OK)
        return fail(pmx_status_name(rc), err.message, 1);
    doc = json_loads(out, 0, &jerr);
    pmx_string_free(out);
    if (!doc)
        return fail("PMX_ERR_INTERNAL", "the library returned a model list that is not JSON", 1);
    json_array_foreach(json_object_get(doc, "data"), i, item)
        printf("%s\n", str_or_empty(json_object_get(item, "id")));
    fflush(stdout);
    json_array_foreach(json_object_get(doc, "errors"), i, item)
        fprintf(stderr, "%s[%s: %s]%s\n", paint(g_colour_err, C_YELLOW), str_or_empty(json_object_get(item, "provider")),
                str_or_empty(json_object_get(item, "message")), paint(g_colour_err, C_OFF));
    json_decref(doc);
    return 0;
}

/* Reads one line (without its line break) into `line`; -1 at end of input or on Ctrl-C. */
static int read_line(buffer *line)
{
    int c;
    line->len = 0;
    buf_reserve(line, 0);
    while ((c = getc(stdin)) != EOF && c != '\n') {
        char ch = (char)c;
        buf_append(line, &ch, 1);
    }
    if (c == EOF && (line->len == 0 || g_interrupted))
        return -1;
    while (line->len > 0 && line->data[line->len - 1] == '\r')
        line->data[--line->len] = '\0';
    return 0;
}

static int converse(pmx_router *router, options *opt)
{
    history h = {0};
    buffer line = {0};
    int exit_code = 0, terminal = isatty(fileno(stdin));
    if (terminal)
        fprintf(stderr, "%s" PROG " %s: one message per line; /reset forgets the conversation, "
                        "/quit or Ctrl-D leaves.%s\n",
                paint(g_colour_err, C_DIM), pmx_version_string(), paint(g_colour_err, C_OFF));
    for (;;) {
        if (terminal) { /* piped input gets no prompts: stdout holds the replies only */
            printf("%s> %s", paint(opt->colour_out, C_BOLD), paint(opt->colour_out, C_OFF));
            fflush(stdout);
        }
        if (read_line(&line) != 0) {
            if (terminal)
                fputs("\n", stdout);
            exit_code = g_interrupted ? 130 : 0;
            break;
        }
        if (line.len == 0)
            continue;
        if (strcmp(line.data, "/quit") == 0 || strcmp(line.data, "/exit") == 0)
            break;
        if (strcmp(line.data, "/reset") == 0) {
            history_clear(&h);
            fprintf(stderr, "%s[conversation forgotten]%s\n", paint(g_colour_err, C_DIM), paint(g_colour_err, C_OFF));
            continue;
        }
        history_add(&h, "user", line.data);
        if (ask(router, opt, &h) != 0)
            history_drop_last(&h); /* a failed or cancelled turn is not part of the conversation */
        g_interrupted = 0;
        install_sigint(); /* run_stream leaves SIGINT at its default after a cancel */
    }
    history_clear(&h);
    free(h.turns);
    free(line.data);
    return exit_code;
}

/* ---------------------------------------------------------------------------------------- */
/* main                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [-c CONFIG] [-m MODEL] [-s SYSTEM] [--no-stream] [-v] [-i] [PROMPT...]\n"
            "       " PROG " [-c CONFIG] --list-models\n"
            "       " PROG " --version | --help\n"
            "\n"
            "Chat completions through libprovidermux %s: one question, or a conversation.\n"
            "\n"
            "  -c, --config CONFIG  router config (default: $PMX_CONFIG, else examples/router.json)\n"
            "  -m, --model MODEL    model to request (\"provider/model\" pins one provider)\n"
            "  -s, --system SYSTEM  system message\n"
            "      --no-stream      wait for the whole answer\n"
            "  -i, --interactive    a conversation: one message per line, the history sent each time\n"
            "                       (the default when no PROMPT is given and stdin is a terminal);\n"
            "                       /reset forgets it, /quit or Ctrl-D leaves\n"
            "  -l, --list-models    list the router's models (\"provider/model\") and exit\n"
            "  -v, --verbose        show each attempt, retry and failover on stderr\n"
            "      --color WHEN     auto (default: only on a terminal, not with NO_COLOR), always, never\n"
            "  -V, --version        print the version and exit\n"
            "  -h, --help           show this help\n"
            "\n"
            "The prompt is PROMPT... joined by spaces, or stdin when none is given. The reply goes to\n"
            "stdout, a summary line ([provider=... model=... latency_ms=... ...]) to stderr.\n"
            "Exit status: 0 done, 1 the request failed, 2 usage or config error, 130 interrupted.\n"
            "\n"
            "Examples:\n"
            "  " PROG " -c examples/router.json \"Why is the sky blue?\"\n"
            "  echo \"Summarize this\" | " PROG " -m mock/any\n"
            "  " PROG " -v -c router.json -m openai/gpt-4o-mini \"Hello\"   # shows retries and failovers\n"
            "  " PROG " -c router.json --list-models\n"
            "  " PROG " -i -s \"Answer briefly.\"                          # a conversation\n",
            pmx_version_string());
}

/* Matches "-x VALUE", "-xVALUE", "--long VALUE" and "--long=VALUE". Returns 1 when argv[*i]
 * is the option (and advances *i past its value), -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *short_name,
                        const char *long_name, const char **value)
{
    const char *arg = argv[*i];
    size_t long_len = strlen(long_name);
    if ((short_name && strcmp(arg, short_name) == 0) || strcmp(arg, long_name) == 0) {
        if (*i + 1 >= argc)
            return -1;
        *value = argv[++*i];
        return 1;
    }
    if (strncmp(arg, long_name, long_len) == 0 && arg[long_len] == '=') {
        *value = arg + long_len + 1;
        return 1;
    }
    if (short_name && strncmp(arg, short_name, 2) == 0 && arg[2] != '\0' && arg[1] != '-') {
        *value = arg + 2;
        return 1;
    }
    return 0;
}

static int is_config_error(pmx_status rc)
{
    return rc == PMX_ERR_INVALID_JSON || rc == PMX_ERR_INVALID_UTF8 || rc == PMX_ERR_CONFIG ||
           rc == PMX_ERR_ENV_VAR_MISSING || rc == PMX_ERR_UNKNOWN_PROVIDER_TYPE ||
           rc == PMX_ERR_DUPLICATE_PROVIDER;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": %s%s\n", what, arg);
    usage(stderr);
    return 2;
}

/* Options into `opt`; returns -1 to go on (first_prompt set), else an exit status. */
static int parse_options(int argc, char **argv, options *opt, int *first_prompt)
{
    const char *colour = "auto";
    int i;
    *first_prompt = argc;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (strcmp(arg, "--") == 0) {
            *first_prompt = i + 1;
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
            /* The header this program was built with, and the library it runs with. */
            printf(PROG " %s (libprovidermux %s)\n", PMX_VERSION_STRING, pmx_version_string());
            return 0;
        }
        if (strcmp(arg, "--no-stream") == 0) {
            opt->no_stream = 1;
            continue;
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            opt->verbose = 1;
            continue;
        }
        if (strcmp(arg, "-i") == 0 || strcmp(arg, "--interactive") == 0) {
            opt->interactive = 1;
            continue;
        }
        if (strcmp(arg, "-l") == 0 || strcmp(arg, "--list-models") == 0) {
            opt->list_models = 1;
            continue;
        }
        if ((m = option_value(argc, argv, &i, "-c", "--config", &opt->config_path)) == 0 &&
            (m = option_value(argc, argv, &i, "-m", "--model", &opt->model)) == 0 &&
            (m = option_value(argc, argv, &i, "-s", "--system", &opt->system_msg)) == 0 &&
            (m = option_value(argc, argv, &i, NULL, "--color", &colour)) == 0) {
            if (arg[0] == '-' && arg[1] != '\0')
                return usage_error("unknown option ", arg);
            *first_prompt = i;
            break;
        }
        if (m < 0)
            return usage_error("option needs a value: ", arg);
    }
    if (strcmp(colour, "auto") != 0 && strcmp(colour, "always") != 0 && strcmp(colour, "never") != 0)
        return usage_error("--color takes auto, always or never, not ", colour);
    opt->colour_out = colour_wanted(colour, stdout);
    opt->colour_err = colour_wanted(colour, stderr);
    return -1;
}

int main(int argc, char **argv)
{
    options opt;
    int i, first_prompt, exit_code;
    buffer config = {0}, prompt = {0};
    history h = {0};
    FILE *f;
    pmx_router *router = NULL;
    pmx_error err;
    pmx_status rc;
    sigset_t sigint_only, previous;

    memset(&opt, 0, sizeof opt);
    if ((exit_code = parse_options(argc, argv, &opt, &first_prompt)) >= 0)
        return exit_code;
    g_colour_err = opt.colour_err;
    if (opt.interactive && first_prompt < argc)
        return usage_error("-i reads the conversation from stdin: no PROMPT arguments", "");
    if (!opt.list_models && first_prompt >= argc && !opt.interactive && isatty(fileno(stdin)))
        opt.interactive = 1;

    if (!opt.config_path || !*opt.config_path) {
        const char *env = getenv("PMX_CONFIG");
        opt.config_path = (env && *env) ? env : "examples/router.json";
    }
    f = fopen(opt.config_path, "rb");
    if (!f || read_all(f, &config) != 0) {
        char message[1024];
        snprintf(message, sizeof message, "cannot read %s: %s", opt.config_path, strerror(errno));
        if (f)
            fclose(f);
        free(config.data);
        return fail("PMX_ERR_CONFIG", message, 2);
    }
    fclose(f);

    if (!opt.list_models && !opt.interactive) {
        if (first_prompt < argc) {
            for (i = first_prompt; i < argc; i++) {
                if (i > first_prompt)
                    buf_puts(&prompt, " ");
                buf_puts(&prompt, argv[i]);
            }
        } else if (read_all(stdin, &prompt) != 0) {
            free(config.data);
            free(prompt.data);
            return fail("PMX_ERR_INVALID_ARGUMENT", "cannot read the prompt from stdin", 2);
        }
        while (prompt.len > 0 &&
               (prompt.data[prompt.len - 1] == '\n' || prompt.data[prompt.len - 1] == '\r'))
            prompt.data[--prompt.len] = '\0';
        if (prompt.len == 0) {
            free(config.data);
            free(prompt.data);
            return fail("PMX_ERR_INVALID_ARGUMENT",
                        "no prompt: give it as arguments or on stdin (or -i for a conversation)", 2);
        }
    }

    /* The router's I/O thread is created with SIGINT blocked so the signal goes to the main
     * thread, whose handler only sets a flag. */
    install_sigint();
    sigemptyset(&sigint_only);
    sigaddset(&sigint_only, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint_only, &previous);
    rc = pmx_router_new(&router, config.data, &err);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    free(config.data);
    if (rc != PMX_OK) {
        free(prompt.data);
        return fail(pmx_status_name(rc), err.message, is_config_error(rc) ? 2 : 1);
    }

    if (opt.list_models) {
        exit_code = list_models(router);
    } else if (opt.interactive) {
        exit_code = converse(router, &opt);
    } else {
        history_add(&h, "user", prompt.data);
        exit_code = ask(router, &opt, &h);
        history_clear(&h);
        free(h.turns);
    }

    pmx_router_free(router);
    free(prompt.data);
    return exit_code;
}
