# SPDX-License-Identifier: Apache-2.0
"""Mistral's own SDK (mistralai) against the fake upstream (its OpenAI-shaped chat and
Tests/upstream/protocols/completions.py's /v1/fim/completions): chat complete and streamed,
a tool call, FIM complete and streamed, embeddings and errors, used through the SDK, and every
raw answer validated with the SDK's response models (unknown keys refused).
"""

import httpx
import pytest

mistral_client = pytest.importorskip("mistralai.client")

from mistralai.client import Mistral, errors, models as m  # noqa: E402

from vendor_types import check_model  # noqa: E402
from vendor_wire import WEATHER_TOOLS as TOOLS, wire  # noqa: E402,F401  (wire: the fixture)

SCOPE = "mi"


@pytest.fixture
def client(up, wire):
    return Mistral(api_key="mi-test", server_url="%s/%s" % (up.url, SCOPE), client=httpx.Client(transport=wire))


def test_chat(client, wire):
    out = client.chat.complete(model="mistral-small", messages=[{"role": "system", "content": "be brief"},
                                                                {"role": "user", "content": "hello there"}],
                               temperature=0.5, max_tokens=50, random_seed=7)
    check_model(m.ChatCompletionResponse, wire.json(), "ChatCompletionResponse")
    assert out.choices[0].message.content == "echo: hello there" and out.usage.prompt_tokens > 0


def test_tool_call(client, wire):
    out = client.chat.complete(model="mistral-small", messages=[{"role": "user", "content": "what is the weather"}], tools=TOOLS)
    check_model(m.ChatCompletionResponse, wire.json(), "ChatCompletionResponse")
    (call,) = out.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and out.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("kind", ["chat", "fim"])
def test_stream(client, wire, kind):
    if kind == "chat":
        events = client.chat.stream(model="mistral-small", messages=[{"role": "user", "content": "one two three"}])
        expected = "echo: one two three"
    else:
        events = client.fim.stream(model="codestral-latest", prompt="def add(a, b):", suffix="return a + b")
        expected = "echo: def add(a, b): | return a + b"
    text = "".join(e.data.choices[0].delta.content or "" for e in events if e.data.choices)
    assert text == expected
    chunks = wire.sse()
    assert len(chunks) > 2
    for chunk in chunks:
        check_model(m.CompletionChunk, chunk, "CompletionChunk")


def test_fim(client, wire):
    out = client.fim.complete(model="codestral-latest", prompt="def add(a, b):", suffix="return a + b", max_tokens=16)
    check_model(m.FIMCompletionResponse, wire.json(), "FIMCompletionResponse")
    assert out.choices[0].message.content == "echo: def add(a, b): | return a + b"


def test_embeddings(client, wire):
    out = client.embeddings.create(model="mistral-embed", inputs=["a b", "c"])
    check_model(m.EmbeddingResponse, wire.json(), "EmbeddingResponse")
    assert len(out.data) == 2 and len(out.data[0].embedding) == 8


@pytest.mark.parametrize("status", [429, 500, 400])
def test_errors(client, up, status):
    up.script(SCOPE, [{"status": status}])
    with pytest.raises(errors.SDKError if status != 422 else errors.HTTPValidationError) as info:
        client.chat.complete(model="mistral-small", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == status
