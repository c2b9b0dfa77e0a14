# SPDX-License-Identifier: Apache-2.0
"""Re-entrancy (issue 12, item 6), from Python ctypes callbacks in a child process so that a
deadlock is a failed case (the child is killed at the timeout), not a wedged runner.

- A blocking call (complete, stream, embed, health) made on a router's own I/O thread, i.e.
  from inside a pmx_router_stream_async callback, returns PMX_ERR_WOULD_DEADLOCK at once.
- A library call from inside the log callback (stats on the same router, a blocking completion
  on another router) does not deadlock.
- pmx_stream_cancel, pmx_stream_free and a non-zero return from inside a callback are honoured
  when the answer comes from the response cache: exactly one terminal event, cancelled.
"""

import json

import pytest

from harness import ERR_CANCELLED, ERR_WOULD_DEADLOCK, OK, run_one, terminal_events

REQUEST = {"model": "m1", "messages": [{"role": "user", "content": "hello there world"}]}
MOCK = {"providers": [{"name": "mock", "type": "mock", "token_delay_ms": 5}],
        "retry": {"max_attempts": 1}}


def outer_chaos(chaos, scope):
    from shapes import PROTOCOLS
    proto = PROTOCOLS["openai"]
    ans = proto.stream_response()
    ans["chunk_delay_ms"] = 20
    chaos.script(scope, [], default=dict(ans, times=-1))
    emb = proto.embed_response()
    chaos.script(scope, [dict(emb, match="/embeddings", times=-1)], default=dict(ans, times=-1))
    return {"providers": [proto.provider(chaos.url, scope, "sk-reentrancy-0000")],
            "retry": {"max_attempts": 1}}


@pytest.mark.parametrize("upstream", ["mock", "chaos"])
@pytest.mark.parametrize("kind", ["complete", "stream", "embed", "health"])
def test_blocking_call_on_io_thread_would_deadlock(chaos, kind, upstream):
    config = MOCK if upstream == "mock" else outer_chaos(chaos, f"re-{kind}")
    outcome = run_one([{"op": "router", "config": json.dumps(config)},
                       {"op": "py", "fn": "nested_in_async",
                        "args": {"kind": kind, "request": json.dumps(REQUEST)}}],
                      timeout=8).ok()
    step = outcome.step("py:nested_in_async")
    assert step["status"] == OK
    nested = step["nested"]
    assert nested, "the callback never ran"
    assert nested["status"] == ERR_WOULD_DEADLOCK, nested
    assert nested["seconds"] < 5, nested  # "at once": far below any timeout of the router
    assert step["finished"], "the outer stream never ended"
    assert len(terminal_events(step)) == 1


@pytest.mark.parametrize("kind", ["complete", "stream", "embed", "health", "models", "stats"])
def test_blocking_call_in_blocking_stream_callback_returns(kind):
    """pmx_router_stream delivers on the caller's thread: a nested call there must return
    (with a result or PMX_ERR_WOULD_DEADLOCK), never hang."""
    outcome = run_one([{"op": "router", "config": json.dumps(MOCK)},
                       {"op": "py", "fn": "nested_in_stream",
                        "args": {"kind": kind, "request": json.dumps(REQUEST)}}],
                      timeout=8).ok()
    step = outcome.step("py:nested_in_stream")
    assert step["status"] == OK, step["message"]
    assert step["nested"]["status"] in (OK, ERR_WOULD_DEADLOCK), step["nested"]


def test_library_calls_inside_log_callback():
    config = json.dumps(MOCK)
    other = json.dumps({"providers": [{"name": "other", "type": "mock"}]})
    outcome = run_one([{"op": "py", "fn": "library_call_in_log_callback",
                        "args": {"config": config, "other_config": other}}], timeout=10).ok()
    step = outcome.step("py:library_call_in_log_callback")
    assert step["complete"] == OK and step["stream"] == OK, step
    assert step["log_lines"] > 0 and step["nested"], "the log callback never ran"
    for n in step["nested"]:
        assert n["stats"] == OK, n
        assert n["complete"] in (OK, ERR_WOULD_DEADLOCK), n


CACHED = {"providers": [{"name": "mock", "type": "mock"}], "cache": {"enabled": True},
          "retry": {"max_attempts": 1}}


@pytest.mark.parametrize("how", ["cancel_at", "free_at", "return_at"])
@pytest.mark.parametrize("at", [1, 2])
def test_cancel_inside_callback_on_cache_hit_async(how, at):
    request = json.dumps(REQUEST)
    outcome = run_one([{"op": "router", "config": json.dumps(CACHED)},
                       {"op": "complete", "request": request},  # fills the cache
                       {"op": "stream_async", "request": request, how: at}],
                      timeout=8).ok()
    step = outcome.step("stream_async")
    assert step["status"] == OK and step["finished"]
    ends = terminal_events(step)
    assert len(ends) == 1, step["events"]
    assert ends[0]["type"] == "error" and ends[0]["code"] == ERR_CANCELLED, ends[0]
    assert json.loads(step["events"][-1])["type"] == "error", "the terminal event is the last"


@pytest.mark.parametrize("at", [1, 2])
def test_nonzero_return_on_cache_hit_blocking_stream(at):
    request = json.dumps(REQUEST)
    outcome = run_one([{"op": "router", "config": json.dumps(CACHED)},
                       {"op": "complete", "request": request},
                       {"op": "stream", "request": request, "return_at": at}], timeout=8).ok()
    step = outcome.step("stream")
    assert step["status"] == ERR_CANCELLED, step["status_name"]
    ends = terminal_events(step)
    assert len(ends) == 1 and ends[0]["type"] == "error", step["events"]
