#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per request and per chunk (callgrind, all threads: a count, the same from run to
# run whatever the machine's load), for the library and for a raw libcurl client doing the same
# requests: complete (OpenAI), and streams of OpenAI SSE, Anthropic SSE, Gemini SSE, Ollama NDJSON.
#
# Usage: bench/instructions.sh [LIBDIR] [--check] [--update-baseline] [--baseline FILE] [--json OUT]
#   LIBDIR             the release .so to count (default: scripts/build-lib.sh into bench/.out/lib)
#   --check            fail (exit 1) when a pmx figure exceeds the baseline by more than its tolerance
#                      (10 %) in two runs (the second only after the first failed): the CI guard,
#                      ctest instructions_guard
#   --update-baseline  write the measured figures into the baseline file (commit it)
#   --baseline FILE    default bench/instructions-baseline.json
#   --json OUT         default $BENCH_OUT/instructions.json
#   --profile          also print, per workload, the functions the per-unit figure is made of
#                      (self cost, large minus small phase) and keep the dumps in $BENCH_OUT/callgrind
# Environment: BENCH_OUT (work files, default bench/.out), BENCH_NGINX_PREFIX (bench/nginx/start.sh).
# Needs valgrind (with valgrind/callgrind.h), nginx-light, libcurl and jansson headers:
# scripts/setup.sh installs them. One valgrind run of bench/c/counted.c, about a minute.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
lib="" check=0 update=0 baseline="$here/instructions-baseline.json" json="" profile=0
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1 ;;
    --update-baseline) update=1 ;;
    --baseline) baseline=$2; shift ;;
    --json) json=$2; shift ;;
    --profile) profile=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "instructions.sh: unknown argument $1" >&2; exit 2 ;;
    *) lib=$1 ;;
  esac
  shift
done
out=${BENCH_OUT:-$here/.out}
mkdir -p "$out"
json=${json:-$out/instructions.json}
if [ -z "$lib" ]; then lib="$out/lib"; "$root/scripts/build-lib.sh" "$lib" >/dev/null; fi
lib=$(cd "$lib" && pwd)
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found (scripts/setup.sh installs it)" >&2; exit 2; }

drv="$out/counted"
# shellcheck disable=SC2046
cc -std=c11 -O2 -Wall -Wextra -I"$root/include" $(pkg-config --cflags libcurl jansson) \
  "$here/c/counted.c" "$here/c/common.c" -L"$lib" -lprovidermux $(pkg-config --libs libcurl jansson) \
  -o "$drv"

port=$("$here/nginx/start.sh" | sed -n 's/^PORT //p')
dumps=$(mktemp -d "$out/callgrind.XXXXXX")
trap '"$here/nginx/stop.sh" >/dev/null 2>&1 || true; rm -rf "$dumps"' EXIT

count_once() {
  rm -f "$dumps"/cg.out*
  # The transcript (PMX_TRANSCRIPT_DIR, ctest's secret scan) would be counted with the library.
  if ! env -u PMX_TRANSCRIPT_DIR LD_LIBRARY_PATH="$lib" valgrind --tool=callgrind --callgrind-out-file="$dumps/cg.out" \
      "$drv" "$port" >"$dumps/driver.log" 2>&1; then
    cat "$dumps/driver.log" >&2
    echo "instructions.sh: the counted run failed" >&2
    exit 2
  fi
  args=(measure "$dumps/cg.out" --lib "$lib" --json "$json" --baseline "$baseline")
  [ "$check" = 1 ] && args+=(--check)
  [ "$update" = 1 ] && args+=(--update-baseline "$baseline")
  status=0
  python3 "$here/instructions.py" "${args[@]}" || status=$?
}

count_once
# The per-chunk figures move by a few per cent between runs (how many chunks one wake-up of
# the consumer covers depends on thread scheduling under valgrind): a check that fails is
# measured once more, and only a figure above the tolerance in both runs fails the guard.
if [ "$check" = 1 ] && [ "$status" = 1 ]; then
  echo; echo "instructions.sh: over the tolerance once; measuring again (a regression fails twice)"
  count_once
fi
if [ "$profile" = 1 ]; then
  rm -rf "$out/callgrind"; mkdir -p "$out/callgrind"; cp "$dumps"/cg.out.* "$out/callgrind/"
  for w in complete openai anthropic gemini ollama; do
    echo; python3 "$here/instructions.py" profile "$out/callgrind/cg.out" "$w" pmx 20
  done
  echo; echo "dumps kept in $out/callgrind (instructions.py profile $out/callgrind/cg.out WORKLOAD [pmx|pull|raw|rawjson] [TOP])"
fi
exit "$status"
