/* C side of the Go binding: trampolines that turn a uintptr_t (a runtime/cgo.Handle) into the
 * library's `void *userdata` and back, so no Go code converts an integer to unsafe.Pointer. */
#ifndef PMXGO_BRIDGE_H
#define PMXGO_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <providermux.h>

pmx_status pmxgo_stream_async(pmx_stream **out, pmx_router *router, const char *request_json,
                              uintptr_t handle, pmx_error *err);
void pmxgo_set_log(int enable, int32_t min_level);

#endif
