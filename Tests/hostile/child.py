#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The child process of the hostile harness: loads libprovidermux with ctypes (the raw
declarations of bindings/python/providermux/_lib.py, so no binding-level guard hides what the
library itself does), runs hostile cases and prints one JSON line per case on stdout:

    {"begin": ID}                  before the case (the parent blames a crash on it)
    {"end": ID, "result": {...}}   after it

The cases come as one JSON document on stdin: {"cases": [{"id", "steps": [...], "log": bool,
"mem": bool}, ...]}. A case is a list of steps run in order against one router (created by a
"router" step, freed at the end of the case); the result holds one record per step:
{"op", "status", "status_name", "http_status", "provider", "message", "out", "events"} where
"out" is the returned string and "events" the stream events (every string the library handed
over, so the parent can look for keys and negative numbers in all of it). "log": true installs a
TRACE log callback for the case ("log" in the result). "mem": true adds {"rss_kb", "hwm_kb"}:
VmRSS before the case and VmHWM after it (VmHWM is reset first where the kernel allows).

Steps: router(config) provider_new(config) complete(request) stream(request)
stream_pull(request) (typed events: every string in "strings") stream_async(request[, cancel_at, free_at, return_at, wait_s]) embed(request) models health
stats stats_ex(options) update_routing(routing) add_provider(config) sleep(ms) free,
observe (sets a per-request observer collecting its records), records (the records so far, as
the step's "events"), and
py(fn, args) which runs a function of Tests/hostile/child_ops.py (re-entrancy and memory
cases, which need code inside callbacks).
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, HERE)

from providermux import _lib  # noqa: E402  (loads $PROVIDERMUX_LIB)

L = _lib


def status_name(code: int) -> str:
    return (L.pmx_status_name(code) or b"").decode()


def err_record(op: str, rc: int, err: L.PmxError, out: str | None = None,
               events: list[str] | None = None) -> dict:
    return {"op": op, "status": rc, "status_name": status_name(rc),
            "http_status": err.http_status, "attempts": err.attempts, "provider": err.provider.decode("utf-8", "replace"),
            "message": err.message.decode("utf-8", "replace"), "out": out,
            "events": events or []}


def take(ptr: ctypes.c_void_p) -> str | None:
    data = L.take_string(ptr)
    return None if data is None else data.decode("utf-8", "replace")


def proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_hwm() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


class Case:
    def __init__(self) -> None:
        self.router = ctypes.c_void_p()
        self.keep: list = []  # CFUNCTYPE objects C may still call
        self.records: list[str] = []  # observer records (pmx_router_set_observer)

    # --- steps ---
    def router_step(self, config: str) -> dict:
        err = L.PmxError()
        if self.router:
            L.pmx_router_free(self.router)
            self.router = ctypes.c_void_p()
        rc = L.pmx_router_new(ctypes.byref(self.router), config.encode("utf-8", "surrogatepass"),
                              ctypes.byref(err))
        return err_record("router", rc, err)

    def provider_new(self, config: str) -> dict:
        err = L.PmxError()
        p = ctypes.c_void_p()
        rc = L.pmx_provider_new(ctypes.byref(p), config.encode("utf-8", "surrogatepass"),
                                ctypes.byref(err))
        L.pmx_provider_free(p)
        return err_record("provider_new", rc, err)

    def add_provider(self, config: str) -> dict:
        err = L.PmxError()
        p = ctypes.c_void_p()
        rc = L.pmx_provider_new(ctypes.byref(p), config.encode("utf-8", "surrogatepass"),
                                ctypes.byref(err))
        if rc == 0:
            rc = L.pmx_router_add_provider(self.router, p, ctypes.byref(err))
            L.pmx_provider_free(p)
        return err_record("add_provider", rc, err)

    def call_out(self, op: str, fn, *args) -> dict:
        err = L.PmxError()
        out = ctypes.c_void_p()
        rc = fn(ctypes.byref(out), self.router, *args, ctypes.byref(err))
        return err_record(op, rc, err, take(out))

    def stream(self, request: str, return_at: int | None = None) -> dict:
        events: list[str] = []

        def on_event(data, length, _ud):
            events.append(ctypes.string_at(data, length).decode("utf-8", "replace"))
            return 1 if return_at is not None and len(events) == return_at else 0
        cb = L.EVENT_FN(on_event)
        err = L.PmxError()
        out = ctypes.c_void_p()
        rc = L.pmx_router_stream(ctypes.byref(out), self.router, request.encode(), cb, None,
                                 ctypes.byref(err))
        return err_record("stream", rc, err, take(out), events)

    def stream_pull(self, request: str) -> dict:
        """pmx_router_stream_open + pmx_stream_next to the end, 3 events a call, JSON asked for:
        every typed string (text, names, tool-call pieces) goes to "strings", the JSON to
        "events"."""
        from providermux import _pull  # the pmx_event layout (ctypes structs only)
        err = L.PmxError()
        handle = ctypes.c_void_p()
        rc = L.pmx_router_stream_open(ctypes.byref(handle), self.router, request.encode(), ctypes.byref(err))
        if rc != 0:
            return err_record("stream_pull", rc, err)
        events: list[str] = []
        strings: list[str] = []
        buf = (_pull.PmxEvent * 3)()
        count = ctypes.c_size_t()
        ended = False
        str_fields = [f for f, t in _pull.PmxEvent._fields_ if t is ctypes.c_char_p]
        tool_fields = [f for f, t in _pull.PmxToolCallDelta._fields_ if t is ctypes.c_char_p]

        def text(struct, field):
            address = ctypes.c_void_p.from_buffer(struct, getattr(type(struct), field).offset).value
            return ctypes.string_at(address, getattr(struct, field + "_len")).decode("utf-8", "replace")
        while not ended and rc == 0:
            rc = L.pmx_stream_next(ctypes.addressof(buf), 3, ctypes.sizeof(_pull.PmxEvent), ctypes.byref(count),
                                   handle, 15000, 1, ctypes.byref(err))
            for i in range(count.value if rc == 0 else 0):
                e = buf[i]
                strings.extend(text(e, f) for f in str_fields if getattr(e, f) is not None and f != "json")
                for k in range(e.tool_call_count):
                    t = e.tool_calls[k]
                    strings.extend(text(t, f) for f in tool_fields if getattr(t, f) is not None)
                events.append(text(e, "json"))
                ended = e.type in (6, 7)  # PMX_EVENT_DONE, PMX_EVENT_ERROR
            if rc == 0 and count.value == 0:
                break  # 15 s without an event: reported as it is (no terminal event)
        L.pmx_stream_free(handle)
        rec = err_record("stream_pull", rc, err, None, events)
        rec["strings"] = strings
        return rec

    def stream_async(self, request: str, cancel_at: int | None = None,
                     free_at: int | None = None, return_at: int | None = None,
                     wait_s: float = 30) -> dict:
        """Events arrive on the router's I/O thread; ``cancel_at``/``free_at``/``return_at`` N:
        call pmx_stream_cancel / pmx_stream_free / return non-zero from inside the N-th event's
        callback (1-based)."""
        events: list[str] = []
        done = threading.Event()
        handle = ctypes.c_void_p()
        freed = [False]

        def on_event(data, length, _ud):
            text = ctypes.string_at(data, length).decode("utf-8", "replace")
            events.append(text)
            n = len(events)
            if '"type":"done"' in text.replace(" ", "") or '"type":"error"' in text.replace(" ", ""):
                done.set()
            if n in (cancel_at, free_at):
                # The first events may come before pmx_router_stream_async has stored the
                # handle (the header allows it): wait for it, briefly.
                limit = time.monotonic() + 2
                while not handle.value and time.monotonic() < limit:
                    time.sleep(0.001)
            if cancel_at == n:
                L.pmx_stream_cancel(handle)
            if free_at == n and not freed[0]:
                freed[0] = True
                L.pmx_stream_free(handle)
            return 1 if return_at == n else 0
        cb = L.EVENT_FN(on_event)
        self.keep.append(cb)
        err = L.PmxError()
        rc = L.pmx_router_stream_async(ctypes.byref(handle), self.router, request.encode(), cb,
                                       None, ctypes.byref(err))
        finished = True
        if rc == 0:
            finished = done.wait(wait_s)
            time.sleep(0.05)  # a second terminal event (a bug) would arrive now
            if not freed[0]:
                L.pmx_stream_free(handle)
        rec = err_record("stream_async", rc, err, None, list(events))
        rec["finished"] = finished
        return rec

    def run_step(self, step: dict) -> dict:
        op = step["op"]
        if op == "router":
            return self.router_step(step["config"])
        if op == "provider_new":
            return self.provider_new(step["config"])
        if op == "add_provider":
            return self.add_provider(step["config"])
        if op == "complete":
            return self.call_out(op, L.pmx_router_complete, step["request"].encode())
        if op == "embed":
            return self.call_out(op, L.pmx_router_embed, step["request"].encode())
        if op == "models":
            return self.call_out(op, L.pmx_router_models)
        if op == "health":
            return self.call_out(op, L.pmx_router_health)
        if op == "stats":
            return self.call_out(op, L.pmx_router_stats)
        if op == "stats_ex":
            return self.call_out(op, L.pmx_router_stats_ex, step["options"].encode())
        if op == "stream":
            return self.stream(step["request"], step.get("return_at"))
        if op == "stream_pull":
            return self.stream_pull(step["request"])
        if op == "stream_async":
            return self.stream_async(step["request"], step.get("cancel_at"),
                                     step.get("free_at"), step.get("return_at"),
                                     step.get("wait_s", 30))
        if op == "update_routing":
            err = L.PmxError()
            rc = L.pmx_router_update_routing(self.router, step["routing"].encode(),
                                             ctypes.byref(err))
            return err_record(op, rc, err)
        if op == "observe":
            def on_record(data, length, _ud):
                self.records.append(ctypes.string_at(data, length).decode("utf-8", "replace"))
            cb = L.OBSERVER_FN(on_record)
            self.keep.append(cb)
            err = L.PmxError()
            rc = L.pmx_router_set_observer(self.router, cb, None, ctypes.byref(err))
            return err_record(op, rc, err)
        if op == "records":
            return err_record(op, 0, L.PmxError(), None, list(self.records))
        if op == "sleep":
            time.sleep(step["ms"] / 1000)
            return {"op": op, "status": 0}
        if op == "py":
            import child_ops
            rec = getattr(child_ops, step["fn"])(self, **step.get("args", {}))
            rec["op"] = "py:" + step["fn"]
            return rec
        raise ValueError("unknown step " + op)

    def close(self) -> None:
        if self.router:
            L.pmx_router_free(self.router)
            self.router = ctypes.c_void_p()


LOG_LINES: list[str] = []


def on_log(level, message, length, _ud):
    LOG_LINES.append(ctypes.string_at(message, length).decode("utf-8", "replace"))


LOG_CB = L.LOG_FN(on_log)


def run_case(case: dict) -> dict:
    if case.get("log"):
        L.pmx_set_log_callback(LOG_CB, 0, None)
    if case.get("mem"):
        reset_hwm()
    rss = proc_status("VmRSS")
    c = Case()
    steps = []
    try:
        for step in case["steps"]:
            steps.append(c.run_step(step))
    finally:
        c.close()
    result: dict = {"steps": steps}
    if case.get("mem"):
        result["rss_kb"] = rss
        result["hwm_kb"] = proc_status("VmHWM")
    if case.get("log"):
        L.pmx_set_log_callback(L.LOG_FN(), 0, None)
        result["log"] = list(LOG_LINES)
        LOG_LINES.clear()
    return result


def emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    spec = json.loads(sys.stdin.read())
    for case in spec["cases"]:
        emit({"begin": case["id"]})
        try:
            result = run_case(case)
        except Exception:  # a harness bug, told apart from a library failure
            import traceback
            result = {"harness_error": traceback.format_exc()}
        emit({"end": case["id"], "result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
