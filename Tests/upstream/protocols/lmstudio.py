# SPDX-License-Identifier: Apache-2.0
"""LM Studio's own REST API for the fake upstream. A provider's base_url is
``http://127.0.0.1:PORT/<scope>/v1`` (LM Studio's is ``http://127.0.0.1:1234/v1``): the
OpenAI-compatible ``/v1/...`` routes are the OpenAI protocol's; the codec strips ``/v1`` to
reach the native endpoints below at ``http://127.0.0.1:PORT/<scope>/...``.

| request | answer |
|---|---|
| ``GET /api/v0/models`` | ``{"object":"list","data":[...]}``: each model with ``type`` (``llm``/``vlm``/``embeddings``), ``publisher``, ``arch``, ``compatibility_type``, ``quantization``, ``state`` (``loaded``/``not-loaded``), ``max_context_length``. By default ``qwen2.5-7b-instruct`` (llm, loaded, 32768) and ``text-embedding-nomic-embed-text-v1.5`` (embeddings, not-loaded, 2048). A scope model list set through the control API is used instead: entries that carry ``type`` are sent as given, bare ``{"id"}`` entries get llm defaults. |
| ``GET /api/v0/models/<id>`` | that one model, or 404 ``{"error":"Model <id> not found"}`` |
| ``GET /api/v1/models`` | LM Studio 0.4's list: ``{"models":[{type, publisher, key, display_name, architecture, quantization, size_bytes, params_string, max_context_length, format, capabilities, loaded_instances: [{id, config: {context_length}}]}]}`` over the same models (``type`` ``llm`` or ``embedding``). A model listed with ``state: "loaded"`` starts with one instance whose id is its key. |
| ``POST /api/v1/models/load`` | ``{model, context_length?, eval_batch_size?, flash_attention?, num_experts?, offload_kv_cache_to_gpu?, echo_load_config?}`` → ``{type, instance_id, load_time_seconds, status: "loaded"}`` (+ ``load_config`` with ``echo_load_config``); a model already loaded gets a new instance ``<key>:2``, ``:3`` …. Unknown model: 404 ``{"error":{"message":"Model not found: <key>","type":"model_not_found"}}``; no ``model``, an unknown key or a wrong type: 400. |
| ``POST /api/v1/models/unload`` | ``{instance_id}`` → ``{instance_id}``; no such loaded instance: 404 ``{"error":{"message":"No loaded model instance found with id: <id>","type":"model_not_found"}}`` |

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


LOAD_KEYS = {"model": str, "context_length": int, "eval_batch_size": int, "flash_attention": bool,
             "num_experts": int, "offload_kv_cache_to_gpu": bool, "echo_load_config": bool}


class LMStudioProtocol(fu.OpenAIProtocol):
    name = "lmstudio"
    routes = {("GET", "/api/v0/models"): "v0_models", ("GET", "/api/v1/models"): "v1_rest_models",
              ("POST", "/api/v1/models/load"): "load", ("POST", "/api/v1/models/unload"): "unload"}
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


    # --- LM Studio 0.4 REST API (/api/v1): load, unload, list with loaded instances ---

    def loaded(self, req: fu.Request, models: list[dict]) -> dict:
        """model key -> [[instance id, context length]], kept per scope (caller holds the lock)."""
        scope = req.state.scope(req.scope)
        table = getattr(scope, "lmstudio_instances", None)
        if table is None:
            table = {m["id"]: [[m["id"], m.get("max_context_length", 4096)]]
                     for m in models if m.get("state") == "loaded"}
            scope.lmstudio_instances = table
        return table

    def error(self, status: int, message: str, err_type: str) -> fu.JsonResponse:
        return fu.JsonResponse(status, {"error": {"message": message, "type": err_type}})

    def v1_rest_models(self, req: fu.Request):
        models = self.model_list(req)
        with req.state.lock:
            table = {k: list(v) for k, v in self.loaded(req, models).items()}
        out = []
        for m in models:
            kind = "embedding" if m.get("type") == "embeddings" else "llm"
            out.append({"type": kind, "publisher": m.get("publisher", "lmstudio-community"), "key": m["id"],
                        "display_name": m["id"], "architecture": m.get("arch", "llama"),
                        "quantization": {"name": m.get("quantization", "Q4_K_M"), "bits_per_weight": 4},
                        "size_bytes": 4_683_073_952, "params_string": "7B",
                        "max_context_length": m.get("max_context_length", 4096), "format": "gguf",
                        "capabilities": {"vision": m.get("type") == "vlm", "trained_for_tool_use": True} if kind == "llm" else None,
                        "loaded_instances": [{"id": i, "config": {"context_length": ctx}} for i, ctx in table.get(m["id"], [])]})
        return fu.JsonResponse(200, {"models": out})

    def load(self, req: fu.Request):
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            return self.error(400, "Request body must be a JSON object", "invalid_request")
        for key, value in body.items():
            want = LOAD_KEYS.get(key)
            if want is None:
                return self.error(400, f"Unrecognized key in body: {key}", "invalid_request")
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                return self.error(400, f"Invalid type for {key}", "invalid_request")
        key = body.get("model")
        if not key:
            return self.error(400, "Required field missing: model", "invalid_request")
        models = self.model_list(req)
        entry = next((m for m in models if m["id"] == key), None)
        if entry is None:
            return self.error(404, f"Model not found: {key}", "model_not_found")
        ctx = body.get("context_length", entry.get("max_context_length", 4096))
        with req.state.lock:
            instances = self.loaded(req, models).setdefault(key, [])
            instance = key if not instances else f"{key}:{len(instances) + 1}"
            instances.append([instance, ctx])
        answer = {"type": "embedding" if entry.get("type") == "embeddings" else "llm", "instance_id": instance,
                  "load_time_seconds": 1.25, "status": "loaded"}
        if body.get("echo_load_config"):
            answer["load_config"] = {"context_length": ctx, "flash_attention": body.get("flash_attention", False)}
        return fu.JsonResponse(200, answer)

    def unload(self, req: fu.Request):
        body = req.json if isinstance(req.json, dict) else {}
        instance = body.get("instance_id")
        if not isinstance(instance, str) or set(body) != {"instance_id"}:
            return self.error(400, "Body must be {\"instance_id\": string}", "invalid_request")
        models = self.model_list(req)
        with req.state.lock:
            for key, instances in self.loaded(req, models).items():
                for i, (iid, _) in enumerate(instances):
                    if iid == instance:
                        del instances[i]
                        return fu.JsonResponse(200, {"instance_id": instance})
        return self.error(404, f"No loaded model instance found with id: {instance}", "model_not_found")


PROTOCOL = LMStudioProtocol()
