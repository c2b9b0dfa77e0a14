# SPDX-License-Identifier: Apache-2.0
"""Raw ctypes declarations for libprovidermux (include/providermux.h is the reference).

Every foreign function gets explicit ``argtypes``/``restype``. Strings the library returns are
declared as ``c_void_p`` (never ``c_char_p``, which would lose the pointer and leak): callers copy
them with :func:`take_string`, which also frees them with ``pmx_string_free``.
"""

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int32, c_size_t,
                    c_uint32, c_void_p)

__all__ = ["lib", "library_path", "PmxError", "EVENT_FN", "LOG_FN", "take_string"]

# BEGIN GENERATED abi:python-soname (scripts/gen-abi-tables.py from abi/abi.json: edit the table, not this)
_SONAME = "libprovidermux.so.0"
# END GENERATED abi:python-soname


def _candidates():
    """Where to look for the library, in order (see the package docstring)."""
    env = os.environ.get("PROVIDERMUX_LIB")
    if env:
        # An explicit choice is final: a wrong path must fail loudly, not fall back silently.
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    # The copy an installed wheel carries (bindings/python/hatch_build.py puts it there; in the
    # manylinux wheel its RPATH finds the libcurl auditwheel bundled in providermux.libs/).
    paths = [os.path.join(here, "_native", _SONAME), os.path.join(here, _SONAME)]
    # bindings/python/providermux -> repository root
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    paths.append(os.path.join(root, "build", "lib", _SONAME))
    return paths, False


def _load():
    paths, explicit = _candidates()
    if explicit:
        return ctypes.CDLL(paths[0]), paths[0]
    for path in paths:
        if os.path.exists(path):
            return ctypes.CDLL(path), path
    found = ctypes.util.find_library("providermux")
    if found:
        return ctypes.CDLL(found), found
    # Last resort: let the dynamic loader try its own search path (LD_LIBRARY_PATH, ld.so.cache).
    try:
        return ctypes.CDLL(_SONAME), _SONAME
    except OSError:
        raise OSError(
            "libprovidermux not found: set PROVIDERMUX_LIB to the full path of "
            "libprovidermux.so.0, or build it with scripts/build-lib.sh build/lib "
            "(searched: %s, find_library('providermux'), %s)" % (", ".join(paths), _SONAME)
        ) from None


lib, library_path = _load()


class PmxError(Structure):
    """typedef struct pmx_error { pmx_status code; int32_t http_status; int32_t attempts;
    char provider[64]; char message[512]; } pmx_error;"""

    _fields_ = [
        ("code", c_int32),
        ("http_status", c_int32),
        ("attempts", c_int32),
        ("provider", c_char * 64),
        ("message", c_char * 512),
    ]


# typedef int32_t (*pmx_event_fn)(const char *event_json, size_t len, void *userdata);
EVENT_FN = CFUNCTYPE(c_int32, POINTER(c_char), c_size_t, c_void_p)
# typedef void (*pmx_log_fn)(int32_t level, const char *message, size_t len, void *userdata);
LOG_FN = CFUNCTYPE(None, c_int32, POINTER(c_char), c_size_t, c_void_p)
# typedef void (*pmx_observer_fn)(const char *record_json, size_t len, void *userdata);
OBSERVER_FN = CFUNCTYPE(None, POINTER(c_char), c_size_t, c_void_p)

_err_p = POINTER(PmxError)
_out_str = POINTER(c_void_p)   # char **out
_out_handle = POINTER(c_void_p)  # pmx_xxx **out (opaque handles are plain void pointers here)


def _declare(name, restype, argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


# int32_t pmx_version_number(void);
pmx_version_number = _declare("pmx_version_number", c_int32, [])
# const char *pmx_version_string(void);   (static: not freed, so c_char_p is right here)
pmx_version_string = _declare("pmx_version_string", c_char_p, [])
# const char *pmx_status_name(pmx_status code);   (static)
pmx_status_name = _declare("pmx_status_name", c_char_p, [c_int32])
# void pmx_string_free(char *s);
pmx_string_free = _declare("pmx_string_free", None, [c_void_p])
# void pmx_set_log_callback(pmx_log_fn fn, int32_t min_level, void *userdata);
pmx_set_log_callback = _declare("pmx_set_log_callback", None, [LOG_FN, c_int32, c_void_p])

# pmx_status pmx_provider_new(pmx_provider **out, const char *provider_json, pmx_error *err);
pmx_provider_new = _declare("pmx_provider_new", c_int32, [_out_handle, c_char_p, _err_p])
# void pmx_provider_free(pmx_provider *provider);
pmx_provider_free = _declare("pmx_provider_free", None, [c_void_p])

# pmx_status pmx_router_new(pmx_router **out, const char *router_json, pmx_error *err);
pmx_router_new = _declare("pmx_router_new", c_int32, [_out_handle, c_char_p, _err_p])
# void pmx_router_free(pmx_router *router);
pmx_router_free = _declare("pmx_router_free", None, [c_void_p])
# pmx_status pmx_router_add_provider(pmx_router *router, const pmx_provider *provider,
#                                    pmx_error *err);
pmx_router_add_provider = _declare("pmx_router_add_provider", c_int32,
                                   [c_void_p, c_void_p, _err_p])
# pmx_status pmx_router_remove_provider(pmx_router *router, const char *name, pmx_error *err);
pmx_router_remove_provider = _declare("pmx_router_remove_provider", c_int32,
                                      [c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_complete(char **out, pmx_router *router, const char *request_json,
#                                pmx_error *err);
pmx_router_complete = _declare("pmx_router_complete", c_int32,
                               [_out_str, c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_stream(char **out, pmx_router *router, const char *request_json,
#                              pmx_event_fn on_event, void *userdata, pmx_error *err);
pmx_router_stream = _declare("pmx_router_stream", c_int32,
                             [_out_str, c_void_p, c_char_p, EVENT_FN, c_void_p, _err_p])
# pmx_status pmx_router_call(char **out, pmx_router *router, const char *operation,
#                            const char *request_json, pmx_error *err);
pmx_router_call = _declare("pmx_router_call", c_int32,
                           [_out_str, c_void_p, c_char_p, c_char_p, _err_p])
# pmx_status pmx_router_call_stream(char **out, pmx_router *router, const char *operation,
#                                   const char *request_json, pmx_event_fn on_event,
#                                   void *userdata, pmx_error *err);
pmx_router_call_stream = _declare("pmx_router_call_stream", c_int32,
                                  [_out_str, c_void_p, c_char_p, c_char_p, EVENT_FN, c_void_p, _err_p])
# pmx_status pmx_router_stream_async(pmx_stream **out, pmx_router *router,
#                                    const char *request_json, pmx_event_fn on_event,
#                                    void *userdata, pmx_error *err);
pmx_router_stream_async = _declare("pmx_router_stream_async", c_int32,
                                   [_out_handle, c_void_p, c_char_p, EVENT_FN, c_void_p, _err_p])
# pmx_status pmx_router_model_manage(char **out, pmx_router *router, const char *request_json,
#                                    pmx_event_fn on_event, void *userdata, pmx_error *err);
pmx_router_model_manage = _declare("pmx_router_model_manage", c_int32,
                                   [_out_str, c_void_p, c_char_p, EVENT_FN, c_void_p, _err_p])
# pmx_status pmx_router_stats_ex(char **out, pmx_router *router, const char *options_json,
#                                pmx_error *err);
pmx_router_stats_ex = _declare("pmx_router_stats_ex", c_int32, [_out_str, c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_update_routing(pmx_router *router, const char *routing_json, pmx_error *err);
pmx_router_update_routing = _declare("pmx_router_update_routing", c_int32, [c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_set_observer(pmx_router *router, pmx_observer_fn fn, void *userdata, pmx_error *err);
pmx_router_set_observer = _declare("pmx_router_set_observer", c_int32, [c_void_p, OBSERVER_FN, c_void_p, _err_p])
# void pmx_stream_cancel(pmx_stream *stream);
pmx_stream_cancel = _declare("pmx_stream_cancel", None, [c_void_p])
# void pmx_stream_free(pmx_stream *stream);
pmx_stream_free = _declare("pmx_stream_free", None, [c_void_p])
# pmx_status pmx_router_stream_open(pmx_stream **out, pmx_router *router, const char *request_json,
#                                   pmx_error *err);
pmx_router_stream_open = _declare("pmx_router_stream_open", c_int32, [_out_handle, c_void_p, c_char_p, _err_p])
# pmx_status pmx_stream_next(pmx_event *out, size_t capacity, size_t event_size, size_t *out_count,
#                            pmx_stream *stream, int32_t timeout_ms, uint32_t flags, pmx_error *err);
# (`out` as a plain address: _pull.py declares pmx_event and passes its array's address)
pmx_stream_next = _declare("pmx_stream_next", c_int32,
                           [c_void_p, c_size_t, c_size_t, POINTER(c_size_t), c_void_p, c_int32, c_uint32,
                            _err_p])
# pmx_status pmx_router_embed(char **out, pmx_router *router, const char *request_json,
#                             pmx_error *err);
pmx_router_embed = _declare("pmx_router_embed", c_int32, [_out_str, c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_models(char **out, pmx_router *router, pmx_error *err);
pmx_router_models = _declare("pmx_router_models", c_int32, [_out_str, c_void_p, _err_p])
# pmx_status pmx_router_models_query(char **out, pmx_router *router, const char *query_json,
#                                    pmx_error *err);
pmx_router_models_query = _declare("pmx_router_models_query", c_int32, [_out_str, c_void_p, c_char_p, _err_p])
# pmx_status pmx_router_health(char **out, pmx_router *router, pmx_error *err);
pmx_router_health = _declare("pmx_router_health", c_int32, [_out_str, c_void_p, _err_p])
# pmx_status pmx_router_stats(char **out, pmx_router *router, pmx_error *err);
pmx_router_stats = _declare("pmx_router_stats", c_int32, [_out_str, c_void_p, _err_p])


def take_string(ptr):
    """Copies a library-owned ``char *`` (a c_void_p or int) to ``bytes`` and frees it."""
    address = ptr.value if isinstance(ptr, c_void_p) else ptr
    if not address:
        return None
    try:
        return ctypes.string_at(address)
    finally:
        pmx_string_free(address)
