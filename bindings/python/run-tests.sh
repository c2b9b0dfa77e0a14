#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the Python suite against the library of an installed tree: Tests/python (the package
# tests included: wheel built offline, installed into a fresh venv) and Tests/upstream.
# Usage: bindings/python/run-tests.sh PREFIX      (e.g. /work/prebuilt or /usr/local)
# Needs python3 with pytest and hatchling (and python3-venv for the install tests, else they
# skip); installs nothing. PYTHON overrides the interpreter. Exits non-zero on failure; never runs over ~3 min.
set -euo pipefail
prefix=${1:?usage: $0 PREFIX}
prefix=$(cd "$prefix" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}

lib=""
for name in libprovidermux.so.0 libprovidermux.so; do
  if [ -e "$prefix/lib/$name" ]; then lib=$prefix/lib/$name; break; fi
done
if [ -z "$lib" ]; then
  echo "run-tests.sh: no libprovidermux.so.0 under $prefix/lib" >&2
  exit 2
fi
if ! "$python" -c 'import pytest' 2>/dev/null; then
  echo "run-tests.sh: $python has no pytest (apt-get install python3-pytest, or pip install pytest)" >&2
  exit 2
fi
# test_package.py builds the wheel offline, without build isolation: the backend must be here.
if ! "$python" -c 'import hatchling' 2>/dev/null; then
  echo "run-tests.sh: $python has no hatchling (the package's build backend: pip install hatchling)" >&2
  exit 2
fi

export PROVIDERMUX_LIB=$lib PMX_SOURCE_DIR=$root PYTHONDONTWRITEBYTECODE=1
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
cd "$root"
echo "python bindings: $("$python" --version 2>&1), library $lib"
status=0
timeout -k 10 170 "$python" -m pytest -q -p no:cacheprovider -rs Tests/python Tests/upstream \
  || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "run-tests.sh: FAILED: timed out" >&2
elif [ "$status" -ne 0 ]; then
  echo "run-tests.sh: FAILED (pytest exit $status)" >&2
else
  echo "run-tests.sh: all Python tests passed"
fi
exit "$status"
