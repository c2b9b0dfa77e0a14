#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the self-contained release library: Swift runtime linked in statically, SONAME
# libprovidermux.so.<ABI>, only pmx_* exported. Usage: scripts/build-lib.sh [OUTDIR]
# Leaves OUTDIR/libprovidermux.so.<VERSION>, .so.<ABI> -> it, .so -> .so.<ABI>.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/lib}
abi=$(sed -n 's/^#define PMX_ABI_VERSION \([0-9]*\).*/\1/p' "$here/include/providermux.h")
ver=$(sed -n 's/^#define PMX_VERSION_STRING "\(.*\)".*/\1/p' "$here/include/providermux.h")
export SWIFT_BACKTRACE=enable=no
swift build --package-path "$here" -c release --product providermux \
  --scratch-path "$here/.build-release" --disable-local-rpath \
  -Xswiftc -static-stdlib -Xswiftc -use-ld=lld >&2
mkdir -p "$out"
src="$here/.build-release/release/libprovidermux.so"
# Copy (not link) so the build tree can be rebuilt while a test holds the old file open.
cp -f "$src" "$out/libprovidermux.so.$ver.tmp"
mv -f "$out/libprovidermux.so.$ver.tmp" "$out/libprovidermux.so.$ver"
ln -sfn "libprovidermux.so.$ver" "$out/libprovidermux.so.$abi"
ln -sfn "libprovidermux.so.$abi" "$out/libprovidermux.so"
echo "$out/libprovidermux.so.$ver"
