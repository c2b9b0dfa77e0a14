# SPDX-License-Identifier: Apache-2.0
"""pmx_router_call through the library for the operations beyond chat and completions: images,
moderations, audio transcriptions and speech, rerank, tokens.count and OpenRouter's account
endpoints, each protocol against the fake upstream (Tests/upstream/protocols/ops_*.py), with
failover from a provider type that lacks the operation, retries, and bad input refused before
anything is sent.
"""

import base64
import hashlib
import json

import pytest

import providermux
from pmx_testlib import FAST_RETRY, SECRET


def provider(up, name, ptype, *, root=False, **extra):
    base = up.url + "/" + name + ("" if root else "/v1")
    p = {"name": name, "type": ptype, "base_url": base, "api_key": SECRET + "-" + name}
    p.update(extra)
    return p


def router(*providers, **sections):
    config = {"providers": list(providers), "retry": dict(FAST_RETRY)}
    config.update(sections)
    return providermux.Router(config)


def call(r, operation, **request):
    return r.call(operation, request)


def sent(up, scope):
    return [q for q in up.requests(scope)]


# -- images -------------------------------------------------------------------------------------

def test_images_openai(up):
    with router(provider(up, "oa", "openai")) as r:
        out = call(r, "images.generate", model="oa/gpt-image-1", prompt="a red cat", n=2)
        stats = r.stats()
    assert len(out["data"]) == 2 and base64.b64decode(out["data"][0]["b64_json"]).startswith(b"\x89PNG")
    assert out["provider"] == "oa" and [a["outcome"] for a in out["attempts"]] == ["ok"]
    # gpt-image's input/output tokens, also under the names accounting reads
    assert out["usage"]["input_tokens"] == out["usage"]["prompt_tokens"] == 3
    assert out["usage"]["output_tokens"] == out["usage"]["completion_tokens"] == 544
    assert stats["operations"] == {"images.generate": 1}
    (req,) = sent(up, "oa")
    assert req["path"] == "/oa/v1/images/generations" and req["json"]["model"] == "gpt-image-1"
    assert req["headers"]["authorization"] == "Bearer " + SECRET + "-oa"


def test_images_azure_deployment(up):
    az = {"name": "az", "type": "azure", "base_url": up.url + "/az", "api_key": "k",
          "api_version": "2024-10-21", "deployment": "img"}
    with router(az) as r:
        out = call(r, "images.generate", model="az/dall-e-3", prompt="dog", response_format="b64_json")
    assert out["data"][0]["revised_prompt"] == "revised: dog"
    (req,) = sent(up, "az")
    assert req["path"] == "/az/openai/deployments/img/images/generations?api-version=2024-10-21"


def test_images_fail_over_from_a_provider_without_them(up):
    an = provider(up, "an", "anthropic", root=True, models=["m"])
    oa = provider(up, "oa", "openai", models=["m"])
    with router(an, oa, routing={"strategy": "priority"}) as r:
        out = call(r, "images.generate", model="m", prompt="a cat")
    assert out["provider"] == "oa"
    first = out["attempts"][0]
    assert first["provider"] == "an" and first["status_name"] == "PMX_ERR_UNSUPPORTED"
    assert "has no images.generate" in first["message"]
    assert sent(up, "an") == []


# -- moderations --------------------------------------------------------------------------------

def test_moderations_openai_compatible_with_a_retried_429(up):
    up.script("mc", [{"status": 429, "retry_after": 0}])
    with router(provider(up, "mc", "openai-compatible")) as r:
        out = call(r, "moderations.create", model="mc/omni-moderation-latest",
                   input=["hello", "I will kill it"])
    assert [x["flagged"] for x in out["results"]] == [False, True]
    assert out["results"][1]["categories"]["violence"] is True
    assert len(sent(up, "mc")) == 2 and len(out["attempts"]) == 2


def test_moderations_bad_input_is_refused_before_sending(up):
    with router(provider(up, "oa", "openai")) as r:
        with pytest.raises(providermux.InvalidRequestError, match="input"):
            call(r, "moderations.create", model="oa/x", input=[1, 2])
    assert sent(up, "oa") == []


# -- audio --------------------------------------------------------------------------------------

AUDIO = bytes(range(256)) * 8


def file_json(data=AUDIO, name="a.wav"):
    return {"data": base64.b64encode(data).decode(), "filename": name, "content_type": "audio/wav"}


@pytest.mark.parametrize("ptype", ["openai", "groq", "openai-compatible"])
def test_transcription_sends_the_file_multipart(up, ptype):
    with router(provider(up, "t", ptype)) as r:
        out = call(r, "audio.transcriptions.create", model="t/whisper-1", file=file_json(),
                   language="en", timestamp_granularities=["word"], response_format="verbose_json")
    digest = hashlib.sha256(AUDIO).hexdigest()[:16]
    assert out["text"] == "fake transcript of a.wav: %d bytes, sha256 %s" % (len(AUDIO), digest)
    assert out["words"] and out["provider"] == "t"
    (req,) = sent(up, "t")
    assert req["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    assert SECRET not in json.dumps(out)


def test_transcription_plain_text_format(up):
    with router(provider(up, "t", "openai")) as r:
        out = call(r, "audio.transcriptions.create", model="t/whisper-1", file=file_json(name="b.mp3"),
                   response_format="text")
    assert out["text"].startswith("fake transcript of b.mp3")


def test_transcription_bad_base64_names_file_data(up):
    with router(provider(up, "t", "openai")) as r:
        with pytest.raises(providermux.InvalidRequestError, match=r"file\.data"):
            call(r, "audio.transcriptions.create", model="t/whisper-1",
                 file={"data": "not base64!", "filename": "a.wav"})
    assert sent(up, "t") == []


def test_transcription_larger_than_max_request_bytes_is_not_sent(up):
    with router(provider(up, "t", "openai"), limits={"max_request_bytes": 1024}) as r:
        with pytest.raises(providermux.InvalidRequestError, match="max_request_bytes"):
            call(r, "audio.transcriptions.create", model="t/whisper-1", file=file_json())
    assert sent(up, "t") == []


def test_speech_comes_back_as_base64_with_its_content_type(up):
    with router(provider(up, "s", "openai")) as r:
        out = call(r, "audio.speech.create", model="s/tts-1", input="hello", voice="alloy")
        wav = call(r, "audio.speech.create", model="s/tts-1", input="hi", voice="alloy", response_format="wav")
    audio = base64.b64decode(out["audio"])
    assert out["content_type"] == "audio/mpeg" and audio.startswith(b"ID3")
    assert hashlib.sha256(b"hello").digest() in audio and len(audio) == 5 + 32 + 256
    assert wav["content_type"] == "audio/wav" and base64.b64decode(wav["audio"]).startswith(b"RIFF")


def test_speech_upstream_error_is_mapped(up):
    with router(provider(up, "s", "openai")) as r:
        with pytest.raises(providermux.ProviderMuxError, match="Instructions are not supported"):
            call(r, "audio.speech.create", model="s/tts-1", input="x", voice="alloy", instructions="calm")


# -- rerank -------------------------------------------------------------------------------------

DOCS = ["hi", "the giant panda", "a panda", "giant"]


@pytest.mark.parametrize("ptype,root", [("cohere", True), ("openai-compatible", False), ("llamacpp", False)])
def test_rerank_best_first_cut_to_top_n(up, ptype, root):
    with router(provider(up, "rr", ptype, root=root)) as r:
        out = call(r, "rerank", model="rr/rerank-v3.5", query="giant panda", documents=DOCS,
                   top_n=3, return_documents=True)
    assert [(x["index"], x["relevance_score"]) for x in out["results"]] == [(1, 1.0), (2, 0.5), (3, 0.5)]
    assert [x["document"]["text"] for x in out["results"]] == ["the giant panda", "a panda", "giant"]
    (req,) = sent(up, "rr")
    assert req["path"] == {"cohere": "/rr/v2/rerank"}.get(ptype, "/rr/v1/rerank")
    if ptype == "cohere":
        assert "return_documents" not in req["json"] and out["usage"]["search_units"] == 1


def test_rerank_fails_over_from_anthropic(up):
    an = provider(up, "an", "anthropic", root=True, models=["bge"])
    lc = provider(up, "lc", "llamacpp", models=["bge"])
    with router(an, lc, routing={"strategy": "priority"}) as r:
        out = call(r, "rerank", model="bge", query="panda", documents=DOCS, top_n=1)
    # "the giant panda" and "a panda" tie at 1.0: the lower index first.
    assert out["provider"] == "lc" and out["results"] == [{"index": 1, "relevance_score": 1.0}]
    assert out["attempts"][0]["status_name"] == "PMX_ERR_UNSUPPORTED" and up.requests("an") == []


# -- tokens.count -------------------------------------------------------------------------------

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def test_tokens_count_anthropic(up):
    with router(provider(up, "an", "anthropic", root=True)) as r:
        out = call(r, "tokens.count", model="an/claude-x", messages=MESSAGES, max_tokens=100)
    assert out["input_tokens"] == 7 and out["estimated"] is False
    (req,) = sent(up, "an")
    assert req["path"] == "/an/v1/messages/count_tokens" and "max_tokens" not in req["json"]


def test_tokens_count_gemini(up):
    with router(provider(up, "g", "gemini", root=True)) as r:
        out = call(r, "tokens.count", model="g/gemini-2.0-flash", messages=MESSAGES)
    assert out["input_tokens"] == 4 and out["estimated"] is False
    (req,) = sent(up, "g")
    assert "generateContentRequest" in req["json"]


def test_tokens_count_llamacpp(up):
    with router(provider(up, "l", "llamacpp")) as r:
        out = call(r, "tokens.count", model="l/x.gguf", input="one two three four")
    assert out == {**out, "input_tokens": 4, "estimated": False}
    (req,) = sent(up, "l")
    assert req["path"] == "/l/tokenize"


def test_tokens_count_estimate_when_no_provider_counts(up):
    with router(provider(up, "oa", "openai")) as r:
        out = call(r, "tokens.count", model="oa/gpt-4o", messages=MESSAGES)
    assert out["estimated"] is True and out["input_tokens"] > 0
    assert sent(up, "oa") == []


# -- openrouter ---------------------------------------------------------------------------------

def test_openrouter_credits_and_generation(up):
    with router(provider(up, "or", "openrouter")) as r:
        credits = call(r, "openrouter.credits", model="or/any")
        gen = call(r, "openrouter.generation", model="or/any", id="gen-42")
        with pytest.raises(providermux.ProviderMuxError):
            call(r, "openrouter.generation", model="or/any", id="missing")
    assert credits["total_credits"] == 100.5 and credits["total_usage"] == 25.75
    assert gen["id"] == "gen-42" and gen["total_cost"] == 0.0015
    assert [q["path"] for q in sent(up, "or")][:2] == ["/or/v1/credits", "/or/v1/generation?id=gen-42"]


def test_openrouter_operations_refused_elsewhere(up):
    with router(provider(up, "oa", "openai")) as r:
        with pytest.raises(providermux.UnsupportedError, match="openrouter.credits"):
            call(r, "openrouter.credits", model="oa/any")
    assert sent(up, "oa") == []


# -- the mock -----------------------------------------------------------------------------------

def test_mock_answers_the_operations():
    with providermux.Router({"providers": [{"name": "m", "type": "mock"}]}) as r:
        img = r.call("images.generate", prompt="cat", n=2)
        assert len(img["data"]) == 2 and base64.b64decode(img["data"][0]["b64_json"]).startswith(b"\x89PNG")
        assert r.call("moderations.create", input=["a", "b"])["results"][1]["flagged"] is False
        tr = r.call("audio.transcriptions.create", file=file_json(b"abcd", "x.mp3"))
        assert tr["text"] == "mock transcript of x.mp3: 4 bytes"
        sp = r.call("audio.speech.create", input="hi there", voice="alloy")
        assert base64.b64decode(sp["audio"]) == b"hi there" and sp["content_type"] == "audio/mpeg"
        rr = r.call("rerank", query="giant panda", documents=DOCS, top_n=2)
        assert [x["index"] for x in rr["results"]] == [1, 2]
        assert r.call("tokens.count", input="one two three")["input_tokens"] == 3
