# SPDX-License-Identifier: Apache-2.0
"""llama.cpp's ``llama-server`` native endpoints for the fake upstream. A provider's base_url
is ``http://127.0.0.1:PORT/<scope>/v1`` (llama-server's is ``http://127.0.0.1:8080/v1``): the
OpenAI-compatible ``/v1/...`` routes are the OpenAI protocol's; the codec strips ``/v1`` to
reach the endpoints below at ``http://127.0.0.1:PORT/<scope>/...``.

| request | answer |
|---|---|
| ``GET /health`` | 200 ``{"status":"ok"}`` |
| ``GET /props`` | ``{"default_generation_settings":{"n_ctx":4096},"total_slots":1,"model_path":"/models/x.gguf"}`` |

With ``--personality llamacpp`` the server answers at its root only ``GET /props``,
``GET /health`` and ``GET /v1/models``: llama-server's list of its one model, id ``x.gguf``
(the basename of ``model_path``; a scope model list set through the control API gives the
ids instead), ``owned_by: "llamacpp"``, ``meta.n_ctx_train``. Every other path is a 404.

Errors have llama.cpp's shape ``{"error":{"code":<status>,"message":...,"type":...}}`` with its
type names (``unavailable_error`` for 503, ...). A scripted ``{"status":503}`` without a
``message`` says ``Loading model``, as llama-server does while it loads the model (the one time
it answers 503); a scripted ``message`` wins.
"""

from __future__ import annotations

import copy

import fake_upstream as fu

MODEL_PATH = "/models/x.gguf"

TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "not_found_error", 501: "not_supported_error", 503: "unavailable_error"}


class LlamaCppProtocol(fu.Protocol):
    name = "llamacpp"
    routes = {("GET", "/health"): "health", ("GET", "/props"): "props"}
    personality_routes = {("GET", "/props"): "props", ("GET", "/health"): "health",
                          ("GET", "/v1/models"): "v1_models"}

    def error_type_for(self, status: int) -> str:
        return TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")

    def error_body(self, status, message, err_type=None, code=None):
        if status == 503 and message == f"fake fault {status}":
            message = "Loading model"
        return {"error": {"code": status, "message": message,
                          "type": err_type or self.error_type_for(status)}}

    def health(self, req: fu.Request):
        return fu.JsonResponse(200, {"status": "ok"})

    def props(self, req: fu.Request):
        return fu.JsonResponse(200, {"default_generation_settings": {"n_ctx": 4096},
                                     "total_slots": 1, "model_path": MODEL_PATH})

    def v1_models(self, req: fu.Request):
        with req.state.lock:
            models = copy.deepcopy(req.state.scope(req.scope).models)
        if models == fu.DEFAULT_MODELS:
            ids = [MODEL_PATH.rsplit("/", 1)[-1]]
        else:
            ids = [m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str)]
        return fu.JsonResponse(200, {"object": "list", "data": [
            {"id": i, "object": "model", "created": 1735689600, "owned_by": "llamacpp",
             "meta": {"n_ctx_train": 4096}} for i in ids]})


PROTOCOL = LlamaCppProtocol()
