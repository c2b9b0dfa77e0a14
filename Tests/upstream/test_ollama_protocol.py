# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's Ollama handler (protocols/ollama.py).

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import json
import socket

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                           "parameters": {"type": "object"}}},
         {"type": "function", "function": {"name": "other"}}]


def call(up, method, path, body=None, headers=None):
    return up.send(method, path, body, headers)


def chat_body(text="hello there world", stream=None, **extra):
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": text}]}
    if stream is not None:
        body["stream"] = stream
    body.update(extra)
    return body


def ndjson(raw: bytes):
    """Lines as parsed objects (raw bytes for a line that is not JSON)."""
    out = []
    for ln in raw.split(b"\n"):
        if not ln.strip():
            continue
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append(ln)
    return out


def test_plain_chat(up):
    r, b = call(up, "POST", "/ol/api/chat", chat_body(stream=False), {"Authorization": "Bearer proxy-key"})
    assert r.status == 200 and r.getheader("Content-Type") == "application/json"
    obj = json.loads(b)
    assert obj["message"] == {"role": "assistant", "content": "echo: hello there world"}
    assert obj["done"] is True and obj["done_reason"] == "stop"
    assert obj["model"] == "llama3.2" and obj["created_at"].endswith("Z")
    assert obj["prompt_eval_count"] == 3 and obj["eval_count"] == 4
    assert all(isinstance(obj[k], int) for k in ("total_duration", "load_duration", "eval_duration"))
    log = up.requests("ol")
    assert log[0]["path"] == "/ol/api/chat" and log[0]["headers"]["authorization"] == "Bearer proxy-key"


def test_streams_by_default_ndjson_word_by_word(up):
    r, b = call(up, "POST", "/ol/api/chat", chat_body("a b c"))  # no "stream": Ollama streams
    assert r.status == 200 and r.getheader("Content-Type") == "application/x-ndjson"
    assert r.getheader("Transfer-Encoding") == "chunked"
    lines = ndjson(b)
    assert [ln["done"] for ln in lines] == [False] * 4 + [True]
    assert "".join(ln["message"]["content"] for ln in lines) == "echo: a b c"
    assert all(ln["message"]["role"] == "assistant" for ln in lines)
    last = lines[-1]
    assert last["done_reason"] == "stop" and last["prompt_eval_count"] == 3 and last["eval_count"] == 4
    assert b.endswith(b"\n") and b"data:" not in b


def test_tool_call_plain_and_streamed_arguments_are_objects(up):
    obj = json.loads(call(up, "POST", "/ol/api/chat", chat_body("weather in Paris?", stream=False, tools=TOOLS))[1])
    assert obj["message"]["content"] == ""
    assert obj["message"]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    assert obj["done_reason"] == "stop"  # Ollama says stop for tool calls too

    lines = ndjson(call(up, "POST", "/ol/api/chat", chat_body("weather in Paris?", stream=True, tools=TOOLS))[1])
    assert len(lines) == 2
    assert lines[0]["message"]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    assert lines[1]["done"] is True and lines[1]["done_reason"] == "stop"
    # no tools, or no "weather": plain text
    assert "tool_calls" not in json.loads(call(up, "POST", "/ol/api/chat", chat_body("weather?", stream=False))[1])["message"]


def test_num_predict_and_stop(up):
    obj = json.loads(call(up, "POST", "/ol/api/chat", chat_body("one two three four", stream=False,
                                                              options={"num_predict": 2}))[1])
    assert obj["message"]["content"] == "echo: one " and obj["done_reason"] == "length" and obj["eval_count"] == 2
    obj = json.loads(call(up, "POST", "/ol/api/chat", chat_body("one two STOP three", stream=False,
                                                              options={"stop": ["STOP"]}))[1])
    assert obj["message"]["content"] == "echo: one two " and obj["done_reason"] == "stop"


def test_refuses_what_ollama_cannot_decode(up):
    bad = [
        ({"messages": [{"role": "user", "content": "x"}]}, "model is required"),
        (chat_body(messages=[{"role": "user", "content": [{"type": "text", "text": "x"}]}]), "cannot unmarshal array"),
        (chat_body(messages=[{"role": "user", "content": "x", "images": ["not base64!"]}]), "illegal base64"),
        (chat_body(messages=[{"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "f", "arguments": '{"a":1}'}}]}]), "cannot unmarshal string"),
        (chat_body(format="yaml"), "invalid format"),
    ]
    for body, text in bad:
        r, b = call(up, "POST", "/ol/api/chat", dict(body, stream=False))
        assert r.status == 400, body
        assert text in json.loads(b)["error"], (body, b)
    good = chat_body(stream=False, format={"type": "object"},
                     messages=[{"role": "user", "content": "look", "images": ["iVBORw0KGgo="]},
                               {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]},
                               {"role": "tool", "content": "ok", "tool_name": "f"},
                               {"role": "user", "content": "again"}])
    r, b = call(up, "POST", "/ol/api/chat", good)
    assert r.status == 200 and json.loads(b)["message"]["content"] == "echo: again"


def test_embed(up):
    r, b = call(up, "POST", "/ol/api/embed", {"model": "nomic-embed-text", "input": ["alpha", "beta gamma"]})
    obj = json.loads(b)
    assert r.status == 200 and obj["model"] == "nomic-embed-text"
    assert len(obj["embeddings"]) == 2 and all(len(v) == 8 for v in obj["embeddings"])
    assert obj["embeddings"][0] != obj["embeddings"][1] and obj["prompt_eval_count"] == 3
    one = json.loads(call(up, "POST", "/ol/api/embed", {"model": "m", "input": "alpha"})[1])
    assert one["embeddings"] == [obj["embeddings"][0]]
    assert call(up, "POST", "/ol/api/embed", {"model": "m", "input": 5})[0].status == 400


def test_tags_show_ps_pull_delete_version(up):
    tags = json.loads(call(up, "GET", "/ol/api/tags")[1])["models"]
    assert [m["name"] for m in tags] == ["fake-small", "fake-large"]
    assert set(tags[0]) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert tags[0]["details"]["family"] == "llama"

    show = json.loads(call(up, "POST", "/ol/api/show", {"model": "fake-small"})[1])
    assert show["model_info"]["general.architecture"] == "llama"
    assert show["model_info"]["llama.context_length"] == 131072
    assert show["capabilities"] == ["completion", "tools"]
    r, b = call(up, "POST", "/ol/api/show", {"model": "nope"})
    assert r.status == 404 and json.loads(b) == {"error": "model 'nope' not found"}

    assert json.loads(call(up, "GET", "/ol/api/ps")[1]) == {"models": []}
    call(up, "POST", "/ol/api/chat", chat_body(stream=False))
    ps = json.loads(call(up, "GET", "/ol/api/ps")[1])["models"]
    assert [m["name"] for m in ps] == ["llama3.2"] and ps[0]["context_length"] == 4096

    r, b = call(up, "POST", "/ol/api/pull", {"model": "qwen3:8b"})
    assert r.getheader("Content-Type") == "application/x-ndjson"
    lines = ndjson(b)
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"status": "success"}
    assert any(ln.get("completed") == ln.get("total") and "digest" in ln for ln in lines)
    assert "qwen3:8b" in [m["name"] for m in json.loads(call(up, "GET", "/ol/api/tags")[1])["models"]]
    lines = ndjson(call(up, "POST", "/ol/api/pull", {"model": "missing-model"})[1])
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    r, b = call(up, "POST", "/ol/api/pull", {"model": "missing-model", "stream": False})
    assert r.status == 500 and "file does not exist" in json.loads(b)["error"]

    r, b = call(up, "DELETE", "/ol/api/delete", {"model": "qwen3:8b"})
    assert r.status == 200 and b == b""
    assert "qwen3:8b" not in [m["name"] for m in json.loads(call(up, "GET", "/ol/api/tags")[1])["models"]]
    r, b = call(up, "DELETE", "/ol/api/delete", {"model": "qwen3:8b"})
    assert r.status == 404 and json.loads(b) == {"error": "model 'qwen3:8b' not found"}

    assert json.loads(call(up, "GET", "/ol/api/version")[1]) == {"version": "0.12.6"}


def test_models_set_by_id_or_in_tags_shape(up):
    up.set_models("ol", [{"id": "custom-1"}, {"name": "raw:latest", "model": "raw:latest", "size": 1,
                                              "details": {"family": "gemma3"}}])
    tags = json.loads(call(up, "GET", "/ol/api/tags")[1])["models"]
    assert [m["name"] for m in tags] == ["custom-1", "raw:latest"]
    assert tags[1] == {"name": "raw:latest", "model": "raw:latest", "size": 1, "details": {"family": "gemma3"}}


# --- the fault vocabulary in Ollama's shapes ---

def test_status_fault_uses_ollama_error_shape(up):
    up.script("ol", [{"status": 429, "retry_after": 1}, {"status": 404, "message": 'model "x" not found, try pulling it first'}])
    r, b = call(up, "POST", "/ol/api/chat", chat_body())
    assert r.status == 429 and r.getheader("Retry-After") == "1"
    assert json.loads(b) == {"error": "fake fault 429"}
    r, b = call(up, "POST", "/ol/api/chat", chat_body())
    assert r.status == 404 and json.loads(b) == {"error": 'model "x" not found, try pulling it first'}


def test_malformed_line(up):
    up.script("ol", [{"malformed_chunk_at": 1}])
    lines = ndjson(call(up, "POST", "/ol/api/chat", chat_body("a b c"))[1])
    assert lines[1] == b'{"message": {not json'
    assert lines[0]["message"]["content"] == "echo: " and lines[-1]["done"] is True


def test_error_event_after_chunks(up):
    up.script("ol", [{"error_event_after_chunks": 2}])
    r, b = call(up, "POST", "/ol/api/chat", chat_body("a b c"))
    assert r.status == 200
    lines = ndjson(b)
    assert len(lines) == 3 and lines[2] == {"error": "fake mid-stream error"}
    up.script("ol", [{"error_event_after_chunks": 0}])
    assert ndjson(call(up, "POST", "/ol/api/chat", chat_body("a b c"))[1]) == [{"error": "fake mid-stream error"}]


def raw_stream(up, path, body):
    """Sends one request and reads until the server closes (for faults that cut the stream)."""
    s = socket.create_connection(("127.0.0.1", up.port), timeout=5)
    try:
        data = json.dumps(body).encode()
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk
    finally:
        s.close()


def test_disconnect_and_truncate(up):
    up.script("ol", [{"disconnect_after_chunks": 2}])
    raw = raw_stream(up, "/ol/api/chat", chat_body("a b c"))
    assert b'"content": "echo: "' in raw and b'"content": "a "' in raw and b'"content": "b "' not in raw
    assert not raw.endswith(b"0\r\n\r\n")
    up.script("ol", [{"truncate_body": True}])
    raw = raw_stream(up, "/ol/api/chat", chat_body("a b c", stream=False))
    head, _, body = raw.partition(b"\r\n\r\n")
    length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
    assert 0 < len(body) < length


def test_pull_faults(up):
    up.script("ol", [{"error_event_after_chunks": 1}])
    assert ndjson(call(up, "POST", "/ol/api/pull", {"model": "qwen3"})[1]) == [
        {"status": "pulling manifest"}, {"error": "fake mid-stream error"}]
