# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's Anthropic Messages handler (protocols/anthropic.py).

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from upstream import sse_frames as frames

TOOLS = [{"name": "get_weather", "description": "Weather now",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
         {"name": "other", "input_schema": {"type": "object", "properties": {}}}]
HEADERS = {"x-api-key": "sk-ant-fake", "anthropic-version": "2023-06-01"}


def call(up, method, path, body=None, headers=None, anthropic=True):
    return up.send(method, path, body, {**(HEADERS if anthropic else {}), **(headers or {})})


def msg_body(text="hello there world", stream=False, **extra):
    body = {"model": "claude-sonnet-4-5", "max_tokens": 1024,
            "messages": [{"role": "user", "content": text}], "stream": stream}
    body.update(extra)
    return body


def text_of(fs):
    return "".join(d["delta"]["text"] for n, d in fs
                   if n == "content_block_delta" and d["delta"]["type"] == "text_delta")


def test_plain_message(up):
    resp, raw = call(up, "POST", "/a/v1/messages",
                     msg_body(system="Be brief.", stop_sequences=["ZZZ"], temperature=0.2))
    assert resp.status == 200
    body = json.loads(raw)
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["id"].startswith("msg_fake_")
    assert body["model"] == "claude-sonnet-4-5"
    assert body["content"] == [{"type": "text", "text": "echo: hello there world"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    assert body["usage"] == {"input_tokens": 5, "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0, "output_tokens": 4}
    log = up.requests("a")
    assert log[0]["path"] == "/a/v1/messages" and log[0]["headers"]["x-api-key"] == "sk-ant-fake"


def test_stream_frames(up):
    resp, raw = call(up, "POST", "/a/v1/messages", msg_body("one two three", stream=True))
    assert resp.status == 200
    assert resp.getheader("Content-Type").startswith("text/event-stream")
    fs = frames(raw)
    names = [n for n, _ in fs]
    assert names == ["message_start", "content_block_start", "ping"] + ["content_block_delta"] * 4 + [
        "content_block_stop", "message_delta", "message_stop"]
    assert all(d["type"] == n for n, d in fs)  # the data repeats the event name
    assert fs[0][1]["message"]["usage"]["input_tokens"] == 3
    assert text_of(fs) == "echo: one two three"
    assert fs[-2][1] == {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                         "usage": {"output_tokens": 4}}


def test_tool_call_plain_and_streamed(up):
    body = msg_body("What's the weather in Paris?", tools=TOOLS)
    resp, raw = call(up, "POST", "/a/v1/messages", body)
    out = json.loads(raw)
    assert out["stop_reason"] == "tool_use"
    assert out["content"] == [{"type": "tool_use", "id": "toolu_fake_1", "name": "get_weather",
                               "input": {"city": "Paris"}}]

    resp, raw = call(up, "POST", "/a/v1/messages", dict(body, stream=True))
    fs = frames(raw)
    assert fs[1][1]["content_block"] == {"type": "tool_use", "id": "toolu_fake_1", "name": "get_weather", "input": {}}
    pieces = [d["delta"]["partial_json"] for n, d in fs if n == "content_block_delta"]
    assert len(pieces) == 4 and pieces[0] == ""
    assert json.loads("".join(pieces)) == {"city": "Paris"}
    assert fs[-2][1]["delta"]["stop_reason"] == "tool_use"

    # tool_choice none: no call
    _, raw = call(up, "POST", "/a/v1/messages", dict(body, tool_choice={"type": "none"}))
    assert json.loads(raw)["stop_reason"] == "end_turn"


def test_tool_results_and_last_user_text(up):
    body = msg_body(tools=TOOLS, messages=[
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                                     {"type": "text", "text": "thanks"}]},
    ])
    _, raw = call(up, "POST", "/a/v1/messages", body)
    assert json.loads(raw)["content"] == [{"type": "text", "text": "echo: thanks"}]
    del body["tools"]
    resp, raw = call(up, "POST", "/a/v1/messages", body)
    assert resp.status == 400
    assert "must define tools" in json.loads(raw)["error"]["message"]


def test_max_tokens_and_stop_sequences(up):
    _, raw = call(up, "POST", "/a/v1/messages", msg_body("a b c d e", max_tokens=3))
    out = json.loads(raw)
    assert out["stop_reason"] == "max_tokens" and out["content"][0]["text"] == "echo: a b "
    assert out["usage"]["output_tokens"] == 3
    _, raw = call(up, "POST", "/a/v1/messages", msg_body("a b STOP c", stop_sequences=["STOP"]))
    out = json.loads(raw)
    assert out["stop_reason"] == "stop_sequence" and out["stop_sequence"] == "STOP"
    assert out["content"][0]["text"] == "echo: a b "


@pytest.mark.parametrize("change, status, fragment", [
    ({"seed": 1}, 400, "seed: Extra inputs are not permitted"),
    ({"max_tokens": None}, 400, "max_tokens: Field required"),
    ({"messages": [{"role": "system", "content": "x"}]}, 400, "messages.0.role"),
    ({"stream_options": {"include_usage": True}}, 400, "stream_options: Extra inputs"),
])
def test_refuses_what_anthropic_refuses(up, change, status, fragment):
    body = msg_body()
    for k, v in change.items():
        if v is None:
            body.pop(k)
        else:
            body[k] = v
    resp, raw = call(up, "POST", "/a/v1/messages", body)
    assert resp.status == status
    err = json.loads(raw)
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
    assert fragment in err["error"]["message"]


def test_auth_and_version_headers(up):
    resp, raw = call(up, "POST", "/a/v1/messages", msg_body(), anthropic=False,
                     headers={"anthropic-version": "2023-06-01"})
    assert resp.status == 401 and json.loads(raw)["error"]["type"] == "authentication_error"
    resp, raw = call(up, "POST", "/a/v1/messages", msg_body(), anthropic=False, headers={"x-api-key": "k"})
    assert resp.status == 400 and "anthropic-version" in json.loads(raw)["error"]["message"]


@pytest.mark.parametrize("status, err_type", [(429, "rate_limit_error"), (529, "overloaded_error"),
                                              (500, "api_error"), (401, "authentication_error"),
                                              (403, "permission_error"), (404, "not_found_error")])
def test_status_faults_use_anthropic_error_shape(up, status, err_type):
    up.script("a", [{"status": status, "retry_after": 2}])
    resp, raw = call(up, "POST", "/a/v1/messages", msg_body(stream=True))
    assert resp.status == status
    assert json.loads(raw) == {"type": "error", "error": {"type": err_type, "message": f"fake fault {status}"},
                               "request_id": f"req_fake_{status}"}
    assert resp.getheader("Retry-After") == "2"


def test_stream_faults(up):
    up.script("a", [{"malformed_chunk_at": 3}, {"error_event_after_chunks": 4}, {"error_event_after_chunks": 0},
                    {"disconnect_after_chunks": 5}])
    _, raw = call(up, "POST", "/a/v1/messages", msg_body("one two", stream=True))
    fs = frames(raw)
    assert fs[3][0] == "content_block_delta" and fs[3][1].startswith('{"type": "content_block_delta"')  # not JSON
    assert fs[-1][0] == "message_stop"  # the stream goes on normally

    _, raw = call(up, "POST", "/a/v1/messages", msg_body("one two", stream=True))
    fs = frames(raw)
    assert [n for n, _ in fs] == ["message_start", "content_block_start", "ping", "content_block_delta", "error"]
    assert fs[-1][1]["error"] == {"type": "overloaded_error", "message": "Overloaded"}

    _, raw = call(up, "POST", "/a/v1/messages", msg_body("one two", stream=True))
    assert [n for n, _ in frames(raw)] == ["error"]

    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    try:
        conn.request("POST", "/a/v1/messages", body=json.dumps(msg_body("one two three", stream=True)),
                     headers=dict(HEADERS, **{"Content-Type": "application/json"}))
        resp = conn.getresponse()
        with pytest.raises((http.client.IncompleteRead, ConnectionError, socket.error)):
            resp.read()
    finally:
        conn.close()


def test_models_shape_and_paging(up):
    resp, raw = call(up, "GET", "/a/v1/models?limit=1000")
    assert resp.status == 200
    out = json.loads(raw)
    assert out == {"data": [
        {"type": "model", "id": "fake-small", "display_name": "Fake Small", "created_at": "2025-01-01T00:00:00Z"},
        {"type": "model", "id": "fake-large", "display_name": "Fake Large", "created_at": "2025-01-01T00:00:00Z"}],
        "has_more": False, "first_id": "fake-small", "last_id": "fake-large"}
    _, raw = call(up, "GET", "/a/v1/models?limit=1")
    assert json.loads(raw)["has_more"] is True
    up.set_models("a", [{"type": "model", "id": "claude-x", "display_name": "Claude X", "created_at": "2025-02-02T00:00:00Z"}])
    _, raw = call(up, "GET", "/a/v1/models")
    assert json.loads(raw)["data"][0]["display_name"] == "Claude X"


def test_models_without_anthropic_version_belong_to_the_next_protocol(up):
    resp, raw = call(up, "GET", "/a/v1/models", anthropic=False)
    assert resp.status == 200
    assert json.loads(raw) == {"object": "list", "data": [
        {"id": "fake-small", "object": "model", "owned_by": "fake"},
        {"id": "fake-large", "object": "model", "owned_by": "fake"}]}
    up.script("a", [{"status": 429}])
    resp, raw = call(up, "GET", "/a/v1/models", anthropic=False)
    assert resp.status == 429 and "type" not in json.loads(raw)  # OpenAI's error shape, not Anthropic's
    assert json.loads(raw)["error"]["message"] == "fake fault 429"
