/* SPDX-License-Identifier: Apache-2.0 */
/* C side of the Go binding: the trampolines (C functions calling the exported Go ones) of the
 * log callback, of model management's progress events and of the per-request observer. Streams need none: their events are
 * pulled (pmx_stream_next), not called back. */
#ifndef PMXGO_BRIDGE_H
#define PMXGO_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <providermux.h>

void pmxgo_set_log(int enable, int32_t min_level);

/* pmx_router_model_manage with progress events delivered to the Go callback registered under
 * handle (a number, not a pointer: Go memory never crosses into C). */
pmx_status pmxgo_model_manage(char **out, pmx_router *router, const char *request_json,
                              uintptr_t handle, pmx_error *err);

/* pmx_router_call_stream with its events delivered to the Go callback registered under handle. */
pmx_status pmxgo_call_stream(char **out, pmx_router *router, const char *operation, const char *request_json,
                             uintptr_t handle, pmx_error *err);

/* pmx_router_set_observer with the Go observer registered under handle (0: clear it). */
pmx_status pmxgo_set_observer(pmx_router *router, uintptr_t handle, pmx_error *err);

#endif
