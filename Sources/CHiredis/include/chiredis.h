// SPDX-License-Identifier: Apache-2.0
// hiredis loaded on demand (dlopen), so that libprovidermux.so does not NEED libhiredis: a
// router without "shared" never touches it, and the library loads where hiredis is absent.
// Only the few calls the shared-state link makes are resolved; all symbols here are hidden.
#ifndef CHIREDIS_H
#define CHIREDIS_H
#include <stddef.h>
#include <hiredis/hiredis.h>

#define PMX_HIDDEN __attribute__((visibility("hidden")))

/// Loads libhiredis once (thread-safe). 0 when loaded; else -1 with `err` filled. The file is
/// $PMX_HIREDIS_LIBRARY when set (tests point it at a missing file), else libhiredis.so.0.14:
/// the reply layout this shim was compiled against (Debian 12's libhiredis0.14).
PMX_HIDDEN int pmx_hiredis_load(char *err, size_t errlen);

/// Connects with `timeout_ms` for the connect and for every later read and write. NULL with
/// `err` filled on failure (nothing to free).
PMX_HIDDEN redisContext *pmx_hiredis_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen);
PMX_HIDDEN void pmx_hiredis_free(redisContext *c);
/// Sets the read and write timeout of the socket. 0 or -1.
PMX_HIDDEN int pmx_hiredis_set_timeout(redisContext *c, int timeout_ms);
/// Queues one command, already in RESP (an array of bulk strings, see RESPArguments.swift), in
/// the output buffer as it is: no formatting, no I/O. 0 or -1.
PMX_HIDDEN int pmx_hiredis_append(redisContext *c, const unsigned char *command, size_t len);
/// Writes the output buffer to the socket (waits at most the timeout). 0 or -1.
PMX_HIDDEN int pmx_hiredis_flush(redisContext *c);
/// Reads the next reply (flushing first); NULL on an I/O or protocol error (see c->errstr).
/// `*timed_out` is 1 when it only ran out of time with the command written and no byte of the
/// reply consumed: the context is then still usable (the reply can be read later).
PMX_HIDDEN redisReply *pmx_hiredis_read(redisContext *c, int *timed_out);
/// 1 when a read would find bytes at once (buffered, or waiting on the socket), without waiting.
PMX_HIDDEN int pmx_hiredis_has_input(redisContext *c);
PMX_HIDDEN void pmx_hiredis_reply_free(redisReply *r);
/// The context's error text ("" when none).
PMX_HIDDEN const char *pmx_hiredis_error(const redisContext *c);

#endif
