#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sanitizer and valgrind runs over the test suites (docs/SANITIZERS.md has the figures).
#
# Usage: scripts/sanitize.sh [asan|tsan|ubsan|valgrind|all] [--quick]
#   asan      swift test --sanitize=address, LeakSanitizer on (Tests/sanitizers/lsan.supp)
#   tsan      swift test --sanitize=thread (Tests/sanitizers/tsan.supp), after checking that
#             Sources/ uses Locked, not Synchronization.Mutex (which TSan cannot see through)
#   ubsan     swift test with the C shims built with -fsanitize=undefined (SwiftPM's
#             --sanitize=undefined is refused on Linux), then the C/C++ test programs built
#             with -fsanitize=undefined against the release .so (build dir build-ubsan/)
#   valgrind  every C/C++ test program of ctest under memcheck against the release .so:
#             0 bytes definitely lost and 0 errors (Tests/sanitizers/valgrind.supp)
#   all       all four, in that order (the default)
#   --quick   the subset CI runs (ctest sanitize_valgrind, sanitize_tsan): valgrind without
#             origin tracking, and tsan; asan and ubsan are skipped
#
# Env: PMX_BUILD_DIR          CMake build dir for valgrind (default build/)
#      PMX_SANITIZE_NO_BUILD=1 skip scripts/setup.sh and the CMake build of that dir (ctest
#                              sets it: both just ran); the sanitized Swift builds still run
#      PMX_SANITIZE_FILTER     passed to `swift test --filter` (asan, tsan, ubsan)
# Each mode prints one line "sanitize MODE: ..." (tests run, findings, suppressions, time);
# the exit status is non-zero if any mode had a finding. Logs: .build-sanitize/<mode>/.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

mode=all
quick=0
for a in "$@"; do
  case $a in
    asan|tsan|ubsan|valgrind|all) mode=$a ;;
    --quick) quick=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown argument '$a' (asan|tsan|ubsan|valgrind|all [--quick])" >&2; exit 2 ;;
  esac
done

if [ "${PMX_SANITIZE_NO_BUILD:-0}" != 1 ]; then
  "$here/scripts/setup.sh" || exit 1
fi
export SWIFT_BACKTRACE=enable=no
logs="$here/.build-sanitize"
supp="$here/Tests/sanitizers"
build_dir=${PMX_BUILD_DIR:-$here/build}
clang_rt=$(dirname "$(dirname "$(command -v swift)")")/lib/clang
clang_rt=$(ls -d "$clang_rt"/*/lib/linux 2>/dev/null | head -1)
status=0
summaries=()

say() { echo "== sanitize $*"; }
summary() { summaries+=("$1"); echo "$1"; }
secs_since() { echo $(( $(date +%s) - $1 )); }
# "Test run with 555 tests in 53 suites passed" -> 555 (Swift Testing; the XCTest pass is empty)
tests_run() { sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .*/\1/p' "$1" | tail -1; }
filter_args() { [ -n "${PMX_SANITIZE_FILTER:-}" ] && printf '%s\n' --filter "$PMX_SANITIZE_FILTER"; }

# swift_sanitized NAME SCRATCH LOG_DIR ENV... -- BUILD_FLAGS...: build the tests, then run them.
# Sets: build_s run_s rc n_tests
swift_sanitized() {
  local name=$1 scratch=$2 dir=$3; shift 3
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  mkdir -p "$dir"
  local t0; t0=$(date +%s)
  say "$name: building the tests (swift build --build-tests $*, --scratch-path $scratch)"
  if ! swift build --build-tests --scratch-path "$scratch" "$@" >"$dir/build.log" 2>&1; then
    tail -20 "$dir/build.log"
    build_s=$(secs_since "$t0"); run_s=0; rc=1; n_tests=0
    return 1
  fi
  build_s=$(secs_since "$t0")
  t0=$(date +%s)
  say "$name: running swift test (log $dir/test.log)"
  mapfile -t fa < <(filter_args)
  env "${envs[@]}" swift test --skip-build --scratch-path "$scratch" "$@" "${fa[@]}" >"$dir/test.log" 2>&1
  rc=$?
  run_s=$(secs_since "$t0")
  n_tests=$(tests_run "$dir/test.log"); n_tests=${n_tests:-0}
  grep -E '^✘|: error: ' "$dir/test.log" | head -20
  return 0
}

run_asan() {
  local dir="$logs/asan"
  swift_sanitized asan "$here/.build-asan" "$dir" \
    "ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:halt_on_error=1" \
    "LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=1" \
    -- --sanitize=address
  local errors=0 leaks=0 used=0
  if [ -f "$dir/test.log" ]; then
    errors=$(grep -c 'ERROR: AddressSanitizer' "$dir/test.log")
    leaks=$(grep -c 'ERROR: LeakSanitizer' "$dir/test.log")
    # "Suppressions used:" table rows: "      6        368 libXCTest.so"
    used=$(awk '/^Suppressions used:/{t=1;next} t&&/^-+$/{t=0} t&&$1~/^[0-9]+$/{n+=$1} END{print n+0}' "$dir/test.log")
  fi
  local findings=$((errors + leaks + (rc != 0 && errors + leaks == 0 ? 1 : 0)))
  summary "sanitize asan: $n_tests tests, $errors ASan errors, $leaks LSan leak reports, rc $rc; $findings findings; $(grep -c '^leak:' "$supp/lsan.supp") suppressions ($used allocations suppressed); build ${build_s}s, run ${run_s}s"
  [ "$findings" = 0 ] || status=1
}

lint_locks() {
  # Synchronization.Mutex hands over inside the kernel when contended: TSan reports races that
  # are not there and would bury real ones. The library's lock is Locked (Support/Locks.swift).
  local hits
  hits=$(grep -rnE '(^|[^A-Za-z_])Mutex[[:space:]]*[<(]' "$here/Sources" || true)
  if [ -n "$hits" ]; then
    echo "$hits"
    echo "sanitize tsan: Sources/ uses Synchronization.Mutex: use Locked (Support/Locks.swift), see docs/SANITIZERS.md" >&2
    return 1
  fi
}

run_tsan() {
  local dir="$logs/tsan" lint=0
  lint_locks || lint=1
  swift_sanitized tsan "$here/.build-tsan" "$dir" \
    "TSAN_OPTIONS=suppressions=$supp/tsan.supp:halt_on_error=0:second_deadlock_stack=1:print_suppressions=1" \
    -- --sanitize=thread
  local races=0 used=0
  if [ -f "$dir/test.log" ]; then
    races=$(grep -c 'WARNING: ThreadSanitizer' "$dir/test.log")
    used=$(sed -n 's/.*ThreadSanitizer: Matched \([0-9]*\) suppressions.*/\1/p' "$dir/test.log" | awk '{n+=$1} END{print n+0}')
  fi
  local findings=$((races + lint + (rc != 0 && races == 0 ? 1 : 0)))
  summary "sanitize tsan: $n_tests tests, $races TSan reports, lock lint $([ $lint = 0 ] && echo ok || echo FAILED), rc $rc; $findings findings; $(grep -cE '^(race|thread|mutex|signal|deadlock|called_from_lib):' "$supp/tsan.supp") suppressions ($used matched); build ${build_s}s, run ${run_s}s"
  [ "$findings" = 0 ] || status=1
}

run_ubsan() {
  local dir="$logs/ubsan"
  [ -n "$clang_rt" ] && [ -f "$clang_rt/libclang_rt.ubsan_standalone-x86_64.a" ] ||
    { summary "sanitize ubsan: no libclang_rt.ubsan_standalone in the Swift toolchain; 1 finding"; status=1; return; }
  # 1. Swift side. `swift build --sanitize=undefined` stops at once: "error: unsupported option
  #    '-sanitize=undefined' for target 'x86_64-unknown-linux-gnu'" (swiftc has no UBSan for
  #    Swift code; Swift traps overflow and out-of-bounds itself). The C in the package is the
  #    static inline shims in Sources/CCurl and Sources/CJansson, compiled by the clang inside
  #    swiftc: -Xcc instruments them, and the UBSan runtime is linked in by hand.
  swift_sanitized ubsan "$here/.build-ubsan" "$dir" \
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" \
    -- -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined \
       -Xlinker "$clang_rt/libclang_rt.ubsan_standalone-x86_64.a"
  local swift_rc=$rc swift_tests=$n_tests swift_build=$build_s swift_run=$run_s swift_ub=0
  [ -f "$dir/test.log" ] && swift_ub=$(grep -c 'runtime error:' "$dir/test.log")

  # 2. C/C++ side: the C and C++ test programs, examples and the C++ wrapper header, built
  #    with -fsanitize=undefined in their own build dir, against the release .so.
  local cdir="$here/build-ubsan" flags="-fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
  local t0; t0=$(date +%s)
  say "ubsan: C/C++ tests with $flags (build dir $cdir)"
  local c_rc=0 c_ub=0 c_tests=0
  { cmake -S "$here" -B "$cdir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=undefined" >"$dir/c-build.log" 2>&1 &&
    cmake --build "$cdir" >>"$dir/c-build.log" 2>&1; } || { c_rc=1; tail -20 "$dir/c-build.log"; }
  if [ "$c_rc" = 0 ]; then
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      ctest --test-dir "$cdir" -R '^(c_|cxx_|header_cxx)' --output-on-failure >"$dir/c-test.log" 2>&1 || c_rc=$?
    c_ub=$(grep -c 'runtime error:' "$dir/c-test.log")
    c_tests=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$dir/c-test.log" | tail -1)
    grep -E 'runtime error:|\*\*\*Failed|Failed  ' "$dir/c-test.log" | head -20
  fi
  local c_s; c_s=$(secs_since "$t0")
  local findings=$((swift_ub + c_ub + (swift_rc != 0 && swift_ub == 0 ? 1 : 0) + (c_rc != 0 && c_ub == 0 ? 1 : 0)))
  summary "sanitize ubsan: $swift_tests Swift tests (C shims instrumented) + ${c_tests:-0} C/C++ ctest programs, $((swift_ub + c_ub)) UBSan reports, rc $swift_rc/$c_rc; $findings findings; 0 suppressions; swift build ${swift_build}s, run ${swift_run}s, C/C++ ${c_s}s"
  [ "$findings" = 0 ] || status=1
}

run_valgrind() {
  local dir="$logs/valgrind"
  mkdir -p "$dir"
  command -v valgrind >/dev/null || { summary "sanitize valgrind: valgrind is not installed (scripts/setup.sh installs it); 1 finding"; status=1; return; }
  local t0; t0=$(date +%s)
  if [ "${PMX_SANITIZE_NO_BUILD:-0}" != 1 ]; then
    say "valgrind: building the release .so and the C/C++ tests ($build_dir)"
    { cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
      cmake --build "$build_dir"; } >"$dir/build.log" 2>&1 ||
      { tail -20 "$dir/build.log"; summary "sanitize valgrind: build failed; 1 finding"; status=1; return; }
  fi
  local build_s; build_s=$(secs_since "$t0")
  # Each program exactly as ctest starts it (command, environment, working directory).
  local tests=(c_basics c_mock c_async c_upstream c_protocols c_routing c_abuse c_reentrancy c_events header_cxx cxx_wrapper cxx_chat_example)
  ctest --test-dir "$build_dir" --show-only=json-v1 >"$dir/ctest.json" ||
    { summary "sanitize valgrind: ctest --show-only failed in $build_dir; 1 finding"; status=1; return; }
  local vg=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
            --error-exitcode=99 --num-callers=30 --gen-suppressions=all
            --suppressions="$supp/valgrind.supp")
  [ "$quick" = 1 ] || vg+=(--track-origins=yes)
  local findings=0 errors=0 lost=0 suppressed=0 checks=0 ran=0 failed=()
  t0=$(date +%s)
  for name in "${tests[@]}"; do
    local spec
    spec=$(python3 - "$dir/ctest.json" "$name" <<'PY'
import json, shlex, sys
tests = {t["name"]: t for t in json.load(open(sys.argv[1]))["tests"]}
t = tests.get(sys.argv[2])
if t is None:
    sys.exit(1)
props = {p["name"]: p["value"] for p in t.get("properties", [])}
print(props.get("WORKING_DIRECTORY", "."))
print(" ".join(shlex.quote(e) for e in props.get("ENVIRONMENT", [])))
print(" ".join(shlex.quote(c) for c in t["command"]))
PY
) || { echo "sanitize valgrind: ctest has no test $name" >&2; findings=$((findings + 1)); failed+=("$name(missing)"); continue; }
    local wd envs cmd
    wd=$(sed -n 1p <<<"$spec"); envs=$(sed -n 2p <<<"$spec"); cmd=$(sed -n 3p <<<"$spec")
    local s; s=$(date +%s)
    (cd "$wd" && eval "env $envs timeout -s KILL 900 ${vg[*]@Q} --log-file=${dir@Q}/$name.vg.log $cmd") >"$dir/$name.out" 2>&1
    local trc=$?
    ran=$((ran + 1))
    local e d sp c
    e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$dir/$name.vg.log" | tail -1 | tr -d ,)
    d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$dir/$name.vg.log" | tail -1 | tr -d ,)
    sp=$(sed -n 's/.*ERROR SUMMARY: .*(suppressed: \([0-9,]*\) from.*/\1/p' "$dir/$name.vg.log" | tail -1 | tr -d ,)
    c=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$dir/$name.out" | tail -1)
    e=${e:-0}; d=${d:-0}; sp=${sp:-0}; c=${c:-1}
    errors=$((errors + e)); lost=$((lost + d)); suppressed=$((suppressed + sp)); checks=$((checks + c))
    printf '   %-18s rc %-3s %4ss  errors %-4s definitely lost %-6s suppressed %s\n' "$name" "$trc" "$(secs_since "$s")" "$e" "$d" "$sp"
    if [ "$trc" != 0 ] || [ "$e" != 0 ] || [ "$d" != 0 ]; then
      findings=$((findings + 1)); failed+=("$name")
      grep -E -A12 '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source and|[0-9,]+ bytes in .* definitely)' "$dir/$name.vg.log" | head -40
      tail -5 "$dir/$name.out"
    fi
  done
  local run_s; run_s=$(secs_since "$t0")
  summary "sanitize valgrind: $ran programs ($checks checks), $errors errors, $lost bytes definitely lost$([ ${#failed[@]} = 0 ] || echo " (failed: ${failed[*]})"); $findings findings; $(grep -c '^{' "$supp/valgrind.supp") suppressions ($suppressed errors suppressed); $([ "$quick" = 1 ] && echo "quick, no origin tracking" || echo "with origin tracking"); build ${build_s}s, run ${run_s}s"
  [ "$findings" = 0 ] || status=1
}

case $mode in
  asan) [ "$quick" = 1 ] && echo "sanitize asan: not in the --quick (CI) subset; run without --quick" || run_asan ;;
  ubsan) [ "$quick" = 1 ] && echo "sanitize ubsan: not in the --quick (CI) subset; run without --quick" || run_ubsan ;;
  tsan) run_tsan ;;
  valgrind) run_valgrind ;;
  all)
    if [ "$quick" = 1 ]; then run_valgrind; run_tsan
    else run_asan; run_tsan; run_ubsan; run_valgrind; fi
    if ((${#summaries[@]} > 1)); then echo; printf '%s\n' "${summaries[@]}"; fi ;;
esac
exit "$status"
