#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and streams an answer with pmx-chat on the example config
# (a local Ollama / LM Studio / llama.cpp server if one answers, else the built-in mock).
# Usage: scripts/demo.sh [PROMPT...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
build="$here/build"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target pmx-chat >&2
cd "$here"
if [ $# -eq 0 ]; then set -- "Explain in one sentence what a router for LLM providers does."; fi
"$build/pmx-chat" -c examples/router.json "$@"
