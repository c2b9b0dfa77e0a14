# SPDX-License-Identifier: Apache-2.0
"""``providermux.completion(model=..., messages=..., config=...)``: one call, LiteLLM-style.

Router reuse (the caching rule): a router is built once per distinct config and reused by every
later call with an equal config, for the life of the process, so that connections, retries'
state, circuit breakers, budgets and statistics carry over between calls. Configs are equal when
their JSON values are (key order and spacing do not matter; a dict, its JSON text and a file
holding it are one config); a file path is read at each call and compared by its CONTENT (an
edited file gives a new router). ``config=None`` uses the file named by ``$PMX_CONFIG``. At most
:data:`MAX_CACHED_ROUTERS` routers are kept; beyond that the least recently used one is dropped
from the cache (it closes once no call or stream uses it any more). ``completion_router(config)``
returns the cached router, e.g. for its ``stats()``.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from typing import TYPE_CHECKING, Any, Iterable, Optional, Union

from ._errors import ConfigError
from ._openai import AsyncOpenAI, ClientConfig, OpenAI, load_config
from ._openai_stream import AsyncChatCompletionStream, ChatCompletionStream
from ._openai_types import ChatCompletion

if TYPE_CHECKING:
    from . import Router

#: How many routers completion() keeps (one per distinct config).
MAX_CACHED_ROUTERS = 16

_lock = threading.Lock()
_routers: "collections.OrderedDict[bytes, Router]" = collections.OrderedDict()


def _key(document: Any) -> bytes:
    """The config's canonical JSON (text that is not JSON: as it is; the router refuses it)."""
    if isinstance(document, (bytes, bytearray, str)):
        try:
            document = json.loads(document)
        except ValueError:
            return document.encode("utf-8") if isinstance(document, str) else bytes(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def completion_router(config: Optional[ClientConfig] = None) -> "Router":
    """The router completion() uses for ``config`` (built on first use; see the module doc)."""
    from . import Router
    if config is None:
        config = os.environ.get("PMX_CONFIG")
        if not config:
            raise ConfigError(message="config: none given and $PMX_CONFIG is not set")
    document = load_config(config)
    key = _key(document)
    with _lock:
        router = _routers.get(key)
        if router is not None and not router.closed:
            _routers.move_to_end(key)
            return router
    router = Router(document)  # outside the lock: building one may take a while
    with _lock:
        existing = _routers.get(key)
        if existing is not None and not existing.closed:
            router.close()  # another thread built the same one first
            return existing
        _routers[key] = router
        while len(_routers) > MAX_CACHED_ROUTERS:
            _routers.popitem(last=False)
    return router


def completion(model: str, messages: Iterable[Any], *, config: Optional[ClientConfig] = None,
               stream: bool = False, **params: Any
               ) -> Union[ChatCompletion, ChatCompletionStream]:
    """A chat completion through the cached router for ``config`` (the module doc says which):
    ``client.chat.completions.create(...)`` of :class:`OpenAI`, without a client."""
    client = OpenAI(router=completion_router(config))
    return client.chat.completions.create(model=model, messages=messages, stream=stream,
                                          **params)


async def acompletion(model: str, messages: Iterable[Any], *,
                      config: Optional[ClientConfig] = None, stream: bool = False,
                      **params: Any) -> Union[ChatCompletion, AsyncChatCompletionStream]:
    """The asyncio twin of :func:`completion` (the same router cache)."""
    client = AsyncOpenAI(router=completion_router(config))
    return await client.chat.completions.create(model=model, messages=messages, stream=stream,
                                                **params)


__all__ = ["completion", "acompletion", "completion_router", "MAX_CACHED_ROUTERS"]
