# SPDX-License-Identifier: Apache-2.0
"""Azure OpenAI's Responses API for the fake upstream (base_url ``.../<scope>``, the resource
root as in ``azure.py``). Azure serves it without a deployment in the path: the deployment is
the body's ``model``.

| request | answer |
|---|---|
| ``POST /openai/v1/responses`` (the v1 API) | ``responses.py``'s answer, with Azure's auth check and error shape |
| ``POST /openai/responses?api-version=...`` | the same; without ``api-version`` 400 ``MissingApiVersionParameter`` |
"""

from __future__ import annotations

import fake_upstream as fu
from fake_upstream_protocol_azure import AzureProtocol
from fake_upstream_protocol_responses import answer


class AzureResponsesProtocol(AzureProtocol):
    name = "azure_responses"
    routes = {("POST", "/openai/v1/responses"): "v1_responses", ("POST", "/openai/responses"): "versioned_responses"}
    personality_routes = {}

    def find(self, method, subpath):
        name = self.routes.get((method, subpath))
        return getattr(self, name) if name else None

    def wants_stream(self, req: fu.Request) -> bool:
        return isinstance(req.json, dict) and req.json.get("stream") is True

    def v1_responses(self, req: fu.Request):
        if (r := self.gate(req, needs_version=False)) is not None:
            return r
        return answer(req, self.require_json_object(req))

    def versioned_responses(self, req: fu.Request):
        if (r := self.gate(req, needs_version=True)) is not None:
            return r
        return answer(req, self.require_json_object(req))


PROTOCOL = AzureResponsesProtocol()
