# SPDX-License-Identifier: Apache-2.0
"""Google's own SDK (google-genai) against the fake upstream (Tests/upstream/protocols/gemini.py
and ops_gemini.py): generateContent complete and streamed with tools, thoughts and several
candidates, countTokens, batchEmbedContents and errors, used through the SDK, and every raw
answer validated with the SDK's pydantic models (REST camelCase by alias, unknown keys refused
by the SDK's own config).
"""

import pytest

genai = pytest.importorskip("google.genai")

from google.genai import errors as gerrors  # noqa: E402
from google.genai import types as g  # noqa: E402

from vendor_types import check_list, check_model  # noqa: E402
from vendor_wire import wire  # noqa: E402,F401  (wire: the fixture)

SCOPE = "ge"
WEATHER = g.Tool(function_declarations=[g.FunctionDeclaration(
    name="get_weather", description="Weather of a city",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}})])


@pytest.fixture
def client(up, wire):
    import httpx
    options = g.HttpOptions(base_url="%s/%s" % (up.url, SCOPE), api_version="v1beta",
                            httpx_client=httpx.Client(transport=wire),
                            retry_options=g.HttpRetryOptions(attempts=1))
    yield genai.Client(api_key="gm-test", http_options=options)


def check_answer(document):
    # The SDK's model has no sdk_http_response on the wire; everything else must be known.
    return check_model(g.GenerateContentResponse, document, "GenerateContentResponse")


def test_generate(client, wire):
    out = client.models.generate_content(
        model="gemini-x", contents="hello there",
        config=g.GenerateContentConfig(system_instruction="be brief", temperature=0.5, max_output_tokens=50))
    assert out.text == "echo: hello there" and out.candidates[0].finish_reason == g.FinishReason.STOP
    assert out.usage_metadata.prompt_token_count > 0
    check_answer(wire.json())


def test_tool_call_and_response(client, wire):
    config = g.GenerateContentConfig(tools=[WEATHER],
                                     automatic_function_calling=g.AutomaticFunctionCallingConfig(disable=True))
    out = client.models.generate_content(model="gemini-x", contents="what is the weather", config=config)
    check_answer(wire.json())
    (call,) = out.function_calls
    assert call.name == "get_weather" and call.args == {"city": "Paris"}
    contents = [g.Content(role="user", parts=[g.Part(text="what is the weather")]),
                out.candidates[0].content,
                g.Content(role="user", parts=[g.Part.from_function_response(name="get_weather", response={"t": "sunny"})])]
    again = client.models.generate_content(model="gemini-x", contents=contents, config=config)
    check_answer(wire.json())
    assert again.text


def test_thoughts_and_candidates(client, wire):
    out = client.models.generate_content(
        model="gemini-x", contents="hello there",
        config=g.GenerateContentConfig(candidate_count=2, thinking_config=g.ThinkingConfig(include_thoughts=True)))
    check_answer(wire.json())
    assert len(out.candidates) == 2
    thought = out.candidates[0].content.parts[0]
    assert thought.thought is True and thought.text == "thinking about: hello there"
    assert out.usage_metadata.thoughts_token_count > 0


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool"])
def test_stream(client, wire, tools):
    config = g.GenerateContentConfig(tools=[WEATHER], automatic_function_calling=g.AutomaticFunctionCallingConfig(disable=True)) if tools else None
    text, calls = "", []
    for chunk in client.models.generate_content_stream(
            model="gemini-x", contents="what is the weather" if tools else "one two three", config=config):
        text += chunk.text or ""
        calls += chunk.function_calls or []
    events = wire.sse()
    assert len(events) > 2
    for event in events:
        check_answer(event)
    if tools:
        assert [c.args for c in calls] == [{"city": "Paris"}]
    else:
        assert text == "echo: one two three"


def test_count_tokens(client, wire):
    out = client.models.count_tokens(model="gemini-x", contents="hello there")
    assert out.total_tokens > 0
    raw = dict(wire.json())
    # promptTokensDetails is in the REST reference (ModalityTokenCount[]) but not in the SDK's
    # CountTokensResponse: checked apart with the SDK's ModalityTokenCount.
    check_list(g.ModalityTokenCount, raw.pop("promptTokensDetails", []), "promptTokensDetails")
    check_model(g.CountTokensResponse, raw, "CountTokensResponse")


def test_embed(client, wire):
    out = client.models.embed_content(model="text-embedding-004", contents=["a b", "c"])
    assert len(out.embeddings) == 2 and len(out.embeddings[0].values) == 8
    check_model(g.EmbedContentResponse, wire.json(), "batchEmbedContents answer")


@pytest.mark.parametrize("status,error", [(429, gerrors.ClientError), (500, gerrors.ServerError), (400, gerrors.ClientError)])
def test_errors(client, up, status, error):
    up.script(SCOPE, [{"status": status}])
    with pytest.raises(error) as info:
        client.models.generate_content(model="gemini-x", contents="hi")
    assert info.value.code == status and info.value.status and info.value.message
