"""llama.cpp's ``llama-server`` native endpoints for the fake upstream. A provider's base_url
is ``http://127.0.0.1:PORT/<scope>/v1`` (llama-server's is ``http://127.0.0.1:8080/v1``): the
OpenAI-compatible ``/v1/...`` routes are the OpenAI protocol's; the codec strips ``/v1`` to
reach the endpoints below at ``http://127.0.0.1:PORT/<scope>/...``.

| request | answer |
|---|---|
| ``GET /health`` | 200 ``{"status":"ok"}`` |
| ``GET /props`` | ``{"default_generation_settings":{"n_ctx":4096},"total_slots":1,"model_path":"/models/x.gguf"}`` |

Errors have llama.cpp's shape ``{"error":{"code":<status>,"message":...,"type":...}}`` with its
type names (``unavailable_error`` for 503, ...). A scripted ``{"status":503}`` without a
``message`` says ``Loading model``, as llama-server does while it loads the model (the one time
it answers 503); a scripted ``message`` wins.
"""

from __future__ import annotations

import fake_upstream as fu

TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "not_found_error", 501: "not_supported_error", 503: "unavailable_error"}


class LlamaCppProtocol(fu.Protocol):
    name = "llamacpp"
    routes = {("GET", "/health"): "health", ("GET", "/props"): "props"}

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
                                     "total_slots": 1, "model_path": "/models/x.gguf"})


PROTOCOL = LlamaCppProtocol()
