# SPDX-License-Identifier: Apache-2.0
"""Azure OpenAI for the fake upstream, served with the OpenAI shapes (``fu.OpenAIProtocol``'s
handlers). A provider's base_url is ``http://127.0.0.1:PORT/<scope>`` (the resource root, as
Azure's own is ``https://<resource>.openai.azure.com``); the paths below follow the scope.

| request | answer |
|---|---|
| ``POST /openai/deployments/<dep>/chat/completions?api-version=...`` | OpenAI's chat reply, ``model`` = the deployment name, with Azure's ``prompt_filter_results`` / ``content_filter_results``. Streams (``"stream": true``) start with a chunk that has ``choices: []`` and ``prompt_filter_results`` (as Azure's do), then OpenAI's chunks. |
| ``POST /openai/deployments/<dep>/embeddings?api-version=...`` | OpenAI's embeddings, ``model`` = the deployment name |
| ``POST /openai/v1/chat/completions``, ``POST /openai/v1/embeddings`` | the v1 API: OpenAI's replies, the model from the body |
| ``GET /openai/v1/models``, ``GET /openai/models`` | the scope's model list |

The deployment routes need the ``api-version`` query parameter: without it, 400
``{"error":{"code":"MissingApiVersionParameter","message":...}}``. Errors have Azure's shape
``{"error":{"code":"<code>","message":"<text>"}}`` (``code`` is the HTTP status as a string
unless a fault's ``error_code`` says otherwise).

Auth is the ``api-key`` header; it is only logged. A request carrying ``Authorization``
instead is still served (tests assert on the request log); one with neither gets 401.
"""

from __future__ import annotations

import dataclasses
import json
import re
from urllib.parse import parse_qs, urlsplit

import fake_upstream as fu

DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)/(chat/completions|embeddings)$")

FILTER_OK = {"hate": {"filtered": False, "severity": "safe"},
             "self_harm": {"filtered": False, "severity": "safe"},
             "sexual": {"filtered": False, "severity": "safe"},
             "violence": {"filtered": False, "severity": "safe"}}
PROMPT_FILTER_RESULTS = [{"prompt_index": 0, "content_filter_results": FILTER_OK}]


class AzureProtocol(fu.OpenAIProtocol):
    name = "azure"
    routes = {
        ("POST", "/openai/v1/chat/completions"): "v1_chat",
        ("POST", "/openai/v1/embeddings"): "v1_embeddings",
        ("GET", "/openai/v1/models"): "models",
        ("GET", "/openai/models"): "models",
    }

    def find(self, method: str, subpath: str):
        fn = super().find(method, subpath)
        if fn is not None:
            return fn
        m = DEPLOYMENT.match(subpath)
        if method == "POST" and m:
            return self.deployment_chat if m.group(2) == "chat/completions" else self.deployment_embeddings
        return None

    def wants_stream(self, req: fu.Request) -> bool:
        return (req.subpath.endswith("/chat/completions") and isinstance(req.json, dict)
                and req.json.get("stream") is True)

    # --- errors: Azure's shape ---
    def error_body(self, status, message, err_type=None, code=None):
        return {"error": {"code": str(code) if code is not None else str(status), "message": message}}

    def bad_request(self, message: str) -> fu.JsonResponse:
        return fu.JsonResponse(400, self.error_body(400, message))

    # --- helpers ---
    @staticmethod
    def api_version(req: fu.Request) -> str | None:
        v = parse_qs(urlsplit(req.path).query).get("api-version")
        return v[0] if v and v[0] else None

    def auth_error(self, req: fu.Request) -> fu.JsonResponse | None:
        if "api-key" in req.headers or "authorization" in req.headers:
            return None
        return fu.JsonResponse(401, self.error_body(
            401, "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                 "to provide a valid key for an active subscription and use a correct regional "
                 "API endpoint for your resource."))

    def gate(self, req: fu.Request, needs_version: bool) -> fu.JsonResponse | None:
        if (r := self.auth_error(req)) is not None:
            return r
        if needs_version and self.api_version(req) is None:
            return fu.JsonResponse(400, self.error_body(
                400, "The api-version query parameter (?api-version=) is required for all requests.",
                code="MissingApiVersionParameter"))
        return None

    @staticmethod
    def with_model(req: fu.Request, model: str) -> fu.Request:
        body = req.json
        if isinstance(body, dict):
            body = dict(body)
            body["model"] = model
        return dataclasses.replace(req, json=body)

    def azure_chat(self, req: fu.Request):
        result = self.chat_completions(req)
        if isinstance(result, fu.Stream):
            first = fu.sse({"choices": [], "created": 0, "id": "", "model": "", "object": "",
                            "prompt_filter_results": PROMPT_FILTER_RESULTS})
            result.events.insert(0, first)
            return result
        if result.status == 200 and isinstance(result.obj, dict):
            result.obj["prompt_filter_results"] = PROMPT_FILTER_RESULTS
            for c in result.obj.get("choices", []):
                c["content_filter_results"] = FILTER_OK
        return result

    # --- endpoints ---
    def deployment_chat(self, req: fu.Request):
        if (r := self.gate(req, needs_version=True)) is not None:
            return r
        dep = DEPLOYMENT.match(req.subpath).group(1)
        self.require_json_object(req)
        return self.azure_chat(self.with_model(req, dep))

    def deployment_embeddings(self, req: fu.Request):
        if (r := self.gate(req, needs_version=True)) is not None:
            return r
        dep = DEPLOYMENT.match(req.subpath).group(1)
        self.require_json_object(req)
        return self.embeddings(self.with_model(req, dep))

    def v1_chat(self, req: fu.Request):
        if (r := self.gate(req, needs_version=False)) is not None:
            return r
        body = self.require_json_object(req)
        if not isinstance(body.get("model"), str) or not body["model"]:
            raise fu.BadRequest("model is required in the request body for the v1 API.")
        return self.azure_chat(req)

    def v1_embeddings(self, req: fu.Request):
        if (r := self.gate(req, needs_version=False)) is not None:
            return r
        return self.embeddings(req)

    def models(self, req: fu.Request):
        if (r := self.auth_error(req)) is not None:
            return r
        return super().models(req)


PROTOCOL = AzureProtocol()
