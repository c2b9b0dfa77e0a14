# SPDX-License-Identifier: Apache-2.0
"""Child-side steps that need code inside library callbacks or loops too long to describe as
data (run by child.py's "py" step: fn(case, **args) -> record). Each returns a record like the
other steps; "strings" lists every further string the library handed over (for the secret
checks), "status" is the step's main status."""

from __future__ import annotations

import ctypes
import threading
import time

from child import L, err_record, take

BLOCKING = ("complete", "stream", "embed", "health")
REQUEST = b'{"model":"m1","messages":[{"role":"user","content":"hi"}]}'
EMBED = b'{"model":"m1","input":"hi"}'


def call_blocking(router, kind: str) -> tuple[int, str]:
    """One blocking library call of ``kind`` on ``router``: (status, message)."""
    err = L.PmxError()
    out = ctypes.c_void_p()
    if kind == "complete":
        rc = L.pmx_router_complete(ctypes.byref(out), router, REQUEST, ctypes.byref(err))
    elif kind == "embed":
        rc = L.pmx_router_embed(ctypes.byref(out), router, EMBED, ctypes.byref(err))
    elif kind == "health":
        rc = L.pmx_router_health(ctypes.byref(out), router, ctypes.byref(err))
    elif kind == "models":
        rc = L.pmx_router_models(ctypes.byref(out), router, ctypes.byref(err))
    elif kind == "stats":
        rc = L.pmx_router_stats(ctypes.byref(out), router, ctypes.byref(err))
    elif kind == "stream":
        cb = L.EVENT_FN(lambda d, n, u: 0)
        rc = L.pmx_router_stream(ctypes.byref(out), router, REQUEST, cb, None,
                                 ctypes.byref(err))
    else:
        raise ValueError(kind)
    take(out)
    return rc, err.message.decode("utf-8", "replace")


def nested_in_async(case, kind: str, request: str, at_event: int = 1, wait_s: float = 20) -> dict:
    """Starts an async stream on the case's router and, from inside its ``at_event``-th
    callback (the router's I/O thread), makes the blocking call ``kind`` on the SAME router.
    The record: the nested call's status, message and duration, and the outer stream's
    events."""
    events: list[str] = []
    nested: dict = {}
    done = threading.Event()

    def on_event(data, length, _ud):
        text = ctypes.string_at(data, length).decode("utf-8", "replace")
        events.append(text)
        if len(events) == at_event:
            t0 = time.monotonic()
            rc, msg = call_blocking(case.router, kind)
            nested.update(status=rc, message=msg, seconds=time.monotonic() - t0)
        if '"type":"done"' in text or '"type":"error"' in text:
            done.set()
        return 0
    cb = L.EVENT_FN(on_event)
    case.keep.append(cb)
    err = L.PmxError()
    handle = ctypes.c_void_p()
    rc = L.pmx_router_stream_async(ctypes.byref(handle), case.router, request.encode(), cb, None,
                                   ctypes.byref(err))
    finished = done.wait(wait_s) if rc == 0 else True
    L.pmx_stream_free(handle)
    rec = err_record("nested_in_async", rc, err, None, events)
    rec.update(finished=finished, nested=nested, strings=[nested.get("message", "")])
    return rec


def nested_in_stream(case, kind: str, request: str) -> dict:
    """The same from inside a BLOCKING pmx_router_stream's callback (the caller's thread)."""
    events: list[str] = []
    nested: dict = {}

    def on_event(data, length, _ud):
        events.append(ctypes.string_at(data, length).decode("utf-8", "replace"))
        if len(events) == 1:
            t0 = time.monotonic()
            rc, msg = call_blocking(case.router, kind)
            nested.update(status=rc, message=msg, seconds=time.monotonic() - t0)
        return 0
    cb = L.EVENT_FN(on_event)
    err = L.PmxError()
    out = ctypes.c_void_p()
    rc = L.pmx_router_stream(ctypes.byref(out), case.router, request.encode(), cb, None,
                             ctypes.byref(err))
    rec = err_record("nested_in_stream", rc, err, take(out), events)
    rec.update(nested=nested, strings=[nested.get("message", "")])
    return rec


def library_call_in_log_callback(case, config: str, other_config: str) -> dict:
    """Installs a TRACE log callback that calls the library from inside: pmx_status_name,
    pmx_router_stats on the case's router, and a blocking pmx_router_complete on a SECOND
    router (a different router's I/O thread, so PMX_ERR_WOULD_DEADLOCK does not apply to it);
    then runs a completion and a stream on the first router. Nested calls from inside the
    nested calls' own log lines are not repeated (a thread-local guard)."""
    other = ctypes.c_void_p()
    err = L.PmxError()
    L.pmx_router_new(ctypes.byref(case.router), config.encode(), ctypes.byref(err))
    L.pmx_router_new(ctypes.byref(other), other_config.encode(), ctypes.byref(err))
    local = threading.local()
    seen: dict = {"lines": 0, "nested": []}

    def on_log(level, message, length, _ud):
        seen["lines"] += 1
        if getattr(local, "inside", False) or len(seen["nested"]) >= 20:
            return
        local.inside = True
        try:
            L.pmx_status_name(-1)
            rc1, _ = call_blocking(case.router, "stats")
            t0 = time.monotonic()
            rc2, msg = call_blocking(other, "complete")
            seen["nested"].append({"stats": rc1, "complete": rc2, "message": msg,
                                   "seconds": time.monotonic() - t0})
        finally:
            local.inside = False
    cb = L.LOG_FN(on_log)
    case.keep.append(cb)
    L.pmx_set_log_callback(cb, 0, None)
    try:
        rc_c, _ = call_blocking(case.router, "complete")
        rc_s, _ = call_blocking(case.router, "stream")
    finally:
        L.pmx_set_log_callback(L.LOG_FN(), 0, None)
        L.pmx_router_free(other)
    return {"status": 0, "complete": rc_c, "stream": rc_s, "log_lines": seen["lines"],
            "nested": seen["nested"], "strings": [n["message"] for n in seen["nested"]]}


def many_models(case, count: int, prefix: str = "model-") -> dict:
    """``count`` completions on the case's router, each naming a distinct model."""
    failures = 0
    for i in range(count):
        req = b'{"model":"%s%d","messages":[{"role":"user","content":"hi"}]}' % (prefix.encode(), i)
        err = L.PmxError()
        out = ctypes.c_void_p()
        if L.pmx_router_complete(ctypes.byref(out), case.router, req, ctypes.byref(err)) != 0:
            failures += 1
        L.pmx_string_free(out)
    return {"status": 0, "failures": failures}


def slow_stream_consumer(case, request: str, sleep_s: float, events_before_sleep: int = 1) -> dict:
    """A blocking pmx_router_stream whose callback blocks for ``sleep_s`` at its first event,
    while the upstream keeps sending: how far memory grows is the queue's bound."""
    from child import proc_status
    count = [0]
    size = [0]
    rss: dict = {}

    def on_event(data, length, _ud):
        count[0] += 1
        size[0] += length
        if count[0] == events_before_sleep:
            rss["before"] = proc_status("VmRSS")
            time.sleep(sleep_s)
            rss["after"] = proc_status("VmRSS")
        return 0
    cb = L.EVENT_FN(on_event)
    err = L.PmxError()
    rc = L.pmx_router_stream(None, case.router, request.encode(), cb, None, ctypes.byref(err))
    return err_record("slow_stream_consumer", rc, err) | {
        "events_count": count[0], "events_bytes": size[0],
        "rss_before_sleep_kb": rss.get("before", 0), "rss_after_sleep_kb": rss.get("after", 0)}
