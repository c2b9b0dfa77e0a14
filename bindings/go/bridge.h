/* C side of the Go binding: the log callback's trampoline (a C function calling the exported Go
 * one). Streams need none: their events are pulled (pmx_stream_next), not called back. */
#ifndef PMXGO_BRIDGE_H
#define PMXGO_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <providermux.h>

void pmxgo_set_log(int enable, int32_t min_level);

#endif
