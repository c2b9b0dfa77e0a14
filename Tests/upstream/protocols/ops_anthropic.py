# SPDX-License-Identifier: Apache-2.0
"""Anthropic's token counting for the fake upstream: ``POST /v1/messages/count_tokens`` (base_url
is the host root, ``.../<scope>``), as anthropic-sdk-python's ``message_count_tokens_params.py``
and ``MessageTokensCount`` show it: a Messages body WITHOUT ``max_tokens`` (and without
``stream``, sampling parameters, ...) answered with ``{"input_tokens": N}``. Like the real API it
refuses unknown keys ("Extra inputs are not permitted"), a missing model or messages, and a
request without ``x-api-key`` (401) or ``anthropic-version`` (400). Errors in Anthropic's shape.

N = words of the system prompt and of every message's text + 3 per message + 10 per tool: a
count a test can predict.
"""

from __future__ import annotations

import fake_upstream as fu
import fake_upstream_protocol_anthropic as BASE  # protocols/anthropic.py, loaded before this file (name order)

COUNT_KEYS = {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"}


class AnthropicTokenCount(BASE.AnthropicProtocol):
    name = "anthropic-count-tokens"
    routes = {("POST", "/v1/messages/count_tokens"): "count_tokens"}

    def claims(self, req: fu.Request) -> bool:
        return True

    def wants_stream(self, req: fu.Request) -> bool:
        return False

    def count_tokens(self, req: fu.Request):
        body = self.admitted_body(req, COUNT_KEYS)
        if not isinstance(body, dict):
            return body
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise fu.BadRequest("model: Field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise fu.BadRequest("messages: Field required")
        n = len(fu.words(BASE.blocks_text(body.get("system")))) if body.get("system") is not None else 0
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in BASE.ROLES:
                raise fu.BadRequest(f"messages.{i}.role: Input should be 'user' or 'assistant'")
            n += len(fu.words(BASE.blocks_text(m.get("content")))) + 3
        tools = body.get("tools")
        if isinstance(tools, list):
            n += 10 * len(tools)
        return fu.JsonResponse(200, {"input_tokens": n})


PROTOCOL = AnthropicTokenCount()
