#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak test: soak/run.sh [SECONDS] [STREAMS]   (defaults 60 s, 1000 streams in flight)
#
# Library: $PMX_PREFIX if set (an installed prefix: lib/ + include/); otherwise a staged install
# of the repo's CMake build dir (cmake --install build --prefix soak/.out/prefix) when build/
# exists; otherwise /work/prebuilt (development fallback).
# Upstream: the bench nginx (bench/nginx/start.sh, own prefix soak/.out/nginx) when nginx is
# installed, else Tests/upstream/fake_upstream.py (with a longer prompt).
# Env: SOAK_UPSTREAM=fake forces the fake upstream; SOAK_SWAP_SECONDS (router freed + recreated with streams in flight, default 10),
#      SOAK_ASAN=0 to skip the ASan/UBSan pass, SOAK_ASAN_SECONDS (default 30).
# Exit status non-zero on any violation, crash or hang.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out="$here/.out"
secs=${1:-60}
streams=${2:-1000}
swap=${SOAK_SWAP_SECONDS:-10}
asan=${SOAK_ASAN:-1}
asan_secs=${SOAK_ASAN_SECONDS:-30}
mkdir -p "$out"

# ---- the library ----
if [ -n "${PMX_PREFIX:-}" ]; then
  prefix=$PMX_PREFIX
elif [ -d "$repo/build" ] && [ -f "$repo/build/cmake_install.cmake" ]; then
  prefix="$out/prefix"
  cmake --install "$repo/build" --prefix "$prefix" >/dev/null
else
  prefix=/work/prebuilt
fi
libdir="$prefix/lib"
[ -d "$libdir" ] || libdir="$prefix/lib64"
[ -f "$prefix/include/providermux.h" ] && [ -e "$libdir/libprovidermux.so" ] ||
  { echo "run.sh: no libprovidermux in $prefix" >&2; exit 2; }
echo "library: $libdir/libprovidermux.so"

# ---- build ----
cc=${CC:-cc}
flags=(-std=c11 -O2 -Wall -Wextra -Werror -pthread -I"$prefix/include")
libs=(-L"$libdir" -lprovidermux -Wl,-rpath,"$libdir")
"$cc" "${flags[@]}" -o "$out/soak" "$here/soak.c" "${libs[@]}"
if [ "$asan" = 1 ]; then
  "$cc" "${flags[@]}" -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=undefined -o "$out/soak-asan" "$here/soak.c" "${libs[@]}"
fi

# ---- upstream ----
upstream_pid=""
nginx_started=0
cleanup() {
  if [ "$nginx_started" = 1 ]; then
    BENCH_NGINX_PREFIX="$out/nginx" "$repo/bench/nginx/stop.sh" || true
  fi
  if [ -n "$upstream_pid" ]; then kill "$upstream_pid" 2>/dev/null || true; wait "$upstream_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
# The upstream of record is nginx (a Python upstream cannot keep 1,000 streams fed): install it
# when missing (idempotent; SOAK_UPSTREAM=fake skips it).
if [ "${SOAK_UPSTREAM:-auto}" != fake ] && [ ! -x "$nginx_bin" ] && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 ||
    { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1; } || true
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
fi
if [ "${SOAK_UPSTREAM:-auto}" != fake ] && [ -x "$nginx_bin" ] && [ -x "$repo/bench/nginx/start.sh" ]; then
  port=$(BENCH_NGINX_PREFIX="$out/nginx" "$repo/bench/nginx/start.sh" | awk '/^PORT/{print $2}')
  nginx_started=1
  base="http://127.0.0.1:$port/sse256/v1"
  long_base="http://127.0.0.1:$port/sse4096/v1"
  repeat=1
  echo "upstream: bench nginx on port $port"
else
  exec 3< <(python3 "$repo/Tests/upstream/fake_upstream.py" --port 0 & echo "PID $!"; wait)
  port=""
  while read -r key val <&3; do
    case $key in PID) upstream_pid=$val ;; PORT) port=$val ;; esac
    [ -n "$upstream_pid" ] && [ -n "$port" ] && break
  done
  [ -n "$port" ] || { echo "run.sh: fake upstream did not start" >&2; exit 2; }
  base="http://127.0.0.1:$port/soak/v1"
  long_base="http://127.0.0.1:$port/soaklong/v1"
  repeat=40
  echo "upstream: fake_upstream.py on port $port (nginx not installed)"
fi

export SWIFT_BACKTRACE=enable=no
rc=0
# Hard limit: the in-process watchdog aborts after 30 s without events; this catches the rest.
limit=$(( ${secs%.*} + 120 ))
timeout -s ABRT "$limit" "$out/soak" "$secs" "$streams" "$base" "$long_base" "$swap" "$repeat" || rc=$?
echo "soak exit status: $rc"
if [ "$rc" = 0 ] && [ "$asan" = 1 ]; then
  echo; echo "== ASan/UBSan build (C side only; the .so is not instrumented): $asan_secs s =="
  a_limit=$(( ${asan_secs%.*} + 120 ))
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    timeout -s ABRT "$a_limit" "$out/soak-asan" "$asan_secs" "$streams" "$base" "$long_base" "$swap" "$repeat" || rc=$?
  echo "soak-asan exit status: $rc"
fi
exit "$rc"
