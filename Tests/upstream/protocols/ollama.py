# SPDX-License-Identifier: Apache-2.0
"""Ollama's native API for the fake upstream. A provider's base_url is
``http://127.0.0.1:PORT/<scope>`` (the server root, as Ollama's own is
``http://127.0.0.1:11434``); the paths below follow the scope segment.

| request | answer |
|---|---|
| ``POST /api/chat`` | ``"echo: " + <last user message>``. Streams unless ``"stream": false`` (Ollama's default is to stream): NDJSON, one ``{model, created_at, message:{role, content}, done:false}`` line per word (word + following whitespace), then a ``done: true`` line with ``done_reason`` and the counts (``prompt_eval_count`` = words in all messages, ``eval_count`` = words of the reply) and durations in ns. With ``tools`` and the word ``weather`` in the last user message: one line carrying the whole tool call to the first tool, ``arguments`` an OBJECT ``{"city": "Paris"}`` (Ollama never splits a call), then the done line, whose ``done_reason`` is ``"stop"`` as Ollama's is. ``options.num_predict`` below the reply's word count cuts it (``"length"``); an ``options.stop`` string found in the reply ends it there. |
| ``POST /api/embed`` | ``{model, embeddings: [[8 floats]...], total_duration, load_duration, prompt_eval_count}`` (``fu.embed``) |
| ``GET /api/tags`` | the scope's model list as ``{models: [{name, model, modified_at, size, digest, details}]}`` (entries set with ``id`` are converted; entries with ``name`` are sent as given) |
| ``POST /api/show`` | details, ``model_info`` with ``general.architecture`` and ``<arch>.context_length`` (131072; ``nomic-bert`` and 2048 for names with ``embed``), ``capabilities``; 404 for a model not in the list |
| ``GET /api/ps`` | the models this scope's chat/embed requests used, most recent first, with ``expires_at``, ``size_vram``, ``context_length`` |
| ``POST /api/pull`` | NDJSON progress (manifest, two download lines, verify, write, success) and the model joins the list; names starting ``missing`` get ``{"error": "pull model manifest: file does not exist"}`` after the manifest line (HTTP 200, as Ollama does). ``"stream": false``: one ``{"status":"success"}`` (or a 500 with the error). |
| ``DELETE /api/delete`` | 200 with an empty body, the model leaves the list; 404 ``{"error": "model 'x' not found"}`` |
| ``GET /api/version`` | ``{"version": "0.12.6"}`` |

With ``--personality ollama`` the server answers at its root, as a real Ollama does, only
``GET /`` (``Ollama is running``, text/plain), ``GET /api/version``, ``GET /api/tags`` and
``POST /api/chat``; every other path is a 404.

Like Ollama it refuses what a codec must not send: no ``model`` (400 ``model is required``),
a ``content`` that is not a string, ``images`` that are not base64, tool-call ``arguments``
that are not an object (Go's ``cannot unmarshal`` errors), a ``format`` that is neither
``"json"`` nor a schema object. It takes no key (an ``Authorization`` header is only logged).

Errors are ``{"error": "<text>"}``. The fault vocabulary's malformed line is
``{"message": {not json``; its error event is ``{"error":"fake mid-stream error"}`` under
HTTP 200, as Ollama reports a failure after the stream started.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import re
import time

import fake_upstream as fu

TOOL_ARGS = {"city": "Paris"}
VERSION = "0.12.6"
NDJSON = "application/x-ndjson"


def line(obj) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def now_rfc3339() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


def digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def details(name: str) -> dict:
    embed = "embed" in name
    return {"parent_model": "", "format": "gguf", "family": "nomic-bert" if embed else "llama",
            "families": ["nomic-bert"] if embed else ["llama"],
            "parameter_size": "137M" if embed else "8.0B",
            "quantization_level": "F16" if embed else "Q4_K_M"}


def tag_entry(m: dict) -> dict | None:
    """A scope model-list entry in /api/tags shape."""
    if "name" in m:
        return m
    name = m.get("id")
    if not isinstance(name, str):
        return None
    return {"name": name, "model": name, "modified_at": "2025-06-01T12:00:00.000000000Z",
            "size": 4920753328 if "embed" not in name else 274302450, "digest": digest(name),
            "details": details(name)}


class OllamaProtocol(fu.Protocol):
    name = "ollama"
    routes = {
        ("POST", "/api/chat"): "chat",
        ("POST", "/api/embed"): "embed",
        ("GET", "/api/tags"): "tags",
        ("POST", "/api/show"): "show",
        ("GET", "/api/ps"): "ps",
        ("POST", "/api/pull"): "pull",
        ("DELETE", "/api/delete"): "delete",
        ("GET", "/api/version"): "version",
    }
    personality_routes = {
        ("GET", "/"): "root",
        ("GET", "/api/version"): "version",
        ("GET", "/api/tags"): "tags",
        ("POST", "/api/chat"): "chat",
    }

    # --- errors: Ollama's are one string ---
    def error_type_for(self, status: int) -> str:
        return ""

    def error_body(self, status, message, err_type=None, code=None):
        return {"error": message}

    def bad(self, message: str, status: int = 400) -> fu.JsonResponse:
        return fu.JsonResponse(status, {"error": message})

    def wants_stream(self, req: fu.Request) -> bool:
        # Ollama streams unless told not to.
        return (req.subpath in ("/api/chat", "/api/pull") and isinstance(req.json, dict)
                and req.json.get("stream", True) is not False)

    def body(self, req: fu.Request) -> dict:
        if req.json_error is not None:
            raise fu.BadRequest(f"invalid character in request body: {req.json_error}")
        if not isinstance(req.json, dict):
            raise fu.BadRequest("json: cannot unmarshal request body into a Go value of type api.Request")
        return req.json

    def model_names(self, req: fu.Request) -> list[str]:
        with req.state.lock:
            models = copy.deepcopy(req.state.scope(req.scope).models)
        return [e["name"] for e in (tag_entry(m) for m in models) if e]

    # --- /api/chat ---
    def check_messages(self, messages) -> str | None:
        """Ollama's decoding errors for what its Go structs cannot take."""
        if not isinstance(messages, list):
            return "json: cannot unmarshal messages into Go struct field ChatRequest.messages of type []api.Message"
        for m in messages:
            if not isinstance(m, dict):
                return "json: cannot unmarshal into Go struct field ChatRequest.messages of type api.Message"
            c = m.get("content")
            if c is not None and not isinstance(c, str):
                kind = "array" if isinstance(c, list) else type(c).__name__
                return f"json: cannot unmarshal {kind} into Go struct field Message.messages.content of type string"
            for img in m.get("images") or []:
                try:
                    if not isinstance(img, str):
                        raise binascii.Error
                    base64.b64decode(img, validate=True)
                except (binascii.Error, ValueError):
                    return "illegal base64 data at input byte 0"
            for tc in m.get("tool_calls") or []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if not isinstance(fn, dict) or not isinstance(fn.get("arguments", {}), dict):
                    return ("json: cannot unmarshal string into Go struct field "
                            "ToolCallFunction.messages.tool_calls.function.arguments of type "
                            "api.ToolCallFunctionArguments")
        return None

    def chat(self, req: fu.Request):
        body = self.body(req)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.bad("model is required")
        messages = body.get("messages")
        problem = self.check_messages(messages if messages is not None else [])
        if problem:
            return self.bad(problem)
        fmt = body.get("format")
        if fmt is not None and fmt not in ("", "json") and not isinstance(fmt, dict):
            return self.bad(f"invalid format: {json.dumps(fmt)}")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return self.bad("json: cannot unmarshal options into a map")

        last_user, prompt_tokens = "", 0
        for m in messages or []:
            text = m.get("content") or ""
            prompt_tokens += len(fu.words(text))
            if m.get("role") == "user":
                last_user = text
        tools = body.get("tools")
        tool_name = None
        if isinstance(tools, list) and tools and re.search(r"\bweather\b", last_user, re.I):
            first = tools[0] if isinstance(tools[0], dict) else {}
            fn = first.get("function") if isinstance(first.get("function"), dict) else {}
            tool_name = fn.get("name") or "tool"

        reply = "echo: " + last_user
        reason = "stop"
        stops = options.get("stop") or []
        for s in stops if isinstance(stops, list) else [stops]:
            if isinstance(s, str) and s and s in reply:
                reply = reply[: reply.index(s)]
        tokens = re.findall(r"\S+\s*", reply)
        limit = options.get("num_predict")
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(tokens):
            tokens, reason = tokens[:limit], "length"
            reply = "".join(tokens)
        completion_tokens = len(fu.words(json.dumps(TOOL_ARGS))) if tool_name else len(tokens)
        # `think` (a bool or "low"/"medium"/"high"): the thinking in `message.thinking`, before
        # the content, counted in eval_count as Ollama does.
        think = body.get("think")
        if think is not None and not isinstance(think, (bool, str)):
            return self.bad("json: cannot unmarshal think")
        if isinstance(think, str) and think not in ("low", "medium", "high"):
            return self.bad(f"invalid think value: {think!r}")
        thought = f"thinking about: {last_user}" if think not in (None, False) else None
        if thought:
            completion_tokens += len(fu.words(thought))

        created = now_rfc3339()
        final = {"model": model, "created_at": created,
                 "message": {"role": "assistant", "content": ""},
                 "done_reason": reason, "done": True,
                 "total_duration": 120_000_000 + 20_000_000 * completion_tokens,
                 "load_duration": 15_000_000,
                 "prompt_eval_count": prompt_tokens,
                 "prompt_eval_duration": 1_000_000 * max(prompt_tokens, 1),
                 "eval_count": completion_tokens,
                 "eval_duration": 20_000_000 * completion_tokens}
        tool_calls = [{"function": {"name": tool_name, "arguments": dict(TOOL_ARGS)}}] if tool_name else None

        if body.get("stream", True) is False:
            message = {"role": "assistant", "content": "" if tool_name else reply}
            if thought:
                message["thinking"] = thought
            if tool_calls:
                message["tool_calls"] = tool_calls
            return fu.JsonResponse(200, dict(final, message=message))

        def chunk(message: dict) -> bytes:
            return line({"model": model, "created_at": now_rfc3339(), "message": message, "done": False})

        if tool_calls:
            events = [chunk({"role": "assistant", "content": "", "tool_calls": tool_calls})]
        else:
            events = [chunk({"role": "assistant", "content": tok}) for tok in tokens]
        if thought:
            events[:0] = [chunk({"role": "assistant", "content": "", "thinking": tok})
                          for tok in re.findall(r"\S+\s*", thought)]
        events.append(line(final))
        return fu.Stream(content_type=NDJSON, events=events,
                         malformed=b'{"message": {not json\n',
                         error_event=b'{"error":"fake mid-stream error"}\n')

    # --- /api/embed ---
    def embed(self, req: fu.Request):
        body = self.body(req)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.bad("model is required")
        inputs = fu.string_list(body.get("input"), allow_empty=True)
        if inputs is None:
            return self.bad("invalid input type")
        n = sum(len(fu.words(t)) for t in inputs)
        return fu.JsonResponse(200, {"model": model, "embeddings": [fu.embed(t) for t in inputs],
                                     "total_duration": 14_143_917, "load_duration": 1_019_500,
                                     "prompt_eval_count": n})

    # --- models ---
    def tags(self, req: fu.Request):
        with req.state.lock:
            models = copy.deepcopy(req.state.scope(req.scope).models)
        return fu.JsonResponse(200, {"models": [e for e in (tag_entry(m) for m in models) if e]})

    def show(self, req: fu.Request):
        body = self.body(req)
        name = body.get("model") or body.get("name")
        if not isinstance(name, str) or not name:
            return self.bad("model is required")
        if name not in self.model_names(req):
            return self.bad(f"model '{name}' not found", 404)
        embed = "embed" in name
        arch = "nomic-bert" if embed else "llama"
        caps = ["embedding"] if embed else ["completion", "tools"] + (["vision"] if "llava" in name else [])
        return fu.JsonResponse(200, {
            "modelfile": f"# Modelfile generated by \"ollama show\"\nFROM {name}\n",
            "parameters": 'stop                           "<|eot_id|>"',
            "template": "{{ .Prompt }}",
            "details": details(name),
            "model_info": {"general.architecture": arch, "general.file_type": 15,
                           "general.parameter_count": 137_000_000 if embed else 8_030_261_248,
                           f"{arch}.context_length": 2048 if embed else 131072,
                           f"{arch}.embedding_length": 768 if embed else 4096,
                           "tokenizer.ggml.model": "gpt2"},
            "capabilities": caps,
            "modified_at": "2025-06-01T12:00:00.000000000Z"})

    def ps(self, req: fu.Request):
        with req.state.lock:
            log = list(req.state.scope(req.scope).requests)
        seen: list[str] = []
        for entry in reversed(log):
            path = entry.get("path", "").split("?")[0]
            j = entry.get("json")
            if (path.endswith("/api/chat") or path.endswith("/api/embed")) and isinstance(j, dict) \
                    and isinstance(j.get("model"), str) and j["model"] not in seen:
                seen.append(j["model"])
        expires = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 300)) + ".000000000Z"
        return fu.JsonResponse(200, {"models": [
            {"name": n, "model": n, "size": 6_654_289_920, "digest": digest(n), "details": details(n),
             "expires_at": expires, "size_vram": 6_654_289_920, "context_length": 4096}
            for n in seen]})

    def pull(self, req: fu.Request):
        body = self.body(req)
        name = body.get("model") or body.get("name")
        if not isinstance(name, str) or not name:
            return self.bad("model is required")
        missing = name.startswith("missing")
        failure = "pull model manifest: file does not exist"
        if not missing:
            with req.state.lock:
                models = req.state.scope(req.scope).models
                if name not in [e["name"] for e in (tag_entry(m) for m in models) if e]:
                    models.append({"id": name, "object": "model", "owned_by": "library"})
        if body.get("stream", True) is False:
            return self.bad(failure, 500) if missing else fu.JsonResponse(200, {"status": "success"})
        d = "sha256:" + digest(name)
        total = 2_019_377_376
        if missing:
            events = [line({"status": "pulling manifest"}), line({"error": failure})]
        else:
            events = [line({"status": "pulling manifest"}),
                      line({"status": f"pulling {d[7:19]}", "digest": d, "total": total, "completed": total // 3}),
                      line({"status": f"pulling {d[7:19]}", "digest": d, "total": total, "completed": total}),
                      line({"status": "verifying sha256 digest"}),
                      line({"status": "writing manifest"}),
                      line({"status": "success"})]
        return fu.Stream(content_type=NDJSON, events=events,
                         malformed=b'{"status": {not json\n',
                         error_event=b'{"error":"fake mid-stream error"}\n')

    def delete(self, req: fu.Request):
        body = self.body(req)
        name = body.get("model") or body.get("name")
        if not isinstance(name, str) or not name:
            return self.bad("model is required")
        with req.state.lock:
            st = req.state.scope(req.scope)
            keep = [m for m in st.models if (tag_entry(m) or {}).get("name") != name]
            found = len(keep) != len(st.models)
            st.models = keep
        if not found:
            return self.bad(f"model '{name}' not found", 404)
        return EmptyResponse(200, None)

    def version(self, req: fu.Request):
        return fu.JsonResponse(200, {"version": VERSION})

    def root(self, req: fu.Request):
        return fu.TextResponse(200, "Ollama is running")


class EmptyResponse(fu.JsonResponse):
    """Ollama answers a delete with 200 and no body at all."""
    def body(self) -> bytes:
        return b""


PROTOCOL = OllamaProtocol()
