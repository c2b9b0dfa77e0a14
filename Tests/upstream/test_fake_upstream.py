# SPDX-License-Identifier: Apache-2.0
"""Tests of the fake provider server itself (stdlib clients only).

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from upstream import SERVER, FakeUpstream


# ----------------------------------------------------------------------------------------------
# helpers


def chat(text="hello there world", stream=False, **extra):
    body = {"model": "fake-small", "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def request(up, method, path, body=None, conn=None, timeout=5):
    """One request; returns (response, body bytes). ``body`` may be bytes or JSON-able."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", up.port, timeout=timeout)
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
    except BaseException:
        conn.close()
        raise
    if own:
        conn.close()
    return resp, payload


def post(up, scope, endpoint, body, **kw):
    return request(up, "POST", f"/{scope}/v1/{endpoint}", body, **kw)


def raw_exchange(up, path, body, timeout=5):
    """Send a POST on a raw socket and read until the server closes. Returns (head, body)."""
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", up.port), timeout=timeout)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(data), data))
    out = b""
    with s:
        while True:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            out += got
    head, _, rest = out.partition(b"\r\n\r\n")
    return head, rest


def dechunk(raw):
    """Decode chunked framing; returns (payload, saw_terminating_zero_chunk)."""
    out = b""
    while raw:
        line, sep, raw = raw.partition(b"\r\n")
        if not sep:
            return out, False
        size = int(line, 16)
        if size == 0:
            return out, True
        out += raw[:size]
        if len(raw) < size + 2:
            return out, False
        raw = raw[size + 2:]
    return out, False


def sse_events(payload):
    """Split an SSE body into ('comment', text) and ('data', text) items."""
    items = []
    for block in payload.decode().split("\n\n"):
        if not block:
            continue
        for line in block.split("\n"):
            if line.startswith(":"):
                items.append(("comment", line[1:].strip()))
            elif line.startswith("data: "):
                items.append(("data", line[6:]))
    return items


def data_events(payload):
    return [d for kind, d in sse_events(payload) if kind == "data"]


def content_of(datas):
    text = ""
    for d in datas:
        if d == "[DONE]":
            continue
        obj = json.loads(d)
        for ch in obj.get("choices", []):
            text += ch["delta"].get("content") or ""
    return text


# ----------------------------------------------------------------------------------------------
# normal behaviour


def test_health_and_base(up):
    assert up.health()
    assert up.base() == f"http://127.0.0.1:{up.port}/default/v1"
    assert up.base("a").endswith("/a/v1")


def test_plain_completion(up):
    resp, body = post(up, "default", "chat/completions", chat("hello there world"))
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "application/json"
    assert int(resp.getheader("Content-Length")) == len(body)
    obj = json.loads(body)
    assert obj["id"].startswith("chatcmpl-fake-")
    assert obj["object"] == "chat.completion"
    assert isinstance(obj["created"], int)
    assert obj["model"] == "fake-small"
    ch = obj["choices"][0]
    assert ch == {"index": 0, "message": {"role": "assistant", "content": "echo: hello there world"},
                  "finish_reason": "stop"}
    assert obj["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}


def test_completion_content_parts_and_last_user(up):
    body = {"model": "m", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": [{"type": "text", "text": "second"},
                                     {"type": "text", "text": "question"}]},
    ]}
    obj = json.loads(post(up, "default", "chat/completions", body)[1])
    assert obj["choices"][0]["message"]["content"] == "echo: second question"
    assert obj["model"] == "m"
    assert obj["usage"]["prompt_tokens"] == 8


def test_stream(up):
    resp, payload = post(up, "default", "chat/completions", chat("one two three", stream=True))
    assert resp.status == 200
    assert resp.getheader("Content-Type") == "text/event-stream"
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Length") is None
    items = sse_events(payload)
    assert items[0] == ("comment", "keep-alive")
    datas = [d for k, d in items if k == "data"]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert deltas == ["echo: ", "one ", "two ", "three"]
    assert "".join(deltas) == "echo: one two three" == content_of(datas)
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["id"] == chunks[0]["id"]
        assert c["usage"] is None
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert all(c["choices"] for c in chunks)  # no usage chunk without include_usage


def test_stream_include_usage(up):
    body = chat("one two three", stream=True, stream_options={"include_usage": True})
    datas = data_events(post(up, "default", "chat/completions", body)[1])
    assert datas[-1] == "[DONE]"
    usage_chunk = json.loads(datas[-2])
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert json.loads(datas[-3])["choices"][0]["finish_reason"] == "stop"


def test_stream_exact_whitespace(up):
    text = "a  b\nc "
    datas = data_events(post(up, "default", "chat/completions", chat(text, stream=True))[1])
    assert content_of(datas) == "echo: " + text


def test_keep_alive(up):
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    r1, b1 = post(up, "default", "chat/completions", chat("x"), conn=conn)
    sock = conn.sock
    assert sock is not None and not r1.will_close
    r2, b2 = post(up, "default", "chat/completions", chat("y z", stream=True), conn=conn)
    assert conn.sock is sock
    r3, b3 = request(up, "GET", "/default/v1/models", conn=conn)
    assert conn.sock is sock
    r4, b4 = post(up, "default", "embeddings", {"model": "e", "input": "q"}, conn=conn)
    assert conn.sock is sock
    assert [r.status for r in (r1, r2, r3, r4)] == [200] * 4
    assert content_of(data_events(b2)) == "echo: y z"
    conn.close()


def test_tool_call_non_stream(up):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}},
             {"type": "function", "function": {"name": "other"}}]
    obj = json.loads(post(up, "default", "chat/completions",
                          chat("what is the weather in Paris?", tools=tools))[1])
    ch = obj["choices"][0]
    assert ch["finish_reason"] == "tool_calls"
    assert ch["message"] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_fake_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}
    # tools but no "weather": plain echo
    obj = json.loads(post(up, "default", "chat/completions", chat("hi", tools=tools))[1])
    assert obj["choices"][0]["message"]["content"] == "echo: hi"


def test_tool_call_stream(up):
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    datas = data_events(post(up, "default", "chat/completions",
                             chat("weather please", stream=True, tools=tools))[1])
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    first = chunks[0]["choices"][0]["delta"]["tool_calls"]
    assert first == [{"index": 0, "id": "call_fake_1", "type": "function",
                      "function": {"name": "get_weather", "arguments": ""}}]
    later = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[1:4]]
    assert len(later) == 3
    for tc in later:
        assert tc["index"] == 0 and tc["id"] == "" and tc["function"]["name"] == ""
    assert "".join(tc["function"]["arguments"] for tc in later) == "{\"city\": \"Paris\"}"
    assert chunks[4]["choices"][0]["finish_reason"] == "tool_calls"
    assert len(chunks) == 5


def test_embeddings(up):
    resp, body = post(up, "default", "embeddings", {"model": "emb", "input": ["hello world", "x"]})
    obj = json.loads(body)
    assert obj["object"] == "list" and obj["model"] == "emb"
    assert [d["index"] for d in obj["data"]] == [0, 1]
    for d in obj["data"]:
        assert d["object"] == "embedding"
        assert len(d["embedding"]) == 8
        assert all(isinstance(v, float) and -1 <= v <= 1 for v in d["embedding"])
    assert obj["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    single = json.loads(post(up, "default", "embeddings", {"model": "emb", "input": "x"})[1])
    assert single["data"][0]["embedding"] == obj["data"][1]["embedding"]  # deterministic
    assert obj["data"][0]["embedding"] != obj["data"][1]["embedding"]
    resp, body = post(up, "default", "embeddings", {"model": "emb"})
    assert resp.status == 400


def test_models(up):
    obj = json.loads(request(up, "GET", "/default/v1/models")[1])
    assert obj == {"object": "list", "data": [
        {"id": "fake-small", "object": "model", "owned_by": "fake"},
        {"id": "fake-large", "object": "model", "owned_by": "fake"}]}
    up.set_models("a", [{"id": "only", "object": "model", "owned_by": "me"}])
    assert [m["id"] for m in json.loads(request(up, "GET", "/a/v1/models")[1])["data"]] == ["only"]
    assert len(json.loads(request(up, "GET", "/b/v1/models")[1])["data"]) == 2
    up.reset()
    assert len(json.loads(request(up, "GET", "/a/v1/models")[1])["data"]) == 2


def test_errors_bad_json_and_unknown_path(up):
    resp, body = post(up, "default", "chat/completions", b"{not json")
    assert resp.status == 400
    err = json.loads(body)["error"]
    assert err["type"] == "invalid_request_error" and err["param"] is None and err["code"] is None
    resp, body = request(up, "GET", "/default/v1/nope")
    assert resp.status == 404
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    resp, body = request(up, "GET", "/")
    assert resp.status == 404


# ----------------------------------------------------------------------------------------------
# scopes, script, log


def test_scopes_separated(up):
    up.script("a", [{"status": 500}])
    ra, _ = post(up, "a", "chat/completions", chat("to a"))
    rb, _ = post(up, "b", "chat/completions", chat("to b"))
    assert ra.status == 500 and rb.status == 200
    la, lb = up.requests("a"), up.requests("b")
    assert len(la) == 1 and len(lb) == 1
    assert la[0]["json"]["messages"][0]["content"] == "to a"
    assert lb[0]["json"]["messages"][0]["content"] == "to b"
    assert up.requests("default") == []


def test_script_times_429_then_success(up):
    up.script("a", [{"status": 429, "retry_after": 1, "retry_after_ms": 50, "times": 2}])
    for _ in range(2):
        resp, body = post(up, "a", "chat/completions", chat())
        assert resp.status == 429
        assert resp.getheader("Retry-After") == "1"
        assert resp.getheader("retry-after-ms") == "50"
        err = json.loads(body)["error"]
        assert err["type"] == "rate_limit_error" and err["message"] == "fake fault 429"
    resp, body = post(up, "a", "chat/completions", chat())
    assert resp.status == 200
    assert up.pending("a") == []
    faults = [r["fault"] for r in up.requests("a")]
    assert faults[0]["status"] == 429 and faults[1]["status"] == 429 and faults[2] is None


def test_script_replace_append_and_status_types(up):
    up.script("a", [{"status": 503}])
    up.script("a", [{"status": 400}])  # replaces
    up.append("a", [{}, {"status": 502, "body": "<html>bad gateway</html>",
                         "headers": {"X-Extra": "yes"}}])
    r, b = post(up, "a", "embeddings", {"model": "e", "input": "x"})
    assert r.status == 400 and json.loads(b)["error"]["type"] == "invalid_request_error"
    r, b = request(up, "GET", "/a/v1/models")  # {} entry: normal
    assert r.status == 200
    r, b = post(up, "a", "chat/completions", chat())
    assert r.status == 502 and b == b"<html>bad gateway</html>"
    assert r.getheader("X-Extra") == "yes"
    up.script("a", [{"status": 500}])
    r, b = post(up, "a", "chat/completions", chat(stream=True))
    assert r.status == 500 and json.loads(b)["error"]["type"] == "server_error"


def test_echo_credentials(up):
    """A careless provider: the error message repeats the credentials it was sent."""
    up.script("a", [{"status": 401, "echo_credentials": True, "times": 3}])
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    conn.request("POST", "/a/v1/chat/completions?key=q-KEY-1", body=json.dumps(chat()).encode(),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer sk-ECHO-1",
                          "x-api-key": "xk-ECHO-2"})
    resp = conn.getresponse()
    message = json.loads(resp.read())["error"]["message"]
    conn.close()
    assert resp.status == 401
    assert message == ("fake fault 401 (credentials received: authorization: Bearer sk-ECHO-1; "
                       "x-api-key: xk-ECHO-2; key=q-KEY-1)")
    r, b = post(up, "a", "chat/completions", chat())
    assert json.loads(b)["error"]["message"] == "fake fault 401 (credentials received: none)"
    up.script("a", [{"status": 403, "message": "denied", "echo_credentials": True}])
    r, b = post(up, "a", "chat/completions", chat())
    assert json.loads(b)["error"]["message"] == "denied (credentials received: none)"


def test_bad_script_rejected(up):
    req = urllib.request.Request(f"{up.url}/_control/a/script", method="POST",
                                 data=json.dumps({"entries": [{"stauts": 429}]}).encode())
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req, timeout=5)
    assert ei.value.code == 400
    assert "stauts" in ei.value.read().decode()
    ei.value.close()


def test_request_log(up):
    body = chat("logged text")
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    conn.request("POST", "/a/v1/chat/completions?x=1", body=json.dumps(body).encode(),
                 headers={"Authorization": "Bearer sk-test", "X-Custom-Thing": "v"})
    conn.getresponse().read()
    conn.close()
    post(up, "a", "chat/completions", b"{oops")
    up.script("a", [{"status": 500}])
    post(up, "a", "embeddings", {"input": "x"})
    log = up.requests("a")
    assert len(log) == 3
    first = log[0]
    assert first["method"] == "POST"
    assert first["path"] == "/a/v1/chat/completions?x=1"
    assert first["headers"]["authorization"] == "Bearer sk-test"
    assert first["headers"]["x-custom-thing"] == "v"
    assert all(k == k.lower() for k in first["headers"])
    assert first["json"] == body
    assert json.loads(first["body"]) == body
    assert log[1]["json"] is None and log[1]["body"] == "{oops"
    assert log[2]["path"] == "/a/v1/embeddings"  # logged even though it failed with 500
    assert log[2]["fault"]["status"] == 500
    up.reset()
    assert up.requests("a") == []


# ----------------------------------------------------------------------------------------------
# faults


def test_disconnect_after_chunks_stream(up):
    up.script("a", [{"disconnect_after_chunks": 2}])
    head, raw = raw_exchange(up, "/a/v1/chat/completions", chat("one two three", stream=True))
    assert head.startswith(b"HTTP/1.1 200")
    payload, terminated = dechunk(raw)
    assert not terminated
    items = sse_events(payload)
    assert items[0] == ("comment", "keep-alive")
    datas = [d for k, d in items if k == "data"]
    assert len(datas) == 2 and "[DONE]" not in datas
    assert json.loads(datas[0])["choices"][0]["delta"]["role"] == "assistant"
    assert json.loads(datas[1])["choices"][0]["delta"]["content"] == "echo: "
    # http.client sees an incomplete chunked body
    up.script("a", [{"disconnect_after_chunks": 1}])
    with pytest.raises(http.client.IncompleteRead):
        post(up, "a", "chat/completions", chat(stream=True))


def test_disconnect_non_stream(up):
    up.script("a", [{"disconnect_after_chunks": 0}])
    assert raw_exchange(up, "/a/v1/chat/completions", chat()) == (b"", b"")  # no response
    r, _ = post(up, "a", "chat/completions", chat())  # next one is fine
    assert r.status == 200


def test_malformed_chunk_at(up):
    up.script("a", [{"malformed_chunk_at": 2}])
    resp, payload = post(up, "a", "chat/completions", chat("one two three", stream=True))
    assert resp.status == 200
    assert b'data: {"choices": [ {not json\n\n' in payload
    datas = data_events(payload)
    assert datas[-1] == "[DONE]"
    bad = [i for i, d in enumerate(datas) if d != "[DONE]" and not _is_json(d)]
    assert bad == [2]
    assert len(datas) == 7  # role, 4 tokens, finish, [DONE]


def _is_json(s):
    try:
        json.loads(s)
        return True
    except ValueError:
        return False


def test_error_event_after_chunks(up):
    up.script("a", [{"error_event_after_chunks": 2}, {"error_event_after_chunks": 0}])
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    resp, payload = post(up, "a", "chat/completions", chat("one two three", stream=True),
                         conn=conn)
    assert resp.status == 200
    datas = data_events(payload)  # body ended cleanly: no IncompleteRead
    assert len(datas) == 3 and "[DONE]" not in datas
    assert json.loads(datas[-1]) == {"error": {"message": "fake mid-stream error",
                                               "type": "server_error", "code": "overloaded"}}
    resp, payload = post(up, "a", "chat/completions", chat(stream=True), conn=conn)
    items = sse_events(payload)
    assert len(items) == 1 and json.loads(items[0][1])["error"]["code"] == "overloaded"
    conn.close()


def test_truncate_body_non_stream(up):
    up.script("a", [{"truncate_body": True}])
    head, raw = raw_exchange(up, "/a/v1/chat/completions", chat())
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
                 .split(b":")[1])
    assert 0 < len(raw) < length
    up.script("a", [{"truncate_body": True}])
    with pytest.raises(http.client.IncompleteRead):
        post(up, "a", "chat/completions", chat())


def test_truncate_body_stream(up):
    up.script("a", [{"truncate_body": True}])
    head, raw = raw_exchange(up, "/a/v1/chat/completions", chat("one two three", stream=True))
    payload, terminated = dechunk(raw)
    assert not terminated
    assert not payload.endswith(b"\n\n")  # cut in the middle of an event
    assert b"[DONE]" not in payload


def test_delay_headers_ms(up):
    up.script("a", [{"delay_headers_ms": 300}])
    t0 = time.monotonic()
    r, _ = post(up, "a", "chat/completions", chat())
    assert r.status == 200 and time.monotonic() - t0 >= 0.25


def test_chunk_delay_ms(up):
    up.script("a", [{"chunk_delay_ms": 40}])
    t0 = time.monotonic()
    r, payload = post(up, "a", "chat/completions", chat("a b", stream=True))
    # 5 data events after the first: >= 200 ms
    assert time.monotonic() - t0 >= 0.18
    assert content_of(data_events(payload)) == "echo: a b"


def test_close_connection(up):
    up.script("a", [{"close_connection": True}])
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    r, body = post(up, "a", "chat/completions", chat(), conn=conn)
    assert r.status == 200 and r.getheader("Connection") == "close"
    assert json.loads(body)["choices"][0]["message"]["content"].startswith("echo:")
    assert r.will_close
    # raw check: the server closes the socket after a (complete) stream
    up.script("a", [{"close_connection": True}])
    head, raw = raw_exchange(up, "/a/v1/chat/completions", chat(stream=True))
    payload, terminated = dechunk(raw)
    assert terminated and data_events(payload)[-1] == "[DONE]"


def test_hang(up):
    up.script("a", [{"hang": True}])
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        post(up, "a", "chat/completions", chat(), timeout=0.3)
    assert time.monotonic() - t0 < 2
    r, _ = post(up, "a", "chat/completions", chat())
    assert r.status == 200


# ----------------------------------------------------------------------------------------------
# process lifecycle


def _spawn(*extra):
    p = subprocess.Popen([sys.executable, SERVER, "--port", "0", *extra],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = p.stdout.readline().decode()
    assert line.startswith("PORT ") and int(line.split()[1]) > 0
    return p, int(line.split()[1])


def test_exit_on_stdin_eof():
    p, _ = _spawn("--exit-on-stdin-eof")
    p.stdin.close()
    assert p.wait(timeout=5) == 0
    p.stdout.close()


def test_exit_on_sigterm_while_hanging():
    p, port = _spawn()
    try:
        data = json.dumps({"entries": [{"hang": True}]}).encode()
        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/_control/h/script", data=data, method="POST"), timeout=5)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        body = json.dumps(chat()).encode()
        s.sendall(b"POST /h/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        time.sleep(0.2)  # the request is now hanging in a handler thread
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=5) == 0
        assert s.recv(100) == b""  # closed without an answer
        s.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()
        p.stdout.close()


def test_refuses_non_loopback():
    r = subprocess.run([sys.executable, SERVER, "--host", "0.0.0.0"], capture_output=True,
                       timeout=10)
    assert r.returncode != 0 and r.stdout == b""


# ----------------------------------------------------------------------------------------------
# stall_after_chunks / stall_ms, for every protocol


# One streamed chat request per wire protocol: (path after the scope, extra headers, body,
# whether frames are NDJSON lines rather than SSE `data:` events).
STREAM_REQUESTS = {
    "openai": ("/v1/chat/completions", {"Authorization": "Bearer k"},
               {"model": "m", "messages": [{"role": "user", "content": "one two three"}], "stream": True}, False),
    "anthropic": ("/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"},
                  {"model": "m", "max_tokens": 100, "stream": True,
                   "messages": [{"role": "user", "content": "one two three"}]}, False),
    "gemini": ("/v1beta/models/m:streamGenerateContent?alt=sse", {"x-goog-api-key": "k"},
               {"contents": [{"role": "user", "parts": [{"text": "one two three"}]}]}, False),
    "ollama": ("/api/chat", {}, {"model": "m", "messages": [{"role": "user", "content": "one two three"}]}, True),
    "cohere": ("/v2/chat", {"Authorization": "Bearer k"},
               {"model": "m", "messages": [{"role": "user", "content": "one two three"}], "stream": True}, False),
    "azure": ("/openai/deployments/d1/chat/completions?api-version=2024-10-21", {"api-key": "k"},
              {"messages": [{"role": "user", "content": "one two three"}], "stream": True}, False),
}


def frame_count(payload, ndjson):
    if ndjson:
        return payload.count(b"\n")
    return len([l for l in payload.split(b"\n") if l.startswith(b"data:")])


def timed_stream(port, scope, proto, read_timeout=3.0):
    """Sends PROTO's stream request on a raw socket; returns [(seconds since send, bytes)] until
    the body ends, the server drops the socket, or nothing arrives for `read_timeout`
    (then the last item is (t, None) and the socket is left open: the caller closes it)."""
    path, headers, body, _ = STREAM_REQUESTS[proto]
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
    s.sendall(b"POST /%s%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s"
              b"Content-Length: %d\r\n\r\n%s" % (scope.encode(), path.encode(), head, len(data), data))
    t0 = time.monotonic()
    out = []
    while True:
        try:
            got = s.recv(65536)
        except socket.timeout:
            out.append((time.monotonic() - t0, None))
            return s, out
        except ConnectionResetError:
            break
        if not got:
            break
        out.append((time.monotonic() - t0, got))
        if b"\r\n0\r\n\r\n" in b"".join(g for _, g in out if g):
            break
    s.close()
    return None, out


def payload_of(items):
    raw = b"".join(g for _, g in items if g)
    return dechunk(raw.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize("proto", sorted(STREAM_REQUESTS))
def test_stall_after_chunks_with_stall_ms_resumes(up, proto):
    up.script("s", [{"stall_after_chunks": 2, "stall_ms": 400}])
    sock, items = timed_stream(up.port, "s", proto)
    assert sock is None
    payload, terminated = payload_of(items)
    assert terminated  # the stream went on to its normal end
    ndjson = STREAM_REQUESTS[proto][3]
    # Two frames arrived before the pause, the rest after it.
    before = b"".join(g for t, g in items if t < 0.3)
    assert frame_count(dechunk(before.partition(b"\r\n\r\n")[2])[0], ndjson) == 2
    assert items[-1][0] >= 0.35
    assert frame_count(payload, ndjson) > 2
    assert up.requests("s")[0]["fault"] == {"stall_after_chunks": 2, "stall_ms": 400}


@pytest.mark.parametrize("proto", sorted(STREAM_REQUESTS))
def test_stall_after_chunks_hangs_until_the_client_leaves(up, proto):
    up.script("s", [{"stall_after_chunks": 1}])
    sock, items = timed_stream(up.port, "s", proto, read_timeout=0.3)
    assert sock is not None and items[-1][1] is None  # nothing more came
    payload, terminated = payload_of(items[:-1])
    assert not terminated
    assert frame_count(payload, STREAM_REQUESTS[proto][3]) == 1
    sock.close()  # the handler notices and drops the connection
    sock, items = timed_stream(up.port, "s", proto)  # the next request is served normally
    assert sock is None and payload_of(items)[1]


def test_stall_keys_validated(up):
    with pytest.raises(RuntimeError, match="stall_ms needs stall_after_chunks"):
        up.script("s", [{"stall_ms": 100}])
    with pytest.raises(RuntimeError, match="non-negative integer"):
        up.script("s", [{"stall_after_chunks": -1}])


def test_stall_after_chunks_is_ignored_without_a_stream(up):
    up.script("a", [{"stall_after_chunks": 0}])
    r, body = post(up, "a", "chat/completions", chat("not streamed"))
    assert r.status == 200 and json.loads(body)["choices"][0]["message"]["content"] == "echo: not streamed"


# ----------------------------------------------------------------------------------------------
# --tls-cert / --tls-key


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    from upstream import self_signed_certificate
    cert, key = self_signed_certificate(str(tmp_path_factory.mktemp("tls")))
    with FakeUpstream(tls=(cert, key)) as up:
        yield up, cert


@pytest.mark.parametrize("proto", sorted(STREAM_REQUESTS))
def test_tls_mode_serves_every_protocol(tls_server, proto):
    import ssl
    up, cert = tls_server
    assert up.url.startswith("https://127.0.0.1:")
    up.reset()
    up.script("t", [{"disconnect_after_chunks": 2}])
    path, headers, body, ndjson = STREAM_REQUESTS[proto]
    ctx = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection("127.0.0.1", up.port, timeout=5, context=ctx)
    try:
        conn.request("POST", "/t" + path, body=json.dumps(body),
                     headers=dict(headers, **{"Content-Type": "application/json"}))
        with pytest.raises((http.client.IncompleteRead, ConnectionError, ssl.SSLError)):
            conn.getresponse().read()  # the fault vocabulary works over TLS too
    finally:
        conn.close()
    conn = http.client.HTTPSConnection("127.0.0.1", up.port, timeout=5, context=ctx)
    try:
        conn.request("POST", "/t" + path, body=json.dumps(body),
                     headers=dict(headers, **{"Content-Type": "application/json"}))
        resp = conn.getresponse()
        assert resp.status == 200 and frame_count(resp.read(), ndjson) > 2
    finally:
        conn.close()
    assert len(up.requests("t")) == 2


def test_tls_mode_refused_by_a_verifying_client(tls_server):
    import ssl
    up, _ = tls_server
    up.reset()
    conn = http.client.HTTPSConnection("127.0.0.1", up.port, timeout=5,
                                       context=ssl.create_default_context())
    with pytest.raises(ssl.SSLCertVerificationError):
        conn.request("GET", "/t/v1/models")
    conn.close()
    assert up.requests("t") == []  # no request got through the failed handshake
    assert up.health()  # and the server goes on


def test_tls_options_go_together():
    r = subprocess.run([sys.executable, SERVER, "--tls-cert", "x.pem"], capture_output=True, timeout=10)
    assert r.returncode != 0 and b"go together" in r.stderr


def test_echo_credentials_in_successful_answers(up):
    """``echo_credentials`` without ``status``: the credentials in the normal answer (reply,
    stream deltas, tool-call arguments, model list), for the library's masking tests."""
    up.script("echo", [{"echo_credentials": True, "times": 4}])
    auth = {"Authorization": "Bearer sk-fake-echo-123456", "Content-Type": "application/json"}

    def call(method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=auth)
            return conn.getresponse().read()
        finally:
            conn.close()

    plain = json.loads(call("POST", "/echo/v1/chat/completions", chat("hi")))
    assert plain["choices"][0]["message"]["content"] == \
        "echo: hi (credentials received: authorization: Bearer sk-fake-echo-123456)"
    streamed = content_of([d for k, d in sse_events(call("POST", "/echo/v1/chat/completions", chat("hi", stream=True))) if k == "data"])
    assert streamed.endswith("Bearer sk-fake-echo-123456)")
    tools = [{"type": "function", "function": {"name": "get_weather"}}]
    args = json.loads(json.loads(call("POST", "/echo/v1/chat/completions", chat("weather?", tools=tools)))
                      ["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    assert args == {"city": "Paris", "credentials": "authorization: Bearer sk-fake-echo-123456"}
    ids = [m["id"] for m in json.loads(call("GET", "/echo/v1/models"))["data"]]
    assert ids[-1] == "echo authorization: Bearer sk-fake-echo-123456"
    # The entry is used up: the next answer is the normal one.
    assert json.loads(call("POST", "/echo/v1/chat/completions", chat("hi")))["choices"][0]["message"]["content"] == "echo: hi"
