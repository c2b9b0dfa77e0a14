#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pmx-gateway's own CPU time and context switches per request, plain and streamed chat
# (bench/gateway/cpu.py; bench/README.md "pmx-gateway's CPU per request"). Callgrind cannot run
# the gateway (valgrind 3.19's debuginfo reader gives up), so this reads /proc instead.
# Usage: bench/gateway-cpu.sh [--requests N] [--rounds R] [--warmup W] [--json FILE]
#   PMX_GATEWAY=/path/to/pmx-gateway (default: gateway/.build/release/pmx-gateway)
# Needs only python3 (the system one): ~1 minute with the defaults.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export PMX_GATEWAY=${PMX_GATEWAY:-$root/gateway/.build/release/pmx-gateway}
[ -x "$PMX_GATEWAY" ] || { echo "gateway-cpu.sh: no pmx-gateway at $PMX_GATEWAY (scripts/build-gateway.sh)" >&2; exit 1; }
exec python3 "$here/gateway/cpu.py" "$@"
