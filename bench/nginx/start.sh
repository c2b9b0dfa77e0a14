#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Starts the bench nginx (its own prefix bench/.out/nginx, not the system service) on a free
# loopback port. Prints "PORT n" and writes the port to bench/.out/nginx/port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prefix=${BENCH_NGINX_PREFIX:-$(cd "$here/.." && pwd)/.out/nginx}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$nginx_bin" ] || { echo "start.sh: nginx not found (apt-get install nginx-light)" >&2; exit 1; }

"$here/stop.sh" >/dev/null 2>&1 || true
mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/html" "$prefix/tmp"
rm -rf "$prefix/html"; mkdir -p "$prefix/html"
python3 "$here/make_bodies.py" "$prefix/html"

port=${BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')}
sed -e "s|@PORT@|$port|g" -e "s|@PREFIX@|$prefix|g" "$here/nginx.conf.in" > "$prefix/conf/nginx.conf"
"$nginx_bin" -p "$prefix" -c "$prefix/conf/nginx.conf" -e "$prefix/logs/error.log"

# Wait until it answers.
for _ in $(seq 1 100); do
  if python3 - "$port" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2)
s.close()
PY
  then echo "$port" > "$prefix/port"; echo "PORT $port"; exit 0; fi
  sleep 0.05
done
echo "start.sh: nginx did not start; see $prefix/logs/error.log" >&2
exit 1
