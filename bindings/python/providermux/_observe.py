# SPDX-License-Identifier: Apache-2.0
"""Per-request observers: the router's hook (pmx_router_set_observer) as Python callables.

A router calls its observer once per request when the request ends, with one record (a dict:
request_id, operation, stream, metadata, lane, model_requested, provider, provider_type,
model, attempts, latency_ms, ttft_ms, usage, cost_usd, cache_hit, status, code, status_name,
http_status, error_class, message, started_at, ended_at — include/providermux.h documents
each). It runs on the router's I/O thread, before the blocking call of that request returns.

Two bridges to what users already run:

- :func:`logging_observer` — one ``logging`` line per request, the fields in ``extra``;
- :func:`otel_observer` — one OpenTelemetry span per request with the GenAI semantic
  conventions (``gen_ai.*``), timed by the record's start and end; needs ``opentelemetry-api``.

An exception raised by an observer is logged (logger ``providermux``) and never reaches the
router's I/O thread.
"""

from __future__ import annotations

import ctypes
import json
import logging
from typing import Any, Callable, Dict, Iterable, Optional, Union

from . import _lib

Record = Dict[str, Any]
Observer = Callable[[Record], Any]

_log = logging.getLogger("providermux")


def combine(observers: Union[Observer, Iterable[Observer], None]) -> Optional[Observer]:
    """One callable from a callable, a sequence of callables (each called in order; one that
    raises does not stop the others) or None."""
    if observers is None or callable(observers):
        return observers  # type: ignore[return-value]
    fns = list(observers)
    if not fns:
        return None
    if len(fns) == 1:
        return fns[0]

    def each(record: Record) -> None:
        for fn in fns:
            _call_safely(fn, record)
    return each


def _call_safely(fn: Observer, record: Record) -> None:
    try:
        fn(record)
    except Exception:  # the observer's failure is the user's to see, not the router's
        _log.exception("providermux observer %r raised for request %s", fn, record.get("request_id"))


def make_trampoline(fn: Observer, enter: Callable[[], None], leave: Callable[[], None]) -> Any:
    """The C callback for `fn`: decodes the record, calls `fn`, logs whatever it raises.
    `enter`/`leave` mark the thread as inside a library callback (blocking calls refuse there)."""
    def trampoline(record_json: Any, length: int, _userdata: Any) -> None:
        enter()
        try:
            record = json.loads(ctypes.string_at(record_json, length).decode("utf-8", "replace"))
            _call_safely(fn, record)
        except BaseException:  # nothing may cross back into C (not even KeyboardInterrupt)
            try:
                _log.exception("providermux observer: the record could not be handed over")
            except BaseException:
                pass
        finally:
            leave()
    return _lib.OBSERVER_FN(trampoline)


# ---------------------------------------------------------------------------------------------
# logging
# ---------------------------------------------------------------------------------------------

def _tokens(record: Record, key: str) -> Optional[int]:
    usage = record.get("usage")
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) else None


def logging_observer(logger: Optional[logging.Logger] = None, level: int = logging.INFO,
                     error_level: int = logging.WARNING) -> Observer:
    """An observer that logs one line per request to `logger` (default: ``providermux``), at
    `level` for successes and `error_level` for failures, e.g.::

        request 3f9a61c2-1b chat.completions.create openai/gpt-4o-mini ok 412 ms tokens 12+30 $0.000020

    The record's fields are in the LogRecord's ``extra`` (``record.request_id``,
    ``record.provider``, ``record.model``, ``record.latency_ms``, ``record.ttft_ms``,
    ``record.prompt_tokens``, ``record.completion_tokens``, ``record.total_tokens``,
    ``record.cost_usd``, ``record.status``, ``record.status_name``, ``record.lane``,
    ``record.attempts``, ``record.cache_hit``), and the whole record as ``pmx_record``, for a
    JSON formatter or a log shipper.
    """
    target = logger if logger is not None else _log

    def observe(record: Record) -> None:
        ok = record.get("status") == "ok"
        lvl = level if ok else error_level
        if not target.isEnabledFor(lvl):
            return
        prompt, completion = _tokens(record, "prompt_tokens"), _tokens(record, "completion_tokens")
        attempts = record.get("attempts") or []
        extra = {
            "request_id": record.get("request_id"),
            "operation": record.get("operation"),
            "provider": record.get("provider"),
            "model": record.get("model"),
            "lane": record.get("lane"),
            "latency_ms": record.get("latency_ms"),
            "ttft_ms": record.get("ttft_ms"),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": _tokens(record, "total_tokens"),
            "cost_usd": record.get("cost_usd"),
            "status": record.get("status"),
            "status_name": record.get("status_name"),
            "attempts": len(attempts),
            "cache_hit": record.get("cache_hit"),
            "pmx_record": record,
        }
        text = "request %s %s %s/%s %s %.0f ms" % (
            record.get("request_id"), record.get("operation"), record.get("provider"), record.get("model"),
            "ok" if ok else record.get("status_name"), float(record.get("latency_ms") or 0))
        if prompt is not None or completion is not None:
            text += " tokens %s+%s" % (prompt or 0, completion or 0)
        if isinstance(record.get("cost_usd"), (int, float)):
            text += " $%.6f" % record["cost_usd"]
        if record.get("cache_hit"):
            text += " (cache hit)"
        if len(attempts) > 1:
            text += " after %d attempts" % len(attempts)
        if not ok and record.get("message"):
            text += ": %s" % record["message"]
        target.log(lvl, "%s", text, extra=extra)
    return observe


# ---------------------------------------------------------------------------------------------
# OpenTelemetry
# ---------------------------------------------------------------------------------------------

def otel_available() -> bool:
    """True when ``opentelemetry-api`` can be imported (then :func:`otel_observer` works)."""
    try:
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        return False
    return True


# The GenAI semantic conventions' gen_ai.operation.name of each router operation.
_OPERATION_NAMES = {"chat.completions.create": "chat", "embeddings.create": "embeddings",
                    "completions.create": "text_completion"}


def otel_observer(tracer: Any = None, tracer_provider: Any = None) -> Observer:
    """An observer that records one OpenTelemetry span per request, following the GenAI
    semantic conventions: span name ``"{operation} {model}"`` (``chat gpt-4o-mini``), kind
    CLIENT, start and end from the record (``started_at`` / ``ended_at``), attributes
    ``gen_ai.operation.name``, ``gen_ai.provider.name`` and ``gen_ai.system`` (the provider's
    type: ``openai``, ``anthropic``, ...), ``gen_ai.request.model``, ``gen_ai.response.model``,
    ``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``error.type`` (the status
    name) and status ERROR on failure, plus the router's own ``providermux.*`` attributes
    (request_id, provider, lane, attempts, latency_ms, ttft_ms, cost_usd, cache_hit).

    `tracer` defaults to ``trace.get_tracer("providermux", tracer_provider=tracer_provider)``
    (the global provider unless one is given). The span is a child of no request-scoped
    context (the router's I/O thread has none); the record's ``metadata`` is not copied into
    attributes (it may hold user data). Raises ImportError when ``opentelemetry-api`` is not
    installed.
    """
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    from ._version import __version__
    t = tracer if tracer is not None else trace.get_tracer("providermux", __version__, tracer_provider=tracer_provider)

    def observe(record: Record) -> None:
        operation = _OPERATION_NAMES.get(str(record.get("operation")), str(record.get("operation")))
        requested = record.get("model_requested")
        served = record.get("model")
        name = "%s %s" % (operation, requested or served) if (requested or served) else operation
        attributes: Dict[str, Any] = {"gen_ai.operation.name": operation}
        system = record.get("provider_type")
        if system:
            attributes["gen_ai.provider.name"] = system
            attributes["gen_ai.system"] = system
        if requested:
            attributes["gen_ai.request.model"] = requested
        if served:
            attributes["gen_ai.response.model"] = served
        prompt, completion = _tokens(record, "prompt_tokens"), _tokens(record, "completion_tokens")
        if prompt is not None:
            attributes["gen_ai.usage.input_tokens"] = prompt
        if completion is not None:
            attributes["gen_ai.usage.output_tokens"] = completion
        for key in ("request_id", "provider", "lane", "latency_ms", "ttft_ms", "cost_usd", "cache_hit", "stream"):
            value = record.get(key)
            if value is not None:
                attributes["providermux." + key] = value
        attributes["providermux.attempts"] = len(record.get("attempts") or [])
        ok = record.get("status") == "ok"
        if not ok:
            attributes["error.type"] = record.get("status_name") or "error"
        start_ns = int(float(record.get("started_at") or 0) * 1e9) or None
        end_ns = int(float(record.get("ended_at") or 0) * 1e9) or None
        span = t.start_span(name, kind=SpanKind.CLIENT, attributes=attributes, start_time=start_ns)
        if not ok:
            span.set_status(Status(StatusCode.ERROR, record.get("message") or record.get("status_name")))
        span.end(end_time=end_ns)
    return observe
