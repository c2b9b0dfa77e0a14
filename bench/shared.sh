#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The per-request cost of shared state on Redis against local state (issue 17 item 6): one
# router (mock provider with rpm/tpm limits, a router budget, the default breaker) as local,
# "shared", local + cache and shared + cache, against a redis-server started on a free loopback
# port in a temp dir. Prints instructions per pmx_router_complete (callgrind: the client process
# only, not redis-server), the Redis round-trips and writes per request seen from the client,
# EVALSHA calls, server µs, commands and bytes per request seen by Redis (INFO), and wall-clock µs
# per request (the variants interleaved; medians over rounds and runs). About a minute.
#
# Usage: bench/shared.sh [LIBDIR] [shared.py options: --calls N --rounds N --runs N]
#   LIBDIR   the release .so to measure (default: scripts/build-lib.sh into bench/.out/lib)
# Needs redis-server, valgrind and the libcurl/jansson headers (scripts/setup.sh installs them).
# Writes bench/.out/shared.json.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/.out}
mkdir -p "$out"
lib=""
args=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) args+=("$a") ;;
    *) if [ -z "$lib" ] && [ -d "$a" ]; then lib=$a; else args+=("$a"); fi ;;
  esac
done
if [ -z "$lib" ]; then lib="$out/lib"; [ -e "$lib/libprovidermux.so" ] || "$root/scripts/build-lib.sh" "$lib" >/dev/null; fi
lib=$(cd "$lib" && pwd)
for tool in valgrind redis-server; do
  command -v "$tool" >/dev/null || { echo "shared.sh: $tool not found (scripts/setup.sh installs it)" >&2; exit 2; }
done

drv="$out/shared"
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -I"$root/include" $(pkg-config --cflags libcurl jansson) \
  "$here/c/shared.c" "$here/c/common.c" -L"$lib" -lprovidermux -Wl,-rpath,"$lib" $(pkg-config --libs libcurl jansson) \
  -o "$drv"
exec python3 "$here/shared.py" "$drv" --lib "$lib" --json "$out/shared.json" "${args[@]}"
