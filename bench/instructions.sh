#!/usr/bin/env bash
# Instructions per non-streaming request and per streamed SSE chunk (all threads, callgrind:
# identical from run to run whatever the machine's load).
# Usage: bench/instructions.sh [LIBDIR]   (default: builds the release .so into bench/.out/lib)
# Needs nginx (bench/run.sh installs it) and valgrind.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
lib=${1:-}
if [ -z "$lib" ]; then lib="$here/.out/lib"; "$root/scripts/build-lib.sh" "$lib" >/dev/null; fi
mkdir -p "$here/.out"
drv="$here/.out/instructions"
gcc -O2 -I"$root/include" "$here/c/instructions.c" -L"$lib" -lprovidermux -o "$drv"
port=$("$here/nginx/start.sh" | sed -n 's/^PORT //p')
trap '"$here/nginx/stop.sh" >/dev/null 2>&1 || true' EXIT
count() {
  LD_LIBRARY_PATH="$lib" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$drv" "$port" "$@" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
c1=$(count complete 1); c21=$(count complete 21)
s16=$(count stream 2 /sse16); s256=$(count stream 2 /sse256)
echo "per request (pmx_router_complete): $(( (c21 - c1) / 20 )) instructions"
echo "per streamed chunk (pmx_router_stream, JSON callback): $(( (s256 - s16) / 480 )) instructions"
