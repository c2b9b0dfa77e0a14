# SPDX-License-Identifier: Apache-2.0
"""``client.completions.create`` (openai's legacy text completions, fill-in-the-middle with
``suffix``) over ``pmx_router_call``: the ``Completion`` type and its streams.

A streamed completion is an iterator of :class:`Completion` chunks as OpenAI sends them: one per
``delta`` event (``choices[0].text``), then one with an empty text and the ``finish_reason``
(with ``usage`` on it, or in one more chunk with no choices when the request asked for
``stream_options: {"include_usage": true}``); a failure raises its openai-named exception.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Dict, List, Optional

from ._openai_types import CompletionUsage, OpenAIObject, _CompletionFields


class CompletionChoice(OpenAIObject):
    """openai ``CompletionChoice``."""
    text: str
    index: int
    finish_reason: Optional[str] = None
    logprobs: Optional[OpenAIObject] = None


class Completion(_CompletionFields):
    """openai ``Completion`` (``object: "text_completion"``) plus the router's ``provider``,
    ``attempts`` and ``latency_ms``."""
    choices: List[CompletionChoice]
    attempts: List[OpenAIObject]
    latency_ms: Optional[float] = None
    _nested = {"choices": CompletionChoice, "usage": CompletionUsage}


class _TextChunker:
    """One stream's events → :class:`Completion` chunks (shared by the sync and async streams)."""

    def __init__(self, include_usage: bool) -> None:
        self.id = "cmpl-" + uuid.uuid4().hex[:24]  # one id for every chunk, as OpenAI does
        self.created = int(time.time())
        self.model = ""
        self.provider = ""
        self.include_usage = include_usage
        self.completion: Optional[Completion] = None

    def chunk(self, choices: List[Dict[str, Any]], usage: Optional[Dict[str, Any]] = None) -> Completion:
        document: Dict[str, Any] = {"id": self.id, "object": "text_completion", "created": self.created,
                                    "model": self.model, "choices": choices, "provider": self.provider}
        if usage is not None:
            document["usage"] = usage
        return Completion(document)

    def chunks(self, event: Dict[str, Any]) -> List[Completion]:
        kind = event.get("type")
        if kind == "start":
            self.model = event.get("model") or self.model
            self.provider = event.get("provider") or self.provider
        elif kind == "delta" and event.get("content"):
            return [self.chunk([{"text": event["content"], "index": 0, "logprobs": None, "finish_reason": None}])]
        elif kind == "done":
            response = event.get("response") or {}
            self.completion = Completion(response)
            self.model = response.get("model") or self.model
            self.provider = response.get("provider") or self.provider
            ends = [{"text": "", "index": c.get("index", i), "logprobs": None, "finish_reason": c.get("finish_reason") or "stop"}
                    for i, c in enumerate(response.get("choices") or [{}])]
            usage = response.get("usage")
            if self.include_usage:
                return [self.chunk(ends), self.chunk([], usage)]
            return [self.chunk(ends, usage)]
        return []


class _TextStreamBase:
    """What the sync and async text streams share: the router's events and the chunker."""

    def __init__(self, events: Any, include_usage: bool) -> None:
        self._events = events
        self._chunker = _TextChunker(include_usage)
        self._ready: List[Completion] = []

    @property
    def completion(self) -> Optional[Completion]:
        """The whole :class:`Completion` once the stream has ended (the router's extra)."""
        return self._chunker.completion


class CompletionStream(_TextStreamBase):
    """``client.completions.create(..., stream=True)``: iterate it for :class:`Completion`
    chunks; ``close()`` (or leaving ``with``) cancels a stream still running."""

    def __iter__(self) -> "CompletionStream":
        return self

    def __next__(self) -> Completion:
        while not self._ready:
            self._ready.extend(self._chunker.chunks(next(self._events)))  # raises on failure
        return self._ready.pop(0)

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> "CompletionStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncCompletionStream(_TextStreamBase):
    """The asyncio twin of :class:`CompletionStream`: ``async for chunk in stream``."""

    def __aiter__(self) -> "AsyncCompletionStream":
        return self

    async def __anext__(self) -> Completion:
        while not self._ready:
            self._ready.extend(self._chunker.chunks(await self._events.__anext__()))
        return self._ready.pop(0)

    async def close(self) -> None:
        await self._events.aclose()

    async def __aenter__(self) -> "AsyncCompletionStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
