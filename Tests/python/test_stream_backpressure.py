# SPDX-License-Identifier: Apache-2.0
"""pmx_router_stream with a blocked callback: memory stays bounded (issue 12, item 3).

A child process (so that VmHWM measures this stream only) streams an answer of ~100,000 chunks
(~15 MB of SSE) from the fake upstream to a callback that blocks for 3 s on the first delta.
The library pauses the transfer once its queue holds 1 MiB of events, so the peak grows by
~10 MiB (mostly the 0.7 MB prompt and answer, copied a few times) instead of ~25 MiB with an
unbounded queue (measured: docs/HARDENING.md); every chunk still arrives, in order.
"""

import json
import os
import subprocess
import sys

import pytest

import pmx_testlib
from pmx_testlib import SECRET

providermux = pytest.importorskip("providermux")

CHILD = r"""
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
import providermux
base_url, words = sys.argv[2], int(sys.argv[3])

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

prompt = " ".join("w" + str(i) for i in range(words))
config = {"providers": [{"name": "a", "type": "openai-compatible", "base_url": base_url, "api_key": sys.argv[4]}],
          "retry": {"max_attempts": 1}, "timeouts": {"idle_ms": 500}}
state = {"blocked": False, "deltas": 0, "text": hashlib.sha256()}

def on_event(event):
    if event["type"] == "delta":
        if not state["blocked"]:
            state["blocked"] = True
            time.sleep(3)
        state["deltas"] += 1
        state["text"].update((event.get("content") or "").encode())

with providermux.Router(config) as router:
    router.complete({"model": "m", "messages": [{"role": "user", "content": "warm up"}]})
    before = hwm()
    response = router.stream_blocking({"model": "m", "messages": [{"role": "user", "content": prompt}]}, on_event)
    after = hwm()
ok = state["text"].hexdigest() == hashlib.sha256(("echo: " + prompt).encode()).hexdigest()
print(json.dumps({"grow": after - before, "deltas": state["deltas"], "text_ok": ok,
                  "provider": response["provider"]}))
"""


def test_blocked_callback_keeps_memory_bounded(up):
    words = 100_000
    out = subprocess.run([sys.executable, "-c", CHILD, pmx_testlib.BINDINGS, up.base("bp"), str(words), SECRET],
                         capture_output=True, text=True, timeout=240, env=dict(os.environ))
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["text_ok"] and result["provider"] == "a"
    assert result["deltas"] >= words
    # ~15 MB of SSE on the wire; an unbounded queue grew the peak by tens of MiB.
    assert result["grow"] < 16 * 2**20, result
