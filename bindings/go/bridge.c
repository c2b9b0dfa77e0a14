#include "bridge.h"
#include "_cgo_export.h"

static int32_t pmxgo_event_trampoline(const char *event_json, size_t len, void *userdata) {
    return pmxgoStreamEvent((char *)event_json, len, (uintptr_t)userdata);
}

pmx_status pmxgo_stream_async(pmx_stream **out, pmx_router *router, const char *request_json,
                              uintptr_t handle, pmx_error *err) {
    return pmx_router_stream_async(out, router, request_json, pmxgo_event_trampoline,
                                   (void *)handle, err);
}

static void pmxgo_log_trampoline(int32_t level, const char *message, size_t len, void *userdata) {
    (void)userdata;
    pmxgoLog(level, (char *)message, len);
}

void pmxgo_set_log(int enable, int32_t min_level) {
    pmx_set_log_callback(enable ? pmxgo_log_trampoline : NULL, min_level, NULL);
}
