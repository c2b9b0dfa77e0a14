#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Stops the bench nginx started by start.sh (by the pid in its own prefix; never the system one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${BENCH_NGINX_PREFIX:-$(cd "$here/.." && pwd)/.out/nginx}
pidfile="$prefix/nginx.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill -QUIT "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" || true
fi
rm -f "$pidfile" "$prefix/port"
