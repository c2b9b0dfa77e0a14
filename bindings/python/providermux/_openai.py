# SPDX-License-Identifier: Apache-2.0
"""``providermux.OpenAI`` / ``providermux.AsyncOpenAI``: the openai SDK's client surface over a
:class:`Router`, so that openai code ports by changing the import and the constructor::

    from providermux import OpenAI           # was: from openai import OpenAI
    client = OpenAI("router.json")           # was: OpenAI(api_key=...)
    resp = client.chat.completions.create(model="gpt-4o-mini", messages=[...])
    print(resp.choices[0].message.content, resp.provider, resp.usage.cost_usd)

Calls: ``chat.completions.create(model=..., messages=..., stream=..., **params)``,
``embeddings.create(model=..., input=..., **params)``, ``models.list()``,
``models.retrieve(id)``. Results are the classes of :mod:`providermux._openai_types`; failures
raise the openai-named exceptions (:class:`RateLimitError`, ...), which are also the library's
own (:class:`RateLimitedError`, ...). Parameters go into the request as they are (the router
maps them to each provider); the openai SDK's request options are handled here: ``extra_body``
(merged into the request), ``timeout`` (seconds: the request's ``route.timeout_ms``), openai's
``NOT_GIVEN`` / ``omit`` (dropped). ``extra_headers`` / ``extra_query`` raise
:class:`InvalidArgumentError`: providers' headers come from the router config.
"""

from __future__ import annotations

import array
import base64
import math
import os
from typing import (TYPE_CHECKING, Any, Awaitable, Dict, Generator, Iterable, Literal, Mapping,
                    Optional, Union, overload)

from ._errors import ERR_MODEL_NOT_FOUND, InvalidArgumentError, ProviderMuxError
from ._openai_completions import AsyncCompletionStream, Completion, CompletionStream
from ._openai_responses import AsyncResponses, Responses
from . import _openai_operations as _ops
from ._openai_stream import AsyncChatCompletionStream, ChatCompletionStream
from ._openai_types import ChatCompletion, CreateEmbeddingResponse, Model, ModelPage

if TYPE_CHECKING:
    from . import Router

#: A config for the clients: a dict, JSON text (str starting with "{", or bytes) or a file path.
ClientConfig = Union[Dict[str, Any], str, bytes, bytearray, "os.PathLike[str]"]


def load_config(config: ClientConfig) -> Union[Dict[str, Any], str, bytes, bytearray]:
    """The config as the Router takes it: a path (str not starting with "{", or PathLike) is
    read here; an unreadable file raises :class:`ConfigError` naming it."""
    if isinstance(config, (dict, bytes, bytearray)):
        return config
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return config
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            from ._errors import ConfigError
            raise ConfigError(message="cannot read config file %s: %s"
                              % (path, exc.strerror or exc)) from None
    raise InvalidArgumentError(message="config: expected a dict, JSON text or a file path, got %s"
                               % type(config).__name__)


def _given(value: Any) -> bool:
    """False for openai's NOT_GIVEN / omit sentinels (recognised by name: no openai import)."""
    return type(value).__name__ not in ("NotGiven", "Omit")


def _options(params: Dict[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    """`params` with the openai SDK's request options applied (see the module docstring)."""
    request = {k: v for k, v in params.items() if _given(v)}
    for name in ("extra_headers", "extra_query"):
        if request.pop(name, None):
            raise InvalidArgumentError(
                message="%s: not supported (each provider's headers and URL come from the "
                        "router config)" % name)
    extra_body = request.pop("extra_body", None)
    if extra_body:
        if not isinstance(extra_body, Mapping):
            raise InvalidArgumentError(message="extra_body: expected a dict")
        request.update(extra_body)
    timeout = request.pop("timeout", defaults.get("timeout"))
    max_retries = defaults.get("max_retries")
    if timeout is not None or max_retries is not None:
        route = dict(request.get("route") or {})
        if timeout is not None:
            if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) \
                    or not math.isfinite(timeout) or timeout <= 0:
                raise InvalidArgumentError(
                    message="timeout: expected a positive number of seconds, got %r" % (timeout,))
            route.setdefault("timeout_ms", max(1, min(86_400_000, math.ceil(timeout * 1000))))
        if max_retries is not None:
            route.setdefault("max_attempts", int(max_retries) + 1)
        request["route"] = route
    return request


def chat_request(model: str, messages: Iterable[Any], params: Dict[str, Any],
                 defaults: Mapping[str, Any]) -> Dict[str, Any]:
    request = _options(params, defaults)
    request["model"] = model
    request["messages"] = list(messages)
    return request


def include_usage(request: Mapping[str, Any]) -> bool:
    options = request.get("stream_options")
    return isinstance(options, Mapping) and bool(options.get("include_usage"))


def embedding_response(document: Dict[str, Any], encoding_format: Optional[str]
                       ) -> CreateEmbeddingResponse:
    """openai's encoding_format="base64": each vector as base64 of little-endian float32."""
    if encoding_format == "base64":
        for item in document.get("data") or []:
            floats = array.array("f", item.get("embedding") or [])
            if floats.itemsize != 4 or array.array("H", [1]).tobytes() != b"\x01\x00":
                floats.byteswap()  # pragma: no cover - big-endian hosts
            item["embedding"] = base64.b64encode(floats.tobytes()).decode("ascii")
    return CreateEmbeddingResponse(document)


def find_model(page: ModelPage, model: str) -> Model:
    for item in page.data:
        if item.id == model:
            return item
    raise ProviderMuxError.from_code(ERR_MODEL_NOT_FOUND, "model %s: not listed by any provider"
                                     % model)


def _embed_request(model: str, input: Any, params: Dict[str, Any],
                   defaults: Mapping[str, Any]) -> Dict[str, Any]:
    request = _options(params, defaults)
    request.pop("encoding_format", None)  # applied here, to the answer
    request["model"] = model
    request["input"] = input
    return request


# -- sync ---------------------------------------------------------------------------------------

class _Completions:
    def __init__(self, client: "OpenAI") -> None:
        self._client = client

    @overload
    def create(self, *, model: str, messages: Iterable[Any],
               stream: Optional[Literal[False]] = False, **params: Any) -> ChatCompletion: ...

    @overload
    def create(self, *, model: str, messages: Iterable[Any], stream: Literal[True],
               **params: Any) -> ChatCompletionStream: ...

    @overload
    def create(self, *, model: str, messages: Iterable[Any], stream: bool,
               **params: Any) -> Union[ChatCompletion, ChatCompletionStream]: ...

    def create(self, *, model: str, messages: Iterable[Any], stream: Optional[bool] = False,
               **params: Any) -> Union[ChatCompletion, ChatCompletionStream]:
        """A chat completion (:class:`ChatCompletion`), or with ``stream=True`` a
        :class:`ChatCompletionStream` of chunks. Raises the openai-named exceptions."""
        request = chat_request(model, messages, params, self._client._defaults)
        router = self._client.router
        if stream is True:
            return ChatCompletionStream(router.stream(request), include_usage(request))
        return ChatCompletion(router.complete(request))


class _Chat:
    def __init__(self, client: "OpenAI") -> None:
        self.completions = _Completions(client)


def _text_request(model: str, prompt: Any, params: Dict[str, Any], defaults: Mapping[str, Any]) -> Dict[str, Any]:
    request = _options(params, defaults)
    request["model"] = model
    request["prompt"] = prompt
    return request


class _TextCompletions:
    """``client.completions``: openai's legacy text completions (``suffix`` = fill-in-the-middle)."""

    def __init__(self, client: "OpenAI") -> None:
        self._client = client

    def create(self, *, model: str, prompt: Any, stream: Optional[bool] = False,
               **params: Any) -> Union[Completion, CompletionStream]:
        """A :class:`Completion`, or with ``stream=True`` a :class:`CompletionStream` of
        chunks. Raises the openai-named exceptions."""
        request = _text_request(model, prompt, params, self._client._defaults)
        router = self._client.router
        if stream is True:
            return CompletionStream(router.call_stream("completions.create", request), include_usage(request))
        return Completion(router.call("completions.create", request))


class _Embeddings:
    def __init__(self, client: "OpenAI") -> None:
        self._client = client

    def create(self, *, input: Any, model: str, encoding_format: Optional[str] = None,
               **params: Any) -> CreateEmbeddingResponse:
        request = _embed_request(model, input, params, self._client._defaults)
        return embedding_response(self._client.router.embed(request), encoding_format)


class _Models:
    def __init__(self, client: "OpenAI") -> None:
        self._client = client

    def list(self) -> ModelPage:
        """Every provider's models (``page.data``, or iterate the page)."""
        return ModelPage(self._client.router.models())

    def retrieve(self, model: str) -> Model:
        """The listed model with this id (``"provider/model"``); NotFoundError otherwise."""
        return find_model(self.list(), model)


class _ClientBase:
    def __init__(self, config: Optional[ClientConfig] = None, *,
                 router: Optional["Router"] = None, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None) -> None:
        from . import Router
        if (config is None) == (router is None):
            raise InvalidArgumentError(message="give a config (dict, JSON text or file path) "
                                               "or router=, not both")
        self._owns_router = router is None
        if router is None:
            assert config is not None  # checked above
            router = Router(load_config(config))
        self.router: Router = router
        # openai's client-wide options, applied to every request (route.timeout_ms /
        # route.max_attempts) unless the request sets its own.
        self._defaults: Dict[str, Any] = {}
        if timeout is not None:
            self._defaults["timeout"] = timeout
        if max_retries is not None:
            if not isinstance(max_retries, int) or isinstance(max_retries, bool) \
                    or not 0 <= max_retries < 1000:
                raise InvalidArgumentError(message="max_retries: expected 0 ... 999, got %r"
                                           % (max_retries,))
            self._defaults["max_retries"] = max_retries

    def with_options(self, *, timeout: Optional[float] = None,
                     max_retries: Optional[int] = None) -> Any:
        """A client on the same router with other defaults (openai's ``with_options``)."""
        clone = type(self)(router=self.router,
                           timeout=timeout if timeout is not None else self._defaults.get("timeout"),
                           max_retries=max_retries if max_retries is not None
                           else self._defaults.get("max_retries"))
        return clone


class OpenAI(_ClientBase):
    """The openai SDK's ``OpenAI`` client over a router built from ``config`` (a dict, JSON text
    or a file path), or over an existing ``router=`` (then ``close()`` leaves it open).
    ``timeout`` (seconds) and ``max_retries`` apply to every request, as in openai.
    ``client.router`` is the :class:`Router` (stats, health, metrics...)."""

    def __init__(self, config: Optional[ClientConfig] = None, *,
                 router: Optional["Router"] = None, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None) -> None:
        super().__init__(config, router=router, timeout=timeout, max_retries=max_retries)
        self.chat = _Chat(self)
        self.completions = _TextCompletions(self)
        self.embeddings = _Embeddings(self)
        self.models = _Models(self)
        self.images = _ops.Images(self)
        self.moderations = _ops.Moderations(self)
        self.audio = _ops.Audio(self)
        self.responses = Responses(self)

    def rerank(self, *, query: str, documents: Iterable[Any], model: Optional[str] = None,
               **params: Any) -> "_ops.RerankResponse":
        """Documents best-first by relevance to ``query`` (``top_n``, ``return_documents``):
        Cohere, OpenAI-compatible rerank servers, llama.cpp. Not an openai SDK call."""
        return _ops.RerankResponse(self.router.call(
            "rerank", _ops.rerank(self, model, query, list(documents), params)))

    def count_tokens(self, *, model: Optional[str] = None, **params: Any) -> "_ops.TokenCount":
        """The input tokens of ``messages`` (or ``input``): Anthropic, Gemini, llama.cpp count;
        elsewhere the router's estimate (``estimated`` True, nothing sent)."""
        return _ops.TokenCount(self.router.call("tokens.count", _ops.count_tokens(self, model, params)))

    def close(self) -> None:
        """Closes the router this client created (not one given as ``router=``)."""
        if self._owns_router:
            self.router.close()

    def __enter__(self) -> "OpenAI":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- asyncio ------------------------------------------------------------------------------------

class _AsyncCompletions:
    def __init__(self, client: "AsyncOpenAI") -> None:
        self._client = client

    @overload
    async def create(self, *, model: str, messages: Iterable[Any],
                     stream: Optional[Literal[False]] = False,
                     **params: Any) -> ChatCompletion: ...

    @overload
    async def create(self, *, model: str, messages: Iterable[Any], stream: Literal[True],
                     **params: Any) -> AsyncChatCompletionStream: ...

    @overload
    async def create(self, *, model: str, messages: Iterable[Any], stream: bool,
                     **params: Any) -> Union[ChatCompletion, AsyncChatCompletionStream]: ...

    async def create(self, *, model: str, messages: Iterable[Any],
                     stream: Optional[bool] = False,
                     **params: Any) -> Union[ChatCompletion, AsyncChatCompletionStream]:
        """``await``: a :class:`ChatCompletion`, or with ``stream=True`` an
        :class:`AsyncChatCompletionStream` (``async for chunk in ...``). Nothing blocks the
        event loop; cancelling the awaiting task cancels the request."""
        request = chat_request(model, messages, params, self._client._defaults)
        router = self._client.router
        if stream is True:
            return AsyncChatCompletionStream(router.astream(request), include_usage(request))
        return ChatCompletion(await router.acomplete(request))


class _AsyncChat:
    def __init__(self, client: "AsyncOpenAI") -> None:
        self.completions = _AsyncCompletions(client)


class _AsyncTextCompletions:
    def __init__(self, client: "AsyncOpenAI") -> None:
        self._client = client

    async def create(self, *, model: str, prompt: Any, stream: Optional[bool] = False,
                     **params: Any) -> Union[Completion, AsyncCompletionStream]:
        """``await``: a :class:`Completion`, or with ``stream=True`` an
        :class:`AsyncCompletionStream` (``async for chunk in ...``); nothing blocks the loop."""
        request = _text_request(model, prompt, params, self._client._defaults)
        router = self._client.router
        if stream is True:
            return AsyncCompletionStream(router.acall_stream("completions.create", request), include_usage(request))
        return Completion(await router.acall("completions.create", request))


class _AsyncEmbeddings:
    def __init__(self, client: "AsyncOpenAI") -> None:
        self._client = client

    async def create(self, *, input: Any, model: str, encoding_format: Optional[str] = None,
                     **params: Any) -> CreateEmbeddingResponse:
        request = _embed_request(model, input, params, self._client._defaults)
        return embedding_response(await self._client.router.aembed(request), encoding_format)


class AsyncModelPage:
    """What ``AsyncOpenAI().models.list()`` returns, as openai's ``AsyncPaginator``: ``await``
    it for the :class:`ModelPage`, or ``async for model in client.models.list()``."""

    def __init__(self, page: Awaitable[ModelPage]) -> None:
        self._page = page

    def __await__(self) -> Generator[Any, None, ModelPage]:
        return self._page.__await__()

    async def __aiter__(self) -> Any:
        for model in await self._page:
            yield model


class _AsyncModels:
    def __init__(self, client: "AsyncOpenAI") -> None:
        self._client = client

    def list(self) -> AsyncModelPage:
        return AsyncModelPage(self._list())

    async def _list(self) -> ModelPage:
        return ModelPage(await self._client.router.amodels())

    async def retrieve(self, model: str) -> Model:
        return find_model(await self._list(), model)


class AsyncOpenAI(_ClientBase):
    """The openai SDK's ``AsyncOpenAI``: as :class:`OpenAI`, with every call awaited."""

    def __init__(self, config: Optional[ClientConfig] = None, *,
                 router: Optional["Router"] = None, timeout: Optional[float] = None,
                 max_retries: Optional[int] = None) -> None:
        super().__init__(config, router=router, timeout=timeout, max_retries=max_retries)
        self.chat = _AsyncChat(self)
        self.completions = _AsyncTextCompletions(self)
        self.embeddings = _AsyncEmbeddings(self)
        self.models = _AsyncModels(self)
        self.images = _ops.AsyncImages(self)
        self.moderations = _ops.AsyncModerations(self)
        self.audio = _ops.AsyncAudio(self)
        self.responses = AsyncResponses(self)

    async def rerank(self, *, query: str, documents: Iterable[Any], model: Optional[str] = None,
                     **params: Any) -> "_ops.RerankResponse":
        return _ops.RerankResponse(await self.router.acall(
            "rerank", _ops.rerank(self, model, query, list(documents), params)))

    async def count_tokens(self, *, model: Optional[str] = None, **params: Any) -> "_ops.TokenCount":
        return _ops.TokenCount(await self.router.acall("tokens.count", _ops.count_tokens(self, model, params)))

    async def close(self) -> None:
        """Closes the router this client created (not one given as ``router=``)."""
        if self._owns_router:
            self.router.close()

    async def __aenter__(self) -> "AsyncOpenAI":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


__all__ = ["OpenAI", "AsyncOpenAI", "ChatCompletionStream", "AsyncChatCompletionStream",
           "AsyncModelPage", "load_config"]
