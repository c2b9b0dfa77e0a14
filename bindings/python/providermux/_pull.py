# SPDX-License-Identifier: Apache-2.0
"""The pull stream (pmx_router_stream_open / pmx_stream_next) and its typed events as the event
dicts the JSON callback gives: the same keys and values, built from the C fields, so that an
iterator crosses the FFI once per batch of events and parses JSON only for ``done`` and
``error`` (which carry whole documents).
"""

import ctypes
import json
import math
from ctypes import POINTER, Structure, byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_void_p
from typing import Any, Callable, Dict, List, Optional

from . import _lib
from ._events import (EVENT_DELTA, EVENT_DONE, EVENT_ERROR, EVENT_FALLBACK, EVENT_RETRY, EVENT_START,
                      EVENT_USAGE)
from ._lib import PmxError
from ._types import (DeltaEvent, Event, FallbackEvent, RetryEvent, StartEvent, UsageEvent,
                     make_event)

_string_at = ctypes.string_at


# Each pmx_str { const char *ptr; size_t len; } is flattened to two fields, NAME and NAME_len
# (the same layout). NAME is a c_char_p: the library NUL-terminates every string, and ctypes
# reads such a field as bytes without a foreign call (ctypes.string_at costs ~1 us an event).
# A string holding a NUL itself is cut there: _bytes() sees len differ and reads it whole.


class PmxToolCallDelta(Structure):
    """typedef struct pmx_tool_call_delta { int64_t index; pmx_str id, type, name, arguments; }"""

    _fields_ = [
        ("index", c_int64),
        ("id", c_char_p), ("id_len", c_size_t),
        ("type", c_char_p), ("type_len", c_size_t),
        ("name", c_char_p), ("name_len", c_size_t),
        ("arguments", c_char_p), ("arguments_len", c_size_t),
    ]


class PmxEvent(Structure):
    """typedef struct pmx_event (include/providermux.h)."""

    _fields_ = [
        ("type", c_int32), ("attempt", c_int32), ("status", c_int32), ("http_status", c_int32),
        ("delay_ms", c_int64),
        ("text", c_char_p), ("text_len", c_size_t),
        ("reasoning", c_char_p), ("reasoning_len", c_size_t),
        ("provider", c_char_p), ("provider_len", c_size_t),
        ("model", c_char_p), ("model_len", c_size_t),
        ("next_provider", c_char_p), ("next_provider_len", c_size_t),
        ("finish_reason", c_char_p), ("finish_reason_len", c_size_t),
        ("tool_calls", POINTER(PmxToolCallDelta)), ("tool_call_count", c_size_t),
        ("prompt_tokens", c_int64), ("completion_tokens", c_int64), ("total_tokens", c_int64),
        ("cached_tokens", c_int64),
        ("cost_usd", c_double), ("upstream_cost_usd", c_double), ("tokens_per_second", c_double),
        ("json", c_char_p), ("json_len", c_size_t),
        ("choice_index", c_int64),
    ]


EVENT_SIZE = ctypes.sizeof(PmxEvent)

pmx_router_stream_open = _lib.pmx_router_stream_open
pmx_stream_next = _lib.pmx_stream_next


def _bytes(struct: Any, name: str, value: Optional[bytes]) -> Optional[bytes]:
    """The whole string of field `name` (value: what its c_char_p read gave, cut at a NUL)."""
    if value is not None and len(value) != getattr(struct, name + "_len"):
        address = c_void_p.from_buffer(struct, getattr(type(struct), name).offset).value
        value = _string_at(address, getattr(struct, name + "_len"))
    return value


def _text(struct: Any, name: str) -> str:
    value = _bytes(struct, name, getattr(struct, name))
    return "" if value is None else value.decode("utf-8", "replace")


def _opt(document: Dict[str, Any], key: str, struct: Any, name: str) -> None:
    value = _bytes(struct, name, getattr(struct, name))
    if value is not None:  # an absent pmx_str is { NULL, 0 }: ctypes reads None
        document[key] = value.decode("utf-8", "replace")


def _usage(e: PmxEvent) -> Dict[str, Any]:
    """The `usage` object (Usage.json() in the core): counts, then the optional members."""
    u: Dict[str, Any] = {"prompt_tokens": e.prompt_tokens, "completion_tokens": e.completion_tokens,
                         "total_tokens": e.total_tokens}
    if e.cached_tokens >= 0:
        u["prompt_tokens_details"] = {"cached_tokens": e.cached_tokens}
    if not math.isnan(e.tokens_per_second):
        u["tokens_per_second"] = e.tokens_per_second
    if not math.isnan(e.cost_usd):
        u["cost_usd"] = e.cost_usd
    if not math.isnan(e.upstream_cost_usd):
        u["upstream_cost_usd"] = e.upstream_cost_usd
    return u


def _tool_calls(e: PmxEvent) -> List[Dict[str, Any]]:
    calls = []
    for i in range(e.tool_call_count):
        t = e.tool_calls[i]
        call: Dict[str, Any] = {}
        if t.index >= 0:
            call["index"] = t.index
        _opt(call, "id", t, "id")
        _opt(call, "type", t, "type")
        function: Dict[str, Any] = {}
        _opt(function, "name", t, "name")
        _opt(function, "arguments", t, "arguments")
        if function:
            call["function"] = function
        calls.append(call)
    return calls


def make_pulled_event(e: PmxEvent, status_name: Callable[[int], str]) -> Event:
    """The event the JSON callback would have handed out for `e` (make_event of its JSON)."""
    kind = e.type
    if kind == EVENT_DELTA:  # the hot path: one per token
        text = e.text
        if text is not None and len(text) != e.text_len:
            text = _bytes(e, "text", text)
        if e.tool_call_count:
            d: Dict[str, Any] = {"type": "delta"}
            if e.choice_index >= 0:
                d["index"] = e.choice_index
            if text is not None:
                d["content"] = text.decode("utf-8", "replace")
            d["tool_calls"] = _tool_calls(e)
            return DeltaEvent(d)
        event = DeltaEvent()  # filled item by item: cheaper than DeltaEvent(type=..., content=...)
        event["type"] = "delta"
        choice = e.choice_index
        if choice >= 0:  # a request with n > 1: every delta names its choice
            event["index"] = choice
            reasoning = e.reasoning
            if reasoning is not None:
                event["reasoning"] = _bytes(e, "reasoning", reasoning).decode("utf-8", "replace")
        if text is not None:
            event["content"] = text.decode("utf-8", "replace")
        else:
            # A reasoning delta carries no content (reasoning models only: read only then).
            reasoning = e.reasoning
            if reasoning is not None:
                if len(reasoning) != e.reasoning_len:
                    reasoning = _bytes(e, "reasoning", reasoning)
                event["reasoning"] = reasoning.decode("utf-8", "replace")
        return event
    if kind == EVENT_DONE or kind == EVENT_ERROR or e.json is not None:
        return make_event(json.loads(_bytes(e, "json", e.json)))
    if kind == EVENT_START:
        return StartEvent(type="start", provider=_text(e, "provider"), model=_text(e, "model"),
                          attempt=e.attempt)
    if kind == EVENT_USAGE:
        return UsageEvent(type="usage", usage=_usage(e))
    if kind == EVENT_RETRY:
        return RetryEvent(type="retry", provider=_text(e, "provider"), attempt=e.attempt,
                          delay_ms=e.delay_ms, code=e.status, status_name=status_name(e.status),
                          http_status=e.http_status, message=_text(e, "text"))
    if kind == EVENT_FALLBACK:
        return FallbackEvent({"type": "fallback", "from": _text(e, "provider"),
                              "to": _text(e, "next_provider"), "code": e.status,
                              "status_name": status_name(e.status), "http_status": e.http_status,
                              "message": _text(e, "text")})
    # A type a newer library added, without its JSON (not asked for): an event of its own.
    return Event(type="unknown", event_type=kind)


class PullBuffer:
    """The array pmx_stream_next writes into (one per stream: its views are read before the
    next call), and the call itself."""

    CAPACITY = 64

    __slots__ = ("events", "count", "err", "_address", "_count_ref", "_err_ref")

    def __init__(self) -> None:
        self.events = (PmxEvent * self.CAPACITY)()
        self.count = c_size_t(0)
        self.err = PmxError()
        self._address = ctypes.addressof(self.events)
        # Made once: byref() per call is measurable at one call per token.
        self._count_ref = byref(self.count)
        self._err_ref = byref(self.err)

    def next(self, handle: Any, timeout_ms: int) -> int:
        """One pmx_stream_next; returns its status (the events are self.events[:self.count])."""
        return pmx_stream_next(self._address, self.CAPACITY, EVENT_SIZE, self._count_ref, handle,
                               timeout_ms, 0, self._err_ref)
