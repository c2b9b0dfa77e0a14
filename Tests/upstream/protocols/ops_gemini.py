# SPDX-License-Identifier: Apache-2.0
"""Gemini's token counting for the fake upstream: ``POST /v1beta/models/{model}:countTokens``
(base_url is the host root, ``.../<scope>``), as the Generative Language API reference and
python-genai's ``models.py`` show it. The body is EITHER ``{"contents": [...]}`` OR
``{"generateContentRequest": {"model": "models/{m}", "contents", "systemInstruction"?,
"tools"?, "generationConfig"?, ...}}`` (only the latter counts the system prompt and tools);
both at once is a 400 ``INVALID_ARGUMENT``, as is a ``generateContentRequest`` without ``model``.
The answer is ``{"totalTokens": N, "promptTokensDetails": [{"modality": "TEXT", "tokenCount":
N}]}`` (NOT ``totalTokenCount``). Errors in Gemini's shape.

N = words of every text part (system instruction included) + 10 per function declaration.
"""

from __future__ import annotations

import re

import fake_upstream as fu
import fake_upstream_protocol_gemini as BASE  # protocols/gemini.py, loaded before this file (name order)

COUNT_ROUTE = re.compile(r"^/v1beta/((?:models|tunedModels)/[A-Za-z0-9._-]+):countTokens$")
COUNT_KEYS = {"contents", "generateContentRequest"}
GENERATE_KEYS = {"model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
                 "safetySettings", "cachedContent"}


class GeminiTokenCount(BASE.GeminiProtocol):
    name = "gemini-count-tokens"

    def find(self, method: str, subpath: str):
        return self.count_tokens if method == "POST" and COUNT_ROUTE.match(subpath) else None

    def wants_stream(self, req: fu.Request) -> bool:
        return False

    def count_contents(self, contents, where: str) -> int:
        if not isinstance(contents, list) or not contents:
            raise fu.BadRequest(f"* {where}: contents is not specified")
        n = 0
        for i, c in enumerate(contents):
            role = c.get("role", "user") if isinstance(c, dict) else None
            if role not in ("user", "model"):
                raise fu.BadRequest(f"Please use a valid role: user, model. ({where}[{i}].role: {role!r})")
            n += len(fu.words(self.text_of(self.parts_of(c, f"{where}[{i}]"))))
        return n

    def count_tokens(self, req: fu.Request):
        body = self.body_object(req, COUNT_KEYS)
        if "contents" in body and "generateContentRequest" in body:
            raise fu.BadRequest("contents and generate_content_request are mutually exclusive.")
        if "generateContentRequest" in body:
            gen = body["generateContentRequest"]
            if not isinstance(gen, dict):
                raise fu.BadRequest("generateContentRequest must be an object")
            self.known_fields(gen, GENERATE_KEYS, "generate_content_request")
            if not isinstance(gen.get("model"), str) or not gen["model"].startswith(("models/", "tunedModels/")):
                raise fu.BadRequest("* GenerateContentRequest.model: unexpected model name format")
            n = self.count_contents(gen.get("contents"), "generate_content_request.contents")
            if "systemInstruction" in gen:
                n += len(fu.words(self.text_of(self.parts_of(gen["systemInstruction"], "system_instruction"))))
            for tool in gen.get("tools") or []:
                decls = tool.get("functionDeclarations") if isinstance(tool, dict) else None
                n += 10 * len(decls) if isinstance(decls, list) else 0
        else:
            n = self.count_contents(body.get("contents"), "contents")
        return fu.JsonResponse(200, {"totalTokens": n,
                                     "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]})


PROTOCOL = GeminiTokenCount()
