# SPDX-License-Identifier: Apache-2.0
"""router.stream() pulls typed events (pmx_stream_next) and builds the event dicts from their
fields: they must be the dicts the JSON callback gives for the same request, every type."""

import copy

import providermux

from pmx_testlib import drain

KEY = "sk-pull-typed-events-KEY-9d2e"

RETRY_FALLBACK = {
    "providers": [
        {"name": "a", "type": "mock", "script": [{"status": 429, "retry_after_ms": 1}, {"status": 500, "times": 10}]},
        {"name": "b", "type": "mock"},
    ],
    "retry": {"max_attempts": 2, "initial_backoff_ms": 1, "jitter": 0},
}

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


def comparable(events):
    """The events minus what differs between two runs (ids, times, latencies, measured speed)."""
    out = []
    for e in events:
        e = copy.deepcopy(dict(e))
        r = e.get("response")
        if isinstance(r, dict):
            r = dict(r)
            for k in ("id", "created", "latency_ms", "ttft_ms", "attempts", "usage", "request_id"):
                r.pop(k, None)
            e["response"] = r
        e.pop("attempts", None)
        e.pop("request_id", None)  # an error event's: one per request
        if e.get("type") == "usage":
            e["usage"].pop("tokens_per_second", None)
        out.append(e)
    return out


def both_ways(config, request):
    """The same request pulled (router.stream()) and pushed (the JSON callback), on two routers
    (a mock's script is consumed per router)."""
    with providermux.Router(config) as r1, providermux.Router(config) as r2:
        stream = r1.stream(request)
        assert isinstance(stream._buffer, providermux._pull.PullBuffer)  # the pulled path
        pulled = list(stream)
        pushed = []
        r2.stream(request, pushed.append)
    return pulled, pushed


def test_every_mock_event_type_is_the_json_callbacks():
    request = {"messages": [{"role": "user", "content": "pull me"}], "stream_options": {"include_usage": True}}
    pulled, pushed = both_ways(RETRY_FALLBACK, request)
    types = [e["type"] for e in pulled]
    for t in ("start", "retry", "fallback", "delta", "done"):
        assert t in types, types
    assert comparable(pulled) == comparable(pushed)
    assert [type(e) for e in pulled] == [type(e) for e in pushed]


def test_tool_call_deltas_usage_and_masking_are_the_json_callbacks(up):
    config = {"providers": [{"name": "fake", "type": "openai-compatible", "base_url": up.base("pull"),
                             "api_key": KEY}]}
    up.script("pull", [{"echo_credentials": True, "times": 4}])
    request = {"messages": [{"role": "user", "content": "weather in Paris"}], "tools": [WEATHER],
               "stream_options": {"include_usage": True}}
    pulled, pushed = both_ways(config, request)
    deltas = [e for e in pulled if e["type"] == "delta" and "tool_calls" in e]
    assert len(deltas) >= 3
    assert any(e["type"] == "usage" for e in pulled)
    assert comparable(pulled) == comparable(pushed)
    arguments = "".join(e["tool_calls"][0]["function"].get("arguments", "") for e in deltas)
    # Masked also when the key is cut across pieces (the same as the JSON events: compared above).
    assert "Paris" in arguments and "****" in arguments
    assert KEY[4:-4] not in arguments


def test_an_error_stream_is_the_json_callbacks():
    config = {"providers": [{"name": "m", "type": "mock", "script": [{"status": 503, "times": 10}]}],
              "retry": {"max_attempts": 1}}
    request = {"messages": [{"role": "user", "content": "fail"}]}
    with providermux.Router(config) as r1:
        stream = r1.stream(request)
        pulled = drain(stream)
    assert pulled[-1]["type"] == "error" and pulled[-1]["code"] == providermux.ERR_UPSTREAM_SERVER
    assert isinstance(stream.error, providermux.UpstreamServerError)


def test_text_holding_a_nul_byte_arrives_whole():
    """The typed strings are NUL-terminated, but a NUL inside the text itself is kept."""
    config = {"providers": [{"name": "m", "type": "mock"}]}
    request = {"messages": [{"role": "user", "content": "before\u0000after é"}]}
    pulled, pushed = both_ways(config, request)
    text = "".join(e.get("content", "") for e in pulled if e["type"] == "delta")
    assert text == "mock: before\u0000after é"
    assert comparable(pulled) == comparable(pushed)
