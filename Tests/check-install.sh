#!/usr/bin/env bash
# Installs a configured+built tree into a temporary prefix and builds a tiny consumer through
# pkg-config: Tests/check-install.sh <cmake-build-dir>
# Environment: CMAKE_COMMAND (default cmake), CC (default cc).
set -u
build=${1:?usage: check-install.sh <cmake-build-dir>}
cmake_cmd=${CMAKE_COMMAND:-cmake}
cc=${CC:-cc}
here=$(cd "$(dirname "$0")/.." && pwd)
header_src=$here/include/providermux.h
ver=$(sed -n 's/^#define PMX_VERSION_STRING "\(.*\)".*/\1/p' "$header_src")
abi=$(sed -n 's/^#define PMX_ABI_VERSION \([0-9]*\).*/\1/p' "$header_src")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmx-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
passes=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }
finish() { echo "$passes passed, $failures failed"; [ "$failures" -eq 0 ]; exit; }

prefix=$tmp/prefix
if ! "$cmake_cmd" --install "$build" --prefix "$prefix"; then
  fail "cmake --install failed"
  finish
fi
pass

pc=$(find "$prefix" -name providermux.pc -path '*/pkgconfig/*' | head -1)
[ -n "$pc" ] && pass || { fail "no providermux.pc installed"; find "$prefix" >&2; finish; }
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
echo "installed: libdir=${libdir#$prefix/} pc=${pc#$prefix/}"

# The library, both symlinks, the header.
[ -f "$libdir/libprovidermux.so.$ver" ] && [ ! -L "$libdir/libprovidermux.so.$ver" ] && pass \
  || fail "$libdir/libprovidermux.so.$ver missing or not a regular file"
[ -L "$libdir/libprovidermux.so.$abi" ] && [ "$(readlink "$libdir/libprovidermux.so.$abi")" = "libprovidermux.so.$ver" ] && pass \
  || fail "$libdir/libprovidermux.so.$abi is not a symlink to libprovidermux.so.$ver"
[ -L "$libdir/libprovidermux.so" ] && [ "$(readlink -f "$libdir/libprovidermux.so")" = "$(readlink -f "$libdir/libprovidermux.so.$ver")" ] && pass \
  || fail "$libdir/libprovidermux.so is not a symlink to the library"
[ -f "$prefix/include/providermux.h" ] && cmp -s "$prefix/include/providermux.h" "$header_src" && pass \
  || fail "include/providermux.h not installed (or differs from the source)"

export PKG_CONFIG_PATH=$pcdir
modversion=$(pkg-config --modversion providermux 2>&1)
[ "$modversion" = "$ver" ] && pass || fail "pkg-config --modversion: '$modversion', expected $ver"
flags=$(pkg-config --cflags --libs providermux 2>&1) && pass || fail "pkg-config --cflags --libs: $flags"
echo "pkg-config flags: $flags"
pc_libdir=$(pkg-config --variable=libdir providermux)
[ -n "$pc_libdir" ] && [ "$(readlink -f "$pc_libdir")" = "$(readlink -f "$libdir")" ] && pass \
  || fail "pkg-config libdir '$pc_libdir' is not $libdir"
pc_includedir=$(pkg-config --variable=includedir providermux)
[ -n "$pc_includedir" ] && [ "$(readlink -f "$pc_includedir")" = "$(readlink -f "$prefix/include")" ] && pass \
  || fail "pkg-config includedir '$pc_includedir' is not $prefix/include"
if pkg-config --print-requires-private providermux | grep -q libcurl \
   && pkg-config --print-requires-private providermux | grep -q jansson; then
  pass
else
  fail "Requires.private should name libcurl and jansson"
fi

cat > "$tmp/consumer.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <providermux.h>

int main(void)
{
    if (pmx_version_number() != PMX_VERSION_NUMBER ||
        strcmp(pmx_version_string(), PMX_VERSION_STRING) != 0) {
        fprintf(stderr, "version mismatch: %d %s\n", pmx_version_number(), pmx_version_string());
        return 1;
    }
    printf("%s\n", pmx_version_string());
    return 0;
}
C
# shellcheck disable=SC2086
if (cd "$tmp" && "$cc" -std=c99 -Wall -Wextra -Wpedantic -Werror consumer.c -o consumer $flags); then
  pass
  needed=$(readelf -d "$tmp/consumer" | sed -n 's/.*(NEEDED).*\[\(libprovidermux[^]]*\)\].*/\1/p')
  [ "$needed" = "libprovidermux.so.$abi" ] && pass || fail "consumer NEEDs '$needed', expected libprovidermux.so.$abi"
  out=$(cd "$tmp" && env -u LD_PRELOAD LD_LIBRARY_PATH="$libdir" ./consumer 2>&1)
  [ "$out" = "$ver" ] && pass || fail "consumer printed '$out', expected $ver"
  # It really loaded the installed copy.
  maps=$(cd "$tmp" && LD_LIBRARY_PATH="$libdir" LD_DEBUG=libs ./consumer 2>&1 | grep -m1 'calling init: .*libprovidermux' || true)
  case "$maps" in
    *"$libdir/"*|"") pass ;;
    *) fail "consumer loaded another copy: $maps" ;;
  esac
else
  fail "the consumer does not compile/link with: $flags"
fi
finish
