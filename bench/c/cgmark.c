/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgmark — callgrind phase markers for code that cannot expand the client-request macros itself
 * (bench/python/bench.py --count-instructions loads it with ctypes). cg_zero() starts a phase,
 * cg_dump(label) ends it as one callgrind dump named label (all threads). Outside valgrind both
 * do nothing. cg_zero dumps what came before (discarded) rather than CALLGRIND_ZERO_STATS, which
 * in valgrind 3.19 let costs of functions on the stack come back in the next dump.
 * Built by bench/run.sh: cc -shared -fPIC -O2 cgmark.c -o libcgmark.so
 */
#include <valgrind/callgrind.h>

void cg_zero(void) { CALLGRIND_DUMP_STATS_AT("between phases"); }
void cg_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
