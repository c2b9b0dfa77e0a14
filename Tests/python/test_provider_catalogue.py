# SPDX-License-Identifier: Apache-2.0
"""Issue 16 items 4 and 5 through the library: the type names users type (`claude`, `google`,
`lm-studio`, `llama-cpp`), "did you mean" on a model no provider serves, and discovery's
re-listed model set replacing a discovered provider's models while the router runs."""

import time

import pytest

import providermux
from upstream import FakeUpstream


class PersonalityUpstream(FakeUpstream):
    """The fake upstream as exactly one kind of local server, at its root (discovery)."""

    def __init__(self, personality):
        super().__init__()
        self.personality = personality

    def command(self):
        return super().command() + ["--personality", self.personality]


def test_type_aliases_are_accepted_and_reported_by_canonical_name(up):
    config = {"providers": [
        {"name": "c", "type": "claude", "base_url": up.url + "/c", "api_key": "k"},
        {"name": "g", "type": "google", "base_url": up.url + "/g", "api_key": "k"},
        {"name": "l", "type": "lm-studio", "base_url": up.base("l")},
        {"name": "cpp", "type": "llama-cpp", "base_url": up.base("cpp")},
    ], "discovery": {"enabled": False}}
    with providermux.Router(config) as router:
        types = {p["name"]: p["type"] for p in router.health()["providers"]}
        assert types == {"c": "anthropic", "g": "gemini", "l": "lmstudio", "cpp": "llamacpp"}
        stats = {p["name"]: p.get("type") for p in router.stats()["providers"]}
        assert set(stats) == set(types)
        # The alias speaks its canonical type's protocol: Anthropic's Messages API.
        r = router.complete({"model": "c/claude-x", "max_tokens": 20,
                             "messages": [{"role": "user", "content": "hello there"}]})
        assert r["choices"][0]["message"]["content"] == "echo: hello there"
        assert [q["path"] for q in up.requests("c")][-1] == "/c/v1/messages"


def test_unknown_type_lists_the_aliases():
    with pytest.raises(providermux.ProviderMuxError) as info:
        providermux.Router({"providers": [{"name": "x", "type": "claud"}]})
    assert info.value.code == providermux.ERR_UNKNOWN_PROVIDER_TYPE
    assert "claude (= anthropic)" in info.value.message


def test_discovery_target_alias():
    config = {"providers": [{"name": "m", "type": "mock"}],
              "discovery": {"enabled": True, "interval_ms": 0, "timeout_ms": 200,
                            "targets": [{"type": "lm-studio", "port": 9}, {"type": "llama-cpp", "port": 9}]}}
    # Port 9 (discard) answers nothing here: the config is what is checked.
    with providermux.Router(config) as router:
        assert [p["name"] for p in router.health()["providers"]] == ["m"]


def test_model_not_found_suggests_close_names():
    config = {"providers": [
        {"name": "a", "type": "mock", "models": ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4o", "llama3.2"]},
        {"name": "b", "type": "mock", "models": ["claude-sonnet-4-5"]},
    ], "routing": {"model_groups": {"smart": ["b/claude-sonnet-4-5"]}}}
    with providermux.Router(config) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete({"model": "gpt-4-mini", "messages": [{"role": "user", "content": "x"}]})
        assert info.value.code == providermux.ERR_NO_PROVIDER
        assert 'did you mean "gpt-4o-mini", "gpt-4.1-mini"?' in info.value.message
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete({"model": "smrat", "messages": [{"role": "user", "content": "x"}]})
        assert 'did you mean "smart"?' in info.value.message
        # Pinned to a provider: its own names, written the way they would route.
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete({"model": "a/llama3", "messages": [{"role": "user", "content": "x"}]})
        assert 'did you mean "a/llama3.2"?' in info.value.message
        # Nothing close: no suggestion at all.
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete({"model": "mistral-large", "messages": [{"role": "user", "content": "x"}]})
        assert "did you mean" not in info.value.message


def wait_for(predicate, what):
    """Polls a condition the router reaches on its own (discovery rounds); the bound is a
    safety net, not a measured time."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail("never happened: " + what)


def test_discovery_relisting_replaces_the_discovered_models():
    with PersonalityUpstream("ollama") as ollama:
        ollama.set_models("default", [{"id": "llama3.2"}])
        config = {"providers": [{"name": "m", "type": "mock", "models": ["cloud"]}],
                  "discovery": {"enabled": True, "interval_ms": 100, "models_ttl_ms": 0, "timeout_ms": 2000,
                                "targets": [{"type": "ollama", "port": ollama.port}]}}
        name = "ollama-%d" % ollama.port
        ask = {"model": "qwen3", "messages": [{"role": "user", "content": "hi pulled"}]}

        def listed():
            return {m["id"] for m in router.models()["data"] if m.get("provider") == name}

        with providermux.Router(config) as router:
            assert listed() == {name + "/llama3.2"}
            with pytest.raises(providermux.ProviderMuxError) as info:
                router.complete(ask)
            assert info.value.code == providermux.ERR_NO_PROVIDER

            # "ollama pull qwen3" on the server: routable without a new router.
            ollama.set_models("default", [{"id": "llama3.2"}, {"id": "qwen3"}])
            wait_for(lambda: listed() == {name + "/llama3.2", name + "/qwen3"}, "qwen3 listed")
            r = router.complete(ask)
            assert r["provider"] == name
            assert r["choices"][0]["message"]["content"] == "echo: hi pulled"

            # "ollama rm llama3.2": no longer routed to it.
            ollama.set_models("default", [{"id": "qwen3"}])
            wait_for(lambda: listed() == {name + "/qwen3"}, "llama3.2 gone")
            with pytest.raises(providermux.ProviderMuxError) as info:
                router.complete({"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]})
            assert info.value.code == providermux.ERR_NO_PROVIDER


OPENROUTER_MODELS = [
    # OpenRouter's /api/v1/models shape: prices are USD PER TOKEN, as strings.
    {"id": "anthropic/claude-sonnet-4", "name": "Anthropic: Claude Sonnet 4", "context_length": 200000,
     "pricing": {"prompt": "0.000004", "completion": "0.00002", "request": "0", "image": "0.0048",
                 "input_cache_read": "0.0000004"}},
    {"id": "mistralai/ministral-8b", "name": "Mistral: Ministral 8B", "context_length": 128000,
     "pricing": {"prompt": "0.0000001", "completion": "0.0000001", "request": "0", "image": "0"}},
    # The router model's price depends on the model it picks: "-1", never a cost.
    {"id": "openrouter/auto", "name": "Auto Router", "pricing": {"prompt": "-1", "completion": "-1"}},
]


def openrouter_router(up, **extra):
    provider = {"name": "or", "type": "openrouter", "base_url": up.base("or"), "api_key": "sk-or-test"}
    provider.update(extra)
    return providermux.Router({"providers": [provider, {"name": "m", "type": "mock", "models": ["claude-local"]}]})


def ask(router, model):
    return router.complete({"model": model, "messages": [{"role": "user", "content": "hello there"}]})


def test_openrouter_prices_from_models_feed_cost(up):
    up.set_models("or", OPENROUTER_MODELS)
    with openrouter_router(up) as router:
        # A provider pointed elsewhere than openrouter.ai is not asked on its own: before a
        # listing, the built-in list prices Claude (3 / 15 USD per MTok) and nothing prices Ministral.
        r = ask(router, "or/anthropic/claude-sonnet-4")
        assert r["usage"]["prompt_tokens"] == 2 and r["usage"]["completion_tokens"] == 3
        assert r["usage"]["cost_usd"] == pytest.approx(2 * 3e-6 + 3 * 15e-6)
        assert ask(router, "or/mistralai/ministral-8b")["usage"].get("cost_usd") is None
        assert [q["path"] for q in up.requests("or")] == ["/or/v1/chat/completions"] * 2
        listing = router.models(provider="or")
        assert [m["id"] for m in listing["data"]] == ["or/anthropic/claude-sonnet-4", "or/mistralai/ministral-8b",
                                                      "or/openrouter/auto"]
        assert listing["data"][0]["pricing"] == {"input_per_mtok": pytest.approx(4.0), "output_per_mtok": pytest.approx(20.0),
                                                 "cached_input_per_mtok": pytest.approx(0.4)}
        assert "pricing" not in listing["data"][2]
        # The listing taught the router OpenRouter's own prices (2 prompt words, 3 reply words).
        assert ask(router, "or/anthropic/claude-sonnet-4")["usage"]["cost_usd"] == pytest.approx(2 * 4e-6 + 3 * 20e-6)
        assert ask(router, "or/mistralai/ministral-8b")["usage"]["cost_usd"] == pytest.approx(5 * 0.1e-6)
        assert ask(router, "or/openrouter/auto")["usage"].get("cost_usd") is None


def test_configured_prices_win_over_listed_ones(up):
    up.set_models("or", OPENROUTER_MODELS)
    provider = {"name": "or", "type": "openrouter", "base_url": up.base("or"), "api_key": "sk-or-test"}
    config = {"providers": [provider],
              "pricing": {"or/anthropic/claude-sonnet-4": {"input_per_mtok": 1, "output_per_mtok": 1}}}
    with providermux.Router(config) as router:
        router.models()
        assert ask(router, "or/anthropic/claude-sonnet-4")["usage"]["cost_usd"] == pytest.approx(5e-6)
        assert ask(router, "or/mistralai/ministral-8b")["usage"]["cost_usd"] == pytest.approx(5 * 0.1e-6)


def test_openrouter_fetch_pricing_at_start(up):
    up.set_models("or", OPENROUTER_MODELS)
    with openrouter_router(up, fetch_pricing=True) as router:
        wait_for(lambda: any(q["path"] == "/or/v1/models" for q in up.requests("or")), "the price fetch")
        wait_for(lambda: ask(router, "or/mistralai/ministral-8b")["usage"].get("cost_usd") is not None, "prices learnt")
        assert ask(router, "or/mistralai/ministral-8b")["usage"]["cost_usd"] == pytest.approx(5 * 0.1e-6)


def test_models_search(up):
    up.set_models("or", OPENROUTER_MODELS)
    with openrouter_router(up) as router:
        found = router.models(search="CLAUDE")
        assert [m["id"] for m in found["data"]] == ["or/anthropic/claude-sonnet-4", "m/claude-local"]
        assert [m["id"] for m in router.models(search="claude", provider="m")["data"]] == ["m/claude-local"]
        assert router.models(search="nothing-like-it")["data"] == []
        assert len(router.models(search="")["data"]) == 4
        for query, code, fragment in [({"provider": "ghost"}, providermux.ERR_PROVIDER_NOT_FOUND, "ghost"),
                                      ({"search": 5}, providermux.ERR_INVALID_REQUEST, "query.search"),
                                      ({"serach": "x"}, providermux.ERR_INVALID_REQUEST, "query.serach")]:
            with pytest.raises(providermux.ProviderMuxError) as info:
                router._call_json(providermux._lib.pmx_router_models_query, providermux._encode(query))
            assert info.value.code == code
            assert fragment in info.value.message
