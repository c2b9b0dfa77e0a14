# SPDX-License-Identifier: Apache-2.0
"""Starts pmx-gateway (gateway/, a separate executable) over a router config, on a free
loopback port (``--listen 127.0.0.1:0``: the gateway prints ``PORT <n>`` once listening)."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def gateway_binary() -> str:
    """PMX_GATEWAY (ctest sets it to the build's copy), else the package's release build."""
    path = os.environ.get("PMX_GATEWAY") or os.path.join(ROOT, "gateway", ".build", "release", "pmx-gateway")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"pmx-gateway not built at {path}: run scripts/build-gateway.sh (ctest gateway_build does)")
    return path


# The gateway's bearer key (given through ${GW_TEST_KEY}, as a deployment would) and the
# upstream key the router sends: neither may appear in anything the gateway answers or logs.
GW_KEY = "gw-test-key-5f1d2c9a7e"
UPSTREAM_API_KEY = "sk-gw-upstream-key-83c1e0"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def router_config(up: FakeUpstream, **extra) -> dict:
    provider = lambda name, base: {"name": name, "type": "openai-compatible", "base_url": base, "api_key": UPSTREAM_API_KEY}
    config = {
        "providers": [
            provider("up", up.base("a")),
            provider("rl", up.base("rl")),
            provider("down", f"http://127.0.0.1:{closed_port()}/v1"),
            # An `openai` provider: responses.create is passed through to its /responses.
            {**provider("oa", up.base("oa")), "type": "openai"},
        ],
        # One attempt per provider, no breaker: each test sees exactly the failure it scripts.
        "retry": {"max_attempts": 1},
        "circuit_breaker": {"enabled": False},
        "limits": {"max_request_bytes": 65536},
        "gateway": {"keys": ["${GW_TEST_KEY}"]},
    }
    config.update(extra)
    return config


class Gateway:
    def __init__(self, config: dict, env: dict[str, str] | None = None, drain_seconds: int = 30,
                 args: list[str] | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="pmx-gateway-test-")
        self.config_path = os.path.join(self.dir.name, "router.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.env = dict(os.environ, **(env or {}))
        self.drain_seconds = drain_seconds
        self.args = list(args or [])
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.stderr_path = os.path.join(self.dir.name, "stderr.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gateway":
        self.stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [gateway_binary(), "--config", self.config_path, "--listen", "127.0.0.1:0",
             "--drain-seconds", str(self.drain_seconds), *self.args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr, env=self.env)
        self.port = self._read_port()
        return self

    def _read_port(self, timeout: float = 30.0) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise TimeoutError(f"pmx-gateway printed no PORT line; stderr: {self.stderr_text()}")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"pmx-gateway exited ({self.proc.wait()}); stderr: {self.stderr_text()}")
            buf += chunk
        line = buf.split(b"\n", 1)[0].decode()
        assert line.startswith("PORT "), line
        return int(line.split()[1])

    def stderr_text(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        self.terminate()
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None
        self.dir.cleanup()
        return code

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
