#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (release, AddressSanitizer + libFuzzer coverage) and runs each on a
# copy of its seed corpus, either for SECONDS or for N executions.
#   fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]     e.g. fuzz/run.sh 6 (the CI smoke run)
#   fuzz/run.sh --runs N [TARGET...]                     e.g. fuzz/run.sh --runs 10000000 sse
# Targets: fuzz-config or config, ... (all thirteen by default). New inputs go to
# fuzz/.out/<target>/corpus, findings to fuzz/.out/<target>/{crash,timeout,oom,leak}-*, the
# libFuzzer log to fuzz/.out/<target>/fuzz.log; a summary line per target is printed and
# appended to fuzz/.out/summary.txt. FUZZ_OUT and FUZZ_SCRATCH move the output and build
# directories (ctest's fuzz_smoke uses its build dir, so it never disturbs a long run);
# FUZZ_MAX_LEN (default 1024) bounds input sizes: every decoder state is reachable in a
# kilobyte, and the one-byte-per-chunk mode makes longer inputs cost several times more.
# Exit status: 0 when no target found anything, 1 on any finding, 2 on a build failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
limit=(-max_total_time=60); what="60 s"
if [[ "${1:-}" == "--runs" ]]; then
    limit=(-runs="$2"); what="$2 runs"; shift 2
elif [[ -n "${1:-}" && "${1:-}" =~ ^[0-9]+$ ]]; then
    limit=(-max_total_time="$1"); what="$1 s"; shift
fi
all=(fuzz-config fuzz-request fuzz-sse fuzz-ndjson fuzz-openai-stream fuzz-anthropic-stream
     fuzz-gemini-stream fuzz-ollama-stream fuzz-cohere-stream fuzz-responses fuzz-headers
     fuzz-usage fuzz-json)
targets=()
for t in "${@:-${all[@]}}"; do [[ "$t" == fuzz-* ]] && targets+=("$t") || targets+=("fuzz-$t"); done
export SWIFT_BACKTRACE=enable=no
# Leaks are not findings here (the Swift runtime's caches look like leaks to LSan); memory
# growth is caught by -rss_limit_mb instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"

scratch="${FUZZ_SCRATCH:-$here/.build-fuzz}"
outroot="${FUZZ_OUT:-$here/.out}"
echo "== building ${#targets[@]} fuzzer(s) (release, -sanitize=fuzzer,address)"
# The fuzz package compiles the core itself (see Package.swift), so the coverage hooks that
# -sanitize=fuzzer adds reach the library's code, not only the harness.
build_args=(--package-path "$here" -c release --sanitize=fuzzer --sanitize=address --scratch-path "$scratch")
# The coverage hooks are asked for explicitly: with --sanitize=fuzzer alone, Swift 6.3's SwiftPM
# left the core's objects without them on some builds (a clean scratch directory, or a build
# without --product), and blind fuzzing looks healthy (high exec/s) but finds nothing. A binary
# without the __sancov_cntrs section is refused.
build_args+=(-Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table)
for t in "${targets[@]}"; do
    swift build "${build_args[@]}" --product "$t" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|complete" | tail -3
    [[ -x "$scratch/release/$t" ]] || { echo "build of $t failed"; exit 2; }
    [[ "$(readelf -S "$scratch/release/$t")" == *__sancov_cntrs* ]] || { echo "$t has no coverage instrumentation"; exit 2; }
done

status=0
mkdir -p "$outroot"
printf '\n%-22s %12s %8s %8s %6s  %s\n' target execs exec/s corpus cov findings
for t in "${targets[@]}"; do
    name="${t#fuzz-}"
    out="$outroot/$t"
    mkdir -p "$out/corpus"
    [[ -d "$here/corpus/$name" ]] && cp -n "$here/corpus/$name"/* "$out/corpus/" 2>/dev/null
    log="$out/fuzz.log"
    "$scratch/release/$t" "$out/corpus" "${limit[@]}" -rss_limit_mb=2048 -timeout=10 \
        -max_len="${FUZZ_MAX_LEN:-1024}" -print_final_stats=1 -artifact_prefix="$out/" >"$log" 2>&1
    rc=$?
    execs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -ao '[0-9]*$' || echo "?")
    rate=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -ao '[0-9]*$' || echo "?")
    cov=$(grep -aoE '(DONE|pulse|NEW|REDUCE) +cov: [0-9]+' "$log" | tail -1 | grep -aoE '[0-9]+$' || echo "?")
    # libFuzzer's log holds raw input bytes (dictionary entries): grep -a, or grep says "binary".
    size=$(grep -aoE 'DONE .* corp: [0-9]+' "$log" | grep -aoE '[0-9]+$' || ls "$out/corpus" | wc -l)
    findings=$(ls "$out" | grep -E '^(crash|timeout|oom|leak|slow-unit)-' || true)
    if [[ $rc -ne 0 || -n "$findings" ]]; then
        status=1
        line=$(printf '%-22s %12s %8s %8s %6s  FOUND (exit %d): %s' "$t" "$execs" "$rate" "$size" "$cov" "$rc" "$(echo $findings)")
        echo "$line  (log: $log)"
        grep -a -m3 -E 'ERROR: |Fatal error|SUMMARY' "$log" | sed 's/^/    /'
    else
        line=$(printf '%-22s %12s %8s %8s %6s  none' "$t" "$execs" "$rate" "$size" "$cov")
        echo "$line"
    fi
    echo "$(date -u +%FT%TZ) [$what] $line" >> "$outroot/summary.txt"
done
exit $status
