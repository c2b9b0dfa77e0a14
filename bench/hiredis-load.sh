#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Linking vs loading hiredis on demand (issue 17): what each would cost a program that never
# configures "shared". Usage: bench/hiredis-load.sh LIBDIR [RUNS]
# Prints: the .so's size and NEEDED list; the startup (process start + pmx_router_new +
# pmx_router_free, no "shared") as built (hiredis not loaded) and with libhiredis.so.0.14
# loaded at start (LD_PRELOAD: what a NEEDED entry would do); the bytes static linking would add
# (the text+data of libhiredis.a's objects a client pulls in).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
lib=${1:?usage: bench/hiredis-load.sh LIBDIR [RUNS]}
runs=${2:-200}
so=$(readlink -f "$lib/libprovidermux.so")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/start.c" <<'C'
#include <providermux.h>
int main(void) {
    pmx_router *r = 0;
    if (pmx_router_new(&r, "{\"providers\":[{\"name\":\"a\",\"type\":\"mock\"}]}", 0) != PMX_OK) return 1;
    pmx_router_free(r);
    return 0;
}
C
cc -O2 -I"$here/include" "$tmp/start.c" -o "$tmp/start" -L"$lib" -lprovidermux -Wl,-rpath,"$lib"
hiredis=$(ldconfig -p | awk '/libhiredis.so.0.14 /{p=$NF} END{print p}')
# Median wall ms per run, the two variants interleaved (load drift hits both alike), and the
# instructions of one run of each (callgrind: the same from run to run whatever the load).
compare() {
  python3 - "$runs" "$tmp/start" "$hiredis" <<'PY'
import os, statistics, subprocess, sys, time
runs, prog, lib = int(sys.argv[1]), sys.argv[2], sys.argv[3]
envs = {"on_demand": dict(os.environ), "with_hiredis_loaded": dict(os.environ, LD_PRELOAD=lib)}
times = {k: [] for k in envs}
for _ in range(runs):
    for k, env in envs.items():
        t = time.perf_counter()
        subprocess.run([prog], env=env, check=True)
        times[k].append((time.perf_counter() - t) * 1000)
for k, v in times.items():
    print("startup_ms_%s: median %.2f (%d runs)" % (k, statistics.median(v), runs))
PY
  for variant in on_demand with_hiredis_loaded; do
    pre=""; [ "$variant" = with_hiredis_loaded ] && pre="$hiredis"
    out=$(LD_PRELOAD=$pre valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/start" 2>&1 | awk '/Collected :/{print $NF}')
    echo "startup_instructions_$variant: $out"
  done
}
echo "library: $so"
echo "size_bytes: $(stat -c %s "$so")"
echo "needed: $(readelf -d "$so" | awk '/NEEDED/{gsub(/[][]/,"",$5); printf "%s ", $5}')"
compare
echo "static_link_adds_bytes: $(size -t /usr/lib/x86_64-linux-gnu/libhiredis.a | awk '/TOTALS/{print $1 + $2}') (libhiredis.a text+data, async.o included)"
echo "hiredis_so_bytes: $(stat -c %s "$(readlink -f "$hiredis")")"
