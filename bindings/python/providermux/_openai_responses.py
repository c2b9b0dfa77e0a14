# SPDX-License-Identifier: Apache-2.0
"""``client.responses.create`` (openai's Responses API) over ``pmx_router_call``: the
``Response`` type and its streams.

OpenAI and Azure providers get the request as written; every other provider gets it
translated to chat and answers with a Response made from the chat answer (see the library's
header at pmx_router_call). A stream is an iterator of openai's Responses stream events
(``response.created`` ... ``response.output_text.delta`` ... ``response.completed``), each an
attribute-shaped object whose ``model_dump()`` openai's ``ResponseStreamEvent`` accepts; the
router's own ``start`` / ``retry`` / ``fallback`` / ``usage`` events are not in it (the
``Response`` at the end has ``provider``, ``attempts`` and ``usage.cost_usd``). A failure
raises its openai-named exception.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._openai_types import OpenAIObject


class Response(OpenAIObject):
    """openai ``Response`` (``object: "response"``) plus the router's ``provider``,
    ``attempts`` and ``latency_ms``."""
    error: Any = None
    incomplete_details: Any = None
    usage: Any = None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part, joined (openai's SDK-side convenience)."""
        texts: List[str] = []
        for item in getattr(self, "output", None) or []:
            if getattr(item, "type", None) == "message":
                for part in getattr(item, "content", None) or []:
                    if getattr(part, "type", None) == "output_text":
                        texts.append(getattr(part, "text", ""))
        return "".join(texts)


class ResponseStreamEvent(OpenAIObject):
    """One Responses stream event: ``type`` ("response.…"), ``sequence_number`` and its members
    (``delta``, ``item``, ``response`` ...); a ``response`` member is a :class:`Response`."""
    _nested = {"response": Response}


def _event(event: Dict[str, Any]) -> Optional[ResponseStreamEvent]:
    kind = event.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        return ResponseStreamEvent(event)
    return None


class _ResponseStreamBase:
    def __init__(self, events: Any) -> None:
        self._events = events
        self.response: Optional[Response] = None
        """The whole :class:`Response` once the stream has ended (with the router's extras)."""

    def _take(self, event: Dict[str, Any]) -> Optional[ResponseStreamEvent]:
        if event.get("type") == "done":
            self.response = Response(event.get("response") or {})
            return None
        return _event(event)


class ResponseStream(_ResponseStreamBase):
    """``client.responses.create(..., stream=True)``: iterate it for events; ``close()`` (or
    leaving ``with``) cancels a stream still running."""

    def __iter__(self) -> "ResponseStream":
        return self

    def __next__(self) -> ResponseStreamEvent:
        while True:
            event = self._take(next(self._events))  # raises on failure
            if event is not None:
                return event

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> "ResponseStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncResponseStream(_ResponseStreamBase):
    """The asyncio twin of :class:`ResponseStream`: ``async for event in stream``."""

    def __aiter__(self) -> "AsyncResponseStream":
        return self

    async def __anext__(self) -> ResponseStreamEvent:
        while True:
            event = self._take(await self._events.__anext__())
            if event is not None:
                return event

    async def close(self) -> None:
        await self._events.aclose()

    async def __aenter__(self) -> "AsyncResponseStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class Responses:
    """``client.responses``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _request(self, params: Dict[str, Any]) -> Dict[str, Any]:
        from ._openai import _options
        return _options(params, self._client._defaults)

    def create(self, *, stream: Optional[bool] = False, **params: Any) -> Any:
        """A :class:`Response`, or with ``stream=True`` a :class:`ResponseStream` of events.
        Raises the openai-named exceptions."""
        request = self._request(params)
        router = self._client.router
        if stream is True:
            return ResponseStream(router.call_stream("responses.create", request))
        return Response(router.call("responses.create", request))


class AsyncResponses(Responses):
    async def create(self, *, stream: Optional[bool] = False, **params: Any) -> Any:  # type: ignore[override]
        request = self._request(params)
        router = self._client.router
        if stream is True:
            return AsyncResponseStream(router.acall_stream("responses.create", request))
        return Response(await router.acall("responses.create", request))


__all__ = ["Response", "ResponseStreamEvent", "ResponseStream", "AsyncResponseStream"]
