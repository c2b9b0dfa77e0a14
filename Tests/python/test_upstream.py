# SPDX-License-Identifier: Apache-2.0
"""Real libcurl over loopback against Tests/upstream/fake_upstream.py."""

import json
import threading
import time

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, SECRET, closed_port, drain, reply_text, user  # noqa: E402


def provider(up, scope, **extra):
    entry = {"name": scope, "type": "openai-compatible", "base_url": up.base(scope),
             "api_key": SECRET}
    entry.update(extra)
    return entry


def config(*providers, **sections):
    document = {"providers": list(providers), "retry": dict(FAST_RETRY)}
    for key, value in sections.items():
        if key == "retry":
            document["retry"].update(value)
        else:
            document[key] = value
    return document


def assert_no_secret(document):
    text = document if isinstance(document, str) else json.dumps(document)
    assert SECRET not in text
    assert SECRET[-10:] not in text, "not even partly"


def test_complete(up):
    with providermux.Router(config(provider(up, "a"))) as router:
        response = router.complete(user("hello upstream", model="fake-small"))
    assert reply_text(response) == "echo: hello upstream"
    assert response["provider"] == "a"
    assert response["model"] == "fake-small"
    assert response["usage"]["completion_tokens"] == 3
    assert_no_secret(response)
    requests = up.requests("a")
    assert len(requests) == 1
    assert requests[0]["path"].endswith("/a/v1/chat/completions")
    assert requests[0]["headers"]["authorization"] == "Bearer " + SECRET
    assert requests[0]["json"]["messages"] == [{"role": "user", "content": "hello upstream"}]
    assert requests[0]["json"].get("stream") in (None, False)


def test_stream(up):
    with providermux.Router(config(provider(up, "a"))) as router:
        events = list(router.stream(user("one two three four", model="fake-small")))
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "done"
    assert types.count("done") == 1 and "error" not in types
    text = "".join(e.get("content") or "" for e in events if e["type"] == "delta")
    response = events[-1]["response"]
    assert text == reply_text(response) == "echo: one two three four"
    assert types.count("delta") >= 5
    assert response["provider"] == "a"
    assert response["usage"]["total_tokens"] > 0
    assert isinstance(response["ttft_ms"], (int, float))
    assert 0 <= response["ttft_ms"] <= response["latency_ms"]
    assert up.requests("a")[0]["json"]["stream"] is True
    assert_no_secret(events)


def test_retry_after_is_honoured(up):
    up.script("a", [{"status": 429, "times": 1, "retry_after": 1}])
    with providermux.Router(config(provider(up, "a"), retry={"max_attempts": 3})) as router:
        started = time.monotonic()
        events = list(router.stream(user("patience")))
        elapsed = time.monotonic() - started
    retries = [e for e in events if e["type"] == "retry"]
    assert len(retries) == 1
    assert retries[0]["http_status"] == 429
    assert retries[0]["code"] == providermux.ERR_RATE_LIMITED
    assert retries[0]["delay_ms"] >= 900, "Retry-After: 1 beats the 10 ms back-off"
    assert elapsed >= 0.9
    assert events[-1]["type"] == "done"
    assert len(events[-1]["response"]["attempts"]) == 2
    assert len(up.requests("a")) == 2


def test_retry_complete_then_success(up):
    up.script("a", [{"status": 503, "times": 2}])
    with providermux.Router(config(provider(up, "a"), retry={"max_attempts": 3})) as router:
        response = router.complete(user("third time"))
    assert reply_text(response) == "echo: third time"
    assert [a["outcome"] for a in response["attempts"]] == ["error", "error", "ok"]
    assert response["attempts"][0]["http_status"] == 503
    assert len(up.requests("a")) == 3


def test_failover_a_to_b(up):
    up.script("a", [{"status": 500, "times": 10}])
    cfg = config(provider(up, "a"), provider(up, "b"), retry={"max_attempts": 2})
    with providermux.Router(cfg) as router:
        events = list(router.stream(user("fail over")))
        stats = router.stats()
    fallbacks = [e for e in events if e["type"] == "fallback"]
    assert len(fallbacks) == 1, [e["type"] for e in events]
    assert fallbacks[0]["from"] == "a" and fallbacks[0]["to"] == "b"
    assert fallbacks[0]["code"] == providermux.ERR_UPSTREAM_SERVER
    assert len([e for e in events if e["type"] == "retry"]) == 1
    response = events[-1]["response"]
    assert response["provider"] == "b"
    assert reply_text(response) == "echo: fail over"
    assert [a["provider"] for a in response["attempts"]] == ["a", "a", "b"]
    assert len(up.requests("a")) == 2 and len(up.requests("b")) == 1
    assert stats["fallbacks"] == 1
    assert_no_secret(stats)


def test_all_providers_fail(up):
    up.script("a", [{"status": 500, "times": 10}])
    up.script("b", [{"status": 502, "times": 10}])
    cfg = config(provider(up, "a"), provider(up, "b"), retry={"max_attempts": 2})
    with providermux.Router(cfg) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("doomed"))
        err = info.value
        assert err.code == providermux.ERR_UPSTREAM_SERVER
        assert err.attempts == 4
        assert err.provider == "b"
        assert err.http_status == 502
        assert "a" in err.message and "b" in err.message
        assert "500" in err.message and "502" in err.message, err.message
        assert_no_secret(str(err))

        stream = router.stream(user("doomed"))
        events = drain(stream)
    terminal = events[-1]
    assert terminal["type"] == "error"
    assert terminal["code"] == providermux.ERR_UPSTREAM_SERVER
    assert stream.error.attempts == 4
    assert_no_secret(events)


def test_bad_request_is_not_retried(up):
    up.script("a", [{"status": 400, "times": 5}])
    cfg = config(provider(up, "a"), provider(up, "b"), retry={"max_attempts": 3})
    with providermux.Router(cfg) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("bad"))
    assert info.value.code == providermux.ERR_UPSTREAM_BAD_REQUEST
    assert info.value.http_status == 400
    assert len(up.requests("a")) == 1 and len(up.requests("b")) == 0


def test_auth_error(up):
    up.script("a", [{"status": 401, "times": 5}])
    with providermux.Router(config(provider(up, "a"))) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("who am i"))
    assert info.value.code == providermux.ERR_AUTH
    assert_no_secret(str(info.value))


def test_cancel_from_another_thread(up):
    up.script("a", [{"chunk_delay_ms": 200}])
    with providermux.Router(config(provider(up, "a"))) as router:
        stream = router.stream(user(" ".join("w%d" % i for i in range(20))))
        timer = threading.Timer(0.5, stream.cancel)
        started = time.monotonic()
        timer.start()
        try:
            events = drain(stream)
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
    terminal = events[-1]
    assert terminal["type"] == "error", [e["type"] for e in events]
    assert terminal["code"] == providermux.ERR_CANCELLED
    assert stream.error.code == providermux.ERR_CANCELLED
    assert elapsed < 2.5, "23 chunks x 200 ms would take over 4 s"
    assert providermux._live_callbacks == {}


def test_first_byte_timeout(up):
    up.script("a", [{"hang": True, "times": 5}])
    cfg = config(provider(up, "a"), retry={"max_attempts": 1},
                 timeouts={"first_byte_ms": 300})
    with providermux.Router(cfg) as router:
        started = time.monotonic()
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("anyone?"))
    assert info.value.code == providermux.ERR_TIMEOUT
    assert time.monotonic() - started < 5


def test_disconnect_mid_stream(up):
    up.script("a", [{"disconnect_after_chunks": 3}])
    with providermux.Router(config(provider(up, "a"), retry={"max_attempts": 1})) as router:
        events = drain(router.stream(user("one two three four five six seven")))
    assert events[-1]["type"] == "error"
    assert [e["type"] for e in events].count("error") == 1
    assert events[-1]["code"] in (providermux.ERR_STREAM_INTERRUPTED,
                                  providermux.ERR_CONNECTION,
                                  providermux.ERR_UPSTREAM_PROTOCOL)


def test_connection_refused_fails_over(up):
    dead = {"name": "dead", "type": "openai-compatible",
            "base_url": "http://127.0.0.1:%d/v1" % closed_port()}
    cfg = config(dead, provider(up, "b"), retry={"max_attempts": 1})
    with providermux.Router(cfg) as router:
        response = router.complete(user("hop"))
    assert response["provider"] == "b"
    assert response["attempts"][0]["code"] == providermux.ERR_CONNECTION


def test_embeddings(up):
    with providermux.Router(config(provider(up, "a"))) as router:
        result = router.embed({"model": "fake-embed", "input": ["alpha", "beta"]})
    assert result["object"] == "list"
    assert result["provider"] == "a"
    assert [d["index"] for d in result["data"]] == [0, 1]
    assert all(len(d["embedding"]) == 8 for d in result["data"])
    assert up.requests("a")[0]["path"].endswith("/a/v1/embeddings")


def test_models(up):
    dead = {"name": "dead", "type": "openai-compatible",
            "base_url": "http://127.0.0.1:%d/v1" % closed_port()}
    listed = provider(up, "c", models=["only-this"])
    with providermux.Router(config(provider(up, "a"), listed, dead)) as router:
        models = router.models()
    ids = sorted(m["id"] for m in models["data"])
    assert ids == ["a/fake-large", "a/fake-small", "c/only-this"]
    for m in models["data"]:
        assert m["id"] == m["provider"] + "/" + m["model"]
    assert [e["provider"] for e in models["errors"]] == ["dead"]
    assert len(up.requests("c")) == 0, "a configured models list is answered locally"
    assert_no_secret(models)


def test_health(up):
    dead = {"name": "dead", "type": "openai-compatible",
            "base_url": "http://127.0.0.1:%d/v1" % closed_port(), "api_key": SECRET}
    cfg = config(provider(up, "a"), dead, timeouts={"health_ms": 2000})
    with providermux.Router(cfg) as router:
        health = router.health()
    by_name = {p["name"]: p for p in health["providers"]}
    assert by_name["a"]["healthy"] is True
    assert "error" not in by_name["a"]
    assert by_name["dead"]["healthy"] is False
    assert by_name["dead"]["error"]
    assert_no_secret(health)


def test_stats_never_contain_the_key(up, monkeypatch):
    monkeypatch.setenv("PMX_TEST_UPSTREAM_KEY", SECRET)
    up.script("a", [{"status": 429, "times": 1}])
    cfg = config(provider(up, "a", api_key="${PMX_TEST_UPSTREAM_KEY}"), provider(up, "b"))
    with providermux.Router(cfg) as router:
        router.complete(user("one"))
        list(router.stream(user("two")))
        router.embed({"model": "e", "input": "three"})
        stats = router.stats()
    assert up.requests("a")[0]["headers"]["authorization"] == "Bearer " + SECRET
    assert stats["requests"] >= 2
    assert stats["retries"] >= 1
    names = [p["name"] for p in stats["providers"]]
    assert names == ["a", "b"]
    assert_no_secret(stats)


def test_log_callback_never_sees_the_key(up, log_lines):
    up.script("a", [{"status": 500, "times": 1}])
    with providermux.Router(config(provider(up, "a"), retry={"max_attempts": 2})) as router:
        router.complete(user("log me"))
        list(router.stream(user("log me too")))
    assert log_lines, "TRACE logging produced nothing"
    for level, message in log_lines:
        assert providermux.LOG_TRACE <= level <= providermux.LOG_ERROR
        assert isinstance(message, str) and message
        assert_no_secret(message)


def test_log_min_level_filters(up, log_lines):
    providermux.set_log_callback(lambda level, message: log_lines.append((level, message)),
                                 providermux.LOG_ERROR)
    with providermux.Router(config(provider(up, "a"))) as router:
        router.complete(user("quiet"))
    assert all(level >= providermux.LOG_ERROR for level, _ in log_lines)


def test_log_callback_can_be_removed(up):
    lines = []
    providermux.set_log_callback(lambda level, message: lines.append(message),
                                 providermux.LOG_TRACE)
    providermux.set_log_callback(None)
    with providermux.Router(config(provider(up, "a"))) as router:
        router.complete(user("silent"))
    assert lines == []


def test_exception_in_blocking_stream_callback_propagates(up):
    up.script("a", [{"chunk_delay_ms": 20}])

    def on_event(event):
        if event["type"] == "delta":
            raise RuntimeError("callback failed")

    with providermux.Router(config(provider(up, "a"))) as router:
        with pytest.raises(RuntimeError, match="callback failed"):
            router.stream_blocking(user("a b c d e f g h"), on_event)
        assert reply_text(router.complete(user("still alive"))) == "echo: still alive"
