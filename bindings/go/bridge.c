/* SPDX-License-Identifier: Apache-2.0 */
#include "bridge.h"
#include "_cgo_export.h"

static void pmxgo_log_trampoline(int32_t level, const char *message, size_t len, void *userdata) {
    (void)userdata;
    pmxgoLog(level, (char *)message, len);
}

void pmxgo_set_log(int enable, int32_t min_level) {
    pmx_set_log_callback(enable ? pmxgo_log_trampoline : NULL, min_level, NULL);
}

/* Runs on the thread that called pmx_router_model_manage (the library's contract). */
static int32_t pmxgo_manage_trampoline(const char *event_json, size_t len, void *userdata) {
    return pmxgoManageEvent((uintptr_t)userdata, (char *)event_json, len);
}

pmx_status pmxgo_model_manage(char **out, pmx_router *router, const char *request_json,
                              uintptr_t handle, pmx_error *err) {
    return pmx_router_model_manage(out, router, request_json, pmxgo_manage_trampoline,
                                   (void *)handle, err);
}

/* pmx_router_call_stream with its events delivered to the Go callback under handle, on the
 * calling thread (as for model management). */
pmx_status pmxgo_call_stream(char **out, pmx_router *router, const char *operation, const char *request_json,
                             uintptr_t handle, pmx_error *err) {
    return pmx_router_call_stream(out, router, operation, request_json, pmxgo_manage_trampoline,
                                  (void *)handle, err);
}

/* Runs on the router's I/O thread (the library's contract). */
static void pmxgo_observer_trampoline(const char *record_json, size_t len, void *userdata) {
    pmxgoObserve((uintptr_t)userdata, (char *)record_json, len);
}

pmx_status pmxgo_set_observer(pmx_router *router, uintptr_t handle, pmx_error *err) {
    return pmx_router_set_observer(router, handle ? pmxgo_observer_trampoline : NULL, (void *)handle, err);
}
