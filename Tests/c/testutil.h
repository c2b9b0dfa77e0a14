/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testutil.h — tiny helpers shared by the C tests of libprovidermux.
 *
 * CHECK macros count passes and failures; TEST_DONE() prints "N passed, N failed" as the last
 * line and yields the exit status. Also: starting the fake OpenAI upstream
 * (Tests/upstream/fake_upstream.py) as a child process whose stdin pipe we keep open, and a
 * raw-socket HTTP client (2 s timeout) for its control API.
 *
 * Define _POSIX_C_SOURCE before including any system header (this file does it if needed).
 */
#ifndef PMX_TESTUTIL_H
#define PMX_TESTUTIL_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "providermux.h"

/* ---------------------------------------------------------------------------------------- */
/* Counting checks                                                                          */
/* ---------------------------------------------------------------------------------------- */

static int tu_passed = 0;
static int tu_failed = 0;

static inline void tu_result(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        tu_passed++;
        return;
    }
    tu_failed++;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    fflush(stderr);
}

#define CHECK(cond) tu_result(!!(cond), __FILE__, __LINE__, "%s", #cond)

#define CHECK_MSG(cond, ...) tu_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define CHECK_INT(actual, expected)                                                          \
    do {                                                                                     \
        long long tu_a_ = (long long)(actual), tu_e_ = (long long)(expected);                \
        tu_result(tu_a_ == tu_e_, __FILE__, __LINE__, "%s == %s: got %lld, expected %lld",   \
                  #actual, #expected, tu_a_, tu_e_);                                         \
    } while (0)

/* Compares two pmx_status values and prints their names; `err` (pmx_error *, may be NULL)
 * adds its message to the failure report. */
#define CHECK_STATUS(actual, expected, err)                                                  \
    do {                                                                                     \
        pmx_status tu_a_ = (actual), tu_e_ = (expected);                                     \
        const pmx_error *tu_err_ = (err);                                                    \
        tu_result(tu_a_ == tu_e_, __FILE__, __LINE__, "%s: got %s (%d), expected %s (%d)%s%s", \
                  #actual, pmx_status_name(tu_a_), (int)tu_a_, pmx_status_name(tu_e_),       \
                  (int)tu_e_, tu_err_ ? "; message: " : "", tu_err_ ? tu_err_->message : ""); \
    } while (0)

#define CHECK_STR(actual, expected)                                                          \
    do {                                                                                     \
        const char *tu_a_ = (actual), *tu_e_ = (expected);                                   \
        tu_result(tu_a_ != NULL && tu_e_ != NULL && strcmp(tu_a_, tu_e_) == 0, __FILE__,     \
                  __LINE__, "%s == %s: got \"%s\", expected \"%s\"", #actual, #expected,     \
                  tu_a_ ? tu_a_ : "(null)", tu_e_ ? tu_e_ : "(null)");                       \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                     \
    do {                                                                                     \
        const char *tu_h_ = (haystack), *tu_n_ = (needle);                                   \
        tu_result(tu_h_ != NULL && strstr(tu_h_, tu_n_) != NULL, __FILE__, __LINE__,         \
                  "%s should contain \"%s\": got \"%s\"", #haystack, tu_n_,                  \
                  tu_h_ ? tu_h_ : "(null)");                                                 \
    } while (0)

#define CHECK_NOT_CONTAINS(haystack, needle)                                                 \
    do {                                                                                     \
        const char *tu_h_ = (haystack), *tu_n_ = (needle);                                   \
        tu_result(tu_h_ == NULL || strstr(tu_h_, tu_n_) == NULL, __FILE__, __LINE__,         \
                  "%s must not contain \"%s\": got \"%s\"", #haystack, tu_n_,                \
                  tu_h_ ? tu_h_ : "(null)");                                                 \
    } while (0)

#define RUN(test_fn)                                                                         \
    do {                                                                                     \
        int tu_before_ = tu_failed;                                                          \
        double tu_t0_ = tu_now_ms();                                                         \
        printf("-- %s\n", #test_fn);                                                         \
        fflush(stdout);                                                                      \
        test_fn();                                                                           \
        printf("   %s %s (%.0f ms)\n", tu_failed == tu_before_ ? "ok  " : "FAIL", #test_fn,  \
               tu_now_ms() - tu_t0_);                                                        \
        fflush(stdout);                                                                      \
    } while (0)

/* Prints the summary line (always the last line of output) and yields the exit status. */
#define TEST_DONE() (printf("%d passed, %d failed\n", tu_passed, tu_failed), fflush(stdout), \
                     tu_failed == 0 ? 0 : 1)

static inline double tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static inline void tu_sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Kills the test with a message if it runs longer than `seconds` (a hang in the library must
 * not hang the test suite until ctest's TIMEOUT). */
static inline void tu_alarm_handler(int sig)
{
    static const char msg[] = "\nWATCHDOG: test took too long, aborting\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    (void)sig;
    _exit(3);
}

static inline void tu_watchdog(unsigned seconds)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tu_alarm_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(seconds);
}

/* A fresh pmx_error filled with garbage, to verify the library resets / fills it in. */
/* Waits on `cond` (with `lock` held) for at most `ms` milliseconds: one slice of a polling
 * wait whose caller re-checks its condition and its own deadline. */
static inline void tu_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(cond, lock, &ts);
}

/* A router made from `json`; the test fails (recording the status and message) and NULL is
 * returned when it cannot be made. */
static inline pmx_router *tu_router_new(const char *json)
{
    pmx_router *r = NULL;
    pmx_error err;
    pmx_status st = pmx_router_new(&r, json, &err);
    CHECK_STATUS(st, PMX_OK, &err);
    return r;
}

static inline void tu_err_poison(pmx_error *err)
{
    memset(err, 0x5a, sizeof *err);
    err->message[sizeof err->message - 1] = '\0';
    err->provider[sizeof err->provider - 1] = '\0';
}

/* True when the message / provider fields are NUL-terminated within their arrays. */
static inline int tu_err_terminated(const pmx_error *err)
{
    return memchr(err->message, '\0', sizeof err->message) != NULL &&
           memchr(err->provider, '\0', sizeof err->provider) != NULL;
}

/* printf into a fresh malloc'ed string. */
static inline char *tu_format(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *s;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    s = (char *)malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* A TCP port on 127.0.0.1 with nothing listening (bound, then closed): connections are refused. */
static inline int tu_closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int port = 9, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return port;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* ---------------------------------------------------------------------------------------- */
/* JSON helpers (jansson)                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Parses `text`; prints the error and returns NULL when it is not JSON. */
static inline json_t *tu_json(const char *text)
{
    json_error_t e;
    json_t *j;
    if (!text)
        return NULL;
    j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fprintf(stderr, "not JSON (%s at %d:%d): %.300s\n", e.text, e.line, e.column, text);
    return j;
}

/* Walks a dotted path such as "choices.0.message.content" (numbers index arrays). */
static inline json_t *tu_jget(json_t *root, const char *path)
{
    char key[128];
    const char *p = path;
    json_t *cur = root;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (json_is_array(cur)) {
            char *end;
            unsigned long idx = strtoul(key, &end, 10);
            cur = (*end == '\0') ? json_array_get(cur, idx) : NULL;
        } else if (json_is_object(cur)) {
            cur = json_object_get(cur, key);
        } else {
            cur = NULL;
        }
        p += n;
        if (*p == '.')
            p++;
    }
    return cur;
}

static inline const char *tu_jstr(json_t *root, const char *path)
{
    return json_string_value(tu_jget(root, path));
}

/* Integer (or real, truncated) at path; `dflt` when absent or not a number. */
static inline long long tu_jint(json_t *root, const char *path, long long dflt)
{
    json_t *v = tu_jget(root, path);
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return dflt;
}

static inline size_t tu_jlen(json_t *root, const char *path)
{
    json_t *v = tu_jget(root, path);
    return json_is_array(v) ? json_array_size(v) : 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The fake OpenAI upstream                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct tu_upstream {
    pid_t pid;
    int stdin_fd; /* write end of the child's stdin; closing it makes the server exit */
    int port;
    char stdout_path[64];
} tu_upstream;

static inline const char *tu_source_dir(void)
{
    const char *s = getenv("PMX_SOURCE_DIR");
    if (s && *s)
        return s;
#ifdef PMX_TEST_SOURCE_DIR
    return PMX_TEST_SOURCE_DIR;
#else
    return ".";
#endif
}

/* Starts `python3 Tests/upstream/fake_upstream.py --port 0 --exit-on-stdin-eof` and waits
 * (up to 20 s) for its "PORT <n>" line. Its stdout goes to a temp file (so that it can never
 * block on a full pipe), its stderr is inherited. Returns 0 on success. */
static inline int tu_upstream_start(tu_upstream *up)
{
    int in_pipe[2];
    int out_fd;
    char script[4096];
    double deadline;

    memset(up, 0, sizeof *up);
    up->pid = -1;
    up->stdin_fd = -1;
    snprintf(script, sizeof script, "%s/Tests/upstream/fake_upstream.py", tu_source_dir());
    if (access(script, R_OK) != 0) {
        fprintf(stderr, "fake upstream not found at %s\n", script);
        return -1;
    }
    snprintf(up->stdout_path, sizeof up->stdout_path, "/tmp/pmx-fake-upstream-XXXXXX");
    out_fd = mkstemp(up->stdout_path);
    if (out_fd < 0) {
        perror("mkstemp");
        return -1;
    }
    if (pipe(in_pipe) != 0) {
        perror("pipe");
        close(out_fd);
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    up->pid = fork();
    if (up->pid < 0) {
        perror("fork");
        close(out_fd);
        close(in_pipe[0]);
        close(in_pipe[1]);
        return -1;
    }
    if (up->pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_fd, 1);
        close(in_pipe[0]);
        close(in_pipe[1]);
        close(out_fd);
        execlp("python3", "python3", "-u", script, "--port", "0", "--exit-on-stdin-eof",
               (char *)NULL);
        perror("execlp python3");
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_fd);
    up->stdin_fd = in_pipe[1];
    fcntl(up->stdin_fd, F_SETFD, FD_CLOEXEC);
    /* A dead child must not kill us with SIGPIPE when we close/write its stdin. */
    signal(SIGPIPE, SIG_IGN);

    deadline = tu_now_ms() + 20000.0;
    while (tu_now_ms() < deadline) {
        FILE *f = fopen(up->stdout_path, "r");
        char line[256];
        int status;
        if (f) {
            while (fgets(line, sizeof line, f)) {
                int port = 0;
                if (sscanf(line, "PORT %d", &port) == 1 && port > 0) {
                    fclose(f);
                    up->port = port;
                    return 0;
                }
            }
            fclose(f);
        }
        if (waitpid(up->pid, &status, WNOHANG) == up->pid) {
            fprintf(stderr, "fake upstream exited before printing its port\n");
            up->pid = -1;
            return -1;
        }
        tu_sleep_ms(20);
    }
    fprintf(stderr, "fake upstream did not print its port within 20 s\n");
    return -1;
}

/* Closes the child's stdin (it exits on EOF), waits up to 5 s, then SIGKILLs it. */
static inline void tu_upstream_stop(tu_upstream *up)
{
    if (up->stdin_fd >= 0) {
        close(up->stdin_fd);
        up->stdin_fd = -1;
    }
    if (up->pid > 0) {
        double deadline = tu_now_ms() + 5000.0;
        int status;
        while (waitpid(up->pid, &status, WNOHANG) == 0) {
            if (tu_now_ms() > deadline) {
                kill(up->pid, SIGKILL);
                waitpid(up->pid, &status, 0);
                break;
            }
            tu_sleep_ms(20);
        }
        up->pid = -1;
    }
    if (up->stdout_path[0]) {
        unlink(up->stdout_path);
        up->stdout_path[0] = '\0';
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Raw HTTP/1.1 client for the control API (2 s timeout, Connection: close)                 */
/* ---------------------------------------------------------------------------------------- */

/* Value of header `name` (case-insensitive) in the header block [buf, hdr_end), or NULL. */
static inline const char *tu_header(const char *buf, const char *hdr_end, const char *name)
{
    size_t n = strlen(name);
    const char *p = strstr(buf, "\r\n");
    while (p && p < hdr_end) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            return p;
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

/* Decodes a chunked body in place; returns the new length. */
static inline size_t tu_dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    while (in < len) {
        char *end = NULL;
        unsigned long n = strtoul(body + in, &end, 16);
        char *crlf = strstr(body + in, "\r\n");
        if (!crlf || !end)
            break;
        in = (size_t)(crlf - body) + 2;
        if (n == 0 || in + n > len)
            break;
        memmove(body + out, body + in, n);
        out += n;
        in += n + 2;
    }
    body[out] = '\0';
    return out;
}

/* Sends `method path` with an optional JSON body to 127.0.0.1:port. Returns the HTTP status
 * (or -1 on a transport error); *body_out (if not NULL) receives the malloc'ed response body. */
static inline int tu_http(int port, const char *method, const char *path, const char *body,
                          char **body_out)
{
    struct sockaddr_in a;
    struct timeval tv;
    int fd, status = -1;
    size_t blen = body ? strlen(body) : 0, cap = 8192, len = 0;
    char *req, *buf, *hdr_end;
    double deadline = tu_now_ms() + 2000.0;

    if (body_out)
        *body_out = NULL;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    tv.tv_sec = 2;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    req = tu_format("%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                    method, path, port, blen, body ? body : "");
    if (!req) {
        close(fd);
        return -1;
    }
    {
        size_t off = 0, total = strlen(req);
        while (off < total) {
            ssize_t w = send(fd, req + off, total - off, 0);
            if (w <= 0) {
                if (w < 0 && errno == EINTR)
                    continue;
                free(req);
                close(fd);
                return -1;
            }
            off += (size_t)w;
        }
    }
    free(req);

    buf = (char *)malloc(cap);
    if (!buf) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r;
        if (len + 1 >= cap) {
            char *nb = (char *)realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        r = recv(fd, buf + len, cap - len - 1, 0);
        if (r < 0 && errno == EINTR && tu_now_ms() < deadline)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        /* Stop early once a Content-Length body is complete (in case the server keeps the
         * connection open despite Connection: close). */
        hdr_end = strstr(buf, "\r\n\r\n");
        if (hdr_end) {
            const char *cl = tu_header(buf, hdr_end, "Content-Length");
            if (cl && len >= (size_t)(hdr_end + 4 - buf) + strtoul(cl, NULL, 10))
                break;
        }
        if (tu_now_ms() > deadline)
            break;
    }
    close(fd);
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1)
        status = -1;
    hdr_end = strstr(buf, "\r\n\r\n");
    if (body_out) {
        if (hdr_end) {
            size_t hlen = (size_t)(hdr_end + 4 - buf);
            const char *te = tu_header(buf, hdr_end, "Transfer-Encoding");
            int chunked = te != NULL && strncasecmp(te, "chunked", 7) == 0;
            memmove(buf, buf + hlen, len - hlen + 1);
            if (chunked)
                tu_dechunk(buf, len - hlen);
            *body_out = buf;
        } else {
            buf[0] = '\0';
            *body_out = buf;
        }
    } else {
        free(buf);
    }
    return status;
}

/* POST /_control/<scope>/script with {"entries": <entries_json>}. Returns the HTTP status. */
static inline int tu_upstream_script(const tu_upstream *up, const char *scope, const char *entries_json)
{
    char *path = tu_format("/_control/%s/script", scope);
    char *body = tu_format("{\"entries\":%s}", entries_json);
    char *resp = NULL;
    int st = tu_http(up->port, "POST", path, body, &resp);
    if (st < 200 || st >= 300)
        fprintf(stderr, "control script %s -> HTTP %d: %s\n", path, st, resp ? resp : "");
    free(path);
    free(body);
    free(resp);
    return st;
}

/* GET /_control/<scope>/requests; returns the malloc'ed body (or NULL). */
static inline char *tu_upstream_requests(const tu_upstream *up, const char *scope)
{
    char *path = tu_format("/_control/%s/requests", scope);
    char *resp = NULL;
    int st = tu_http(up->port, "GET", path, NULL, &resp);
    free(path);
    if (st != 200) {
        fprintf(stderr, "control requests -> HTTP %d: %s\n", st, resp ? resp : "");
        free(resp);
        return NULL;
    }
    return resp;
}

#endif /* PMX_TESTUTIL_H */
