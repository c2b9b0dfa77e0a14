# SPDX-License-Identifier: Apache-2.0
"""The openai SDK's result types (openai.types.*), as plain classes over the library's JSON.

The library answers in openai's JSON shape already; these classes only give it openai's
attribute access (``resp.choices[0].message.content``) without depending on pydantic or the
openai package. Each object's attributes are its JSON members (members the library adds, such
as ``provider``, ``attempts``, ``usage.cost_usd``, are attributes too); a member openai declares
optional and the JSON lacks reads as None. ``model_dump()`` gives the JSON back as a dict that
openai's own ``ChatCompletion.model_validate`` (etc.) accepts; ``model_dump_json()`` as text.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, Generic, Iterator, List, Mapping, Optional, TypeVar


class OpenAIObject:
    """An attribute view of one JSON object (openai's ``BaseModel`` surface, reduced).

    ``_nested`` maps a member to the class its object (or each item of its list) becomes;
    other objects become plain :class:`OpenAIObject`, everything else stays as decoded.
    """

    _nested: ClassVar[Dict[str, type]] = {}

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **members: Any) -> None:
        values = dict(data or {}, **members)
        nested = self._nested
        for key, value in values.items():
            cls = nested.get(key, OpenAIObject)
            self.__dict__[key] = _convert(value, cls)

    def model_dump(self, *, exclude_none: bool = False, **_options: Any) -> Dict[str, Any]:
        """The object as JSON-ready dicts and lists (the members it has; ``exclude_none`` also
        drops those that are None). Other openai options (``mode``, ``by_alias``) are accepted
        and change nothing: the members already have their JSON names and types."""
        return {key: _dump(value, exclude_none) for key, value in self.__dict__.items()
                if not (exclude_none and value is None)}

    def model_dump_json(self, *, indent: Optional[int] = None, exclude_none: bool = False,
                        **_options: Any) -> str:
        return json.dumps(self.model_dump(exclude_none=exclude_none), indent=indent,
                          ensure_ascii=False)

    # openai's aliases of the two above
    def to_dict(self, **options: Any) -> Dict[str, Any]:
        return self.model_dump(**options)

    def to_json(self, *, indent: Optional[int] = 2, **options: Any) -> str:
        return self.model_dump_json(indent=indent, **options)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OpenAIObject):
            return NotImplemented
        return type(self) is type(other) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # mutable, like openai's models

    def __repr__(self) -> str:
        members = ", ".join("%s=%r" % item for item in self.__dict__.items())
        return "%s(%s)" % (type(self).__name__, members)


def _convert(value: Any, cls: type) -> Any:
    if isinstance(value, dict):
        return cls(value)
    if isinstance(value, list):
        return [cls(item) if isinstance(item, dict) else item for item in value]
    return value


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, OpenAIObject):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list):
        return [_dump(item, exclude_none) for item in value]
    if isinstance(value, dict):
        return {k: _dump(v, exclude_none) for k, v in value.items()}
    return value


# -- chat.completions.create -------------------------------------------------------------------

class Function(OpenAIObject):
    """openai ``...chat_completion_message_tool_call.Function``."""
    name: str
    arguments: str


class ChatCompletionMessageToolCall(OpenAIObject):
    id: str
    type: str
    function: Function
    _nested = {"function": Function}


# What a message and a stream delta have in common, a choice and a chunk's choice, a completion
# and a chunk (openai declares them one by one; the members are the same).

class _MessageFields(OpenAIObject):
    content: Optional[str] = None
    refusal: Optional[str] = None
    function_call: Optional[OpenAIObject] = None
    #: The model's reasoning, where the provider gave it (the library's extra).
    reasoning_content: Optional[str] = None


class _ChoiceFields(OpenAIObject):
    index: int
    finish_reason: Optional[str] = None
    logprobs: Optional[OpenAIObject] = None


class _CompletionFields(OpenAIObject):
    id: str
    object: str
    created: int
    model: str
    usage: Optional["CompletionUsage"] = None
    system_fingerprint: Optional[str] = None
    service_tier: Optional[str] = None
    #: The provider that answered (the router's extra).
    provider: str = ""


class ChatCompletionMessage(_MessageFields):
    role: str
    tool_calls: Optional[List[ChatCompletionMessageToolCall]] = None
    annotations: Optional[List[OpenAIObject]] = None
    audio: Optional[OpenAIObject] = None
    _nested = {"tool_calls": ChatCompletionMessageToolCall}


class Choice(_ChoiceFields):
    message: ChatCompletionMessage
    _nested = {"message": ChatCompletionMessage}


class CompletionUsage(OpenAIObject):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: Optional[OpenAIObject] = None
    completion_tokens_details: Optional[OpenAIObject] = None
    #: What the request cost in USD where the model is priced (the library's extra).
    cost_usd: Optional[float] = None


class ChatCompletion(_CompletionFields):
    """openai ``ChatCompletion`` plus the router's ``provider``, ``attempts``, ``latency_ms``
    and ``ttft_ms`` (streams)."""
    choices: List[Choice]
    attempts: List[OpenAIObject]
    latency_ms: Optional[float] = None
    ttft_ms: Optional[float] = None
    _nested = {"choices": Choice, "usage": CompletionUsage}


# -- chat.completions.create(stream=True) ------------------------------------------------------

class ChoiceDeltaToolCallFunction(OpenAIObject):
    name: Optional[str] = None
    arguments: Optional[str] = None


class ChoiceDeltaToolCall(OpenAIObject):
    index: int
    id: Optional[str] = None
    type: Optional[str] = None
    function: Optional[ChoiceDeltaToolCallFunction] = None
    _nested = {"function": ChoiceDeltaToolCallFunction}


class ChoiceDelta(_MessageFields):
    role: Optional[str] = None
    tool_calls: Optional[List[ChoiceDeltaToolCall]] = None
    _nested = {"tool_calls": ChoiceDeltaToolCall}


class ChunkChoice(_ChoiceFields):
    """openai ``...chat_completion_chunk.Choice``."""
    delta: ChoiceDelta
    _nested = {"delta": ChoiceDelta}


class ChatCompletionChunk(_CompletionFields):
    """openai ``ChatCompletionChunk`` plus the router's ``provider``."""
    choices: List[ChunkChoice]
    _nested = {"choices": ChunkChoice, "usage": CompletionUsage}


# -- embeddings.create, models.list ------------------------------------------------------------

class Embedding(OpenAIObject):
    index: int
    object: str
    embedding: List[float]


class EmbeddingUsage(OpenAIObject):
    prompt_tokens: int
    total_tokens: int
    cost_usd: Optional[float] = None


class CreateEmbeddingResponse(OpenAIObject):
    """openai ``CreateEmbeddingResponse`` plus ``provider`` and ``attempts``."""
    object: str
    model: str
    data: List[Embedding]
    usage: EmbeddingUsage
    provider: str = ""
    attempts: List[OpenAIObject]
    _nested = {"data": Embedding, "usage": EmbeddingUsage}


class Model(OpenAIObject):
    """openai ``Model`` plus the library's ``provider``, ``model`` and ``capabilities``.
    ``created`` is 0 where the provider gave no date."""
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = ""
    provider: str = ""

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **members: Any) -> None:
        values = dict(data or {}, **members)
        values.setdefault("object", "model")
        values.setdefault("created", 0)  # openai's Model requires it
        values.setdefault("owned_by", values.get("provider", ""))
        super().__init__(values)


T = TypeVar("T")


class SyncPage(OpenAIObject, Generic[T]):
    """openai ``SyncPage``: ``data`` (the items) and iteration over them. The library lists
    every model at once: there is no next page. ``errors`` lists the providers that could not
    be listed (the library's extra)."""
    object: str = "list"
    data: List[T]
    errors: List[OpenAIObject]

    def __iter__(self) -> Iterator[T]:  # type: ignore[override]
        return iter(self.data)

    def has_next_page(self) -> bool:
        return False


class ModelPage(SyncPage[Model]):
    _nested = {"data": Model}


__all__ = [
    "OpenAIObject", "ChatCompletion", "Choice", "ChatCompletionMessage",
    "ChatCompletionMessageToolCall", "Function", "CompletionUsage", "ChatCompletionChunk",
    "ChunkChoice", "ChoiceDelta", "ChoiceDeltaToolCall", "ChoiceDeltaToolCallFunction",
    "CreateEmbeddingResponse", "Embedding", "EmbeddingUsage", "Model", "SyncPage", "ModelPage",
]
