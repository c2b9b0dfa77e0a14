# SPDX-License-Identifier: Apache-2.0
"""Reasoning and prompt caching through the library (issue 16 item 2): every protocol that has
reasoning, against the fake upstream speaking the vendor's own shapes (reasoning_content
deltas, Anthropic thinking blocks with signatures, Gemini thought parts, Ollama
message.thinking, cache usage fields): complete, streamed with the JSON callback, and pulled
as typed events (pmx_stream_next)."""

import copy

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, user  # noqa: E402
from protocol_table import BY_NAME, NETWORK, provider_entry  # noqa: E402

# Every network protocol.
REASONING = list(NETWORK)
THOUGHT = "thinking about: hello there"
# The vendors that count reasoning apart (OpenAI's reasoning_tokens, Gemini's thoughtsTokenCount);
# Anthropic, Ollama and Cohere count it inside the output tokens only.
COUNTS_REASONING = [name for name in REASONING if name not in ("anthropic", "ollama", "cohere")]

PRICES = {"input_per_mtok": 1, "output_per_mtok": 2, "cached_input_per_mtok": 0.1, "cache_write_input_per_mtok": 1.25}


@pytest.fixture(scope="module")
def router(upstream_server):
    config = {"providers": [provider_entry(upstream_server.url, BY_NAME[n]) for n in REASONING],
              "retry": dict(FAST_RETRY, max_attempts=1),
              "pricing": {"anthropic/*": PRICES, "openrouter/*": PRICES}}
    with providermux.Router(config) as r:
        yield r


def request(name, **extra):
    r = user("hello there", model=name + "/fake-small", reasoning_effort="low", max_tokens=2000)
    r.update(extra)
    return r


@pytest.mark.parametrize("name", REASONING)
def test_complete_keeps_reasoning(router, name):
    r = router.complete(request(name))
    message = r["choices"][0]["message"]
    assert message["reasoning_content"] == THOUGHT
    assert message["content"] == "echo: hello there"
    if name in COUNTS_REASONING:
        assert r["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4
    if name == "anthropic":
        assert message["thinking_blocks"][0]["type"] == "thinking"
        assert message["thinking_blocks"][0]["thinking"] == THOUGHT
        assert message["thinking_blocks"][0]["signature"].startswith("EqFake")


def deltas(events):
    return [e for e in events if e["type"] == "delta"]


@pytest.mark.parametrize("name", REASONING)
@pytest.mark.parametrize("pulled", [False, True], ids=["json", "pulled"])
def test_stream_carries_reasoning_before_content(router, name, pulled):
    req = request(name, stream_options={"include_usage": True})
    if pulled:
        events = list(router.stream(req))
    else:
        events = []
        router.stream(req, events.append)
    ds = deltas(events)
    reasoning = "".join(e.get("reasoning", "") for e in ds)
    content = "".join(e.get("content") or "" for e in ds)
    assert reasoning == THOUGHT
    assert content == "echo: hello there"
    first_content = next(i for i, e in enumerate(ds) if e.get("content"))
    assert all("reasoning" in e for e in ds[:first_content])
    assert not any("reasoning" in e for e in ds[first_content:])
    done = events[-1]
    assert done["type"] == "done"
    assert done["response"]["choices"][0]["message"]["reasoning_content"] == THOUGHT
    if name in COUNTS_REASONING:
        assert done["response"]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 4
        if not pulled:  # a pulled usage event has pmx_event's numbers only (no reasoning count)
            usage = [e for e in events if e["type"] == "usage"][-1]["usage"]
            assert usage["completion_tokens_details"]["reasoning_tokens"] == 4


def test_anthropic_thinking_goes_back_with_its_signature(router):
    first = router.complete(request("anthropic"))
    answer = first["choices"][0]["message"]
    follow = request("anthropic")
    follow["messages"] = follow["messages"] + [
        {"role": "assistant", "content": answer["content"], "reasoning_content": answer["reasoning_content"],
         "thinking_blocks": answer["thinking_blocks"]},
        {"role": "user", "content": "and again"}]
    again = router.complete(follow)
    assert again["choices"][0]["message"]["reasoning_content"] == "thinking about: and again"
    # A changed signature is refused by the upstream (Anthropic checks them): the block went as given.
    tampered = copy.deepcopy(follow)
    tampered["messages"][1]["thinking_blocks"][0]["signature"] = "EqFakeforged"
    with pytest.raises(providermux.ProviderMuxError) as e:
        router.complete(tampered)
    assert "signature" in str(e.value)


def test_anthropic_cache_control_reaches_the_upstream_and_is_priced(router):
    req = request("anthropic", reasoning_effort="none")
    req["messages"] = [
        {"role": "system", "content": [{"type": "text", "text": "long rules", "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": [{"type": "text", "text": "hello there", "cache_control": {"type": "ephemeral"}}]}]
    for stream in (False, True):
        if stream:
            events = []
            router.stream(dict(req, stream_options={"include_usage": True}), events.append)
            usage = events[-1]["response"]["usage"]
        else:
            usage = router.complete(req)["usage"]
        assert usage["prompt_tokens_details"] == {"cached_tokens": 7, "cache_creation_tokens": 11}
        plain = usage["prompt_tokens"] - 7 - 11
        expected = (plain * 1 + 7 * 0.1 + 11 * 1.25 + usage["completion_tokens"] * 2) / 1e6
        assert usage["cost_usd"] == pytest.approx(expected, abs=1e-8)


def test_anthropic_effort_needs_room_for_thinking(router):
    with pytest.raises(providermux.ProviderMuxError) as e:
        router.complete(request("anthropic", max_tokens=1000))
    assert "reasoning_effort" in str(e.value)


def test_openrouter_cached_tokens_priced_at_the_cached_rate(router):
    req = user("hello there", model="openrouter/fake-small")
    req["messages"][0]["content"] = [{"type": "text", "text": "hello there", "cache_control": {"type": "ephemeral"}}]
    usage = router.complete(req)["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 2
    expected = (0 * 1 + 2 * 0.1 + usage["completion_tokens"] * 2) / 1e6
    assert usage["cost_usd"] == pytest.approx(expected, abs=1e-8)
