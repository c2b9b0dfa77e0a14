#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds pmx-gateway (gateway/Package.swift: Hummingbird 2 over the library's core, a package of
# its own so the library's build and `swift test` never compile Hummingbird/SwiftNIO) in release
# and copies it to OUT_DIR/pmx-gateway. The first build compiles SwiftNIO and Hummingbird
# (README "Gateway" has the time measured here); later ones are incremental.
# Usage: scripts/build-gateway.sh [OUT_DIR]   (default: build/bin)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/bin}
export SWIFT_BACKTRACE=enable=no
swift build --package-path "$here/gateway" -c release --product pmx-gateway
bin=$(swift build --package-path "$here/gateway" -c release --show-bin-path)
mkdir -p "$out"
cp "$bin/pmx-gateway" "$out/pmx-gateway.tmp"
mv -f "$out/pmx-gateway.tmp" "$out/pmx-gateway"
echo "pmx-gateway: $out/pmx-gateway"
