# SPDX-License-Identifier: Apache-2.0
"""Completions and streams against the in-process `mock` provider (no network)."""

import gc
import threading
import time

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import drain, mock_config, reply_text, user  # noqa: E402

LONG_PROMPT = " ".join("word%d" % i for i in range(60))


def check_stream_shape(events):
    """start first, exactly one terminal event and it is last; deltas concatenate to the reply."""
    types = [e["type"] for e in events]
    assert types[0] == "start", types
    terminals = [t for t in types if t in ("done", "error")]
    assert len(terminals) == 1, types
    assert types[-1] in ("done", "error"), types
    assert set(types) <= {"start", "delta", "retry", "fallback", "usage", "done", "error"}, types
    return "".join(e.get("content") or "" for e in events if e["type"] == "delta")


def test_complete():
    with providermux.Router(mock_config()) as router:
        response = router.complete(user("hello there"))
    assert response["object"] == "chat.completion"
    assert response["provider"] == "mock"
    assert reply_text(response) == "mock: hello there"
    assert response["choices"][0]["message"]["role"] == "assistant"
    assert response["choices"][0]["finish_reason"] == "stop"
    usage = response["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 0
    assert isinstance(response["latency_ms"], (int, float)) and response["latency_ms"] >= 0
    attempts = response["attempts"]
    assert len(attempts) == 1 and attempts[0]["outcome"] == "ok"
    assert attempts[0]["provider"] == "mock"


def test_complete_accepts_str_and_bytes():
    with providermux.Router('{"providers":[{"name":"m","type":"mock","reply":"fixed"}]}') as r:
        assert reply_text(r.complete('{"messages":[{"role":"user","content":"a"}]}')) == "fixed"
        assert reply_text(r.complete(b'{"messages":[{"role":"user","content":"a"}]}')) == "fixed"


def test_stream_iterator():
    with providermux.Router(mock_config()) as router:
        stream = router.stream(user("stream me please"))
        events = list(stream)
    text = check_stream_shape(events)
    assert events[-1]["type"] == "done"
    response = events[-1]["response"]
    assert text == reply_text(response) == "mock: stream me please"
    assert stream.response == response
    assert stream.error is None
    assert stream.terminal is events[-1]
    assert len([e for e in events if e["type"] == "delta"]) >= 2
    assert events[0]["provider"] == "mock" and events[0]["attempt"] == 1
    assert "ttft_ms" in response
    assert list(stream) == [], "iteration ends after the terminal event"
    assert providermux._live_callbacks == {}


def test_stream_blocking():
    events = []
    with providermux.Router(mock_config()) as router:
        response = router.stream_blocking(user("blocking stream"), events.append)
        assert router.stream(user("blocking stream"), on_event=lambda e: None)["provider"] \
            == "mock"
    text = check_stream_shape(events)
    assert events[-1]["type"] == "done"
    assert response == events[-1]["response"]
    assert text == reply_text(response) == "mock: blocking stream"


def test_stream_blocking_runs_callbacks_on_calling_thread():
    threads = set()
    with providermux.Router(mock_config()) as router:
        router.stream_blocking(user("x y z"), lambda e: threads.add(threading.get_ident()))
    assert threads == {threading.get_ident()}


def test_closing_stream_early_cancels():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 30})
    with providermux.Router(config) as router:
        started = time.monotonic()
        stream = router.stream(user(LONG_PROMPT))
        for event in stream:
            if event["type"] == "delta":
                break
        stream.close()
        elapsed = time.monotonic() - started
        assert stream.terminal is not None and stream.terminal["type"] == "error"
        assert stream.error.code == providermux.ERR_CANCELLED
        assert stream.terminal["code"] == providermux.ERR_CANCELLED
        assert stream.terminal["status_name"] == "PMX_ERR_CANCELLED"
        assert elapsed < 1.5, "60 tokens x 30 ms would take about 2 s without the cancel"
        stream.close()  # idempotent
        assert providermux._live_callbacks == {}


def test_breaking_out_of_a_for_loop_cancels():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 30})
    with providermux.Router(config) as router:
        started = time.monotonic()
        deltas = 0
        for event in router.stream(user(LONG_PROMPT)):
            if event["type"] == "delta":
                deltas += 1
                if deltas == 2:
                    break
        gc.collect()
        assert providermux._live_callbacks == {}, "the abandoned stream was not cancelled"
        assert time.monotonic() - started < 1.5
        # The router still works afterwards.
        assert reply_text(router.complete(user("after"))) == "mock: after"


def test_with_block_cancels():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 30})
    with providermux.Router(config) as router:
        with router.stream(user(LONG_PROMPT)) as stream:
            next(stream)
        assert stream.error is not None and stream.error.code == providermux.ERR_CANCELLED


def test_cancel_from_blocking_callback_return_value():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 20})
    events = []

    def on_event(event):
        events.append(event)
        return event["type"] == "delta"  # truthy: cancel

    with providermux.Router(config) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.stream_blocking(user(LONG_PROMPT), on_event)
    assert info.value.code == providermux.ERR_CANCELLED
    assert events[-1]["type"] == "error" and events[-1]["code"] == providermux.ERR_CANCELLED
    assert len([e for e in events if e["type"] == "delta"]) == 1


def test_exception_in_blocking_callback_propagates():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 5})
    seen = []

    class Boom(Exception):
        pass

    def on_event(event):
        seen.append(event["type"])
        if event["type"] == "delta":
            raise Boom("stop here")

    with providermux.Router(config) as router:
        with pytest.raises(Boom, match="stop here"):
            router.stream_blocking(user(LONG_PROMPT), on_event)
        assert seen.count("delta") == 1
        assert seen[-1] == "error", "the cancelled stream still ends with its terminal event"
        # The router is fine afterwards.
        assert reply_text(router.complete(user("again"))) == "mock: again"


def test_scripted_rate_limit_retries_then_succeeds():
    config = mock_config({"name": "flaky", "type": "mock",
                          "script": [{"status": 429, "times": 2}]},
                         retry={"max_attempts": 3})
    with providermux.Router(config) as router:
        events = list(router.stream(user("try hard")))
    check_stream_shape(events)
    retries = [e for e in events if e["type"] == "retry"]
    assert len(retries) == 2, events
    for retry in retries:
        assert retry["provider"] == "flaky"
        assert retry["code"] == providermux.ERR_RATE_LIMITED
        assert retry["status_name"] == "PMX_ERR_RATE_LIMITED"
        assert retry["http_status"] == 429
    assert events[-1]["type"] == "done"
    response = events[-1]["response"]
    assert reply_text(response) == "mock: try hard"
    assert [a["outcome"] for a in response["attempts"]] == ["error", "error", "ok"]
    assert response["attempts"][0]["code"] == providermux.ERR_RATE_LIMITED
    starts = [e for e in events if e["type"] == "start"]
    assert starts[-1]["attempt"] == 3


def test_scripted_rate_limit_complete():
    config = mock_config({"name": "flaky", "type": "mock",
                          "script": [{"status": 429, "times": 2}]},
                         retry={"max_attempts": 3})
    with providermux.Router(config) as router:
        response = router.complete(user("x"))
        assert len(response["attempts"]) == 3
        stats = router.stats()
    assert stats["retries"] == 2
    assert stats["requests"] == 1 and stats["successes"] == 1


def test_scripted_failures_exhaust_attempts():
    config = mock_config({"name": "down", "type": "mock",
                          "script": [{"status": 503, "times": 5, "message": "overloaded"}]},
                         retry={"max_attempts": 2})
    with providermux.Router(config) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("x"))
    err = info.value
    assert err.code == providermux.ERR_UPSTREAM_SERVER
    assert err.http_status == 503
    assert err.provider == "down"
    assert err.attempts == 2


def test_drop_after_deltas_interrupts_stream():
    config = mock_config({"name": "dropper", "type": "mock",
                          "script": [{"drop_after_deltas": 3}]})
    with providermux.Router(config) as router:
        stream = router.stream(user(LONG_PROMPT))
        events = drain(stream)
    check_stream_shape(events)
    deltas = [e for e in events if e["type"] == "delta"]
    assert len(deltas) == 3, [e["type"] for e in events]
    terminal = events[-1]
    assert terminal["type"] == "error"
    assert terminal["code"] == providermux.ERR_STREAM_INTERRUPTED
    assert terminal["status_name"] == "PMX_ERR_STREAM_INTERRUPTED"
    assert terminal["provider"] == "dropper"
    assert stream.error.code == providermux.ERR_STREAM_INTERRUPTED
    assert stream.response is None


def test_drop_after_deltas_blocking_stream_raises():
    config = mock_config({"name": "dropper", "type": "mock",
                          "script": [{"drop_after_deltas": 3}]})
    events = []
    with providermux.Router(config) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.stream_blocking(user(LONG_PROMPT), events.append)
    assert info.value.code == providermux.ERR_STREAM_INTERRUPTED
    assert len([e for e in events if e["type"] == "delta"]) == 3


def test_failover_between_mocks():
    config = mock_config({"name": "first", "type": "mock",
                          "script": [{"error": "connection", "times": 9}]},
                         {"name": "second", "type": "mock"},
                         retry={"max_attempts": 1})
    with providermux.Router(config) as router:
        events = list(router.stream(user("fail over")))
    check_stream_shape(events)
    fallbacks = [e for e in events if e["type"] == "fallback"]
    assert len(fallbacks) == 1
    assert fallbacks[0]["from"] == "first" and fallbacks[0]["to"] == "second"
    assert fallbacks[0]["code"] == providermux.ERR_CONNECTION
    assert events[-1]["response"]["provider"] == "second"


def test_embed_models_health_stats():
    config = mock_config({"name": "m", "type": "mock", "models": ["alpha", "beta"],
                          "embedding_dimensions": 5})
    with providermux.Router(config) as router:
        one = router.embed({"model": "alpha", "input": "hello"})
        assert one["object"] == "list" and one["provider"] == "m"
        assert len(one["data"]) == 1 and len(one["data"][0]["embedding"]) == 5
        again = router.embed({"model": "alpha", "input": "hello"})
        assert again["data"][0]["embedding"] == one["data"][0]["embedding"], "deterministic"
        two = router.embed({"model": "alpha", "input": ["a", "b"]})
        assert [d["index"] for d in two["data"]] == [0, 1]

        models = router.models()
        assert models["object"] == "list"
        ids = sorted(m["id"] for m in models["data"])
        assert ids == ["m/alpha", "m/beta"]
        assert models.get("errors", []) == []

        health = router.health()
        assert [p["name"] for p in health["providers"]] == ["m"]
        assert health["providers"][0]["healthy"] is True
        assert "error" not in health["providers"][0]

        router.complete(user("count me", model="alpha"))
        stats = router.stats()
        assert stats["requests"] >= 1 and stats["successes"] >= 1
        provider_stats = {p["name"]: p for p in stats["providers"]}
        assert provider_stats["m"]["completion_tokens"] > 0


def test_threads_share_a_router():
    results = []
    errors = []
    with providermux.Router(mock_config()) as router:
        def work(n):
            try:
                for i in range(10):
                    results.append(reply_text(router.complete(user("t%d-%d" % (n, i)))))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sorted(results) == sorted("mock: t%d-%d" % (n, i) for n in range(4) for i in range(10))


def test_many_concurrent_async_streams():
    config = mock_config({"name": "m", "type": "mock", "token_delay_ms": 2})
    with providermux.Router(config) as router:
        streams = [router.stream(user("s%d a b c" % i)) for i in range(30)]
        texts = []
        for stream in streams:
            events = list(stream)
            texts.append(check_stream_shape(events))
            assert events[-1]["type"] == "done"
    assert texts == ["mock: s%d a b c" % i for i in range(30)]
    assert providermux._live_callbacks == {}


def test_router_close_ends_running_streams():
    config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 50})
    router = providermux.Router(config)
    stream = router.stream(user(LONG_PROMPT))
    next(stream)
    router.close()
    assert stream.terminal is not None and stream.terminal["type"] == "error"
    assert stream.error.code in (providermux.ERR_CANCELLED, providermux.ERR_ROUTER_CLOSED)
    assert providermux._live_callbacks == {}
