# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's operations beyond chat (protocols/ops_*.py): images, moderations, audio,
rerank, token counts and OpenRouter's account endpoints, each in its vendor's shape.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import base64
import hashlib
import json



def test_images_default_is_dall_e_2_url(up):
    r, b = up.send("POST", "/a/v1/images/generations", {"prompt": "a cat"})
    assert r.status == 200
    obj = json.loads(b)
    assert set(obj) == {"created", "data"} and obj["data"] == [{"url": "https://images.fake/0.png"}]


def test_images_gpt_image_b64_and_usage(up):
    r, b = up.send("POST", "/a/v1/images/generations", {"prompt": "a red cat", "model": "gpt-image-1", "n": 2})
    obj = json.loads(b)
    assert r.status == 200 and len(obj["data"]) == 2
    assert base64.b64decode(obj["data"][0]["b64_json"]).startswith(b"\x89PNG")
    assert obj["usage"]["input_tokens"] == 3 and obj["usage"]["output_tokens"] == 544
    r, b = up.send("POST", "/a/v1/images/generations", {"prompt": "x", "model": "gpt-image-1", "response_format": "url"})
    assert r.status == 400 and "response_format" in json.loads(b)["error"]["message"]


def test_images_dall_e_3_revised_prompt_and_n(up):
    r, b = up.send("POST", "/a/v1/images/generations", {"prompt": "dog", "model": "dall-e-3", "response_format": "b64_json"})
    assert json.loads(b)["data"][0]["revised_prompt"] == "revised: dog"
    r, _ = up.send("POST", "/a/v1/images/generations", {"prompt": "dog", "model": "dall-e-3", "n": 2})
    assert r.status == 400


def test_images_azure_deployment_path(up):
    r, b = up.send("POST", "/az/openai/deployments/img/images/generations?api-version=2024-10-21",
                   {"prompt": "cat", "response_format": "b64_json"}, {"api-key": "k"})
    assert r.status == 200 and "b64_json" in json.loads(b)["data"][0]


def test_moderations_one_result_per_string_and_one_for_parts(up):
    r, b = up.send("POST", "/a/v1/moderations", {"input": ["hello", "I will kill it"]})
    res = json.loads(b)["results"]
    assert [x["flagged"] for x in res] == [False, True] and res[1]["categories"]["violence"] is True
    assert "self-harm/intent" in res[0]["category_scores"]
    r, b = up.send("POST", "/a/v1/moderations", {"model": "omni-moderation-latest", "input": [
        {"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]})
    res = json.loads(b)["results"]
    assert len(res) == 1 and res[0]["category_applied_input_types"]["violence"] == ["image", "text"]
    r, _ = up.send("POST", "/a/v1/moderations", {"input": 3})
    assert r.status == 400


def test_mistral_moderations_own_categories_no_flagged(up):
    r, b = up.send("POST", "/mi/v1/moderations", {"model": "mistral-moderation-latest",
                                                   "input": ["hello", "I will kill it, mail me at a@b.io"]})
    assert r.status == 200
    res = json.loads(b)["results"]
    assert all("flagged" not in x for x in res)
    assert set(res[0]["categories"]) == {"sexual", "hate_and_discrimination", "violence_and_threats",
                                         "dangerous_and_criminal_content", "selfharm", "health", "financial", "law", "pii"}
    assert res[1]["categories"]["violence_and_threats"] is True and res[1]["categories"]["pii"] is True
    assert not any(res[0]["categories"].values())
    # parts and unknown keys are refused the way Mistral's validation does; OpenAI models go on to OpenAI's shape
    assert up.send("POST", "/mi/v1/moderations", {"model": "mistral-moderation-latest", "input": [{"type": "text", "text": "x"}]})[0].status == 422
    assert up.send("POST", "/mi/v1/moderations", {"model": "mistral-moderation-latest", "input": "x", "user": "u"})[0].status == 422
    assert "flagged" in json.loads(up.send("POST", "/mi/v1/moderations", {"model": "omni-moderation-latest", "input": "x"})[1])["results"][0]


def form(fields: dict, file: tuple | None) -> tuple[bytes, str]:
    boundary = "fakeboundary123"
    out = b""
    for k, vs in fields.items():
        for v in (vs if isinstance(vs, list) else [vs]):
            out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n').encode()
    if file:
        name, ctype, data = file
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def test_transcription_reports_the_bytes_it_got(up):
    audio = bytes(range(256)) * 3
    body, ctype = form({"model": "whisper-1"}, ("a.wav", "audio/wav", audio))
    r, b = up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})
    obj = json.loads(b)
    assert r.status == 200
    assert obj["text"] == f"fake transcript of a.wav: 768 bytes, sha256 {hashlib.sha256(audio).hexdigest()[:16]}"
    assert obj["usage"] == {"type": "duration", "seconds": 1}


def test_transcription_formats_and_refusals(up):
    body, ctype = form({"model": "whisper-1", "response_format": "verbose_json",
                        "timestamp_granularities[]": ["word", "segment"]}, ("a.mp3", "audio/mpeg", b"abc"))
    obj = json.loads(up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})[1])
    assert obj["task"] == "transcribe" and obj["segments"] and obj["words"]
    body, ctype = form({"model": "whisper-1", "response_format": "text"}, ("a.mp3", "audio/mpeg", b"abc"))
    r, b = up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})
    assert r.getheader("Content-Type").startswith("text/plain") and b.startswith(b"fake transcript")
    body, ctype = form({"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, ("a.mp3", "audio/mpeg", b"a"))
    assert up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})[0].status == 400
    body, ctype = form({"model": "whisper-1"}, ("noext", "audio/mpeg", b"a"))
    assert up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})[0].status == 400
    body, ctype = form({"model": "whisper-1"}, None)
    assert up.send("POST", "/a/v1/audio/transcriptions", body, {"Content-Type": ctype})[0].status == 400
    assert up.send("POST", "/a/v1/audio/transcriptions", {"model": "whisper-1"})[0].status == 400


def test_speech_binary_with_content_type(up):
    r, b = up.send("POST", "/a/v1/audio/speech", {"model": "tts-1", "input": "hello", "voice": "alloy"})
    assert r.status == 200 and r.getheader("Content-Type") == "audio/mpeg"
    assert b.startswith(b"ID3") and hashlib.sha256(b"hello").digest() in b
    r, b = up.send("POST", "/a/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "wav"})
    assert r.getheader("Content-Type") == "audio/wav" and b.startswith(b"RIFF")
    r, b = up.send("POST", "/a/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy", "instructions": "x"})
    assert r.status == 400 and json.loads(b)["error"]["type"] == "invalid_request_error"


def test_rerank_jina_shape_in_input_order(up):
    r, b = up.send("POST", "/a/v1/rerank", {"model": "m", "query": "giant panda", "top_n": 1, "return_documents": True,
                                            "documents": ["hi", "the giant panda", "a panda"]})
    obj = json.loads(b)
    assert [x["index"] for x in obj["results"]] == [0, 1, 2]
    assert [x["relevance_score"] for x in obj["results"]] == [0.0, 1.0, 0.5]
    assert obj["results"][1]["document"] == {"text": "the giant panda"} and obj["usage"]["total_tokens"] == 8


def test_cohere_rerank_sorted_and_cut(up):
    r, b = up.send("POST", "/co/v2/rerank", {"model": "rerank-v3.5", "query": "giant panda", "top_n": 2,
                                             "documents": ["hi", "the giant panda", "a panda"]},
                   {"Authorization": "Bearer k"})
    obj = json.loads(b)
    assert obj["results"] == [{"index": 1, "relevance_score": 1.0}, {"index": 2, "relevance_score": 0.5}]
    assert obj["meta"]["billed_units"] == {"search_units": 1}
    r, b = up.send("POST", "/co/v2/rerank", {"model": "m", "query": "q", "documents": ["a"], "return_documents": True},
                   {"Authorization": "Bearer k"})
    assert r.status == 400 and "return_documents" in json.loads(b)["message"]


def test_anthropic_count_tokens(up):
    h = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    body = {"model": "claude-x", "system": "be brief", "messages": [{"role": "user", "content": "hello there"}]}
    r, b = up.send("POST", "/an/v1/messages/count_tokens", body, h)
    assert r.status == 200 and json.loads(b) == {"input_tokens": 7}
    r, b = up.send("POST", "/an/v1/messages/count_tokens", {**body, "max_tokens": 5}, h)
    assert r.status == 400 and json.loads(b)["error"]["message"] == "max_tokens: Extra inputs are not permitted"
    assert up.send("POST", "/an/v1/messages/count_tokens", body, {"anthropic-version": "2023-06-01"})[0].status == 401


def test_gemini_count_tokens_both_forms(up):
    contents = [{"role": "user", "parts": [{"text": "hello there world"}]}]
    r, b = up.send("POST", "/g/v1beta/models/gemini-2.0-flash:countTokens", {"contents": contents})
    assert r.status == 200 and json.loads(b)["totalTokens"] == 3
    gen = {"model": "models/gemini-2.0-flash", "contents": contents,
           "systemInstruction": {"parts": [{"text": "be brief"}]}}
    r, b = up.send("POST", "/g/v1beta/models/gemini-2.0-flash:countTokens", {"generateContentRequest": gen})
    assert json.loads(b)["totalTokens"] == 5 and "totalTokenCount" not in json.loads(b)
    r, b = up.send("POST", "/g/v1beta/models/gemini-2.0-flash:countTokens",
                   {"contents": contents, "generateContentRequest": gen})
    assert r.status == 400 and json.loads(b)["error"]["status"] == "INVALID_ARGUMENT"


def test_llamacpp_tokenize(up):
    r, b = up.send("POST", "/l/tokenize", {"content": "hello there world"})
    assert r.status == 200 and len(json.loads(b)["tokens"]) == 3
    r, b = up.send("POST", "/l/tokenize", {"content": "a b", "with_pieces": True})
    assert [t["piece"] for t in json.loads(b)["tokens"]] == ["a ", "b"]


def test_openrouter_credits_and_generation(up):
    r, b = up.send("GET", "/or/v1/credits")
    assert json.loads(b) == {"data": {"total_credits": 100.5, "total_usage": 25.75}}
    r, b = up.send("GET", "/or/v1/generation?id=gen-123")
    assert r.status == 200 and json.loads(b)["data"]["total_cost"] == 0.0015
    assert up.send("GET", "/or/v1/generation?id=nope")[0].status == 404
    assert up.send("GET", "/or/v1/generation")[0].status == 400


def test_faults_apply_to_the_new_routes(up):
    up.script("a", [{"status": 429, "retry_after": 1}])
    r, b = up.send("POST", "/a/v1/moderations", {"input": "x"})
    assert r.status == 429 and json.loads(b)["error"]["type"] == "rate_limit_error"
    assert up.send("POST", "/a/v1/moderations", {"input": "x"})[0].status == 200
