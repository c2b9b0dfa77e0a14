# SPDX-License-Identifier: Apache-2.0
"""Google Gemini (Generative Language API, v1beta) for the fake upstream. A provider's
base_url is ``http://127.0.0.1:PORT/<scope>`` (host root); the paths after the scope are

* ``POST /v1beta/models/{model}:generateContent`` and ``:streamGenerateContent`` (SSE with
  ``?alt=sse``; without it the whole stream is one JSON array, as the real API answers);
* ``POST /v1beta/models/{model}:embedContent`` and ``:batchEmbedContents``;
* ``GET /v1beta/models`` (the scope's model list in Gemini's shape).

``tunedModels/{model}`` works wherever ``models/{model}`` does. The model is in the path, so
``find`` matches patterns; the query (``alt=sse``) is not part of the subpath ``find`` sees and
is read from ``req.path``.

Shapes as Google's API reference shows them:

* errors: ``{"error": {"code": <http>, "message", "status": "RESOURCE_EXHAUSTED" | ...}}``. A
  fault's ``error_type`` replaces ``status`` when it is a gRPC status name (capitals); its ``error_code`` adds an ``ErrorInfo`` detail
  with that ``reason`` (e.g. ``API_KEY_INVALID``);
* answers: ``candidates[0].content.parts`` (``text`` or ``functionCall {name, args}``, args an
  object), ``finishReason: "STOP"``, ``usageMetadata {promptTokenCount, candidatesTokenCount,
  totalTokenCount}``, ``modelVersion``, ``responseId``;
* streams: every SSE event (CRLF-framed, like Google's) is a whole ``GenerateContentResponse``:
  one per word (word + following whitespace), then an empty-text part with ``finishReason``
  and the full usage, then a usage-only event with no ``candidates``. A tool call (tools given,
  "weather" in the last user text, and the last turn is not already a function response)
  arrives WHOLE in one event (``{"city": "Paris"}``), then the finish event, then usage. No
  ``[DONE]``;
* the fault vocabulary's malformed frame is a broken event; its error event is
  ``{"error": {"code": 500, "message": "fake mid-stream error", "status": "INTERNAL"}}``.

Image output (ai.google.dev/gemini-api/docs/image-generation): ``generationConfig.
responseModalities`` with ``"IMAGE"`` (and an optional ``imageConfig {aspectRatio,
imageSize}``) answers each candidate with a text part and an ``inlineData {mimeType, data}``
PNG; see ``image_answer``.

Like the real API, unknown request fields are refused with 400 (``Unknown name "x"``), and so
are roles other than ``user``/``model`` and parts with no data: a codec that forwards OpenAI's
keys fails loudly.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from urllib.parse import parse_qs, urlsplit

import fake_upstream as fu


def _camel(name: str) -> str:
    """A proto field name as its JSON lowerCamelCase name (include_thoughts -> includeThoughts)."""
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)

TOOL_ARGS = {"city": "Paris"}

ROUTE = re.compile(r"^/v1beta/((?:models|tunedModels)/[A-Za-z0-9._-]+):"
                   r"(generateContent|streamGenerateContent|embedContent|batchEmbedContents)$")
METHODS = {"generateContent": "generate", "streamGenerateContent": "generate",
           "embedContent": "embed_one", "batchEmbedContents": "embed_batch"}

GENERATE_KEYS = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
                 "safetySettings", "cachedContent", "labels"}
CONFIG_KEYS = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
               "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP",
               "topK", "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs",
               "logprobs", "enableEnhancedCivicAnswers", "speechConfig", "thinkingConfig",
               "mediaResolution", "imageConfig"}
MODALITIES = {"TEXT", "IMAGE", "AUDIO"}
ASPECT_RATIOS = {"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"}
# What Gemini bills per generated 1024px image (its image-generation pricing page).
IMAGE_TOKENS = 1290
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PART_DATA = {"text", "inlineData", "fileData", "functionCall", "functionResponse",
             "executableCode", "codeExecutionResult"}
PART_KEYS = PART_DATA | {"thought", "thoughtSignature", "videoMetadata"}
EMBED_KEYS = {"model", "content", "taskType", "title", "outputDimensionality"}

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED",
                500: "INTERNAL", 501: "NOT_IMPLEMENTED", 503: "UNAVAILABLE",
                504: "DEADLINE_EXCEEDED"}


def sse(obj) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\r\n\r\n"


class GeminiProtocol(fu.Protocol):
    name = "gemini"

    # --- routing ---
    def find(self, method: str, subpath: str):
        if method == "GET" and subpath == "/v1beta/models":
            return self.models
        m = ROUTE.match(subpath)
        if method == "POST" and m:
            return getattr(self, METHODS[m.group(2)])
        return None

    @staticmethod
    def alt_sse(req: fu.Request) -> bool:
        return parse_qs(urlsplit(req.path).query).get("alt") == ["sse"]

    def wants_stream(self, req: fu.Request) -> bool:
        return req.subpath.endswith(":streamGenerateContent") and self.alt_sse(req)

    # --- errors ---
    def error_type_for(self, status: int) -> str:
        return STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")

    def error_body(self, status, message, err_type=None, code=None):
        # The core passes OpenAI's type names (``invalid_request_error``) for its own 400s: only
        # a gRPC status name (capitals) replaces the one the HTTP status implies.
        if not (isinstance(err_type, str) and re.fullmatch(r"[A-Z_]+", err_type)):
            err_type = self.error_type_for(status)
        err = {"code": status, "message": message, "status": err_type}
        if code is not None:
            err["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                               "reason": code, "domain": "googleapis.com",
                               "metadata": {"service": "generativelanguage.googleapis.com"}}]
        return {"error": err}

    # --- request checks (the real API's, where a codec bug would show) ---
    @staticmethod
    def body_object(req: fu.Request, allowed: set[str]) -> dict:
        if req.json_error is not None:
            raise fu.BadRequest(f"Invalid JSON payload received. {req.json_error}")
        if not isinstance(req.json, dict):
            raise fu.BadRequest("Invalid JSON payload received. Expected an object.")
        for key in req.json:
            if key not in allowed:
                raise fu.BadRequest(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        return req.json

    @staticmethod
    def known_fields(obj: dict, allowed: set[str], where: str) -> None:
        """The real API's answer to the first member of `obj` it does not know."""
        for key in obj:
            if key not in allowed:
                raise fu.BadRequest(f'Invalid JSON payload received. Unknown name "{key}" at '
                                    f"'{where}': Cannot find field.")

    @staticmethod
    def parts_of(content, where: str) -> list[dict]:
        if not isinstance(content, dict) or not isinstance(content.get("parts"), list) \
                or not content["parts"]:
            raise fu.BadRequest(f"* {where}.parts: contents.parts must not be empty.")
        for i, part in enumerate(content["parts"]):
            if not isinstance(part, dict):
                raise fu.BadRequest(f"* {where}.parts[{i}]: must be an object")
            unknown = set(part) - PART_KEYS
            if unknown:
                raise fu.BadRequest(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" '
                                    f"at '{where}.parts[{i}]': Cannot find field.")
            if len(set(part) & PART_DATA) != 1:
                raise fu.BadRequest(f"* {where}.parts[{i}].data: required oneof field 'data' must have one initialized field")
            fc = part.get("functionCall")
            if fc is not None and not (isinstance(fc, dict) and isinstance(fc.get("name"), str)
                                       and isinstance(fc.get("args", {}), dict)):
                raise fu.BadRequest(f"* {where}.parts[{i}].function_call: name and an args object are required")
            fr = part.get("functionResponse")
            if fr is not None and not (isinstance(fr, dict) and isinstance(fr.get("name"), str)
                                       and isinstance(fr.get("response"), dict)):
                raise fu.BadRequest(f"* {where}.parts[{i}].function_response: name and a response object are required")
        return content["parts"]

    @staticmethod
    def text_of(parts: list[dict]) -> str:
        return " ".join(p["text"] for p in parts if isinstance(p.get("text"), str))

    # --- generateContent / streamGenerateContent ---
    def generate(self, req: fu.Request):
        body = self.body_object(req, GENERATE_KEYS)
        model = ROUTE.match(req.subpath).group(1).split("/", 1)[1]
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise fu.BadRequest("* GenerateContentRequest.contents: contents is not specified")
        config = body.get("generationConfig", {})
        if not isinstance(config, dict):
            raise fu.BadRequest("generationConfig must be an object")
        self.known_fields(config, CONFIG_KEYS, "generation_config")

        prompt_tokens = 0
        if "systemInstruction" in body:
            prompt_tokens += len(fu.words(self.text_of(self.parts_of(body["systemInstruction"], "system_instruction"))))
        last_user, last_is_result = "", False
        for i, c in enumerate(contents):
            role = c.get("role", "user") if isinstance(c, dict) else None
            if role not in ("user", "model"):
                raise fu.BadRequest(f"Please use a valid role: user, model. (contents[{i}].role: {role!r})")
            parts = self.parts_of(c, f"contents[{i}]")
            text = self.text_of(parts)
            prompt_tokens += len(fu.words(text))
            if role == "user":
                last_is_result = any("functionResponse" in p for p in parts)
                if text:
                    last_user = text

        tool_name = None
        tools = body.get("tools")
        if isinstance(tools, list) and tools and not last_is_result \
                and re.search(r"\bweather\b", last_user, re.I):
            decls = tools[0].get("functionDeclarations") if isinstance(tools[0], dict) else None
            if isinstance(decls, list) and decls and isinstance(decls[0], dict):
                tool_name = decls[0].get("name") or "tool"

        if "IMAGE" in self.modalities(config):
            return self.image_answer(req, model, config, last_user, prompt_tokens)

        reply = "echo: " + last_user
        completion_tokens = len(fu.words(json.dumps(TOOL_ARGS) if tool_name else reply))
        # candidateCount > 1: candidate i answers "echo: <text> [i]", every one in each chunk.
        count = config.get("candidateCount", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 8:
            raise fu.BadRequest("* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8")
        others = [f"{reply} [{i}]" for i in range(1, count)] if not tool_name else []
        completion_tokens += sum(len(fu.words(r)) for r in others)
        # thinkingConfig.includeThoughts: a thought summary part (`thought: true`) first; its
        # tokens in thoughtsTokenCount, OUTSIDE candidatesTokenCount, as Gemini counts them.
        thinking = config.get("thinkingConfig")
        if thinking is not None and not isinstance(thinking, dict):
            raise fu.BadRequest("generationConfig.thinkingConfig must be an object")
        # Proto JSON: the API takes a field by its lowerCamelCase name or its proto name, and
        # google-genai (3.x) writes thinkingConfig's members in snake_case (include_thoughts).
        thinking = {_camel(k): v for k, v in (thinking or {}).items()}
        budget = thinking.get("thinkingBudget", -1)
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < -1:
            raise fu.BadRequest("* GenerateContentRequest.generation_config.thinking_config.thinking_budget: invalid")
        thought = f"thinking about: {last_user}" if thinking.get("includeThoughts") is True and budget != 0 else None
        thoughts_tokens = len(fu.words(thought)) if thought else 0
        usage = {"promptTokenCount": prompt_tokens, "candidatesTokenCount": completion_tokens,
                 "totalTokenCount": prompt_tokens + completion_tokens + thoughts_tokens}
        if thought:
            usage["thoughtsTokenCount"] = thoughts_tokens
        response_id = f"fake-gemini-{req.state.next_id()}"

        def response(parts, finish=None, usage_metadata=None, extra=()) -> dict:
            cand = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                cand["finishReason"] = finish
            out = {"candidates": [cand] + list(extra)}
            if usage_metadata:
                out["usageMetadata"] = usage_metadata
            out.update({"modelVersion": model, "responseId": response_id})
            return out

        call_part = {"functionCall": {"name": tool_name, "args": TOOL_ARGS}}
        if req.subpath.endswith(":generateContent"):
            parts = [call_part] if tool_name else [{"text": reply}]
            if thought:
                parts.insert(0, {"text": thought, "thought": True})
            extra = [{"content": {"parts": [{"text": r}], "role": "model"}, "finishReason": "STOP", "index": i + 1}
                     for i, r in enumerate(others)]
            return fu.JsonResponse(200, response(parts, "STOP", usage, extra))

        prompt_only = {"promptTokenCount": prompt_tokens, "totalTokenCount": prompt_tokens}
        chunks = []
        if thought:
            chunks.append(response([{"text": thought, "thought": True}], None, prompt_only))
        if tool_name:
            chunks.append(response([call_part], None, prompt_only))
        else:
            other_tokens = [re.findall(r"\S+\s*", r) for r in others]
            for k, tok in enumerate(re.findall(r"\S+\s*", reply)):
                extra = [{"content": {"parts": [{"text": t[k]}], "role": "model"}, "index": i + 1}
                         for i, t in enumerate(other_tokens) if k < len(t)]
                chunks.append(response([{"text": tok}], None, prompt_only, extra))
            tail = [{"content": {"parts": [{"text": "".join(t[len(re.findall(r"\S+\s*", reply)):])}], "role": "model"},
                     "finishReason": "STOP", "index": i + 1} for i, t in enumerate(other_tokens)]
        chunks.append(response([{"text": ""}], "STOP", usage, [] if tool_name else tail))
        chunks.append({"usageMetadata": usage, "modelVersion": model, "responseId": response_id})
        if not self.alt_sse(req):
            return fu.JsonResponse(200, chunks)  # the JSON-array form of a stream
        return fu.Stream(
            content_type="text/event-stream",
            events=[sse(c) for c in chunks],
            malformed=b'data: {"candidates": [ {not json\r\n\r\n',
            error_event=sse({"error": {"code": 500, "message": "fake mid-stream error",
                                       "status": "INTERNAL"}}),
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    # --- image output ---
    @staticmethod
    def modalities(config: dict) -> list:
        m = config.get("responseModalities", ["TEXT"])
        if not isinstance(m, list) or not m or not all(x in MODALITIES for x in m):
            raise fu.BadRequest("* GenerateContentRequest.generation_config.response_modalities: "
                                f"expected values from {sorted(MODALITIES)}")
        image = config.get("imageConfig")
        if image is not None:
            if not isinstance(image, dict) or set(image) - {"aspectRatio", "imageSize"}:
                raise fu.BadRequest("generationConfig.imageConfig: only aspectRatio and imageSize are known")
            if "aspectRatio" in image and image["aspectRatio"] not in ASPECT_RATIOS:
                raise fu.BadRequest(f"* generation_config.image_config.aspect_ratio: unsupported {image['aspectRatio']!r}")
        return m

    def image_answer(self, req: fu.Request, model: str, config: dict, prompt: str, prompt_tokens: int):
        """generateContent with IMAGE in responseModalities (image-capable models): per candidate
        a text part, then an ``inlineData`` PNG whose bytes are the PNG magic + the prompt + the
        aspect ratio (so tests see what reached the model); IMAGE_TOKENS output tokens per image.
        A prompt saying "forbidden" ends with ``finishReason: "IMAGE_SAFETY"`` and no parts."""
        if not req.subpath.endswith(":generateContent"):
            raise fu.BadRequest("image output is served by generateContent in this fake")
        count = config.get("candidateCount", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4:
            raise fu.BadRequest("* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 4")
        ratio = (config.get("imageConfig") or {}).get("aspectRatio", "1:1")
        response_id = f"fake-gemini-{req.state.next_id()}"
        if re.search(r"\bforbidden\b", prompt, re.I):
            return fu.JsonResponse(200, {"candidates": [{"finishReason": "IMAGE_SAFETY", "index": 0}],
                                         "usageMetadata": {"promptTokenCount": prompt_tokens,
                                                           "totalTokenCount": prompt_tokens},
                                         "modelVersion": model, "responseId": response_id})
        candidates = []
        for i in range(count):
            data = base64.b64encode(PNG_MAGIC + f"{prompt}|{ratio}|{i}".encode()).decode()
            candidates.append({"content": {"role": "model", "parts": [
                {"text": "Here is your image."}, {"inlineData": {"mimeType": "image/png", "data": data}}]},
                "finishReason": "STOP", "index": i})
        output = count * (IMAGE_TOKENS + 4)
        return fu.JsonResponse(200, {"candidates": candidates, "usageMetadata": {
            "promptTokenCount": prompt_tokens, "candidatesTokenCount": output,
            "totalTokenCount": prompt_tokens + output,
            "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": count * IMAGE_TOKENS},
                                        {"modality": "TEXT", "tokenCount": count * 4}]},
            "modelVersion": model, "responseId": response_id})

    # --- embeddings ---
    def embed_values(self, request: dict, where: str) -> list[float]:
        self.known_fields(request, EMBED_KEYS, where)
        text = self.text_of(self.parts_of(request.get("content"), f"{where}.content"))
        dims = request.get("outputDimensionality", 8)
        if not isinstance(dims, int) or dims < 1:
            raise fu.BadRequest(f"* {where}.output_dimensionality: must be a positive integer")
        return fu.embed(text, min(dims, 16))  # sha256 gives 16 values at most

    def embed_one(self, req: fu.Request):
        body = self.body_object(req, EMBED_KEYS)
        return fu.JsonResponse(200, {"embedding": {"values": self.embed_values(body, "content")}})

    def embed_batch(self, req: fu.Request):
        body = self.body_object(req, {"requests"})
        model = ROUTE.match(req.subpath).group(1)
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise fu.BadRequest("* BatchEmbedContentsRequest.requests: requests is not specified")
        out = []
        for i, r in enumerate(requests):
            if not isinstance(r, dict) or r.get("model") != model:
                raise fu.BadRequest(f"* BatchEmbedContentsRequest.requests[{i}].model: the model of each "
                                    f"request must be {model!r}")
            out.append({"values": self.embed_values(r, f"requests[{i}]")})
        return fu.JsonResponse(200, {"embeddings": out})

    # --- models ---
    def models(self, req: fu.Request):
        with req.state.lock:
            data = copy.deepcopy(req.state.scope(req.scope).models)
        out = []
        for m in data:
            if isinstance(m, dict) and isinstance(m.get("name"), str):
                out.append(m)  # already in Gemini's shape
                continue
            mid = m.get("id", "fake") if isinstance(m, dict) else str(m)
            embed = "embed" in mid
            out.append({"name": f"models/{mid}", "version": "001", "displayName": mid,
                        "description": f"Fake model {mid}",
                        "inputTokenLimit": 2048 if embed else 32768,
                        "outputTokenLimit": 1 if embed else 8192,
                        "supportedGenerationMethods": ["embedContent", "batchEmbedContents"] if embed
                        else ["generateContent", "countTokens"]})
        return fu.JsonResponse(200, {"models": out})


PROTOCOL = GeminiProtocol()
