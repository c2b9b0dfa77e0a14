# SPDX-License-Identifier: Apache-2.0
"""Ollama's own SDK (ollama-python) against the fake upstream (Tests/upstream/protocols/
ollama.py and ollama_generate.py): /api/chat and /api/generate complete and streamed, a tool
call, thinking, /api/embed and errors, used through the SDK, and every raw answer (each NDJSON
line of a stream) validated with the SDK's response models, unknown keys refused.
"""

import pytest

ollama = pytest.importorskip("ollama")

from ollama import _types as o  # noqa: E402

from vendor_types import check_model  # noqa: E402
from vendor_wire import WEATHER_TOOLS as TOOLS, wire  # noqa: E402,F401  (wire: the fixture)

SCOPE = "ol"


@pytest.fixture
def client(up, wire):
    return ollama.Client(host="%s/%s" % (up.url, SCOPE), transport=wire)


def test_chat(client, wire):
    out = client.chat(model="llama3.2", messages=[{"role": "system", "content": "be brief"},
                                                  {"role": "user", "content": "hello there"}],
                      options={"temperature": 0.5, "num_predict": 50})
    check_model(o.ChatResponse, wire.json(), "ChatResponse")
    assert out.message.content == "echo: hello there" and out.done and out.eval_count == 3


def test_tool_call_and_result(client, wire):
    out = client.chat(model="llama3.2", messages=[{"role": "user", "content": "what is the weather"}], tools=TOOLS)
    check_model(o.ChatResponse, wire.json(), "ChatResponse")
    (call,) = out.message.tool_calls
    assert call.function.name == "get_weather" and call.function.arguments == {"city": "Paris"}
    again = client.chat(model="llama3.2", tools=TOOLS, messages=[
        {"role": "user", "content": "what is the weather"}, out.message,
        {"role": "tool", "tool_name": "get_weather", "content": "sunny"}])
    check_model(o.ChatResponse, wire.json(), "ChatResponse")
    assert again.done


def test_think(client, wire):
    out = client.chat(model="qwen3", messages=[{"role": "user", "content": "hello there"}], think=True)
    check_model(o.ChatResponse, wire.json(), "ChatResponse")
    assert out.message.thinking == "thinking about: hello there" and out.message.content == "echo: hello there"


@pytest.mark.parametrize("kind", ["chat", "generate"])
def test_stream(client, wire, kind):
    if kind == "chat":
        parts = [c.message.content for c in client.chat(model="llama3.2", messages=[{"role": "user", "content": "one two three"}], stream=True)]
        model = o.ChatResponse
    else:
        parts = [c.response for c in client.generate(model="qwen2.5-coder", prompt="def add(a, b):", suffix="return a + b", stream=True)]
        model = o.GenerateResponse
    lines = wire.ndjson()
    assert len(lines) > 2 and lines[-1]["done"] is True
    for line in lines:
        check_model(model, line, model.__name__)
    assert "".join(parts).startswith("echo: ")


def test_generate(client, wire):
    out = client.generate(model="qwen2.5-coder", prompt="def add(a, b):", suffix="return a + b", options={"num_predict": 50})
    check_model(o.GenerateResponse, wire.json(), "GenerateResponse")
    assert out.response == "echo: def add(a, b): | return a + b" and out.done


def test_embed(client, wire):
    out = client.embed(model="nomic-embed-text", input=["a b", "c"])
    check_model(o.EmbedResponse, wire.json(), "EmbedResponse")
    assert len(out.embeddings) == 2 and len(out.embeddings[0]) == 8


@pytest.mark.parametrize("status", [429, 500, 400])
def test_errors(client, up, status):
    up.script(SCOPE, [{"status": status}])
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == status and info.value.error
