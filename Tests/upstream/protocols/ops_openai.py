# SPDX-License-Identifier: Apache-2.0
"""The OpenAI operations beyond chat for the fake upstream (base_url ``.../<scope>/v1``), in
OpenAI's wire format (openai-python ``types/image*.py``, ``moderation*.py``, ``audio/*.py``),
plus the rerank of OpenAI-compatible servers (Jina / llama-server shape) and OpenRouter's
account endpoints. Errors have OpenAI's shape.

| request | answer |
|---|---|
| ``POST /v1/images/generations`` | ``{"created", "data": [{"url"} or {"b64_json"}, + "revised_prompt" for dall-e-3], "usage"?}`` |
| ``POST /v1/moderations`` | ``{"id": "modr-…", "model", "results": [{"flagged", "categories", "category_scores", "category_applied_input_types"}]}`` |
| ``POST /v1/audio/transcriptions`` (multipart) | ``{"text", "usage"}``; ``verbose_json`` adds task/language/duration/segments; ``text``/``srt``/``vtt`` plain text |
| ``POST /v1/audio/speech`` | raw audio bytes, ``Content-Type`` per ``response_format`` (``audio/mpeg`` default) |
| ``POST /v1/rerank`` | ``{"model", "results": [{"index", "relevance_score", "document"?: {"text"}}], "usage": {"prompt_tokens", "total_tokens"}}`` |
| ``GET /v1/credits`` | ``{"data": {"total_credits": 100.5, "total_usage": 25.75}}`` (OpenRouter) |
| ``GET /v1/generation?id=gen-…`` | ``{"data": {"id", "total_cost", "model", "tokens_prompt", …}}``; 404 for an id not starting ``gen-`` |

Images: no ``model`` is ``dall-e-2``; ``dall-e-3`` takes ``n`` 1 only and adds ``revised_prompt``;
``gpt-image-1`` always answers ``b64_json``, refuses ``response_format`` and reports ``usage``
(``input_tokens``, ``input_tokens_details``, ``output_tokens``, ``total_tokens``). The image
is a fixed 1x1 PNG (``PNG_B64``); a ``url`` answer points at ``https://images.fake/<n>.png``.

Moderations: ``input`` is a string, an array of strings (one result each) or an array of
``text``/``image_url`` parts (ONE result); a text containing ``kill`` is flagged as violence.

Transcriptions: the multipart form must carry ``file`` (with a filename whose extension is an
audio format) and ``model``; ``timestamp_granularities[]`` may repeat. The text says what
arrived: ``fake transcript of <filename>: <n> bytes, sha256 <first 16 hex>``, so a test can
check the bytes were sent intact. ``verbose_json`` is for ``whisper-1`` only.

Speech: ``model``, ``input`` and ``voice`` are required; the body is ``ID3`` + the sha256 of
the input (mp3) or a RIFF header (wav), so a test can tell it came through unchanged.

Rerank: like older llama-server builds the results come in INPUT order and ``top_n`` is only
logged, so the router's normalization (best-first, cut to ``top_n``) is what a test sees. The
score is the share of query words found in the document.

Azure's image path (``/openai/deployments/<d>/images/generations?api-version=…`` and
``/openai/v1/images/generations``) answers the same as OpenAI's.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from urllib.parse import parse_qs, urlsplit

import fake_upstream as fu

# A 1x1 transparent PNG.
PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")

MODERATION_CATEGORIES = ["harassment", "harassment/threatening", "hate", "hate/threatening",
                         "illicit", "illicit/violent", "self-harm", "self-harm/instructions",
                         "self-harm/intent", "sexual", "sexual/minors", "violence",
                         "violence/graphic"]
IMAGE_CATEGORIES = {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
                    "violence", "violence/graphic"}
AUDIO_EXTENSIONS = {"flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm"}
SPEECH_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac",
                "flac": "audio/flac", "wav": "audio/wav", "pcm": "audio/pcm"}
AZURE_IMAGES = re.compile(r"^/openai/deployments/([^/]+)/images/generations$")


class BinaryResponse(fu.TextResponse):
    """A body of raw bytes (``obj``) with its own content type: the audio of /audio/speech."""

    def body(self) -> bytes:
        return bytes(self.obj)


def multipart(req: fu.Request) -> dict[str, list]:
    """The parts of a multipart/form-data body: name -> [str value | (filename, ctype, bytes)]."""
    ctype = req.headers.get("content-type", "")
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not ctype.startswith("multipart/form-data") or not m:
        raise fu.BadRequest("Expected a multipart/form-data body with a boundary.")
    boundary = b"--" + m.group(1).encode()
    parts: dict[str, list] = {}
    chunks = req.raw.split(boundary)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise fu.BadRequest("Malformed multipart body: missing the closing boundary.")
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            raise fu.BadRequest("Malformed multipart body: a part is not CRLF-delimited.")
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise fu.BadRequest("Malformed multipart body: a part has no header end.")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="([^"]*)"', disp)
        if not disp.startswith("form-data") or not name:
            raise fu.BadRequest("Malformed multipart body: a part has no form-data name.")
        filename = re.search(r'\bfilename="([^"]*)"', disp)
        value = ((filename.group(1), headers.get("content-type", ""), data) if filename
                 else data.decode("utf-8"))
        parts.setdefault(name.group(1), []).append(value)
    return parts


def overlap_score(query: str, doc: str) -> float:
    q = {w.lower() for w in fu.words(query)}
    d = {w.lower().strip(".,") for w in fu.words(doc)}
    return round(len(q & d) / len(q), 6) if q else 0.0


class OpenAIOperations(fu.Protocol):
    name = "openai-operations"
    routes = {
        ("POST", "/v1/images/generations"): "images",
        ("POST", "/openai/v1/images/generations"): "images",
        ("POST", "/v1/moderations"): "moderations",
        ("POST", "/v1/audio/transcriptions"): "transcriptions",
        ("POST", "/v1/audio/speech"): "speech",
        ("POST", "/v1/rerank"): "rerank",
        ("GET", "/v1/credits"): "credits",
        ("GET", "/v1/generation"): "generation",
    }

    def find(self, method: str, subpath: str):
        fn = super().find(method, subpath)
        if fn is None and method == "POST" and AZURE_IMAGES.match(subpath):
            return self.images
        return fn

    error_type_for = fu.OpenAIProtocol.error_type_for
    error_body = fu.OpenAIProtocol.error_body

    @staticmethod
    def body(req: fu.Request) -> dict:
        if req.json_error is not None:
            raise fu.BadRequest(f"We could not parse the JSON body of your request: {req.json_error}")
        if not isinstance(req.json, dict):
            raise fu.BadRequest("The request body must be a JSON object.")
        return req.json

    # --- images ---
    def images(self, req: fu.Request):
        body = self.body(req)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise fu.BadRequest("'prompt' is a required property")
        model = body.get("model", "dall-e-2")
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10:
            raise fu.BadRequest("'n' must be an integer between 1 and 10")
        if model == "dall-e-3" and n != 1:
            raise fu.BadRequest("You must provide n=1 for this model.")
        fmt = body.get("response_format")
        if model.startswith("gpt-image") and fmt is not None:
            raise fu.BadRequest("Unknown parameter: 'response_format'.")
        fmt = fmt or ("b64_json" if model.startswith("gpt-image") else "url")
        if fmt not in ("url", "b64_json"):
            raise fu.BadRequest(f"'{fmt}' is not one of ['url', 'b64_json'] - 'response_format'")
        data = []
        for i in range(n):
            item = {"b64_json": PNG_B64} if fmt == "b64_json" else {"url": f"https://images.fake/{i}.png"}
            if model == "dall-e-3":
                item["revised_prompt"] = "revised: " + prompt
            data.append(item)
        out = {"created": int(time.time()), "data": data}
        if model.startswith("gpt-image"):
            words = len(fu.words(prompt))
            out["usage"] = {"input_tokens": words, "input_tokens_details": {"text_tokens": words, "image_tokens": 0},
                            "output_tokens": 272 * n, "total_tokens": words + 272 * n}
        return fu.JsonResponse(200, out)

    # --- moderations ---
    def moderations(self, req: fu.Request):
        body = self.body(req)
        inp = body.get("input")
        if isinstance(inp, str):
            groups = [[("text", inp)]]
        elif isinstance(inp, list) and inp and all(isinstance(x, str) for x in inp):
            groups = [[("text", x)] for x in inp]
        elif isinstance(inp, list) and inp and all(isinstance(x, dict) for x in inp):
            group = []
            for i, part in enumerate(inp):
                if part.get("type") == "text" and isinstance(part.get("text"), str):
                    group.append(("text", part["text"]))
                elif part.get("type") == "image_url" and isinstance((part.get("image_url") or {}).get("url"), str):
                    group.append(("image", part["image_url"]["url"]))
                else:
                    raise fu.BadRequest(f"Invalid value for 'input[{i}]'.")
            groups = [group]
        else:
            raise fu.BadRequest("'input' must be a string, an array of strings or an array of parts.")
        results = []
        for group in groups:
            kinds = {k for k, _ in group}
            violent = any(k == "text" and "kill" in v.lower() for k, v in group)
            cats = {c: (violent and c == "violence") for c in MODERATION_CATEGORIES}
            scores = {c: (0.91 if cats[c] else 0.0001) for c in MODERATION_CATEGORIES}
            applied = {c: sorted(kinds & ({"text", "image"} if c in IMAGE_CATEGORIES else {"text"}))
                       for c in MODERATION_CATEGORIES}
            results.append({"flagged": violent, "categories": cats, "category_scores": scores,
                            "category_applied_input_types": applied})
        return fu.JsonResponse(200, {"id": f"modr-fake-{req.state.next_id()}",
                                     "model": body.get("model", "omni-moderation-latest"),
                                     "results": results})

    # --- audio ---
    def transcriptions(self, req: fu.Request):
        form = multipart(req)
        files = form.get("file") or []
        if len(files) != 1 or not isinstance(files[0], tuple):
            raise fu.BadRequest("'file' is a required property")
        filename, _ctype, data = files[0]
        ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if ext not in AUDIO_EXTENSIONS:
            raise fu.BadRequest(f"Invalid file format. Supported formats: {sorted(AUDIO_EXTENSIONS)}")
        model = (form.get("model") or [None])[0]
        if not isinstance(model, str) or not model:
            raise fu.BadRequest("'model' is a required property")
        fmt = (form.get("response_format") or ["json"])[0]
        if fmt == "verbose_json" and model != "whisper-1":
            raise fu.BadRequest(f"response_format 'verbose_json' is not compatible with model '{model}'.")
        text = f"fake transcript of {filename}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"
        seconds = max(1, len(data) // 32000)
        if fmt in ("text", "srt", "vtt"):
            if fmt == "srt":
                text = f"1\n00:00:00,000 --> 00:00:0{min(seconds, 9)},000\n{text}\n"
            elif fmt == "vtt":
                text = f"WEBVTT\n\n00:00:00.000 --> 00:00:0{min(seconds, 9)}.000\n{text}\n"
            return fu.TextResponse(200, text + ("" if text.endswith("\n") else "\n"))
        if fmt not in ("json", "verbose_json"):
            raise fu.BadRequest(f"'{fmt}' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - 'response_format'")
        if model == "whisper-1":
            usage = {"type": "duration", "seconds": seconds}
        else:
            usage = {"type": "tokens", "input_tokens": seconds * 10, "output_tokens": len(fu.words(text)),
                     "total_tokens": seconds * 10 + len(fu.words(text)),
                     "input_token_details": {"audio_tokens": seconds * 10, "text_tokens": 0}}
        out = {"text": text, "usage": usage}
        if fmt == "verbose_json":
            out = {"task": "transcribe", "language": (form.get("language") or ["english"])[0],
                   "duration": float(seconds), "text": text,
                   "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": float(seconds), "text": text,
                                 "tokens": [1, 2, 3], "temperature": 0.0, "avg_logprob": -0.1,
                                 "compression_ratio": 1.0, "no_speech_prob": 0.01}],
                   "usage": usage}
            if "word" in form.get("timestamp_granularities[]", []):
                out["words"] = [{"word": w, "start": 0.0, "end": 0.1} for w in fu.words(text)[:3]]
        return fu.JsonResponse(200, out)

    def speech(self, req: fu.Request):
        body = self.body(req)
        for key in ("model", "input", "voice"):
            if not isinstance(body.get(key), (str, dict)) or not body.get(key):
                raise fu.BadRequest(f"'{key}' is a required property")
        fmt = body.get("response_format", "mp3")
        if fmt not in SPEECH_TYPES:
            raise fu.BadRequest(f"'{fmt}' is not one of {sorted(SPEECH_TYPES)} - 'response_format'")
        if "instructions" in body and body["model"] in ("tts-1", "tts-1-hd"):
            raise fu.BadRequest("Instructions are not supported for tts-1 and tts-1-hd.")
        digest = hashlib.sha256(body["input"].encode("utf-8")).digest()
        audio = (b"RIFF\x24\x00\x00\x00WAVEfmt " if fmt == "wav" else b"ID3\x04\x00") + digest + bytes(range(256))
        return BinaryResponse(200, audio, content_type=SPEECH_TYPES[fmt])

    # --- rerank (Jina / llama-server shape) ---
    def rerank(self, req: fu.Request):
        body = self.body(req)
        query, docs = body.get("query"), body.get("documents")
        if not isinstance(query, str) or not query:
            raise fu.BadRequest("\"query\" must be provided")
        if not isinstance(docs, list) or not docs:
            raise fu.BadRequest("\"documents\" must be a non-empty string array")
        results = []
        tokens = len(fu.words(query))
        for i, d in enumerate(docs):
            text = d if isinstance(d, str) else (d.get("text") if isinstance(d, dict) else None)
            if not isinstance(text, str):
                raise fu.BadRequest(f"\"documents[{i}]\" must be a string")
            tokens += len(fu.words(text))
            item = {"index": i, "relevance_score": overlap_score(query, text)}
            if body.get("return_documents") is True:
                item["document"] = {"text": text}
            results.append(item)
        return fu.JsonResponse(200, {"model": body.get("model", "fake-rerank"), "object": "list",
                                     "results": results,
                                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    # --- OpenRouter account endpoints ---
    def credits(self, req: fu.Request):
        return fu.JsonResponse(200, {"data": {"total_credits": 100.5, "total_usage": 25.75}})

    def generation(self, req: fu.Request):
        ids = parse_qs(urlsplit(req.path).query).get("id")
        if not ids:
            return fu.JsonResponse(400, self.error_body(400, "id: Required", code=400))
        gid = ids[0]
        if not gid.startswith("gen-"):
            return fu.JsonResponse(404, {"error": {"message": f"Generation {gid} not found", "code": 404}})
        return fu.JsonResponse(200, {"data": {
            "id": gid, "upstream_id": "chatcmpl-fake", "total_cost": 0.0015, "cache_discount": None,
            "upstream_inference_cost": None, "created_at": "2026-01-01T00:00:00.000000+00:00",
            "model": "openai/gpt-4o-mini", "app_id": None, "streamed": False, "cancelled": False,
            "provider_name": "OpenAI", "latency": 1250, "moderation_latency": None,
            "generation_time": 1200, "finish_reason": "stop", "native_finish_reason": "stop",
            "tokens_prompt": 10, "tokens_completion": 25, "native_tokens_prompt": 10,
            "native_tokens_completion": 25, "native_tokens_reasoning": 0, "native_tokens_cached": 0,
            "num_media_prompt": None, "num_media_completion": None, "num_search_results": None,
            "origin": "", "usage": 0.0015, "is_byok": False}})


PROTOCOL = OpenAIOperations()
