/* SPDX-License-Identifier: Apache-2.0 */
/* Typed, non-variadic wrappers over libcurl's variadic calls, which Swift cannot import.
 * static inline: nothing here is exported from libprovidermux.so. */
#ifndef PMX_CCURL_SHIM_H
#define PMX_CCURL_SHIM_H
#include <curl/curl.h>

static inline CURLcode pmx_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pmx_curl_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pmx_curl_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pmx_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode pmx_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*pmx_curl_data_fn)(char *ptr, size_t size, size_t nmemb, void *userdata);
static inline CURLcode pmx_curl_setopt_datafn(CURL *h, CURLoption o, pmx_curl_data_fn f) { return curl_easy_setopt(h, o, f); }

static inline CURLcode pmx_curl_getinfo_long(CURL *h, CURLINFO i, long *out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode pmx_curl_getinfo_ptr(CURL *h, CURLINFO i, void **out) { return curl_easy_getinfo(h, i, out); }
static inline CURLcode pmx_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *out) { return curl_easy_getinfo(h, i, out); }

static inline CURLMcode pmx_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* CURLMsg carries a union; expose the two fields we read. */
static inline CURL *pmx_curlmsg_handle(CURLMsg *m) { return m->easy_handle; }
static inline CURLcode pmx_curlmsg_result(CURLMsg *m) { return m->data.result; }
static inline int pmx_curlmsg_is_done(CURLMsg *m) { return m->msg == CURLMSG_DONE; }
#endif
