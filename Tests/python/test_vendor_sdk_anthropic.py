# SPDX-License-Identifier: Apache-2.0
"""Anthropic's own SDK against the fake upstream (Tests/upstream/protocols/anthropic.py and
ops_anthropic.py): the fake must speak the real Messages API, or the library's tests against it
prove nothing. Each answer is used through the SDK (its parsed objects, its stream accumulator,
its error classes) and its raw JSON is validated strictly with the SDK's response types.
"""

import pytest

anthropic = pytest.importorskip("anthropic")

from anthropic import types as t  # noqa: E402

from vendor_types import check_adapter, check_model  # noqa: E402

SCOPE = "an"
TOOLS = [{"name": "get_weather", "description": "Weather of a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]


@pytest.fixture
def client(up):
    with anthropic.Anthropic(api_key="sk-ant-test", base_url="%s/%s" % (up.url, SCOPE), max_retries=0) as c:
        yield c


def create(client, **kwargs):
    """messages.create; returns (the SDK's Message, the raw JSON checked with t.Message)."""
    raw = client.messages.with_raw_response.create(**kwargs)
    body = raw.http_response.json()
    check_model(t.Message, body, "message")
    return raw.parse(), body


def test_message(client):
    message, _ = create(client, model="claude-x", max_tokens=100, system="be brief",
                        messages=[{"role": "user", "content": "hello there"}])
    assert message.content[0].type == "text" and message.content[0].text == "echo: hello there"
    assert message.stop_reason == "end_turn" and message.usage.input_tokens > 0


def test_tool_use_and_result(client):
    message, _ = create(client, model="claude-x", max_tokens=100, tools=TOOLS,
                        messages=[{"role": "user", "content": "what is the weather"}])
    (block,) = [b for b in message.content if b.type == "tool_use"]
    assert block.name == "get_weather" and block.input == {"city": "Paris"} and message.stop_reason == "tool_use"
    again, _ = create(client, model="claude-x", max_tokens=100, tools=TOOLS, messages=[
        {"role": "user", "content": "what is the weather"},
        {"role": "assistant", "content": [block.model_dump(exclude_none=True)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "sunny"}]}])
    assert again.content and again.stop_reason in ("end_turn", "tool_use")


def test_thinking_and_cache_control(client):
    kwargs = dict(model="claude-x", max_tokens=2000, thinking={"type": "enabled", "budget_tokens": 1024},
                  system=[{"type": "text", "text": "long rules", "cache_control": {"type": "ephemeral"}}],
                  messages=[{"role": "user", "content": "hello there"}])
    message, _ = create(client, **kwargs)
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking == "thinking about: hello there" and thinking.signature
    assert text.text == "echo: hello there"
    assert (message.usage.cache_creation_input_tokens, message.usage.cache_read_input_tokens) == (11, 7)
    # The signed block goes back unchanged in the next turn.
    follow = dict(kwargs, messages=kwargs["messages"] + [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]},
        {"role": "user", "content": "and again"}])
    assert create(client, **follow)[0].content[1].text == "echo: and again"


@pytest.mark.parametrize("extra", [{}, {"tools": TOOLS}, {"thinking": {"type": "enabled", "budget_tokens": 1024}}],
                         ids=["text", "tool", "thinking"])
def test_stream(client, extra):
    text = "what is the weather" if "tools" in extra else "hello there"
    kwargs = dict(model="claude-x", max_tokens=2000, messages=[{"role": "user", "content": text}], **extra)
    # The raw events, each strictly with the SDK's union of stream events.
    kinds = []
    for event in client.messages.create(stream=True, **kwargs):
        check_adapter(t.RawMessageStreamEvent, event.to_dict(), "stream event %s" % event.type)
        kinds.append(event.type)
    # The SDK's own accumulator over the same stream.
    with client.messages.stream(**kwargs) as stream:
        final = stream.get_final_message()
    check_model(t.Message, final.to_dict(), "accumulated message")
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    if "tools" in extra:
        assert final.content[-1].type == "tool_use" and final.content[-1].input == {"city": "Paris"}
    elif "thinking" in extra:
        assert final.content[0].type == "thinking" and final.content[0].signature
        assert final.content[1].text == "echo: hello there"
    else:
        assert final.content[0].text == "echo: hello there" and final.usage.output_tokens == 3


def test_count_tokens(client):
    raw = client.messages.with_raw_response.count_tokens(
        model="claude-x", system="be brief", tools=TOOLS, messages=[{"role": "user", "content": "hello there"}])
    count = check_model(t.MessageTokensCount, raw.http_response.json(), "count")
    assert count.input_tokens > 0 and raw.parse().input_tokens == count.input_tokens


@pytest.mark.parametrize("status,error", [(429, anthropic.RateLimitError), (529, anthropic.InternalServerError),
                                          (401, anthropic.AuthenticationError), (400, anthropic.BadRequestError)])
def test_errors(client, up, status, error):
    up.script(SCOPE, [{"status": status}])
    with pytest.raises(error) as info:
        client.messages.create(model="claude-x", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    check_model(t.ErrorResponse, info.value.body, "error body")
    assert info.value.status_code == status


def test_error_event_mid_stream(client, up):
    up.script(SCOPE, [{"error_event_after_chunks": 3}])
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(model="claude-x", max_tokens=100,
                                    messages=[{"role": "user", "content": "one two three four"}]) as stream:
            for _ in stream:
                pass
    assert "overloaded" in str(info.value).lower()
