# SPDX-License-Identifier: Apache-2.0
"""The three servers of bench/gateway.sh, all on 127.0.0.1: the project's fake upstream
(Tests/upstream), pmx-gateway over it (Tests/gateway's launcher) and the LiteLLM proxy over it,
plus what is read of each process afterwards (RSS, CPU time from /proc)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "upstream"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "gateway"))

from gateway_fixture import Gateway  # noqa: E402
from upstream import FakeUpstream  # noqa: E402

MODEL = "bench-model"
# The same bearer key for both proxies (and sent to the upstream directly, which ignores it):
# each proxy checks a key per request, as deployed.
PROXY_KEY = "sk-bench-gateway-key-0123456789"
UPSTREAM_KEY = "sk-bench-upstream-key"
SCOPE = "bench"  # the fake upstream's scope: its request log is cleared between phases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_config(upstream: FakeUpstream) -> dict:
    return {"providers": [{"name": "up", "type": "openai-compatible", "base_url": upstream.base(SCOPE),
                           "api_key": UPSTREAM_KEY, "models": [MODEL]}],
            "gateway": {"keys": [PROXY_KEY]}}


def litellm_config(upstream: FakeUpstream) -> str:
    """`openai/<model>` with `api_base` at the same scope: LiteLLM's OpenAI-compatible client."""
    return (f"model_list:\n  - model_name: {MODEL}\n    litellm_params:\n"
            f"      model: openai/{MODEL}\n      api_base: {upstream.base(SCOPE)}\n"
            f"      api_key: {UPSTREAM_KEY}\n"
            f"general_settings:\n  master_key: {PROXY_KEY}\n")


class LiteLLM:
    """`litellm --config FILE --host 127.0.0.1 --port P` with its defaults (one uvicorn worker),
    the cost map read from the package (no network); ready when /health/liveliness answers."""

    def __init__(self, litellm_bin: str, upstream: FakeUpstream) -> None:
        self.bin = litellm_bin
        self.dir = tempfile.TemporaryDirectory(prefix="pmx-bench-litellm-")
        self.config = os.path.join(self.dir.name, "litellm.yaml")
        with open(self.config, "w") as f:
            f.write(litellm_config(upstream))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = os.path.join(self.dir.name, "litellm.log")
        self.startup_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0) -> "LiteLLM":
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_TELEMETRY="False")
        began = time.monotonic()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([self.bin, "--config", self.config, "--host", "127.0.0.1",
                                          "--port", str(self.port)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        while time.monotonic() - began < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"litellm exited ({self.proc.returncode}): {self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/health/liveliness", timeout=2):
                    self.startup_s = time.monotonic() - began
                    return self
            except OSError:
                time.sleep(0.25)
        raise TimeoutError(f"litellm did not answer within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        with open(self.log, "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.dir.cleanup()


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (a proxy may run workers as child processes)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def memory_kib(pid: int) -> dict:
    """VmRSS and VmHWM (peak) summed over the process tree, in KiB."""
    total = {"rss_kib": 0, "hwm_kib": 0}
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total["rss_kib"] += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        total["hwm_kib"] += int(line.split()[1])
        except OSError:
            pass
    return total


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree (all threads), from /proc/PID/stat."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK
