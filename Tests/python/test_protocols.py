# SPDX-License-Identifier: Apache-2.0
"""Cross-protocol host tests: ONE router with one provider of every network type (each on its
own scope of the fake upstream, Tests/upstream/fake_upstream.py + its protocol plugins) plus a
mock, and the same calls through every one of them: plain and streamed completions, tool
calls plain and streamed, embeddings, model listing, a scripted 429 then success, a
disconnect after output, and API-key hygiene.

The protocols and what the tests know of each are in protocol_table.py (shared with
test_fault_matrix.py).
"""

import json

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, user  # noqa: E402
from protocol_table import MODEL, NETWORK, PROVIDERS, key_of, provider_entry  # noqa: E402

ALL = NETWORK + ["mock"]
EMBEDS = {p.name: p.embed for p in PROVIDERS}
EMBEDS["mock"] = True
DISCONNECT_AFTER = {p.name: p.text_after for p in PROVIDERS}

KEYS = [key_of(p.name) for p in PROVIDERS if p.key]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


def router_config(server):
    providers = [provider_entry(server.url, p) for p in PROVIDERS]
    providers.append({"name": "mock", "type": "mock"})
    return {"providers": providers, "retry": dict(FAST_RETRY, max_attempts=3)}


@pytest.fixture(scope="module")
def router(upstream_server):
    with providermux.Router(router_config(upstream_server)) as r:
        yield r


def expected_reply(name, text):
    return ("mock: " if name == "mock" else "echo: ") + text


def assert_no_keys(document):
    text = document if isinstance(document, str) else json.dumps(document)
    for key in KEYS:
        assert key not in text, "api key %s leaked" % key


def assert_chat_completion(response, name):
    assert response["object"] == "chat.completion"
    assert isinstance(response["id"], str) and response["id"]
    assert isinstance(response["created"], int)
    assert isinstance(response["model"], str) and response["model"]
    assert response["provider"] == name
    assert len(response["choices"]) == 1
    assert response["choices"][0]["message"]["role"] == "assistant"
    assert isinstance(response["attempts"], list) and response["attempts"]
    assert response["attempts"][-1]["outcome"] == "ok"
    assert response["attempts"][-1]["provider"] == name


def collect(router, request):
    """Streams `request` (blocking, on this thread); returns the list of events."""
    events = []
    try:
        router.stream_blocking(request, events.append)
    except providermux.ProviderMuxError:
        pass  # the error event is in `events`
    return events


def assert_tool_call(response):
    choice = response["choices"][0]
    assert choice["finish_reason"] == "tool_calls", choice
    calls = choice["message"].get("tool_calls")
    assert calls, choice
    call = calls[0]
    assert isinstance(call.get("id"), str) and call["id"], call
    assert call.get("type", "function") == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}


# --- the config itself -------------------------------------------------------------------------

def test_config_has_every_protocol(router):
    stats = router.stats()
    names = sorted(p["name"] for p in stats["providers"])
    assert names == sorted(ALL)
    assert_no_keys(stats)


# --- plain completions ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_complete(router, up, name):
    text = "hello from %s" % name
    response = router.complete(user(text, model="%s/%s" % (name, MODEL)))
    assert_chat_completion(response, name)
    assert response["choices"][0]["message"]["content"] == expected_reply(name, text)
    assert response["choices"][0]["finish_reason"] == "stop"
    usage = response["usage"]
    assert usage["total_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert len(response["attempts"]) == 1
    assert_no_keys(response)
    if name != "mock":
        log = up.requests(name)
        assert len(log) == 1, [r["path"] for r in log]
        if name in KEYS_SENT_AS:
            header, value = KEYS_SENT_AS[name]
            assert log[0]["headers"].get(header) == value % key_of(name)


# How each type sends its key upstream (checked in the fake's request log).
KEYS_SENT_AS = {
    "openai-compatible": ("authorization", "Bearer %s"),
    "openai": ("authorization", "Bearer %s"),
    "anthropic": ("x-api-key", "%s"),
    "gemini": ("x-goog-api-key", "%s"),
    "cohere": ("authorization", "Bearer %s"),
    "azure": ("api-key", "%s"),
    "openrouter": ("authorization", "Bearer %s"),
    "groq": ("authorization", "Bearer %s"),
    "mistral": ("authorization", "Bearer %s"),
}


# --- streams ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_stream(router, up, name):
    text = "stream one two three via %s" % name
    events = collect(router, user(text, model="%s/%s" % (name, MODEL)))
    types = [e["type"] for e in events]
    assert types[0] == "start", types
    assert types[-1] == "done", events[-1]
    assert types.count("done") == 1 and "error" not in types
    assert events[0]["provider"] == name
    deltas = [e for e in events if e["type"] == "delta"]
    assert len(deltas) >= 2
    streamed = "".join(e.get("content") or "" for e in deltas)
    response = events[-1]["response"]
    assert_chat_completion(response, name)
    assert streamed == expected_reply(name, text)
    assert response["choices"][0]["message"]["content"] == streamed
    assert response["choices"][0]["finish_reason"] == "stop"
    assert response["usage"]["total_tokens"] > 0
    assert isinstance(response["ttft_ms"], (int, float))
    assert_no_keys(events)


# --- tool calls -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NETWORK)
def test_tool_call(router, up, name):
    request = user("what is the weather in Paris", model="%s/%s" % (name, MODEL),
                   tools=[WEATHER_TOOL])
    response = router.complete(request)
    assert_chat_completion(response, name)
    assert_tool_call(response)
    assert_no_keys(response)


@pytest.mark.parametrize("name", NETWORK)
def test_tool_call_stream(router, up, name):
    request = user("what is the weather in Paris", model="%s/%s" % (name, MODEL),
                   tools=[WEATHER_TOOL])
    events = collect(router, request)
    types = [e["type"] for e in events]
    assert types[-1] == "done", events[-1]
    assert types.count("done") == 1 and "error" not in types
    response = events[-1]["response"]
    assert_chat_completion(response, name)
    assert_tool_call(response)
    # The streamed pieces add up to the same call.
    pieces = [tc for e in events if e["type"] == "delta" for tc in (e.get("tool_calls") or [])]
    assert pieces, "no tool_calls deltas"
    assert all(tc.get("index", 0) == 0 for tc in pieces)
    args = "".join((tc.get("function") or {}).get("arguments") or "" for tc in pieces)
    assert json.loads(args) == {"city": "Paris"}
    assert any((tc.get("function") or {}).get("name") == "get_weather" for tc in pieces)
    assert_no_keys(events)


# --- embeddings -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_embed(router, up, name):
    request = {"model": "%s/%s" % (name, MODEL), "input": ["alpha", "beta gamma"]}
    if not EMBEDS[name]:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.embed(request)
        assert info.value.code == providermux.ERR_UNSUPPORTED
        assert_no_keys(str(info.value))
        return
    result = router.embed(request)
    assert result["object"] == "list"
    assert result["provider"] == name
    assert [d["index"] for d in result["data"]] == [0, 1]
    for d in result["data"]:
        assert d["object"] == "embedding"
        assert len(d["embedding"]) > 0
        assert all(isinstance(x, (int, float)) for x in d["embedding"])
    assert result["data"][0]["embedding"] != result["data"][1]["embedding"]
    assert_no_keys(result)


# --- models -----------------------------------------------------------------------------------

# A model each live provider lists: the fake upstream's default scope list (fake-small,
# fake-large), except LM Studio's native /api/v0/models, which has its own default list.
LISTED = {"lmstudio": "qwen2.5-7b-instruct"}

def test_models_of_every_provider(router, up):
    models = router.models()
    assert models["object"] == "list"
    errors = models.get("errors") or []
    assert errors == [], errors
    by_provider = {}
    for m in models["data"]:
        assert m["id"] == m["provider"] + "/" + m["model"]
        by_provider.setdefault(m["provider"], set()).add(m["model"])
    for name in NETWORK:
        assert LISTED.get(name, MODEL) in by_provider.get(name, set()), (name, by_provider)
    assert set(by_provider) >= set(NETWORK)
    assert_no_keys(models)


# --- faults -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NETWORK)
def test_429_then_success(router, up, name):
    up.script(name, [{"status": 429, "retry_after": 0.1}])
    text = "rate limited first"
    response = router.complete(user(text, model="%s/%s" % (name, MODEL)))
    assert_chat_completion(response, name)
    assert response["choices"][0]["message"]["content"] == "echo: " + text
    attempts = response["attempts"]
    assert len(attempts) == 2, attempts
    assert attempts[0]["outcome"] == "error"
    assert attempts[0]["http_status"] == 429
    assert attempts[0]["code"] == providermux.ERR_RATE_LIMITED
    assert attempts[1]["outcome"] == "ok"
    assert len(up.requests(name)) == 2
    assert_no_keys(response)


@pytest.mark.parametrize("name", NETWORK)
def test_429_then_success_stream(router, up, name):
    up.script(name, [{"status": 429, "retry_after": 0.1}])
    text = "rate limited stream"
    events = collect(router, user(text, model="%s/%s" % (name, MODEL)))
    types = [e["type"] for e in events]
    assert types[-1] == "done", events[-1]
    assert types.count("retry") == 1
    retry = next(e for e in events if e["type"] == "retry")
    assert retry["http_status"] == 429 and retry["code"] == providermux.ERR_RATE_LIMITED
    response = events[-1]["response"]
    assert len(response["attempts"]) == 2
    assert "".join(e.get("content") or "" for e in events if e["type"] == "delta") == "echo: " + text
    assert_no_keys(events)


@pytest.mark.parametrize("name", NETWORK)
def test_disconnect_after_output(router, up, name):
    up.script(name, [{"disconnect_after_chunks": DISCONNECT_AFTER[name]}])
    request = user("one two three four five six seven eight", model="%s/%s" % (name, MODEL),
                   route={"max_attempts": 1})
    events = collect(router, request)
    types = [e["type"] for e in events]
    assert "delta" in types, types
    assert types[-1] == "error", events[-1]
    assert types.count("error") == 1 and "done" not in types
    error = events[-1]
    assert error["provider"] == name
    assert error["code"] == providermux.ERR_STREAM_INTERRUPTED, error
    assert len(up.requests(name)) == 1, "no retry once output was delivered"
    assert_no_keys(events)


# --- key hygiene over everything the router reports --------------------------------------------

def test_keys_never_appear_anywhere(router, up, log_lines):
    texts = []
    for name in NETWORK:
        up.script(name, [{"status": 401}])
        try:
            router.complete(user("unauthorized", model="%s/%s" % (name, MODEL)))
        except providermux.ProviderMuxError as exc:
            texts.append(str(exc))
            assert exc.code == providermux.ERR_AUTH, (name, exc)
        else:
            pytest.fail("%s: a 401 did not fail" % name)
        texts.append(json.dumps(collect(router, user("ok now", model="%s/%s" % (name, MODEL)))))
    texts.append(json.dumps(router.stats()))
    texts.append(json.dumps(router.health()))
    texts.append(json.dumps(router.models()))
    texts.extend(message for _, message in log_lines)
    for text in texts:
        assert_no_keys(text)
    # ... while every key did reach its upstream.
    for name, (header, value) in KEYS_SENT_AS.items():
        if name in NETWORK:
            sent = [r["headers"].get(header) for r in up.requests(name)]
            assert value % key_of(name) in sent, (name, sent)
