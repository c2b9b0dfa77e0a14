# SPDX-License-Identifier: Apache-2.0
"""providermux.OpenAI(...).responses: openai's Responses API over pmx_router_call.

Passthrough (an ``openai`` provider): the same user code runs through the real openai SDK against
the fake upstream's /v1/responses and through providermux against the same fake upstream; the
results must agree. Translated (the fake Anthropic and Gemini, the mock): the Response is made
from the chat answer. Every result validates with openai's ``Response`` type and every streamed
event with openai's ``ResponseStreamEvent``. The openai package is needed (scripts/setup.sh
installs it); without it these tests FAIL.
"""

import asyncio

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, SECRET  # noqa: E402

try:
    import openai
    import pydantic
    from openai.types.responses import Response as OAResponse
    from openai.types.responses import ResponseStreamEvent as OAEvent
    EVENT = pydantic.TypeAdapter(OAEvent)
except ImportError as exc:  # pragma: no cover - the failure this guards against
    openai = None
    OPENAI_MISSING = "the openai package is missing (%s): run scripts/setup.sh" % exc

TOOLS = [{"type": "function", "name": "get_weather", "description": "the weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]


@pytest.fixture(autouse=True)
def _require_openai():
    if openai is None:
        pytest.fail(OPENAI_MISSING)


def config(up, scope, type_="openai", base=None):
    return {"providers": [{"name": "p", "type": type_, "base_url": base or up.base(scope), "api_key": SECRET,
                           "models": ["fake-small"]}],
            "retry": dict(FAST_RETRY, max_attempts=1)}


def valid(response):
    """openai's own type accepts the result (our extras — provider, attempts — ride along)."""
    OAResponse.model_validate(response.model_dump())
    return response


def user_code(client):
    """What an openai user writes; returns what can be compared across servers."""
    out = {}
    r = valid(client.responses.create(model="fake-small", input="one two three", instructions="be brief"))
    out["plain"] = (r.object, r.status, r.output_text, r.usage.input_tokens, r.usage.output_tokens)
    r = valid(client.responses.create(model="fake-small", input="a b c d", max_output_tokens=2))
    out["cut"] = (r.status, r.incomplete_details.reason, r.output_text)
    call = valid(client.responses.create(model="fake-small", input="weather in Paris?", tools=TOOLS))
    item = call.output[-1]
    out["call"] = (item.type, item.name, item.call_id, item.arguments)
    back = valid(client.responses.create(
        model="fake-small", tools=TOOLS,
        input=[{"role": "user", "content": "weather in Paris?"},
               {"type": "function_call", "call_id": item.call_id, "name": item.name, "arguments": item.arguments},
               {"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}]))
    out["round_trip"] = back.output_text
    events = list(client.responses.create(model="fake-small", input="x y z", stream=True))
    for e in events:
        EVENT.validate_python(e.model_dump())
    out["stream_types"] = [e.type for e in events if e.type not in ("response.reasoning_summary_part.added",)]
    out["stream_text"] = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    out["stream_seq"] = [e.sequence_number for e in events] == sorted({e.sequence_number for e in events})
    valid(events[-1].response)
    out["stream_last"] = (events[-1].response.status, events[-1].response.output_text)
    return out


async def async_user_code(client):
    r = await client.responses.create(model="fake-small", input="x y")
    stream = await client.responses.create(model="fake-small", input="p q", stream=True)
    text = ""
    async for event in stream:
        EVENT.validate_python(event.model_dump())
        if event.type == "response.output_text.delta":
            text += event.delta
    return valid(r).output_text, text


def test_passthrough_matches_the_openai_sdk(up):
    expected = user_code(openai.OpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0))
    with providermux.OpenAI(config(up, "pmx")) as client:
        got = user_code(client)
        r = client.responses.create(model="fake-small", input="one two", store=False)
        assert r.provider == "p" and len(r.attempts) == 1 and r.usage.total_tokens > 0
    assert got == expected
    assert got["plain"][:3] == ("response", "completed", "echo: one two three")
    assert got["cut"] == ("incomplete", "max_output_tokens", "echo: a ")
    assert got["round_trip"] == "echo: tool said sunny"
    assert got["stream_text"] == "echo: x y z" and got["stream_seq"]
    sent = up.requests("pmx")
    assert all(r["path"] == "/pmx/v1/responses" for r in sent)
    assert sent[-1]["json"]["store"] is False  # the body as written

    expected = asyncio.run(async_user_code(openai.AsyncOpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0)))

    async def ours():
        async with providermux.AsyncOpenAI(config(up, "pmx")) as client:
            return await async_user_code(client)
    assert asyncio.run(ours()) == expected == ("echo: x y", "echo: p q")


@pytest.mark.parametrize("type_,base", [("anthropic", "{url}/claude"), ("gemini", "{url}/gem"), ("mock", None)])
def test_translated_results_validate(up, type_, base):
    cfg = config(up, None, type_, base.format(url=up.url) if base else None)
    if type_ == "mock":
        cfg["providers"][0] = {"name": "p", "type": "mock"}
    want = "mock: " if type_ == "mock" else "echo: "
    with providermux.OpenAI(cfg) as client:
        r = valid(client.responses.create(model="fake-small", input="good morning", instructions="be brief",
                                          max_output_tokens=50, temperature=0.5))
        assert r.object == "response" and r.status == "completed" and r.output_text == want + "good morning"
        assert r.id.startswith("resp_") and r.output[0].type == "message" and r.provider == "p"
        assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
        events = list(client.responses.create(model="fake-small", input="good night", stream=True))
        for e in events:
            EVENT.validate_python(e.model_dump())
        types = [e.type for e in events]
        assert types[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                             "response.content_part.added"]
        assert types[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                              "response.completed"]
        assert [e.sequence_number for e in events] == list(range(len(events)))
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == want + "good night"
        assert valid(events[-1].response).output_text == want + "good night"
        if type_ != "mock":
            call = valid(client.responses.create(model="fake-small", input="weather in Paris?", tools=TOOLS))
            item = call.output[-1]
            assert item.type == "function_call" and item.name == "get_weather" and item.call_id
            import json
            assert json.loads(item.arguments)["city"] == "Paris"
            stream = list(client.responses.create(model="fake-small", input="weather in Paris?", tools=TOOLS, stream=True))
            for e in stream:
                EVENT.validate_python(e.model_dump())
            assert "response.function_call_arguments.done" in [e.type for e in stream]
            assert valid(stream[-1].response).output[-1].type == "function_call"
        with pytest.raises(providermux.ProviderMuxError) as info:
            client.responses.create(model="fake-small", input="x", previous_response_id="resp_1")
        assert "previous_response_id" in str(info.value)
    if type_ == "anthropic":
        sent = up.requests("claude")
        assert sent[0]["path"] == "/claude/v1/messages" and sent[0]["json"]["system"] in ("be brief", [{"type": "text", "text": "be brief"}])
        assert sent[0]["json"]["max_tokens"] == 50


def test_anthropic_thinking_survives_a_tool_loop(up):
    """Stateless Responses tool loop with thinking on the fake Anthropic: the reasoning items of
    the first answer, resent, go back as the signed thinking block before the tool call (the fake
    400s, as Anthropic does, on a missing block or a changed signature)."""
    cfg = config(up, None, "anthropic", up.url + "/thinkloop")
    with providermux.OpenAI(cfg) as client:
        ask = dict(model="fake-small", tools=TOOLS, reasoning={"effort": "low"}, max_output_tokens=2000)
        first = valid(client.responses.create(input="weather in Paris?", **ask))
        assert [i.type for i in first.output] == ["reasoning", "function_call"]
        thought = first.output[0]
        assert thought.content[0].text == "thinking about: weather in Paris?"
        assert thought.encrypted_content.startswith("pmx.thinking:EqFake")
        call = first.output[1]
        turn = [{"role": "user", "content": "weather in Paris?"}] + [i.model_dump(exclude_none=True) for i in first.output] \
            + [{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}]
        second = valid(client.responses.create(input=turn, **ask))
        assert second.status == "completed"
        sent = up.requests("thinkloop")[-1]["json"]["messages"]
        assert sent[1]["role"] == "assistant" and [b["type"] for b in sent[1]["content"]] == ["thinking", "tool_use"]
        assert sent[1]["content"][0]["signature"] == thought.encrypted_content[len("pmx.thinking:"):]
        # Without the reasoning item, or with its signature changed, the upstream refuses the turn.
        with pytest.raises(providermux.ProviderMuxError) as info:
            client.responses.create(input=[turn[0], turn[2], turn[3]], **ask)
        assert "thinking" in str(info.value)
        # Streamed, the finished Response carries the same items to resend.
        streamed = list(client.responses.create(input="weather in Paris?", stream=True, **ask))
        done = valid(streamed[-1].response)
        again = [turn[0]] + [i.model_dump(exclude_none=True) for i in done.output] + [
            {"type": "function_call_output", "call_id": done.output[-1].call_id, "output": "sunny"}]
        assert done.output[0].encrypted_content == thought.encrypted_content
        assert valid(client.responses.create(input=again, **ask)).status == "completed"
        forged = [dict(t) for t in turn]
        forged[1]["encrypted_content"] = "pmx.thinking:EqFakeforged"
        with pytest.raises(providermux.ProviderMuxError) as info:
            client.responses.create(input=forged, **ask)
        assert "signature" in str(info.value)


def test_router_call_and_stream(up):
    with providermux.Router(config(up, "rc")) as router:
        done = router.call("responses.create", model="fake-small", input="a b")
        assert done["object"] == "response" and done["output"][0]["content"][0]["text"] == "echo: a b"
        kinds = [e["type"] for e in router.call_stream("responses.create", model="fake-small", input="c d")]
        assert kinds[0] == "start" and kinds[-1] == "done" and "response.completed" in kinds and "delta" not in kinds
