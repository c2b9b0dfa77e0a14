# SPDX-License-Identifier: Apache-2.0
"""Mistral's moderation for the fake upstream: ``POST /v1/moderations`` (base_url
``.../<scope>/v1``), as docs.mistral.ai/capabilities/guardrailing and mistralai client-python
(``classificationrequest.py``, ``classificationresponse.py``, ``classificationobject.py``)
show it: ``{"model", "input": string | [string]}`` (any other key, or parts, is a 422 as
Mistral's validation answers) → ``{"id", "model", "results": [{"categories": {name: bool},
"category_scores": {name: number}}], "usage"}`` with Mistral's nine category names and no
``flagged``.

OpenAI's moderation path is the same, so this protocol ``claims`` only requests whose model
is one of Mistral's (``mistral-moderation-*``); every other one goes on to ops_openai.py.
A text saying "kill" scores ``violence_and_threats``; one with an e-mail address ``pii``.
Errors in Mistral's (OpenAI-like) shape.
"""

from __future__ import annotations

import re

import fake_upstream as fu

CATEGORIES = ["sexual", "hate_and_discrimination", "violence_and_threats", "dangerous_and_criminal_content",
              "selfharm", "health", "financial", "law", "pii"]


class MistralModerations(fu.Protocol):
    name = "mistral-moderations"
    routes = {("POST", "/v1/moderations"): "moderations"}

    error_type_for = fu.OpenAIProtocol.error_type_for
    error_body = fu.OpenAIProtocol.error_body

    def claims(self, req: fu.Request) -> bool:
        return isinstance(req.json, dict) and str(req.json.get("model", "")).startswith("mistral-moderation")

    def moderations(self, req: fu.Request):
        body = req.json
        unknown = sorted(set(body) - {"model", "input"})
        if unknown:
            return fu.JsonResponse(422, self.error_body(422, f"Extra inputs are not permitted: {unknown[0]}"))
        inp = body.get("input")
        texts = [inp] if isinstance(inp, str) else inp
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return fu.JsonResponse(422, self.error_body(422, "input: Input should be a valid string or list of strings"))
        results = []
        for t in texts:
            scores = {c: 0.0002 for c in CATEGORIES}
            if re.search(r"\bkill\b", t, re.I):
                scores["violence_and_threats"] = 0.93
            if re.search(r"\S+@\S+\.\w+", t):
                scores["pii"] = 0.88
            results.append({"categories": {c: s > 0.5 for c, s in scores.items()}, "category_scores": scores})
        n = sum(len(fu.words(t)) for t in texts)
        return fu.JsonResponse(200, {"id": f"mod-fake-{req.state.next_id()}", "model": body["model"],
                                     "results": results,
                                     "usage": {"prompt_tokens": n, "total_tokens": n, "completion_tokens": 0}})


PROTOCOL = MistralModerations()
