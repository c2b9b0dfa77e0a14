#!/usr/bin/env bash
# Builds and tests the Rust binding against an installed libprovidermux.
#
#   bindings/rust/run-tests.sh PREFIX        (e.g. /work/prebuilt or /usr/local)
#
# PREFIX/lib/pkgconfig/providermux.pc is used through pkg-config; when pkg-config cannot
# resolve it, PROVIDERMUX_LIB_DIR=PREFIX/lib is used instead. Offline only (no registry
# access: the crate has no dependencies). Output goes to bindings/rust/target (git-ignored).
# Without cargo the suite is skipped (exit 0, "skipped").
set -u -o pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
PREFIX=$(cd "$1" 2>/dev/null && pwd) || { echo "run-tests.sh: no such prefix: $1" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

if ! command -v cargo >/dev/null 2>&1; then
    for dir in "${CARGO_HOME:-$HOME/.cargo}/bin" /root/.cargo/bin; do
        if [ -x "$dir/cargo" ]; then
            PATH="$dir:$PATH"
            break
        fi
    done
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "rust binding: cargo not found (not on PATH, not in ~/.cargo/bin or /root/.cargo/bin)."
    echo "rust binding: skipped"
    exit 0
fi
export PATH
# A rustup proxy needs its toolchains: when HOME is not the one rustup was installed under
# (e.g. a CI runner with another HOME), point RUSTUP_HOME at the .rustup next to .cargo.
if ! cargo --version >/dev/null 2>&1 && [ -z "${RUSTUP_HOME:-}" ]; then
    guess="$(dirname "$(command -v cargo)")/../../.rustup"
    [ -d "$guess" ] && export RUSTUP_HOME="$(cd "$guess" && pwd)"
fi
if ! cargo_version=$(cargo --version 2>/dev/null); then
    echo "rust binding: $(command -v cargo) does not run (no toolchain installed?):"
    cargo --version 2>&1 | head -3
    echo "rust binding: skipped"
    exit 0
fi

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
if ! command -v "${PKG_CONFIG:-pkg-config}" >/dev/null 2>&1 || ! "${PKG_CONFIG:-pkg-config}" --exists providermux 2>/dev/null; then
    echo "rust binding: pkg-config cannot resolve providermux; using PROVIDERMUX_LIB_DIR=$PREFIX/lib"
    export PROVIDERMUX_LIB_DIR="$PREFIX/lib"
fi
export CARGO_TARGET_DIR="$HERE/target"
export CARGO_NET_OFFLINE=true
export CARGO_TERM_COLOR=never
unset RUSTFLAGS

cd "$HERE" || exit 2
failed=0
log="$CARGO_TARGET_DIR/run-tests.log"
mkdir -p "$CARGO_TARGET_DIR"

echo "== $cargo_version, library from $PREFIX"
echo "== cargo build --offline --all-targets"
timeout 150 cargo build --offline --all-targets > "$log" 2>&1
rc=$?
grep -E '^(warning|error)' "$log"
if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "rust binding: cargo build TIMED OUT"
    echo "rust binding: build FAILED (exit $rc); last lines of $log:"
    tail -40 "$log"
    exit 1
fi

echo "== cargo test --offline -- --test-threads=4"
test_out="$CARGO_TARGET_DIR/test-output.txt"
timeout 150 cargo test --offline -- --test-threads=4 > "$test_out" 2>&1
rc=$?
grep -E '^test .* \.\.\. |^test result:' "$test_out"
if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "rust binding: cargo test TIMED OUT"
    echo "---- failures ----"
    sed -n '/^failures:/,$p' "$test_out" | head -120
    failed=1
fi
passed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^passed/) n += $i } END { print n + 0 }' "$test_out")
nfailed=$(awk '/^test result:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) n += $i } END { print n + 0 }' "$test_out")

echo "== example: chat with the mock provider"
example_out=$(timeout 30 "$CARGO_TARGET_DIR/debug/examples/chat" "$REPO/examples/router.json" \
    -m mock/any "hello from the rust example" 2>/dev/null)
example_rc=$?
if [ $example_rc -eq 0 ] && [ "$example_out" = "mock: hello from the rust example" ]; then
    echo "example chat: ok ($example_out)"
else
    echo "example chat: FAILED (exit $example_rc, output: $example_out)"
    failed=1
fi

echo "== summary: rust binding: ${passed:-?} tests passed, ${nfailed:-?} failed, example $([ $example_rc -eq 0 ] && echo ok || echo failed)"
if [ $failed -ne 0 ]; then
    echo "rust binding: FAILED"
    exit 1
fi
echo "rust binding: OK"
