#!/usr/bin/env bash
# Builds the libFuzzer targets (ASan + libFuzzer, debug) and runs each for SECONDS on a copy of
# its seed corpus. New inputs: fuzz/.out/<target>/corpus; crashes: fuzz/.out/<target>/crash-*.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET=60] [TARGET...]   (targets: fuzz-config or config ...)
# Exit status: 0 when no target found anything, 1 on any finding, 2 on a build failure.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${1:-60}"; shift || true
all=(fuzz-config fuzz-request fuzz-sse fuzz-ndjson fuzz-openai-stream fuzz-anthropic-stream
     fuzz-gemini-stream fuzz-ollama-stream fuzz-cohere-stream fuzz-responses)
targets=()
for t in "${@:-${all[@]}}"; do [[ "$t" == fuzz-* ]] && targets+=("$t") || targets+=("fuzz-$t"); done
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"

scratch="$here/.build-fuzz"
echo "== building ${#targets[@]} fuzzer(s)"
for t in "${targets[@]}"; do
    # -sanitize=fuzzer alone links libFuzzer but (Swift 6.3) adds no coverage instrumentation
    # to the compiled objects: without -sanitize-coverage libFuzzer fuzzes blind.
    swift build --package-path "$here" --product "$t" --sanitize=fuzzer --sanitize=address \
        -Xswiftc -sanitize-coverage=edge,trace-cmp --scratch-path "$scratch" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Compiling|complete" | tail -3
    [[ -x "$scratch/debug/$t" ]] || { echo "build of $t failed"; exit 2; }
done

status=0
printf '\n%-22s %10s %8s %8s  %s\n' target execs exec/s corpus findings
for t in "${targets[@]}"; do
    name="${t#fuzz-}"
    out="$here/.out/$t"
    mkdir -p "$out/corpus"
    [[ -d "$here/corpus/$name" ]] && cp -n "$here/corpus/$name"/* "$out/corpus/" 2>/dev/null
    log="$out/fuzz.log"
    "$scratch/debug/$t" "$out/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    size=$(ls "$out/corpus" | wc -l)
    findings=$(ls "$out" | grep -E '^(crash|timeout|oom|leak)-' || true)
    if [[ $rc -ne 0 || -n "$findings" ]]; then
        status=1
        printf '%-22s %10s %8s %8s  FOUND (exit %d): %s  (log: %s)\n' "$t" "$execs" "$rate" "$size" "$rc" "$(echo $findings)" "$log"
        grep -m3 -E 'ERROR: |Fatal error|SUMMARY' "$log" | sed 's/^/    /'
    else
        printf '%-22s %10s %8s %8s  none\n' "$t" "$execs" "$rate" "$size"
    fi
done
exit $status
