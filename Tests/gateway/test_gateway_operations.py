# SPDX-License-Identifier: Apache-2.0
"""pmx-gateway's operations beyond chat and embeddings, driven by the official openai SDK as
its users call them: streamed text completions, images, moderations, audio transcriptions
(multipart upload) and speech (raw audio back), rerank (no SDK method: raw HTTP), and the
gateway's refusals for malformed uploads. The router behind it talks to the fake upstream."""

from __future__ import annotations

import base64
import hashlib
import json

import openai
import pytest

from gateway_fixture import GW_KEY, UPSTREAM_API_KEY
from test_gateway import client, raw

AUTH = {"Authorization": f"Bearer {GW_KEY}"}
AUDIO = bytes(range(256)) * 3


def fake_transcript(name: str, data: bytes) -> str:
    return f"fake transcript of {name}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def multipart(fields: list[tuple[str, str]], file: tuple[str, str, bytes] | None, boundary: str = "gwtestboundary") -> tuple[bytes, dict]:
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    if file:
        fname, ctype, data = file
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{fname}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"}


# --- /v1/completions streamed --------------------------------------------------------------

def test_completions_stream(gateway, up):
    chunks = list(client(gateway).completions.create(
        model="up/fake-small", prompt="one two three four", max_tokens=50, stream=True, stream_options={"include_usage": True}))
    assert all(c.object == "text_completion" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("cmpl-")
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "echo: one two three four"
    assert len([c for c in chunks if c.choices and c.choices[0].text]) >= 5  # word by word, not one blob
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5  # the usage chunk comes last
    assert up.requests("a")[-1]["json"]["stream"] is True and up.requests("a")[-1]["path"].endswith("/v1/completions")


def test_completions_stream_wire_format_and_length(gateway, up):
    body = json.dumps({"model": "up/fake-small", "prompt": "a b c d e f", "max_tokens": 3, "stream": True}).encode()
    status, headers, data = raw(gateway, "POST", "/v1/completions", body, {**AUTH, "Content-Type": "application/json"})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = [e for e in data.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert "usage" not in chunks[-1]  # not asked for
    assert "".join(c["choices"][0]["text"] for c in chunks) == "echo: a b "


def test_completions_stream_refusals(gateway, up):
    c = client(gateway)
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model="up/fake-small", prompt=["one", "two"], stream=True)
    assert e.value.body["param"] == "prompt"
    up.script("a", [{"status": 500}])
    with pytest.raises(openai.InternalServerError) as e:  # failed before any output: its HTTP status
        list(c.completions.create(model="up/fake-small", prompt="x", stream=True))
    assert e.value.status_code == 502


def test_completions_error_after_stream_started(gateway, up):
    up.script("a", [{"error_event_after_chunks": 2}])
    got = []
    with pytest.raises(openai.APIError):
        for chunk in client(gateway).completions.create(model="up/fake-small", prompt="a b c d e f", max_tokens=50, stream=True):
            got.append(chunk.choices[0].text)
    assert "".join(got).startswith("echo: ")


# --- images, moderations, rerank -----------------------------------------------------------

def test_images_generate(gateway, up):
    c = client(gateway)
    r = c.images.generate(model="up/gpt-image-1", prompt="a red cat", n=2)
    assert len(r.data) == 2 and base64.b64decode(r.data[0].b64_json).startswith(b"\x89PNG")
    assert r.usage.input_tokens == 3 and r.usage.output_tokens == 544
    sent = up.requests("a")[-1]
    assert sent["path"].endswith("/v1/images/generations") and sent["json"]["model"] == "gpt-image-1"
    assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_API_KEY}"
    r = c.images.generate(model="up/dall-e-2", prompt="a cat")
    assert r.data[0].url == "https://images.fake/0.png"
    with pytest.raises(openai.BadRequestError) as e:  # the upstream's refusal, as it said it
        c.images.generate(model="up/gpt-image-1", prompt="x", response_format="url")
    assert "response_format" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:  # the router's own check, nothing sent
        c.images.generate(model="up/gpt-image-1", prompt="")
    assert e.value.body["param"] == "prompt"


def test_moderations(gateway, up):
    r = client(gateway).moderations.create(model="up/omni-moderation-latest", input=["hello", "I will kill it"])
    assert [x.flagged for x in r.results] == [False, True]
    assert r.results[1].categories.violence is True
    assert up.requests("a")[-1]["path"].endswith("/v1/moderations")


def test_rerank_best_first_cut_to_top_n(gateway, up):
    body = {"model": "up/rerank-m", "query": "giant panda", "top_n": 2, "documents": ["hi", "the giant panda", "a panda"]}
    status, _, data = raw(gateway, "POST", "/v1/rerank", json.dumps(body).encode(), {**AUTH, "Content-Type": "application/json"})
    obj = json.loads(data)
    assert status == 200
    assert [(x["index"], x["relevance_score"]) for x in obj["results"]] == [(1, 1.0), (2, 0.5)]
    assert up.requests("a")[-1]["path"].endswith("/v1/rerank")
    status, _, data = raw(gateway, "POST", "/v1/rerank", json.dumps({"model": "up/rerank-m", "query": "q"}).encode(),
                          {**AUTH, "Content-Type": "application/json"})
    assert status == 400 and json.loads(data)["error"]["param"] == "documents"


def test_stream_refused_where_not_served(gateway, up):
    status, _, data = raw(gateway, "POST", "/v1/images/generations",
                          json.dumps({"model": "up/gpt-image-1", "prompt": "x", "stream": True}).encode(),
                          {**AUTH, "Content-Type": "application/json"})
    assert status == 400 and json.loads(data)["error"]["param"] == "stream"
    assert up.requests("a") == []


# --- audio ---------------------------------------------------------------------------------

def test_transcription_upload(gateway, up):
    c = client(gateway)
    r = c.audio.transcriptions.create(model="up/whisper-1", file=("a.wav", AUDIO, "audio/wav"))
    assert r.text == fake_transcript("a.wav", AUDIO)  # the upstream got the very bytes uploaded
    sent = up.requests("a")[-1]
    assert sent["path"].endswith("/v1/audio/transcriptions")
    assert sent["headers"]["content-type"].startswith("multipart/form-data")
    text = c.audio.transcriptions.create(model="up/whisper-1", file=("b.mp3", b"abc", "audio/mpeg"), response_format="text")
    assert isinstance(text, str) and text.startswith(fake_transcript("b.mp3", b"abc"))
    verbose = c.audio.transcriptions.create(model="up/whisper-1", file=("b.mp3", b"abc", "audio/mpeg"),
                                            response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert verbose.segments and verbose.words  # the repeated timestamp_granularities[] reached the upstream


def test_transcription_refusals(gateway, up):
    body, headers = multipart([("model", "up/whisper-1")], None)
    status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", body, headers)
    assert status == 400 and json.loads(data)["error"]["param"] == "file"
    status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", b'{"model": "up/whisper-1"}',
                          {**AUTH, "Content-Type": "application/json"})
    assert status == 400 and json.loads(data)["error"]["code"] == "invalid_multipart"
    body, headers = multipart([("model", "up/whisper-1")], ("a.wav", "audio/wav", AUDIO))
    status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", body[:-40], headers)  # cut before the close
    assert status == 400 and "boundary" in json.loads(data)["error"]["message"]
    body, headers = multipart([("model", "up/whisper-1"), ("response_format", "xml")], ("a.wav", "audio/wav", AUDIO))
    status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", body, headers)
    assert status == 400 and json.loads(data)["error"]["param"] == "response_format"
    body, headers = multipart([("model", "up/whisper-1")], ("big.wav", "audio/wav", b"x" * 70000))
    status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", body, headers)
    assert status == 413 and json.loads(data)["error"]["code"] == "request_too_large"
    assert up.requests("a") == []


def test_multipart_as_other_clients_write_it(gateway, up):
    """A quoted boundary, a preamble, padding after a delimiter, a file whose bytes hold CRLFs and
    an almost-delimiter, fields after the file: the upstream gets exactly the bytes sent."""
    data = b"\r\n--gwtestboundar\r\n-gwtestboundary" + bytes(range(256)) + b"\r\n"
    body = (b"this preamble is ignored\r\n--gwtestboundary  \r\n"
            b'Content-Disposition: form-data; name="file"; filename="odd \\"name\\".wav"\r\nContent-Type: audio/wav\r\n\r\n'
            + data + b"\r\n--gwtestboundary\r\ncontent-disposition: form-data; name=model\r\n\r\nup/whisper-1"
            + b"\r\n--gwtestboundary--\r\nepilogue")
    status, _, out = raw(gateway, "POST", "/v1/audio/transcriptions", body,
                         {**AUTH, "Content-Type": 'multipart/form-data; boundary="gwtestboundary"'})
    assert status == 200, out
    # The escaped quotes were read as quotes; the library writes them upstream as %22, as httpx does.
    assert json.loads(out)["text"] == fake_transcript("odd %22name%22.wav", data)


def test_malformed_uploads_are_400_naming_the_problem(gateway, up):
    """The multipart parser's bounds and refusals: each a 400 with a message saying what was wrong."""
    def post(body: bytes, content_type: str) -> tuple[int, str]:
        status, _, data = raw(gateway, "POST", "/v1/audio/transcriptions", body, {**AUTH, "Content-Type": content_type})
        return status, json.loads(data)["error"]["message"]

    ok, headers = multipart([("model", "up/whisper-1")], ("a.wav", "audio/wav", AUDIO))
    status, message = post(ok, "multipart/form-data")
    assert status == 400 and "boundary" in message
    status, message = post(ok, "multipart/form-data; boundary=" + "b" * 71)
    assert status == 400 and "boundary" in message
    status, message = post(b"no delimiter here", headers["Content-Type"])
    assert status == 400 and "no boundary delimiter" in message
    huge_header = (b"--gwtestboundary\r\nContent-Disposition: form-data; name=\"model\"\r\nX-Pad: " + b"p" * 20000
                   + b"\r\n\r\nup/whisper-1\r\n--gwtestboundary--\r\n")
    status, message = post(huge_header, headers["Content-Type"])
    assert status == 400 and "headers not ended" in message
    many, _ = multipart([("x", "1")] * 300, ("a.wav", "audio/wav", AUDIO))
    status, message = post(many, headers["Content-Type"])
    assert status == 400 and "more than 256 parts" in message
    nameless = b"--gwtestboundary\r\nContent-Disposition: form-data\r\n\r\nv\r\n--gwtestboundary--\r\n"
    status, message = post(nameless, headers["Content-Type"])
    assert status == 400 and "with a name" in message
    twice, _ = multipart([("model", "up/whisper-1"), ("model", "up/whisper-1")], ("a.wav", "audio/wav", AUDIO))
    status, message = post(twice, headers["Content-Type"])
    assert status == 400 and "model: given twice" in message
    assert up.requests("a") == []


def test_speech_raw_audio(gateway, up):
    c = client(gateway)
    r = c.audio.speech.create(model="up/tts-1", input="hello", voice="alloy")
    assert r.response.headers["content-type"] == "audio/mpeg"
    assert r.content.startswith(b"ID3") and hashlib.sha256(b"hello").digest() in r.content
    r = c.audio.speech.create(model="up/tts-1", input="hi", voice="alloy", response_format="wav")
    assert r.response.headers["content-type"] == "audio/wav" and r.content.startswith(b"RIFF")
    with pytest.raises(openai.BadRequestError) as e:
        c.audio.speech.create(model="up/tts-1", input="", voice="alloy")
    assert e.value.body["param"] == "input"


def test_unknown_path_lists_the_served_ones(gateway, up):
    status, _, data = raw(gateway, "POST", "/v1/audio/translations", b"{}", AUTH)
    message = json.loads(data)["error"]["message"]
    assert status == 404
    for path in ("/v1/images/generations", "/v1/moderations", "/v1/rerank", "/v1/audio/transcriptions", "/v1/audio/speech"):
        assert path in message
