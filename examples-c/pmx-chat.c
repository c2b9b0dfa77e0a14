/*
 * pmx-chat — one chat completion through libprovidermux, streamed to stdout.
 *
 * Usage: pmx-chat [-c CONFIG] [-m MODEL] [-s SYSTEM] [--no-stream] [PROMPT...]
 *
 * CONFIG defaults to $PMX_CONFIG, else examples/router.json (relative to the current
 * directory). The prompt is the arguments joined by spaces, or all of stdin when there are
 * none. The reply goes to stdout as it arrives; then one summary line goes to stderr:
 *
 *   [provider=NAME model=MODEL latency_ms=N ttft_ms=N prompt_tokens=N completion_tokens=N total_tokens=N]
 *
 * Exit status: 0 done, 1 the request failed, 2 usage or config error, 130 interrupted
 * (Ctrl-C cancels the stream with pmx_stream_cancel).
 *
 * The same program as examples-python/pmx_chat.py; both print the same summary line.
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

/* ---------------------------------------------------------------------------------------- */
/* A growable byte buffer and a JSON string escaper                                        */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buffer;

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

/* ---------------------------------------------------------------------------------------- */
/* Output                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static int fail(const char *status_name, const char *message, int exit_code)
{
    fflush(stdout);
    fprintf(stderr, PROG ": error: %s: %s\n", status_name, message);
    fflush(stderr);
    return exit_code;
}

/* A number in the response, truncated to an integer; 0 when absent (like the Python example). */
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
static int finish(json_t *response)
{
    json_t *usage = json_object_get(response, "usage");
    fputs("\n", stdout);
    fflush(stdout);
    fprintf(stderr,
            "[provider=%s model=%s latency_ms=%lld ttft_ms=%lld prompt_tokens=%lld "
            "completion_tokens=%lld total_tokens=%lld]\n",
            str_or_empty(json_object_get(response, "provider")),
            str_or_empty(json_object_get(response, "model")),
            num(json_object_get(response, "latency_ms")), num(json_object_get(response, "ttft_ms")),
            num(json_object_get(usage, "prompt_tokens")),
            num(json_object_get(usage, "completion_tokens")),
            num(json_object_get(usage, "total_tokens")));
    fflush(stderr);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming                                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
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

static int run_stream(pmx_router *router, const char *request)
{
    stream_state st;
    pmx_stream *stream = NULL;
    pmx_error err;
    pmx_status rc;
    int cancelled = 0, exit_code;

    memset(&st, 0, sizeof st);
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
        exit_code = finish(st.response);
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

static int run_complete(pmx_router *router, const char *request)
{
    complete_job job;
    pthread_t worker;
    json_error_t jerr;
    json_t *response, *content;
    int exit_code;

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
    content = json_object_get(json_object_get(json_array_get(json_object_get(response, "choices"), 0),
                                              "message"),
                              "content");
    if (json_string_value(content))
        fputs(json_string_value(content), stdout);
    exit_code = finish(response);
    json_decref(response);
    return exit_code;
}

/* ---------------------------------------------------------------------------------------- */
/* main                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [-c CONFIG] [-m MODEL] [-s SYSTEM] [--no-stream] [PROMPT...]\n"
            "\n"
            "One chat completion through libprovidermux %s.\n"
            "\n"
            "  -c, --config CONFIG  router config (default: $PMX_CONFIG, else examples/router.json)\n"
            "  -m, --model MODEL    model to request\n"
            "  -s, --system SYSTEM  system message\n"
            "      --no-stream      wait for the whole answer\n"
            "  -h, --help           show this help\n"
            "\n"
            "The prompt is PROMPT... joined by spaces, or stdin when none is given.\n",
            pmx_version_string());
}

/* Matches "-x VALUE", "-xVALUE", "--long VALUE" and "--long=VALUE". Returns 1 when argv[*i]
 * is the option (and advances *i past its value), -1 when the value is missing. */
static int option_value(int argc, char **argv, int *i, const char *short_name,
                        const char *long_name, const char **value)
{
    const char *arg = argv[*i];
    size_t long_len = strlen(long_name);
    if (strcmp(arg, short_name) == 0 || strcmp(arg, long_name) == 0) {
        if (*i + 1 >= argc)
            return -1;
        *value = argv[++*i];
        return 1;
    }
    if (strncmp(arg, long_name, long_len) == 0 && arg[long_len] == '=') {
        *value = arg + long_len + 1;
        return 1;
    }
    if (strncmp(arg, short_name, 2) == 0 && arg[2] != '\0' && arg[1] != '-') {
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

int main(int argc, char **argv)
{
    const char *config_path = NULL, *model = NULL, *system_msg = NULL;
    int no_stream = 0, i, first_prompt = argc, exit_code;
    buffer config = {0}, prompt = {0}, request = {0};
    FILE *f;
    pmx_router *router = NULL;
    pmx_error err;
    pmx_status rc;
    sigset_t sigint_only, previous;
    struct sigaction sa;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int m;
        if (strcmp(arg, "--") == 0) {
            first_prompt = i + 1;
            break;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(arg, "--no-stream") == 0) {
            no_stream = 1;
            continue;
        }
        if ((m = option_value(argc, argv, &i, "-c", "--config", &config_path)) == 0 &&
            (m = option_value(argc, argv, &i, "-m", "--model", &model)) == 0 &&
            (m = option_value(argc, argv, &i, "-s", "--system", &system_msg)) == 0) {
            if (arg[0] == '-' && arg[1] != '\0') {
                fprintf(stderr, PROG ": unknown option %s\n", arg);
                usage(stderr);
                return 2;
            }
            first_prompt = i;
            break;
        }
        if (m < 0) {
            fprintf(stderr, PROG ": option %s needs a value\n", arg);
            usage(stderr);
            return 2;
        }
    }

    if (!config_path || !*config_path) {
        const char *env = getenv("PMX_CONFIG");
        config_path = (env && *env) ? env : "examples/router.json";
    }
    f = fopen(config_path, "rb");
    if (!f || read_all(f, &config) != 0) {
        char message[1024];
        snprintf(message, sizeof message, "cannot read %s: %s", config_path, strerror(errno));
        if (f)
            fclose(f);
        return fail("PMX_ERR_CONFIG", message, 2);
    }
    fclose(f);

    if (first_prompt < argc) {
        for (i = first_prompt; i < argc; i++) {
            if (i > first_prompt)
                buf_puts(&prompt, " ");
            buf_puts(&prompt, argv[i]);
        }
    } else {
        if (read_all(stdin, &prompt) != 0) {
            free(config.data);
            return fail("PMX_ERR_INVALID_ARGUMENT", "cannot read the prompt from stdin", 2);
        }
        while (prompt.len > 0 &&
               (prompt.data[prompt.len - 1] == '\n' || prompt.data[prompt.len - 1] == '\r'))
            prompt.data[--prompt.len] = '\0';
    }

    buf_puts(&request, "{\"messages\":[");
    if (system_msg) {
        buf_puts(&request, "{\"role\":\"system\",\"content\":");
        buf_json_string(&request, system_msg);
        buf_puts(&request, "},");
    }
    buf_puts(&request, "{\"role\":\"user\",\"content\":");
    buf_json_string(&request, prompt.data);
    buf_puts(&request, "}]");
    if (model) {
        buf_puts(&request, ",\"model\":");
        buf_json_string(&request, model);
    }
    buf_puts(&request, "}");

    /* Ctrl-C only sets a flag; the main thread notices it and cancels. The router's I/O thread
     * is created with SIGINT blocked so the signal goes to the main thread. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&sigint_only);
    sigaddset(&sigint_only, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint_only, &previous);
    rc = pmx_router_new(&router, config.data, &err);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    free(config.data);
    if (rc != PMX_OK) {
        free(prompt.data);
        free(request.data);
        return fail(pmx_status_name(rc), err.message, is_config_error(rc) ? 2 : 1);
    }

    if (no_stream)
        exit_code = run_complete(router, request.data);
    else
        exit_code = run_stream(router, request.data);

    pmx_router_free(router);
    free(prompt.data);
    free(request.data);
    return exit_code;
}
