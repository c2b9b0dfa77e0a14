#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark: builds what it needs, starts the bench nginx, runs the C benches and the
# Python bench, stops nginx, writes bench/.out/results.json and bench/RESULTS.md.
#
# Usage: bench/run.sh [--quick] [--rebuild] [--no-python] [--no-install]
#   --quick       small iteration counts (a ~1 minute smoke run)
#   --rebuild     rebuild the .so with scripts/build-lib.sh even when bench/.out/lib has one
#   --no-python   skip bench/python/bench.py
#   --no-install  do not apt-get install missing packages (fail instead)
# Loopback only (the Python bench may pip-install its pinned requirements into its venv).
# The bench reports against targets; it never fails on a miss.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out="$here/.out"
quick=0 rebuild=0 python=1 install=1
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --rebuild) rebuild=1 ;;
    --no-python) python=0 ;;
    --no-install) install=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
say() { printf '== %s\n' "$*" >&2; }

# ---- packages (only what is missing; sudo only when not root) ------------------------------
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || need+=(make)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
pkg-config --exists libcurl 2>/dev/null || need+=(libcurl4-openssl-dev)
pkg-config --exists jansson 2>/dev/null || need+=(libjansson-dev)
if [ "$python" = 1 ] && command -v python3 >/dev/null 2>&1 && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$install" = 1 ] || { echo "run.sh: missing packages: ${need[*]}" >&2; exit 1; }
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing ${need[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

# ---- library -------------------------------------------------------------------------------
lib="$out/lib/libprovidermux.so"
if [ "$rebuild" = 1 ] || [ ! -e "$lib" ]; then
  say "building libprovidermux.so (scripts/build-lib.sh, minutes the first time)"
  "$root/scripts/build-lib.sh" "$out/lib" >/dev/null
fi
[ -e "$lib" ] || { echo "run.sh: $lib is missing" >&2; exit 1; }

say "building the C benches"
make -s -C "$here/c" ROOT="$root" LIBDIR="$out/lib" OUT="$out/bin" >&2

# ---- limits and nginx ----------------------------------------------------------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "open files limit $(ulimit -n)"
rm -f "$out/c-"*.json "$out/c.json" "$out/python.json" "$out/python-instructions.json" "$out/results.json"
port=$("$here/nginx/start.sh" | sed -n 's/^PORT //p')
trap '"$here/nginx/stop.sh" || true' EXIT
say "nginx on 127.0.0.1:$port"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

if [ "$quick" = 1 ]; then
  it_plain=300 it16=150 it256=40 it4096=6 itproto=40 conc=1000 rounds=1 rss_warm=1000 rss_total=3000 creates=50
else
  it_plain=5000 it16=2000 it256=600 it4096=60 itproto=600 conc=1000 rounds=3 rss_warm=1000 rss_total=10000 creates=200
fi

bin="$out/bin"
say "latency: non-streaming, SSE 16/256/4096, Anthropic, Ollama (interleaved raw libcurl / pmx)"
"$bin/latency" "$port" $it_plain $it16 $it256 $it4096 $itproto "$out/c-latency.json"
say "concurrency: $conc async streams x $rounds round(s) through one router"
"$bin/concurrency" "$port" $conc $rounds "$out/c-concurrency.json"
say "RSS after $rss_warm and $rss_total sequential requests"
"$bin/rss" "$port" $rss_warm $rss_total "$out/c-rss.json"
say "router creation from a 20-provider config ($creates times)"
"$bin/create" "$port" $creates "$out/c-create.json"
say "fixed cost of one blocking request: bare thread hand-off, mock provider, HTTP"
"$bin/overhead" "$port" $((it_plain / 2)) "$out/c-overhead.json"

# Instruction counts (callgrind): its own nginx prefix, so the one above keeps serving.
say "instructions per request and per chunk, pmx and raw libcurl (bench/instructions.sh, callgrind)"
BENCH_NGINX_PREFIX="$out/nginx-instructions" "$here/instructions.sh" "$out/lib" \
  --json "$out/c-instructions.json" >&2 || say "instruction counts failed (left out)"

say "library size"
real_lib=$(readlink -f "$lib")
strip -o "$out/libprovidermux.stripped.so" "$real_lib"
size_unstripped=$(stat -L -c %s "$real_lib")
size_stripped=$(stat -c %s "$out/libprovidermux.stripped.so")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# Merge the C pieces with the run's metadata into c.json.
python3 - "$out" "$quick" "$size_unstripped" "$size_stripped" "$real_lib" "$load_before" "$load_after" "$(ulimit -n)" <<'PY'
import json, os, platform, subprocess, sys, datetime
out, quick, su, ss, lib, lb, la, nofile = sys.argv[1:]
def load(name):
    with open(os.path.join(out, "c-%s.json" % name)) as f:
        return json.load(f)
def cmd(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True).stdout.strip() or \
               subprocess.run(a, capture_output=True, text=True).stderr.strip()
    except OSError:
        return None
cpu = None
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
lat = load("latency")
doc = {"c": {
    "meta": {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
             "uname": " ".join(os.uname()), "cpu": cpu, "cores": os.cpu_count(),
             "loadavg_before": lb, "loadavg_after": la, "quick": quick == "1", "open_files_limit": nofile,
             "nginx": cmd("nginx", "-v"), "libcurl": cmd("curl-config", "--version"),
             "jansson": cmd("pkg-config", "--modversion", "jansson"), "cc": cmd("cc", "--version").splitlines()[0],
             "lib": lib},
    "nonstream": lat["nonstream"], "stream": lat["stream"], "protocols": lat["protocols"],
    "concurrency": load("concurrency"), "rss": load("rss"), "create": load("create"), "overhead": load("overhead"),
    "instructions": load("instructions") if os.path.exists(os.path.join(out, "c-instructions.json")) else None,
    "size": {"unstripped_bytes": int(su), "stripped_bytes": int(ss)},
}}
with open(os.path.join(out, "c.json"), "w") as f:
    json.dump(doc, f, indent=2); f.write("\n")
PY

# ---- Python bench (owned by the Python helper) ---------------------------------------------
if [ "$python" = 1 ]; then
  if [ -f "$here/python/bench.py" ]; then
    say "Python bench"
    qflag=(); [ "$quick" = 1 ] && qflag=(--quick)
    python3 "$here/python/bench.py" --port "$port" --lib "$lib" --json "$out/python.json" "${qflag[@]}" >&2 \
      || say "Python bench failed (its results are left out)"
    # The same clients' loops counted under callgrind (small N; bench/instructions.py subtracts
    # two phases per workload). The venv is the one bench.py made; a fixed hash seed keeps
    # the interpreter's own work the same from run to run.
    if [ -x "$out/venv/bin/python" ]; then
      say "Python instructions per request and per chunk (callgrind, a minute or two)"
      cc -shared -fPIC -O2 "$here/c/cgmark.c" -o "$out/libcgmark.so"
      pycg=$(mktemp -d "$out/pycallgrind.XXXXXX")
      if env -u PMX_TRANSCRIPT_DIR PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file="$pycg/cg.out" \
           "$out/venv/bin/python" "$here/python/bench.py" --no-venv --port "$port" --lib "$lib" \
           --count-instructions "$out/libcgmark.so" >"$pycg/log" 2>&1; then
        python3 "$here/instructions.py" python "$pycg/cg.out" --json "$out/python-instructions.json" >&2 \
          || say "Python instruction counts unreadable (left out)"
      else
        tail -20 "$pycg/log" >&2
        say "Python instruction counts failed (left out)"
      fi
      rm -rf "$pycg"
    fi
  else
    say "bench/python/bench.py not present: Python results left out"
  fi
fi

"$here/nginx/stop.sh"
trap - EXIT

python3 "$here/report.py" --out "$out" --md "$here/RESULTS.md"
say "wrote $out/results.json and $here/RESULTS.md"
