# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's OpenAI-compatible variants: protocols/azure.py, lmstudio.py, llamacpp.py.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import http.client
import json

import pytest


KEY = {"api-key": "az-key-123"}


def call(up, method, path, body=None, headers=None):
    return up.send(method, path, body, headers)


def chat_body(text="hello there world", **extra):
    body = {"messages": [{"role": "user", "content": text}]}
    body.update(extra)
    return body


def sse_events(raw: bytes):
    out = []
    for block in raw.decode().split("\n\n"):
        for ln in block.split("\n"):
            if ln.startswith("data: "):
                d = ln[6:]
                out.append(d if d == "[DONE]" else json.loads(d))
    return out


DEP = "/az/openai/deployments/gpt4o-prod"

# --- Azure ---


def test_azure_deployment_chat(up):
    r, b = call(up, "POST", DEP + "/chat/completions?api-version=2024-10-21", chat_body(), KEY)
    assert r.status == 200
    obj = json.loads(b)
    assert obj["model"] == "gpt4o-prod"
    assert obj["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello there world"}
    assert obj["prompt_filter_results"][0]["prompt_index"] == 0
    assert obj["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    log = up.requests("az")
    assert log[0]["path"] == DEP + "/chat/completions?api-version=2024-10-21"
    assert log[0]["headers"]["api-key"] == "az-key-123" and "authorization" not in log[0]["headers"]


def test_azure_deployment_stream_starts_with_prompt_filter_chunk(up):
    body = chat_body("one two", stream=True, stream_options={"include_usage": True})
    r, b = call(up, "POST", DEP + "/chat/completions?api-version=2024-10-21", body, KEY)
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    ev = sse_events(b)
    assert ev[0]["choices"] == [] and ev[0]["prompt_filter_results"]
    assert ev[-1] == "[DONE]"
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in ev[1:]
                   if isinstance(e, dict) and e["choices"])
    assert text == "echo: one two"
    assert all(e["model"] == "gpt4o-prod" for e in ev[1:-1])
    assert ev[-2]["usage"]["total_tokens"] == 5


def test_azure_stream_faults_count_the_filter_chunk(up):
    up.script("az", [{"disconnect_after_chunks": 2}])
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    conn.request("POST", DEP + "/chat/completions?api-version=v", json.dumps(chat_body(stream=True)),
                 {"Content-Type": "application/json", **KEY})
    resp = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()


def test_azure_deployment_embeddings(up):
    r, b = call(up, "POST", DEP + "/embeddings?api-version=2024-10-21", {"input": ["a", "b c"]}, KEY)
    assert r.status == 200
    obj = json.loads(b)
    assert obj["model"] == "gpt4o-prod" and len(obj["data"]) == 2
    assert len(obj["data"][0]["embedding"]) == 8


@pytest.mark.parametrize("op,body", [("chat/completions", chat_body()), ("embeddings", {"input": "x"})])
def test_azure_deployment_needs_api_version(up, op, body):
    r, b = call(up, "POST", f"{DEP}/{op}", body, KEY)
    assert r.status == 400
    err = json.loads(b)["error"]
    assert err["code"] == "MissingApiVersionParameter" and "api-version" in err["message"]
    assert set(err) == {"code", "message"}


def test_azure_v1_paths(up):
    r, b = call(up, "POST", "/az/openai/v1/chat/completions", chat_body(model="gpt-4o-mini"), KEY)
    assert r.status == 200 and json.loads(b)["model"] == "gpt-4o-mini"
    r, b = call(up, "POST", "/az/openai/v1/chat/completions", chat_body(), KEY)
    assert r.status == 400 and "model" in json.loads(b)["error"]["message"]
    r, b = call(up, "POST", "/az/openai/v1/embeddings", {"model": "te-3", "input": "x"}, KEY)
    assert r.status == 200 and json.loads(b)["model"] == "te-3"
    for path in ("/az/openai/v1/models", "/az/openai/models?api-version=2024-10-21"):
        r, b = call(up, "GET", path, None, KEY)
        assert r.status == 200
        assert [m["id"] for m in json.loads(b)["data"]] == ["fake-small", "fake-large"]


def test_azure_auth(up):
    r, _ = call(up, "POST", "/az/openai/v1/chat/completions", chat_body(model="m"),
                {"Authorization": "Bearer wrong-place"})
    assert r.status == 200
    assert up.requests("az")[0]["headers"]["authorization"] == "Bearer wrong-place"
    r, b = call(up, "POST", "/az/openai/v1/chat/completions", chat_body(model="m"))
    assert r.status == 401 and json.loads(b)["error"]["code"] == "401"


def test_azure_fault_error_shape_and_retry_after_ms(up):
    up.script("az", [{"status": 429, "retry_after_ms": 300}])
    r, b = call(up, "POST", DEP + "/chat/completions?api-version=v", chat_body(), KEY)
    assert r.status == 429 and r.getheader("retry-after-ms") == "300"
    assert json.loads(b) == {"error": {"code": "429", "message": "fake fault 429"}}


def test_azure_does_not_take_plain_openai_paths_away(up):
    r, b = call(up, "POST", "/az/v1/chat/completions", chat_body(model="x"))
    assert r.status == 200 and "prompt_filter_results" not in json.loads(b)
    r, _ = call(up, "GET", "/az/openai/deployments/x/models")
    assert r.status == 404


# --- LM Studio ---


def test_lmstudio_v0_models(up):
    r, b = call(up, "GET", "/lm/api/v0/models")
    assert r.status == 200
    obj = json.loads(b)
    assert obj["object"] == "list"
    llm, emb = obj["data"]
    assert llm == {"id": "qwen2.5-7b-instruct", "object": "model", "type": "llm",
                   "publisher": "lmstudio-community", "arch": "qwen2", "compatibility_type": "gguf",
                   "quantization": "Q4_K_M", "state": "loaded", "max_context_length": 32768}
    assert emb["id"] == "text-embedding-nomic-embed-text-v1.5"
    assert emb["type"] == "embeddings" and emb["state"] == "not-loaded"
    assert emb["max_context_length"] == 2048


def test_lmstudio_v0_single_model_and_custom_list(up):
    r, b = call(up, "GET", "/lm/api/v0/models/qwen2.5-7b-instruct")
    assert r.status == 200 and json.loads(b)["state"] == "loaded"
    r, b = call(up, "GET", "/lm/api/v0/models/nope")
    assert r.status == 404 and "nope" in json.loads(b)["error"]
    up.set_models("lm", [{"id": "llava", "type": "vlm", "state": "loaded", "max_context_length": 8192},
                         {"id": "bare"}])
    r, b = call(up, "GET", "/lm/api/v0/models")
    data = json.loads(b)["data"]
    assert data[0] == {"id": "llava", "type": "vlm", "state": "loaded", "max_context_length": 8192}
    assert data[1]["id"] == "bare" and data[1]["type"] == "llm"


def test_lmstudio_openai_routes_and_faults(up):
    r, b = call(up, "POST", "/lm/v1/chat/completions", chat_body(model="qwen2.5-7b-instruct"))
    assert r.status == 200 and json.loads(b)["choices"][0]["message"]["content"] == "echo: hello there world"
    up.script("lm", [{"status": 500}])
    r, b = call(up, "GET", "/lm/api/v0/models")
    assert r.status == 500 and json.loads(b)["error"]["type"] == "server_error"


# --- llama.cpp ---


def test_llamacpp_health_and_props(up):
    r, b = call(up, "GET", "/lc/health")
    assert r.status == 200 and json.loads(b) == {"status": "ok"}
    r, b = call(up, "GET", "/lc/props")
    assert r.status == 200
    assert json.loads(b) == {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1,
                             "model_path": "/models/x.gguf"}


def test_llamacpp_loading_503(up):
    up.script("lc", [{"status": 503}, {"status": 503, "message": "Loading model"}])
    for _ in range(2):
        r, b = call(up, "GET", "/lc/health")
        assert r.status == 503
        assert json.loads(b) == {"error": {"code": 503, "message": "Loading model",
                                           "type": "unavailable_error"}}
    r, b = call(up, "GET", "/lc/health")
    assert r.status == 200


def test_llamacpp_other_errors_and_v1(up):
    up.script("lc", [{"status": 500, "message": "boom"}])
    r, b = call(up, "GET", "/lc/props")
    assert r.status == 500 and json.loads(b)["error"] == {"code": 500, "message": "boom", "type": "server_error"}
    r, b = call(up, "POST", "/lc/v1/chat/completions", chat_body(model="x"))
    assert r.status == 200


def test_llamacpp_close_connection(up):
    up.script("lc", [{"close_connection": True}])
    r, _ = call(up, "POST", "/lc/v1/chat/completions", chat_body(model="x"))
    assert r.status == 200 and r.getheader("Connection") == "close"
