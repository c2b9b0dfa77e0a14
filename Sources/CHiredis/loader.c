// SPDX-License-Identifier: Apache-2.0
// dlopen of libhiredis: see include/chiredis.h for why the library is not linked.
#include "chiredis.h"
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static struct {
    redisContext *(*connectWithTimeout)(const char *, int, const struct timeval);
    int (*setTimeout)(redisContext *, const struct timeval);
    int (*enableKeepAlive)(redisContext *);
    void (*free)(redisContext *);
    int (*appendFormatted)(redisContext *, const char *, size_t);
    int (*bufferWrite)(redisContext *, int *);
    int (*getReply)(redisContext *, void **);
    void (*freeReply)(void *);
} api;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char loadError[256];
static int loaded;

static void load(void) {
    const char *path = getenv("PMX_HIREDIS_LIBRARY");
    if (!path || !*path) path = "libhiredis.so.0.14";
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(loadError, sizeof loadError, "cannot load %s (install libhiredis0.14): %s", path, why ? why : "?");
        return;
    }
#define SYM(field, name) \
    if (!(*(void **)&api.field = dlsym(h, name))) { \
        snprintf(loadError, sizeof loadError, "%s has no %s", path, name); return; }
    SYM(connectWithTimeout, "redisConnectWithTimeout")
    SYM(setTimeout, "redisSetTimeout")
    SYM(enableKeepAlive, "redisEnableKeepAlive")
    SYM(free, "redisFree")
    SYM(appendFormatted, "redisAppendFormattedCommand")
    SYM(bufferWrite, "redisBufferWrite")
    SYM(getReply, "redisGetReply")
    SYM(freeReply, "freeReplyObject")
#undef SYM
    loaded = 1;
}

/* hiredis writes with write(2): on a connection the server has closed, that raises SIGPIPE,
 * whose default action kills the host. A library must not change the process's signal
 * dispositions, so each call that may write blocks SIGPIPE in this thread, takes back a
 * SIGPIPE it caused (one already pending before is left alone), and restores the mask. */
typedef struct { sigset_t old; int wasPending; } pipe_guard;

static void guard_begin(pipe_guard *g) {
    sigset_t pipe, pending;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&pending);
    g->wasPending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
}

static void guard_end(pipe_guard *g) {
    if (!g->wasPending) {
        sigset_t pipe, pending;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE)) {
            struct timespec zero = { 0, 0 };
            int saved = errno;
            while (sigtimedwait(&pipe, NULL, &zero) == -1 && errno == EINTR) {}
            errno = saved;
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

int pmx_hiredis_load(char *err, size_t errlen) {
    pthread_once(&once, load);
    if (loaded) return 0;
    if (err && errlen) snprintf(err, errlen, "%s", loadError);
    return -1;
}

redisContext *pmx_hiredis_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen) {
    if (pmx_hiredis_load(err, errlen) != 0) return NULL;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    redisContext *c = api.connectWithTimeout(host, port, tv);
    if (!c) { snprintf(err, errlen, "out of memory"); return NULL; }
    if (c->err) {
        snprintf(err, errlen, "%s", c->errstr);
        api.free(c);
        return NULL;
    }
    if (api.setTimeout(c, tv) != REDIS_OK) {
        snprintf(err, errlen, "cannot set the socket timeout: %s", c->errstr);
        api.free(c);
        return NULL;
    }
    api.enableKeepAlive(c);
    return c;
}

void pmx_hiredis_free(redisContext *c) { if (c) api.free(c); }

int pmx_hiredis_set_timeout(redisContext *c, int timeout_ms) {
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    return api.setTimeout(c, tv) == REDIS_OK ? 0 : -1;
}

int pmx_hiredis_append(redisContext *c, const unsigned char *command, size_t len) {
    return api.appendFormatted(c, (const char *)command, len) == REDIS_OK ? 0 : -1;
}

int pmx_hiredis_flush(redisContext *c) {
    int done = 0, rc = 0;
    pipe_guard g;
    guard_begin(&g);
    while (!done) {
        if (api.bufferWrite(c, &done) != REDIS_OK) { rc = -1; break; }
    }
    guard_end(&g);
    return rc;
}

redisReply *pmx_hiredis_read(redisContext *c, int *timed_out) {
    void *reply = NULL;
    pipe_guard g;
    *timed_out = 0;
    guard_begin(&g);  /* redisGetReply writes what is still buffered first */
    errno = 0;
    int rc = api.getReply(c, &reply);
    int e = errno;
    guard_end(&g);
    if (rc == REDIS_OK) return reply;
    /* The socket's timeout passed while waiting for bytes: read(2) took none (hiredis's reader
     * is as it was) and nothing is left to write, so the stream is whole. Clear the error that
     * hiredis latched and the late reply can still be read by a later call. */
    if (c->err == REDIS_ERR_IO && (e == EAGAIN || e == EWOULDBLOCK) && sdslen(c->obuf) == 0) {
        c->err = 0;
        c->errstr[0] = '\0';
        *timed_out = 1;
    }
    return NULL;
}

int pmx_hiredis_has_input(redisContext *c) {
    if (c->reader && c->reader->len > c->reader->pos) return 1;
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0;
}

void pmx_hiredis_reply_free(redisReply *r) { if (r) api.freeReply(r); }

const char *pmx_hiredis_error(const redisContext *c) { return c && c->err ? c->errstr : ""; }
