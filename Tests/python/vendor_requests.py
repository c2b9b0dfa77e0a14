# SPDX-License-Identifier: Apache-2.0
"""Which official SDK type each upstream request must match: `check_sent(protocol, record)`
validates one entry of the fake upstream's request log (Tests/upstream/README.md) against the
request type of the vendor's own Python SDK for that path, strictly (vendor_types.py). A path
with no entry here fails, so a new endpoint cannot go unchecked by accident.

The SDKs (scripts/setup.sh installs them): anthropic, google-genai, cohere, mistralai, ollama,
openai. Gemini's REST bodies have no single SDK class (the SDK builds them from its own
parameter objects), so a body's top-level keys are those of the API reference's request and
each value is validated by the SDK's pydantic model of that REST field (camelCase aliases,
unknown keys forbidden by the SDK's own config).
"""

import re

from vendor_types import Mismatch, check_adapter, check_list, check_model, check_typed


def _json(record):
    body = record["json"]
    if not isinstance(body, dict):
        raise Mismatch("%s %s: the body is not a JSON object: %r" % (record["method"], record["path"], record["body"][:200]))
    return body


def _strip(path):
    """The path after the scope segment, without the query."""
    return "/" + path.split("?")[0].split("/", 2)[2]


# -- OpenAI (and every OpenAI-compatible server: mistral's chat too is checked by both) ---------

def _openai(record, path):
    from openai.types import (completion_create_params as cc, embedding_create_params as ec,
                              image_generate_params as ig, moderation_create_params as mc)
    from openai.types.audio import speech_create_params as sc
    from openai.types.chat import completion_create_params as chat
    if re.search(r"/audio/transcriptions$", path):
        return _transcription(record, path)
    body = _json(record)
    streaming = body.get("stream") is True
    table = [
        (r"/chat/completions$", chat.CompletionCreateParamsStreaming if streaming else chat.CompletionCreateParamsNonStreaming),
        (r"/completions$", cc.CompletionCreateParamsStreaming if streaming else cc.CompletionCreateParamsNonStreaming),
        (r"/embeddings$", ec.EmbeddingCreateParams),
        (r"/images/generations$", ig.ImageGenerateParamsStreaming if streaming else ig.ImageGenerateParamsNonStreaming),
        (r"/moderations$", mc.ModerationCreateParams),
        (r"/audio/speech$", sc.SpeechCreateParams),
    ]
    for pattern, tp in table:
        if re.search(pattern, path):
            check_typed(body, tp, "%s body" % path)
            return tp.__name__
    return None


def _multipart_fields(record, what):
    """The form fields of a multipart/form-data body: {name: [values]}; a file part's value is
    its filename."""
    match = re.search(r'boundary="?([^";]+)"?', record["headers"].get("content-type", ""))
    if not record["headers"].get("content-type", "").startswith("multipart/form-data") or not match:
        raise Mismatch("%s: multipart/form-data with a boundary expected, got %r" % (what, record["headers"].get("content-type")))
    fields = {}
    for part in record["body"].split("--" + match.group(1))[1:]:
        if part.startswith("--"):
            break
        head, _, value = part.lstrip("\r\n").partition("\r\n\r\n")
        disposition = re.search(r'name="([^"]+)"(?:; filename="([^"]*)")?', head)
        if not disposition:
            raise Mismatch("%s: a part without a form-data name: %r" % (what, head))
        name, filename = disposition.groups()
        fields.setdefault(name, []).append(filename if filename is not None else value[:-2] if value.endswith("\r\n") else value)
    return fields


def _transcription(record, path):
    """audio/transcriptions is multipart: each field name must be one of the SDK's
    TranscriptionCreateParams (arrays as repeated `name[]`, as the SDK writes them), its text a
    valid value of that field's type."""
    from openai.types.audio import transcription_create_params as tc
    from vendor_types import _check, _fields
    tp = tc.TranscriptionCreateParamsNonStreaming
    known = _fields(tp)
    fields = _multipart_fields(record, path)
    for required in ("file", "model"):
        if required not in fields:
            raise Mismatch("%s: required field %r missing" % (path, required))
    if not fields["file"][0] or "." not in fields["file"][0]:
        raise Mismatch("%s: the file part needs a filename with its extension: %r" % (path, fields["file"][0]))
    for name, values in fields.items():
        key = name[:-2] if name.endswith("[]") else name
        if key not in known:
            raise Mismatch("%s: unknown field %r for %s (known: %s)" % (path, name, tp.__name__, sorted(known)))
        if key == "file":
            continue
        value = values if name.endswith("[]") else values[0]
        hint = known[key][0]
        error = _check(value, hint, key)
        if error and isinstance(value, str):
            try:
                error = _check(float(value), hint, key)
            except ValueError:
                pass
        if error:
            raise Mismatch("%s: %s" % (path, error))
    return tp.__name__


# -- Anthropic ----------------------------------------------------------------------------------

# Anthropic deprecated these; its SDK removed them in 1.0.0 ("removed deprecated request
# parameters" in the SDK's MIGRATION.md: send them through extra_body), while the API still takes
# them for the models that have them. The library passes a caller's sampling fields on (and
# leaves them out with thinking), so they are allowed here beside the SDK's type, as numbers.
ANTHROPIC_SAMPLING = ("temperature", "top_p", "top_k")


def _anthropic(record, path):
    from anthropic.types import MessageCountTokensParams
    from anthropic.types.message_create_params import (MessageCreateParamsNonStreaming,
                                                       MessageCreateParamsStreaming)
    body = dict(_json(record))
    if path == "/v1/messages":
        for key in ANTHROPIC_SAMPLING:
            value = body.pop(key, None)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise Mismatch("%s body: %s must be a number: %r" % (path, key, value))
    if path == "/v1/messages":
        tp = MessageCreateParamsStreaming if body.get("stream") is True else MessageCreateParamsNonStreaming
    elif path == "/v1/messages/count_tokens":
        tp = MessageCountTokensParams
    else:
        return None
    check_typed(body, tp, "%s body" % path)
    return tp.__name__


# -- Gemini -------------------------------------------------------------------------------------

def _gemini_fields():
    from google.genai import types as g
    # models.generateContent request body (ai.google.dev/api/generate-content#request-body).
    return {"contents": ("list", g.Content), "systemInstruction": ("one", g.Content),
            "tools": ("list", g.Tool), "toolConfig": ("one", g.ToolConfig),
            "safetySettings": ("list", g.SafetySetting), "generationConfig": ("one", g.GenerationConfig),
            "cachedContent": ("one", str)}


def _gemini_body(body, fields, what):
    for key, value in body.items():
        if key not in fields:
            raise Mismatch("%s: unknown key %r (known: %s)" % (what, key, sorted(fields)))
        kind, tp = fields[key]
        where = "%s.%s" % (what, key)
        if tp is str:
            if not isinstance(value, str):
                raise Mismatch("%s: a string expected" % where)
        elif key == "generationConfig" and isinstance(value, dict) and "imageConfig" in value:
            # python-genai writes GenerateContentConfig.image_config to generationConfig.imageConfig
            # (models.py _GenerateContentConfig_to_mldev) though its GenerationConfig model has no
            # such field: checked as the ImageConfig it is, the rest as GenerationConfig.
            from google.genai import types as g
            rest = {k: v for k, v in value.items() if k != "imageConfig"}
            check_model(g.ImageConfig, value["imageConfig"], where + ".imageConfig")
            check_model(tp, rest, where)
        elif kind == "list":
            check_list(tp, value, where)
        else:
            check_model(tp, value, where)


def _gemini(record, path):
    from google.genai import types as g
    body = _json(record)
    match = re.fullmatch(r"/v1beta/models/([^/:]+):(\w+)", path)
    if not match:
        return None
    method = match.group(2)
    if method in ("generateContent", "streamGenerateContent"):
        if "contents" not in body:
            raise Mismatch("%s: required key 'contents' missing" % path)
        _gemini_body(body, _gemini_fields(), path)
        return "GenerateContentRequest"
    if method == "countTokens":
        # models.countTokens: contents XOR generateContentRequest (which names the model too).
        if ("contents" in body) == ("generateContentRequest" in body):
            raise Mismatch("%s: exactly one of contents / generateContentRequest expected: %r" % (path, sorted(body)))
        if "contents" in body:
            _gemini_body(body, {"contents": ("list", g.Content)}, path)
        else:
            inner = dict(body["generateContentRequest"])
            if inner.pop("model", None) != "models/" + match.group(1):
                raise Mismatch("%s: generateContentRequest.model must be models/%s" % (path, match.group(1)))
            _gemini_body(inner, _gemini_fields(), path + ".generateContentRequest")
        return "CountTokensRequest"
    if method in ("embedContent", "batchEmbedContents"):
        requests = body.get("requests") if method == "batchEmbedContents" else [body]
        if method == "batchEmbedContents" and sorted(body) != ["requests"]:
            raise Mismatch("%s: only 'requests' expected: %r" % (path, sorted(body)))
        fields = {"model": ("one", str), "content": ("one", g.Content), "taskType": ("one", str),
                  "title": ("one", str), "outputDimensionality": ("one", int)}
        for i, one in enumerate(requests or []):
            one = dict(one)
            dims = one.pop("outputDimensionality", None)
            if dims is not None and not isinstance(dims, int):
                raise Mismatch("%s.requests[%d].outputDimensionality: an integer expected" % (path, i))
            _gemini_body(one, fields, "%s.requests[%d]" % (path, i))
            if "content" not in one:
                raise Mismatch("%s.requests[%d]: required key 'content' missing" % (path, i))
        return "EmbedContentRequest"
    return None


# -- Cohere v2 ----------------------------------------------------------------------------------

def _signature_keys(function):
    import inspect
    return set(inspect.signature(function).parameters) - {"self", "request_options"}


def _cohere(record, path):
    import cohere
    from cohere.v2.client import V2Client
    body = _json(record)
    where = "%s body" % path
    if path == "/v2/chat":
        allowed = _signature_keys(V2Client.chat) | {"stream"}
        fields = {"messages": cohere.ChatMessageV2, "tools": cohere.ToolV2}
        name = "V2ChatRequest"
    elif path == "/v2/embed":
        allowed = _signature_keys(V2Client.embed)
        fields = {"inputs": cohere.EmbedInput}
        name = "V2EmbedRequest"
    elif path == "/v2/rerank":
        allowed = _signature_keys(V2Client.rerank)
        fields = {}
        name = "V2RerankRequest"
    else:
        return None
    unknown = set(body) - allowed
    if unknown:
        raise Mismatch("%s: unknown keys %s (known: %s)" % (where, sorted(unknown), sorted(allowed)))
    for key, tp in fields.items():
        if key in body:
            for i, item in enumerate(body[key]):
                check_adapter(tp, item, "%s.%s[%d]" % (where, key, i))
    return name


# -- Mistral ------------------------------------------------------------------------------------

def _mistral(record, path):
    from mistralai.client import models as m
    body = _json(record)
    streaming = body.get("stream") is True
    table = {"/v1/chat/completions": m.ChatCompletionStreamRequest if streaming else m.ChatCompletionRequest,
             "/v1/fim/completions": m.FIMCompletionStreamRequest if streaming else m.FIMCompletionRequest,
             "/v1/embeddings": m.EmbeddingRequest,
             "/v1/moderations": m.ClassificationRequest,
             "/v1/chat/moderations": m.ChatModerationRequest}
    tp = table.get(path)
    if tp is None:
        return None
    check_model(tp, body, "%s body" % path)
    return tp.__name__


# -- Ollama -------------------------------------------------------------------------------------

def _ollama_images(images, what):
    """Ollama's wire images are bare base64 strings (no data: URL); the SDK's Image model wraps
    one as {"value": ...} before its serializer writes the string."""
    import base64
    import binascii
    out = []
    for i, image in enumerate(images or []):
        try:
            base64.b64decode(image, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Mismatch("%s.images[%d]: bare base64 expected, got %r" % (what, i, str(image)[:40])) from None
        out.append({"value": image})
    return out


def _ollama(record, path):
    import ollama._types as o
    body = dict(_json(record))
    if "images" in body:
        body["images"] = _ollama_images(body["images"], path)
    if path == "/api/chat" and isinstance(body.get("messages"), list):
        body["messages"] = [dict(m, images=_ollama_images(m["images"], "%s.messages[%d]" % (path, i)))
                            if isinstance(m, dict) and "images" in m else m
                            for i, m in enumerate(body["messages"])]
    table = {"/api/chat": o.ChatRequest, "/api/generate": o.GenerateRequest, "/api/embed": o.EmbedRequest}
    tp = table.get(path)
    if tp is None:
        return None
    check_model(tp, body, "%s body" % path)
    # ChatRequest also takes plain mappings for messages and tools: check those with the SDK's models.
    if path == "/api/chat":
        check_list(o.Message, body["messages"], "%s messages" % path)
        check_list(o.Tool, body.get("tools") or [], "%s tools" % path)
    return tp.__name__


def _openrouter(record, path):
    """OpenAI's types, plus the `cache_control` breakpoints OpenRouter documents on text parts
    (openrouter.ai/docs: prompt caching), checked for their shape and then set aside."""
    body = _json(record)
    marker = {"type": "ephemeral"}

    def strip(value, where):
        if isinstance(value, dict):
            if "cache_control" in value:
                cc = value["cache_control"]
                if not (isinstance(cc, dict) and cc.get("type") == "ephemeral" and set(cc) <= {"type", "ttl"}):
                    raise Mismatch("%s.cache_control: %r is not %r" % (where, cc, marker))
            return {k: strip(v, "%s.%s" % (where, k)) for k, v in value.items() if k != "cache_control"}
        if isinstance(value, list):
            return [strip(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
        return value
    return _openai(dict(record, json=strip(body, "$")), path)


CHECKERS = {"openai": _openai, "openrouter": _openrouter, "anthropic": _anthropic, "gemini": _gemini, "cohere": _cohere,
            "mistral": _mistral, "ollama": _ollama}


def check_sent(protocol, record):
    """Validates one logged request; returns the SDK type's name. Fails for a path this module
    does not know for `protocol`."""
    path = _strip(record["path"])
    name = CHECKERS[protocol](record, path)
    if name is None:
        raise Mismatch("%s: no SDK request type known for %s %s" % (protocol, record["method"], path))
    return name


def check_all_sent(up, scope, protocol):
    """Every request the fake upstream logged on `scope`, validated; returns their type names."""
    records = up.requests(scope)
    assert records, "nothing reached the fake upstream on scope %r" % scope
    return [check_sent(protocol, record) for record in records]


