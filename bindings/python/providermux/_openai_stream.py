# SPDX-License-Identifier: Apache-2.0
"""Streamed chat completions as the openai SDK hands them out: iterators of
:class:`ChatCompletionChunk` that raise on failure.

The router's events become chunks this way: each ``delta`` is one chunk (the first of a choice
also carries ``role: "assistant"``); ``done`` gives a last chunk with an empty delta and each
choice's ``finish_reason`` (with ``usage`` on it, or, when the request asked for
``stream_options: {"include_usage": true}``, in one more chunk with no choices, as OpenAI
sends it); ``start``, ``retry``, ``fallback`` and ``usage`` events give no chunk. An ``error``
event raises its exception (openai-named: :class:`RateLimitError`, :class:`APIError`, ...).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ._openai_types import ChatCompletion, ChatCompletionChunk

if TYPE_CHECKING:
    from . import AsyncStream, Stream


class _Chunker:
    """Turns one stream's events into chunks; shared by the sync and async streams."""

    __slots__ = ("id", "created", "model", "provider", "include_usage", "started", "completion")

    def __init__(self, include_usage: bool) -> None:
        # One id for every chunk of the stream, as OpenAI does (the upstream's id arrives only
        # with the full response, at the end).
        self.id = "chatcmpl-" + uuid.uuid4().hex[:24]
        self.created = int(time.time())
        self.model = ""
        self.provider = ""
        self.include_usage = include_usage
        self.started: set = set()  # choice indexes whose role went out
        self.completion: Optional[ChatCompletion] = None

    def chunk(self, choices: List[Dict[str, Any]],
              usage: Optional[Dict[str, Any]] = None) -> ChatCompletionChunk:
        document: Dict[str, Any] = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices, "provider": self.provider}
        if usage is not None:
            document["usage"] = usage
        return ChatCompletionChunk(document)

    def chunks(self, event: Dict[str, Any]) -> List[ChatCompletionChunk]:
        kind = event.get("type")
        if kind == "delta":
            index = event.get("index", 0)
            delta: Dict[str, Any] = {}
            if index not in self.started:
                self.started.add(index)
                delta["role"] = "assistant"
            if "content" in event:
                delta["content"] = event["content"]
            if "reasoning" in event:
                delta["reasoning_content"] = event["reasoning"]
            if "tool_calls" in event:
                delta["tool_calls"] = event["tool_calls"]
            return [self.chunk([{"index": index, "delta": delta, "finish_reason": None}])]
        if kind == "start":
            self.model = event.get("model") or self.model
            self.provider = event.get("provider") or self.provider
            return []
        if kind == "done":
            response = event.get("response") or {}
            self.completion = ChatCompletion(response)
            self.model = response.get("model") or self.model
            self.provider = response.get("provider") or self.provider
            ends = [{"index": choice.get("index", i), "delta": {},
                     "finish_reason": choice.get("finish_reason") or "stop"}
                    for i, choice in enumerate(response.get("choices") or [{}])]
            usage = response.get("usage")
            if self.include_usage:
                return [self.chunk(ends), self.chunk([], usage)]
            return [self.chunk(ends, usage)]
        return []


class _ChunkStream:
    """What the sync and async chunk streams share: the router's stream and the chunker."""

    def __init__(self, stream: Any, include_usage: bool) -> None:
        self._stream = stream
        self._chunker = _Chunker(include_usage)
        self._ready: List[ChatCompletionChunk] = []

    @property
    def completion(self) -> Optional[ChatCompletion]:
        """The full :class:`ChatCompletion` once the stream has ended (the router's extra)."""
        return self._chunker.completion


class ChatCompletionStream(_ChunkStream):
    """``client.chat.completions.create(..., stream=True)``: iterate it for
    :class:`ChatCompletionChunk`; a failure raises. ``close()`` (or leaving a ``with`` block)
    cancels a stream still running."""

    _stream: "Stream"

    def __iter__(self) -> "ChatCompletionStream":
        return self

    def __next__(self) -> ChatCompletionChunk:
        ready = self._ready
        while not ready:
            ready.extend(self._chunker.chunks(next(self._stream)))  # raises on `error`
        return ready.pop(0)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "ChatCompletionStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncChatCompletionStream(_ChunkStream):
    """The asyncio twin of :class:`ChatCompletionStream`: ``async for chunk in stream``."""

    _stream: "AsyncStream"

    def __aiter__(self) -> "AsyncChatCompletionStream":
        return self

    async def __anext__(self) -> ChatCompletionChunk:
        ready = self._ready
        while not ready:
            ready.extend(self._chunker.chunks(await self._stream.__anext__()))
        return ready.pop(0)

    async def close(self) -> None:
        """Cancels a stream still running and waits for its end (openai's ``await close()``)."""
        await self._stream.aclose()

    async def __aenter__(self) -> "AsyncChatCompletionStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
