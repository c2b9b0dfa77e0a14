# SPDX-License-Identifier: Apache-2.0
"""Cohere's rerank for the fake upstream: ``POST /v2/rerank`` (base_url is the host root,
``.../<scope>``), as cohere-python's ``v2rerank_response*.py`` and Cohere's API reference show
it: ``{model, query, documents: [string], top_n?, max_tokens_per_doc?}`` (other keys refused,
as the v2 API does; ``return_documents`` was v1's) answered with ``{"id", "results": [{"index",
"relevance_score"}], "meta": {"api_version": {"version": "2"}, "billed_units":
{"search_units": 1}}}``, results best-first and cut to ``top_n``, no document text. Errors in
Cohere's shape ``{"id", "message"}``. The score is the share of query words in the document.
"""

from __future__ import annotations

import fake_upstream as fu

RERANK_KEYS = {"model", "query", "documents", "top_n", "max_tokens_per_doc", "priority"}


class CohereRerank(fu.Protocol):
    name = "cohere-rerank"
    routes = {("POST", "/v2/rerank"): "rerank"}

    def error_type_for(self, status: int) -> str:
        return "rate_limit" if status == 429 else "server_error" if status >= 500 else "invalid_request"

    def error_body(self, status, message, err_type=None, code=None):
        return {"id": f"fake-error-{status}", "message": message}

    def rerank(self, req: fu.Request):
        if not req.headers.get("authorization", "").startswith("Bearer "):
            return fu.JsonResponse(401, self.error_body(401, "no api key supplied"))
        if req.json_error is not None or not isinstance(req.json, dict):
            raise fu.BadRequest("invalid request: could not parse the JSON body")
        body = req.json
        extra = sorted(set(body) - RERANK_KEYS)
        if extra:
            raise fu.BadRequest(f"invalid request: unknown field '{extra[0]}'")
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise fu.BadRequest("invalid request: model must be specified")
        query, docs = body.get("query"), body.get("documents")
        if not isinstance(query, str) or not query:
            raise fu.BadRequest("invalid request: query must not be empty")
        if not isinstance(docs, list) or not docs or not all(isinstance(d, str) for d in docs):
            raise fu.BadRequest("invalid request: documents must be a non-empty list of strings")
        top_n = body.get("top_n", len(docs))
        if not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 1:
            raise fu.BadRequest("invalid request: top_n must be a positive integer")
        q = {w.lower() for w in fu.words(query)}
        scored = [{"index": i, "relevance_score":
                   round(len(q & {w.lower().strip(".,") for w in fu.words(d)}) / len(q), 6)}
                  for i, d in enumerate(docs)]
        scored.sort(key=lambda r: -r["relevance_score"])
        return fu.JsonResponse(200, {"id": f"rerank-fake-{req.state.next_id()}", "results": scored[:top_n],
                                     "meta": {"api_version": {"version": "2"},
                                              "billed_units": {"search_units": 1}}})


PROTOCOL = CohereRerank()
