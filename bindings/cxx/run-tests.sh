#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the C++ wrapper's tests against an installed prefix (like /work/prebuilt):
#   bindings/cxx/run-tests.sh PREFIX
# Compiles Tests/cxx/test_cxx.cpp and examples-cxx/pmx-chat.cpp with -std=c++17 -Wall -Wextra
# -Wpedantic -Werror against PREFIX/include/providermux.h and the repository's
# include/providermux.hpp (PREFIX's copy when it has one), links PREFIX's library, runs both.
# Installs nothing. Environment: CXX (default c++). Prints "N passed, N failed".
set -u
prefix=$(cd "${1:?usage: run-tests.sh PREFIX}" && pwd)
here=$(cd "$(dirname "$0")/../.." && pwd)
cxx=${CXX:-c++}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmx-cxx-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
libdir=$prefix/lib
[ -e "$libdir/libprovidermux.so" ] || libdir=$(dirname "$(find "$prefix" -name 'libprovidermux.so' | head -1)")
mkdir -p "$tmp/inc"
cp "$here/include/providermux.hpp" "$tmp/inc/"
flags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -I"$prefix/include" -I"$tmp/inc")
libs=(-L"$libdir" -lprovidermux -pthread)
passes=0
failures=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }

if timeout 120 "$cxx" "${flags[@]}" "$here/Tests/cxx/test_cxx.cpp" -o "$tmp/test_cxx" "${libs[@]}"; then
  pass
  if out=$(LD_LIBRARY_PATH="$libdir" timeout 120 "$tmp/test_cxx" 2>&1); then pass; else fail "test_cxx:"; fi
  echo "$out" | sed 's/^/  test_cxx: /'
else
  fail "Tests/cxx/test_cxx.cpp does not compile"
fi

if timeout 120 "$cxx" "${flags[@]}" "$here/examples-cxx/pmx-chat.cpp" -o "$tmp/pmx-chat-cxx" "${libs[@]}"; then
  pass
  out=$(LD_LIBRARY_PATH="$libdir" timeout 60 "$tmp/pmx-chat-cxx" "$here/Tests/cxx/mock-router.json" hello from 'C++' 2>/dev/null)
  [ "$out" = "mock: hello from C++" ] && pass || fail "pmx-chat-cxx printed '$out'"
  LD_LIBRARY_PATH="$libdir" timeout 60 "$tmp/pmx-chat-cxx" /nonexistent.json hi 2>/dev/null
  [ $? -eq 2 ] && pass || fail "pmx-chat-cxx: an unreadable config should exit 2"
else
  fail "examples-cxx/pmx-chat.cpp does not compile"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
