# SPDX-License-Identifier: Apache-2.0
"""llama.cpp ``llama-server``'s native ``POST /infill`` for the fake upstream (at
``http://127.0.0.1:PORT/<scope>/infill``: the codec strips ``/v1`` from the base_url, as in
``llamacpp.py``).

Request ``{input_prefix, input_suffix, input_extra: [{filename, text}], prompt, n_predict,
temperature, stop, seed, stream, ...}`` (the ``/completion`` options); the text is
``"echo: " + input_prefix + " | " + input_suffix``, cut by ``n_predict`` (``stop_type:
"limit"``) and ``stop`` (``"word"``), else ``"eos"``. Answer ``{content, id_slot, stop: true,
model, tokens_predicted, tokens_evaluated, stop_type, stopping_word, truncated, timings}``;
``stream: true`` → SSE ``data: {content, stop: false, id_slot, index}`` per word, then the
final object with ``content: ""`` and ``stop: true`` (no ``[DONE]``, as llama-server's native
stream). Refuses OpenAI's names (``max_tokens``, ``suffix``) and a missing or non-string
``input_prefix``/``input_suffix``, or an ``input_extra`` entry without ``filename``/``text``
(400 in llama.cpp's error shape). A model named ``nofim`` answers llama.cpp's 501 ``Infill is
not supported by this model``.
"""

from __future__ import annotations

import fake_upstream as fu
from fake_upstream_protocol_completions import reply_tokens  # noqa: E402
from fake_upstream_protocol_llamacpp import LlamaCppProtocol, MODEL_PATH


class LlamaCppInfillProtocol(LlamaCppProtocol):
    name = "llamacpp_infill"
    routes = {("POST", "/infill"): "infill"}
    personality_routes = {}

    def wants_stream(self, req: fu.Request) -> bool:
        return req.subpath == "/infill" and isinstance(req.json, dict) and req.json.get("stream") is True

    def bad(self, status: int, message: str) -> fu.JsonResponse:
        return fu.JsonResponse(status, self.error_body(status, message))

    def infill(self, req: fu.Request):
        body = req.json if isinstance(req.json, dict) else None
        if body is None:
            return self.bad(400, "Invalid JSON body")
        for wrong in ("max_tokens", "suffix"):
            if wrong in body:
                return self.bad(400, f"\"{wrong}\" is an OpenAI field: /infill takes the /completion options")
        prefix, suffix = body.get("input_prefix"), body.get("input_suffix")
        if not isinstance(prefix, str) or not isinstance(suffix, str):
            return self.bad(400, "\"input_prefix\" and \"input_suffix\" must be strings")
        extra = body.get("input_extra", [])
        if not isinstance(extra, list) or not all(isinstance(e, dict) and isinstance(e.get("filename"), str)
                                                  and isinstance(e.get("text"), str) for e in extra):
            return self.bad(400, "\"input_extra\" must be an array of {\"filename\": string, \"text\": string}")
        model = body.get("model") if isinstance(body.get("model"), str) else MODEL_PATH.rsplit("/", 1)[-1]
        if model == "nofim":
            return self.bad(501, "Infill is not supported by this model")
        limit = body.get("n_predict", -1)
        tokens, reason = reply_tokens(prefix, suffix or " ", limit if isinstance(limit, int) and limit >= 0 else None,
                                      body.get("stop"))
        stop_type = "limit" if reason == "length" else "eos"
        evaluated = len(fu.words(prefix)) + len(fu.words(suffix))
        final = {"content": "", "id_slot": 0, "stop": True, "model": model, "tokens_predicted": len(tokens),
                 "tokens_evaluated": evaluated, "stop_type": stop_type, "stopping_word": "", "truncated": False,
                 "timings": {"prompt_n": evaluated, "predicted_n": len(tokens)}}
        if body.get("stream") is not True:
            return fu.JsonResponse(200, dict(final, content="".join(tokens)))
        events = [fu.sse({"content": tok, "stop": False, "id_slot": 0, "index": 0}) for tok in tokens]
        events.append(fu.sse(final))
        return fu.Stream(content_type="text/event-stream", events=events,
                         malformed=b'data: {"content": {not json\n\n',
                         error_event=fu.sse({"error": {"code": 500, "message": "fake mid-stream error",
                                                       "type": "server_error"}}))


PROTOCOL = LlamaCppInfillProtocol()
