#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the Go binding's whole suite against an installed libprovidermux prefix:
#   bindings/go/run-tests.sh PREFIX        (e.g. /work/prebuilt or /usr/local)
# Installs golang-go with apt only when `go` is missing. No network for Go itself
# (GOPROXY=off, GOTOOLCHAIN=local); caches live under bindings/go/.cache (git-ignored).
set -u -o pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
PREFIX=$(cd "$1" && pwd) || { echo "run-tests.sh: no such prefix: $1" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"

if ! command -v go >/dev/null 2>&1; then
    echo "== go not found: installing golang-go with apt"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    if ! timeout 600 $SUDO apt-get install -y golang-go >/dev/null; then
        timeout 300 $SUDO apt-get update >/dev/null && timeout 600 $SUDO apt-get install -y golang-go >/dev/null
    fi
    command -v go >/dev/null 2>&1 || { echo "run-tests.sh: could not install go" >&2; exit 1; }
fi
for tool in pkg-config python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run-tests.sh: $tool is required" >&2; exit 1; }
done
if [ ! -f "$PREFIX/lib/pkgconfig/providermux.pc" ]; then
    echo "run-tests.sh: $PREFIX/lib/pkgconfig/providermux.pc not found" >&2
    exit 1
fi

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
# No CGO_LDFLAGS and no LD_LIBRARY_PATH: the binaries find the library through the rpath that
# providermux.pc's Libs carries (-Wl,-rpath,${libdir}), as a user's build does.
unset CGO_LDFLAGS LD_LIBRARY_PATH
export GOFLAGS=-mod=mod
export GOCACHE="$HERE/.cache/gocache"
export GOPATH="$HERE/.cache/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOPROXY=off
export GOTOOLCHAIN=local
export GOTELEMETRY=off

echo "== $(go version); libprovidermux $(pkg-config --modversion providermux) from $PREFIX"

mkdir -p "$HERE/.cache"
# Go's build cache keys cgo packages on CGO_* variables but not on pkg-config's output: a
# package built against another providermux.pc (another prefix, no rpath) would be reused
# with that file's link flags. Start over whenever the flags changed.
pc_flags=$(pkg-config --cflags --libs providermux)
if [ "$(cat "$HERE/.cache/pkg-config-flags" 2>/dev/null)" != "$pc_flags" ]; then
    go clean -cache
    printf '%s' "$pc_flags" >"$HERE/.cache/pkg-config-flags"
fi
failures=0
run_step() {  # run_step NAME COMMAND...: output to .cache/NAME.log, shown on failure
    local name=$1; shift
    local log="$HERE/.cache/$name.log"
    echo "== $name: $*"
    if "$@" >"$log" 2>&1; then
        echo "-- $name: ok"
        return 0
    fi
    cat "$log"
    echo "-- $name: FAILED"
    failures=$((failures + 1))
    return 1
}

run_step vet timeout 300 go vet ./...

run_step test timeout 240 go test -count=1 -timeout 150s -v ./...
grep -E '^(--- (PASS|FAIL|SKIP)|ok |FAIL)' "$HERE/.cache/test.log" || true
passed=$(grep -c '^--- PASS' "$HERE/.cache/test.log" || true)
failed=$(grep -c '^--- FAIL' "$HERE/.cache/test.log" || true)
skipped=$(grep -c '^--- SKIP' "$HERE/.cache/test.log" || true)

if run_step example timeout 120 go run ./example ../../examples/router.json "hello from go"; then
    if ! grep -q 'mock: hello from go' "$HERE/.cache/example.log"; then
        cat "$HERE/.cache/example.log"
        echo "-- example: FAILED (no mock answer in the output)"
        failures=$((failures + 1))
    fi
fi

# Another repository's module depending on this one (a replace directive stands in for the
# `bindings/go/vX.Y.Z` tag: no network), built with only PKG_CONFIG_PATH and run with no
# LD_LIBRARY_PATH: the library is found through the rpath from providermux.pc.
outside="$HERE/.cache/outside"
rm -rf "$outside" && mkdir -p "$outside"
cp "$HERE/testdata/outside/main.go" "$outside/main.go"
cat >"$outside/go.mod" <<EOF
module example.com/outside

go 1.19

require github.com/providermux/libprovidermux/bindings/go v0.0.0

replace github.com/providermux/libprovidermux/bindings/go => $HERE
EOF
if run_step outside_build sh -c "cd '$outside' && timeout 300 go build -o outside ."; then
    if run_step outside_run env -u LD_LIBRARY_PATH -u LD_PRELOAD timeout 60 "$outside/outside"; then
        if ! grep -q '^mock: from outside' "$HERE/.cache/outside_run.log"; then
            cat "$HERE/.cache/outside_run.log"
            echo "-- outside_run: FAILED (no mock answer in the output)"
            failures=$((failures + 1))
        fi
    fi
fi

echo "== Go binding: tests passed $passed, failed $failed, skipped $skipped; failed steps: $failures"
[ "$failures" = 0 ] && [ "$failed" = 0 ]
