# SPDX-License-Identifier: Apache-2.0
"""pmx_router_call / pmx_router_call_stream through the library from Python (Router.call,
call_stream, acall, acall_stream): completions.create on every protocol that has it, against
the fake upstream speaking each vendor's wire format (protocols/completions.py,
ollama_generate.py, llamacpp_infill.py) and on the mock: complete, stream, a failover from a
provider type without the operation, a retried 429 and 500; the operation name errors.
"""

import asyncio
import json

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, mock_config  # noqa: E402

KEY = "sk-test-ops-7b1d"

# name: (type, base_url suffix after the scope, path the request must reach, body check)
PROTOCOLS = {
    "openai": ("openai", "/v1", "/v1/completions"),
    "deepseek": ("deepseek", "/v1", "/beta/completions"),
    "lmstudio": ("lmstudio", "/v1", "/v1/completions"),
    "llamacpp": ("llamacpp", "/v1", "/v1/completions"),
    "llamacpp_fim": ("llamacpp", "/v1", "/infill"),
    "mistral": ("mistral", "/v1", "/v1/fim/completions"),
    "ollama": ("ollama", "", "/api/generate"),
}
FIM = {"llamacpp_fim"}


def provider(server, name):
    kind, suffix, _ = PROTOCOLS[name]
    entry = {"name": name, "type": kind, "base_url": "%s/%s%s" % (server.url, name, suffix), "models": ["code"]}
    if kind != "ollama":
        entry["api_key"] = KEY
    return entry


def request_for(name, **extra):
    body = {"model": "%s/code" % name, "prompt": "def add(a, b):"}
    if name in FIM or name in ("mistral", "ollama"):
        body["suffix"] = "return a + b"
    body.update(extra)
    return body


def expected(name):
    return "echo: def add(a, b):" + (" | return a + b" if name in FIM or name in ("mistral", "ollama") else "")


@pytest.fixture
def router(up):
    config = {"providers": [provider(up, n) for n in PROTOCOLS], "retry": dict(FAST_RETRY, max_attempts=3)}
    with providermux.Router(config) as r:
        yield r


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_complete(router, up, name):
    out = router.call("completions.create", request_for(name))
    assert out["object"] == "text_completion"
    assert out["choices"][0]["text"] == expected(name)
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["provider"] == name and len(out["attempts"]) == 1
    assert out["usage"]["completion_tokens"] == len(expected(name).split())
    sent = up.requests(name)
    assert [r["path"].split("?")[0] for r in sent] == ["/%s%s" % (name, PROTOCOLS[name][2])]
    body = sent[0]["json"]
    assert body.get("stream") in (False, None)
    assert KEY not in json.dumps(out)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_stream(router, up, name):
    events = []
    result = router.call_stream("completions.create", request_for(name), on_event=events.append)
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "done" and "usage" in types
    text = "".join(e.get("content") or "" for e in events if e["type"] == "delta")
    assert text == expected(name)
    assert sum(1 for t in types if t == "delta") > 1  # streamed word by word, not in one piece
    done = events[-1]["response"]
    assert done["object"] == "text_completion" and done["choices"][0]["text"] == expected(name)
    assert done["usage"]["completion_tokens"] == len(expected(name).split())
    assert result["choices"][0]["text"] == expected(name)
    assert up.requests(name)[0]["json"]["stream"] is True


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@pytest.mark.parametrize("status", [429, 500])
def test_retried(router, up, name, status):
    up.script(name, [{"status": status, "retry_after": 0}])
    out = router.call("completions.create", request_for(name))
    assert out["choices"][0]["text"] == expected(name)
    assert [a["outcome"] for a in out["attempts"]] == ["error", "ok"]
    assert len(up.requests(name)) == 2


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_failover_from_unsupported(up, name):
    """Anthropic and Groq have no completions: refused without a request, then served here."""
    providers = [{"name": "claude", "type": "anthropic", "base_url": "%s/claude" % up.url, "api_key": KEY, "models": ["code"]},
                 {"name": "groq", "type": "groq", "base_url": "%s/groq/v1" % up.url, "api_key": KEY, "models": ["code"]},
                 provider(up, name)]
    with providermux.Router({"providers": providers, "retry": dict(FAST_RETRY)}) as r:
        body = request_for(name)
        body["model"] = "code"
        events = []
        r.call_stream("completions.create", body, on_event=events.append)
    done = events[-1]["response"]
    assert done["provider"] == name and done["choices"][0]["text"] == expected(name)
    refused = [a for a in done["attempts"] if a["provider"] in ("claude", "groq")]
    assert [a["status_name"] for a in refused] == ["PMX_ERR_UNSUPPORTED"] * 2
    assert "completions.create" in refused[0]["message"]
    assert [e["type"] for e in events].count("fallback") == 2
    assert up.requests("claude") == [] and up.requests("groq") == []


def test_mock_and_keyword_request():
    with providermux.Router(mock_config()) as r:
        out = r.call("completions.create", model="mock/x", prompt="hello", suffix="bye")
        assert out["choices"][0]["text"] == "mock: hello … bye"
        events = list(r.call_stream("completions.create", {"model": "x"}, prompt="a b c"))
        assert "".join(e.get("content") or "" for e in events if e["type"] == "delta") == "mock: a b c"
        assert events[-1]["type"] == "done"
        assert r.stats()["operations"] == {"completions.create": 2}
        assert 'pmx_router_operation_requests_total{operation="completions.create"} 2' in r.metrics()
        chat = r.call("chat.completions.create", {"messages": [{"role": "user", "content": "hi"}]})
        assert chat["choices"][0]["message"]["content"] == "mock: hi"


def test_async():
    async def main():
        with providermux.Router(mock_config()) as r:
            out = await r.acall("completions.create", model="m", prompt="x y")
            deltas = []
            stream = r.acall_stream("completions.create", prompt="p q")
            async for e in stream:
                if e["type"] == "delta":
                    deltas.append(e["content"])
            return out, "".join(deltas), stream.result
    out, text, result = asyncio.run(main())
    assert out["choices"][0]["text"] == "mock: x y"
    assert text == "mock: p q" and result["choices"][0]["text"] == "mock: p q"


def test_operation_errors():
    with providermux.Router(mock_config()) as r:
        with pytest.raises(providermux.InvalidArgumentError) as e:
            r.call("completion.create", prompt="x")
        assert '"completions.create"' in str(e.value) and '"rerank"' in str(e.value)
        with pytest.raises(providermux.InvalidRequestError) as e:
            r.call("completions.create", model="m")
        assert "prompt" in str(e.value)
        with pytest.raises(providermux.InvalidRequestError):
            r.call_stream("completions.create", prompt=["a", "b"], on_event=lambda e: None)
        with pytest.raises(providermux.UnsupportedError):
            # The mock answers moderations since ops16b; OpenRouter's account stays unsupported.
            r.call("openrouter.credits")


def test_close_cancels_running_call_streams():
    """Router.close() with a call_stream iterator mid-stream: the stream is cancelled (it ends
    with the cancellation) and close returns; no library call outlives the router."""
    config = mock_config({"name": "slow", "type": "mock", "reply": " ".join(["w"] * 40), "token_delay_ms": 50})
    r = providermux.Router(config)
    events = r.call_stream("completions.create", prompt="x")
    first = next(events)
    assert first["type"] == "start"
    r.close()
    seen = []
    with pytest.raises(providermux.StreamCancelledError):
        for e in events:
            seen.append(e["type"])
    assert "done" not in seen
    with pytest.raises(providermux.RouterClosedError):
        r.call_stream("completions.create", prompt="x")
