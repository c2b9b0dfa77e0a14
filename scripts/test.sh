#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds everything and runs every test through ctest:
# Swift unit + integration tests, C tests, Python tests, library shape and install checks.
# Usage: scripts/test.sh [extra ctest args, e.g. -R c_]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
export SWIFT_BACKTRACE=enable=no
build="$here/build"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure "$@"
