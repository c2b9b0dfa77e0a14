#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the shape of the built library: Tests/check-library.sh <path-to-libprovidermux.so*>
#  - SONAME libprovidermux.so.<ABI>, no RPATH/RUNPATH
#  - no NEEDED Swift runtime (libswift*, libFoundation*, libdispatch, libBlocksRuntime) and
#    every NEEDED entry resolvable without the Swift toolchain
#  - only pmx_* symbols exported (plus the linker-defined ones listed below)
#  - every function declared in include/providermux.h is exported as a function
#  - the libprovidermux.so.<ABI> and libprovidermux.so symlinks exist next to it
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
header=${PMX_HEADER:-$here/include/providermux.h}
lib=${1:?usage: check-library.sh <path-to-libprovidermux.so>}
failures=0
passes=0
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }

[ -e "$lib" ] || { echo "FAILED: $lib does not exist" >&2; echo "0 passed, 1 failed"; exit 1; }
real=$(readlink -f "$lib")
dir=$(dirname "$real")
abi=$(sed -n 's/^#define PMX_ABI_VERSION \([0-9]*\).*/\1/p' "$header")
ver=$(sed -n 's/^#define PMX_VERSION_STRING "\(.*\)".*/\1/p' "$header")
echo "library: $real (ABI $abi, version $ver)"

# --- file names and symlinks ---------------------------------------------------------------
[ "$(basename "$real")" = "libprovidermux.so.$ver" ] && pass \
  || fail "real file is $(basename "$real"), expected libprovidermux.so.$ver"
if [ -L "$dir/libprovidermux.so.$abi" ] && [ "$(readlink "$dir/libprovidermux.so.$abi")" = "libprovidermux.so.$ver" ]; then
  pass
else
  fail "$dir/libprovidermux.so.$abi is not a symlink to libprovidermux.so.$ver"
fi
if [ -L "$dir/libprovidermux.so" ] && [ "$(readlink -f "$dir/libprovidermux.so")" = "$real" ]; then
  pass
else
  fail "$dir/libprovidermux.so is not a symlink resolving to $real"
fi

# --- dynamic section -------------------------------------------------------------------------
dyn=$(readelf -d "$real") || { fail "readelf -d failed"; dyn=""; }
soname=$(printf '%s\n' "$dyn" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libprovidermux.so.$abi" ] && pass || fail "SONAME is '$soname', expected libprovidermux.so.$abi"
if printf '%s\n' "$dyn" | grep -Eq '\((RPATH|RUNPATH)\)'; then
  fail "has RPATH/RUNPATH: $(printf '%s\n' "$dyn" | grep -E '\((RPATH|RUNPATH)\)')"
else
  pass
fi
needed=$(printf '%s\n' "$dyn" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
echo "NEEDED: $(echo $needed)"
bad_needed=$(printf '%s\n' "$needed" | grep -E '^(libswift|libFoundation|libdispatch|libBlocksRuntime)' || true)
[ -z "$bad_needed" ] && pass || fail "needs Swift runtime libraries: $(echo $bad_needed)"
# JSON is parsed by the library's own scanner (issue 14); jansson is for the tests only.
if printf '%s\n' "$needed" | grep -q '^libjansson'; then fail "links jansson: $(echo $needed)"; else pass; fi
if command -v ldd >/dev/null 2>&1; then
  resolved=$(env -u LD_LIBRARY_PATH ldd "$real" 2>&1)
  if printf '%s\n' "$resolved" | grep -q 'not found'; then
    fail "unresolved dependencies: $(printf '%s\n' "$resolved" | grep 'not found')"
  else
    pass
  fi
  if printf '%s\n' "$resolved" | grep -Eiq '/swift[^ ]*/'; then
    fail "a dependency resolves into a Swift toolchain: $(printf '%s\n' "$resolved" | grep -Ei '/swift[^ ]*/')"
  else
    pass
  fi
fi

# --- exported symbols ------------------------------------------------------------------------
# Symbols the linker itself may define in a shared object; they are not part of the API.
linker_defined='^(_init|_fini|_edata|_end|__bss_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_|__dso_handle)$'
all_symbols=$(nm -D --defined-only "$real" | awk 'NF >= 3 { print $2, $3 }' | sed 's/@.*//')
# Lower-case nm types are LOCAL entries of .dynsym (the linker may keep some for relocations):
# they are not exported and cannot be bound to. u, v, w and i are global-ish and do count.
symbols=$(printf '%s\n' "$all_symbols" | awk '$1 ~ /^[A-Zuvwi]$/')
nlocal=$(printf '%s\n' "$all_symbols" | awk '$1 !~ /^[A-Zuvwi]$/' | grep -c . || true)
[ "$nlocal" -gt 0 ] && echo "note: $nlocal LOCAL entries in .dynsym (not exported)"
[ -n "$symbols" ] && pass || fail "nm -D --defined-only printed no global symbols"
exported=$(printf '%s\n' "$symbols" | awk '{ print $2 }' | sort -u)
stray=$(printf '%s\n' "$exported" | grep -v '^pmx_' | grep -Ev "$linker_defined" || true)
if [ -z "$stray" ]; then
  pass
else
  fail "exports $(printf '%s\n' "$stray" | wc -l) symbols not starting with pmx_, e.g.: $(printf '%s\n' "$stray" | head -10 | tr '\n' ' ')"
fi

declared=$(sed -n 's/^PMX_API .*[ *]\(pmx_[A-Za-z0-9_]*\)(.*/\1/p' "$header" | sort -u)
ndeclared=$(printf '%s\n' "$declared" | grep -c . || true)
[ "$ndeclared" -ge 20 ] && pass || fail "found only $ndeclared PMX_API functions in $header"
for fn in $declared; do
  type=$(printf '%s\n' "$symbols" | awk -v f="$fn" '$2 == f { print $1; exit }')
  case "$type" in
    T|t|W|i) pass ;;
    "") fail "$fn is declared in the header but not exported" ;;
    *) fail "$fn is exported with symbol type '$type', not as a function" ;;
  esac
done
undeclared=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported" | grep '^pmx_' || true))
[ -z "$undeclared" ] && pass || fail "exports pmx_ symbols the header does not declare: $(echo $undeclared)"

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
