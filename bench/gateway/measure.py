# SPDX-License-Identifier: Apache-2.0
"""The client of bench/gateway.sh: one asyncio program with httpx, the same code for every
target (the upstream called directly, pmx-gateway, the LiteLLM proxy). Every answer is checked
(the echoed text, a complete stream ending in [DONE]): a failing target stops the bench."""

from __future__ import annotations

import asyncio
import json
import time

import httpx


def chat_body(words: int, stream: bool, model: str) -> bytes:
    """A prompt of `words` words: the fake upstream echoes it, one stream chunk per word."""
    body = {"model": model, "messages": [{"role": "user", "content": " ".join(f"w{i}" for i in range(words))}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json.dumps(body).encode()


def client(base_url: str, key: str, connections: int) -> httpx.AsyncClient:
    """Keep-alive HTTP/1.1 connections, enough for every concurrent stream."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120.0,
                             headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})


async def complete(c: httpx.AsyncClient, body: bytes, expect: str) -> float:
    """One non-streamed chat request: seconds from send to the parsed answer."""
    t0 = time.perf_counter()
    r = await c.post("/chat/completions", content=body)
    text = r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else None
    elapsed = time.perf_counter() - t0
    if text != expect:
        raise RuntimeError(f"{c.base_url}: HTTP {r.status_code}, unexpected answer {r.text[:300]!r}")
    return elapsed


async def sequential(clients: dict[str, httpx.AsyncClient], body: bytes, expect: str,
                     warmup: int, n: int) -> dict[str, list[float]]:
    """Sequential requests, interleaved between the targets (one to each per step, the order
    rotating), so that the machine's load drifts over all of them alike."""
    names = list(clients)
    times: dict[str, list[float]] = {k: [] for k in names}
    for i in range(warmup + n):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            dt = await complete(clients[name], body, expect)
            if i >= warmup:
                times[name].append(dt)
    return times


async def one_stream(c: httpx.AsyncClient, body: bytes, expect_chunks: int) -> tuple[float, int]:
    """One streamed request: (seconds to the first content delta, content deltas)."""
    t0 = time.perf_counter()
    ttft, chunks, done = None, 0, False
    async with c.stream("POST", "/chat/completions", content=body) as r:
        if r.status_code != 200:
            raise RuntimeError(f"{c.base_url}: stream HTTP {r.status_code}: {(await r.aread())[:300]!r}")
        async for line in r.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                break
            event = json.loads(data)
            if "error" in event:
                raise RuntimeError(f"{c.base_url}: error event {data[:300]}")
            choices = event.get("choices") or []
            if choices and (choices[0].get("delta") or {}).get("content"):
                if ttft is None:
                    ttft = time.perf_counter() - t0
                chunks += 1
    if not done or ttft is None or chunks != expect_chunks:
        raise RuntimeError(f"{c.base_url}: stream ended early ({chunks}/{expect_chunks} deltas, [DONE] {done})")
    return ttft, chunks


async def concurrent_round(c: httpx.AsyncClient, body: bytes, streams: int, expect_chunks: int) -> dict:
    """`streams` streams started at once: wall time to the last one's end, every TTFT."""
    t0 = time.perf_counter()
    results = await asyncio.gather(*(one_stream(c, body, expect_chunks) for _ in range(streams)))
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "ttft_s": [r[0] for r in results], "chunks": sum(r[1] for r in results)}
