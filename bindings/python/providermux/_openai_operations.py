# SPDX-License-Identifier: Apache-2.0
"""The openai SDK's resources beyond chat on :class:`providermux.OpenAI` / ``AsyncOpenAI``,
each one ``pmx_router_call`` operation, routed, retried and failed over like chat::

    img = client.images.generate(model="gpt-image-1", prompt="a cat")      # .data[0].b64_json
    mod = client.moderations.create(input="...")                          # .results[0].flagged
    tr = client.audio.transcriptions.create(file="a.wav", model="whisper-1")   # .text
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="hi")
    speech.write_to_file("hi.mp3")                                        # or .content (bytes)
    ranked = client.rerank(model="rerank-v3.5", query="q", documents=[...], top_n=3)
    n = client.count_tokens(model="claude-sonnet-4-5", messages=[...]).input_tokens

A transcription's ``file`` is a path, bytes, a binary file object or openai's ``(filename,
content[, content_type])`` tuple; it travels as base64 inside the request JSON
(``{"file": {"data", "filename", "content_type"}}``). Speech audio comes back as base64 and is
decoded here into :class:`SpeechResponse` (openai's binary response surface: ``.content``,
``.read()``, ``.iter_bytes()``, ``.write_to_file(path)``, ``.stream_to_file(path)``).
"""

from __future__ import annotations

import base64
import mimetypes
import os
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ._errors import InvalidArgumentError
from ._openai_types import OpenAIObject

if TYPE_CHECKING:
    from ._openai import _ClientBase


# -- result types (openai.types.*) ---------------------------------------------------------------

class Image(OpenAIObject):
    """openai.types.Image: ``b64_json`` or ``url``, and ``revised_prompt`` (dall-e-3)."""
    b64_json: Optional[str] = None
    url: Optional[str] = None
    revised_prompt: Optional[str] = None


class ImagesResponse(OpenAIObject):
    """openai.types.ImagesResponse: ``created``, ``data`` (:class:`Image`), ``usage``."""
    _nested = {"data": Image}
    usage: Any = None


class Moderation(OpenAIObject):
    """One result of openai.types.ModerationCreateResponse. Category names keep openai's JSON
    spelling (``categories.model_dump()["self-harm/intent"]``)."""


class ModerationCreateResponse(OpenAIObject):
    _nested = {"results": Moderation}


class Transcription(OpenAIObject):
    """openai.types.audio.Transcription (``text``; ``usage``; verbose_json's ``segments``...)."""
    usage: Any = None


class RerankResult(OpenAIObject):
    """``index``, ``relevance_score`` and (with ``return_documents``) ``document.text``."""
    document: Any = None


class RerankResponse(OpenAIObject):
    """Rerank results best-first, cut to ``top_n``, whatever the provider did."""
    _nested = {"results": RerankResult}
    usage: Any = None


class TokenCount(OpenAIObject):
    """``input_tokens``, and ``estimated``: True when the router estimated (nothing sent)."""


class SpeechResponse:
    """openai's binary response for ``audio.speech.create``: the whole audio, already here."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.content: bytes = base64.b64decode(document.get("audio") or "", validate=True)
        self.content_type: str = str(document.get("content_type") or "application/octet-stream")
        self.provider = document.get("provider")
        self.attempts = document.get("attempts")

    def read(self) -> bytes:
        return self.content

    def iter_bytes(self, chunk_size: Optional[int] = None) -> Iterator[bytes]:
        size = chunk_size or 65536
        for i in range(0, len(self.content), size):
            yield self.content[i:i + size]

    def write_to_file(self, file: "str | os.PathLike[str]") -> None:
        with open(file, "wb") as f:
            f.write(self.content)

    def stream_to_file(self, file: "str | os.PathLike[str]", *, chunk_size: Optional[int] = None) -> None:
        with open(file, "wb") as f:
            for chunk in self.iter_bytes(chunk_size):
                f.write(chunk)

    def __repr__(self) -> str:
        return "SpeechResponse(%d bytes, %s)" % (len(self.content), self.content_type)


# -- requests ------------------------------------------------------------------------------------

def _file_payload(file: Any) -> Dict[str, str]:
    """openai's ``FileTypes`` as the library's ``{"data": <base64>, "filename", "content_type"}``."""
    filename: Optional[str] = None
    content_type: Optional[str] = None
    if isinstance(file, tuple):
        if not 2 <= len(file) <= 4:
            raise InvalidArgumentError(message="file: a tuple is (filename, content[, content_type])")
        filename = file[0]
        content_type = file[2] if len(file) > 2 else None
        file = file[1]
    if isinstance(file, (str, os.PathLike)):
        path = os.fspath(file)
        with open(path, "rb") as f:
            data = f.read()
        filename = filename or os.path.basename(path)
    elif isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(file)
    elif hasattr(file, "read"):
        data = file.read()
        if not isinstance(data, (bytes, bytearray)):
            raise InvalidArgumentError(message="file: the file object must be opened in binary mode")
        data = bytes(data)
        name = getattr(file, "name", None)
        if filename is None and isinstance(name, str):
            filename = os.path.basename(name)
    else:
        raise InvalidArgumentError(message="file: expected a path, bytes, a binary file object or "
                                           "a (filename, content) tuple, got %s" % type(file).__name__)
    filename = filename or "audio.wav"
    content_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return {"data": base64.b64encode(data).decode("ascii"), "filename": filename,
            "content_type": content_type}


def _request(client: "_ClientBase", params: Dict[str, Any], **fields: Any) -> Dict[str, Any]:
    from ._openai import _options
    request = _options(params, client._defaults)
    request.update({k: v for k, v in fields.items() if v is not None})
    return request


def _call(client: "_ClientBase", operation: str, request: Dict[str, Any]) -> Dict[str, Any]:
    return client.router.call(operation, request)


async def _acall(client: "_ClientBase", operation: str, request: Dict[str, Any]) -> Dict[str, Any]:
    return await client.router.acall(operation, request)


# -- sync resources ------------------------------------------------------------------------------

class Images:
    def __init__(self, client: "_ClientBase") -> None:
        self._client = client

    def generate(self, *, prompt: str, model: Optional[str] = None, **params: Any) -> ImagesResponse:
        return ImagesResponse(_call(self._client, "images.generate",
                                    _request(self._client, params, prompt=prompt, model=model)))


class Moderations:
    def __init__(self, client: "_ClientBase") -> None:
        self._client = client

    def create(self, *, input: Any, model: Optional[str] = None, **params: Any) -> ModerationCreateResponse:
        return ModerationCreateResponse(_call(self._client, "moderations.create",
                                              _request(self._client, params, input=input, model=model)))


class Transcriptions:
    def __init__(self, client: "_ClientBase") -> None:
        self._client = client

    def create(self, *, file: Any, model: str, **params: Any) -> Transcription:
        return Transcription(_call(self._client, "audio.transcriptions.create",
                                   _request(self._client, params, file=_file_payload(file), model=model)))


class Speech:
    def __init__(self, client: "_ClientBase") -> None:
        self._client = client

    def create(self, *, input: str, model: str, voice: Any, **params: Any) -> SpeechResponse:
        return SpeechResponse(_call(self._client, "audio.speech.create",
                                    _request(self._client, params, input=input, model=model, voice=voice)))


class Audio:
    def __init__(self, client: "_ClientBase") -> None:
        self.transcriptions = Transcriptions(client)
        self.speech = Speech(client)


def rerank(client: "_ClientBase", model: Optional[str], query: str, documents: List[Any],
           params: Dict[str, Any]) -> Dict[str, Any]:
    return _request(client, params, model=model, query=query, documents=list(documents))


def count_tokens(client: "_ClientBase", model: Optional[str], params: Dict[str, Any]) -> Dict[str, Any]:
    return _request(client, params, model=model)


# -- asyncio resources -----------------------------------------------------------------------------

class AsyncImages(Images):
    async def generate(self, *, prompt: str, model: Optional[str] = None,  # type: ignore[override]
                       **params: Any) -> ImagesResponse:
        return ImagesResponse(await _acall(self._client, "images.generate",
                                           _request(self._client, params, prompt=prompt, model=model)))


class AsyncModerations(Moderations):
    async def create(self, *, input: Any, model: Optional[str] = None,  # type: ignore[override]
                     **params: Any) -> ModerationCreateResponse:
        return ModerationCreateResponse(await _acall(self._client, "moderations.create",
                                                     _request(self._client, params, input=input, model=model)))


class AsyncTranscriptions(Transcriptions):
    async def create(self, *, file: Any, model: str, **params: Any) -> Transcription:  # type: ignore[override]
        return Transcription(await _acall(self._client, "audio.transcriptions.create",
                                          _request(self._client, params, file=_file_payload(file), model=model)))


class AsyncSpeech(Speech):
    async def create(self, *, input: str, model: str, voice: Any,  # type: ignore[override]
                     **params: Any) -> SpeechResponse:
        return SpeechResponse(await _acall(self._client, "audio.speech.create",
                                           _request(self._client, params, input=input, model=model, voice=voice)))


class AsyncAudio:
    def __init__(self, client: "_ClientBase") -> None:
        self.transcriptions = AsyncTranscriptions(client)
        self.speech = AsyncSpeech(client)


__all__ = ["Image", "ImagesResponse", "Moderation", "ModerationCreateResponse", "Transcription",
           "SpeechResponse", "RerankResult", "RerankResponse", "TokenCount"]
