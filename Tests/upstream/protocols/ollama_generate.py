# SPDX-License-Identifier: Apache-2.0
"""Ollama's ``POST /api/generate`` for the fake upstream (base_url ``http://127.0.0.1:PORT/<scope>``,
the server root, as for ``/api/chat`` in ``ollama.py``).

Request ``{model, prompt, suffix, raw, images, system, template, stream, options, keep_alive}``;
the text is ``"echo: " + prompt`` (``+ " | " + suffix`` with a suffix), cut by
``options.num_predict`` (``done_reason: "length"``) and ``options.stop``. Streams unless
``"stream": false`` (Ollama's default is to stream): NDJSON ``{model, created_at, response,
done: false}`` per word, then ``{..., response: "", done: true, done_reason, context,
prompt_eval_count, eval_count, durations}``; ``"stream": false`` gives that last object with the
whole text in ``response``. A ``suffix`` with a model whose name contains ``nofim`` is Ollama's
400 ``... does not support insert``. Refuses a missing ``model``, a non-string ``prompt`` or
``suffix``, and fields of ``/api/chat`` (``messages``). Errors ``{"error": "<text>"}``; the
fault vocabulary's malformed line is ``{"response": {not json``, its error event
``{"error":"fake mid-stream error"}`` under HTTP 200.
"""

from __future__ import annotations

import json

import fake_upstream as fu
from fake_upstream_protocol_completions import reply_tokens  # noqa: E402  (loaded before, by name order)
from fake_upstream_protocol_ollama import NDJSON, OllamaProtocol, line, now_rfc3339


class OllamaGenerateProtocol(OllamaProtocol):
    name = "ollama_generate"
    routes = {("POST", "/api/generate"): "generate"}
    personality_routes = {}

    def wants_stream(self, req: fu.Request) -> bool:
        return (req.subpath == "/api/generate" and isinstance(req.json, dict)
                and req.json.get("stream", True) is not False)

    def generate(self, req: fu.Request):
        body = self.body(req)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.bad("model is required")
        if "messages" in body:
            return self.bad("json: unknown field \"messages\"")
        prompt, suffix = body.get("prompt", ""), body.get("suffix")
        if not isinstance(prompt, str) or (suffix is not None and not isinstance(suffix, str)):
            return self.bad("json: cannot unmarshal into Go struct field GenerateRequest.prompt of type string")
        if suffix and "nofim" in model:
            return self.bad(f"registry.ollama.ai/library/{model} does not support insert")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return self.bad("json: cannot unmarshal options into a map")
        tokens, reason = reply_tokens(prompt, suffix, options.get("num_predict"), options.get("stop"))
        prompt_tokens = len(fu.words(prompt)) + len(fu.words(suffix or ""))
        final = {"model": model, "created_at": now_rfc3339(), "response": "", "done": True,
                 "done_reason": reason, "context": [1, 2, 3],
                 "total_duration": 120_000_000 + 20_000_000 * len(tokens), "load_duration": 15_000_000,
                 "prompt_eval_count": prompt_tokens, "prompt_eval_duration": 1_000_000 * max(prompt_tokens, 1),
                 "eval_count": len(tokens), "eval_duration": 20_000_000 * max(len(tokens), 1)}
        if body.get("stream", True) is False:
            return fu.JsonResponse(200, dict(final, response="".join(tokens)))
        events = [line({"model": model, "created_at": now_rfc3339(), "response": tok, "done": False})
                  for tok in tokens]
        events.append(line(final))
        return fu.Stream(content_type=NDJSON, events=events,
                         malformed=b'{"response": {not json\n',
                         error_event=b'{"error":"fake mid-stream error"}\n')


PROTOCOL = OllamaGenerateProtocol()
