#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Python-side benchmark: providermux (ctypes binding) vs the official openai SDK vs raw http.client.

Usage (from anywhere; the script creates and re-execs itself inside bench/.out/venv):

    python3 bench/python/bench.py --port PORT --lib PATH/libprovidermux.so --json OUT.json [--quick]

PORT is the bench nginx (bench/nginx/start.sh) on 127.0.0.1, which answers fixed bodies:
``/v1/chat/completions`` (one chat.completion) and ``/sse256/v1/chat/completions`` (an OpenAI
SSE stream of 256 content chunks "tok ", a final chunk with finish_reason and usage, then
``data: [DONE]``). Loopback only; the one network access is ``pip install`` from PyPI into the
venv (bench/python/requirements.txt, openai pinned).

Measurements are interleaved: every iteration runs each client once, round-robin, with the
starting client rotated per iteration; medians and 95th percentiles are reported.
Sections (row ``name``):

  chat            non-streaming chat completion, wall time per request
  stream256       256-chunk stream, wall time per request (request sent to terminal event)
  stream256_chunk the same divided by the content chunks received (per-chunk cost)
  stream256_ttft  time from the call to the first content delta
  (plus ``*_cpu``: process CPU time per request, all threads of this process — providermux
  does its HTTP on its own I/O thread, so wall time alone hides that work; nginx is not counted.)

Clients (row ``client``):

  providermux        Router.complete / Router.stream (iterate events), openai-compatible provider
  providermux-cb     Router.stream(request, on_event) (events on the calling thread; stream only)
  openai             openai.OpenAI(base_url, api_key="x", max_retries=0), one client reused;
                     chat.completions.create(...) / create(..., stream=True) iterating chunks
  http.client        one kept-alive http.client.HTTPConnection: POST, read, json.loads (stream:
                     read the SSE body line by line, json.loads every data line)

Output JSON (OUT.json), all times in microseconds:

  {"python": {
     "versions": {"python": "3.11.7", "openai": "x.y.z", "providermux": "0.1.0",
                  "httpx": "httpx2 2.16.2", "lib": "/path/libprovidermux.so"},
     "config":   {"quick": false, "iterations": {"chat": N, "stream256": M}, "port": PORT},
     "rows": [{"name": "chat", "client": "providermux", "median_us": 123.4, "p95_us": 150.0,
               "n": N}, ...],
     "ratios": {"chat_providermux_vs_openai": 0.41, ...},   # candidate / baseline, < 1 = faster
     "targets": [{"name": "...", "ratio": 0.41, "target": "< 1", "met": true}, ...]
  }}

Ratios: for each section S in (chat, stream256, stream256_chunk, stream256_ttft, chat_cpu,
stream256_cpu): ``S_providermux_vs_openai`` and ``S_providermux_vs_http.client`` (median over
median). Targets: providermux per-request latency lower than the openai SDK (chat, stream256,
stream256_ttft ratios < 1). The bench never fails on a missed target.

Binding hot spot seen with this bench (2-core VM, nginx, 256-chunk stream): Router.stream's
iterator (events from the router's I/O thread) costs ~4x the on_event path on the calling thread
(~21 ms vs ~6 ms per stream). ctypes builds and destroys a PyThreadState for every callback on a
thread Python did not create (~28 us per event: a no-op async callback went 11.5 -> 4.3 ms per
stream when the thread state was kept alive with one extra PyGILState_Ensure); queue.Queue and the
per-event GIL handoff to the consumer make up most of the rest.
"""

import argparse
import gc
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT_DIR = os.path.join(REPO, "bench", ".out")
VENV = os.path.join(OUT_DIR, "venv")
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
STAMP = os.path.join(VENV, ".bench-requirements.sha256")

STREAM_CHUNKS = 256
REQUEST = {"model": "bench-model", "messages": [{"role": "user", "content": "Say hello."}]}
EXPECTED_CHAT_CONTENT_PREFIX = None  # the body is whatever make_bodies.py wrote; only non-empty is checked


def log(msg):
    print("[bench.py] " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# venv bootstrap
# ---------------------------------------------------------------------------------------------

def _in_venv():
    try:
        return os.path.samefile(sys.prefix, VENV)
    except OSError:
        return False


def _venv_python():
    return os.path.join(VENV, "bin", "python")


def _venv_help():
    v = "%d.%d" % sys.version_info[:2]
    return ("python3 -m venv is not usable here. Install the venv module, e.g. on Debian/Ubuntu:\n"
            "    sudo apt-get install -y python3-venv   (or python%s-venv)\n"
            "then run this again." % v)


def ensure_venv_and_reexec():
    """Creates bench/.out/venv (idempotent), installs requirements.txt when it changed, and
    re-execs this script with the venv's python."""
    if _in_venv():
        return
    py = _venv_python()
    if not os.path.exists(py):
        try:
            import ensurepip  # noqa: F401  (Debian strips it unless python3-venv is installed)
            import venv  # noqa: F401
        except ImportError:
            log(_venv_help())
            sys.exit(3)
        if os.path.isdir(VENV):
            shutil.rmtree(VENV)  # a broken leftover
        os.makedirs(OUT_DIR, exist_ok=True)
        log("creating venv " + VENV)
        rc = subprocess.call([sys.executable, "-m", "venv", VENV])
        if rc != 0 or not os.path.exists(py):
            log(_venv_help())
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(3)
    with open(REQUIREMENTS, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    have = None
    if os.path.exists(STAMP):
        with open(STAMP) as f:
            have = f.read().strip()
    if have != want:
        log("installing %s into the venv (from PyPI)" % os.path.relpath(REQUIREMENTS, REPO))
        rc = subprocess.call([py, "-m", "pip", "install", "--disable-pip-version-check", "-q",
                              "-r", REQUIREMENTS])
        if rc != 0:
            log("pip install failed (is PyPI reachable?)")
            sys.exit(4)
        with open(STAMP, "w") as f:
            f.write(want + "\n")
    os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])


# ---------------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------------

def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return None
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def pct(xs, p):
    s = sorted(xs)
    if not s:
        return None
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


# ---------------------------------------------------------------------------------------------
# clients: each returns (wall_ns, ttft_ns or None, content_chunks, cpu_ns)
# ---------------------------------------------------------------------------------------------

perf = time.perf_counter_ns
cpu = time.process_time_ns


class Clients:
    def __init__(self, port):
        import http.client
        import openai
        import providermux

        self.port = port
        base = "http://127.0.0.1:%d" % port
        common = {"retry": {"max_attempts": 1}}

        def router(path):
            return providermux.Router({"providers": [
                dict({"name": "nginx", "type": "openai-compatible", "base_url": base + path},
                     **common)]})

        self.pmx_chat = router("/v1")
        self.oai_chat = openai.OpenAI(base_url=base + "/v1", api_key="x", max_retries=0)
        # Streams of 256 chunks (the wall figures) and 16 (the instruction counts subtract them).
        self.pmx_sse = {n: router("/sse%d/v1" % n) for n in (16, STREAM_CHUNKS)}
        self.oai_sse = {n: openai.OpenAI(base_url=base + "/sse%d/v1" % n, api_key="x", max_retries=0)
                        for n in (16, STREAM_CHUNKS)}
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.raw_headers = {"Content-Type": "application/json", "Authorization": "Bearer x",
                            "Accept": "application/json"}
        self.raw_sse_headers = dict(self.raw_headers, Accept="text/event-stream")

    def close(self):
        self.pmx_chat.close()
        self.oai_chat.close()
        for c in list(self.pmx_sse.values()) + list(self.oai_sse.values()):
            c.close()
        self.conn.close()

    # -- non-streaming -------------------------------------------------------------------------

    def chat_providermux(self):
        c0 = cpu()
        t0 = perf()
        resp = self.pmx_chat.complete(REQUEST)
        t1 = perf()
        c1 = cpu()
        assert resp["choices"][0]["message"]["content"], resp
        return t1 - t0, None, 1, c1 - c0

    def chat_openai(self):
        c0 = cpu()
        t0 = perf()
        resp = self.oai_chat.chat.completions.create(model=REQUEST["model"],
                                                     messages=REQUEST["messages"])
        t1 = perf()
        c1 = cpu()
        assert resp.choices[0].message.content, resp
        return t1 - t0, None, 1, c1 - c0

    def chat_raw(self):
        c0 = cpu()
        t0 = perf()
        self.conn.request("POST", "/v1/chat/completions", json.dumps(REQUEST).encode(),
                          self.raw_headers)
        r = self.conn.getresponse()
        resp = json.loads(r.read())
        t1 = perf()
        c1 = cpu()
        assert r.status == 200 and resp["choices"][0]["message"]["content"], resp
        return t1 - t0, None, 1, c1 - c0

    # -- streaming -----------------------------------------------------------------------------

    def stream_providermux(self, chunks=STREAM_CHUNKS):
        ttft = None
        n = 0
        c0 = cpu()
        t0 = perf()
        for ev in self.pmx_sse[chunks].stream(dict(REQUEST, stream=True)):
            if ev["type"] == "delta" and ev.get("content"):
                if ttft is None:
                    ttft = perf() - t0
                n += 1
            elif ev["type"] == "error":
                raise RuntimeError("providermux stream error: %r" % ev)
        t1 = perf()
        c1 = cpu()
        return t1 - t0, ttft, n, c1 - c0

    def stream_providermux_cb(self, chunks=STREAM_CHUNKS):
        state = {"ttft": None, "n": 0}
        c0 = cpu()
        t0 = perf()

        def on_event(ev):
            if ev["type"] == "delta" and ev.get("content"):
                if state["ttft"] is None:
                    state["ttft"] = perf() - t0
                state["n"] += 1
            return 0

        self.pmx_sse[chunks].stream(dict(REQUEST, stream=True), on_event)
        t1 = perf()
        c1 = cpu()
        return t1 - t0, state["ttft"], state["n"], c1 - c0

    def stream_openai(self, chunks=STREAM_CHUNKS):
        ttft = None
        n = 0
        c0 = cpu()
        t0 = perf()
        stream = self.oai_sse[chunks].chat.completions.create(model=REQUEST["model"],
                                                      messages=REQUEST["messages"], stream=True)
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                if ttft is None:
                    ttft = perf() - t0
                n += 1
        t1 = perf()
        c1 = cpu()
        return t1 - t0, ttft, n, c1 - c0

    def stream_raw(self, chunks=STREAM_CHUNKS):
        ttft = None
        n = 0
        c0 = cpu()
        t0 = perf()
        self.conn.request("POST", "/sse%d/v1/chat/completions" % chunks,
                          json.dumps(dict(REQUEST, stream=True)).encode(), self.raw_sse_headers)
        r = self.conn.getresponse()
        assert r.status == 200
        while True:
            line = r.readline()
            if not line:
                break
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                break
            obj = json.loads(data)
            choices = obj.get("choices")
            if choices and choices[0].get("delta", {}).get("content"):
                if ttft is None:
                    ttft = perf() - t0
                n += 1
        r.read()  # drain to the end of the body so the connection is reusable
        t1 = perf()
        c1 = cpu()
        return t1 - t0, ttft, n, c1 - c0


def run_section(label, funcs, iterations, warmup, time_cap_s):
    """Interleaved loop. funcs: [(client_name, fn)]. Returns {client: [(wall, ttft, n, cpu)]}."""
    results = {name: [] for name, _ in funcs}
    for i in range(warmup):
        for _, fn in funcs:
            fn()
    gc.collect()
    k = len(funcs)
    start = time.monotonic()
    done = 0
    for i in range(iterations):
        r = i % k
        for name, fn in funcs[r:] + funcs[:r]:
            results[name].append(fn())
        done += 1
        if time.monotonic() - start > time_cap_s:
            break
    log("%s: %d interleaved iterations in %.1f s" % (label, done, time.monotonic() - start))
    return results


# Instruction counts (--count-instructions, run under callgrind by bench/run.sh): each phase is
# one callgrind dump (bench/c/cgmark.c's markers); bench/instructions.py subtracts a workload's
# two phases, so interpreter start, imports and set-up cancel.
COUNT_CHAT = (2, 8)        # requests in the small and the large phase
COUNT_STREAMS = 2          # streams per phase: of 16 chunks, then of 256


def count_instructions(clients, cgmark):
    import ctypes
    cg = ctypes.CDLL(cgmark)
    cg.cg_dump.argtypes = [ctypes.c_char_p]
    chat = [("providermux", clients.chat_providermux), ("openai", clients.chat_openai),
            ("http.client", clients.chat_raw)]
    stream = [("providermux", clients.stream_providermux), ("providermux-cb", clients.stream_providermux_cb),
              ("openai", clients.stream_openai), ("http.client", clients.stream_raw)]

    def phase(label, fn, n, *args):
        gc.collect()
        cg.cg_zero()
        for _ in range(n):
            fn(*args)
        cg.cg_dump(label.encode())

    for name, fn in chat:
        fn()
        fn()  # warm: connection, caches, lazily imported modules
        for n in COUNT_CHAT:
            phase("py %s chat %d" % (name, n), fn, n)
    for name, fn in stream:
        for chunks in (16, STREAM_CHUNKS):
            got = fn(chunks)[2]
            if got != chunks:
                raise RuntimeError("%s: %d content chunks, expected %d" % (name, got, chunks))
            phase("py %s stream %d" % (name, chunks), fn, COUNT_STREAMS, chunks)
    log("counted phases written as callgrind dumps")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="bench nginx port on 127.0.0.1")
    ap.add_argument("--lib", required=True, help="path to libprovidermux.so")
    ap.add_argument("--json", help="output JSON file (required unless --count-instructions)")
    ap.add_argument("--quick", action="store_true", help="smoke run (< 30 s)")
    ap.add_argument("--no-venv", action="store_true",
                    help="run with the current interpreter (openai must be importable)")
    ap.add_argument("--count-instructions", metavar="LIBCGMARK",
                    help="instead of timing, run the counted phases (under callgrind, with --no-venv "
                         "inside the venv; LIBCGMARK: bench/c/cgmark.c built as a .so)")
    args = ap.parse_args()

    if not args.json and not args.count_instructions:
        ap.error("--json is required")
    lib = os.path.abspath(args.lib)
    if not os.path.exists(lib):
        log("--lib %s does not exist (build it: scripts/build-lib.sh bench/.out/lib)" % lib)
        sys.exit(2)
    if not args.no_venv:
        ensure_venv_and_reexec()

    os.environ["PROVIDERMUX_LIB"] = lib
    sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
    import openai
    import providermux
    httpx_version = None  # the SDK's HTTP stack: httpx (openai 1.x) or httpx2 (newer)
    for mod in ("httpx2", "httpx"):
        try:
            httpx_version = "%s %s" % (mod, __import__(mod).__version__)
            break
        except Exception:
            pass

    if args.quick:
        plan = {"chat": (300, 30, 8.0), "stream256": (40, 5, 12.0)}
    else:
        plan = {"chat": (4000, 200, 60.0), "stream256": (400, 20, 90.0)}

    clients = Clients(args.port)
    if args.count_instructions:
        try:
            count_instructions(clients, args.count_instructions)
        finally:
            clients.close()
        return
    try:
        chat = run_section("chat", [("providermux", clients.chat_providermux),
                                    ("openai", clients.chat_openai),
                                    ("http.client", clients.chat_raw)], *plan["chat"])
        stream = run_section("stream256", [("providermux", clients.stream_providermux),
                                           ("providermux-cb", clients.stream_providermux_cb),
                                           ("openai", clients.stream_openai),
                                           ("http.client", clients.stream_raw)],
                             *plan["stream256"])
    finally:
        clients.close()

    rows = []
    meds = {}

    def add(name, client, values_ns):
        us = [v / 1000.0 for v in values_ns if v is not None]
        row = {"name": name, "client": client, "median_us": round(median(us), 3),
               "p95_us": round(pct(us, 95), 3), "n": len(us)}
        rows.append(row)
        meds[(name, client)] = row["median_us"]

    problems = []
    for client, rs in chat.items():
        add("chat", client, [r[0] for r in rs])
    for client, rs in stream.items():
        bad = [r[2] for r in rs if r[2] != STREAM_CHUNKS]
        if bad:
            problems.append("%s: %d streams without %d content chunks (e.g. %d)"
                            % (client, len(bad), STREAM_CHUNKS, bad[0]))
        add("stream256", client, [r[0] for r in rs])
        add("stream256_chunk", client, [r[0] / max(1, r[2]) for r in rs])
        add("stream256_ttft", client, [r[1] for r in rs])
    for client, rs in chat.items():
        add("chat_cpu", client, [r[3] for r in rs])
    for client, rs in stream.items():
        add("stream256_cpu", client, [r[3] for r in rs])

    ratios = {}
    for section in ("chat", "stream256", "stream256_chunk", "stream256_ttft", "chat_cpu",
                    "stream256_cpu"):
        for cand in ("providermux", "providermux-cb"):
            for base in ("openai", "http.client"):
                a, b = meds.get((section, cand)), meds.get((section, base))
                if a is not None and b:
                    ratios["%s_%s_vs_%s" % (section, cand, base)] = round(a / b, 4)
    targets = []
    for section in ("chat", "stream256", "stream256_ttft"):
        key = "%s_providermux_vs_openai" % section
        if key in ratios:
            targets.append({"name": key, "ratio": ratios[key], "target": "< 1",
                            "met": ratios[key] < 1.0})

    doc = {"python": {
        "versions": {"python": platform.python_version(), "openai": openai.__version__,
                     "httpx": httpx_version, "providermux": providermux.version(),
                     "lib": providermux.library_path},
        "config": {"quick": args.quick, "port": args.port,
                   "iterations": {"chat": len(chat["providermux"]),
                                  "stream256": len(stream["providermux"])},
                   "stream_chunks": STREAM_CHUNKS},
        "rows": rows,
        "ratios": ratios,
        "targets": targets,
    }}
    if problems:
        doc["python"]["problems"] = problems
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    tmp = args.json + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.json)

    # human-readable summary
    print("python %s, openai %s, providermux %s" % (platform.python_version(), openai.__version__,
                                                   providermux.version()))
    print("%-16s %-15s %12s %12s %6s" % ("name", "client", "median_us", "p95_us", "n"))
    for r in rows:
        print("%-16s %-15s %12.1f %12.1f %6d" % (r["name"], r["client"], r["median_us"],
                                                 r["p95_us"], r["n"]))
    print("ratios (candidate / baseline, < 1 = faster):")
    for k, v in ratios.items():
        print("  %-55s %.3f" % (k, v))
    for t in targets:
        print("target %-40s %.3f %s -> %s" % (t["name"], t["ratio"], t["target"],
                                              "met" if t["met"] else "NOT met"))
    for p in problems:
        print("PROBLEM: " + p)
    print("wrote " + args.json)


if __name__ == "__main__":
    main()
