#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pmx-gateway beside the LiteLLM proxy, on the same upstream, in one run (issue 17 item 6).
# Starts the project's fake upstream (Tests/upstream/fake_upstream.py, no artificial delay),
# pmx-gateway over it and `litellm --config` over it (the same model through `openai/` +
# api_base), all on 127.0.0.1, and measures with one asyncio + httpx client for all three:
# added latency of sequential non-streamed requests (median, p99, minus the direct figure),
# throughput and TTFT at 100 concurrent streams, each server's CPU per request and its RSS
# after the run. Medians over repeats (the machine may be shared). About 3 minutes.
#
# Usage: bench/gateway.sh [--quick] [bench.py options: --requests N --repeats N --rounds N ...]
#   --quick    60 requests, 1 round, 1 repeat (a smoke run, under a minute after the install)
# Environment:
#   PMX_GATEWAY    the pmx-gateway to measure (default: build/bin/pmx-gateway, else
#                  gateway/.build/release/pmx-gateway, else scripts/build-gateway.sh bench/.out/bin,
#                  which takes long the first time: README "Gateway")
#   LITELLM_VENV   the venv holding LiteLLM (default bench/.out/litellm-venv, created here with
#                  `pip install "$LITELLM_SPEC"` when it has no `litellm`; not part of setup.sh or
#                  CI: the bench is not a test)
#   LITELLM_SPEC   default 'litellm[proxy]==1.108.7', the version measured in bench/RESULTS.md
# Writes bench/.out/gateway.json (every repeat's figures) and prints the tables.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${BENCH_OUT:-$here/.out}
mkdir -p "$out"
args=()
for a in "$@"; do
  case "$a" in
    --quick) args+=(--requests 60 --warmup 10 --rounds 1 --repeats 1) ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
say() { printf '== %s\n' "$*" >&2; }

gateway=${PMX_GATEWAY:-}
if [ -z "$gateway" ]; then
  for candidate in "$root/build/bin/pmx-gateway" "$root/gateway/.build/release/pmx-gateway"; do
    if [ -x "$candidate" ]; then gateway=$candidate; break; fi
  done
fi
if [ -z "$gateway" ]; then
  say "building pmx-gateway (scripts/build-gateway.sh; long the first time)"
  "$root/scripts/build-gateway.sh" "$out/bin" >/dev/null
  gateway="$out/bin/pmx-gateway"
fi
[ -x "$gateway" ] || { echo "gateway.sh: no pmx-gateway at $gateway" >&2; exit 1; }

venv=${LITELLM_VENV:-$out/litellm-venv}
if [ ! -x "$venv/bin/litellm" ]; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    say "installing python3-venv"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  say "installing ${LITELLM_SPEC:-litellm[proxy]==1.108.7} into $venv (once; a few minutes)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${LITELLM_SPEC:-litellm[proxy]==1.108.7}"
fi

cd "$here/gateway"
exec "$venv/bin/python" bench.py --gateway "$gateway" --litellm "$venv/bin/litellm" \
  --json "$out/gateway.json" "${args[@]}"
