# SPDX-License-Identifier: Apache-2.0
"""pmx-gateway's lifecycle and load: SIGTERM during a stream (it completes, new connections are
refused, exit status 0) and 100 concurrent streams over loopback with the SDK's async client
(all complete, none fails). Each test runs its own gateway."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request

import openai

from gateway_fixture import GW_KEY, Gateway, router_config


def test_sigterm_lets_the_open_stream_finish(up):
    words = [f"w{i}" for i in range(10)]
    up.script("a", [{"chunk_delay_ms": 150}])
    gw = Gateway(router_config(up), env={"GW_TEST_KEY": GW_KEY}).start()
    try:
        c = openai.OpenAI(base_url=gw.url + "/v1", api_key=GW_KEY, max_retries=0, timeout=30)
        stream = c.chat.completions.create(model="up/fake-small", messages=[{"role": "user", "content": " ".join(words)}], stream=True)
        got = []
        refused = None
        for chunk in stream:
            if chunk.choices:
                got.append(chunk.choices[0].delta.content or "")
            if len(got) == 2:
                gw.terminate()  # SIGTERM while the stream has most of its words to go
                time.sleep(0.3)
                try:
                    socket.create_connection(("127.0.0.1", gw.port), timeout=2).close()
                    refused = False
                except OSError:
                    refused = True
        assert "".join(got) == "echo: " + " ".join(words)
        assert refused, "the listener still accepted connections after SIGTERM"
        assert gw.proc.wait(timeout=30) == 0
    finally:
        gw.stop()


def test_load_100_concurrent_streams(up):
    with Gateway(router_config(up), env={"GW_TEST_KEY": GW_KEY}) as gw:
        async def one(c: openai.AsyncOpenAI, i: int) -> str:
            stream = await c.chat.completions.create(
                model="up/fake-small", messages=[{"role": "user", "content": f"load {i} a b c d"}], stream=True)
            return "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

        async def run() -> list:
            async with openai.AsyncOpenAI(base_url=gw.url + "/v1", api_key=GW_KEY, max_retries=0, timeout=60) as c:
                return await asyncio.gather(*(one(c, i) for i in range(100)), return_exceptions=True)

        results = asyncio.run(run())
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, f"{len(errors)} streams failed, first: {errors[0]!r}"
        assert results == [f"echo: load {i} a b c d" for i in range(100)]
        assert len(up.requests("a")) == 100

        with urllib.request.urlopen(gw.url + "/metrics", timeout=30) as r:
            metrics = r.read().decode()
        assert "pmx_gateway_open_streams 0" in metrics
        assert "pmx_gateway_streams_total 100" in metrics
