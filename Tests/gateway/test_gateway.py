# SPDX-License-Identifier: Apache-2.0
"""pmx-gateway driven by the official openai Python SDK: plain, stream, tools, embeddings,
models, errors (401, 400, 404, 413, 429, 503, a failure mid-stream), /health, /metrics, and no
key in anything it sends. The router behind it talks to the fake upstream (Tests/upstream)."""

from __future__ import annotations

import json
import math
import struct
import urllib.error
import urllib.request

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway_fixture import GW_KEY, UPSTREAM_API_KEY

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "weather of a city",
                                                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def client(gateway, key: str = GW_KEY) -> openai.OpenAI:
    # No SDK retries: each test sees the gateway's one answer.
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0, timeout=30)


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def raw(gateway, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(gateway.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


# --- answers -------------------------------------------------------------------------------

def test_plain_completion(gateway, up):
    r = client(gateway).chat.completions.create(model="up/fake-small", messages=user("hello there gateway"))
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content == "echo: hello there gateway"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == 3 and r.usage.completion_tokens == 4
    # The router sent the upstream its own key, never the gateway's.
    sent = up.requests("a")[-1]["headers"]
    assert sent["authorization"] == f"Bearer {UPSTREAM_API_KEY}"
    assert GW_KEY not in json.dumps(up.requests("a"))


def test_stream(gateway, up):
    chunks = list(client(gateway).chat.completions.create(
        model="up/fake-small", messages=user("one two three four"), stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three four"
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5  # the usage chunk comes last
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 5  # word by word, not one blob


def test_stream_wire_format(gateway, up):
    """The bytes themselves: `data: {json}` events, then `data: [DONE]`."""
    body = json.dumps({"model": "up/fake-small", "messages": user("wire check"), "stream": True}).encode()
    status, headers, data = raw(gateway, "POST", "/v1/chat/completions", body,
                                {"Authorization": f"Bearer {GW_KEY}", "Content-Type": "application/json"})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = [e for e in data.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert all(json.loads(e[6:])["object"] == "chat.completion.chunk" for e in events[:-1])


def test_tools(gateway, up):
    c = client(gateway)
    r = c.chat.completions.create(model="up/fake-small", messages=user("what is the weather in Paris"), tools=[WEATHER_TOOL])
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    args, names, finish = "", set(), None
    for chunk in c.chat.completions.create(model="up/fake-small", messages=user("weather please"), tools=[WEATHER_TOOL], stream=True):
        for tc in chunk.choices[0].delta.tool_calls or []:
            args += tc.function.arguments or ""
            if tc.function.name:
                names.add(tc.function.name)
        finish = chunk.choices[0].finish_reason or finish
    assert names == {"get_weather"} and json.loads(args) == {"city": "Paris"} and finish == "tool_calls"


def test_embeddings(gateway, up):
    c = client(gateway)
    # The SDK asks for base64 by default and decodes it: the gateway encodes the floats.
    default = c.embeddings.create(model="up/fake-embed", input=["alpha", "beta"])
    floats = c.embeddings.create(model="up/fake-embed", input=["alpha", "beta"], encoding_format="float")
    assert [d.index for d in default.data] == [0, 1]
    assert len(default.data[0].embedding) == 8
    for a, b in zip(default.data, floats.data):
        assert all(math.isclose(x, struct.unpack("<f", struct.pack("<f", y))[0], rel_tol=1e-6) for x, y in zip(a.embedding, b.embedding))
    # Neither format reached the upstream as base64.
    assert all(r["json"].get("encoding_format") in (None, "float") for r in up.requests("a"))


def test_models(gateway, up):
    ids = [m.id for m in client(gateway).models.list()]
    assert "up/fake-small" in ids and "up/fake-large" in ids


def test_health_and_metrics_need_no_key(gateway, up):
    client(gateway).chat.completions.create(model="up/fake-small", messages=user("count me"))
    status, _, body = raw(gateway, "GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, headers, body = raw(gateway, "GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    served = [s for s in families["pmx_gateway_http_requests"].samples
              if s.labels == {"route": "/v1/chat/completions", "status": "200"} and s.name.endswith("_total")]
    assert served and served[0].value >= 1
    assert any(name.startswith("pmx_") and not name.startswith("pmx_gateway") for name in families)  # the router's own


# --- errors --------------------------------------------------------------------------------

def test_401_bad_or_missing_key(gateway, up):
    with pytest.raises(openai.AuthenticationError) as e:
        client(gateway, key="gw-wrong-key-000000").chat.completions.create(model="up/fake-small", messages=user("hi"))
    assert e.value.status_code == 401 and e.value.code == "invalid_api_key"
    assert "gw-wrong-key-000000" not in str(e.value.body)
    for headers in ({}, {"Authorization": "Basic Zm9vOmJhcg=="}, {"Authorization": f"Bearer {GW_KEY}x"},
                    {"Authorization": f"Bearer {GW_KEY[:-1]}"}):
        status, _, body = raw(gateway, "GET", "/v1/models", headers=headers)
        assert status == 401 and json.loads(body)["error"]["type"] == "invalid_request_error"
    assert up.requests("a") == []  # nothing reached the upstream
    assert raw(gateway, "GET", "/v1/models", headers={"Authorization": f"bearer {GW_KEY}"})[0] == 200


def test_400_invalid_request(gateway, up):
    c = client(gateway)
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model="up/fake-small", messages=user("hi"), temperature=5)
    assert e.value.status_code == 400 and e.value.body["param"] == "temperature" and "temperature" in e.value.message
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="up/fake-small", messages=[])
    status, _, body = raw(gateway, "POST", "/v1/chat/completions", b"{not json",
                          {"Authorization": f"Bearer {GW_KEY}", "Content-Type": "application/json"})
    err = json.loads(body)["error"]
    assert status == 400 and err["type"] == "invalid_request_error" and set(err) == {"message", "type", "param", "code"}
    assert up.requests("a") == []


def test_400_from_upstream(gateway, up):
    up.script("a", [{"status": 400, "message": "upstream refused the request"}])
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).chat.completions.create(model="up/fake-small", messages=user("hi"))
    assert "upstream refused the request" in e.value.message


def test_404_unknown_model_and_path(gateway, up):
    up.script("a", [{"status": 404, "error_code": "model_not_found", "message": "The model `no-such-model` does not exist"}])
    with pytest.raises(openai.NotFoundError) as e:
        client(gateway).chat.completions.create(model="up/no-such-model", messages=user("hi"))
    assert e.value.code == "model_not_found" and "no-such-model" in e.value.message
    status, _, body = raw(gateway, "GET", "/v1/nothing-here", headers={"Authorization": f"Bearer {GW_KEY}"})
    assert status == 404 and json.loads(body)["error"]["code"] == "unknown_url"


def test_413_body_too_large(gateway, up):
    with pytest.raises(openai.APIStatusError) as e:
        client(gateway).chat.completions.create(model="up/fake-small", messages=user("x" * 70000))
    assert e.value.status_code == 413 and e.value.code == "request_too_large"
    assert up.requests("a") == []


def test_429_upstream_then_router_cooldown(gateway, up):
    up.script("rl", [{"status": 429, "retry_after": 7}])
    c = client(gateway)
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="rl/fake-small", messages=user("hi"))
    assert e.value.status_code == 429 and e.value.type == "rate_limit_error"
    assert 1 <= int(e.value.response.headers["retry-after"]) <= 7
    # The upstream's Retry-After is now the router's cooldown: the next request is refused
    # locally, with its wait, without reaching the upstream.
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="rl/fake-small", messages=user("again"), stream=True)
    assert 1 <= int(e.value.response.headers["retry-after"]) <= 7
    assert len(up.requests("rl")) == 1


def test_503_upstream_down(gateway, up):
    with pytest.raises(openai.InternalServerError) as e:
        client(gateway).chat.completions.create(model="down/fake-small", messages=user("hi"))
    assert e.value.status_code == 503 and e.value.code == "upstream_unavailable"
    assert "retry-after" in e.value.response.headers


def test_502_upstream_answered_badly(gateway, up):
    up.script("a", [{"status": 500}])
    with pytest.raises(openai.InternalServerError) as e:
        client(gateway).chat.completions.create(model="up/fake-small", messages=user("hi"))
    assert e.value.status_code == 502


def test_error_after_stream_started(gateway, up):
    up.script("a", [{"error_event_after_chunks": 3}])
    got = []
    with pytest.raises(openai.APIError):
        for chunk in client(gateway).chat.completions.create(model="up/fake-small", messages=user("a b c d e f"), stream=True):
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got).startswith("echo: a")


def test_no_key_in_answers(gateway, up):
    """A careless upstream echoes the credentials it got: the gateway masks them, as the library does."""
    up.script("a", [{"echo_credentials": True}, {"echo_credentials": True}, {"status": 500, "echo_credentials": True}])
    c = client(gateway)
    plain = c.chat.completions.create(model="up/fake-small", messages=user("show"))
    streamed = "".join(ch.choices[0].delta.content or "" for ch in
                       c.chat.completions.create(model="up/fake-small", messages=user("show"), stream=True) if ch.choices)
    with pytest.raises(openai.APIStatusError) as e:
        c.chat.completions.create(model="up/fake-small", messages=user("show"))
    for text in (plain.model_dump_json(), streamed, json.dumps(e.value.body)):
        assert "credentials received" in text
        assert UPSTREAM_API_KEY not in text and GW_KEY not in text


def test_text_completions(gateway, up):
    """/v1/completions: pmx_router_call's completions.create (streamed: test_gateway_operations.py)."""
    c = client(gateway)
    r = c.completions.create(model="up/fake-small", prompt="say hi", max_tokens=10)
    assert r.object == "text_completion" and r.choices[0].text.strip() == "echo: say hi"
    assert up.requests("a")[-1]["path"].endswith("/v1/completions")
