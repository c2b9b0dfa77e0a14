"""Python bindings for libprovidermux, over ctypes (standard library only).

The library is found, in order: the ``PROVIDERMUX_LIB`` environment variable (a full path,
final when set), ``libprovidermux.so.0`` next to this package, ``build/lib/libprovidermux.so.0``
relative to the repository root, ``ctypes.util.find_library("providermux")``, then the dynamic
loader's own search path.

Example::

    import providermux
    with providermux.Router({"providers": [{"name": "mock", "type": "mock"}]}) as router:
        print(router.complete({"messages": [{"role": "user", "content": "hi"}]}))
        for event in router.stream({"messages": [{"role": "user", "content": "hi"}]}):
            if event["type"] == "delta":
                print(event.get("content", ""), end="", flush=True)

JSON documents (config, requests) may be given as ``dict``/``list`` (serialised here), ``str``
(encoded to UTF-8) or ``bytes`` (passed unchanged). Every failure raises
:class:`ProviderMuxError`.
"""

import atexit
import collections
import ctypes
import json
import queue
import threading
import weakref
from ctypes import byref, c_void_p

from . import _lib
from ._lib import PmxError, library_path

__all__ = [
    "version", "version_number", "status_name", "library_path", "set_log_callback",
    "ProviderMuxError", "Router", "Stream",
]

# Status codes (include/providermux.h); append-only.
OK = 0
ERR_INVALID_ARGUMENT = -1
ERR_INVALID_JSON = -2
ERR_INVALID_UTF8 = -3
ERR_CONFIG = -4
ERR_ENV_VAR_MISSING = -5
ERR_UNKNOWN_PROVIDER_TYPE = -6
ERR_INVALID_REQUEST = -7
ERR_NO_PROVIDER = -8
ERR_PROVIDER_NOT_FOUND = -9
ERR_DUPLICATE_PROVIDER = -10
ERR_CANCELLED = -11
ERR_TIMEOUT = -12
ERR_CONNECTION = -13
ERR_UPSTREAM_HTTP = -14
ERR_RATE_LIMITED = -15
ERR_AUTH = -16
ERR_UPSTREAM_PROTOCOL = -17
ERR_STREAM_INTERRUPTED = -18
ERR_UPSTREAM_BAD_REQUEST = -19
ERR_MODEL_NOT_FOUND = -20
ERR_UNSUPPORTED = -21
ERR_UPSTREAM_SERVER = -22
ERR_ROUTER_CLOSED = -23
ERR_RESPONSE_TOO_LARGE = -24
ERR_QUOTA_EXCEEDED = -25
ERR_PERMISSION = -26
ERR_MODEL_NOT_LOADED = -27
ERR_CONTEXT_LENGTH_EXCEEDED = -28
ERR_CONTENT_FILTERED = -29
ERR_BUDGET_EXCEEDED = -30
ERR_CIRCUIT_OPEN = -31
ERR_INTERNAL = -99

LOG_TRACE = 0
LOG_DEBUG = 1
LOG_INFO = 2
LOG_WARN = 3
LOG_ERROR = 4

_TERMINAL_TYPES = ("done", "error")


def version():
    """Runtime version of the loaded library, e.g. ``"0.1.0"``."""
    return _lib.pmx_version_string().decode("utf-8")


def version_number():
    """Runtime version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return int(_lib.pmx_version_number())


def status_name(code):
    """Name of a status code, e.g. ``"PMX_ERR_TIMEOUT"`` (``"PMX_UNKNOWN_STATUS"`` if unknown)."""
    return _lib.pmx_status_name(int(code)).decode("utf-8")


class ProviderMuxError(Exception):
    """A failed library call or a stream that ended with an ``error`` event.

    Attributes: ``code`` (negative status), ``status_name``, ``http_status`` (0 when none),
    ``provider`` ("" when none), ``attempts`` (number of provider attempts), ``message``, and
    ``details`` (the error event dict for stream errors, else None).
    """

    def __init__(self, code, message="", http_status=0, provider="", attempts=0, details=None):
        self.code = int(code)
        self.status_name = status_name(self.code)
        self.message = message or ""
        self.http_status = int(http_status or 0)
        self.provider = provider or ""
        self.attempts = int(attempts or 0)
        self.details = details
        super().__init__(
            "%s: %s" % (self.status_name, self.message) if self.message else self.status_name)

    @classmethod
    def _from_struct(cls, code, err):
        return cls(code or err.code,
                   message=err.message.decode("utf-8", "replace"),
                   http_status=err.http_status,
                   provider=err.provider.decode("utf-8", "replace"),
                   attempts=err.attempts)

    @classmethod
    def _from_event(cls, event):
        attempts = event.get("attempts", 0)
        if isinstance(attempts, list):  # the vocabulary may give the attempt objects
            attempts = len(attempts)
        return cls(event.get("code", ERR_INTERNAL),
                   message=event.get("message", ""),
                   http_status=event.get("http_status", 0),
                   provider=event.get("provider", ""),
                   attempts=attempts if isinstance(attempts, int) else 0,
                   details=event)


def _encode(document):
    """A JSON document as the NUL-terminated UTF-8 bytes the C API wants."""
    if isinstance(document, (bytes, bytearray)):
        return bytes(document)
    if isinstance(document, str):
        return document.encode("utf-8")
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _decode(data):
    return json.loads(data.decode("utf-8"))


# Which threads are currently inside one of our callbacks (a router's I/O thread or a thread
# running pmx_router_stream): freeing a router there would deadlock or be undefined.
_callback_state = threading.local()


def _in_callback():
    return getattr(_callback_state, "depth", 0) > 0


# Callback objects C may still call. Async stream callbacks stay in `_live_callbacks` until their
# terminal event, then move to a short queue so the object outlives its own last invocation.
_live_lock = threading.Lock()
_live_callbacks = {}
_retired_callbacks = collections.deque(maxlen=256)


def _retire_callback(key):
    with _live_lock:
        cb = _live_callbacks.pop(key, None)
        if cb is not None:
            _retired_callbacks.append(cb)


# ---------------------------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------------------------

_log_lock = threading.Lock()
_log_callback = None  # the CFUNCTYPE object currently installed


def set_log_callback(fn, min_level=LOG_INFO):
    """Installs ``fn(level: int, message: str)`` as the process-wide log callback.

    ``fn`` may be called from any thread (routers' I/O threads included); exceptions it raises
    are swallowed. ``set_log_callback(None)`` stops logging.
    """
    global _log_callback
    if fn is None:
        c_fn = ctypes.cast(None, _lib.LOG_FN)
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
        # After the call returns the previous callback is never called again: safe to drop it.
        _log_callback = c_fn if fn is not None else None


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------

class _StreamState:
    """What the C callback touches. It must not reference the Stream object itself, or an
    abandoned stream could never be collected (and so never cancelled)."""

    __slots__ = ("queue", "cancel_requested", "terminal", "finished")

    def __init__(self):
        self.queue = queue.SimpleQueue()  # C-implemented: cheaper per event than queue.Queue
        self.cancel_requested = False
        self.terminal = None
        self.finished = threading.Event()


_PyGILState_Ensure = ctypes.pythonapi.PyGILState_Ensure
_PyGILState_Ensure.restype = ctypes.c_int
_PyGILState_Ensure.argtypes = []


def _pin_thread_state():
    """Async events arrive on the library's I/O thread, which Python did not create: ctypes
    would build and tear down a Python thread state around every single callback (~25 µs an
    event). One extra PyGILState_Ensure keeps that thread's state alive for the thread's
    lifetime (one small thread state per router, reclaimed at interpreter exit)."""
    if not getattr(_callback_state, "pinned", False):
        _PyGILState_Ensure()
        _callback_state.pinned = True


def _make_async_callback(state, key):
    def on_event(event_json, length, _userdata):
        _pin_thread_state()
        _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
        try:
            try:
                event = _decode(ctypes.string_at(event_json, length))
            except Exception as exc:  # should not happen: keep the stream going
                event = {"type": "_invalid", "message": str(exc)}
            state.queue.put(event)
            if event.get("type") in _TERMINAL_TYPES:
                state.terminal = event
                state.finished.set()
                _retire_callback(key)  # the terminal event is the last call
            return 1 if state.cancel_requested else 0
        except BaseException:
            return 1
        finally:
            _callback_state.depth -= 1
    return _lib.EVENT_FN(on_event)


class Stream:
    """An asynchronous streamed completion: an iterator of event dicts.

    Iteration ends after the terminal event (``done`` or ``error``, which is yielded too).
    ``close()`` (also on ``with`` exit, on garbage collection, or when a ``for`` loop over a
    temporary ``router.stream(...)`` is left early) cancels a stream still running and waits
    for its terminal event. After the end: ``response`` is the full response (``done``),
    ``error`` a :class:`ProviderMuxError` (``error``), ``terminal`` the terminal event.
    """

    _close_timeout = 30.0

    def __init__(self, router, request):
        self._router = router  # keeps the router alive while this handle exists
        self._lock = threading.Lock()
        self._state = _StreamState()
        self._handle = None
        self._started = False
        self._exhausted = False
        self.terminal = None
        self.response = None
        self.error = None
        router_handle = router._require()
        request_json = _encode(request)
        key = object()
        callback = _make_async_callback(self._state, key)
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
        self._handle = handle
        self._started = True
        router._streams.add(self)

    def __iter__(self):
        return self

    def __next__(self):
        if self._exhausted:
            raise StopIteration
        event = self._state.queue.get()
        if event.get("type") in _TERMINAL_TYPES:
            self._exhausted = True
            self._record(event)
            self._release_handle()
        return event

    @property
    def finished(self):
        """True once the terminal event has arrived (consumed or not)."""
        return self._state.finished.is_set()

    def _record(self, event):
        if self.terminal is not None:
            return
        self.terminal = event
        if event.get("type") == "done":
            self.response = event.get("response")
        else:
            self.error = ProviderMuxError._from_event(event)

    def _release_handle(self):
        """pmx_stream_free: also cancels a stream still running (its terminal still arrives)."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle:
                _lib.pmx_stream_free(handle)

    def cancel(self):
        """Requests cancellation (any thread, idempotent); iteration then ends with an
        ``error`` event whose code is ``ERR_CANCELLED`` unless the stream had finished."""
        self._state.cancel_requested = True
        with self._lock:
            if self._handle:
                _lib.pmx_stream_cancel(self._handle)

    def close(self):
        """Cancels the stream if still running, waits for its terminal event, frees it.
        Events not yet read are dropped."""
        if not self._started:
            return  # the start failed: the callback is never called
        if not self.finished:
            self.cancel()
            if not _in_callback():  # inside a callback the terminal event cannot come yet
                self._state.finished.wait(self._close_timeout)
        self._exhausted = True
        if self._state.terminal is not None:
            self._record(self._state.terminal)
        self._release_handle()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# Routers
# ---------------------------------------------------------------------------------------------

_routers = weakref.WeakSet()


class Router:
    """A router built from a config (dict, JSON str or bytes). Safe to share between threads.

    Close it with ``close()`` or a ``with`` block, after blocking calls on other threads have
    returned; async streams still running are cancelled.
    """

    def __init__(self, config):
        self._handle = None
        self._close_lock = threading.Lock()
        self._streams = weakref.WeakSet()
        handle = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_new(byref(handle), _encode(config), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        self._handle = handle
        _routers.add(self)

    def _require(self):
        handle = self._handle
        if not handle:
            raise ProviderMuxError(ERR_ROUTER_CLOSED, "router is closed")
        return handle

    @property
    def closed(self):
        return not self._handle

    def close(self):
        """Frees the router (idempotent). Must not be called from one of its own callbacks."""
        with self._close_lock:
            handle, self._handle = self._handle, None
            streams = list(self._streams)
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
                stream.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
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

    def _call_json(self, fn, *args):
        out = c_void_p()
        err = PmxError()
        rc = fn(byref(out), self._require(), *args, byref(err))
        data = _lib.take_string(out)
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return _decode(data) if data is not None else None

    def complete(self, request):
        """Runs one chat completion (retries and failover included); returns the response."""
        return self._call_json(_lib.pmx_router_complete, _encode(request))

    def embed(self, request):
        """Computes embeddings: ``{"model": ..., "input": "text" | [...]}``."""
        return self._call_json(_lib.pmx_router_embed, _encode(request))

    def models(self):
        """Lists the models of every provider."""
        return self._call_json(_lib.pmx_router_models)

    def health(self):
        """Probes every provider now."""
        return self._call_json(_lib.pmx_router_health)

    def stats(self, reset=False):
        """Usage statistics since the router was created (or last reset), as a dict.
        ``reset=True`` zeroes the counters right after this snapshot."""
        if not reset:
            return self._call_json(_lib.pmx_router_stats)
        return _decode(self._stats_text({"format": "json", "reset": True}).encode("utf-8"))

    def metrics(self, reset=False):
        """The statistics as Prometheus text exposition (str), for a /metrics endpoint."""
        return self._stats_text({"format": "prometheus", "reset": bool(reset)})

    def _stats_text(self, options):
        out = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_stats_ex(byref(out), self._require(), _encode(options), byref(err))
        data = _lib.take_string(out)
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return data.decode("utf-8")

    def update_routing(self, routing):
        """Replaces the config's "routing" section (a dict or JSON text) while requests run."""
        err = PmxError()
        rc = _lib.pmx_router_update_routing(self._require(), _encode(routing), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)

    # -- streams -------------------------------------------------------------------------------

    def stream(self, request, on_event=None):
        """Streams a chat completion.

        Without ``on_event``: returns a :class:`Stream`, an iterator of event dicts (input
        errors raise here, at once). With ``on_event``: the same as :meth:`stream_blocking`.
        """
        if on_event is not None:
            return self.stream_blocking(request, on_event)
        return Stream(self, request)

    def stream_blocking(self, request, on_event):
        """Runs a streamed completion on this thread, calling ``on_event(event_dict)`` for each
        event; returns the full response. A truthy return value from ``on_event`` cancels the
        stream. An exception raised by ``on_event`` cancels it and is re-raised here."""
        raised = []

        def trampoline(event_json, length, _userdata):
            _callback_state.depth = getattr(_callback_state, "depth", 0) + 1
            try:
                return 1 if on_event(_decode(ctypes.string_at(event_json, length))) else 0
            except BaseException as exc:  # KeyboardInterrupt included: cancel, re-raise below
                raised.append(exc)
                return 1
            finally:
                _callback_state.depth -= 1

        callback = _lib.EVENT_FN(trampoline)
        out = c_void_p()
        err = PmxError()
        rc = _lib.pmx_router_stream(byref(out), self._require(), _encode(request), callback,
                                    None, byref(err))
        data = _lib.take_string(out)
        if raised:
            raise raised[0]
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)
        return _decode(data) if data is not None else None

    # -- model management ----------------------------------------------------------------------

    def manage_model(self, action, provider, model=None, on_progress=None):
        """Model management on a local server provider (ollama): ``action`` is "pull",
        "delete", "show" or "loaded". ``on_progress(event_dict)`` receives pull progress on this
        thread; a truthy return cancels. Returns the result document."""
        request = {"action": action, "provider": provider}
        if model is not None:
            request["model"] = model
        raised = []

        def trampoline(event_json, length, _userdata):
            try:
                return 1 if on_progress(_decode(ctypes.string_at(event_json, length))) else 0
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

    def add_provider(self, provider):
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

    def remove_provider(self, name):
        """Removes the provider called ``name``; requests already running on it finish."""
        err = PmxError()
        rc = _lib.pmx_router_remove_provider(self._require(), name.encode("utf-8"), byref(err))
        if rc != OK:
            raise ProviderMuxError._from_struct(rc, err)


@atexit.register
def _shutdown():
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
