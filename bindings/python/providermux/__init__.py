# SPDX-License-Identifier: Apache-2.0
"""Python bindings for libprovidermux, over ctypes (standard library only).

The library is found, in order: the ``PROVIDERMUX_LIB`` environment variable (a full path,
final when set), the copy shipped in the installed package (``providermux/_native/``),
``libprovidermux.so.0`` next to this package, ``build/lib/libprovidermux.so.0`` relative to the
repository root, ``ctypes.util.find_library("providermux")``, then the dynamic loader's own
search path. :data:`library_path` tells which one was loaded.

Example::

    import providermux
    with providermux.Router({"providers": [{"name": "mock", "type": "mock"}]}) as router:
        print(router.complete({"messages": [{"role": "user", "content": "hi"}]}).content)
        for event in router.stream({"messages": [{"role": "user", "content": "hi"}]}):
            if event.type == "delta":          # or event["type"]: events are dicts
                print(event.content or "", end="", flush=True)
        # A failed stream raises (ProviderMuxError subclasses; exc.event is the error event).

    async def main():
        with providermux.Router(config) as router:
            response = await router.acomplete(request)
            async for event in router.astream(request):
                ...

JSON documents (config, requests) may be given as ``dict``/``list`` (serialised here), ``str``
(encoded to UTF-8) or ``bytes`` (passed unchanged). Every failure raises a subclass of
:class:`ProviderMuxError` chosen by the status code (:class:`ConfigError`,
:class:`RateLimitedError`, :class:`BudgetExceededError`, ...; see :data:`ERROR_CLASSES`).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import ctypes
import json
import queue
import threading
import time
import weakref
from ctypes import byref, c_void_p
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar, Union, overload

from . import _lib
from . import _errors
from . import _pull
from . import _observe
from ._observe import logging_observer, otel_available, otel_observer
from ._events import EVENT_DONE, EVENT_ERROR
# Status codes and exception classes: _errors.__all__ (written from abi/abi.json).
from ._errors import *  # noqa: F401,F403
from ._lib import PmxError, library_path
from ._types import (TERMINAL_TYPES, DeltaEvent, DoneEvent, ErrorEvent, Event, FallbackEvent,
                     JSONDocument, Response, RetryEvent, StartEvent, StreamEvent, UsageEvent,
                     make_event, make_response)
from ._version import __version__

__all__ = [
    "__version__", "version", "version_number", "library_path", "set_log_callback",
    "Router", "Stream", "AsyncStream",
    "Event", "StartEvent", "DeltaEvent", "RetryEvent", "FallbackEvent", "UsageEvent",
    "DoneEvent", "ErrorEvent", "StreamEvent", "Response", "JSONDocument",
    "LOG_TRACE", "LOG_DEBUG", "LOG_INFO", "LOG_WARN", "LOG_ERROR",
    "logging_observer", "otel_observer", "otel_available",
]
__all__ += _errors.__all__  # (this spelling lets mypy see the re-exports)

LOG_TRACE = 0
LOG_DEBUG = 1
LOG_INFO = 2
LOG_WARN = 3
LOG_ERROR = 4

_TERMINAL_TYPES = TERMINAL_TYPES
_TERMINAL_CODES = (EVENT_DONE, EVENT_ERROR)

EventCallback = Callable[[Event], Any]
_T = TypeVar("_T")


def version() -> str:
    """Runtime version of the loaded library, e.g. ``"0.1.0"``."""
    return _lib.pmx_version_string().decode("utf-8")


def version_number() -> int:
    """Runtime version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(_lib.pmx_version_number())


def _encode(document: JSONDocument) -> bytes:
    """A JSON document as the NUL-terminated UTF-8 bytes the C API wants."""
    if isinstance(document, (bytes, bytearray)):
        return bytes(document)
    if isinstance(document, str):
        return document.encode("utf-8")
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _decode(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


def _decode_event(pointer: Any, length: int) -> Event:
    return make_event(_decode(ctypes.string_at(pointer, length)))


# Which threads are currently inside one of our callbacks (a router's I/O thread or a thread
# running pmx_router_stream): freeing a router there would deadlock or be undefined.
_callback_state = threading.local()


def _in_callback() -> bool:
    return getattr(_callback_state, "depth", 0) > 0


# Callback objects C may still call. Async stream callbacks stay in `_live_callbacks` until their
# terminal event, then move to a short queue so the object outlives its own last invocation.
_live_lock = threading.Lock()
_live_callbacks: Dict[object, Any] = {}
_retired_callbacks: "collections.deque[Any]" = collections.deque(maxlen=256)


def _retire_callback(key: object) -> None:
    with _live_lock:
        cb = _live_callbacks.pop(key, None)
        if cb is not None:
            _retired_callbacks.append(cb)


# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------

_log_lock = threading.Lock()
_log_callback = None  # the CFUNCTYPE object currently installed


def set_log_callback(fn: Optional[Callable[[int, str], Any]], min_level: int = LOG_INFO) -> None:
    """Installs ``fn(level: int, message: str)`` as the process-wide log callback.

    ``fn`` may be called from any thread (routers' I/O threads included), never concurrently
    with itself; exceptions it raises are swallowed. ``set_log_callback(None)`` stops logging.
    ``fn`` may call the library, ``set_log_callback`` included; a blocking call (``complete``,
    ``stream``, ``embed``, ``models``, ``health``, ``manage_model``) made while it runs on a
    router's I/O thread raises :class:`WouldDeadlockError` instead of waiting for itself.
    """
    global _log_callback
    if fn is None:
        c_fn = _lib.LOG_FN()  # NULL
    else:
        def trampoline(level, message, length, _userdata):
            _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
            try:
                fn(int(level), ctypes.string_at(message, length).decode("utf-8", "replace"))
            except BaseException:  # nothing may cross back into C
                pass
            finally:
                _callback_state.depth -= 1
        c_fn = _lib.LOG_FN(trampoline)
    with _log_lock:
        _lib.pmx_set_log_callback(c_fn, int(min_level), None)
        # After the call returns the previous callback is never called again — but when this
        # runs inside that callback (allowed), its call is still on the stack: retire the
        # object instead of dropping it, so it outlives that call.
        if _log_callback is not None:
            _retired_callbacks.append(_log_callback)
        _log_callback = c_fn if fn is not None else None


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------

class _StreamState:
    """What the C callback touches. It must not reference the Stream object itself, or an
    abandoned stream could never be collected (and so never cancelled)."""

    __slots__ = ("queue", "cancel_requested", "terminal", "finished", "loop")

    def __init__(self, event_queue: Any = None, loop: Any = None) -> None:
        # C-implemented SimpleQueue: cheaper per event than queue.Queue. Async streams give an
        # asyncio.Queue fed on their loop instead.
        self.queue = queue.SimpleQueue() if event_queue is None else event_queue
        self.loop = loop
        self.cancel_requested = False
        self.terminal: Optional[Event] = None
        self.finished = threading.Event()


_PyGILState_Ensure = ctypes.pythonapi.PyGILState_Ensure
_PyGILState_Ensure.restype = ctypes.c_int
_PyGILState_Ensure.argtypes = []


def _pin_thread_state() -> None:
    """Async events arrive on the library's I/O thread, which Python did not create: ctypes
    would build and tear down a Python thread state around every single callback (~25 µs an
    event). One extra PyGILState_Ensure keeps that thread's state alive for the thread's
    lifetime (one small thread state per router, reclaimed at interpreter exit)."""
    if not getattr(_callback_state, "pinned", False):
        _PyGILState_Ensure()
        _callback_state.pinned = True


def _make_async_callback(state: _StreamState, key: object) -> Any:
    """The C callback of an async stream: runs on the router's I/O thread and hands each event
    over to the consumer (a SimpleQueue, or an asyncio loop with call_soon_threadsafe)."""
    loop = state.loop
    put = state.queue.put_nowait if loop is not None else state.queue.put

    def on_event(event_json, length, _userdata):
        _pin_thread_state()
        _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
        try:
            try:
                event = _decode_event(event_json, length)
            except Exception as exc:  # should not happen: keep the stream going
                event = Event({"type": "_invalid", "message": str(exc)})
            if event.get("type") in _TERMINAL_TYPES:
                # The terminal event is the last call. Retired first, so that a reader woken
                # by it sees _live_callbacks without this one (the retired queue keeps the
                # object alive until this call has returned).
                _retire_callback(key)
                state.terminal = event
                state.finished.set()
            if loop is None:
                put(event)
            else:
                try:
                    loop.call_soon_threadsafe(put, event)
                except RuntimeError:  # the loop is closed: nobody is left to read it
                    pass
            return 1 if state.cancel_requested else 0
        except BaseException:
            return 1
        finally:
            _callback_state.depth -= 1
    return _lib.EVENT_FN(on_event)


def _start_async_stream(router: "Router", request: JSONDocument, state: _StreamState) -> Any:
    """pmx_router_stream_async with the callback kept alive until its terminal event."""
    router_handle = router._require()
    request_json = _encode(request)
    key = object()
    callback = _make_async_callback(state, key)
    with _live_lock:
        _live_callbacks[key] = callback
    handle = c_void_p()
    err = PmxError()
    rc = _lib.pmx_router_stream_async(byref(handle), router_handle, request_json,
                                      callback, None, byref(err))
    if rc != OK:
        with _live_lock:  # the callback is never called when the start fails
            _live_callbacks.pop(key, None)
        raise ProviderMuxError._from_struct(rc, err)
    return handle


class _StreamBase:
    """What Stream and AsyncStream share: the handle, the terminal event and its outcome."""

    _close_timeout = 30.0

    terminal: Optional[Event]
    response: Optional[Response]
    error: Optional[ProviderMuxError]

    def _setup(self, router: "Router", request: JSONDocument, state: _StreamState) -> None:
        self._router = router  # keeps the router alive while this handle exists
        self._lock = threading.Lock()
        self._state = state
        self._handle: Any = None
        self._started = False
        self._exhausted = False
        self.terminal = None
        self.response = None
        self.error = None
        self._handle = _start_async_stream(router, request, state)
        self._started = True
        router._streams.add(self)

    @property
    def finished(self) -> bool:
        """True once the terminal event has arrived (consumed or not)."""
        return self._state.finished.is_set()

    def _take(self, event: Event) -> None:
        if event.get("type") in _TERMINAL_TYPES:
            self._exhausted = True
            self._record(event)
            self._release_handle()

    def _record(self, event: Event) -> None:
        if self.terminal is not None:
            return
        self.terminal = event
        if event.get("type") == "done":
            self.response = event.get("response")
        else:
            self.error = ProviderMuxError._from_event(event)

    def _release_handle(self) -> None:
        """pmx_stream_free: also cancels a stream still running (its terminal still arrives)."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle:
                _lib.pmx_stream_free(handle)

    def cancel(self) -> None:
        """Requests cancellation (any thread, idempotent); the stream then ends with an
        ``error`` event whose code is ``ERR_CANCELLED`` unless it had finished."""
        self._state.cancel_requested = True
        with self._lock:
            if self._handle:
                _lib.pmx_stream_cancel(self._handle)

    def _outcome(self) -> Response:
        if self.error is not None:
            raise self.error
        if self.terminal is None:
            raise ProviderMuxError.from_code(ERR_CANCELLED, "stream closed before its end")
        return self.response  # type: ignore[return-value]

    def __del__(self) -> None:
        try:
            self._abandon()
        except Exception:
            pass

    def _abandon(self) -> None:
        raise NotImplementedError


class Stream(_StreamBase):
    """A streamed completion: an iterator of :class:`Event` (dicts; typed as
    :data:`StreamEvent`, which mypy narrows by ``event.type``).

    Iteration ends after the terminal event: ``done`` is yielded last; an ``error`` terminal
    event raises its :class:`ProviderMuxError` subclass instead (openai-named too, e.g.
    :class:`RateLimitError`), with the event as ``exc.event`` — as the openai SDK raises, a
    failed stream never ends quietly. ``cancel()`` then reading on raises
    :class:`StreamCancelledError`.
    ``close()`` (also on ``with`` exit, on garbage collection, or when a ``for`` loop over a
    temporary ``router.stream(...)`` is left early) cancels a stream still running and waits
    for its terminal event. After the end: ``response`` is the full response (``done``),
    ``error`` a :class:`ProviderMuxError` (``error``), ``terminal`` the terminal event.

    Events are pulled (pmx_router_stream_open / pmx_stream_next): up to 64 per call into the
    library, built from the typed fields (JSON is parsed only for ``done`` and ``error``). The
    request runs on the router's I/O thread meanwhile; a reader that stops reading pauses it
    (the library's queue is bounded). One thread reads at a time; ``cancel()`` and ``close()``
    work from any thread.
    """

    # How long one pmx_stream_next waits before Python gets control back (signals, Ctrl-C).
    _wait_ms = 250

    def __init__(self, router: "Router", request: JSONDocument) -> None:
        self._router = router  # keeps the router alive while this handle exists
        self._lock = threading.Lock()  # the handle (cancel / free)
        self._pull_lock = threading.Lock()  # one pmx_stream_next at a time; its views read under it
        self._state = _StreamState()
        self._handle: Any = None
        self._started = False
        self._exhausted = False
        self._pending: "collections.deque[Event]" = collections.deque()
        self._buffer = _pull.PullBuffer()
        self.terminal = None
        self.response = None
        self.error = None
        handle = c_void_p()
        err = PmxError()
        rc = _pull.pmx_router_stream_open(byref(handle), router._require(), _encode(request), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        self._handle = handle
        self._started = True
        router._streams.add(self)

    def __iter__(self) -> Iterator[StreamEvent]:
        return self

    def __next__(self) -> StreamEvent:
        pending = self._pending
        if not pending:
            if self._exhausted or not self._pull(self._wait_ms, until_terminal=False):
                self._exhausted = True
                raise StopIteration
        event = pending.popleft()
        if not pending and self._state.terminal is event:
            self._exhausted = True
            self._record(event)
            if self.error is not None:  # an `error` terminal: raised, as the openai SDK does
                raise self.error
        return event  # type: ignore[return-value]  # make_pulled_event builds the subclass

    def _pull(self, wait_ms: int, until_terminal: bool, release: bool = True) -> bool:
        """Pulls one batch (or, with until_terminal, everything up to the terminal event, for
        at most _close_timeout) into _pending. False when the stream can give no more (its
        handle is gone, or it ended). `release` frees the handle after the terminal event."""
        ended = False
        deadline = time.monotonic() + self._close_timeout if until_terminal else 0.0
        with self._pull_lock:
            handle = self._handle
            if not handle or self._state.finished.is_set():
                return bool(self._pending)
            buf = self._buffer
            events = buf.events
            while True:
                rc = buf.next(handle, wait_ms)
                if rc != OK:
                    raise ProviderMuxError._from_struct(rc, buf.err)
                n = buf.count.value
                for i in range(n):
                    self._pending.append(_pull.make_pulled_event(events[i], status_name))
                if n and events[n - 1].type in _TERMINAL_CODES:
                    self._state.terminal = self._pending[-1]
                    self._state.finished.set()
                    ended = True
                    break
                if (n and not until_terminal) or (until_terminal and time.monotonic() > deadline):
                    break
        if ended and release:
            self._release_handle()  # outside the pull lock: _release_handle takes it
        return True

    def result(self) -> Response:
        """Reads the stream to its end (blocking) and returns the response, or raises the
        stream's error (:class:`StreamCancelledError` after a cancel)."""
        for _ in self:
            pass
        return self._outcome()

    def _release_handle(self) -> None:
        """pmx_stream_free. A running stream is cancelled first and its events are taken up to
        the terminal one (kept for a reader); the handle is freed once no reader is inside
        pmx_stream_next or reading its views."""
        with self._lock:
            handle = self._handle
            if not handle:
                return
            _lib.pmx_stream_cancel(handle)  # ends a waiting reader's call with the terminal event
        # Inside a callback on a library I/O thread, waiting would wait for itself.
        if not self._state.finished.is_set() and not _in_callback():
            try:
                self._pull(self._wait_ms, until_terminal=True, release=False)
            except ProviderMuxError:
                pass
        with self._pull_lock:
            with self._lock:
                handle, self._handle = self._handle, None
            if handle:
                _lib.pmx_stream_free(handle)

    def close(self) -> None:
        """Cancels the stream if still running, waits for its terminal event, frees it.
        Events not yet read are dropped."""
        if not getattr(self, "_started", False):
            return  # the start failed: nothing runs
        self._release_handle()
        self._exhausted = True
        self._pending.clear()
        if self._state.terminal is not None:
            self._record(self._state.terminal)

    _abandon = close

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncStream(_StreamBase):
    """A streamed completion for asyncio: ``async for event in router.astream(request)``.

    Events come from the router's I/O thread through ``loop.call_soon_threadsafe`` into an
    :class:`asyncio.Queue`: nothing blocks the event loop. Iteration ends as with
    :class:`Stream`: ``done`` is yielded last, an ``error`` terminal raises (``exc.event``);
    ``await stream.result()`` returns the response or raises the error.

    Cancelling the task that iterates (``task.cancel()``, ``asyncio.wait_for`` timing out)
    cancels the stream, waits (asynchronously) for its terminal event, then lets
    :class:`asyncio.CancelledError` through. ``aclose()`` (and ``async with`` exit) cancels and
    waits the same way. A stream dropped unread (e.g. an exception left the ``async for``) is
    cancelled when collected. Create it on the loop that will read it.
    """

    def __init__(self, router: "Router", request: JSONDocument) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._setup(router, request, _StreamState(asyncio.Queue(), loop))

    def __aiter__(self) -> "AsyncStream":
        return self

    async def __anext__(self) -> StreamEvent:
        event = await self._next_event()
        if self.error is not None and event is self.terminal:
            raise self.error  # an `error` terminal: raised, as the openai SDK does
        return event  # type: ignore[return-value]  # make_event builds the subclass

    async def _next_event(self) -> Event:
        """The next event, the `error` terminal included (StopAsyncIteration after the end)."""
        if self._exhausted:
            raise StopAsyncIteration
        try:
            event = await self._state.queue.get()
        except asyncio.CancelledError:
            await self._cancel_and_drain()
            raise
        self._take(event)
        return event

    async def _cancel_and_drain(self) -> None:
        """Cancels the stream and awaits its terminal event (dropping the events before it)."""
        if self._exhausted or not getattr(self, "_started", False):
            return
        self.cancel()
        deadline = self._loop.time() + self._close_timeout
        try:
            while not self._exhausted:
                remaining = deadline - self._loop.time()
                if remaining <= 0:
                    raise asyncio.TimeoutError
                self._take(await asyncio.wait_for(self._state.queue.get(), remaining))
        except asyncio.TimeoutError:
            self._exhausted = True
            self._release_handle()

    async def result(self) -> Response:
        """Reads the stream to its end and returns the response, or raises the stream's error
        (:class:`StreamCancelledError` after a cancel)."""
        async for _ in self:
            pass
        return self._outcome()

    async def aclose(self) -> None:
        """Cancels the stream if still running and awaits its terminal event; frees it."""
        await self._cancel_and_drain()
        self._release_handle()

    def close(self) -> None:
        """Cancels and frees without waiting (for synchronous code and Router.close)."""
        if not getattr(self, "_started", False):
            return
        if not self.finished:
            self.cancel()
        self._exhausted = True
        if self._state.terminal is not None:
            self._record(self._state.terminal)
        self._release_handle()

    _abandon = close

    async def __aenter__(self) -> "AsyncStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


# ---------------------------------------------------------------------------------------------
# Routers
# ---------------------------------------------------------------------------------------------

_routers: "weakref.WeakSet[Router]" = weakref.WeakSet()


class Router:
    """A router built from a config (dict, JSON str or bytes). Safe to share between threads.

    Close it with ``close()``, a ``with`` or an ``async with`` block, after blocking calls on
    other threads have returned; streams still running are cancelled.
    """

    def __init__(self, config: JSONDocument,
                 observer: "Union[_observe.Observer, List[_observe.Observer], None]" = None) -> None:
        """`observer`: see :meth:`set_observer` (a callable or a list of them)."""
        self._handle: Any = None
        self._observer_c: Any = None
        self._close_lock = threading.Lock()
        # Blocking calls the async wrappers (aembed, amodels, ...) run on worker threads: close()
        # waits for them, as pmx_router_free must not run under a blocking call.
        self._athreads = 0
        self._athreads_idle = threading.Condition(self._close_lock)
        self._streams: "weakref.WeakSet[_StreamBase]" = weakref.WeakSet()
        # call_stream iterators running on worker threads: close() cancels them first.
        self._call_streams: "weakref.WeakSet[Any]" = weakref.WeakSet()
        handle = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_new(byref(handle), _encode(config), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        self._handle = handle
        _routers.add(self)
        if observer is not None:
            self.set_observer(observer)

    def set_observer(self, observer: "Union[_observe.Observer, List[_observe.Observer], None]") -> None:
        """Sets the per-request observer: ``observer(record: dict)`` is called once per request
        when it ends (success, failure, cancellation, cache hit), before the call that ran it
        returns, on the router's I/O thread. A list of callables calls each in order. ``None``
        clears it. The record's keys: include/providermux.h (pmx_observer_fn); bridges:
        :func:`logging_observer`, :func:`otel_observer`. An exception it raises is logged
        (logger ``providermux``) and never propagates; blocking router calls made from it raise
        :class:`WouldDeadlockError`. Requests started before an observer was set are not recorded.
        """
        fn = _observe.combine(observer)

        def enter() -> None:
            _callback_state.depth = getattr(_callback_state, "depth", 0) + 1

        def leave() -> None:
            _callback_state.depth -= 1

        c_fn = _observe.make_trampoline(fn, enter, leave) if fn is not None else _lib.OBSERVER_FN()
        err = PmxError()
        rc = _lib.pmx_router_set_observer(self._require(), c_fn, None, byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        # The previous callback is not called after the C call returned (or, when this runs on an
        # I/O thread, may be finishing its call): retire it rather than drop it under that call.
        if self._observer_c is not None:
            _retired_callbacks.append(self._observer_c)
        self._observer_c = c_fn if fn is not None else None

    def _require(self) -> Any:
        handle = self._handle
        if not handle:
            raise ProviderMuxError.from_code(ERR_ROUTER_CLOSED, "router is closed")
        return handle

    @property
    def closed(self) -> bool:
        return not self._handle

    def close(self) -> None:
        """Frees the router (idempotent). Must not be called from one of its own callbacks."""
        for call_stream in list(self._call_streams):
            call_stream._cancel.set()  # ends at its next event; waited for below
        with self._close_lock:
            handle, self._handle = self._handle, None
            streams = list(self._streams)
            self._athreads_idle.wait_for(lambda: self._athreads == 0)
        if not handle:
            return
        for stream in streams:  # stream handles go first: none is used after the router
            try:
                stream._release_handle()
            except Exception:
                pass
        _lib.pmx_router_free(handle)  # every async stream gets its terminal event before this returns
        for stream in streams:
            try:
                stream.close()  # type: ignore[attr-defined]
            except Exception:
                pass

    def __enter__(self) -> "Router":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Router":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        # Cancels running streams and waits for their terminal events: immediate, not I/O.
        self.close()

    def __del__(self) -> None:
        try:
            if not self._handle:
                return
            if _in_callback():
                # Dropped on an I/O thread: pmx_router_free there would wait for itself.
                threading.Thread(target=self.close, daemon=True).start()
            else:
                self.close()
        except Exception:
            pass

    # -- calls returning a JSON document -------------------------------------------------------

    def _call_json(self, fn: Any, *args: Any) -> Any:
        out = c_void_p()
        err = PmxError()
        rc = fn(byref(out), self._require(), *args, byref(err))
        data = _lib.take_string(out)
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return _decode(data) if data is not None else None

    def complete(self, request: JSONDocument) -> Response:
        """Runs one chat completion (retries and failover included); returns the response.
        Blocks the calling thread (use :meth:`acomplete` in asyncio code)."""
        return make_response(self._call_json(_lib.pmx_router_complete, _encode(request)))

    def embed(self, request: JSONDocument) -> Dict[str, Any]:
        """Computes embeddings: ``{"model": ..., "input": "text" | [...]}``."""
        return self._call_json(_lib.pmx_router_embed, _encode(request))

    def models(self, search: Optional[str] = None, provider: Optional[str] = None) -> Dict[str, Any]:
        """Lists the models of every provider; ``search`` keeps the ids containing it (ASCII
        case ignored), ``provider`` one provider's models (pmx_router_models_query)."""
        if search is None and provider is None:
            return self._call_json(_lib.pmx_router_models)
        query: Dict[str, Any] = {}
        if search is not None:
            query["search"] = search
        if provider is not None:
            query["provider"] = provider
        return self._call_json(_lib.pmx_router_models_query, _encode(query))

    def health(self) -> Dict[str, Any]:
        """Probes every provider now."""
        return self._call_json(_lib.pmx_router_health)

    def stats(self, reset: bool = False) -> Dict[str, Any]:
        """Usage statistics since the router was created (or last reset), as a dict.
        ``reset=True`` zeroes the counters right after this snapshot."""
        if not reset:
            return self._call_json(_lib.pmx_router_stats)
        return _decode(self._stats_text({"format": "json", "reset": True}).encode("utf-8"))

    def metrics(self, reset: bool = False) -> str:
        """The statistics as Prometheus text exposition (str), for a /metrics endpoint."""
        return self._stats_text({"format": "prometheus", "reset": bool(reset)})

    def _stats_text(self, options: JSONDocument) -> str:
        out = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_stats_ex(byref(out), self._require(), _encode(options), byref(err))
        data = _lib.take_string(out)
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return data.decode("utf-8")

    def update_routing(self, routing: JSONDocument) -> None:
        """Replaces the config's "routing" section (a dict or JSON text) while requests run."""
        err = PmxError()
        rc = _lib.pmx_router_update_routing(self._require(), _encode(routing), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)

    # -- operations by name (pmx_router_call) ----------------------------------------------------

    def call(self, operation: str, request: Optional[JSONDocument] = None, **fields: Any) -> Dict[str, Any]:
        """Runs one operation by name (the openai SDK's resource path: "completions.create",
        "images.generate", "rerank", ... ) and returns its result dict (the operation's OpenAI
        shape plus "provider", "attempts", "usage"). The request is ``request`` (a dict or JSON
        text) and/or keyword fields: ``router.call("completions.create", model="m",
        prompt="def f(", suffix="return 1")``. Routed, retried and failed over like chat."""
        return self._call_json(_lib.pmx_router_call, _operation_name(operation),
                               _encode(_operation_request(request, fields)))

    def call_stream(self, operation: str, request: Optional[JSONDocument] = None,
                    on_event: Optional[EventCallback] = None, **fields: Any) -> Any:
        """Streams an operation. With ``on_event``: runs on this thread, calling
        ``on_event(event)`` for each event (a truthy return cancels), and returns the result of
        ``done``. Without it: returns an iterator of events (the stream runs on a worker thread;
        closing the iterator cancels it). A "completions.create" stream sends ``delta`` events
        with ``content``, then ``usage``, then ``done``."""
        document = _encode(_operation_request(request, fields))
        name = _operation_name(operation)
        if on_event is not None:
            return self._call_stream_blocking(name, document, on_event)
        return _CallStreamIterator(self, name, document)

    def _call_stream_blocking(self, name: bytes, document: bytes, on_event: EventCallback) -> Any:
        return self._with_events(on_event, lambda out, callback, err: _lib.pmx_router_call_stream(
            out, self._require(), name, document, callback, None, err))

    def rerank(self, request: Optional[JSONDocument] = None, **fields: Any) -> Dict[str, Any]:
        """``call("rerank", ...)``: ``query``, ``documents``, ``top_n``, ``return_documents``;
        results best-first, cut to ``top_n``, whatever the provider did."""
        return self.call("rerank", request, **fields)

    def count_tokens(self, request: Optional[JSONDocument] = None, **fields: Any) -> Dict[str, Any]:
        """``call("tokens.count", ...)``: ``{"input_tokens": N, "estimated": bool}`` for
        ``messages`` (or ``input``); estimated (nothing sent) when no provider can count."""
        return self.call("tokens.count", request, **fields)

    async def acall(self, operation: str, request: Optional[JSONDocument] = None, **fields: Any) -> Dict[str, Any]:
        """:meth:`call` without blocking the event loop (on a worker thread)."""
        return await self._athread(self.call, operation, _operation_request(request, fields))

    def acall_stream(self, operation: str, request: Optional[JSONDocument] = None,
                     **fields: Any) -> "_AsyncCallStream":
        """:meth:`call_stream` for ``async for``: the stream runs on a worker thread and its
        events arrive on the running loop; ``aclose()`` (or leaving ``async with``) cancels it."""
        return _AsyncCallStream(self, _operation_name(operation), _encode(_operation_request(request, fields)))

    # -- streams -------------------------------------------------------------------------------

    @overload
    def stream(self, request: JSONDocument, on_event: None = None) -> Stream: ...

    @overload
    def stream(self, request: JSONDocument, on_event: EventCallback) -> Optional[Response]: ...

    def stream(self, request: JSONDocument,
               on_event: Optional[EventCallback] = None) -> Union[Stream, Optional[Response]]:
        """Streams a chat completion.

        Without ``on_event``: returns a :class:`Stream`, an iterator of events (input errors
        raise here, at once). With ``on_event``: the same as :meth:`stream_blocking`.
        """
        if on_event is not None:
            return self.stream_blocking(request, on_event)
        return Stream(self, request)

    def stream_blocking(self, request: JSONDocument,
                        on_event: EventCallback) -> Optional[Response]:
        """Runs a streamed completion on this thread, calling ``on_event(event)`` for each
        event; returns the full response. A truthy return value from ``on_event`` cancels the
        stream. An exception raised by ``on_event`` cancels it and is re-raised here."""
        request_json = _encode(request)
        data = self._with_events(on_event, lambda out, callback, err: _lib.pmx_router_stream(
            out, self._require(), request_json, callback, None, err))
        return make_response(data) if data is not None else None

    def _with_events(self, on_event: EventCallback, run: Callable[[Any, Any, Any], int]) -> Any:
        """A blocking call delivering events on this thread: ``run(out, callback, err)`` makes
        the C call; returns its decoded result (None without one). A truthy return of
        ``on_event`` cancels; an exception it raises cancels and is re-raised here."""
        raised: List[BaseException] = []

        def trampoline(event_json, length, _userdata):
            _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
            try:
                return 1 if on_event(_decode_event(event_json, length)) else 0
            except BaseException as exc:  # KeyboardInterrupt included: cancel, re-raise below
                raised.append(exc)
                return 1
            finally:
                _callback_state.depth -= 1

        callback = _lib.EVENT_FN(trampoline)  # alive until the C call returns
        out = c_void_p()
        err = PmxError()
        rc = run(byref(out), callback, byref(err))
        data = _lib.take_string(out)
        if raised:
            raise raised[0]
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return _decode(data) if data is not None else None

    # -- asyncio -------------------------------------------------------------------------------

    def astream(self, request: JSONDocument) -> AsyncStream:
        """Starts a streamed completion for ``async for`` (call it on the running loop; input
        errors raise here, at once). See :class:`AsyncStream`."""
        return AsyncStream(self, request)

    async def acomplete(self, request: JSONDocument,
                        on_event: Optional[EventCallback] = None) -> Response:
        """Runs one chat completion without blocking the event loop and returns the response
        (the ``done`` event's, so it has ``ttft_ms`` too). It runs as a stream on the router's
        I/O thread: cancelling the awaiting task cancels the request. ``on_event(event)``, if
        given, sees every event on the loop; a truthy return cancels the request, an exception
        it raises cancels the request and propagates here. Errors raise their
        :class:`ProviderMuxError` subclass."""
        stream = AsyncStream(self, request)
        try:
            while not stream._exhausted:  # on_event sees the `error` event too
                event = await stream._next_event()
                if on_event is not None and on_event(event):
                    stream.cancel()
        except GeneratorExit:  # the coroutine was closed: no more awaiting
            stream.close()
            raise
        except BaseException:
            await stream.aclose()  # immediate when the stream has already ended
            raise
        return stream._outcome()

    # -- asyncio: every other call, on a worker thread -------------------------------------------

    async def _athread(self, fn: Callable[..., _T], *args: Any) -> _T:
        """fn(*args) on the loop's default executor: the loop keeps running meanwhile.
        Cancelling the awaiting task does not stop the call (the library's blocking calls
        cannot be cancelled); close() waits for it."""
        def run() -> _T:
            with self._close_lock:
                self._athreads += 1
            try:
                return fn(*args)
            finally:
                with self._close_lock:
                    self._athreads -= 1
                    self._athreads_idle.notify_all()
        return await asyncio.get_running_loop().run_in_executor(None, run)

    async def aembed(self, request: JSONDocument) -> Dict[str, Any]:
        """:meth:`embed` without blocking the event loop (on a worker thread)."""
        return await self._athread(self.embed, request)

    async def amodels(self) -> Dict[str, Any]:
        """:meth:`models` without blocking the event loop."""
        return await self._athread(self.models)

    async def ahealth(self) -> Dict[str, Any]:
        """:meth:`health` without blocking the event loop."""
        return await self._athread(self.health)

    async def astats(self, reset: bool = False) -> Dict[str, Any]:
        """:meth:`stats` without blocking the event loop."""
        return await self._athread(self.stats, reset)

    async def ametrics(self, reset: bool = False) -> str:
        """:meth:`metrics` without blocking the event loop."""
        return await self._athread(self.metrics, reset)

    async def aupdate_routing(self, routing: JSONDocument) -> None:
        """:meth:`update_routing` without blocking the event loop."""
        await self._athread(self.update_routing, routing)

    async def amanage_model(self, action: str, provider: str, model: Optional[str] = None,
                            on_progress: Optional[EventCallback] = None) -> Dict[str, Any]:
        """:meth:`manage_model` without blocking the event loop; ``on_progress`` runs on the
        worker thread."""
        return await self._athread(self.manage_model, action, provider, model, on_progress)

    async def aadd_provider(self, provider: JSONDocument) -> None:
        """:meth:`add_provider` without blocking the event loop."""
        await self._athread(self.add_provider, provider)

    async def aremove_provider(self, name: str) -> None:
        """:meth:`remove_provider` without blocking the event loop."""
        await self._athread(self.remove_provider, name)

    # -- model management ----------------------------------------------------------------------

    def manage_model(self, action: str, provider: str, model: Optional[str] = None,
                     on_progress: Optional[EventCallback] = None,
                     options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """Model management on a local server provider: ``action`` is "pull", "delete", "show"
        or "loaded" (ollama), "load", "unload" or "loaded" (lmstudio; ``options`` are the load
        settings, e.g. ``{"context_length": 8192}``). ``on_progress(event)`` receives pull
        progress on this thread; a truthy return cancels. Returns the result document."""
        request: Dict[str, Any] = {"action": action, "provider": provider}
        if model is not None:
            request["model"] = model
        if options is not None:
            request["options"] = options
        raised: List[BaseException] = []

        def trampoline(event_json, length, _userdata):
            try:
                return 1 if on_progress(_decode_event(event_json, length)) else 0
            except BaseException as exc:
                raised.append(exc)
                return 1

        callback = _lib.EVENT_FN(trampoline) if on_progress else _lib.EVENT_FN()
        out = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_model_manage(byref(out), self._require(), _encode(request), callback,
                                          None, byref(err))
        data = _lib.take_string(out)
        if raised:
            raise raised[0]
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return _decode(data)

    # -- providers -----------------------------------------------------------------------------

    def add_provider(self, provider: JSONDocument) -> None:
        """Adds a provider (a dict, JSON str or bytes, one entry of the config's "providers")."""
        handle = c_void_p()
        err = PmxError()
        rc = _lib.pmx_provider_new(byref(handle), _encode(provider), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        try:
            rc = _lib.pmx_router_add_provider(self._require(), handle, byref(err))
            if rc != OK:
                raise ProviderMuxError._from_struct(rc, err)
        finally:
            _lib.pmx_provider_free(handle)  # the router keeps its own reference

    def remove_provider(self, name: str) -> None:
        """Removes the provider called ``name``; requests already running on it finish."""
        err = PmxError()
        rc = _lib.pmx_router_remove_provider(self._require(), name.encode("utf-8"), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)


# The openai SDK's surface and the LiteLLM-style helper (they use Router, defined above).
def _operation_name(operation: str) -> bytes:
    if not isinstance(operation, str):
        raise TypeError("operation must be a str such as 'completions.create', not %s" % type(operation).__name__)
    return operation.encode("utf-8")


def _operation_request(request: Optional[JSONDocument], fields: Dict[str, Any]) -> JSONDocument:
    """The request of an operation call: ``request`` (dict or JSON text) with ``fields`` over it."""
    if not fields:
        return request if request is not None else {}
    base: Dict[str, Any] = {}
    if isinstance(request, (str, bytes, bytearray)):
        base = json.loads(request)
    elif request is not None:
        base = dict(request)
    base.update(fields)
    return base


class _CallStreamIterator:
    """The events of :meth:`Router.call_stream` without a callback: the blocking call runs on a
    worker thread and hands each event over a queue; closing the iterator cancels the stream.
    After the terminal event, ``result`` holds the ``done`` result (an error event raises)."""

    _END = object()

    def __init__(self, router: "Router", name: bytes, document: bytes) -> None:
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._cancel = threading.Event()
        self.result: Any = None
        self._error: Optional[BaseException] = None

        def on_event(event: Any) -> bool:
            self._queue.put(event)
            return self._cancel.is_set()

        def run() -> None:
            try:
                self.result = router._call_stream_blocking(name, document, on_event)
            except BaseException as exc:  # delivered to the consumer after the events
                self._error = exc
            finally:
                with router._close_lock:
                    router._athreads -= 1
                    router._athreads_idle.notify_all()
                self._queue.put(self._END)

        # Counted as a worker call: Router.close() cancels it and waits for its end before
        # freeing the router (no library call may outlive pmx_router_free).
        router._require()
        with router._close_lock:
            router._athreads += 1
        router._call_streams.add(self)
        self._thread = threading.Thread(target=run, name="providermux-call-stream", daemon=True)
        self._thread.start()

    def __iter__(self) -> "_CallStreamIterator":
        return self

    def __next__(self) -> Any:
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)  # later calls end too
            self._thread.join()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise StopIteration
        return item

    def close(self) -> None:
        """Cancels the stream (if still running) and waits for it to end."""
        self._cancel.set()
        self._thread.join()

    def __enter__(self) -> "_CallStreamIterator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _AsyncCallStream:
    """``async for event in router.acall_stream(...)``: the blocking stream on a worker thread,
    its events handed to the loop. ``result`` holds the ``done`` result once it ended."""

    def __init__(self, router: "Router", name: bytes, document: bytes) -> None:
        self._router, self._name, self._document = router, name, document
        self._cancel = threading.Event()
        self._queue: Optional["asyncio.Queue[Any]"] = None
        self._task: Optional["asyncio.Future[Any]"] = None
        self._done = False
        self.result: Any = None

    def _start(self) -> None:
        self._router._call_streams.add(self)  # Router.close() cancels it (see _CallStreamIterator)
        loop = asyncio.get_running_loop()
        q: "asyncio.Queue[Any]" = asyncio.Queue()
        self._queue = q

        def on_event(event: Any) -> bool:
            loop.call_soon_threadsafe(q.put_nowait, event)
            return self._cancel.is_set()

        self._task = asyncio.ensure_future(self._router._athread(
            self._router._call_stream_blocking, self._name, self._document, on_event))
        self._task.add_done_callback(lambda _t: loop.call_soon(q.put_nowait, _CallStreamIterator._END))

    def __aiter__(self) -> "_AsyncCallStream":
        return self

    async def __anext__(self) -> Any:
        if self._done:
            raise StopAsyncIteration
        if self._queue is None:
            self._start()
        assert self._queue is not None and self._task is not None
        item = await self._queue.get()
        if item is _CallStreamIterator._END:
            self._done = True
            self.result = self._task.result()  # raises the stream's error
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> "_AsyncCallStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancels the stream and waits for its end."""
        self._cancel.set()
        if self._task is not None:
            try:
                await self._task
            except Exception:
                pass
        self._done = True


from ._openai import AsyncOpenAI, OpenAI  # noqa: E402
from ._openai_stream import AsyncChatCompletionStream, ChatCompletionStream  # noqa: E402
from . import _openai_types  # noqa: E402
from ._openai_types import *  # noqa: E402,F401,F403
from ._completion import acompletion, completion, completion_router  # noqa: E402
from ._openai_completions import (AsyncCompletionStream, Completion, CompletionChoice,  # noqa: E402
                                  CompletionStream)
from ._openai_responses import (AsyncResponseStream, Response as ResponsesResponse,  # noqa: E402
                                ResponseStream, ResponseStreamEvent)

__all__ += ["OpenAI", "AsyncOpenAI", "ChatCompletionStream", "AsyncChatCompletionStream",
            "completion", "acompletion", "completion_router",
            "Completion", "CompletionChoice", "CompletionStream", "AsyncCompletionStream",
            "ResponsesResponse", "ResponseStream", "AsyncResponseStream", "ResponseStreamEvent"]
__all__ += _openai_types.__all__


@atexit.register
def _shutdown() -> None:
    # Before interpreter finalization: I/O threads still need the GIL to deliver terminal events.
    for router in list(_routers):
        try:
            router.close()
        except Exception:
            pass
    if _log_callback is not None:
        try:
            set_log_callback(None)
        except Exception:
            pass
