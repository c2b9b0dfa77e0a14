#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# bench/scale.sh [N...] — how pmx_router_new, _health, _models, _update_routing, a request routed
# over N candidates and N add/remove_provider calls grow with the number of providers
# (default N: 100 1000 10000). Builds the release library with CMake (build/, as in the README)
# when build/lib/libprovidermux.so is missing, builds bench/c/scale.c against it, runs it with
# in-process mock providers and with openai-compatible providers on a closed loopback port
# (every health / models probe a refused connection), and prints a tab-separated table: wall and
# process-CPU milliseconds per call (on a shared machine CPU is the steadier figure). Loopback only.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PMX_BUILD_DIR:-$ROOT/build}
OUT=$ROOT/bench/.out
mkdir -p "$OUT"
if [ ! -e "$BUILD/lib/libprovidermux.so" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD"
fi
cc -std=c11 -O2 -Wall -Wextra -I"$ROOT/include" -o "$OUT/scale" "$ROOT/bench/c/scale.c" \
    -L"$BUILD/lib" -lprovidermux -Wl,-rpath,"$BUILD/lib"
[ $# -gt 0 ] || set -- 100 1000 10000
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$OUT/scale" --kind mock "$@"
"$OUT/scale" --kind closed "$@" | tail -n +2
