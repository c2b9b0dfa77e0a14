# SPDX-License-Identifier: Apache-2.0
"""providermux.OpenAI's resources beyond chat (images, moderations, audio transcriptions and
speech) run the same user code as the openai SDK against the same fake upstream, with the same
results; their model_dump() validates with openai's own types. Plus the router-only calls
(rerank, count_tokens). The openai package is needed (scripts/setup.sh installs it); without
it these tests FAIL.
"""

import asyncio
import hashlib

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, SECRET  # noqa: E402


def sdk():
    """The openai package, or a FAILED test (never a skip): scripts/setup.sh installs it."""
    try:
        import openai
        import openai.types.audio  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the failure this guards against
        pytest.fail("the openai package is missing (%s): run scripts/setup.sh" % exc)
    return openai


AUDIO = bytes(range(256)) * 4


def router_config(up, scope, ptype="openai-compatible"):
    return {"providers": [{"name": "fake", "type": ptype, "base_url": up.base(scope), "api_key": SECRET}],
            "retry": dict(FAST_RETRY, max_attempts=1)}


def user_code(client, tmp_path):
    out = {}
    img = client.images.generate(model="gpt-image-1", prompt="a red cat", n=2)
    out["images"] = (len(img.data), img.data[0].b64_json, img.usage.input_tokens)
    img = client.images.generate(model="dall-e-3", prompt="dog")
    out["dalle"] = (img.data[0].url, img.data[0].revised_prompt)
    mod = client.moderations.create(model="omni-moderation-latest", input=["hello", "I will kill it"])
    out["moderation"] = ([r.flagged for r in mod.results], mod.results[1].categories.violence)
    tr = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO, "audio/wav"))
    out["transcript"] = tr.text
    path = tmp_path / "b.mp3"
    path.write_bytes(b"xyz")
    out["from_path"] = client.audio.transcriptions.create(model="whisper-1", file=path).text
    with open(path, "rb") as f:
        out["from_file"] = client.audio.transcriptions.create(model="whisper-1", file=f).text
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="hello")
    out["speech"] = speech.content
    target = tmp_path / ("speech-%s.mp3" % type(client).__module__.split(".")[0])
    speech.write_to_file(target)
    out["speech_file"] = target.read_bytes()
    return out


def test_openai_code_runs_unchanged(up, tmp_path):
    oa = sdk()
    expected = user_code(oa.OpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0), tmp_path)
    with providermux.OpenAI(router_config(up, "pmx")) as client:
        got = user_code(client, tmp_path)
    assert got == expected
    assert got["moderation"] == ([False, True], True)
    assert got["transcript"].startswith("fake transcript of a.wav: 1024 bytes, sha256 "
                                        + hashlib.sha256(AUDIO).hexdigest()[:16])
    assert got["from_path"].startswith("fake transcript of b.mp3: 3 bytes")
    assert got["speech"].startswith(b"ID3") and got["speech_file"] == got["speech"]


def test_async_client(up):
    async def run():
        async with providermux.AsyncOpenAI(router_config(up, "as")) as client:
            img = await client.images.generate(prompt="cat", response_format="b64_json")
            mod = await client.moderations.create(input="hello")
            tr = await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", b"abc"))
            speech = await client.audio.speech.create(model="tts-1", voice="alloy", input="hi")
            return img, mod, tr, speech
    img, mod, tr, speech = asyncio.run(run())
    assert img.data[0].b64_json and mod.results[0].flagged is False
    assert tr.text.startswith("fake transcript of a.wav: 3 bytes") and speech.content.startswith(b"ID3")


def test_results_validate_with_openais_types(up):
    types = sdk().types
    OAImages, OAModeration = types.ImagesResponse, types.ModerationCreateResponse
    OATranscription, OAVerbose = types.audio.Transcription, types.audio.TranscriptionVerbose
    with providermux.OpenAI(router_config(up, "v")) as client:
        img = client.images.generate(model="gpt-image-1", prompt="a cat")
        assert OAImages.model_validate(img.model_dump()).data[0].b64_json == img.data[0].b64_json
        mod = client.moderations.create(input=["a", "kill"])
        checked = OAModeration.model_validate(mod.model_dump())
        assert checked.results[1].categories.violence is True
        assert checked.results[0].categories.self_harm_intent is False
        tr = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO))
        assert OATranscription.model_validate(tr.model_dump()).text == tr.text
        verbose = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO),
                                                     response_format="verbose_json")
        assert OAVerbose.model_validate(verbose.model_dump()).segments[0].text == verbose.text


def test_rerank_and_count_tokens(up):
    config = {"providers": [{"name": "co", "type": "cohere", "base_url": up.url + "/co", "api_key": SECRET},
                            {"name": "an", "type": "anthropic", "base_url": up.url + "/an", "api_key": SECRET}],
              "retry": dict(FAST_RETRY)}
    with providermux.OpenAI(config) as client:
        ranked = client.rerank(model="co/rerank-v3.5", query="giant panda", top_n=2,
                               documents=["hi", "the giant panda", "a panda"], return_documents=True)
        assert [(r.index, r.document.text) for r in ranked.results] == [(1, "the giant panda"), (2, "a panda")]
        assert ranked.provider == "co"
        count = client.count_tokens(model="an/claude-x", messages=[{"role": "user", "content": "hello there"}])
        assert (count.input_tokens, count.estimated) == (5, False)
        assert client.router.rerank(model="co/rerank-v3.5", query="panda", documents=["a panda"])["results"][0]["index"] == 0
        assert client.router.count_tokens(model="an/claude-x", input="one two")["input_tokens"] == 5


def test_file_argument_errors():
    config = {"providers": [{"name": "m", "type": "mock"}]}
    with providermux.OpenAI(config) as client:
        with pytest.raises(providermux.InvalidArgumentError, match="file"):
            client.audio.transcriptions.create(model="whisper-1", file=12)
        with pytest.raises(providermux.InvalidArgumentError, match="binary"):
            import io
            client.audio.transcriptions.create(model="whisper-1", file=io.StringIO("text"))
