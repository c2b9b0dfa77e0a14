# SPDX-License-Identifier: Apache-2.0
"""LM Studio's own REST API for the fake upstream. A provider's base_url is
``http://127.0.0.1:PORT/<scope>/v1`` (LM Studio's is ``http://127.0.0.1:1234/v1``): the
OpenAI-compatible ``/v1/...`` routes are the OpenAI protocol's; the codec strips ``/v1`` to
reach the native endpoints below at ``http://127.0.0.1:PORT/<scope>/...``.

| request | answer |
|---|---|
| ``GET /api/v0/models`` | ``{"object":"list","data":[...]}``: each model with ``type`` (``llm``/``vlm``/``embeddings``), ``publisher``, ``arch``, ``compatibility_type``, ``quantization``, ``state`` (``loaded``/``not-loaded``), ``max_context_length``. By default ``qwen2.5-7b-instruct`` (llm, loaded, 32768) and ``text-embedding-nomic-embed-text-v1.5`` (embeddings, not-loaded, 2048). A scope model list set through the control API is used instead: entries that carry ``type`` are sent as given, bare ``{"id"}`` entries get llm defaults. |
| ``GET /api/v0/models/<id>`` | that one model, or 404 ``{"error":"Model <id> not found"}`` |

With ``--personality lmstudio`` the server answers at its root only ``GET /api/v0/models`` and
``GET /v1/models`` (the same models in OpenAI's list shape, ``owned_by`` = publisher); every
other path is a 404.

Errors have the OpenAI shape, except the 404 above.
"""

from __future__ import annotations

import copy

import fake_upstream as fu

LMSTUDIO_MODELS = [
    {"id": "qwen2.5-7b-instruct", "object": "model", "type": "llm",
     "publisher": "lmstudio-community", "arch": "qwen2", "compatibility_type": "gguf",
     "quantization": "Q4_K_M", "state": "loaded", "max_context_length": 32768},
    {"id": "text-embedding-nomic-embed-text-v1.5", "object": "model", "type": "embeddings",
     "publisher": "nomic-ai", "arch": "nomic-bert", "compatibility_type": "gguf",
     "quantization": "Q4_K_M", "state": "not-loaded", "max_context_length": 2048},
]


def lm_entry(m: dict) -> dict | None:
    if not isinstance(m, dict) or not isinstance(m.get("id"), str):
        return None
    if "type" in m:
        return m
    return {"id": m["id"], "object": "model", "type": "llm", "publisher": "lmstudio-community",
            "arch": "llama", "compatibility_type": "gguf", "quantization": "Q4_K_M",
            "state": "not-loaded", "max_context_length": 4096}


class LMStudioProtocol(fu.OpenAIProtocol):
    name = "lmstudio"
    routes = {("GET", "/api/v0/models"): "v0_models"}
    personality_routes = {("GET", "/api/v0/models"): "v0_models", ("GET", "/v1/models"): "v1_models"}
    PREFIX = "/api/v0/models/"

    def find(self, method: str, subpath: str):
        fn = super().find(method, subpath)
        if fn is None and method == "GET" and subpath.startswith(self.PREFIX) \
                and len(subpath) > len(self.PREFIX):
            return self.v0_model
        return fn

    def wants_stream(self, req: fu.Request) -> bool:
        return False

    def model_list(self, req: fu.Request) -> list[dict]:
        with req.state.lock:
            models = copy.deepcopy(req.state.scope(req.scope).models)
        if models == fu.DEFAULT_MODELS:
            return copy.deepcopy(LMSTUDIO_MODELS)
        return [e for e in (lm_entry(m) for m in models) if e]

    def v0_models(self, req: fu.Request):
        return fu.JsonResponse(200, {"object": "list", "data": self.model_list(req)})

    def v1_models(self, req: fu.Request):
        return fu.JsonResponse(200, {"object": "list", "data": [
            {"id": m["id"], "object": "model", "owned_by": m.get("publisher", "organization_owner")}
            for m in self.model_list(req)]})

    def v0_model(self, req: fu.Request):
        wanted = req.subpath[len(self.PREFIX):]
        for m in self.model_list(req):
            if m["id"] == wanted:
                return fu.JsonResponse(200, m)
        return fu.JsonResponse(404, {"error": f"Model {wanted} not found"})


PROTOCOL = LMStudioProtocol()
