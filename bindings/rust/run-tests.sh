#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and tests the Rust bindings (the workspace: providermux-sys, providermux and the
# rpath-consumer application) against an installed libprovidermux.
#
#   bindings/rust/run-tests.sh PREFIX        (e.g. /work/prebuilt or /usr/local)
#
# PREFIX/lib/pkgconfig/providermux.pc is used through pkg-config; when pkg-config cannot
# resolve it, PROVIDERMUX_LIB_DIR=PREFIX/lib is used instead. Offline only: serde and
# serde_json come from Debian's packaged crates (/usr/share/cargo/registry, installed by
# scripts/setup.sh) through `--config ci/debian-registry.toml`, given on the command line here
# so that nobody else's build is redirected. Output goes to bindings/rust/target (git-ignored).
# Besides `cargo test`: the example, an application binary started with no LD_LIBRARY_PATH
# (the rpath), and `cargo package` of both crates with no warning.
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
# The binaries must find the library through their rpath alone.
unset LD_LIBRARY_PATH

registry=/usr/share/cargo/registry
for crate in serde serde_derive serde_json; do
    if ! ls -d "$registry/$crate"-1.* >/dev/null 2>&1; then
        echo "rust binding: $registry has no $crate (apt-get install librust-serde-dev" \
             "librust-serde-derive-dev librust-serde-json-dev, or run scripts/setup.sh)"
        echo "rust binding: FAILED"
        exit 1
    fi
done
cargo_cmd=(cargo --config "$HERE/ci/debian-registry.toml")

cd "$HERE" || exit 2
failed=0
log="$CARGO_TARGET_DIR/run-tests.log"
mkdir -p "$CARGO_TARGET_DIR"

echo "== $cargo_version, library from $PREFIX"
echo "== cargo build --offline --workspace --all-targets"
timeout 300 "${cargo_cmd[@]}" build --offline --workspace --all-targets > "$log" 2>&1
rc=$?
grep -E '^(warning|error)' "$log"
if [ $rc -ne 0 ]; then
    [ $rc -eq 124 ] && echo "rust binding: cargo build TIMED OUT"
    echo "rust binding: build FAILED (exit $rc); last lines of $log:"
    tail -40 "$log"
    exit 1
fi

echo "== cargo test --offline --workspace -- --test-threads=4"
test_out="$CARGO_TARGET_DIR/test-output.txt"
timeout 300 "${cargo_cmd[@]}" test --offline --workspace -- --test-threads=4 > "$test_out" 2>&1
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

echo "== an application's binary runs without LD_LIBRARY_PATH (rpath from DEP_PROVIDERMUX_RPATH)"
app="$CARGO_TARGET_DIR/debug/rpath-consumer"
libdir=$(cd "$PREFIX/lib" && pwd -P)
runpath=$(readelf -d "$app" 2>/dev/null | sed -n 's/.*R\(UN\)\{0,1\}PATH.*\[\(.*\)\]/\2/p')
app_out=$(env -u LD_LIBRARY_PATH timeout 30 "$app" 2>&1)
app_rc=$?
if [ $app_rc -eq 0 ] && [ "$app_out" = "mock: from an application" ] && [[ ":$runpath:" == *":$libdir:"* ]]; then
    echo "rpath-consumer: ok (RUNPATH $runpath)"
else
    echo "rpath-consumer: FAILED (exit $app_rc, RUNPATH '$runpath', want $libdir; output: $app_out)"
    failed=1
fi

echo "== cargo package (both crates; no warning allowed)"
pkg_log="$CARGO_TARGET_DIR/package.log"
# --registry crates-io: package for crates.io although the CI config replaces its source;
# --exclude-lockfile: libraries publish no lock file, and the workspace's own providermux-sys is
# not in the replacement directory to lock against; --no-verify: the verify build would need it.
timeout 120 "${cargo_cmd[@]}" package --offline --registry crates-io --workspace --exclude rpath-consumer \
    --allow-dirty --no-verify --exclude-lockfile > "$pkg_log" 2>&1
pkg_rc=$?
if [ $pkg_rc -ne 0 ] || grep -q '^warning' "$pkg_log"; then
    echo "cargo package: FAILED (exit $pkg_rc)"
    cat "$pkg_log"
    failed=1
else
    grep -E 'Packaged' "$pkg_log"
    # The CI-only registry replacement must not travel with the crates.
    for crate in "$CARGO_TARGET_DIR"/package/providermux-*.crate; do
        if tar -tzf "$crate" | grep -q '\.cargo/' || tar -xzOf "$crate" --wildcards '*/Cargo.toml' | grep -q 'debian-packages\|replace-with\|registry ='; then
            echo "cargo package: $crate carries a registry replacement"
            failed=1
        fi
    done
    echo "cargo package: ok, no warnings"
fi

echo "== without ci/debian-registry.toml the crates resolve serde from crates.io (a user's build)"
# Offline this either resolves from a crates.io cache or fails naming the crates.io index:
# both say where a build without our CI config looks.
meta=$(timeout 60 cargo metadata --format-version 1 --offline 2>&1)
if [[ "$meta" == *crates.io* ]]; then
    echo "default source: crates.io"
else
    echo "default source: FAILED, cargo metadata did not name crates.io: $(echo "$meta" | head -3)"
    failed=1
fi

echo "== summary: rust binding: ${passed:-?} tests passed, ${nfailed:-?} failed, example $([ $example_rc -eq 0 ] && echo ok || echo failed), rpath-consumer $([ $app_rc -eq 0 ] && echo ok || echo failed)"
if [ $failed -ne 0 ]; then
    echo "rust binding: FAILED"
    exit 1
fi
echo "rust binding: OK"
