# SPDX-License-Identifier: Apache-2.0
"""Typed views of the JSON the library returns: stream events and responses.

They are ``dict`` subclasses, so ``event["type"]``, ``event.get("content")``, ``==`` with a
dict and ``json.dumps(event)`` work as before; the properties only read the dict. Each stream
event is built as the subclass for its ``type`` (:class:`DeltaEvent`, :class:`DoneEvent`, ...;
plain :class:`Event` for types this version does not know), so ``isinstance`` and ``match``
statements work too.

For static typing, each subclass declares its ``type`` as a ``Literal`` and :data:`StreamEvent`
is their ``Union`` (what iterating a stream gives): mypy narrows ``event`` by
``if event.type == "done":`` (then ``event.response`` is a :class:`Response`, not Optional).
An event of a type this version does not know still arrives as a plain :class:`Event`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, Union

if TYPE_CHECKING:
    from ._errors import ProviderMuxError

#: A JSON document given to the library: a dict/list (serialised), str (UTF-8) or bytes.
JSONDocument = Union[Dict[str, Any], List[Any], str, bytes, bytearray]

TERMINAL_TYPES = ("done", "error")


class Response(dict):
    """A chat completion response: an OpenAI ``chat.completion`` plus ``provider``,
    ``attempts`` (a list of attempt objects), ``latency_ms``, ``ttft_ms`` (streams), ``usage``."""

    __slots__ = ()

    def _message(self) -> Dict[str, Any]:
        choices = self.get("choices") or [{}]
        return (choices[0] or {}).get("message") or {}

    @property
    def content(self) -> str:
        """The first choice's message text ("" when none)."""
        return self._message().get("content") or ""

    @property
    def tool_calls(self) -> List[Dict[str, Any]]:
        """The first choice's tool calls ([] when none)."""
        return self._message().get("tool_calls") or []

    @property
    def finish_reason(self) -> Optional[str]:
        choices = self.get("choices") or [{}]
        return (choices[0] or {}).get("finish_reason")

    @property
    def provider(self) -> str:
        return self.get("provider", "")

    @property
    def model(self) -> str:
        return self.get("model", "")

    @property
    def usage(self) -> Dict[str, Any]:
        return self.get("usage") or {}

    @property
    def latency_ms(self) -> Optional[float]:
        return self.get("latency_ms")

    @property
    def ttft_ms(self) -> Optional[float]:
        return self.get("ttft_ms")

    @property
    def attempts(self) -> List[Dict[str, Any]]:
        attempts = self.get("attempts")
        return attempts if isinstance(attempts, list) else []


class Event(dict):
    """A stream event (see docs/VOCABULARY.md, "Stream events")."""

    __slots__ = ()

    @property
    def type(self) -> str:
        """``start``, ``delta``, ``retry``, ``fallback``, ``usage``, ``done`` or ``error``."""
        return self.get("type", "")

    @property
    def is_terminal(self) -> bool:
        """True for ``done`` and ``error``: the last event of a stream."""
        return self.get("type") in TERMINAL_TYPES

    @property
    def content(self) -> Optional[str]:
        """Text of a ``delta`` (None when the delta has none)."""
        return self.get("content")

    @property
    def tool_calls(self) -> Optional[List[Dict[str, Any]]]:
        """Tool-call fragments of a ``delta`` (OpenAI delta shape, keyed by ``index``)."""
        return self.get("tool_calls")

    @property
    def response(self) -> Optional[Response]:
        """The full response of a ``done`` event."""
        return self.get("response")

    @property
    def provider(self) -> Optional[str]:
        return self.get("provider")

    @property
    def model(self) -> Optional[str]:
        return self.get("model")

    @property
    def attempt(self) -> Optional[int]:
        return self.get("attempt")

    @property
    def usage(self) -> Optional[Dict[str, Any]]:
        return self.get("usage")

    @property
    def code(self) -> Optional[int]:
        return self.get("code")

    @property
    def status_name(self) -> Optional[str]:
        return self.get("status_name")

    @property
    def message(self) -> Optional[str]:
        return self.get("message")

    @property
    def http_status(self) -> Optional[int]:
        return self.get("http_status")

    @property
    def delay_ms(self) -> Optional[float]:
        return self.get("delay_ms")

    @property
    def error(self) -> Optional["ProviderMuxError"]:
        """For an ``error`` event: the exception it stands for (its class follows ``code``)."""
        if self.get("type") != "error":
            return None
        from ._errors import ProviderMuxError
        return ProviderMuxError._from_event(self)

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__name__, dict.__repr__(self))


# The subclasses re-declare `type` (and the fields their type always has) with narrower types:
# the values are the same dict reads, only the annotations differ.

class StartEvent(Event):
    """``start``: an attempt begins (``provider``, ``model``, ``attempt``)."""
    __slots__ = ()

    @property
    def type(self) -> Literal["start"]:
        return "start"


class DeltaEvent(Event):
    """``delta``: ``content`` and/or ``tool_calls``."""
    __slots__ = ()

    @property
    def type(self) -> Literal["delta"]:
        return "delta"


class RetryEvent(Event):
    """``retry``: ``provider``, ``attempt``, ``delay_ms``, ``code``, ``status_name``, ``message``."""
    __slots__ = ()

    @property
    def type(self) -> Literal["retry"]:
        return "retry"


class FallbackEvent(Event):
    """``fallback``: ``from``, ``to``, ``code``, ``status_name``, ``message``."""
    __slots__ = ()

    @property
    def type(self) -> Literal["fallback"]:
        return "fallback"

    @property
    def from_provider(self) -> Optional[str]:
        return self.get("from")

    @property
    def to_provider(self) -> Optional[str]:
        return self.get("to")


class UsageEvent(Event):
    """``usage``: the ``usage`` object."""
    __slots__ = ()

    @property
    def type(self) -> Literal["usage"]:
        return "usage"

    @property
    def usage(self) -> Dict[str, Any]:
        return self.get("usage") or {}


class DoneEvent(Event):
    """``done`` (terminal): ``response``, the full :class:`Response`."""
    __slots__ = ()

    @property
    def type(self) -> Literal["done"]:
        return "done"

    @property
    def response(self) -> Response:
        return self.get("response") or Response()


class ErrorEvent(Event):
    """``error`` (terminal): ``code``, ``status_name``, ``http_status``, ``provider``,
    ``message``, ``attempts``; :attr:`error` is the matching exception."""
    __slots__ = ()

    @property
    def type(self) -> Literal["error"]:
        return "error"

    @property
    def code(self) -> int:
        return self.get("code", 0)

    @property
    def message(self) -> str:
        return self.get("message", "")

    @property
    def error(self) -> "ProviderMuxError":
        from ._errors import ProviderMuxError
        return ProviderMuxError._from_event(self)


#: What iterating a stream gives: mypy narrows it by ``event.type`` (see the module docstring).
StreamEvent = Union[StartEvent, DeltaEvent, RetryEvent, FallbackEvent, UsageEvent, DoneEvent,
                    ErrorEvent]


for _cls in (Response, Event, StartEvent, DeltaEvent, RetryEvent, FallbackEvent, UsageEvent,
             DoneEvent, ErrorEvent):
    _cls.__module__ = "providermux"
del _cls

_EVENT_CLASSES = {
    "start": StartEvent, "delta": DeltaEvent, "retry": RetryEvent, "fallback": FallbackEvent,
    "usage": UsageEvent, "done": DoneEvent, "error": ErrorEvent,
}


def make_event(document: Dict[str, Any]) -> Event:
    """The typed event for a decoded event object."""
    kind = document.get("type")
    if kind == "done":
        response = document.get("response")
        if isinstance(response, dict):
            document["response"] = Response(response)
    return _EVENT_CLASSES.get(kind, Event)(document)  # type: ignore[arg-type]


def make_response(document: Any) -> Any:
    return Response(document) if isinstance(document, dict) else document
