# SPDX-License-Identifier: Apache-2.0
"""pmx-gateway's own CPU time and context switches per request (bench/gateway-cpu.sh).

One fake upstream (Tests/upstream) and one pmx-gateway over it (bench/gateway/servers.py's
config), then rounds of N sequential requests on one keep-alive connection (http.client: the
client is the same for every build compared). Per round, read from /proc around it:
- CPU ms per request: the gateway's utime + stime (/proc/PID/stat, every thread, exited ones
  included) over the round / N;
- context switches per request: voluntary + nonvoluntary (/proc/PID/task/*/status, summed
  over the threads) over the round / N.
Plain = non-streamed chat (16-word prompt); stream = streamed chat (64 words: 65 deltas, the
usage chunk, [DONE]). Every answer is checked. Prints the median and range over the rounds, and
the load average before and after (the machine is shared: compare builds in one run, or at
similar loads)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import MODEL, PROXY_KEY, SCOPE, Gateway, FakeUpstream, cpu_seconds, gateway_config  # noqa: E402


def switches(pid: int) -> int:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


def body(words: int, stream: bool) -> tuple[bytes, str]:
    prompt = " ".join(f"w{i}" for i in range(words))
    doc = {"model": MODEL, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        doc.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(doc).encode(), prompt


def one(conn: http.client.HTTPConnection, payload: bytes, prompt: str, stream: bool) -> None:
    conn.request("POST", "/v1/chat/completions", body=payload,
                 headers={"Authorization": f"Bearer {PROXY_KEY}", "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {data[:300]!r}")
    if stream:
        if not data.rstrip().endswith(b"data: [DONE]") or data.count(b"data: ") < 66:
            raise RuntimeError(f"incomplete stream: {data[-300:]!r}")
    elif prompt not in json.loads(data)["choices"][0]["message"]["content"]:
        raise RuntimeError(f"unexpected answer: {data[:300]!r}")


def measure(gw: Gateway, up: FakeUpstream, requests: int, rounds: int, warmup: int, stream: bool) -> dict:
    payload, prompt = body(64 if stream else 16, stream)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    for _ in range(warmup):
        one(conn, payload, prompt, stream)
    cpu, cs = [], []
    for _ in range(rounds):
        up.reset(SCOPE)  # the upstream's request log: it would grow with every request
        c0, s0 = cpu_seconds(gw.proc.pid), switches(gw.proc.pid)
        for _ in range(requests):
            one(conn, payload, prompt, stream)
        c1, s1 = cpu_seconds(gw.proc.pid), switches(gw.proc.pid)
        cpu.append((c1 - c0) * 1000 / requests)
        cs.append((s1 - s0) / requests)
    conn.close()
    return {"cpu_ms": cpu, "switches": cs}


def line(name: str, values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=1000, help="requests per round (default 1000)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per kind (default 5)")
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--json", help="also write the figures here")
    a = p.parse_args()
    load0 = os.getloadavg()
    result = {"gateway": os.environ.get("PMX_GATEWAY", ""), "requests": a.requests, "rounds": a.rounds}
    with FakeUpstream() as up:
        gw = Gateway(gateway_config(up)).start()
        try:
            for kind, stream in (("plain", False), ("stream", True)):
                result[kind] = measure(gw, up, a.requests, a.rounds, a.warmup, stream)
        finally:
            gw.stop()
    result["loadavg"] = [load0[0], os.getloadavg()[0]]
    print(f"pmx-gateway {result['gateway']}: {a.rounds} rounds x {a.requests} sequential requests; "
          f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print("| kind | CPU ms / request | context switches / request |")
    print("|---|---:|---:|")
    for kind in ("plain", "stream"):
        r = result[kind]
        print(f"| {kind} | {line(kind, r['cpu_ms'], 3)} | {line(kind, r['switches'], 1)} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
