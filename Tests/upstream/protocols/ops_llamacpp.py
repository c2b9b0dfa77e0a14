# SPDX-License-Identifier: Apache-2.0
"""llama-server's ``POST /tokenize`` for the fake upstream, at the server root
(``http://127.0.0.1:PORT/<scope>/tokenize``; a llamacpp provider's base_url ends in ``/v1``), as
llama.cpp's tools/server/README.md shows it: ``{"content": <string>, "add_special"?,
"with_pieces"?}`` → ``{"tokens": [ids]}``, or ``[{"id", "piece"}]`` with ``with_pieces``. One
token per word plus whitespace, ids from a hash of the word, so a test can predict the count.
Errors in llama.cpp's shape. (Rerank is ``/v1/rerank`` in ops_openai.py: the same route and
shape as OpenAI-compatible servers.)
"""

from __future__ import annotations

import hashlib
import re

import fake_upstream as fu

TYPES = {400: "invalid_request_error", 404: "not_found_error", 503: "unavailable_error"}


class LlamaCppTokenize(fu.Protocol):
    name = "llamacpp-tokenize"
    routes = {("POST", "/tokenize"): "tokenize"}

    def error_type_for(self, status: int) -> str:
        return TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")

    def error_body(self, status, message, err_type=None, code=None):
        return {"error": {"code": status, "message": message, "type": err_type or self.error_type_for(status)}}

    def tokenize(self, req: fu.Request):
        body = req.json
        if req.json_error is not None or not isinstance(body, dict):
            raise fu.BadRequest("Invalid JSON body")
        content = body.get("content")
        if not isinstance(content, str):
            raise fu.BadRequest("\"content\" must be provided")
        pieces = re.findall(r"\S+\s*", content)
        ids = [int.from_bytes(hashlib.sha256(p.encode()).digest()[:2], "big") for p in pieces]
        if body.get("with_pieces") is True:
            return fu.JsonResponse(200, {"tokens": [{"id": i, "piece": p} for i, p in zip(ids, pieces)]})
        return fu.JsonResponse(200, {"tokens": ids})


PROTOCOL = LlamaCppTokenize()
