# SPDX-License-Identifier: Apache-2.0
"""Anthropic Messages for the fake upstream: ``POST /v1/messages`` (plain and SSE) and
``GET /v1/models``. A provider's base_url is ``http://127.0.0.1:PORT/<scope>`` (host root).

Shapes as Anthropic's API reference shows them:

* errors: ``{"type": "error", "error": {"type": <error type>, "message": ...},
  "request_id": ...}`` with the types Anthropic gives each status (429 ``rate_limit_error``,
  529 ``overloaded_error``, 500 ``api_error``, 401 ``authentication_error``, ...);
* a message: ``{"id": "msg_...", "type": "message", "role": "assistant", "model",
  "content": [text | tool_use blocks], "stop_reason", "stop_sequence", "usage":
  {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "output_tokens"}}``;
* a stream: SSE frames ``event: <type>`` + ``data: {"type": <type>, ...}``: ``message_start``
  (input tokens), ``content_block_start``, a ``ping``, one ``content_block_delta`` per word
  (word + following whitespace), ``content_block_stop``, ``message_delta`` (stop reason and the
  CUMULATIVE output token count), ``message_stop``. For a tool call the block is a
  ``tool_use`` (id, name, ``input: {}``) followed by ``input_json_delta`` pieces: an empty one
  first, as Anthropic sends, then three pieces of ``{"city": "Paris"}``;
* the fault vocabulary's malformed frame is a broken ``content_block_delta``; its error event
  is ``event: error`` with an ``overloaded_error``, the way Anthropic reports an overload after
  HTTP 200.

Like the real API it refuses what a codec must not send: unknown top-level keys ("Extra inputs
are not permitted"), a missing ``max_tokens``, roles other than user/assistant (the system
prompt is a top-level field), tool blocks without tool definitions, and a request without
a key (``x-api-key``, or ``Authorization: Bearer`` as Anthropic's SDK sends it: else 401) or
``anthropic-version`` (400). ``max_tokens`` below the reply's word count
cuts the reply (``stop_reason: "max_tokens"``); a stop sequence found in the reply ends it
there (``"stop_sequence"``).

Extended thinking and prompt caching, as Anthropic's reference gives them: ``thinking:
{"type": "enabled", "budget_tokens"}`` is checked (at least 1024 and below ``max_tokens``; no
changed ``temperature``/``top_k``) and answered with a ``thinking`` block first (``thinking``,
``signature``; in a stream ``thinking_delta`` per word, then one ``signature_delta``); a
``thinking`` block sent back in an assistant turn must carry the signature this fake gave its
text (else 400, as Anthropic checks signatures), and in a tool loop the last assistant turn
must start with one (else 400). ``cache_control`` markers on tools, system
blocks and message blocks are counted (more than 4 is a 400, as Anthropic's limit); with any
marker the usage reports ``cache_creation_input_tokens`` 11 and ``cache_read_input_tokens`` 7.

``GET /v1/models`` is also OpenAI's path under an OpenAI-style base URL (``<scope>/v1`` +
``/models``) and Cohere's. This protocol ``claims`` only the requests carrying the
``anthropic-version`` header, which every Anthropic client sends; the route lookup hands every
other ``/v1/models`` request (fault error bodies included) to the next protocol.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import fake_upstream as fu

TOOL_ARGS = '{"city": "Paris"}'

MESSAGE_KEYS = {"model", "messages", "max_tokens", "system", "stop_sequences", "temperature",
                "top_p", "top_k", "tools", "tool_choice", "metadata", "stream", "thinking",
                "service_tier", "container", "mcp_servers", "context_management"}
ROLES = {"user", "assistant"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
               403: "permission_error", 404: "not_found_error", 413: "request_too_large",
               429: "rate_limit_error", 504: "timeout_error", 529: "overloaded_error"}



def event(obj: dict) -> bytes:
    """One SSE frame the way Anthropic writes it: the event name, then the same name as ``type``."""
    return b"event: " + obj["type"].encode() + b"\n" + fu.sse(obj)


def signature(thinking: str) -> str:
    """The signature this fake gives a thinking text (opaque to clients, checked when sent back)."""
    import base64
    return "EqFake" + base64.b64encode(thinking.encode()).decode()


def check_thinking_first(messages: list) -> None:
    """With thinking on, a tool loop's last assistant turn must start with its thinking block
    (resent unmodified), as Anthropic requires; else 400 with Anthropic's message."""
    if len(messages) < 2 or messages[-1].get("role") != "user":
        return
    last = messages[-1].get("content")
    if not (isinstance(last, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last)):
        return
    turn = messages[-2]
    blocks = turn.get("content") if turn.get("role") == "assistant" else None
    first = blocks[0].get("type") if isinstance(blocks, list) and blocks and isinstance(blocks[0], dict) else None
    if first not in ("thinking", "redacted_thinking"):
        raise fu.BadRequest(f"messages.{len(messages) - 2}.content.0.type: Expected `thinking` or `redacted_thinking`, "
                            f"but found `{first}`. When `thinking` is enabled, a final `assistant` message must start "
                            "with a thinking block.")


def cache_markers(body: dict) -> int:
    """How many ``cache_control`` markers the request carries (tools, system, message blocks)."""
    n = 0
    for t in body.get("tools") or []:
        n += isinstance(t, dict) and "cache_control" in t
    for b in body.get("system") if isinstance(body.get("system"), list) else []:
        n += isinstance(b, dict) and "cache_control" in b
    for m in body.get("messages") or []:
        for b in m.get("content") if isinstance(m, dict) and isinstance(m.get("content"), list) else []:
            n += isinstance(b, dict) and "cache_control" in b
    return n


def blocks_text(content) -> str:
    """Text of a content: a string, or the text of its text blocks (and tool results' text)."""
    if isinstance(content, str):
        return content
    out = []
    if isinstance(content, list):
        for b in content:
            if not isinstance(b, dict):
                continue
            if b.get("type") == "text" and isinstance(b.get("text"), str):
                out.append(b["text"])
            elif b.get("type") == "tool_result":
                out.append(blocks_text(b.get("content")))
    return " ".join(t for t in out if t)


def user_text(content) -> str | None:
    """The user's own words in a user turn (not tool results); None when it has none."""
    if isinstance(content, str):
        return content
    texts = [b["text"] for b in content or [] if isinstance(b, dict) and b.get("type") == "text"
             and isinstance(b.get("text"), str)]
    return " ".join(texts) if texts else None


class AnthropicProtocol(fu.Protocol):
    name = "anthropic"
    routes = {
        ("POST", "/v1/messages"): "messages",
        ("GET", "/v1/models"): "models",
    }

    # --- which requests are ours ---
    @staticmethod
    def is_anthropic(req: fu.Request) -> bool:
        return req.subpath != "/v1/models" or "anthropic-version" in req.headers

    def claims(self, req: fu.Request) -> bool:
        return self.is_anthropic(req)

    def wants_stream(self, req: fu.Request) -> bool:
        return (req.subpath == "/v1/messages" and isinstance(req.json, dict)
                and req.json.get("stream") is True)

    # --- errors ---
    def error_type_for(self, status: int) -> str:
        return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")

    def error_body(self, status, message, err_type=None, code=None):
        return {"type": "error",
                "error": {"type": err_type or self.error_type_for(status), "message": message},
                "request_id": f"req_fake_{status}"}

    def error(self, status: int, message: str) -> fu.JsonResponse:
        return fu.JsonResponse(status, self.error_body(status, message))

    def check_headers(self, req: fu.Request) -> fu.JsonResponse | None:
        # The key comes as x-api-key, or as a bearer token: Anthropic's own Python SDK (2.x,
        # anthropic/_client.py auth_headers) sends `Authorization: Bearer <api key>`.
        bearer = req.headers.get("authorization", "")
        if not req.headers.get("x-api-key") and not (bearer.startswith("Bearer ") and bearer[7:].strip()):
            return self.error(401, "x-api-key header is required")
        if not req.headers.get("anthropic-version"):
            return self.error(400, "anthropic-version: header is required")
        return None

    def admitted_body(self, req: fu.Request, allowed: set[str]) -> dict | fu.JsonResponse:
        """The request's JSON object after the checks Anthropic makes on every endpoint (headers,
        JSON, no extra fields); the refusal instead when a header is missing."""
        refused = self.check_headers(req)
        if refused is not None:
            return refused
        if req.json_error is not None:
            raise fu.BadRequest(f"There was an issue with your request: {req.json_error}")
        body = req.json
        if not isinstance(body, dict):
            raise fu.BadRequest("The request body must be a JSON object.")
        extra = sorted(set(body) - allowed)
        if extra:
            raise fu.BadRequest(f"{extra[0]}: Extra inputs are not permitted")
        return body

    # --- endpoints ---
    def messages(self, req: fu.Request):
        body = self.admitted_body(req, MESSAGE_KEYS)
        if not isinstance(body, dict):
            return body
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise fu.BadRequest("model: Field required")
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise fu.BadRequest("max_tokens: Field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise fu.BadRequest("messages: at least one message is required")
        thinking = body.get("thinking")
        if thinking is not None:
            if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled", "adaptive"):
                raise fu.BadRequest("thinking: Input tag does not match any of the expected tags: 'enabled', 'disabled'")
            if thinking["type"] == "enabled":
                budget = thinking.get("budget_tokens")
                if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1024:
                    raise fu.BadRequest("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
                if budget >= max_tokens:
                    raise fu.BadRequest("`max_tokens` must be greater than `thinking.budget_tokens`")
                if body.get("temperature", 1) != 1 or "top_k" in body:
                    raise fu.BadRequest("`temperature` may only be set to 1 when thinking is enabled")
            else:
                thinking = None
        markers = cache_markers(body)
        if markers > 4:
            raise fu.BadRequest(f"A maximum of 4 blocks with cache_control may be provided. Found {markers}.")
        system = body.get("system")
        prompt_tokens = len(fu.words(blocks_text(system))) if system is not None else 0
        last_user, has_tool_blocks = "", False
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in ROLES:
                raise fu.BadRequest(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            content = m.get("content")
            if not isinstance(content, (str, list)):
                raise fu.BadRequest(f"messages.{i}.content: Input should be a valid string or list")
            if isinstance(content, list):
                for j, b in enumerate(content):
                    t = b.get("type") if isinstance(b, dict) else None
                    if t in ("tool_use", "tool_result"):
                        has_tool_blocks = True
                    if t == "tool_result" and not isinstance(b.get("tool_use_id"), str):
                        raise fu.BadRequest(f"messages.{i}.content.{j}.tool_result.tool_use_id: Field required")
                    if t == "tool_use" and not isinstance(b.get("input"), dict):
                        raise fu.BadRequest(f"messages.{i}.content.{j}.tool_use.input: Input should be a valid dictionary")
                    if t == "thinking" and (m.get("role") != "assistant" or not isinstance(b.get("thinking"), str)
                                            or b.get("signature") != signature(b["thinking"])):
                        raise fu.BadRequest(f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block")
            prompt_tokens += len(fu.words(blocks_text(content)))
            if m["role"] == "user":
                said = user_text(content)
                if said is not None:
                    last_user = said
        if thinking:
            check_thinking_first(messages)
        tools = body.get("tools")
        if tools is not None and not (isinstance(tools, list) and all(
                isinstance(t, dict) and isinstance(t.get("name"), str)
                and isinstance(t.get("input_schema"), dict) for t in tools)):
            raise fu.BadRequest("tools: each tool needs a name and an input_schema object")
        if has_tool_blocks and not tools:
            raise fu.BadRequest("Requests which include `tool_use` or `tool_result` blocks must define tools.")
        choice = body.get("tool_choice")
        tool_name = None
        if tools and re.search(r"\bweather\b", last_user, re.I) \
                and not (isinstance(choice, dict) and choice.get("type") == "none"):
            tool_name = tools[0]["name"]

        reply = "echo: " + last_user
        tokens = re.findall(r"\S+\s*", reply)  # each word with its following whitespace
        stop_reason, stop_sequence = "end_turn", None
        if tool_name:
            stop_reason = "tool_use"
            output_tokens = len(fu.words(TOOL_ARGS))
        else:
            for seq in body.get("stop_sequences") or []:
                at = reply.find(seq) if isinstance(seq, str) and seq else -1
                if at >= 0:
                    reply, stop_reason, stop_sequence = reply[:at], "stop_sequence", seq
                    tokens = re.findall(r"\S+\s*", reply)
            if len(tokens) > max_tokens:
                tokens, stop_reason, stop_sequence = tokens[:max_tokens], "max_tokens", None
                reply = "".join(tokens)
            output_tokens = len(tokens)
        thought = f"thinking about: {last_user}" if thinking else None
        if thought:
            output_tokens += len(fu.words(thought))
        usage = {"input_tokens": prompt_tokens, "cache_creation_input_tokens": 11 if markers else 0,
                 "cache_read_input_tokens": 7 if markers else 0, "output_tokens": output_tokens}
        mid = f"msg_fake_{req.state.next_id()}"
        tool_id = "toolu_fake_1"

        if body.get("stream") is not True:
            if tool_name:
                content = [{"type": "tool_use", "id": tool_id, "name": tool_name,
                            "input": {"city": "Paris"}}]
            else:
                content = [{"type": "text", "text": reply}]
            if thought:
                content.insert(0, {"type": "thinking", "thinking": thought, "signature": signature(thought)})
            return fu.JsonResponse(200, {
                "id": mid, "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": stop_sequence,
                "usage": usage}, headers={"request-id": f"req_{mid}"})

        start_usage = dict(usage, output_tokens=1)
        events = [event({"type": "message_start", "message": {
            "id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": start_usage}})]
        index = 0
        if thought:
            events.append(event({"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
            for tok in re.findall(r"\S+\s*", thought):
                events.append(event({"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "thinking_delta", "thinking": tok}}))
            events.append(event({"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "signature_delta", "signature": signature(thought)}}))
            events.append(event({"type": "content_block_stop", "index": 0}))
            index = 1
        if tool_name:
            events.append(event({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": tool_id, "name": tool_name, "input": {}}}))
            events.append(event({"type": "ping"}))
            a = TOOL_ARGS
            cuts = [0, len(a) // 3, 2 * len(a) // 3, len(a)]
            for piece in [""] + [a[cuts[i]:cuts[i + 1]] for i in range(3)]:
                events.append(event({"type": "content_block_delta", "index": index,
                                     "delta": {"type": "input_json_delta", "partial_json": piece}}))
        else:
            events.append(event({"type": "content_block_start", "index": index,
                                 "content_block": {"type": "text", "text": ""}}))
            events.append(event({"type": "ping"}))
            for tok in tokens:
                events.append(event({"type": "content_block_delta", "index": index,
                                     "delta": {"type": "text_delta", "text": tok}}))
        events.append(event({"type": "content_block_stop", "index": index}))
        events.append(event({"type": "message_delta",
                             "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                             "usage": {"output_tokens": output_tokens}}))
        events.append(event({"type": "message_stop"}))
        return fu.Stream(
            content_type="text/event-stream; charset=utf-8",
            events=events,
            malformed=b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {not json\n\n',
            error_event=event({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"},
                               "request_id": f"req_{mid}"}),
            headers={"Cache-Control": "no-cache", "request-id": f"req_{mid}"},
        )

    def models(self, req: fu.Request):
        refused = self.check_headers(req)
        if refused is not None:
            return refused
        query = parse_qs(urlsplit(req.path).query)
        try:
            limit = int(query.get("limit", ["20"])[0])
        except ValueError:
            raise fu.BadRequest("limit: Input should be a valid integer")
        if not 1 <= limit <= 1000:
            raise fu.BadRequest("limit: Input should be between 1 and 1000")
        with req.state.lock:
            data = [dict(m) for m in req.state.scope(req.scope).models]
        # The scope's list is OpenAI-shaped unless a test stored Anthropic-shaped entries.
        models = []
        for m in data:
            if m.get("type") == "model":
                models.append(m)
            elif isinstance(m.get("id"), str):
                models.append({"type": "model", "id": m["id"], "display_name": m["id"].replace("-", " ").title(),
                               "created_at": "2025-01-01T00:00:00Z"})
        page = models[:limit]
        return fu.JsonResponse(200, {"data": page, "has_more": len(models) > limit,
                                     "first_id": page[0]["id"] if page else None,
                                     "last_id": page[-1]["id"] if page else None})


PROTOCOL = AnthropicProtocol()
