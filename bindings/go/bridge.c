#include "bridge.h"
#include "_cgo_export.h"

static void pmxgo_log_trampoline(int32_t level, const char *message, size_t len, void *userdata) {
    (void)userdata;
    pmxgoLog(level, (char *)message, len);
}

void pmxgo_set_log(int enable, int32_t min_level) {
    pmx_set_log_callback(enable ? pmxgo_log_trampoline : NULL, min_level, NULL);
}
