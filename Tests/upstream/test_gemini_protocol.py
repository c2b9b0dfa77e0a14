# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's Gemini handler (protocols/gemini.py), with stdlib clients.

    python3 -m pytest Tests/upstream/test_gemini_protocol.py -q
"""

from __future__ import annotations

import http.client
import json

import pytest


SCOPE = "gem"
MODEL_PATH = f"/{SCOPE}/v1beta/models/gemini-2.0-flash"


def request(up, method, path, body=None, headers=None, timeout=5):
    """One request on its own connection: (status, headers, body bytes)."""
    resp, data = up.send(method, path, body, {"x-goog-api-key": "AIza-fake", **(headers or {})}, timeout)
    return resp.status, dict(resp.getheaders()), data


def raw_stream(up, path, body):
    """A stream read until the server closes or drops it: (status, body bytes, dropped)."""
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        out = b""
        try:
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    return resp.status, out, False
                out += chunk
        except http.client.IncompleteRead as e:
            return resp.status, out + e.partial, True
    finally:
        conn.close()


def events(body: bytes) -> list:
    """SSE data events (CRLF-framed) as parsed JSON; a broken one as the raw text."""
    out = []
    for frame in body.split(b"\r\n\r\n"):
        if frame.startswith(b"data: "):
            text = frame[6:].decode()
            try:
                out.append(json.loads(text))
            except ValueError:
                out.append(text)
    return out


def gen(text="hello there world", tools=False, **extra):
    body = {"contents": [{"role": "user", "parts": [{"text": text}]}],
            "generationConfig": {"candidateCount": 1}}
    if tools:
        body["tools"] = [{"functionDeclarations": [
            {"name": "get_weather", "parametersJsonSchema": {"type": "object"}}]}]
    body.update(extra)
    return body


def test_generate_plain_echo_with_usage(up):
    status, headers, body = request(up, "POST", MODEL_PATH + ":generateContent",
                                    gen(systemInstruction={"parts": [{"text": "be brief"}]}))
    assert status == 200
    r = json.loads(body)
    cand = r["candidates"][0]
    assert cand["content"] == {"parts": [{"text": "echo: hello there world"}], "role": "model"}
    assert cand["finishReason"] == "STOP"
    assert r["usageMetadata"] == {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9}
    assert r["modelVersion"] == "gemini-2.0-flash"
    assert r["responseId"].startswith("fake-gemini-")
    log = up.requests(SCOPE)
    assert log[0]["path"] == MODEL_PATH + ":generateContent"
    assert log[0]["headers"]["x-goog-api-key"] == "AIza-fake"


def test_stream_word_by_word_then_finish_then_usage_only(up):
    status, body, dropped = raw_stream(up, MODEL_PATH + ":streamGenerateContent?alt=sse",
                                       gen("one two three"))
    assert status == 200 and not dropped
    assert body.endswith(b"\r\n\r\n") and b"[DONE]" not in body
    evs = events(body)
    texts = [e["candidates"][0]["content"]["parts"][0]["text"] for e in evs if e.get("candidates")]
    assert "".join(texts) == "echo: one two three"
    assert len(texts) == 5  # four words + the empty finishing part
    assert evs[-2]["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in e["candidates"][0] for e in evs[:-2])
    assert "candidates" not in evs[-1]
    assert evs[-1]["usageMetadata"] == {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7}
    assert evs[0]["usageMetadata"] == {"promptTokenCount": 3, "totalTokenCount": 3}
    assert up.requests(SCOPE)[0]["path"].endswith(":streamGenerateContent?alt=sse")


def test_stream_without_alt_sse_is_one_json_array(up):
    status, headers, body = request(up, "POST", MODEL_PATH + ":streamGenerateContent", gen("hi"))
    assert status == 200
    chunks = json.loads(body)
    assert isinstance(chunks, list)
    assert chunks[-2]["candidates"][0]["finishReason"] == "STOP"


def test_tool_call_whole_in_plain_and_stream(up):
    status, _, body = request(up, "POST", MODEL_PATH + ":generateContent", gen("weather in Paris?", tools=True))
    cand = json.loads(body)["candidates"][0]
    assert cand["content"]["parts"] == [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]
    assert cand["finishReason"] == "STOP"

    status, body, _ = raw_stream(up, MODEL_PATH + ":streamGenerateContent?alt=sse", gen("weather in Paris?", tools=True))
    evs = events(body)
    calls = [p["functionCall"] for e in evs if e.get("candidates")
             for p in e["candidates"][0]["content"]["parts"] if "functionCall" in p]
    assert calls == [{"name": "get_weather", "args": {"city": "Paris"}}]
    assert evs[-2]["candidates"][0]["finishReason"] == "STOP"


def test_function_response_turn_gets_text_not_another_call(up):
    body = gen("weather in Paris?", tools=True)
    body["contents"] += [
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}]},
    ]
    status, _, out = request(up, "POST", MODEL_PATH + ":generateContent", body)
    assert status == 200
    assert json.loads(out)["candidates"][0]["content"]["parts"] == [{"text": "echo: weather in Paris?"}]


@pytest.mark.parametrize("body, fragment", [
    (gen(messages=[]), 'Unknown name "messages"'),
    (gen(generationConfig={"max_tokens": 5}), 'Unknown name "max_tokens"'),
    ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "valid role"),
    ({"contents": [{"role": "user", "parts": []}]}, "must not be empty"),
    ({"contents": [{"role": "user", "parts": [{"image_url": "x"}]}]}, 'Unknown name "image_url"'),
    ({"contents": [{"role": "model", "parts": [{"functionCall": {"name": "f", "args": "{}"}}]}]}, "args object"),
    ({"contents": []}, "contents is not specified"),
])
def test_bad_requests_get_gemini_400s(up, body, fragment):
    status, _, out = request(up, "POST", MODEL_PATH + ":generateContent", body)
    assert status == 400
    err = json.loads(out)["error"]
    assert err["code"] == 400 and err["status"] == "INVALID_ARGUMENT"
    assert fragment in err["message"]


def test_embeddings_single_and_batch(up):
    status, _, out = request(up, "POST", f"/{SCOPE}/v1beta/models/text-embedding-004:embedContent",
                             {"model": "models/text-embedding-004", "content": {"parts": [{"text": "alpha"}]}})
    assert status == 200
    one = json.loads(out)["embedding"]["values"]
    assert len(one) == 8 and all(-1 <= v <= 1 for v in one)

    batch = {"requests": [{"model": "models/text-embedding-004", "content": {"parts": [{"text": t}]},
                           "outputDimensionality": 4} for t in ("alpha", "beta")]}
    status, _, out = request(up, "POST", f"/{SCOPE}/v1beta/models/text-embedding-004:batchEmbedContents", batch)
    vals = [e["values"] for e in json.loads(out)["embeddings"]]
    assert len(vals) == 2 and vals[0] == one[:4] and vals[0] != vals[1]

    batch["requests"][1]["model"] = "models/other"
    status, _, out = request(up, "POST", f"/{SCOPE}/v1beta/models/text-embedding-004:batchEmbedContents", batch)
    assert status == 400


def test_models_in_gemini_shape(up):
    up.set_models(SCOPE, [{"id": "gemini-x"}, {"id": "text-embedding-9"},
                          {"name": "models/custom", "inputTokenLimit": 5, "supportedGenerationMethods": []}])
    status, _, out = request(up, "GET", f"/{SCOPE}/v1beta/models?pageSize=1000")
    models = json.loads(out)["models"]
    assert [m["name"] for m in models] == ["models/gemini-x", "models/text-embedding-9", "models/custom"]
    assert models[0]["supportedGenerationMethods"] == ["generateContent", "countTokens"]
    assert models[1]["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]
    assert models[0]["inputTokenLimit"] == 32768


def test_status_fault_in_gemini_error_shape(up):
    up.script(SCOPE, [{"status": 429, "retry_after": 1},
                      {"status": 400, "message": "API key not valid.", "error_code": "API_KEY_INVALID"},
                      {"status": 503, "error_type": "UNAVAILABLE"}])
    status, headers, out = request(up, "POST", MODEL_PATH + ":generateContent", gen())
    assert status == 429 and headers["Retry-After"] == "1"
    assert json.loads(out) == {"error": {"code": 429, "message": "fake fault 429", "status": "RESOURCE_EXHAUSTED"}}
    status, _, out = request(up, "POST", MODEL_PATH + ":streamGenerateContent?alt=sse", gen())
    err = json.loads(out)["error"]
    assert status == 400 and err["status"] == "INVALID_ARGUMENT" and err["details"][0]["reason"] == "API_KEY_INVALID"
    status, _, out = request(up, "POST", MODEL_PATH + ":generateContent", gen())
    assert status == 503 and json.loads(out)["error"]["status"] == "UNAVAILABLE"
    status, _, _ = request(up, "POST", MODEL_PATH + ":generateContent", gen())
    assert status == 200


def test_stream_faults(up):
    path = MODEL_PATH + ":streamGenerateContent?alt=sse"
    up.script(SCOPE, [{"error_event_after_chunks": 2}, {"malformed_chunk_at": 1},
                      {"disconnect_after_chunks": 2}, {"truncate_body": True}])
    _, body, dropped = raw_stream(up, path, gen("a b c"))
    evs = events(body)
    assert not dropped and len(evs) == 3
    assert evs[-1] == {"error": {"code": 500, "message": "fake mid-stream error", "status": "INTERNAL"}}

    _, body, _ = raw_stream(up, path, gen("a b c"))
    assert events(body)[1] == '{"candidates": [ {not json'

    _, body, dropped = raw_stream(up, path, gen("a b c"))
    assert dropped and len(events(body)) == 2

    _, body, dropped = raw_stream(up, path, gen("a b c"))
    assert dropped and not body.endswith(b"\r\n\r\n")


def test_non_stream_disconnect_drops_without_answer(up):
    up.script(SCOPE, [{"disconnect_after_chunks": 0}])
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        request(up, "POST", MODEL_PATH + ":generateContent", gen())


def test_tuned_models_and_unknown_methods(up):
    status, _, _ = request(up, "POST", f"/{SCOPE}/v1beta/tunedModels/my-tune:generateContent", gen())
    assert status == 200
    # countTokens is served since issue 16 (protocols/ops_gemini.py): another method stays unknown.
    status, _, _ = request(up, "POST", f"/{SCOPE}/v1beta/models/x:predictLongRunning", gen())
    assert status == 404


def test_image_output_inline_data_per_candidate(up):
    import base64
    body = {"contents": [{"role": "user", "parts": [{"text": "a red fox"}]}],
            "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "candidateCount": 2,
                                 "imageConfig": {"aspectRatio": "16:9"}}}
    status, _, data = request(up, "POST", MODEL_PATH + "-image:generateContent", body)
    assert status == 200
    obj = json.loads(data)
    images = [p["inlineData"] for c in obj["candidates"] for p in c["content"]["parts"] if "inlineData" in p]
    assert [i["mimeType"] for i in images] == ["image/png", "image/png"]
    assert base64.b64decode(images[1]["data"]) == b"\x89PNG\r\n\x1a\na red fox|16:9|1"
    assert obj["usageMetadata"]["candidatesTokenCount"] == 2 * (1290 + 4)
    body["contents"][0]["parts"][0]["text"] = "something forbidden"
    blocked = json.loads(request(up, "POST", MODEL_PATH + "-image:generateContent", body)[2])
    assert blocked["candidates"][0]["finishReason"] == "IMAGE_SAFETY" and "content" not in blocked["candidates"][0]
    for bad in [{"responseModalities": ["PICTURE"]}, {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "7:4"}}]:
        body["generationConfig"] = bad
        assert request(up, "POST", MODEL_PATH + "-image:generateContent", body)[0] == 400
