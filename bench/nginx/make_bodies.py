#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the fixed upstream bodies nginx serves for the benchmarks.

Usage: make_bodies.py HTML_DIR

Every path answers any method (nginx.conf maps 405 to 200 on the same file), so the URL path
alone decides the answer. Each content chunk is the short word "tok " so that per-chunk cost
dominates the measurement.
"""
import json
import os
import sys

MODEL = "bench-model"
WORD = "tok "
CREATED = 1700000000


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def chat_completion():
    return compact({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": CREATED, "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the bench upstream."},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17},
    }) + "\n"


def openai_sse(chunks):
    out = []
    for i in range(chunks):
        delta = {"role": "assistant", "content": WORD} if i == 0 else {"content": WORD}
        out.append("data: " + compact({
            "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}) + "\n\n")
    out.append("data: " + compact({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": chunks, "total_tokens": 10 + chunks}}) + "\n\n")
    out.append("data: [DONE]\n\n")
    return "".join(out)


def anthropic_sse(chunks):
    def ev(name, obj):
        return "event: " + name + "\ndata: " + compact(obj) + "\n\n"
    out = [ev("message_start", {"type": "message_start", "message": {
        "id": "msg_bench", "type": "message", "role": "assistant", "content": [], "model": MODEL,
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ev("content_block_start", {"type": "content_block_start", "index": 0,
                                   "content_block": {"type": "text", "text": ""}})]
    for _ in range(chunks):
        out.append(ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                              "delta": {"type": "text_delta", "text": WORD}}))
    out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(ev("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                    "usage": {"output_tokens": chunks}}))
    out.append(ev("message_stop", {"type": "message_stop"}))
    return "".join(out)


def ollama_ndjson(chunks):
    out = []
    for _ in range(chunks):
        out.append(compact({"model": MODEL, "created_at": "2024-01-01T00:00:00Z",
                            "message": {"role": "assistant", "content": WORD}, "done": False}) + "\n")
    out.append(compact({"model": MODEL, "created_at": "2024-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                        "total_duration": 1000000, "load_duration": 1000, "prompt_eval_count": 10,
                        "prompt_eval_duration": 1000, "eval_count": chunks, "eval_duration": 1000000}) + "\n")
    return "".join(out)


def gemini_sse(chunks):
    # Every event is a whole GenerateContentResponse with usageMetadata (as the API sends);
    # the last one carries finishReason and no [DONE] follows.
    def ev(text, finish=None, out_tokens=1):
        cand = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        return "data: " + compact({
            "candidates": [cand],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": out_tokens,
                              "totalTokenCount": 10 + out_tokens},
            "modelVersion": MODEL, "responseId": "bench-response"}) + "\n\n"
    out = [ev(WORD, out_tokens=i + 1) for i in range(chunks)]
    out.append(ev("", finish="STOP", out_tokens=chunks))
    return "".join(out)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    root = sys.argv[1]
    write(root, "v1/chat/completions", chat_completion())
    for n in (16, 256, 4096):
        write(root, "sse%d/v1/chat/completions" % n, openai_sse(n))
    # 256 chunks at the bare prefix (bench/c/latency.c); 16 beside it for instruction counts,
    # whose per-chunk figure is the difference of the two.
    for n, tag in ((256, ""), (16, "16")):
        write(root, "anthropic%s/v1/messages" % tag, anthropic_sse(n))
        write(root, "ollama%s/api/chat" % tag, ollama_ndjson(n))
        write(root, "gemini%s/v1beta/models/bench-model:streamGenerateContent" % tag, gemini_sse(n))


if __name__ == "__main__":
    main()
