# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's text-completion endpoints (protocols/completions.py, ollama_generate.py,
llamacpp_infill.py) in each vendor's wire format.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import json

from upstream import sse_frames


def ndjson(raw: bytes):
    return [json.loads(ln) for ln in raw.split(b"\n") if ln.strip()]


def test_openai_completions_plain_and_stream(up):
    resp, body = up.send("POST", "/a/v1/completions", {"model": "m", "prompt": "one two three", "max_tokens": 3})
    assert resp.status == 200
    o = json.loads(body)
    assert o["object"] == "text_completion"
    assert o["choices"] == [{"text": "echo: one two ", "index": 0, "logprobs": None, "finish_reason": "length"}]
    assert o["usage"] == {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    resp, body = up.send("POST", "/a/v1/completions", {"model": "m", "prompt": "hi", "suffix": "end", "stream": True,
                                                        "stream_options": {"include_usage": True}})
    frames = [d for _, d in sse_frames(body)]
    assert frames[-1] == "[DONE]"
    assert "".join(f["choices"][0]["text"] for f in frames[:-2]) == "echo: hi | end"
    assert frames[-3]["choices"][0]["finish_reason"] == "stop"
    assert frames[-2]["choices"] == [] and frames[-2]["usage"]["total_tokens"] == 6


def test_openai_completions_refuses_unknown_fields(up):
    resp, body = up.send("POST", "/a/v1/completions", {"model": "m", "prompt": "x", "raw": True})
    assert resp.status == 400 and "raw" in json.loads(body)["error"]["message"]
    resp, _ = up.send("POST", "/a/beta/completions", {"model": "deepseek-chat", "prompt": "x", "suffix": "y"})
    assert resp.status == 200


def test_mistral_fim_chat_shape(up):
    resp, body = up.send("POST", "/m/v1/fim/completions", {"model": "codestral", "prompt": "a b", "suffix": "c"})
    o = json.loads(body)
    assert o["object"] == "chat.completion" and o["choices"][0]["message"]["content"] == "echo: a b | c"
    resp, body = up.send("POST", "/m/v1/fim/completions", {"model": "codestral", "prompt": "a", "echo": False})
    assert resp.status == 422 and json.loads(body)["message"]["detail"][0]["loc"] == ["body", "echo"]
    resp, body = up.send("POST", "/m/v1/fim/completions", {"model": "codestral", "prompt": "a", "stream": True})
    frames = [d for _, d in sse_frames(body)]
    assert frames[-1] == "[DONE]" and frames[-2]["usage"]["completion_tokens"] == 2
    assert "".join(f["choices"][0]["delta"].get("content", "") for f in frames[:-1]) == "echo: a"


def test_ollama_generate(up):
    resp, body = up.send("POST", "/o/api/generate", {"model": "codellama", "prompt": "x y", "suffix": "z",
                                                      "stream": False, "options": {"num_predict": 2}})
    o = json.loads(body)
    assert o["response"] == "echo: x " and o["done"] is True and o["done_reason"] == "length"
    resp, body = up.send("POST", "/o/api/generate", {"model": "codellama", "prompt": "x"})
    lines = ndjson(body)
    assert "".join(ln["response"] for ln in lines) == "echo: x" and lines[-1]["done"] is True
    resp, body = up.send("POST", "/o/api/generate", {"model": "nofim", "prompt": "x", "suffix": "y", "stream": False})
    assert resp.status == 400 and "does not support insert" in json.loads(body)["error"]


def test_llamacpp_infill(up):
    resp, body = up.send("POST", "/l/infill", {"input_prefix": "def f(", "input_suffix": "pass", "n_predict": 2})
    o = json.loads(body)
    assert o["content"] == "echo: def " and o["stop"] is True and o["stop_type"] == "limit"
    assert o["tokens_predicted"] == 2 and o["tokens_evaluated"] == 3
    resp, body = up.send("POST", "/l/infill", {"input_prefix": "a", "input_suffix": "b", "stream": True})
    frames = [d for _, d in sse_frames(body)]
    assert frames[-1]["stop"] is True and "".join(f["content"] for f in frames) == "echo: a | b"
    resp, body = up.send("POST", "/l/infill", {"input_prefix": "a", "input_suffix": "b", "max_tokens": 3})
    assert resp.status == 400
