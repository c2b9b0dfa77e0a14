# SPDX-License-Identifier: Apache-2.0
"""The C ABI seen from ctypes: versions, status names, the error struct, input validation."""

import ctypes
import json
import os
import re
from ctypes import byref, c_void_p

import pytest

providermux = pytest.importorskip("providermux")
from providermux import _lib  # noqa: E402

from pmx_testlib import ROOT, SECRET, mock_config, user  # noqa: E402

HEADER = os.path.join(ROOT, "include", "providermux.h")


def header_defines():
    defines = {}
    with open(HEADER, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#define (PMX_\w+)\s+(-?\d+)\s*$", line.strip())
            if m:
                defines[m.group(1)] = int(m.group(2))
    return defines


def header_version():
    with open(HEADER, encoding="utf-8") as f:
        return re.search(r'#define PMX_VERSION_STRING "([^"]+)"', f.read()).group(1)


def expect_error(code, fn, *args, **kwargs):
    with pytest.raises(providermux.ProviderMuxError) as info:
        fn(*args, **kwargs)
    err = info.value
    assert err.code == code, "expected %s, got %s: %s" % (
        providermux.status_name(code), err.status_name, err.message)
    assert err.status_name == providermux.status_name(code)
    assert err.message, "an error must say what was wrong"
    return err


# -- versions and names ------------------------------------------------------------------------

def test_version_matches_header():
    version = providermux.version()
    assert version == header_version()
    major, minor, patch = (int(x) for x in version.split("."))
    assert providermux.version_number() == major * 10000 + minor * 100 + patch


def test_every_status_code_has_its_name():
    codes = {name: value for name, value in header_defines().items()
             if name == "PMX_OK" or name.startswith("PMX_ERR_")}
    assert len(codes) >= 26
    for name, value in codes.items():
        assert providermux.status_name(value) == name
        assert getattr(providermux, name[len("PMX_"):]) == value  # Python constants agree


def test_unknown_status_name():
    for code in (1, -33, -98, -1000, 2**31 - 1, -2**31):
        assert providermux.status_name(code) == "PMX_UNKNOWN_STATUS"


def test_error_struct_layout_matches_header():
    assert ctypes.sizeof(_lib.PmxError) == 4 + 4 + 4 + 64 + 512
    assert _lib.PmxError.provider.offset == 12
    assert _lib.PmxError.message.offset == 76


# -- raw ABI conventions -----------------------------------------------------------------------

def test_null_arguments_and_null_frees():
    handle = c_void_p(1234)
    err = _lib.PmxError()
    assert _lib.pmx_router_new(byref(handle), None, byref(err)) == providermux.ERR_INVALID_ARGUMENT
    assert handle.value is None, "*out must be NULL after a failure"
    assert err.code == providermux.ERR_INVALID_ARGUMENT
    assert err.message
    # err is optional
    assert _lib.pmx_router_new(byref(handle), None, None) == providermux.ERR_INVALID_ARGUMENT
    assert _lib.pmx_router_new(None, b'{"providers":[]}', None) == providermux.ERR_INVALID_ARGUMENT
    # Every free accepts NULL.
    _lib.pmx_string_free(None)
    _lib.pmx_provider_free(None)
    _lib.pmx_router_free(None)
    _lib.pmx_stream_cancel(None)
    _lib.pmx_stream_free(None)


def test_success_leaves_error_struct_ok():
    handle = c_void_p()
    err = _lib.PmxError()
    err.code = -42
    err.message = b"stale"
    rc = _lib.pmx_router_new(byref(handle), b'{"providers":[{"name":"m","type":"mock"}]}',
                             byref(err))
    try:
        assert rc == 0
        assert err.code == 0
        assert err.message == b""
        out = c_void_p(99)
        assert _lib.pmx_router_stats(byref(out), handle, byref(err)) == 0
        assert _lib.take_string(out).startswith(b"{")
        out = c_void_p(99)
        rc = _lib.pmx_router_complete(byref(out), handle, b'{"messages":[]}', byref(err))
        assert rc == providermux.ERR_INVALID_REQUEST
        assert out.value is None
        assert err.code == rc
        assert err.attempts == 0
    finally:
        _lib.pmx_router_free(handle)


# -- bad input raises ProviderMuxError with the right code -----------------------------------

def test_invalid_json_reports_line():
    config = '{\n  "providers": [\n    {"name": "m", "type": "mock",}\n  ]\n}'
    err = expect_error(providermux.ERR_INVALID_JSON, providermux.Router, config)
    assert "line" in err.message.lower()
    assert re.search(r"\b3\b", err.message), err.message
    expect_error(providermux.ERR_INVALID_JSON, providermux.Router, "")
    expect_error(providermux.ERR_INVALID_JSON, providermux.Router, '{"providers": [')


def test_invalid_json_in_request():
    with providermux.Router(mock_config()) as router:
        err = expect_error(providermux.ERR_INVALID_JSON, router.complete, '{"messages": [}')
        assert "line" in err.message.lower()
        expect_error(providermux.ERR_INVALID_JSON, router.stream, "nope")
        expect_error(providermux.ERR_INVALID_JSON, router.embed, "[1,")


def test_invalid_utf8_raw_bytes():
    expect_error(providermux.ERR_INVALID_UTF8, providermux.Router,
                 b'{"providers":[{"name":"m","type":"mock","reply":"\xff\xfe"}]}')
    with providermux.Router(mock_config()) as router:
        bad = b'{"messages":[{"role":"user","content":"caf\xc3"}]}'
        expect_error(providermux.ERR_INVALID_UTF8, router.complete, bad)
        expect_error(providermux.ERR_INVALID_UTF8, router.stream, bad)
        expect_error(providermux.ERR_INVALID_UTF8, router.stream_blocking, bad, lambda e: None)
        # An overlong encoding and a lone surrogate are not UTF-8 either.
        expect_error(providermux.ERR_INVALID_UTF8, router.complete,
                     b'{"messages":[{"role":"user","content":"\xc0\xaf"}]}')
        expect_error(providermux.ERR_INVALID_UTF8, router.complete,
                     b'{"messages":[{"role":"user","content":"\xed\xa0\x80"}]}')


def test_valid_utf8_round_trips():
    with providermux.Router(mock_config()) as router:
        text = "héllo wörld — 日本語 🎉"
        response = router.complete(user(text))
        assert text in response["choices"][0]["message"]["content"]


def test_unknown_provider_type():
    err = expect_error(providermux.ERR_UNKNOWN_PROVIDER_TYPE, providermux.Router,
                       {"providers": [{"name": "x", "type": "no-such-type"}]})
    assert "no-such-type" in err.message


def test_unknown_keys_are_config_errors():
    err = expect_error(providermux.ERR_CONFIG, providermux.Router,
                       {"providers": [], "bogus_section": 1})
    assert "bogus_section" in err.message
    err = expect_error(providermux.ERR_CONFIG, providermux.Router,
                       {"providers": [{"name": "m", "type": "mock", "replly": "x"}]})
    assert "replly" in err.message
    err = expect_error(providermux.ERR_CONFIG, providermux.Router,
                       {"providers": [], "retry": {"max_attempts": 0}})
    assert "max_attempts" in err.message


def test_config_errors_name_the_field():
    expect_error(providermux.ERR_CONFIG, providermux.Router, {"routing": {}})  # no providers
    expect_error(providermux.ERR_CONFIG, providermux.Router, [])
    expect_error(providermux.ERR_CONFIG, providermux.Router,
                 {"providers": [{"name": "bad name!", "type": "mock"}]})
    err = expect_error(providermux.ERR_CONFIG, providermux.Router,
                       {"providers": [{"name": "local", "type": "openai-compatible"}]})
    assert "base_url" in err.message
    expect_error(providermux.ERR_DUPLICATE_PROVIDER, providermux.Router,
                 {"providers": [{"name": "m", "type": "mock"}, {"name": "m", "type": "mock"}]})


def test_missing_env_var_is_named_and_secrets_stay_hidden(monkeypatch):
    monkeypatch.setenv("PMX_TEST_PRESENT_KEY", SECRET)
    monkeypatch.delenv("PMX_TEST_MISSING_VAR", raising=False)
    config = {"providers": [
        {"name": "a", "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1",
         "api_key": "${PMX_TEST_PRESENT_KEY}"},
        {"name": "b", "type": "openai-compatible", "base_url": "http://127.0.0.1:9/v1",
         "api_key": "${PMX_TEST_MISSING_VAR}"},
    ]}
    err = expect_error(providermux.ERR_ENV_VAR_MISSING, providermux.Router, config)
    assert "PMX_TEST_MISSING_VAR" in err.message
    assert SECRET not in str(err)
    # A config error in a provider that carries a literal key does not echo the key either.
    err = expect_error(providermux.ERR_CONFIG, providermux.Router, {"providers": [
        {"name": "a", "type": "openai-compatible", "api_key": SECRET, "timeouts": {"x": 1}}]})
    assert SECRET not in str(err)
    # Expanded variables work.
    with providermux.Router({"providers": [config["providers"][0]]}) as router:
        assert SECRET not in str(router.stats())


def test_literal_dollar_brace_is_not_expanded():
    config = mock_config({"name": "m", "type": "mock", "reply": "cost: $${NOT_A_VAR}"})
    with providermux.Router(config) as router:
        assert router.complete(user("x"))["choices"][0]["message"]["content"] \
            == "cost: ${NOT_A_VAR}"


def test_invalid_requests():
    with providermux.Router(mock_config()) as router:
        expect_error(providermux.ERR_INVALID_REQUEST, router.complete, {"messages": []})
        expect_error(providermux.ERR_INVALID_REQUEST, router.complete, {"model": "x"})
        expect_error(providermux.ERR_INVALID_REQUEST, router.complete, {"messages": "hi"})
        expect_error(providermux.ERR_INVALID_REQUEST, router.complete, [1, 2])
        called = []
        expect_error(providermux.ERR_INVALID_REQUEST, router.stream_blocking,
                     {"messages": []}, called.append)
        expect_error(providermux.ERR_INVALID_REQUEST, router.stream, {"messages": []})
        assert called == [], "the callback is never called when the start fails"
        assert providermux._live_callbacks == {}


def test_model_nobody_serves():
    config = mock_config({"name": "m1", "type": "mock", "models": ["alpha"]},
                         {"name": "m2", "type": "mock", "models": ["beta"]})
    with providermux.Router(config) as router:
        err = expect_error(providermux.ERR_NO_PROVIDER, router.complete,
                           user("hi", model="gamma"))
        assert "gamma" in err.message
        assert err.attempts == 0
        expect_error(providermux.ERR_NO_PROVIDER, router.stream, user("hi", model="gamma"))
        # "org/model" with an org that is no provider is a bare model name (Hugging Face style).
        expect_error(providermux.ERR_NO_PROVIDER, router.complete,
                     user("hi", model="nobody/alpha"))
        expect_error(providermux.ERR_PROVIDER_NOT_FOUND, router.complete,
                     user("hi", route={"providers": ["nobody"]}))
        assert router.complete(user("hi", model="beta"))["provider"] == "m2"
        assert router.complete(user("hi", model="m1/alpha"))["provider"] == "m1"


def test_add_and_remove_providers():
    with providermux.Router({"providers": []}) as router:
        expect_error(providermux.ERR_NO_PROVIDER, router.complete, user("hi"))
        router.add_provider({"name": "late", "type": "mock", "reply": "from late"})
        response = router.complete(user("hi"))
        assert response["provider"] == "late"
        assert response["choices"][0]["message"]["content"] == "from late"
        expect_error(providermux.ERR_DUPLICATE_PROVIDER, router.add_provider,
                     {"name": "late", "type": "mock"})
        expect_error(providermux.ERR_UNKNOWN_PROVIDER_TYPE, router.add_provider,
                     {"name": "x", "type": "nope"})
        expect_error(providermux.ERR_INVALID_JSON, router.add_provider, "{")
        router.add_provider('{"name": "second", "type": "mock"}')
        router.remove_provider("late")
        assert router.complete(user("hi"))["provider"] == "second"
        expect_error(providermux.ERR_PROVIDER_NOT_FOUND, router.remove_provider, "late")


def test_closed_router_raises():
    router = providermux.Router(mock_config())
    router.close()
    router.close()  # idempotent
    assert router.closed
    expect_error(providermux.ERR_ROUTER_CLOSED, router.complete, user("hi"))
    expect_error(providermux.ERR_ROUTER_CLOSED, router.stream, user("hi"))


def test_error_str_contains_name_and_message():
    err = providermux.ProviderMuxError(providermux.ERR_TIMEOUT, "too slow", http_status=0,
                                       provider="p", attempts=2)
    assert str(err) == "PMX_ERR_TIMEOUT: too slow"
    assert (err.code, err.status_name, err.provider, err.attempts) == (
        -12, "PMX_ERR_TIMEOUT", "p", 2)


def test_library_path_is_reported():
    assert providermux.library_path
    if os.environ.get("PROVIDERMUX_LIB"):
        assert providermux.library_path == os.environ["PROVIDERMUX_LIB"]


def test_every_header_function_is_declared():
    with open(HEADER, encoding="utf-8") as f:
        header = f.read()
    names = set(re.findall(r"PMX_API\s+[^;(]*?\b(pmx_\w+)\s*\(", header))
    assert len(names) >= 20, names
    for name in sorted(names):
        fn = getattr(_lib, name, None)
        assert fn is not None, "%s is not declared in providermux/_lib.py" % name
        assert fn.argtypes is not None, name
        # Owned strings are never c_char_p (that would lose the pointer and leak).
        if fn.restype is ctypes.c_char_p:
            assert name in ("pmx_version_string", "pmx_status_name"), name


def test_raw_stream_calls_optional_out_and_required_callback():
    import threading
    router = providermux.Router(mock_config())
    handle = router._handle
    request = b'{"messages":[{"role":"user","content":"raw"}]}'
    err = _lib.PmxError()
    try:
        # on_event is required by both stream calls.
        null_fn = ctypes.cast(None, _lib.EVENT_FN)
        assert _lib.pmx_router_stream(None, handle, request, null_fn, None, byref(err)) \
            == providermux.ERR_INVALID_ARGUMENT
        out = c_void_p(7)
        assert _lib.pmx_router_stream_async(byref(out), handle, request, null_fn, None,
                                            byref(err)) == providermux.ERR_INVALID_ARGUMENT
        assert out.value is None

        # pmx_router_stream with out = NULL; userdata comes back unchanged.
        seen = []

        def on_event(event_json, length, userdata):
            seen.append((ctypes.string_at(event_json, length), userdata))
            return 0
        callback = _lib.EVENT_FN(on_event)
        assert _lib.pmx_router_stream(None, handle, request, callback, c_void_p(0x1234),
                                      byref(err)) == 0
        assert err.code == 0
        assert all(userdata == 0x1234 for _, userdata in seen)
        assert all(len(raw) > 0 and b"\0" not in raw for raw, _ in seen)
        assert b'"done"' in seen[-1][0]

        # Fire-and-forget async stream (out = NULL): events still arrive, terminal last.
        finished = threading.Event()
        async_seen = []

        def on_async(event_json, length, _userdata):
            kind = json.loads(ctypes.string_at(event_json, length))["type"]
            async_seen.append(kind)
            if kind in ("done", "error"):
                finished.set()
            return 0
        async_callback = _lib.EVENT_FN(on_async)
        assert _lib.pmx_router_stream_async(None, handle, request, async_callback, None,
                                            byref(err)) == 0
        assert finished.wait(10), "no terminal event"
    finally:
        router.close()
    assert async_seen[0] == "start" and async_seen[-1] == "done"
    assert sum(1 for kind in async_seen if kind in ("done", "error")) == 1
