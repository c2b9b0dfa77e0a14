# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's Cohere v2 handler (protocols/cohere.py).

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import json
import socket

from upstream import sse_frames as frames

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                           "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "other"}}]


def call(up, method, path, body=None, headers=None):
    return up.send(method, path, body, {"Authorization": "Bearer co-key", **(headers or {})})


def chat_body(text="hello there world", stream=False, **extra):
    body = {"model": "command-a-03-2025", "messages": [{"role": "user", "content": text}], "stream": stream}
    body.update(extra)
    return body


def text_of(fs):
    return "".join(d["delta"]["message"]["content"]["text"] for _, d in fs if d["type"] == "content-delta")


def test_plain_chat(up):
    r, b = call(up, "POST", "/co/v2/chat", chat_body())
    assert r.status == 200
    obj = json.loads(b)
    assert obj["message"] == {"role": "assistant", "content": [{"type": "text", "text": "echo: hello there world"}]}
    assert obj["finish_reason"] == "COMPLETE"
    assert obj["usage"]["billed_units"] == {"input_tokens": 3, "output_tokens": 4}
    assert obj["usage"]["tokens"] == {"input_tokens": 67, "output_tokens": 4}
    assert obj["id"].startswith("fake-")
    log = up.requests("co")
    assert log[0]["path"] == "/co/v2/chat" and log[0]["headers"]["authorization"] == "Bearer co-key"


def test_content_parts_and_tool_results_count(up):
    body = chat_body(messages=[
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "look"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]},
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                              "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "document", "document": {"data": {"t": 1}}}]},
        {"role": "user", "content": [{"type": "text", "text": "and now"}]}])
    obj = json.loads(call(up, "POST", "/co/v2/chat", body)[1])
    assert obj["message"]["content"][0]["text"] == "echo: and now"


def test_streamed_chat_event_names_and_order(up):
    r, b = call(up, "POST", "/co/v2/chat", chat_body("a b c", stream=True))
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    fs = frames(b)
    assert [n for n, _ in fs] == [d["type"] for _, d in fs]  # event: line == data type
    assert [n for n, _ in fs] == ["message-start", "content-start"] + ["content-delta"] * 4 + [
        "content-end", "message-end"]
    assert fs[0][1]["id"].startswith("fake-")
    assert text_of(fs) == "echo: a b c"
    end = fs[-1][1]["delta"]
    assert end["finish_reason"] == "COMPLETE"
    assert end["usage"]["tokens"]["output_tokens"] == 4
    assert b"[DONE]" not in b


def test_thinking_plain_and_streamed(up):
    think = {"type": "enabled", "token_budget": 1024}
    obj = json.loads(call(up, "POST", "/co/v2/chat", chat_body("a b", thinking=think))[1])
    assert obj["message"]["content"] == [{"type": "thinking", "thinking": "thinking about: a b"},
                                         {"type": "text", "text": "echo: a b"}]
    assert obj["usage"]["tokens"]["output_tokens"] == 3 + 4  # the answer's words and the thought's
    fs = frames(call(up, "POST", "/co/v2/chat", chat_body("a b", stream=True, thinking=think))[1])
    assert [n for n, _ in fs][:3] == ["message-start", "content-start", "content-delta"]
    assert fs[1][1]["delta"]["message"]["content"] == {"type": "thinking", "thinking": ""}
    thought = "".join(d["delta"]["message"]["content"].get("thinking", "") for _, d in fs if d["type"] == "content-delta")
    assert thought == "thinking about: a b"
    assert [d["index"] for _, d in fs if d["type"] == "content-start"] == [0, 1]
    off = json.loads(call(up, "POST", "/co/v2/chat", chat_body("a b", thinking={"type": "disabled"}))[1])
    assert off["message"]["content"] == [{"type": "text", "text": "echo: a b"}]
    for bad in [{"type": "on"}, {"type": "enabled", "budget_tokens": 1024}, {"type": "enabled", "token_budget": 0}]:
        r, b = call(up, "POST", "/co/v2/chat", chat_body(thinking=bad))
        assert r.status == 400 and "thinking" in json.loads(b)["message"]


def test_tool_call_plain_and_streamed(up):
    obj = json.loads(call(up, "POST", "/co/v2/chat", chat_body("weather in Paris?", tools=TOOLS))[1])
    assert obj["finish_reason"] == "TOOL_CALL"
    assert obj["message"]["tool_calls"] == [{"id": "get_weather_fake1", "type": "function",
                                             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]
    assert "content" not in obj["message"] and obj["message"]["tool_plan"]

    fs = frames(call(up, "POST", "/co/v2/chat", chat_body("weather in Paris?", stream=True, tools=TOOLS))[1])
    names = [n for n, _ in fs]
    assert names == ["message-start", "tool-plan-delta", "tool-call-start"] + ["tool-call-delta"] * 3 + [
        "tool-call-end", "message-end"]
    start = fs[2][1]["delta"]["message"]["tool_calls"]
    assert start["id"] == "get_weather_fake1" and start["function"] == {"name": "get_weather", "arguments": ""}
    args = "".join(d["delta"]["message"]["tool_calls"]["function"]["arguments"]
                   for n, d in fs if n == "tool-call-delta")
    assert json.loads(args) == {"city": "Paris"}
    assert fs[-1][1]["delta"]["finish_reason"] == "TOOL_CALL"


def test_openai_keys_and_bad_requests_refused_in_cohere_shape(up):
    for body in (chat_body(top_p=0.5), chat_body(stop=["x"]), {"messages": [{"role": "user", "content": "x"}]},
                 chat_body(messages=[{"role": "function", "content": "x"}]),
                 chat_body(messages=[{"role": "tool", "content": "x"}]),
                 chat_body(tools=[{"type": "function"}]), b"{not json"):
        r, b = call(up, "POST", "/co/v2/chat", body)
        assert r.status == 400, body
        obj = json.loads(b)
        assert set(obj) == {"id", "message"} and obj["message"].startswith("invalid request")


def test_embed(up):
    r, b = call(up, "POST", "/co/v2/embed", {"model": "embed-v4.0", "texts": ["alpha", "beta gamma"],
                                             "input_type": "search_document", "embedding_types": ["float"]})
    assert r.status == 200
    obj = json.loads(b)
    vecs = obj["embeddings"]["float"]
    assert len(vecs) == 2 and all(len(v) == 8 for v in vecs) and vecs[0] != vecs[1]
    assert obj["meta"]["billed_units"] == {"input_tokens": 3}
    assert obj["texts"] == ["alpha", "beta gamma"]
    again = json.loads(call(up, "POST", "/co/v2/embed", {"model": "e", "texts": ["alpha"], "input_type": "search_query",
                                                         "embedding_types": ["float"]})[1])
    assert again["embeddings"]["float"][0] == vecs[0]  # deterministic
    r, _ = call(up, "POST", "/co/v2/embed", {"model": "e", "texts": ["x"], "embedding_types": ["float"]})
    assert r.status == 400  # input_type is required


def test_models_cohere_and_openai_share_the_path(up):
    obj = json.loads(call(up, "GET", "/co/v1/models?page_size=1000")[1])
    assert obj["next_page_token"] is None
    assert [m["name"] for m in obj["models"]] == ["fake-small", "fake-large"]
    assert obj["models"][0]["endpoints"] == ["chat"] and obj["models"][0]["context_length"] == 128000
    up.set_models("co", [{"name": "embed-v4.0", "endpoints": ["embed"], "context_length": 128000}])
    assert json.loads(call(up, "GET", "/co/v1/models?page_size=1000")[1])["models"] == [
        {"name": "embed-v4.0", "endpoints": ["embed"], "context_length": 128000}]
    # Without Cohere's query parameter the path is OpenAI's, answers and fault bodies alike.
    openai = json.loads(call(up, "GET", "/oa/v1/models")[1])
    assert openai["object"] == "list" and openai["data"][0]["id"] == "fake-small"
    up.script("oa", [{"status": 503}])
    r, b = call(up, "GET", "/oa/v1/models")
    assert r.status == 503 and json.loads(b)["error"]["type"] == "server_error"
    up.script("co", [{"status": 503}])
    r, b = call(up, "GET", "/co/v1/models?page_size=1000")
    assert r.status == 503 and json.loads(b) == {"id": "fake-error-503", "message": "fake fault 503"}


def test_status_fault_in_cohere_shape_with_retry_after(up):
    up.script("co", [{"status": 429, "retry_after": 1, "message": "You are using a Trial key, which is limited to 20 API calls / minute."}])
    r, b = call(up, "POST", "/co/v2/chat", chat_body(stream=True))
    assert r.status == 429 and r.getheader("Retry-After") == "1"
    assert json.loads(b) == {"id": "fake-error-429",
                             "message": "You are using a Trial key, which is limited to 20 API calls / minute."}
    assert call(up, "POST", "/co/v2/chat", chat_body())[0].status == 200


def test_malformed_and_error_event_faults(up):
    up.script("co", [{"malformed_chunk_at": 2}])
    fs = frames(call(up, "POST", "/co/v2/chat", chat_body("a b", stream=True))[1])
    assert fs[2][0] == "content-delta" and isinstance(fs[2][1], str) and "not json" in fs[2][1]
    assert fs[-1][0] == "message-end"

    up.script("co", [{"error_event_after_chunks": 3}])
    fs = frames(call(up, "POST", "/co/v2/chat", chat_body("a b", stream=True))[1])
    assert [n for n, _ in fs] == ["message-start", "content-start", "content-delta", "message-end"]
    assert fs[-1][1]["delta"] == {"error": "fake mid-stream error", "finish_reason": "ERROR"}

    up.script("co", [{"error_event_after_chunks": 0}])
    fs = frames(call(up, "POST", "/co/v2/chat", chat_body("a b", stream=True))[1])
    assert [n for n, _ in fs] == ["message-end"] and fs[0][1]["delta"]["finish_reason"] == "ERROR"


def test_disconnect_after_chunks(up):
    up.script("co", [{"disconnect_after_chunks": 3}])
    s = socket.create_connection(("127.0.0.1", up.port), timeout=5)
    body = json.dumps(chat_body("one two three four", stream=True)).encode()
    s.sendall(b"POST /co/v2/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    s.close()
    assert b"event: message-start" in raw and raw.count(b"event: content-delta") == 1
    assert b"message-end" not in raw and not raw.endswith(b"0\r\n\r\n")
