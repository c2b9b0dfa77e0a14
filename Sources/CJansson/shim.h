/* SPDX-License-Identifier: Apache-2.0 */
/* Wrappers over jansson's macros and inline functions that Swift does not import.
 * static inline: nothing here is exported from libprovidermux.so. */
#ifndef PMX_CJANSSON_SHIM_H
#define PMX_CJANSSON_SHIM_H
#include <jansson.h>

static inline int pmx_json_type(const json_t *j) { return j ? (int)j->type : -1; }
static inline void pmx_json_decref(json_t *j) { json_decref(j); }
static inline int pmx_json_object_set_new(json_t *o, const char *k, json_t *v) { return json_object_set_new(o, k, v); }
static inline int pmx_json_array_append_new(json_t *a, json_t *v) { return json_array_append_new(a, v); }
#endif
