# SPDX-License-Identifier: Apache-2.0
"""bench/gateway.sh's measurement (run with the LiteLLM venv's python, which has httpx):
the fake upstream called directly, pmx-gateway in front of it and the LiteLLM proxy in front of
it, in one run. Per repeat: sequential non-streamed requests interleaved between the three
(added latency = a proxy's median / p99 minus the direct one's), then rounds of N concurrent
streams per target (throughput, TTFT). Each server's CPU time over each phase and its RSS after
the run are read from /proc. Figures are medians over the repeats (the machine is shared)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time

import measure
import servers

TARGETS = ("direct", "pmx-gateway", "litellm")


def p99(values: list[float]) -> float:
    """Nearest rank: the smallest value at or above 99 % of the sample."""
    s = sorted(values)
    return s[max(0, math.ceil(0.99 * len(s)) - 1)]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def spread(values: list[float]) -> dict:
    """The median over repeats and the range, for the tables."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


async def run_sequential(urls: dict[str, str], pids: dict[str, int], args) -> dict:
    body = measure.chat_body(args.words, False, servers.MODEL)
    expect = "echo: " + " ".join(f"w{i}" for i in range(args.words))
    clients = {k: measure.client(u, servers.PROXY_KEY, 4) for k, u in urls.items()}
    try:
        cpu0 = {k: servers.cpu_seconds(p) for k, p in pids.items()}
        times = await measure.sequential(clients, body, expect, args.warmup, args.requests)
        cpu = {k: servers.cpu_seconds(p) - cpu0[k] for k, p in pids.items()}
    finally:
        for c in clients.values():
            await c.aclose()
    out = {k: {"median_ms": ms(statistics.median(v)), "p99_ms": ms(p99(v)), "mean_ms": ms(statistics.fmean(v))}
           for k, v in times.items()}
    for k in TARGETS[1:]:
        out[k]["added_median_ms"] = round(out[k]["median_ms"] - out["direct"]["median_ms"], 3)
        out[k]["added_p99_ms"] = round(out[k]["p99_ms"] - out["direct"]["p99_ms"], 3)
    # CPU of each proxy process per request it served (the upstream served all three targets).
    total = args.warmup + args.requests
    for k in ("pmx-gateway", "litellm"):
        out[k]["cpu_ms_per_request"] = round(cpu[k] * 1000 / total, 3)
    out["upstream_cpu_ms_per_request"] = round(cpu["upstream"] * 1000 / (3 * total), 3)
    return out


async def run_streams(name: str, url: str, pids: dict[str, int], args, warm: bool) -> dict:
    body = measure.chat_body(args.stream_words, True, servers.MODEL)
    chunks = args.stream_words + 1  # "echo: " and one delta per word
    c = measure.client(url, servers.PROXY_KEY, args.streams * 2)
    try:
        if warm:  # opens the connections (client → proxy → upstream) outside the figures
            await measure.concurrent_round(c, body, args.streams, chunks)
        proxy = pids.get(name)
        cpu0 = servers.cpu_seconds(proxy) if proxy else 0.0
        rounds = [await measure.concurrent_round(c, body, args.streams, chunks) for _ in range(args.rounds)]
        cpu = (servers.cpu_seconds(proxy) - cpu0) if proxy else 0.0
    finally:
        await c.aclose()
    ttft = [t for r in rounds for t in r["ttft_s"]]
    wall = sum(r["wall_s"] for r in rounds)
    out = {"streams_per_s": round(args.streams * args.rounds / wall, 1),
           "chunks_per_s": round(sum(r["chunks"] for r in rounds) / wall, 0),
           "ttft_median_ms": ms(statistics.median(ttft)), "ttft_p99_ms": ms(p99(ttft)),
           "round_wall_ms": ms(statistics.median(r["wall_s"] for r in rounds))}
    if proxy:
        out["cpu_ms_per_stream"] = round(cpu * 1000 / (args.streams * args.rounds), 3)
    return out


def summarize(repeats: list[dict]) -> dict:
    """{section: {target: {figure: spread over repeats}}}."""
    out: dict = {}
    for section in ("sequential", "streams"):
        out[section] = {}
        for target in TARGETS:
            figures = repeats[0][section].get(target, {})
            out[section][target] = {f: spread([r[section][target][f] for r in repeats]) for f in figures}
    out["upstream_cpu_ms_per_request"] = spread([r["sequential"]["upstream_cpu_ms_per_request"] for r in repeats])
    return out


def cell(s: dict | None, digits: int = 2) -> str:
    if not s:
        return "–"
    if s["min"] == s["max"]:
        return f"{s['median']:.{digits}f}"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


# The columns of each table: (heading, figure, digits).
SEQUENTIAL_COLUMNS = (("median", "median_ms", 2), ("p99", "p99_ms", 2), ("added median", "added_median_ms", 2),
                      ("added p99", "added_p99_ms", 2), ("proxy CPU per request", "cpu_ms_per_request", 2))
STREAM_COLUMNS = (("streams/s", "streams_per_s", 1), ("deltas/s", "chunks_per_s", 0),
                  ("TTFT median ms", "ttft_median_ms", 2), ("TTFT p99 ms", "ttft_p99_ms", 2),
                  ("proxy CPU ms per stream", "cpu_ms_per_stream", 2))


def table(section: dict, columns) -> list[str]:
    lines = ["| target | " + " | ".join(c[0] for c in columns) + " |", "|---|" + "---:|" * len(columns)]
    for t in TARGETS:
        lines.append(f"| {t} | " + " | ".join(cell(section[t].get(key), d) for _, key, d in columns) + " |")
    return lines


def tables(summary: dict, memory: dict, args) -> str:
    lines = [f"Sequential non-streamed chat requests ({args.requests} per target after {args.warmup} warm-up, "
             f"interleaved; ms; median over {args.repeats} repeats, range in brackets):", ""]
    lines += table(summary["sequential"], SEQUENTIAL_COLUMNS)
    lines += ["", f"{args.streams} concurrent streams ({args.stream_words + 1} content deltas each; "
              f"{args.rounds} rounds per target per repeat; median over {args.repeats} repeats):", ""]
    lines += table(summary["streams"], STREAM_COLUMNS)
    lines += ["", "Memory after the run (KiB; process tree):", "", "| server | RSS | peak (VmHWM) |", "|---|---:|---:|"]
    for k, m in memory.items():
        lines.append(f"| {k} | {m['rss_kib']:,} | {m['hwm_kib']:,} |")
    return "\n".join(lines)


def versions(gateway_bin: str) -> dict:
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", servers.ROOT, *a], capture_output=True, text=True).stdout.strip()
    return {"litellm": importlib.metadata.version("litellm"), "httpx": importlib.metadata.version("httpx"),
            "python": platform.python_version(), "pmx_gateway": gateway_bin,
            "pmx_gateway_mtime": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(gateway_bin))),
            "checkout": git("log", "-1", "--format=%h %s")[:100]}


async def main_async(args) -> dict:
    os.environ["PMX_GATEWAY"] = args.gateway
    up = servers.FakeUpstream().start()
    gw = lt = None
    try:
        gw = servers.Gateway(servers.gateway_config(up)).start()
        lt = servers.LiteLLM(args.litellm, up).start()
        urls = {"direct": up.base(servers.SCOPE), "pmx-gateway": gw.url + "/v1", "litellm": lt.url + "/v1"}
        pids = {"upstream": up.proc.pid, "pmx-gateway": gw.proc.pid, "litellm": lt.proc.pid}
        print(f"servers up (litellm ready after {lt.startup_s:.1f} s); load average {load_average()}", file=sys.stderr)
        load_before = load_average()
        repeats = []
        for r in range(args.repeats):
            up.reset()
            seq = await run_sequential(urls, pids, args)
            streams = {}
            order = list(TARGETS[r % 3:] + TARGETS[:r % 3])
            for name in order:
                up.reset()
                streams[name] = await run_streams(name, urls[name], pids, args, warm=(r == 0))
            repeats.append({"sequential": seq, "streams": streams})
            print(f"repeat {r + 1}/{args.repeats}: added median ms pmx {seq['pmx-gateway']['added_median_ms']}, "
                  f"litellm {seq['litellm']['added_median_ms']}; streams/s "
                  + ", ".join(f"{k} {v['streams_per_s']}" for k, v in streams.items()), file=sys.stderr)
        memory = {k: servers.memory_kib(p) for k, p in pids.items()}
        return {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load_before": load_before,
                "load_after": load_average(), "machine": platform.uname()._asdict(), "cores": os.cpu_count(),
                "versions": versions(args.gateway), "litellm_startup_s": round(lt.startup_s, 1),
                "parameters": {k: v for k, v in vars(args).items() if k not in ("gateway", "litellm", "json", "report")},
                "summary": summarize(repeats), "memory_kib": memory, "repeats": repeats}
    finally:
        for s in (lt, gw):
            if s:
                s.stop()
        up.stop()


def report(result: dict) -> str:
    v, args = result["versions"], argparse.Namespace(**result["parameters"])
    return "\n".join([
        f"# {result['date']}; load average before / after: {result['load_before']} / {result['load_after']}",
        f"# litellm {v['litellm']} (ready after {result['litellm_startup_s']} s), httpx {v['httpx']}, python "
        f"{v['python']}; pmx-gateway {v['pmx_gateway']} (built {v['pmx_gateway_mtime']}); checkout {v['checkout']}",
        tables(result["summary"], result["memory_kib"], args), "",
        f"upstream CPU ms per request (all targets): {cell(result['summary']['upstream_cpu_ms_per_request'], 3)}"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--gateway", help="the pmx-gateway executable")
    p.add_argument("--litellm", help="the litellm executable (of its venv)")
    p.add_argument("--requests", type=int, default=300, help="sequential requests per target and repeat")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--words", type=int, default=16, help="prompt words of a sequential request")
    p.add_argument("--streams", type=int, default=100, help="concurrent streams")
    p.add_argument("--stream-words", type=int, default=64, help="prompt words of a stream = its deltas - 1")
    p.add_argument("--rounds", type=int, default=2, help="rounds of concurrent streams per target and repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", help="where to write every figure")
    p.add_argument("--report", metavar="JSON", help="print the tables of an earlier run's JSON instead of measuring")
    args = p.parse_args()
    if not args.report and not (args.gateway and args.litellm and args.json):
        p.error("--gateway, --litellm and --json are needed to measure")
    if args.report:
        with open(args.report) as f:
            result = json.load(f)
    else:
        result = asyncio.run(main_async(args))
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
