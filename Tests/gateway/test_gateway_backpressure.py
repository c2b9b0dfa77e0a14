# SPDX-License-Identifier: Apache-2.0
"""A streaming client that stops reading must not make pmx-gateway buffer without bound: what
waits for one client is at most --max-queued-bytes (then the request is cancelled and the
connection closed). Checked with the gateway's own counters, read from /metrics, while a raw
socket client with a tiny receive buffer sits on a long stream without reading it."""

from __future__ import annotations

import json
import socket
import time

from prometheus_client.parser import text_string_to_metric_families

from gateway_fixture import GW_KEY, Gateway, router_config
from test_gateway import client, raw, user

BOUND = 65536


def metrics(gw) -> dict[str, float]:
    status, _, body = raw(gw, "GET", "/metrics")
    assert status == 200
    return {s.name: s.value for f in text_string_to_metric_families(body.decode()) for s in f.samples if not s.labels}


def wait_for(gw, predicate, what: str, deadline_s: float = 120):
    """Polls /metrics until `predicate` holds (a wait for an event, not a timing assertion)."""
    end = time.monotonic() + deadline_s
    while True:
        m = metrics(gw)
        if predicate(m):
            return m
        assert time.monotonic() < end, f"gave up waiting for {what}: {m}"
        time.sleep(0.1)


def test_client_that_stops_reading(upstream):
    upstream.reset()
    # The fake upstream echoes the prompt word by word: 100 000 words are ~16 MB of SSE from
    # the gateway, far above the bound plus what the kernel's socket buffers take (~4 MB).
    prompt = "ab " * 100_000
    config = router_config(upstream, limits={"max_request_bytes": 1 << 20})
    with Gateway(config, env={"GW_TEST_KEY": GW_KEY}, args=["--max-queued-bytes", str(BOUND)]) as gw:
        body = json.dumps({"model": "up/fake-small", "stream": True, "messages": user(prompt)}).encode()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        s.connect(("127.0.0.1", gw.port))
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  + f"Authorization: Bearer {GW_KEY}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        try:
            # Never read: the stream overruns its bound and its request is cancelled (a failure
            # in the router's counters; left alone, the upstream would have finished it).
            m = wait_for(gw, lambda m: m.get("pmx_gateway_stream_overruns_total", 0) >= 1
                         and m.get("pmx_router_failures_total", 0) >= 1, "the overrun and the cancelled request")
            assert m["pmx_gateway_stream_overruns_total"] == 1
            assert m["pmx_router_failures_total"] == 1 and m["pmx_router_successes_total"] == 0
            assert 0 < m["pmx_gateway_stream_queued_bytes_peak"] <= BOUND
            assert m["pmx_gateway_stream_queued_bytes"] <= BOUND
            # The cut stream's connection is closed by the gateway: the unread socket sees its end
            # after what the kernel buffered (no [DONE]: the stream is not complete).
            s.settimeout(60)
            data = b""
            while chunk := s.recv(1 << 16):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200") and b"data: [DONE]" not in data
            assert len(data) < 16_000_000  # far from the whole stream
        finally:
            s.close()
        # The client is gone: its stream is closed and nothing stays counted.
        wait_for(gw, lambda m: m.get("pmx_gateway_open_streams", 1) == 0 and m.get("pmx_gateway_stream_queued_bytes", 1) == 0,
                 "the stream's end")
        # A client that reads gets its whole stream from the same gateway.
        got = "".join(c.choices[0].delta.content or "" for c in client(gw).chat.completions.create(
            model="up/fake-small", messages=user("still serving"), stream=True) if c.choices)
        assert got == "echo: still serving"
        assert metrics(gw)["pmx_gateway_stream_overruns_total"] == 1
