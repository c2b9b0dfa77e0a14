# SPDX-License-Identifier: Apache-2.0
"""OpenAI's Responses API for the fake upstream, in its wire format (openai-python
``types/responses``; the API reference's ``POST /responses``). Azure's paths are in
``responses_azure.py``.

| request | answer |
|---|---|
| ``POST /v1/responses`` (openai, base_url ``.../<scope>/v1``) | a ``Response`` object |

The answer: ``"echo: " + <the last user text>``; when the last input item is a
``function_call_output`` the text is ``"echo: tool said " + <its output>``; when a function tool
is given and the last user text says "weather", one ``function_call`` (``call_id``
``call_fake_1``, arguments ``{"city": "Paris"}``) instead. ``reasoning.effort`` (not "none") adds
a ``reasoning`` item first (summary ``"thinking about: <text>"``, counted in
``output_tokens_details.reasoning_tokens``). ``max_output_tokens`` caps the words of the text
(``status: "incomplete"``, ``incomplete_details.reason: "max_output_tokens"``). usage:
``input_tokens`` = words of instructions and every input text, ``output_tokens`` = words sent
(+ reasoning), ``input_tokens_details`` ``cached_tokens`` and ``cache_write_tokens`` 0.

``"stream": true``: SSE frames ``event: <type>`` + ``data: <event>`` with a rising
``sequence_number``: ``response.created`` → ``response.in_progress`` → per output item
``response.output_item.added`` → (message: ``response.content_part.added`` →
``response.output_text.delta`` per word → ``response.output_text.done`` →
``response.content_part.done``; function call: ``response.function_call_arguments.delta`` ×3 →
``.done``; reasoning: ``response.reasoning_summary_part.added`` /
``response.reasoning_summary_text.delta`` / ``.done`` / ``response.reasoning_summary_part.done``)
→ ``response.output_item.done`` → ``response.completed`` (or ``response.incomplete``). No
``[DONE]``. The fault vocabulary's error event is ``{"type": "error", ...}`` (as OpenAI sends it).

Refused like OpenAI: a field ``POST /responses`` does not take (``Unknown parameter``), no
``model``, an ``input`` that is neither a string nor a list, an item without ``type`` or
``role``, a nested (chat-shaped) function tool, ``stream`` that is not a boolean.
"""

from __future__ import annotations

import json
import re
import time

import fake_upstream as fu

FIELDS = {"model", "input", "instructions", "tools", "tool_choice", "text", "reasoning", "max_output_tokens",
          "temperature", "top_p", "parallel_tool_calls", "store", "stream", "stream_options", "metadata", "include",
          "previous_response_id", "truncation", "user", "service_tier", "background", "conversation", "prompt",
          "prompt_cache_key", "safety_identifier", "top_logprobs", "max_tool_calls", "prompt_cache_retention"}
ITEM_TYPES = {"message", "function_call", "function_call_output", "reasoning", "item_reference"}
TOOL_ARGS = '{"city": "Paris"}'


def frame(event: dict) -> bytes:
    return b"event: " + event["type"].encode() + b"\ndata: " + json.dumps(event).encode() + b"\n\n"


def part_text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


class Answer:
    """What the fake answers a Responses request with, as a Response and as stream events."""

    def __init__(self, body: dict, rid: str):
        self.body, self.rid = body, rid
        items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
        texts = [body.get("instructions") or ""]
        last_user, last = "", items[-1] if items else {}
        for it in items:
            texts.append(part_text(it.get("content")) if "content" in it else str(it.get("output") or ""))
            if it.get("role") == "user":
                last_user = part_text(it.get("content"))
        self.input_tokens = sum(len(fu.words(t)) for t in texts)
        tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
        self.call = None
        if last.get("type") == "function_call_output":
            self.text = "echo: tool said " + str(last.get("output"))
        elif tools and re.search(r"\bweather\b", last_user, re.I):
            self.call, self.text = tools[0].get("name") or "tool", None
        else:
            self.text = "echo: " + last_user
        effort = (body.get("reasoning") or {}).get("effort")
        self.thought = f"thinking about: {last_user}" if isinstance(effort, str) and effort != "none" else None
        self.words = re.findall(r"\S+\s*", self.text) if self.text is not None else []
        cap = body.get("max_output_tokens")
        self.status, self.reason = "completed", None
        if isinstance(cap, int) and not isinstance(cap, bool) and 0 <= cap < len(self.words):
            self.words, self.status, self.reason = self.words[:cap], "incomplete", "max_output_tokens"
        reasoning_tokens = len(fu.words(self.thought)) if self.thought else 0
        out = len(fu.words(TOOL_ARGS)) if self.call else len(self.words)
        self.usage = {"input_tokens": self.input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                      "output_tokens": out + reasoning_tokens,
                      "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                      "total_tokens": self.input_tokens + out + reasoning_tokens}
        self.created = int(time.time())

    def items(self, done: bool) -> list[dict]:
        status = "completed" if self.status == "completed" else "incomplete"
        out = []
        if self.thought:
            out.append({"type": "reasoning", "id": f"rs_{self.rid}",
                        "summary": [{"type": "summary_text", "text": self.thought}] if done else []})
        if self.call:
            out.append({"type": "function_call", "id": f"fc_{self.rid}", "call_id": "call_fake_1", "name": self.call,
                        "arguments": TOOL_ARGS if done else "", "status": "completed" if done else "in_progress"})
        else:
            out.append({"type": "message", "id": f"msg_{self.rid}", "role": "assistant",
                        "status": status if done else "in_progress",
                        "content": [{"type": "output_text", "text": "".join(self.words), "annotations": [],
                                     "logprobs": []}] if done else []})
        return out

    def response(self, done: bool) -> dict:
        b = self.body
        return {
            "id": f"resp_{self.rid}", "object": "response", "created_at": self.created,
            "status": self.status if done else "in_progress", "background": False, "error": None,
            "incomplete_details": {"reason": self.reason} if done and self.reason else None,
            "instructions": b.get("instructions"), "max_output_tokens": b.get("max_output_tokens"),
            "model": b["model"], "output": self.items(True) if done else [],
            "parallel_tool_calls": b.get("parallel_tool_calls", True), "previous_response_id": None,
            "reasoning": {"effort": (b.get("reasoning") or {}).get("effort"), "summary": None},
            "store": b.get("store", True), "temperature": b.get("temperature", 1.0),
            "text": b.get("text") or {"format": {"type": "text"}}, "tool_choice": b.get("tool_choice", "auto"),
            "tools": b.get("tools") or [], "top_p": b.get("top_p", 1.0), "truncation": "disabled",
            "usage": self.usage if done else None, "user": None, "metadata": b.get("metadata") or {},
        }

    def events(self) -> list[bytes]:
        seq = iter(range(10_000))
        out: list[dict] = []

        def ev(**kw):
            kw["sequence_number"] = next(seq)
            out.append(kw)

        ev(type="response.created", response=self.response(False))
        ev(type="response.in_progress", response=self.response(False))
        started, finished = self.items(False), self.items(True)
        for i, (item, whole) in enumerate(zip(started, finished)):
            ev(type="response.output_item.added", output_index=i, item=item)
            iid = item["id"]
            if item["type"] == "reasoning":
                part = {"type": "summary_text", "text": ""}
                ev(type="response.reasoning_summary_part.added", item_id=iid, output_index=i, summary_index=0, part=part)
                for w in re.findall(r"\S+\s*", self.thought):
                    ev(type="response.reasoning_summary_text.delta", item_id=iid, output_index=i, summary_index=0, delta=w)
                ev(type="response.reasoning_summary_text.done", item_id=iid, output_index=i, summary_index=0,
                   text=self.thought)
                ev(type="response.reasoning_summary_part.done", item_id=iid, output_index=i, summary_index=0,
                   part={"type": "summary_text", "text": self.thought})
            elif item["type"] == "function_call":
                cuts = [0, len(TOOL_ARGS) // 3, 2 * len(TOOL_ARGS) // 3, len(TOOL_ARGS)]
                for k in range(3):
                    ev(type="response.function_call_arguments.delta", item_id=iid, output_index=i,
                       delta=TOOL_ARGS[cuts[k]:cuts[k + 1]])
                ev(type="response.function_call_arguments.done", item_id=iid, output_index=i, arguments=TOOL_ARGS)
            else:
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                ev(type="response.content_part.added", item_id=iid, output_index=i, content_index=0, part=part)
                for w in self.words:
                    ev(type="response.output_text.delta", item_id=iid, output_index=i, content_index=0, delta=w,
                       logprobs=[])
                text = "".join(self.words)
                ev(type="response.output_text.done", item_id=iid, output_index=i, content_index=0, text=text,
                   logprobs=[])
                ev(type="response.content_part.done", item_id=iid, output_index=i, content_index=0,
                   part=dict(part, text=text))
            ev(type="response.output_item.done", output_index=i, item=whole)
        ev(type="response.completed" if self.status == "completed" else "response.incomplete",
           response=self.response(True))
        return [frame(e) for e in out]


def check(body: dict) -> None:
    """OpenAI's 400s for a malformed Responses request."""
    extra = sorted(set(body) - FIELDS)
    if extra:
        raise fu.BadRequest(f"Unknown parameter: '{extra[0]}'.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise fu.BadRequest("Missing required parameter: 'model'.")
    inp = body.get("input")
    if not isinstance(inp, (str, list)):
        raise fu.BadRequest("Invalid type for 'input': expected a string or an array of input items.")
    for i, it in enumerate(inp if isinstance(inp, list) else []):
        if not isinstance(it, dict) or (it.get("type") not in ITEM_TYPES and "role" not in it):
            raise fu.BadRequest(f"Invalid value for 'input[{i}]': expected an input item.")
        if it.get("type") == "function_call_output" and not isinstance(it.get("call_id"), str):
            raise fu.BadRequest(f"Missing required parameter: 'input[{i}].call_id'.")
    for i, t in enumerate(body.get("tools") or []):
        if not isinstance(t, dict) or not isinstance(t.get("type"), str):
            raise fu.BadRequest(f"Missing required parameter: 'tools[{i}].type'.")
        if t["type"] == "function" and ("function" in t or not isinstance(t.get("name"), str)):
            raise fu.BadRequest(f"Missing required parameter: 'tools[{i}].name'.")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise fu.BadRequest("Invalid type for 'stream': expected a boolean.")


def answer(req: fu.Request, body: dict):
    check(body)
    a = Answer(body, f"fake{req.state.next_id()}")
    if body.get("stream") is not True:
        return fu.JsonResponse(200, a.response(True))
    return fu.Stream(content_type="text/event-stream", events=a.events(),
                     malformed=b'event: response.output_text.delta\ndata: {"type": {not json\n\n',
                     error_event=frame({"type": "error", "code": "server_error", "message": "fake mid-stream error",
                                        "param": None, "sequence_number": 0}))


class ResponsesProtocol(fu.OpenAIProtocol):
    name = "responses"
    routes = {("POST", "/v1/responses"): "responses"}
    personality_routes = {}

    def wants_stream(self, req: fu.Request) -> bool:
        return isinstance(req.json, dict) and req.json.get("stream") is True

    def responses(self, req: fu.Request):
        return answer(req, self.require_json_object(req))


PROTOCOL = ResponsesProtocol()
