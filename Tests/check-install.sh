#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs a configured+built tree into a temporary prefix and builds tiny consumers against it:
# one through pkg-config, then CMake projects using find_package(providermux) and the imported
# target providermux::providermux, in C and in C++ (providermux.hpp), run against the mock
# provider (the second one after moving the prefix elsewhere: the package must be relocatable).
# Usage: Tests/check-install.sh <cmake-build-dir>
# Environment: CMAKE_COMMAND (default cmake), CC (default cc), CXX (default c++),
# CMAKE_GENERATOR (optional, for the consumer projects).
set -u
build=${1:?usage: check-install.sh <cmake-build-dir>}
cmake_cmd=${CMAKE_COMMAND:-cmake}
cc=${CC:-cc}
cxx=${CXX:-c++}
here=$(cd "$(dirname "$0")/.." && pwd)
header_src=$here/include/providermux.h
hpp_src=$here/include/providermux.hpp
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
[ -f "$prefix/include/providermux.hpp" ] && cmp -s "$prefix/include/providermux.hpp" "$hpp_src" && pass \
  || fail "include/providermux.hpp not installed (or differs from the source)"
headers=$(cd "$prefix/include" 2>/dev/null && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
[ "$headers" = "providermux.h providermux.hpp " ] && pass \
  || fail "installed headers are '$headers', expected exactly providermux.h providermux.hpp"
cfgdir=$libdir/cmake/providermux
[ -f "$cfgdir/providermuxConfig.cmake" ] && [ -f "$cfgdir/providermuxConfigVersion.cmake" ] && pass \
  || fail "no CMake package config in ${cfgdir#$prefix/} (providermuxConfig.cmake, providermuxConfigVersion.cmake)"

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
# The library parses JSON itself since issue 14: libcurl is its only dependency beyond libc.
if pkg-config --print-requires-private providermux | grep -q libcurl \
   && ! pkg-config --print-requires-private providermux | grep -q jansson; then
  pass
else
  fail "Requires.private should name libcurl and not jansson: $(pkg-config --print-requires-private providermux | tr '\n' ' ')"
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
  # pkg-config's Libs carry the rpath: the consumer also starts with no LD_LIBRARY_PATH.
  out=$(cd "$tmp" && env -u LD_PRELOAD -u LD_LIBRARY_PATH ./consumer 2>&1)
  [ "$out" = "$ver" ] && pass || fail "consumer without LD_LIBRARY_PATH printed '$out', expected $ver (no rpath in: $flags)"
  # It really loaded the installed copy.
  maps=$(cd "$tmp" && LD_LIBRARY_PATH="$libdir" LD_DEBUG=libs ./consumer 2>&1 | grep -m1 'calling init: .*libprovidermux' || true)
  case "$maps" in
    *"$libdir/"*|"") pass ;;
    *) fail "consumer loaded another copy: $maps" ;;
  esac
else
  fail "the consumer does not compile/link with: $flags"
fi

# ------------------------------------------------------------------------------------------
# CMake consumers: find_package(providermux) + providermux::providermux
# ------------------------------------------------------------------------------------------
# cmake_consumer NAME LANG SOURCE-FILE PREFIX [VERSION]: configures and builds a project whose
# CMakeLists.txt finds the package (VERSION requested when given) and links `app` against the
# imported target. Prints the configure+build log on failure; returns non-zero on failure.
cmake_consumer() {
  local name=$1 lang=$2 source=$3 use_prefix=$4 version=${5:-}
  local src=$tmp/$name-src bld=$tmp/$name-build std_line
  mkdir -p "$src"
  cp "$source" "$src/"
  if [ "$lang" = C ]; then std_line="set(CMAKE_C_STANDARD 99)"; else std_line="set(CMAKE_CXX_STANDARD 17)"; fi
  cat > "$src/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(pmx_consumer_$name LANGUAGES $lang)
$std_line
set(CMAKE_${lang}_STANDARD_REQUIRED ON)
set(CMAKE_${lang}_EXTENSIONS OFF)
find_package(providermux $version REQUIRED)
get_target_property(_loc providermux::providermux IMPORTED_LOCATION)
get_target_property(_soname providermux::providermux IMPORTED_SONAME)
get_target_property(_inc providermux::providermux INTERFACE_INCLUDE_DIRECTORIES)
message(STATUS "pmx-version: \${providermux_VERSION}")
message(STATUS "pmx-location: \${_loc}")
message(STATUS "pmx-soname: \${_soname}")
message(STATUS "pmx-include: \${_inc}")
add_executable(app $(basename "$source"))
target_compile_options(app PRIVATE -Wall -Wextra -Wpedantic -Werror)
target_link_libraries(app PRIVATE providermux::providermux)
CMAKE
  if "$cmake_cmd" -S "$src" -B "$bld" -DCMAKE_PREFIX_PATH="$use_prefix" \
       -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" > "$tmp/$name-configure.log" 2>&1 \
     && "$cmake_cmd" --build "$bld" > "$tmp/$name-build.log" 2>&1; then
    return 0
  fi
  cat "$tmp/$name-configure.log" "$tmp/$name-build.log" >&2 2>/dev/null
  return 1
}

# check_cmake_consumer NAME LANG SOURCE PREFIX EXPECTED-OUTPUT
check_cmake_consumer() {
  local name=$1 lang=$2 source=$3 use_prefix=$4 expected=$5 log loc out needed
  if ! cmake_consumer "$name" "$lang" "$source" "$use_prefix"; then
    fail "$name: the find_package(providermux) consumer does not configure/build"
    return
  fi
  pass
  log=$tmp/$name-configure.log
  grep -q "pmx-version: $ver\$" "$log" && pass || fail "$name: providermux_VERSION is not $ver"
  loc=$(sed -n 's/.*pmx-location: //p' "$log")
  [ "$loc" = "$use_prefix/$rel_libdir/libprovidermux.so.$ver" ] && pass \
    || fail "$name: IMPORTED_LOCATION is '$loc', expected $use_prefix/$rel_libdir/libprovidermux.so.$ver"
  grep -q "pmx-soname: libprovidermux.so.$abi\$" "$log" && pass || fail "$name: IMPORTED_SONAME is not libprovidermux.so.$abi"
  grep -q "pmx-include: $use_prefix/include\$" "$log" && pass \
    || fail "$name: INTERFACE_INCLUDE_DIRECTORIES is not $use_prefix/include: $(grep pmx-include "$log")"
  needed=$(readelf -d "$tmp/$name-build/app" | sed -n 's/.*(NEEDED).*\[\(libprovidermux[^]]*\)\].*/\1/p')
  [ "$needed" = "libprovidermux.so.$abi" ] && pass || fail "$name: app NEEDs '$needed', expected libprovidermux.so.$abi"
  out=$(cd "$tmp" && env -u LD_PRELOAD LD_LIBRARY_PATH="$use_prefix/$rel_libdir" timeout 60 "$tmp/$name-build/app" 2>&1)
  [ "$out" = "$expected" ] && pass || fail "$name: app printed '$out', expected '$expected'"
}

cat > "$tmp/consumer_cmake.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <providermux.h>

int main(void)
{
    pmx_router *router = NULL;
    pmx_error err;
    char *out = NULL;
    pmx_status rc = pmx_router_new(&router, "{\"providers\":[{\"name\":\"m\",\"type\":\"mock\"}]}", &err);
    if (rc != PMX_OK) {
        fprintf(stderr, "pmx_router_new: %s: %s\n", pmx_status_name(rc), err.message);
        return 1;
    }
    rc = pmx_router_complete(&out, router,
                             "{\"messages\":[{\"role\":\"user\",\"content\":\"hello from C\"}]}", &err);
    if (rc != PMX_OK || strstr(out, "\"content\":\"mock: hello from C\"") == NULL) {
        fprintf(stderr, "pmx_router_complete: %s: %s %s\n", pmx_status_name(rc), err.message, out ? out : "");
        pmx_string_free(out);
        pmx_router_free(router);
        return 1;
    }
    printf("mock: hello from C\n");
    pmx_string_free(out);
    pmx_router_free(router);
    return 0;
}
C

cat > "$tmp/consumer_cmake.cpp" <<'CXX'
#include <providermux.hpp>

#include <iostream>
#include <string>
#include <string_view>

int main()
{
    try {
        providermux::Router bad(R"({"providers":[{"name":"m","type":"mock","nope":1}]})");
        std::cerr << "a bad config did not throw\n";
        return 1;
    } catch (const providermux::Error &e) {
        if (e.status() != PMX_ERR_CONFIG || e.message().find("nope") == std::string::npos) {
            std::cerr << "unexpected error: " << e.what() << "\n";
            return 1;
        }
    }
    try {
        providermux::Router router(R"({"providers":[{"name":"m","type":"mock"}]})");
        std::string text;
        const std::string response = router.stream(
            R"({"messages":[{"role":"user","content":"hello from C++"}]})",
            [&text](std::string_view event) {
                if (providermux::json::string_member(event, "type") == "delta")
                    text += providermux::json::string_member(event, "content").value_or("");
            });
        if (providermux::json::string_member(response, "provider").value_or("") != "m") {
            std::cerr << "unexpected response: " << response << "\n";
            return 1;
        }
        std::cout << text << std::endl;
        return providermux::version() == PMX_VERSION_STRING ? 0 : 1;
    } catch (const std::exception &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
CXX

rel_libdir=${libdir#"$prefix"/}
check_cmake_consumer cmake_c C "$tmp/consumer_cmake.c" "$prefix" "mock: hello from C"

major=$(echo "$ver" | cut -d. -f1)
minor=$(echo "$ver" | cut -d. -f2)
# SameMajorVersion: MAJOR.MINOR is found, a later minor or the next major is not.
if cmake_consumer version_ok C "$tmp/consumer_cmake.c" "$prefix" "$major.$minor" >/dev/null 2>&1; then pass
else fail "find_package(providermux $major.$minor) failed"; fi
for wanted in "$major.$((minor + 1))" "$((major + 1)).0"; do
  if cmake_consumer "version_$wanted" C "$tmp/consumer_cmake.c" "$prefix" "$wanted" >/dev/null 2>&1; then
    fail "find_package(providermux $wanted) accepted version $ver"
  else
    pass
  fi
done

# The CLI: bin/pmx-chat runs from the prefix with no LD_LIBRARY_PATH (RUNPATH $ORIGIN/../lib)
# and loads the installed library, not the build tree's.
check_cli() {  # <prefix>
  local bin=$1/bin/pmx-chat out
  [ -x "$bin" ] || { fail "bin/pmx-chat not installed in $1"; return; }
  pass
  out=$(env -u LD_LIBRARY_PATH "$bin" --version 2>&1)
  [ "$out" = "pmx-chat $ver (libprovidermux $ver)" ] && pass || fail "pmx-chat --version: '$out'"
  printf '{"providers":[{"name":"m","type":"mock"}]}' > "$tmp/cli-mock.json"
  out=$(env -u LD_LIBRARY_PATH "$bin" -c "$tmp/cli-mock.json" hello from the prefix 2>/dev/null)
  [ "$out" = "mock: hello from the prefix" ] && pass || fail "installed pmx-chat answered '$out'"
  out=$(env -u LD_LIBRARY_PATH ldd "$bin" 2>&1 | grep libprovidermux)
  case "$out" in
    *"=> $(readlink -f "$1")/"*) pass ;;
    *) fail "installed pmx-chat does not load the installed library: $out" ;;
  esac
}
check_cli "$prefix"

# Relocatable: move the whole prefix and build the C++ consumer against the new place.
moved=$tmp/moved/elsewhere
mkdir -p "$(dirname "$moved")"
if mv "$prefix" "$moved"; then
  pass
  check_cmake_consumer cmake_cxx CXX "$tmp/consumer_cmake.cpp" "$moved" "mock: hello from C++"
  check_cli "$moved"
else
  fail "cannot move $prefix"
fi
finish
