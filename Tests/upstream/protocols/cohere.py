# SPDX-License-Identifier: Apache-2.0
"""Cohere v2 for the fake upstream: ``POST /v2/chat`` (plain and SSE), ``POST /v2/embed``,
``GET /v1/models``. A provider's base_url is ``http://127.0.0.1:PORT/<scope>`` (host root).

Shapes as Cohere's API reference shows them:

* errors: ``{"id": "...", "message": "..."}``;
* chat: ``{"id", "message": {"role", "content": [{"type": "text", "text"}] | "tool_plan",
  "tool_calls"}, "finish_reason": "COMPLETE" | "TOOL_CALL", "usage": {"billed_units",
  "tokens"}}``;
* stream: SSE frames ``event: <type>`` + ``data: {"type": <type>, ...}``: ``message-start``,
  ``content-start``, one ``content-delta`` per word (word + following whitespace),
  ``content-end``, ``message-end`` (finish reason and usage); for a tool call
  ``tool-plan-delta``, ``tool-call-start`` (id, name, arguments ""), three ``tool-call-delta``
  pieces, ``tool-call-end``. No ``[DONE]``: ``message-end`` is the end;
* the fault vocabulary's malformed frame is a broken ``content-delta``; its error event is a
  ``message-end`` with ``finish_reason: "ERROR"`` and ``delta.error``, the way Cohere reports a
  generation that failed mid-stream.

Reasoning (docs.cohere.com/v2/docs/reasoning; cohere-python ``types/thinking.py``,
``chat_content_delta_event_delta_message_content.py``): ``thinking: {"type": "enabled" |
"disabled", "token_budget": positive int}`` is checked (any other key or value is a 400); when
enabled the answer opens with a ``{"type": "thinking", "thinking": "thinking about: <last user
text>"}`` content item, in a stream a thinking ``content-start`` (index 0), one
``content-delta`` per word carrying ``delta.message.content.thinking``, ``content-end``, then
the text block at index 1. Its words count in ``output_tokens`` (Cohere reports no separate
reasoning count).

Like the real API, unknown request keys are refused with 400, so a codec that forwards an
OpenAI-only key (``top_p``, ``stop``, ``stream_options``...) fails loudly.

``GET /v1/models`` is also OpenAI's path under an OpenAI-style base URL (``<scope>/v1`` +
``/models``). This protocol ``claims`` only the requests that carry Cohere's ``page_size``
query parameter (the codec always asks for ``page_size=1000``); the route lookup hands every
other ``/v1/models`` request (fault error bodies included) to the next protocol.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import fake_upstream as fu

TOOL_ARGS = '{"city": "Paris"}'

CHAT_KEYS = {"model", "messages", "tools", "strict_tools", "documents", "citation_options",
             "response_format", "safety_mode", "max_tokens", "stop_sequences", "temperature",
             "seed", "frequency_penalty", "presence_penalty", "k", "p", "logprobs",
             "tool_choice", "thinking", "priority", "stream"}
EMBED_KEYS = {"model", "texts", "images", "inputs", "input_type", "embedding_types",
              "output_dimension", "max_tokens", "truncate", "priority"}
ROLES = {"system", "user", "assistant", "tool"}



def sse_event(obj: dict) -> bytes:
    return b"event: " + obj["type"].encode() + b"\n" + fu.sse(obj)


def content_text(content) -> str:
    """Text of a Cohere message content: a string, or text / document blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("document"), dict):
                out.append(str(part["document"].get("data", "")))
        return " ".join(out)
    return ""


class CohereProtocol(fu.Protocol):
    name = "cohere"
    routes = {
        ("POST", "/v2/chat"): "chat",
        ("POST", "/v2/embed"): "embed",
        ("GET", "/v1/models"): "models",
    }

    # --- which requests are ours ---
    @staticmethod
    def is_cohere(req: fu.Request) -> bool:
        if req.subpath != "/v1/models":
            return True
        return "page_size" in parse_qs(urlsplit(req.path).query)

    def claims(self, req: fu.Request) -> bool:
        return self.is_cohere(req)

    def wants_stream(self, req: fu.Request) -> bool:
        return (req.subpath == "/v2/chat" and isinstance(req.json, dict)
                and req.json.get("stream") is True)

    # --- errors ---
    def error_type_for(self, status: int) -> str:
        return "rate_limit" if status == 429 else "server_error" if status >= 500 else "invalid_request"

    def error_body(self, status, message, err_type=None, code=None):
        return {"id": f"fake-error-{status}", "message": message}

    @staticmethod
    def body_object(req: fu.Request, allowed: set[str]) -> dict:
        if req.json_error is not None:
            raise fu.BadRequest(f"invalid request: could not parse the JSON body: {req.json_error}")
        if not isinstance(req.json, dict):
            raise fu.BadRequest("invalid request: the body must be a JSON object")
        unknown = sorted(set(req.json) - allowed)
        if unknown:
            raise fu.BadRequest(f"invalid request: unknown field: parameter {unknown[0]} is not a valid field")
        if not isinstance(req.json.get("model"), str) or not req.json["model"]:
            raise fu.BadRequest("invalid request: model must be a non-empty string")
        return req.json

    @staticmethod
    def thinking_enabled(body: dict) -> bool:
        """Cohere's `thinking` object checked as its API reference types it."""
        thinking = body.get("thinking")
        if thinking is None:
            return False
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise fu.BadRequest("invalid request: thinking.type must be one of ['enabled', 'disabled']")
        unknown = sorted(set(thinking) - {"type", "token_budget"})
        if unknown:
            raise fu.BadRequest(f"invalid request: unknown field: parameter thinking.{unknown[0]} is not a valid field")
        budget = thinking.get("token_budget")
        if budget is not None and (not isinstance(budget, int) or isinstance(budget, bool) or budget < 1):
            raise fu.BadRequest("invalid request: thinking.token_budget must be a positive integer")
        return thinking["type"] == "enabled"

    # --- endpoints ---
    def chat(self, req: fu.Request):
        body = self.body_object(req, CHAT_KEYS)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise fu.BadRequest("invalid request: messages must be a non-empty list")
        last_user, prompt_tokens = "", 0
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                raise fu.BadRequest(f"invalid request: messages[{i}].role must be one of {sorted(ROLES)}")
            if m["role"] == "tool" and (not isinstance(m.get("tool_call_id"), str) or "content" not in m):
                raise fu.BadRequest(f"invalid request: messages[{i}]: a tool message needs tool_call_id and content")
            text = content_text(m.get("content"))
            prompt_tokens += len(fu.words(text))
            if m["role"] == "user":
                last_user = text
        tools = body.get("tools")
        tool_name = None
        if tools is not None:
            if not isinstance(tools, list) or not all(
                    isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
                    and isinstance(t["function"].get("name"), str) for t in tools):
                raise fu.BadRequest("invalid request: tools must be a list of {type: function, function: {name, ...}}")
            if tools and re.search(r"\bweather\b", last_user, re.I):
                tool_name = tools[0]["function"]["name"]
        thought = f"thinking about: {last_user}" if self.thinking_enabled(body) else None
        reply = "echo: " + last_user
        completion_tokens = len(fu.words(TOOL_ARGS if tool_name else reply)) + len(fu.words(thought or ""))
        usage = {"billed_units": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens},
                 "tokens": {"input_tokens": prompt_tokens + 64, "output_tokens": completion_tokens}}
        # tokens.input_tokens counts Cohere's own preamble too: 64 more than billed, as in real answers.
        mid = f"fake-{req.state.next_id()}"
        call_id = f"{tool_name}_fake1" if tool_name else None

        if body.get("stream") is not True:
            if tool_name:
                message = {"role": "assistant", "tool_plan": "I will look up the weather.",
                           "tool_calls": [{"id": call_id, "type": "function",
                                           "function": {"name": tool_name, "arguments": TOOL_ARGS}}]}
                finish = "TOOL_CALL"
            else:
                message = {"role": "assistant", "content": [{"type": "text", "text": reply}]}
                finish = "COMPLETE"
            if thought:
                message["content"] = [{"type": "thinking", "thinking": thought}] + message.get("content", [])
            return fu.JsonResponse(200, {"id": mid, "message": message, "finish_reason": finish,
                                         "usage": usage})

        start = {"id": mid, "type": "message-start", "delta": {"message": {
            "role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}
        events = [sse_event(start)]
        block = 0
        if thought:
            events.append(sse_event({"type": "content-start", "index": 0, "delta": {"message": {
                "content": {"type": "thinking", "thinking": ""}}}}))
            for tok in re.findall(r"\S+\s*", thought):
                events.append(sse_event({"type": "content-delta", "index": 0, "delta": {"message": {
                    "content": {"thinking": tok}}}}))
            events.append(sse_event({"type": "content-end", "index": 0}))
            block = 1
        if tool_name:
            events.append(sse_event({"type": "tool-plan-delta",
                                     "delta": {"message": {"tool_plan": "I will look up the weather."}}}))
            events.append(sse_event({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {
                "id": call_id, "type": "function", "function": {"name": tool_name, "arguments": ""}}}}}))
            cuts = [0, len(TOOL_ARGS) // 3, 2 * len(TOOL_ARGS) // 3, len(TOOL_ARGS)]
            for i in range(3):
                events.append(sse_event({"type": "tool-call-delta", "index": 0, "delta": {"message": {
                    "tool_calls": {"function": {"arguments": TOOL_ARGS[cuts[i]:cuts[i + 1]]}}}}}))
            events.append(sse_event({"type": "tool-call-end", "index": 0}))
            finish = "TOOL_CALL"
        else:
            events.append(sse_event({"type": "content-start", "index": block, "delta": {"message": {
                "content": {"type": "text", "text": ""}}}}))
            for tok in re.findall(r"\S+\s*", reply):
                events.append(sse_event({"type": "content-delta", "index": block, "delta": {"message": {
                    "content": {"text": tok}}}, "logprobs": None}))
            events.append(sse_event({"type": "content-end", "index": block}))
            finish = "COMPLETE"
        events.append(sse_event({"type": "message-end", "delta": {"finish_reason": finish, "usage": usage}}))
        return fu.Stream(
            content_type="text/event-stream",
            events=events,
            malformed=b'event: content-delta\ndata: {"type": "content-delta", "delta": {not json\n\n',
            error_event=sse_event({"type": "message-end", "delta": {
                "error": "fake mid-stream error", "finish_reason": "ERROR"}}),
            headers={"Cache-Control": "no-cache"},
        )

    def embed(self, req: fu.Request):
        body = self.body_object(req, EMBED_KEYS)
        texts = body.get("texts")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise fu.BadRequest("invalid request: texts must be a non-empty list of strings")
        if not isinstance(body.get("input_type"), str):
            raise fu.BadRequest("invalid request: input_type is required for embed models v3 and higher")
        types = body.get("embedding_types")
        if not isinstance(types, list) or "float" not in types:
            raise fu.BadRequest("invalid request: embedding_types must be a list including \"float\"")
        n = sum(len(fu.words(t)) for t in texts)
        return fu.JsonResponse(200, {
            "id": f"fake-embed-{req.state.next_id()}",
            "embeddings": {"float": [fu.embed(t) for t in texts]},
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": n}},
            "response_type": "embeddings_by_type"})

    def models(self, req: fu.Request):
        with req.state.lock:
            data = [dict(m) for m in req.state.scope(req.scope).models]
        # The scope's list is OpenAI-shaped unless a test stored Cohere-shaped entries (`name`).
        models = []
        for m in data:
            if "name" in m:
                models.append(m)
            elif isinstance(m.get("id"), str):
                models.append({"name": m["id"], "endpoints": ["chat"], "finetuned": False,
                               "context_length": 128000, "features": ["tools"]})
        return fu.JsonResponse(200, {"models": models, "next_page_token": None})


PROTOCOL = CohereProtocol()
