# SPDX-License-Identifier: Apache-2.0
"""Extreme numbers from an upstream through the real .so: a huge Retry-After family and usage
figures at INT64_MAX must neither take the process down nor come out unbounded.

Each case runs the router in a child process (the fake upstream stays in this one), so that a
Swift trap (SIGILL) fails the case instead of killing the test runner.
"""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("providermux")

from pmx_testlib import BINDINGS, FAST_RETRY, SECRET, UPSTREAM_DIR, user  # noqa: E402

INT64_MAX = 9223372036854775807
MAX_TOKENS = 10**12           # Usage.maxTokens
MAX_COST_USD = 1_000_000      # Usage.maxCostUSD

# Runs in the child: builds a router from argv[1], makes the call argv[2] names with the request
# argv[3], and prints one JSON line: the outcome, plus the stats document afterwards.
CHILD = r"""
import json, sys
sys.path[:0] = [%r, %r]
import providermux
config, call, request = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
out = {}
with providermux.Router(config) as router:
    try:
        if call == "stream":
            events = list(router.stream(request))
            out["events"] = [e["type"] for e in events]
            out["usage_events"] = [e["usage"] for e in events if e["type"] == "usage"]
            out["response"] = events[-1].get("response")
        else:
            out["response"] = router.complete(request)
    except providermux.ProviderMuxError as e:
        out["error"] = {"status": e.status_name, "message": str(e)}
    out["stats"] = router.stats()
print(json.dumps(out))
""" % (BINDINGS, UPSTREAM_DIR)


def run_child(config, request, call="complete"):
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config), call, json.dumps(request)],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == 0, f"child died (rc {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def provider(up, scope):
    return {"name": scope, "type": "openai-compatible", "base_url": up.base(scope), "api_key": SECRET}


def config(*providers):
    return {"providers": list(providers), "retry": dict(FAST_RETRY), "pricing": {
        "fake-small": {"input_per_mtok": 1000, "output_per_mtok": 1000}}}


def assert_finite_json(document):
    text = json.dumps(document)
    for bad in ("Infinity", "NaN", str(INT64_MAX)):
        assert bad not in text, f"{bad} in {text[:500]}"


@pytest.mark.parametrize("fault,served_by", [
    ({"status": 429, "retry_after": "1e20"}, "b"),
    ({"status": 429, "retry_after": "1234567890123456789012345678901234567890"}, "b"),
    ({"status": 429, "retry_after_ms": "1e300"}, "b"),
    ({"status": 429, "headers": {"x-ratelimit-reset-tokens": "99999999999999999999h"}}, "b"),
    ({"status": 429, "retry_after": "inf"}, "a"),
    ({"status": 503, "headers": {"x-ms-retry-after-ms": "nan"}}, "a"),
    ({"status": 429, "retry_after": "-1e20"}, "a"),
], ids=["retry-after-1e20", "retry-after-40-digits", "retry-after-ms-1e300", "ratelimit-reset-huge",
        "retry-after-inf", "x-ms-nan", "retry-after-negative"])
def test_huge_waits_do_not_trap(up, fault, served_by):
    up.script("a", [fault])
    result = run_child(config(provider(up, "a"), provider(up, "b")), user("hello", model="fake-small"))
    assert "error" not in result, result
    response = result["response"]
    assert response["attempts"][0]["provider"] == "a" and response["attempts"][0]["outcome"] == "error"
    # A huge wait is read as one day, longer than retry.max_retry_after_ms: the router fails over
    # to b at once. inf, nan and negative waits are ignored: a is simply retried after back-off.
    assert response["provider"] == served_by
    assert_finite_json(result["stats"])


def answer_with_usage(n):
    return json.dumps({
        "id": "chatcmpl-x", "object": "chat.completion", "model": "fake-small",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": n, "completion_tokens": n, "total_tokens": n,
                  "prompt_tokens_details": {"cached_tokens": n},
                  "completion_tokens_details": {"reasoning_tokens": n}, "cost_usd": n},
    })


@pytest.mark.parametrize("n,expected", [(INT64_MAX, MAX_TOKENS), (-1, 0), (1e308, MAX_TOKENS)],
                         ids=["int64-max", "minus-one", "1e308"])
def test_usage_numbers_are_clamped(up, n, expected):
    up.script("a", [{"body": answer_with_usage(n)}, {"body": answer_with_usage(n)}])
    result = run_child(config(provider(up, "a")), user("hello", model="fake-small"))
    usage = result["response"]["usage"]
    assert usage["prompt_tokens"] == expected and usage["completion_tokens"] == expected
    assert usage["total_tokens"] == expected
    assert usage["prompt_tokens_details"]["cached_tokens"] == expected
    assert usage["completion_tokens_details"]["reasoning_tokens"] == expected
    assert 0 <= usage["cost_usd"] <= MAX_COST_USD
    stats = result["stats"]
    assert_finite_json(stats)
    assert stats["providers"][0]["prompt_tokens"] == expected
    assert 0 <= stats["cost_usd"] <= MAX_COST_USD


def test_usage_numbers_in_a_stream_are_clamped(up):
    chunks = [
        {"id": "c", "model": "fake-small", "choices": [{"index": 0, "delta": {"content": "hi"}}]},
        {"id": "c", "model": "fake-small", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"id": "c", "model": "fake-small", "choices": [], "usage": {
            "prompt_tokens": INT64_MAX, "completion_tokens": INT64_MAX, "total_tokens": INT64_MAX,
            "tokens_per_second": 1e308, "cost_usd": 1e308}},
    ]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    up.script("a", [{"body": body, "headers": {"Content-Type": "text/event-stream"}}])
    result = run_child(config(provider(up, "a")), user("hello", model="fake-small"), call="stream")
    assert result["events"][-1] == "done", result
    usage = result["response"]["usage"]
    assert usage["prompt_tokens"] == MAX_TOKENS and usage["completion_tokens"] == MAX_TOKENS
    assert usage["total_tokens"] == MAX_TOKENS
    assert all(u["prompt_tokens"] == MAX_TOKENS for u in result["usage_events"])
    assert_finite_json(result)


def test_a_number_beyond_64_bits_is_a_protocol_error(up):
    # jansson refuses the document: that attempt is malformed, the router fails over.
    body = answer_with_usage(0).replace('"prompt_tokens": 0', '"prompt_tokens": 1234567890123456789012345678901234567890')
    up.script("a", [{"body": body}])
    result = run_child(config(provider(up, "a"), provider(up, "b")), user("hello", model="fake-small"))
    response = result["response"]
    assert response["provider"] == "b"
    assert response["attempts"][0]["status_name"] == "PMX_ERR_UPSTREAM_PROTOCOL"
