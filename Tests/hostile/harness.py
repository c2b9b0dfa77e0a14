# SPDX-License-Identifier: Apache-2.0
"""Parent side of the hostile harness: the chaos upstream's lifecycle and control calls, the
child-process runner, and the assertions every hostile case shares.

``run_cases(cases)`` runs cases in child processes (Tests/hostile/child.py), one after another
in one child, and returns {id: Outcome}. A child killed by a signal fails the case it was running
(named with the signal) and a fresh child goes on with the rest; a case that gives no result
within its timeout is a hang: the child is killed, the case fails, the rest go on. So one trap
or deadlock never takes the runner down and never hides the cases after it.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Tests", "upstream"))
sys.path.insert(0, HERE)

from upstream import FakeUpstream  # noqa: E402

CHILD = os.path.join(HERE, "child.py")
CHAOS = os.path.join(HERE, "chaos_upstream.py")

# Status codes (include/providermux.h).
OK = 0
ERR_INVALID_JSON = -2
ERR_CONFIG = -4
ERR_INVALID_REQUEST = -7
ERR_CANCELLED = -11
ERR_UPSTREAM_PROTOCOL = -17
ERR_STREAM_INTERRUPTED = -18
ERR_WOULD_DEADLOCK = -32

SECRET = "sk-hostile-K3y-9f8e7d6c5b4a"


# ---------------------------------------------------------------------------------------------
# The chaos upstream (a subprocess, like the fake upstream; the same start/stop code)
# ---------------------------------------------------------------------------------------------

class ChaosUpstream(FakeUpstream):
    def command(self) -> list[str]:
        return [sys.executable, CHAOS, "--port", "0", "--exit-on-stdin-eof"]

    def script(self, scope: str, responses: list[dict], default: dict | None = None) -> None:
        self._call("POST", f"/_chaos/{scope}/script", {"responses": responses,
                                                       "default": default})

    def received(self, scope: str) -> list[dict]:
        return self._call("GET", f"/_chaos/{scope}/received")["requests"]

    def reset(self, scope: str | None = None) -> None:
        self._call("POST", "/_chaos/reset", {})


# ---------------------------------------------------------------------------------------------
# Child processes
# ---------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    id: str
    result: dict | None = None
    failure: str | None = None  # "killed by SIGSEGV", "hang", ...
    stderr: str = ""

    def __repr__(self) -> str:  # short: pytest prints it in every failed assertion
        return f"Outcome({self.id!r}, failure={self.failure!r})"

    @property
    def steps(self) -> list[dict]:
        return (self.result or {}).get("steps", [])

    def ok(self) -> "Outcome":
        """Asserts the child finished the case normally; returns self."""
        assert self.failure is None, f"case {self.id}: {self.failure}\n{self.stderr[-3000:]}"
        assert self.result is not None
        assert "harness_error" not in self.result, self.result["harness_error"]
        return self

    def step(self, op: str, n: int = 0) -> dict:
        found = [s for s in self.steps if s.get("op") == op]
        return found[n]


def signal_name(rc: int) -> str:
    try:
        return signal.Signals(-rc).name
    except ValueError:
        return f"signal {-rc}"


# Children run side by side (most of a case's time is waiting on loopback I/O).
JOBS = max(1, int(os.environ.get("HOSTILE_JOBS", "2")))


def run_cases(cases: list[dict], timeout: float = 30.0, env: dict | None = None) -> dict[str, Outcome]:
    """Runs ``cases`` (child.py's format) in child processes; ``timeout`` per case."""
    child_env = dict(os.environ)
    child_env.setdefault("SWIFT_BACKTRACE", "enable=no")
    if env:
        child_env.update(env)
    jobs = min(JOBS, max(1, len(cases) // 8))
    shares = [cases[i::jobs] for i in range(jobs)]

    def run_share(share: list[dict]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        pending = list(share)
        while pending:
            pending = _run_child(pending, timeout, child_env, outcomes)
        return outcomes
    if jobs == 1:
        return run_share(cases)
    from concurrent.futures import ThreadPoolExecutor
    merged: dict[str, Outcome] = {}
    with ThreadPoolExecutor(jobs) as pool:
        for part in pool.map(run_share, shares):
            merged.update(part)
    return merged


def _run_child(cases: list[dict], timeout: float, env: dict,
               outcomes: dict[str, Outcome]) -> list[dict]:
    """One child over ``cases``; returns the cases still to run after a failure."""
    proc = subprocess.Popen([sys.executable, CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdin.write(json.dumps({"cases": cases}).encode())
    proc.stdin.close()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    buf, err = b"", b""
    current: str | None = None
    done_ids: set[str] = set()
    deadline = time.monotonic() + timeout
    open_streams = 2
    hung = False
    while open_streams:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            break
        for key, _ in sel.select(min(left, 1.0)):
            data = os.read(key.fileobj.fileno(), 1 << 16)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.data == "err":
                err = (err + data)[-20000:]
                continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                if "begin" in msg:
                    current = msg["begin"]
                    deadline = time.monotonic() + timeout
                else:
                    outcomes[msg["end"]] = Outcome(msg["end"], result=msg["result"])
                    done_ids.add(msg["end"])
                    current = None
    sel.close()
    if hung:
        proc.kill()
    rc = proc.wait()
    stderr = err.decode("utf-8", "replace")
    if hung:
        failure = f"hang: no result within {timeout:.0f} s (child killed)"
    elif rc < 0:
        failure = f"child killed by {signal_name(rc)}"
    elif rc != 0:
        failure = f"child exited with status {rc}"
    else:
        failure = None
    if current is None and failure is not None:
        # Died between cases (or before the first one began): blame the next case.
        nxt = [c for c in cases if c["id"] not in done_ids]
        current = nxt[0]["id"] if nxt else None
    if current is not None:
        outcomes[current] = Outcome(current, failure=failure or "no result", stderr=stderr)
        done_ids.add(current)
    return [c for c in cases if c["id"] not in done_ids] if failure or current else []


def run_one(steps: list[dict], timeout: float = 30.0, env: dict | None = None,
            **flags) -> Outcome:
    return run_cases([{"id": "one", "steps": steps, **flags}], timeout, env)["one"]


class BatchCache:
    """Runs a whole group of parametrized cases in one child on first use, so that pytest can
    report each case alone (and mark one xfail) without a process per case."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, Outcome]] = {}

    def get(self, group: str, case_id: str, build, timeout: float = 30.0) -> Outcome:
        if group not in self.groups:
            self.groups[group] = run_cases(build(), timeout)
        return self.groups[group][case_id]


# ---------------------------------------------------------------------------------------------
# Assertions
# ---------------------------------------------------------------------------------------------

def terminal_events(step: dict) -> list[dict]:
    """The `done` / `error` events of a stream step (exactly one is the contract)."""
    out = []
    for text in step.get("events") or []:
        try:
            event = json.loads(text)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") in ("done", "error"):
            out.append(event)
    return out


def texts_of(outcome: Outcome) -> list[str]:
    """Every string the library handed to the host in this case."""
    out = []
    for s in outcome.steps:
        for k in ("message", "out", "provider"):
            if s.get(k):
                out.append(s[k])
        out.extend(s.get("events") or [])
        out.extend(s.get("strings") or [])
    out.extend((outcome.result or {}).get("log") or [])
    return out


def documents_of(outcome: Outcome) -> list:
    docs = []
    for s in outcome.steps:
        for text in [s.get("out")] + list(s.get("events") or []):
            if text and text[:1] in "{[":
                try:
                    docs.append(json.loads(text))
                except ValueError:
                    pass
    return docs


COUNT_WORDS = ("token", "count", "duration", "cost", "requests", "successes", "failures",
               "retries", "fallbacks", "attempts", "latency", "ttft", "index")


def negative_counts(doc, path: str = "") -> list[str]:
    """Paths of negative (or non-finite) numbers under count-like keys."""
    bad = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            p = f"{path}.{k}"
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if any(w in k.lower() for w in COUNT_WORDS) and (
                        (isinstance(v, float) and not math.isfinite(v)) or v < 0):
                    bad.append(f"{p}={v}")
            else:
                bad.extend(negative_counts(v, p))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            bad.extend(negative_counts(v, f"{path}[{i}]"))
    return bad


def assert_no_negative_counts(outcome: Outcome) -> None:
    bad = [b for d in documents_of(outcome) for b in negative_counts(d)]
    assert not bad, f"case {outcome.id}: negative counts handed to the host: {bad[:10]}"


def assert_no_secret(outcome: Outcome, secret: str, extra: list[str] = ()) -> None:
    for text in texts_of(outcome) + list(extra):
        assert secret not in text, f"case {outcome.id}: the key appears in {text[:400]!r}"


def names_field(message: str, field: str) -> bool:
    """The message names the field: its full dotted path, or its last component."""
    return field in message or field.split(".")[-1] in message
