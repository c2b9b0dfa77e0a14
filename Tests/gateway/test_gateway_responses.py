# SPDX-License-Identifier: Apache-2.0
"""pmx-gateway's /v1/responses (pmx_router_call's responses.create) driven by the official
openai SDK: a plain Response and a stream of `event:`/`data:` frames, translated to chat for
an OpenAI-compatible provider and passed through for an `openai` one; every result validates
with openai's own types."""

from __future__ import annotations

import json

import openai
import pydantic
import pytest
from openai.types.responses import Response as OAResponse
from openai.types.responses import ResponseStreamEvent as OAEvent

from gateway_fixture import GW_KEY
from test_gateway import client, raw

EVENT = pydantic.TypeAdapter(OAEvent)
AUTH = {"Authorization": f"Bearer {GW_KEY}", "Content-Type": "application/json"}


@pytest.mark.parametrize("provider, upstream_path", [("up", "/v1/chat/completions"), ("oa", "/v1/responses")])
def test_responses_plain(gateway, up, provider, upstream_path):
    scope = "a" if provider == "up" else "oa"
    r = client(gateway).responses.create(model=f"{provider}/fake-small", input="one two three", instructions="be brief")
    OAResponse.model_validate(r.model_dump())
    assert r.object == "response" and r.status == "completed" and r.output_text == "echo: one two three"
    assert r.usage.output_tokens > 0
    assert up.requests(scope)[-1]["path"].endswith(upstream_path)


@pytest.mark.parametrize("provider", ["up", "oa"])
def test_responses_stream(gateway, up, provider):
    events = list(client(gateway).responses.create(model=f"{provider}/fake-small", input="x y z", stream=True))
    for e in events:
        EVENT.validate_python(e.model_dump())
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "echo: x y z"
    assert events[-1].response.output_text == "echo: x y z"


def test_responses_wire_format(gateway, up):
    """The bytes themselves: `event: <type>` then `data: {…}` with the same type, no [DONE]."""
    body = json.dumps({"model": "up/fake-small", "input": "wire check", "stream": True}).encode()
    status, headers, data = raw(gateway, "POST", "/v1/responses", body, AUTH)
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    frames = [f for f in data.decode().split("\n\n") if f]
    for f in frames:
        event, payload = f.split("\n")
        assert event.startswith("event: ") and payload.startswith("data: ")
        assert json.loads(payload[6:])["type"] == event[7:]
    assert "[DONE]" not in data.decode()


def test_responses_errors(gateway, up):
    c = client(gateway)
    with pytest.raises(openai.BadRequestError):
        c.responses.create(model="up/fake-small", input=3)
    up.script("a", [{"status": 500}])
    with pytest.raises(openai.InternalServerError) as e:  # before any output: the HTTP status
        list(c.responses.create(model="up/fake-small", input="x", stream=True))
    assert e.value.status_code == 502


def test_responses_error_after_stream_started(gateway, up):
    """A failure once events went out is OpenAI's `error` event, continuing the sequence."""
    up.script("a", [{"error_event_after_chunks": 3}])
    events = list(client(gateway).responses.create(model="up/fake-small", input="a b c d e f", stream=True))
    for e in events:
        EVENT.validate_python(e.model_dump())
    assert events[0].type == "response.created" and events[-1].type == "error"
    assert events[-1].code == "upstream_error" and events[-1].sequence_number == events[-2].sequence_number + 1
    assert "response.completed" not in [e.type for e in events]
