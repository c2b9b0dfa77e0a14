# SPDX-License-Identifier: Apache-2.0
"""What each wire protocol's upstream says, as chaos-upstream answers with any number in any
field. The framing (SSE frames, Anthropic/Cohere `event:` lines, Gemini's CRLF, Ollama's NDJSON)
is the fake upstream's own (Tests/upstream/fake_upstream.py and protocols/*.py); the shapes
follow the same API references.

A field is a dotted path into the answer document (`usage.prompt_tokens`) or into one stream
event (`(3, "usage.prompt_tokens")`); list indexes are numbers in the path
(`choices.0.index`). A value is the raw JSON literal to put there (`"1e999"`, 40 digits...),
written into the serialized text, so values no JSON encoder produces still reach the library.
"""

from __future__ import annotations

import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
UPSTREAM = os.path.join(os.path.dirname(HERE), "upstream")
if UPSTREAM not in sys.path:
    sys.path.insert(0, UPSTREAM)

import fake_upstream as fu  # noqa: E402
from protocols import anthropic as fu_anthropic  # noqa: E402
from protocols import cohere as fu_cohere  # noqa: E402
from protocols import gemini as fu_gemini  # noqa: E402
from protocols import ollama as fu_ollama  # noqa: E402

INT64_MAX = "9223372036854775807"
EXTREMES = {
    "int64_max": INT64_MAX,
    "int64_max_plus_1": "9223372036854775808",
    "minus_1": "-1",
    "1e308": "1e308",
    "1e999": "1e999",
    "nan_string": '"NaN"',
    "inf_string": '"Infinity"',
    "digits40": "1234567890123456789012345678901234567890",
    "minus_digits40": "-1234567890123456789012345678901234567890",
    "fraction": "0.5",
}
HOLE = "@@hostile@@"  # the placeholder string a raw literal replaces


def set_path(doc, path: str, value) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        if isinstance(doc, list):
            doc = doc[int(k)]
        else:
            doc = doc.setdefault(k, {})
    last = keys[-1]
    if isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


def with_raw(doc, path: str | None, literal: str | None) -> dict:
    """A deep copy of ``doc`` with ``path`` holding the placeholder (replaced by ``fill``)."""
    doc = copy.deepcopy(doc)
    if path is not None:
        set_path(doc, path, HOLE)
    return doc


def fill(data: bytes, literal: str | None) -> bytes:
    if literal is None:
        return data
    return data.replace(json.dumps(HOLE).encode(), literal.encode())


# ---------------------------------------------------------------------------------------------
# The protocols
# ---------------------------------------------------------------------------------------------

class Proto:
    name = ""
    type = ""
    content_type = "text/event-stream"
    stream_tail = b""
    answer_fields: list[str] = []
    stream_fields: list[tuple[int, str]] = []
    embed_fields: list[str] = []

    def base_url(self, url: str, scope: str) -> str:
        return f"{url}/{scope}"

    def frame(self, event: dict) -> bytes:
        raise NotImplementedError

    def answer(self) -> dict:
        raise NotImplementedError

    def stream(self) -> list[dict]:
        raise NotImplementedError

    def embedding(self) -> dict | None:
        return None

    def models(self, names: list[str]) -> dict:
        raise NotImplementedError

    def error(self, message: str) -> dict:
        return {"error": {"message": message, "type": "server_error"}}

    # --- chaos-upstream answers ---
    def answer_response(self, path: str | None = None, literal: str | None = None,
                        doc: dict | None = None, **extra) -> dict:
        body = fill(json.dumps(with_raw(doc or self.answer(), path, literal)).encode(), literal)
        return {"status": 200, "headers": [["Content-Type", "application/json"]],
                "body": body.decode(), **extra}

    def stream_response(self, index: int | None = None, path: str | None = None,
                        literal: str | None = None, events: list[dict] | None = None,
                        **extra) -> dict:
        events = copy.deepcopy(events if events is not None else self.stream())
        if index is not None:
            events[index] = with_raw(events[index], path, literal)
        chunks = [fill(self.frame(e), literal).decode() for e in events]
        if self.stream_tail:
            chunks.append(self.stream_tail.decode())
        return {"status": 200, "headers": [["Content-Type", self.content_type]],
                "chunks": chunks, **extra}

    def embed_response(self, path: str | None = None, literal: str | None = None) -> dict:
        return self.answer_response(path, literal, doc=self.embedding())

    def models_response(self, names: list[str]) -> dict:
        return {"status": 200, "headers": [["Content-Type", "application/json"]],
                "body": json.dumps(self.models(names))}

    def error_response(self, status: int, message: str, headers=()) -> dict:
        return {"status": status, "headers": [["Content-Type", "application/json"], *headers],
                "body": json.dumps(self.error(message))}

    def provider(self, url: str, scope: str, key: str, **extra) -> dict:
        p = {"name": scope, "type": self.type, "base_url": self.base_url(url, scope),
             "api_key": key, "models": ["m1", "m-embed"]}
        p.update(extra)
        return p


class OpenAI(Proto):
    name = "openai"
    type = "openai-compatible"
    stream_tail = b"data: [DONE]\n\n"
    answer_fields = ["usage.prompt_tokens", "usage.completion_tokens", "usage.total_tokens",
                     "usage.prompt_tokens_details.cached_tokens",
                     "usage.completion_tokens_details.reasoning_tokens", "usage.cost",
                     "usage.cost_usd", "choices.0.index", "created",
                     "choices.0.message.tool_calls.0.index"]
    stream_fields = [(0, "choices.0.index"), (1, "choices.0.delta.tool_calls.0.index"),
                     (3, "usage.prompt_tokens"), (3, "usage.completion_tokens"),
                     (3, "usage.total_tokens"), (3, "usage.prompt_tokens_details.cached_tokens"),
                     (3, "usage.completion_tokens_details.reasoning_tokens"), (3, "usage.cost"),
                     (3, "usage.cost_usd"), (2, "created")]
    embed_fields = ["data.0.index", "usage.prompt_tokens", "usage.total_tokens"]

    def base_url(self, url, scope):
        return f"{url}/{scope}/v1"

    def frame(self, event):
        return fu.sse(event)

    def answer(self):
        return {"id": "chatcmpl-h", "object": "chat.completion", "created": 1700000000,
                "model": "m1", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": "hello", "tool_calls": [
                        {"index": 0, "id": "call_1", "type": "function",
                         "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                          "prompt_tokens_details": {"cached_tokens": 1},
                          "completion_tokens_details": {"reasoning_tokens": 0}}}

    def chunk(self, delta, finish=None, usage=None, choices=True):
        return {"id": "chatcmpl-h", "object": "chat.completion.chunk", "created": 1700000000,
                "model": "m1",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
                "usage": usage}

    def stream(self):
        return [self.chunk({"role": "assistant", "content": "hel"}),
                self.chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                            "function": {"name": "f", "arguments": "{}"}}]}),
                self.chunk({"content": "lo"}, "stop"),
                self.chunk({}, usage={"prompt_tokens": 3, "completion_tokens": 2,
                                      "total_tokens": 5,
                                      "prompt_tokens_details": {"cached_tokens": 1},
                                      "completion_tokens_details": {"reasoning_tokens": 0}},
                           choices=False)]

    def embedding(self):
        return {"object": "list", "model": "m-embed",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2}}

    def models(self, names):
        return {"object": "list", "data": [{"id": n, "object": "model", "owned_by": "x"}
                                           for n in names]}


class Anthropic(Proto):
    name = "anthropic"
    type = "anthropic"
    answer_fields = ["usage.input_tokens", "usage.output_tokens",
                     "usage.cache_creation_input_tokens", "usage.cache_read_input_tokens"]
    stream_fields = [(0, "message.usage.input_tokens"), (0, "message.usage.output_tokens"),
                     (0, "message.usage.cache_creation_input_tokens"),
                     (0, "message.usage.cache_read_input_tokens"), (1, "index"), (2, "index"),
                     (4, "usage.output_tokens"), (4, "usage.input_tokens")]

    def frame(self, event):
        return fu_anthropic.event(event)

    def answer(self):
        return {"id": "msg_h", "type": "message", "role": "assistant", "model": "m1",
                "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 2,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1}}

    def stream(self):
        return [{"type": "message_start", "message": {
                    "id": "msg_h", "type": "message", "role": "assistant", "model": "m1",
                    "content": [], "stop_reason": None, "stop_sequence": None,
                    "usage": {"input_tokens": 3, "output_tokens": 1,
                              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1}}},
                {"type": "content_block_start", "index": 0,
                 "content_block": {"type": "text", "text": ""}},
                {"type": "content_block_delta", "index": 0,
                 "delta": {"type": "text_delta", "text": "hello"}},
                {"type": "content_block_stop", "index": 0},
                {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                    "stop_sequence": None},
                 "usage": {"output_tokens": 2}},
                {"type": "message_stop"}]

    def models(self, names):
        return {"data": [{"type": "model", "id": n, "display_name": n,
                          "created_at": "2025-01-01T00:00:00Z"} for n in names],
                "has_more": False, "first_id": None, "last_id": None}

    def error(self, message):
        return {"type": "error", "error": {"type": "api_error", "message": message}}


class Gemini(Proto):
    name = "gemini"
    type = "gemini"
    answer_fields = ["usageMetadata.promptTokenCount", "usageMetadata.candidatesTokenCount",
                     "usageMetadata.totalTokenCount", "usageMetadata.cachedContentTokenCount",
                     "usageMetadata.thoughtsTokenCount", "candidates.0.index"]
    stream_fields = [(0, "usageMetadata.promptTokenCount"), (1, "candidates.0.index"),
                     (1, "usageMetadata.promptTokenCount"),
                     (1, "usageMetadata.candidatesTokenCount"),
                     (1, "usageMetadata.totalTokenCount"),
                     (1, "usageMetadata.cachedContentTokenCount"),
                     (1, "usageMetadata.thoughtsTokenCount")]
    embed_fields = ["embedding.values.0"]

    def frame(self, event):
        return fu_gemini.sse(event)

    def response(self, text, finish=None, usage=None):
        cand = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        out = {"candidates": [cand], "modelVersion": "m1", "responseId": "r1"}
        if usage:
            out["usageMetadata"] = usage
        return out

    def usage(self):
        return {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5,
                "cachedContentTokenCount": 1, "thoughtsTokenCount": 0}

    def answer(self):
        return self.response("hello", "STOP", self.usage())

    def stream(self):
        return [self.response("hel", None, {"promptTokenCount": 3, "totalTokenCount": 3}),
                self.response("lo", "STOP", self.usage())]

    def embedding(self):
        return {"embedding": {"values": [0.1, 0.2, 0.3]}}

    def models(self, names):
        return {"models": [{"name": "models/" + n, "displayName": n, "inputTokenLimit": 1000,
                            "outputTokenLimit": 100,
                            "supportedGenerationMethods": ["generateContent"]} for n in names]}

    def error(self, message):
        return {"error": {"code": 500, "message": message, "status": "INTERNAL"}}


class Ollama(Proto):
    name = "ollama"
    type = "ollama"
    content_type = fu_ollama.NDJSON
    answer_fields = ["prompt_eval_count", "eval_count", "eval_duration", "total_duration",
                     "prompt_eval_duration", "load_duration"]
    stream_fields = [(1, "prompt_eval_count"), (1, "eval_count"), (1, "eval_duration"),
                     (1, "total_duration"), (1, "prompt_eval_duration"), (1, "load_duration")]
    embed_fields = ["prompt_eval_count", "total_duration"]

    def frame(self, event):
        return fu_ollama.line(event)

    def done(self, content):
        return {"model": "m1", "created_at": "2025-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": content}, "done": True,
                "done_reason": "stop", "total_duration": 1000000, "load_duration": 1000,
                "prompt_eval_count": 3, "prompt_eval_duration": 1000, "eval_count": 2,
                "eval_duration": 500000}

    def answer(self):
        return self.done("hello")

    def stream(self):
        return [{"model": "m1", "created_at": "2025-01-01T00:00:00Z",
                 "message": {"role": "assistant", "content": "hello"}, "done": False},
                self.done("")]

    def embedding(self):
        return {"model": "m-embed", "embeddings": [[0.1, 0.2, 0.3]], "total_duration": 1000,
                "load_duration": 10, "prompt_eval_count": 2}

    def models(self, names):
        return {"models": [{"name": n, "model": n, "modified_at": "2025-01-01T00:00:00Z",
                            "size": 1, "digest": "0" * 64, "details": {}} for n in names]}

    def error(self, message):
        return {"error": message}


class Cohere(Proto):
    name = "cohere"
    type = "cohere"
    answer_fields = ["usage.billed_units.input_tokens", "usage.billed_units.output_tokens",
                     "usage.tokens.input_tokens", "usage.tokens.output_tokens"]
    stream_fields = [(4, "delta.usage.billed_units.input_tokens"),
                     (4, "delta.usage.billed_units.output_tokens"),
                     (4, "delta.usage.tokens.input_tokens"),
                     (4, "delta.usage.tokens.output_tokens"), (1, "index"), (2, "index")]
    embed_fields = ["meta.billed_units.input_tokens"]

    def frame(self, event):
        return fu_cohere.sse_event(event)

    def usage(self):
        return {"billed_units": {"input_tokens": 3, "output_tokens": 2},
                "tokens": {"input_tokens": 3, "output_tokens": 2}}

    def answer(self):
        return {"id": "c1", "message": {"role": "assistant",
                                        "content": [{"type": "text", "text": "hello"}]},
                "finish_reason": "COMPLETE", "usage": self.usage()}

    def stream(self):
        return [{"id": "c1", "type": "message-start", "delta": {"message": {
                    "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [],
                    "citations": []}}},
                {"type": "content-start", "index": 0, "delta": {"message": {
                    "content": {"type": "text", "text": ""}}}},
                {"type": "content-delta", "index": 0, "delta": {"message": {
                    "content": {"text": "hello"}}}},
                {"type": "content-end", "index": 0},
                {"type": "message-end", "delta": {"finish_reason": "COMPLETE",
                                                  "usage": self.usage()}}]

    def embedding(self):
        return {"id": "e1", "embeddings": {"float": [[0.1, 0.2, 0.3]]}, "texts": ["x"],
                "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": 2}},
                "response_type": "embeddings_by_type"}

    def models(self, names):
        return {"models": [{"name": n, "endpoints": ["chat"], "finetuned": False,
                            "context_length": 128000, "features": []} for n in names],
                "next_page_token": None}

    def error(self, message):
        return {"id": "e", "message": message}


PROTOCOLS = {p.name: p for p in (OpenAI(), Anthropic(), Gemini(), Ollama(), Cohere())}
