# SPDX-License-Identifier: Apache-2.0
"""Upstreams inform policy within bounds (issue 12, item 2).

- A 429 whose Retry-After (or retry-after-ms, or reset header) asks for 1e20 seconds cools the
  provider down for at most the documented cap, and the request fails over at once.
- An upstream-reported cost (usage.cost_usd / usage.cost of 1e300) is not charged to a budget:
  budgets are charged from the pricing table only, so requests keep being served.
- A fallback chain of thousands of models, thousands of failing providers, or a huge
  retry.max_attempts: one request sends at most limits.max_total_attempts (default
  MAX_TOTAL_ATTEMPTS) attempts, or route.max_total_attempts when the request sets it.
"""

import json

import pytest

from harness import OK, SECRET, assert_no_negative_counts, run_one, terminal_events
from shapes import PROTOCOLS
from test_upstream_headers import COOLDOWN_CAP_MS

# limits.max_total_attempts's default (README "Behaviour choices").
MAX_TOTAL_ATTEMPTS = 32
ERR_BUDGET_EXCEEDED = -30
REQUEST = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("header,value", [("Retry-After", "1e20"), ("retry-after-ms", "1e300"),
                                          ("x-ratelimit-reset-requests", "99999999999h"),
                                          ("Retry-After", "9223372036854775807")])
def test_huge_retry_after_cooldown_is_capped(chaos, header, value):
    proto = PROTOCOLS["openai"]
    scope = f"pol-ra-{header}-{len(value)}"
    chaos.script(scope, [], default=dict(proto.error_response(429, "slow down",
                                                              headers=[[header, value]]), times=-1))
    config = {"providers": [proto.provider(chaos.url, scope, SECRET),
                            {"name": "backup", "type": "mock"}],
              "retry": {"max_attempts": 3, "initial_backoff_ms": 1}}
    outcome = run_one([{"op": "router", "config": json.dumps(config)},
                       {"op": "complete", "request": json.dumps({**REQUEST, "model": None})},
                       {"op": "health"}, {"op": "stats"}], timeout=20).ok()
    call = outcome.step("complete")
    assert call["status"] == OK, call["message"]
    assert json.loads(call["out"])["provider"] == "backup"
    health = json.loads(outcome.step("health")["out"])
    cooldown = health["providers"][0]["rate_limit"]["cooldown_ms"]
    assert 0 < cooldown <= COOLDOWN_CAP_MS, f"cooldown {cooldown} ms"
    assert_no_negative_counts(outcome)


@pytest.mark.parametrize("field", ["usage.cost_usd", "usage.cost"])
def test_upstream_cost_does_not_spend_the_budget(chaos, field):
    proto = PROTOCOLS["openai"]
    scope = f"pol-cost-{field.split('.')[-1]}"
    chaos.script(scope, [], default=dict(proto.answer_response(field, "1e300"), times=-1))
    config = {"providers": [proto.provider(chaos.url, scope, SECRET)],
              "budget": {"usd": 1, "window": "1h"},
              "pricing": {"m1": {"input_per_mtok": 1, "output_per_mtok": 1}},
              "retry": {"max_attempts": 1}}
    steps = [{"op": "router", "config": json.dumps(config)}]
    steps += [{"op": "complete", "request": json.dumps(REQUEST)} for _ in range(3)]
    steps += [{"op": "stats"}]
    outcome = run_one(steps, timeout=20).ok()
    for n in range(3):
        call = outcome.step("complete", n)
        assert call["status"] == OK, f"request {n + 1}: {call['status_name']} {call['message']}"
    stats = json.loads(outcome.step("stats")["out"])
    spent = json.dumps(stats.get("budget"))
    assert stats["cost_usd"] < 1, f"upstream cost was charged: {stats['cost_usd']} ({spent})"
    assert_no_negative_counts(outcome)


def failing_mock(name="p"):
    return {"name": name, "type": "mock", "script": [{"status": 500, "times": 1000000}]}


CHAINS = {
    "fallback_chain_5000": lambda: {
        "providers": [failing_mock()],
        "routing": {"fallbacks": {"m0": [f"m{i}" for i in range(1, 5000)]}},
        "retry": {"max_attempts": 2, "initial_backoff_ms": 0, "max_backoff_ms": 0}},
    "linked_fallbacks_3000": lambda: {
        "providers": [failing_mock()],
        "routing": {"fallbacks": {f"m{i}": [f"m{i + 1}"] for i in range(3000)}},
        "retry": {"max_attempts": 1}},
    "providers_2000": lambda: {
        "providers": [failing_mock(f"p{i}") for i in range(2000)],
        "retry": {"max_attempts": 1}, "circuit_breaker": {"enabled": False}},
    "retries_100_x_50": lambda: {
        "providers": [failing_mock(f"p{i}") for i in range(50)],
        "retry": {"max_attempts": 100, "initial_backoff_ms": 0, "max_backoff_ms": 0},
        "circuit_breaker": {"enabled": False}},
}


@pytest.mark.parametrize("route_cap", [None, 5])
@pytest.mark.parametrize("chain", list(CHAINS))
def test_attempts_per_request_are_capped(chain, route_cap):
    request = {**REQUEST, "model": "m0"}
    if route_cap:
        request["route"] = {"max_total_attempts": route_cap}
    outcome = run_one([{"op": "router", "config": json.dumps(CHAINS[chain]())},
                       {"op": "complete", "request": json.dumps(request)}, {"op": "stats"}],
                      timeout=30).ok()
    call = outcome.step("complete")
    assert call["status"] < 0, "every provider fails"
    cap = route_cap or MAX_TOTAL_ATTEMPTS
    stats = json.loads(outcome.step("stats")["out"])
    sent = sum(p["requests"] for p in stats["providers"])
    assert sent <= cap, f"one request sent {sent} attempts (cap {cap})"
    assert 0 < call["attempts"] <= cap, call["attempts"]


@pytest.mark.parametrize("op", ["complete", "stream", "stream_async"])
def test_largest_attempt_cap_is_safe_on_every_thread(op):
    """The highest cap a request may ask for (route.max_total_attempts 1000) over a chain
    that would otherwise send 10,000 attempts: the failover loop must not recurse once per
    attempt (10,000 synchronous failures overflowed the stack before the cap existed), on the
    caller's thread or on the router's I/O thread (async)."""
    request = {**REQUEST, "model": "m0", "route": {"max_total_attempts": 1000}}
    step = {"op": op, "request": json.dumps(request)}
    outcome = run_one([{"op": "router", "config": json.dumps(CHAINS["fallback_chain_5000"]())},
                       step, {"op": "stats"}], timeout=60).ok()
    call = outcome.step(op)
    assert call["status"] < 0 or op == "stream_async"
    stats = json.loads(outcome.step("stats")["out"])
    assert sum(p["requests"] for p in stats["providers"]) <= 1000
    if op == "stream_async":
        assert call["finished"] and len(terminal_events(call)) == 1
