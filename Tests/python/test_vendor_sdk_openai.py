# SPDX-License-Identifier: Apache-2.0
"""OpenAI's own SDK against the fake upstream's operations beyond chat (fake_upstream.py,
protocols/completions.py, ops_openai.py): text completions complete and streamed, embeddings,
images, moderations, transcriptions and speech, each raw answer validated strictly with the
SDK's response models; and the library's results for the same operations validated with those
types (the library adds provider, attempts and timing, so that check is the SDK's own lenient
one).
"""

import base64

import httpx
import pytest

openai = pytest.importorskip("openai")

from openai import types as ot  # noqa: E402

import providermux  # noqa: E402
from pmx_testlib import FAST_RETRY  # noqa: E402
from vendor_types import check_model  # noqa: E402
from vendor_wire import wire  # noqa: E402,F401  (wire: the fixture)

SCOPE = "oa"
AUDIO = b"RIFF\x00\x00\x00\x00WAVEfmt "


@pytest.fixture
def client(up, wire):
    with openai.OpenAI(api_key="sk-test", base_url="%s/%s/v1" % (up.url, SCOPE), max_retries=0,
                       http_client=httpx.Client(transport=wire)) as c:
        yield c


def test_completions(client, wire):
    out = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="def add(a, b):", max_tokens=16)
    check_model(ot.Completion, wire.json(), "Completion")
    assert out.choices[0].text == "echo: def add(a, b):"
    text = "".join(c.choices[0].text for c in client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="one two three", stream=True, stream_options={"include_usage": True}) if c.choices)
    chunks = wire.sse()
    assert text == "echo: one two three" and len(chunks) > 2
    for chunk in chunks:
        # The API streams `finish_reason: null` until the last chunk of a choice; the SDK types
        # chunks as Completion, whose finish_reason is not optional (it builds them unvalidated).
        chunk = dict(chunk, choices=[dict(c, finish_reason=c["finish_reason"] or "stop") for c in chunk["choices"]])
        check_model(ot.Completion, chunk, "Completion chunk")


def test_embeddings(client, wire):
    out = client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"], encoding_format="float")
    raw = dict(wire.json())
    # The fake adds Mistral's `id` (its SDK requires it); everything else is OpenAI's.
    raw.pop("id")
    check_model(ot.CreateEmbeddingResponse, raw, "CreateEmbeddingResponse")
    assert len(out.data) == 2


def test_images_and_moderations(client, wire):
    client.images.generate(model="gpt-image-1", prompt="a cat", n=2)
    check_model(ot.ImagesResponse, wire.json(), "ImagesResponse")
    client.images.generate(model="dall-e-3", prompt="a dog", response_format="b64_json")
    check_model(ot.ImagesResponse, wire.json(), "ImagesResponse")
    out = client.moderations.create(model="omni-moderation-latest", input=["a", "kill"])
    check_model(ot.ModerationCreateResponse, wire.json(), "ModerationCreateResponse")
    assert out.results[1].flagged is True


def test_audio(client, wire):
    tr = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO))
    check_model(ot.audio.Transcription, wire.json(), "Transcription")
    client.audio.transcriptions.create(model="whisper-1", file=("a.wav", AUDIO), response_format="verbose_json")
    verbose = dict(wire.json())
    # verbose_json answers carry "task": "transcribe" (API reference), which the SDK's model omits.
    assert verbose.pop("task") == "transcribe"
    check_model(ot.audio.TranscriptionVerbose, verbose, "TranscriptionVerbose")
    speech = client.audio.speech.create(model="tts-1", input="hello", voice="alloy")
    assert tr.text.startswith("fake transcript of a.wav") and speech.content.startswith(b"ID3")
    assert wire.last()[2] == "audio/mpeg"


def test_library_results_validate(up):
    config = {"providers": [{"name": SCOPE, "type": "openai", "base_url": "%s/%s/v1" % (up.url, SCOPE), "api_key": "k"}],
              "retry": dict(FAST_RETRY)}
    with providermux.Router(config) as r:
        done = ot.Completion.model_validate(r.call("completions.create", {"model": "oa/x", "prompt": "a b"}))
        assert done.choices[0].text == "echo: a b"
        events = []
        r.call_stream("completions.create", {"model": "oa/x", "prompt": "a b c"}, on_event=events.append)
        assert ot.Completion.model_validate(events[-1]["response"]).choices[0].text == "echo: a b c"
        ot.CreateEmbeddingResponse.model_validate(r.call("embeddings.create", {"model": "oa/x", "input": ["a", "b"]}))
        images = ot.ImagesResponse.model_validate(r.call("images.generate", {"model": "oa/gpt-image-1", "prompt": "cat"}))
        assert base64.b64decode(images.data[0].b64_json).startswith(b"\x89PNG")
        ot.ModerationCreateResponse.model_validate(r.call("moderations.create", {"model": "oa/omni-moderation-latest", "input": "x"}))
