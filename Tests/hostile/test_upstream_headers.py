# SPDX-License-Identifier: Apache-2.0
"""Every response header an upstream uses to steer the router's timing (Retry-After,
retry-after-ms, x-ms-retry-after-ms, x-ratelimit-reset-requests / -tokens, and Google's
RetryInfo.retryDelay in a Gemini error body), with every extreme value, on a 429 and a 503.

Expected (issue 12, items 1 and 2): no trap, no hang (the call ends well inside the case
timeout, failing over or failing instead of waiting), and the provider's cooldown in
pmx_router_health stays between 0 and the documented cap (limits.max_cooldown_ms, default
COOLDOWN_CAP_MS), never years."""

import json

import pytest

from harness import OK, SECRET, assert_no_negative_counts
from shapes import PROTOCOLS

# limits.max_cooldown_ms's default (README "Behaviour choices"): the longest cooldown an
# upstream's Retry-After or rate-limit reset header may impose on a provider.
COOLDOWN_CAP_MS = 300_000

VALUES = {
    "1e20": "1e20", "int64_max": "9223372036854775807", "minus_1": "-1", "1e308": "1e308",
    "1e999": "1e999", "nan": "nan", "inf": "inf", "Infinity": "Infinity",
    "digits40": "1234567890123456789012345678901234567890",
    "minus_digits40": "-1234567890123456789012345678901234567890",
    "date_9999": "Fri, 31 Dec 9999 23:59:59 GMT", "garbage": "\x01\x7f\xff",
    "hex": "0x7fffffffffffffff",
}
# How each header carries a value (the reset headers and RetryInfo are Go-style durations).
HEADERS = {
    "retry-after": ["{}"],
    "retry-after-ms": ["{}"],
    "x-ms-retry-after-ms": ["{}"],
    "x-ratelimit-reset-requests": ["{}s", "{}h", "{}"],
    "x-ratelimit-reset-tokens": ["{}ms", "1h{}s"],
    "retryinfo": ["{}s", "{}"],
}
STATUSES = (429, 503)

# The reset headers and RetryInfo are read on a 429 only; Retry-After on a 503 too.
CASES = [(h, fmt, v, st) for h, fmts in HEADERS.items() for fmt in fmts for v in VALUES
         for st in STATUSES if st == 429 or "retry-after" in h]


def case_id(h, fmt, v, st):
    return f"{h}[{fmt}]-{v}-{st}"


def answer(h, fmt, v, st):
    value = fmt.format(VALUES[v])
    if h == "retryinfo":
        body = {"error": {"code": st, "message": "slow down", "status": "RESOURCE_EXHAUSTED",
                          "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                       "retryDelay": value}]}}
        return "gemini", {"status": st, "headers": [["Content-Type", "application/json"]],
                          "body": json.dumps(body)}
    proto = PROTOCOLS["openai"]
    return "openai", proto.error_response(st, "slow down", headers=[[h, value]])


def build(chaos):
    built = []
    for n, (h, fmt, v, st) in enumerate(CASES):
        scope = f"hd{n}"
        proto_name, ans = answer(h, fmt, v, st)
        chaos.script(scope, [], default=dict(ans, times=-1))
        config = {"providers": [PROTOCOLS[proto_name].provider(chaos.url, scope, SECRET)],
                  "retry": {"max_attempts": 2, "initial_backoff_ms": 1, "max_backoff_ms": 5}}
        built.append({"id": case_id(h, fmt, v, st), "steps": [
            {"op": "router", "config": json.dumps(config)},
            {"op": "complete", "request": json.dumps(
                {"model": "m1", "messages": [{"role": "user", "content": "hi"}]})},
            {"op": "health"}, {"op": "stats"}]})
    return built


@pytest.mark.parametrize("h,fmt,v,st", CASES, ids=[case_id(*c) for c in CASES])
def test_extreme_timing_header(chaos, batches, h, fmt, v, st):
    outcome = batches.get("timing-headers", case_id(h, fmt, v, st), lambda: build(chaos),
                          timeout=40).ok()
    call, health = outcome.step("complete"), outcome.step("health")
    assert call["status"] < 0, "the upstream only ever failed"
    assert health["status"] == OK
    for p in json.loads(health["out"])["providers"]:
        cooldown = (p.get("rate_limit") or {}).get("cooldown_ms", 0)
        assert 0 <= cooldown <= COOLDOWN_CAP_MS, f"cooldown {cooldown} ms from {h}: {fmt.format(VALUES[v])!r}"
    assert_no_negative_counts(outcome)
