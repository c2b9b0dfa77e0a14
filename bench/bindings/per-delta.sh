#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per streamed delta read through each binding's stream iterator: C++ (Router::events,
# and Router::stream's JSON events read with the header's scanner), Rust (Router::stream) and Go
# (Stream.Next), against the in-process mock provider. callgrind counts every thread, so a figure
# is the same from run to run whatever the machine's load (within the scheduling of batches).
#
# Usage: bench/bindings/per-delta.sh [PREFIX]
#   PREFIX  an installed tree (cmake --install build --prefix PREFIX); default build/stage
#           (ctest's stage_install writes it)
# Per reader it runs a 100-word and a 2,100-word answer and prints, per delta (difference / 2,000):
# the whole process, the part inside pmx_stream_next (the library's pull) and inside
# pmx_router_stream (the JSON-callback call). A toolchain that is missing (c++, cargo, go) is
# skipped with a note. Needs valgrind. Work files go to a temporary directory, removed at exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "${1:-$root/build/stage}" 2>/dev/null && pwd) || { echo "per-delta.sh: no such prefix: ${1:-$root/build/stage}" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "per-delta.sh: valgrind is required (scripts/setup.sh)" >&2; exit 2; }
lib=$prefix/lib
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmx-per-delta-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
small=100 large=2100

# count NAME CMD...: callgrind at both sizes; prints the per-delta figures.
count() {
  local name=$1; shift
  for n in $small $large; do
    if ! GOMAXPROCS=1 LD_LIBRARY_PATH="$lib" timeout 600 valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/$name-$n.out" "$@" "$n" >"$tmp/$name-$n.txt" 2>"$tmp/$name-$n.err"; then
      echo "$name: FAILED (see below)"; tail -5 "$tmp/$name-$n.err"; return
    fi
  done
  python3 - "$tmp" "$name" $small $large <<'PY'
import re, subprocess, sys
tmp, name, small, large = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def figures(n):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"{tmp}/{name}-{n}.out"],
                         capture_output=True, text=True).stdout
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", out).group(1).replace(",", ""))
    def inc(pattern):
        for line in out.splitlines():
            m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S+)", line)
            if m and re.search(pattern, m.group(2)):
                return int(m.group(1).replace(",", ""))
        return 0
    deltas = int(open(f"{tmp}/{name}-{n}.txt").read().split()[0])
    return deltas, total, inc(r"(^|:)pmx_stream_next$"), inc(r"(^|:)pmx_router_stream$")
(d1, t1, p1, s1), (d2, t2, p2, s2) = figures(small), figures(large)
k = max(d2 - d1, 1)
print(f"{name:<22} {(t2 - t1) / k:>8,.0f} {(p2 - p1) / k:>17,.0f} {(s2 - s1) / k:>19,.0f}   ({d2 - d1} deltas)")
PY
}

echo "instructions per delta (mock, callgrind, all threads), library $lib"
echo "reader                  process  in pmx_stream_next  in pmx_router_stream"
if command -v c++ >/dev/null; then
  # This checkout's headers first: its providermux.hpp is the one measured (PREFIX may hold another).
  flags=(-O2 -std=c++17 -I"$root/include" -I"$prefix/include" "$here/reader.cpp" -L"$lib" -lprovidermux -pthread)
  c++ "${flags[@]}" -o "$tmp/cxx-typed" && count "c++ events()" "$tmp/cxx-typed"
  c++ -DJSON_CALLBACK "${flags[@]}" -o "$tmp/cxx-json" && count "c++ stream() + json::" "$tmp/cxx-json"
else
  echo "c++: not found, skipped"
fi
cargo=$(command -v cargo || ls "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" /root/.cargo/bin/cargo 2>/dev/null | head -1)
if [ -n "$cargo" ] && "$cargo" --version >/dev/null 2>&1; then
  mkdir -p "$tmp/rust" && (cd "$root/bindings/rust" && tar --exclude=./target -cf - .) | tar -xf - -C "$tmp/rust"
  cp "$here/reader.rs" "$tmp/rust/providermux/examples/reader.rs"
  if (cd "$tmp/rust" && PROVIDERMUX_LIB_DIR="$lib" CARGO_TARGET_DIR="$tmp/rust-target" CARGO_NET_OFFLINE=true \
        timeout 300 "$cargo" --config ci/debian-registry.toml build --offline --release -p providermux \
        --example reader >"$tmp/rust-build.log" 2>&1); then
    count "rust stream()" "$tmp/rust-target/release/examples/reader"
  else
    echo "rust: build FAILED"; tail -5 "$tmp/rust-build.log"
  fi
else
  echo "rust: cargo not found, skipped"
fi
if command -v go >/dev/null; then
  mkdir -p "$tmp/go" && (cd "$root/bindings/go" && tar --exclude=./.cache -cf - .) | tar -xf - -C "$tmp/go"
  mkdir -p "$tmp/go/reader" && cp "$here/reader.go" "$tmp/go/reader/main.go"
  if (cd "$tmp/go" && PKG_CONFIG_PATH="$lib/pkgconfig" CGO_LDFLAGS="-Wl,-rpath,$lib" GOFLAGS=-mod=mod \
        GOCACHE="$root/bindings/go/.cache/gocache" GOPATH="$tmp/gopath" GOPROXY=off GOTOOLCHAIN=local \
        timeout 300 go build -o "$tmp/go-reader" ./reader >"$tmp/go-build.log" 2>&1); then
    count "go Stream.Next (1 P)" "$tmp/go-reader"
  else
    echo "go: build FAILED"; tail -5 "$tmp/go-build.log"
  fi
else
  echo "go: not found, skipped"
fi
