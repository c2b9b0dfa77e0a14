#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The per-request cost of shared state (bench/shared.sh runs this): the driver bench/c/shared.c
(built by shared.sh) against a redis-server started here on a free loopback port and temp dir
(Tests/python/redis_support.py). Three measurements of the four variants of one router (local,
shared, local + cache, shared + cache; the mock provider, so nothing but the state differs):

1. instructions per pmx_router_complete: runs under callgrind, (12-call phase - 2-call
   phase) / 10 per variant; and per streamed chunk for local and shared (2 streams of 256
   words - 2 of 16, divided by the deltas between them). Callgrind counts the CLIENT process only (all its threads);
   redis-server's own work is not in it. The same dumps give the client's Redis calls per
   request: waited round-trips (RedisLink.roundTrip) and socket writes (pmx_hiredis_flush).
2. the server's view per request: INFO commandstats / stats deltas around native runs of
   N1 and N2 calls, (d(N2) - d(N1)) / (N2 - N1): connection set-up and script loading cancel.
3. wall clock per request: native, the variants interleaved in rounds; median µs per call, and
   the median over rounds (a shared machine: scheduling noise is large and says so)."""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "python"))
sys.path.insert(0, HERE)

import instructions  # noqa: E402  (read_dumps: the totals of each named callgrind dump)
from redis_support import RedisServer  # noqa: E402

VARIANTS = ("local", "shared", "local_cache", "shared_cache")
STREAMED = ("local", "shared")  # also streamed: the per-chunk cost, which shared must not change
SMALL, LARGE = 2, 12
# Client-side functions whose calls are counted: a blocking round-trip, a socket write.
CALLS = {"round_trips": "RedisLinkC9roundTrip", "writes": "pmx_hiredis_flush"}
SERVER_FIELDS = ("evalsha", "evalsha_usec", "commands", "reads", "net_in_bytes", "net_out_bytes")


def stats_lines(text):
    """{variant: the router's "shared" stats} from the driver's "stats <variant> <json>" lines."""
    out = {}
    for line in text.splitlines():
        if line.startswith("stats "):
            _, name, js = line.split(" ", 2)
            out[name] = json.loads(js)
    return out


def check_connected(stats):
    """A shared variant that fell back to local state measured the wrong thing."""
    for name, s in stats.items():
        if s is not None and (s.get("redis") != "connected" or s.get("fallbacks", 0) != 0):
            raise SystemExit(f"shared.py: variant {name} did not stay on Redis: {json.dumps(s)}")


def calls_to(dump):
    """Calls made to each function of CALLS in one callgrind dump (cfn= then calls= lines)."""
    names, counts, current = {}, dict.fromkeys(CALLS, 0), None
    with open(dump, errors="replace") as f:
        for line in f:
            if line.startswith("cfn="):
                m = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    current = names.get(m.group(1), "")
            elif line.startswith("calls=") and current is not None:
                n = int(line.split()[0].split("=")[1])
                for key, fragment in CALLS.items():
                    if fragment in current:
                        counts[key] += n
                current = None
            elif line.startswith("fn="):
                m = re.match(r"fn=\((\d+)\) (.*)", line.rstrip("\n"))
                if m:
                    names[m.group(1)] = m.group(2)
    return counts


def dump_labels(out_file):
    """{label: path} of the dumps of one callgrind run."""
    out = {}
    for path in os.listdir(os.path.dirname(out_file)):
        full = os.path.join(os.path.dirname(out_file), path)
        if not re.search(r"\.\d+$", path):
            continue
        with open(full, errors="replace") as f:
            for line in f:
                if line.startswith("desc: Trigger: Client Request: "):
                    out[line.split("Client Request: ", 1)[1].strip()] = full
                    break
    return out


def count_once(driver, url, profile):
    """One callgrind run: {variant: figures}, and the profile of shared minus local (or None)."""
    with tempfile.TemporaryDirectory(prefix="pmx-bench-shared-cg-") as d:
        out_file = os.path.join(d, "cg.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", driver, "count", url],
                             capture_output=True, text=True,
                             # the transcript (ctest's secret scan) would be counted with the library
                             env={k: v for k, v in os.environ.items() if k != "PMX_TRANSCRIPT_DIR"})
        if run.returncode != 0:
            raise SystemExit(f"shared.py: the counted run failed:\n{run.stderr[-3000:]}")
        check_connected(stats_lines(run.stdout))
        counted = {" ".join(line.split()[1:3]): int(line.split()[3]) for line in run.stdout.splitlines()
                   if line.startswith("deltas ")}
        totals = instructions.read_dumps(out_file)
        labels = dump_labels(out_file)
        figures = {}
        for v in VARIANTS:
            small, large = f"{v} {SMALL}", f"{v} {LARGE}"
            row = {"instructions": round((totals[large] - totals[small]) / (LARGE - SMALL))}
            a, b = calls_to(labels[small]), calls_to(labels[large])
            for key in CALLS:
                row[f"client_{key}"] = round((b[key] - a[key]) / (LARGE - SMALL), 2)
            figures[v] = row
        for v in STREAMED:
            small, large = f"{v} stream16", f"{v} stream256"
            chunks = counted[large] - counted[small]
            figures[v]["per_chunk"] = round((totals[large] - totals[small]) / chunks)
            a, b = calls_to(labels[small]), calls_to(labels[large])
            for key in CALLS:
                figures[v][f"per_chunk_{key}"] = round((b[key] - a[key]) / chunks, 3)
        return figures, (difference_profile(labels) if profile else None)


def per_request_self_costs(labels, variant):
    a, b = instructions.self_costs(labels[f"{variant} {SMALL}"]), instructions.self_costs(labels[f"{variant} {LARGE}"])
    return {k: (b.get(k, 0) - a.get(k, 0)) / (LARGE - SMALL) for k in set(a) | set(b)}


def difference_profile(labels, top=20):
    """The functions that make shared's added instructions: self cost per request, shared minus local."""
    local, shared = per_request_self_costs(labels, "local"), per_request_self_costs(labels, "shared")
    diff = {k: shared.get(k, 0) - local.get(k, 0) for k in set(local) | set(shared)}
    return [(round(v), k[:110]) for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:top]]


def count_instructions(driver, url, runs, profile):
    """The median per variant over `runs` callgrind runs (per request they agree to ~2 %)."""
    results = [count_once(driver, url, profile and i == 0) for i in range(runs)]
    figures = {}
    for v in VARIANTS:
        figures[v] = {k: statistics.median(r[0][v][k] for r in results) for k in results[0][0][v]}
        figures[v]["instructions_runs"] = [r[0][v]["instructions"] for r in results]
        if v in STREAMED:
            figures[v]["per_chunk_runs"] = [r[0][v]["per_chunk"] for r in results]
    return figures, results[0][1]


def server_info(redis):
    """The INFO counters compared around a run."""
    text = redis.command("INFO", "all")
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#"))
    evalsha = fields.get("cmdstat_evalsha", "calls=0,usec=0")
    return {"evalsha": int(re.search(r"calls=(\d+)", evalsha).group(1)),
            "evalsha_usec": int(re.search(r"usec=(\d+)", evalsha).group(1)), "commands": int(fields["total_commands_processed"]),
            "reads": int(fields["total_reads_processed"]), "net_in_bytes": int(fields["total_net_input_bytes"]),
            "net_out_bytes": int(fields["total_net_output_bytes"])}


def server_view(driver, redis, n1, n2):
    """Per request, as Redis saw it: EVALSHA calls and the server's µs in them, commands (those
    the scripts run included), read events (the client's writes), bytes in and out."""
    out = {}
    for v in VARIANTS:
        deltas = []
        for n in (n1, n2):
            before = server_info(redis)
            run = subprocess.run([driver, "calls", redis.url, v, str(n)], capture_output=True, text=True, check=True)
            check_connected(stats_lines(run.stdout))
            after = server_info(redis)
            deltas.append({k: after[k] - before[k] for k in SERVER_FIELDS})
        out[v] = {k: round((deltas[1][k] - deltas[0][k]) / (n2 - n1), 2) for k in SERVER_FIELDS}
    return out


def wall_clock(driver, url, n, rounds, runs, timeout_ms):
    """Median µs per call over every round of every run (runs = separate processes), and the
    fallbacks to local state (calls past timeout_ms, then reconnect_ms of local state)."""
    per_round = {v: [] for v in VARIANTS}
    p99 = {v: [] for v in VARIANTS}
    fallbacks = {}
    for _ in range(runs):
        run = subprocess.run([driver, "time", url, str(n), str(rounds), str(timeout_ms)],
                             capture_output=True, text=True, check=True)
        for line in run.stdout.splitlines():
            if line.startswith("time "):
                _, v, _, median, q99 = line.split()
                per_round[v].append(float(median))
                p99[v].append(float(q99))
        for name, s in stats_lines(run.stdout).items():
            if s is not None:
                fallbacks[name] = fallbacks.get(name, 0) + s.get("fallbacks", 0)
    out = {}
    for v in VARIANTS:
        out[v] = {"median_us": round(statistics.median(per_round[v]), 1), "min_us": min(per_round[v]),
                  "max_us": max(per_round[v]), "p99_us": round(statistics.median(p99[v]), 1),
                  "rounds": len(per_round[v])}
    return out, fallbacks


def ping_us(redis, n=2000):
    """A bare PING round-trip from Python over loopback, median µs (for scale)."""
    import socket
    with socket.create_connection(("127.0.0.1", redis.port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            got = b""
            while not got.endswith(b"\r\n"):
                got += s.recv(64)
            times.append((time.perf_counter() - t0) * 1e6)
    return round(statistics.median(times), 1)


def table(result):
    ins, srv, wall = result["instructions"], result["server"], result["wall"]
    lines = ["| variant | instructions / request (client) | added vs local | waited round-trips | client writes "
             "| EVALSHA (server) | server µs in scripts | commands incl. in scripts | reads (server) | bytes in / out "
             "| wall µs median (range) | p99 µs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for v in VARIANTS:
        base = "local_cache" if v.endswith("cache") else "local"
        added = ins[v]["instructions"] - ins[base]["instructions"]
        w = wall[v]
        lines.append(f"| {v} | {ins[v]['instructions']:,} | {added:+,} | {ins[v]['client_round_trips']:g} | "
                     f"{ins[v]['client_writes']:g} | {srv[v]['evalsha']:g} | {srv[v]['evalsha_usec']:g} | {srv[v]['commands']:g} | {srv[v]['reads']:g} | "
                     f"{srv[v]['net_in_bytes']:g} / {srv[v]['net_out_bytes']:g} | "
                     f"{w['median_us']:g} ({w['min_us']:g}–{w['max_us']:g}) | {w['p99_us']:g} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("driver", help="bench/c/shared.c built against the library to measure")
    p.add_argument("--lib", required=True, help="the library's directory (reported)")
    p.add_argument("--calls", type=int, default=2000, help="calls per round of the wall-clock run")
    p.add_argument("--rounds", type=int, default=5, help="rounds per wall-clock run")
    p.add_argument("--runs", type=int, default=3, help="wall-clock runs (processes)")
    p.add_argument("--count-runs", type=int, default=3, help="callgrind runs (median)")
    p.add_argument("--profile", action="store_true", help="print what shared adds, by function")
    p.add_argument("--json", required=True)
    args = p.parse_args()
    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    with RedisServer() as redis:
        result = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                  "machine": " ".join(platform.uname()), "cores": os.cpu_count(),
                  "redis": subprocess.run([redis.binary, "--version"], capture_output=True, text=True).stdout.strip(),
                  "library": os.path.realpath(os.path.join(args.lib, "libprovidermux.so")),
                  "server": server_view(args.driver, redis, 20, 220)}
        result["instructions"], profile = count_instructions(args.driver, redis.url, args.count_runs, args.profile)
        # The wall figures of the shared path: timeout_ms 1000, so that no call falls back to
        # local state (a loaded machine can keep redis-server off a core for 20 ms); then one
        # run as configured by default (20 ms), counting the fallbacks it met.
        result["wall"], result["wall_fallbacks"] = wall_clock(args.driver, redis.url, args.calls, args.rounds,
                                                              args.runs, 1000)
        _, result["fallbacks_at_20ms"] = wall_clock(args.driver, redis.url, args.calls, 1, 1, 20)
        result["ping_us"] = ping_us(redis)
    result["load_before"] = load_before
    result["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    print(f"# {result['date']}; load average before / after: {result['load_before']} / {result['load_after']}")
    print(f"# {result['redis']}; library {result['library']}")
    print(table(result))
    print(f"\nbare PING round-trip from Python over loopback: median {result['ping_us']} µs; fallbacks to local "
          f"state in the wall-clock runs (timeout_ms 1000): {result['wall_fallbacks']}; in one round of "
          f"{args.calls} calls at the default timeout_ms 20: {result['fallbacks_at_20ms']}")
    print("per streamed chunk (mock, 16- and 256-word streams; client instructions / Redis round-trips / "
          "writes): " + "; ".join(f"{v} {result['instructions'][v]['per_chunk']:,.0f} / "
                                  f"{result['instructions'][v]['per_chunk_round_trips']:g} / "
                                  f"{result['instructions'][v]['per_chunk_writes']:g}" for v in STREAMED))
    print("instructions per request, each callgrind run: "
          + "; ".join(f"{v} {result['instructions'][v]['instructions_runs']}" for v in VARIANTS)
          + "; per chunk: " + "; ".join(f"{v} {result['instructions'][v]['per_chunk_runs']}" for v in STREAMED))
    if profile:
        print("\nshared minus local, self instructions per request by function:")
        for v, name in profile:
            print(f"{v:>9,}  {name}")


if __name__ == "__main__":
    main()
