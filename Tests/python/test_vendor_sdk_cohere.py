# SPDX-License-Identifier: Apache-2.0
"""Cohere's own SDK (ClientV2) against the fake upstream (Tests/upstream/protocols/cohere.py
and ops_cohere.py): chat complete and streamed, a tool call and its result, embed, rerank and
errors, used through the SDK, and every raw answer validated with the SDK's v2 types (which
keep unknown keys as extras: check_model refuses them).
"""

import httpx
import pytest

cohere = pytest.importorskip("cohere")

from vendor_types import check_adapter, check_model  # noqa: E402
from vendor_wire import WEATHER_TOOLS as TOOLS, wire  # noqa: E402,F401  (wire: the fixture)

SCOPE = "co"


@pytest.fixture
def client(up, wire):
    return cohere.ClientV2(api_key="co-test", base_url="%s/%s" % (up.url, SCOPE), max_retries=0,
                           httpx_client=httpx.Client(transport=wire))


def test_chat(client, wire):
    out = client.chat(model="command-a", messages=[{"role": "system", "content": "be brief"},
                                                   {"role": "user", "content": "hello there"}],
                      temperature=0.5, max_tokens=50)
    check_model(cohere.V2ChatResponse, wire.json(), "V2ChatResponse")
    assert out.message.content[0].text == "echo: hello there" and out.finish_reason == "COMPLETE"
    assert out.usage.tokens.input_tokens > 0


def test_tool_call_and_result(client, wire):
    out = client.chat(model="command-a", messages=[{"role": "user", "content": "what is the weather"}], tools=TOOLS)
    check_model(cohere.V2ChatResponse, wire.json(), "V2ChatResponse")
    (call,) = out.message.tool_calls
    assert call.function.name == "get_weather" and out.finish_reason == "TOOL_CALL"
    again = client.chat(model="command-a", tools=TOOLS, messages=[
        {"role": "user", "content": "what is the weather"},
        {"role": "assistant", "tool_calls": [call.dict(exclude_none=True)], "tool_plan": out.message.tool_plan or "look it up"},
        {"role": "tool", "tool_call_id": call.id, "content": [{"type": "document", "document": {"data": "sunny"}}]}])
    check_model(cohere.V2ChatResponse, wire.json(), "V2ChatResponse")
    assert again.message.content or again.message.tool_calls


@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool"])
def test_chat_stream(client, wire, tools):
    kwargs = {"tools": TOOLS} if tools else {}
    text, kinds = "", []
    for event in client.chat_stream(model="command-a", messages=[
            {"role": "user", "content": "what is the weather" if tools else "one two three"}], **kwargs):
        kinds.append(event.type)
        if event.type == "content-delta":
            text += event.delta.message.content.text
    for event in wire.sse():
        if event.get("type") == "message-start":
            # Cohere's chat-stream reference shows message-start's message with empty content,
            # tool_plan, tool_calls and citations; the SDK's ChatMessageStartEventDeltaMessage
            # declares only role (and keeps the rest as extras): checked here, then set aside.
            message = dict(event["delta"]["message"])
            assert {k: message.pop(k) for k in ("content", "tool_plan", "tool_calls", "citations") if k in message} \
                in ({}, {"content": [], "tool_plan": "", "tool_calls": [], "citations": []})
            event = dict(event, delta={"message": message})
        check_adapter(cohere.StreamedChatResponseV2, event, "stream event %s" % event.get("type"))
    assert kinds[0] == "message-start" and kinds[-1] == "message-end"
    if tools:
        assert "tool-call-start" in kinds and "tool-call-end" in kinds
    else:
        assert text == "echo: one two three"


def test_embed(client, wire):
    out = client.embed(model="embed-v4.0", texts=["a b", "c"], input_type="search_document", embedding_types=["float"])
    check_model(cohere.EmbedByTypeResponse, wire.json(), "EmbedByTypeResponse")
    assert len(out.embeddings.float_) == 2


def test_rerank(client, wire):
    out = client.rerank(model="rerank-v3.5", query="giant panda", documents=["hi", "the giant panda", "a panda"], top_n=2)
    check_model(cohere.V2RerankResponse, wire.json(), "V2RerankResponse")
    assert [r.index for r in out.results] == [1, 2] and out.meta.billed_units.search_units == 1


@pytest.mark.parametrize("status,error", [(429, cohere.TooManyRequestsError),
                                          (400, cohere.BadRequestError),
                                          (500, cohere.InternalServerError)])
def test_errors(client, up, status, error):
    up.script(SCOPE, [{"status": status}])
    with pytest.raises(error) as info:
        client.chat(model="command-a", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == status and info.value.body["message"]
