# SPDX-License-Identifier: Apache-2.0
"""Text completions and fill-in-the-middle for the fake upstream, in each vendor's wire format.
Paths follow the scope segment (a provider's base_url is ``http://127.0.0.1:PORT/<scope>/v1``).

| request | answer |
|---|---|
| ``POST /v1/completions`` | OpenAI ``text_completion``: ``{id, object, created, model, choices: [{text, index, logprobs: null, finish_reason}], usage}``; ``stream: true`` → SSE chunks of the same shape (one per word), the last with ``finish_reason``, then a ``choices: []`` usage chunk only with ``stream_options.include_usage``, then ``data: [DONE]`` |
| ``POST /beta/completions`` | the same: DeepSeek's FIM/completions endpoint (``https://api.deepseek.com/beta``) |
| ``POST /v1/fim/completions`` | Mistral FIM: ``{model, prompt, suffix, max_tokens, min_tokens, temperature, top_p, stop, random_seed, stream}`` answered in CHAT shape (``chat.completion``, ``message.content``; stream: ``chat.completion.chunk`` deltas, usage on the last chunk, ``[DONE]``) |

The text is ``"echo: " + prompt`` (``+ " | " + suffix`` when a suffix is given), as words;
``max_tokens`` (OpenAI's default 16 when absent) caps the words (``finish_reason: "length"``),
a ``stop`` string found in it ends it there. usage: ``prompt_tokens`` = words of prompt and
suffix, ``completion_tokens`` = words sent. Like the vendors they refuse what a client must not
send: a field the endpoint does not know (OpenAI's ``Unrecognized request argument supplied``,
Mistral's 422 ``extra_forbidden``), no ``model``, a ``prompt`` of the wrong type, and (Mistral)
several prompts. The fault vocabulary applies as for chat; error bodies are OpenAI's shape
(Mistral's 422 detail list for validation errors).
"""

from __future__ import annotations

import re
import time

import fake_upstream as fu

OPENAI_FIELDS = {"model", "prompt", "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs",
                 "max_tokens", "n", "presence_penalty", "seed", "stop", "stream", "stream_options",
                 "suffix", "temperature", "top_p", "user"}
MISTRAL_FIELDS = {"model", "prompt", "suffix", "temperature", "top_p", "max_tokens", "min_tokens",
                  "stream", "stop", "random_seed", "metadata"}


def reply_tokens(prompt: str, suffix, max_tokens, stop) -> tuple[list[str], str]:
    """The completion as streamed tokens (word + following whitespace) and its finish reason."""
    text = "echo: " + prompt + (" | " + suffix if isinstance(suffix, str) and suffix else "")
    reason = "stop"
    for s in (stop if isinstance(stop, list) else [stop]):
        if isinstance(s, str) and s and s in text:
            text = text[: text.index(s)]
    tokens = re.findall(r"\S+\s*", text)
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and 0 <= max_tokens < len(tokens):
        tokens, reason = tokens[:max_tokens], "length"
    return tokens, reason


class CompletionsProtocol(fu.OpenAIProtocol):
    name = "completions"
    routes = {("POST", "/v1/completions"): "completions", ("POST", "/beta/completions"): "completions",
              ("POST", "/v1/fim/completions"): "fim"}
    personality_routes = {}

    def wants_stream(self, req: fu.Request) -> bool:
        return (req.subpath in ("/v1/completions", "/beta/completions", "/v1/fim/completions")
                and isinstance(req.json, dict) and req.json.get("stream") is True)

    def completions(self, req: fu.Request):
        body = self.require_json_object(req)
        extra = sorted(set(body) - OPENAI_FIELDS)
        if extra:
            raise fu.BadRequest(f"Unrecognized request argument supplied: {extra[0]}")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise fu.BadRequest("you must provide a model parameter")
        prompts = fu.string_list(body.get("prompt"))
        if prompts is None:
            raise fu.BadRequest("'prompt' must be a string or an array of strings.")
        if body.get("stream") is True and len(prompts) > 1:
            raise fu.BadRequest("this fake streams one prompt at a time")
        max_tokens = body.get("max_tokens", 16)
        cid = f"cmpl-fake-{req.state.next_id()}"
        created = int(time.time())
        answers = [reply_tokens(p, body.get("suffix"), max_tokens, body.get("stop")) for p in prompts]
        prompt_tokens = sum(len(fu.words(p)) + len(fu.words(body.get("suffix") or "")) for p in prompts)
        completion_tokens = sum(len(t) for t, _ in answers)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        if body.get("stream") is not True:
            return fu.JsonResponse(200, {
                "id": cid, "object": "text_completion", "created": created, "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"text": "".join(t), "index": i, "logprobs": None, "finish_reason": r}
                            for i, (t, r) in enumerate(answers)],
                "usage": usage})

        def chunk(text: str, finish=None) -> bytes:
            return fu.sse({"id": cid, "object": "text_completion", "created": created, "model": model,
                           "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]})

        tokens, reason = answers[0]
        events = [chunk(tok) for tok in tokens[:-1]]
        events.append(chunk(tokens[-1] if tokens else "", reason))
        so = body.get("stream_options")
        if isinstance(so, dict) and so.get("include_usage") is True:
            events.append(fu.sse({"id": cid, "object": "text_completion", "created": created, "model": model,
                                  "choices": [], "usage": usage}))
        events.append(b"data: [DONE]\n\n")
        return fu.Stream(content_type="text/event-stream", events=events,
                         malformed=b'data: {"choices": [ {not json\n\n',
                         error_event=fu.sse({"error": {"message": "fake mid-stream error", "type": "server_error",
                                                       "code": "overloaded"}}))

    def fim(self, req: fu.Request):
        body = self.require_json_object(req)
        extra = sorted(set(body) - MISTRAL_FIELDS)
        if extra:
            return fu.JsonResponse(422, {"object": "error", "message": {"detail": [
                {"type": "extra_forbidden", "loc": ["body", extra[0]], "msg": "Extra inputs are not permitted"}]},
                "type": "invalid_request_error", "param": None, "code": None})
        model, prompt = body.get("model"), body.get("prompt")
        if not isinstance(model, str) or not model or not isinstance(prompt, str):
            return fu.JsonResponse(422, {"object": "error", "message": {"detail": [
                {"type": "missing", "loc": ["body", "model" if not isinstance(model, str) else "prompt"],
                 "msg": "Field required"}]}, "type": "invalid_request_error", "param": None, "code": None})
        tokens, reason = reply_tokens(prompt, body.get("suffix"), body.get("max_tokens"), body.get("stop"))
        prompt_tokens = len(fu.words(prompt)) + len(fu.words(body.get("suffix") or ""))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(tokens),
                 "total_tokens": prompt_tokens + len(tokens)}
        cid = f"fim-fake-{req.state.next_id()}"
        created = int(time.time())
        if body.get("stream") is not True:
            return fu.JsonResponse(200, {
                "id": cid, "object": "chat.completion", "model": model, "usage": usage, "created": created,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(tokens),
                                                     "tool_calls": None, "prefix": False},
                             "finish_reason": reason}]})

        def chunk(delta: dict, finish=None, with_usage=False) -> bytes:
            o = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if with_usage:
                o["usage"] = usage
            return fu.sse(o)

        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": tok}) for tok in tokens[:-1]]
        events.append(chunk({"content": tokens[-1] if tokens else ""}, reason, with_usage=True))
        events.append(b"data: [DONE]\n\n")
        return fu.Stream(content_type="text/event-stream", events=events,
                         malformed=b'data: {"choices": [ {not json\n\n',
                         error_event=fu.sse({"error": {"message": "fake mid-stream error", "type": "server_error",
                                                       "code": "overloaded"}}))


PROTOCOL = CompletionsProtocol()
