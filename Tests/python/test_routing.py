# SPDX-License-Identifier: Apache-2.0
"""Router intelligence through the ABI from Python: lanes, strategies, breakers, budgets,
cache, stats (JSON and Prometheus), live routing updates, and config errors naming the field."""

import json
import re

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import user  # noqa: E402

LANES = {
    "providers": [
        {"name": "cloud", "type": "mock", "models": ["gpt-4o"], "reply": "from cloud"},
        {"name": "coder", "type": "mock", "models": ["claude"], "reply": "from coder"},
        {"name": "home", "type": "mock", "reply": "from home"},
    ],
    "routing": {
        "lanes": {
            "code": {"providers": ["coder/claude", "cloud/gpt-4o"], "tags": ["coding"], "aliases": ["code-model"]},
            "chat": {"providers": ["cloud"]},
        },
        "default_lane": "chat",
    },
}


def provider_of(router, request):
    return router.complete(request)["provider"]


def test_lanes_by_name_tag_alias_and_default():
    with providermux.Router(LANES) as router:
        assert provider_of(router, dict(user("x"), route={"lane": "code"})) == "coder"
        assert provider_of(router, dict(user("x"), route={"tags": ["coding"]})) == "coder"
        assert provider_of(router, dict(user("x"), metadata={"tags": "coding"})) == "coder"
        assert provider_of(router, dict(user("x"), model="code-model")) == "coder"
        assert provider_of(router, user("x")) == "cloud"  # default lane
        assert provider_of(router, dict(user("x"), route={"lane": "local"})) in ("cloud", "coder", "home")


def test_unknown_lane_is_an_invalid_request_naming_the_lanes():
    with providermux.Router(LANES) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(dict(user("x"), route={"lane": "premium"}))
    assert info.value.code == providermux.ERR_INVALID_REQUEST
    assert "route.lane" in info.value.message and "code" in info.value.message


@pytest.mark.parametrize("patch, field", [
    ({"providers": [{"name": "a", "type": "mock", "weight": -2}]}, "providers[0].weight"),
    ({"routing": {"default_lane": "nowhere"}}, "routing.default_lane"),
    ({"routing": {"lanes": {"x": {"providers": ["ghost"]}}}}, "routing.lanes.x.providers[0]"),
    ({"routing": {"fallbacks": {"m1": ["m2"], "m2": ["m1"]}}}, "routing.fallbacks"),
    ({"budget": {"usd": 5}}, "budget.window"),
    ({"routing": {"lanes": {"x": {"budget": {"usd": 5}}}}}, "routing.lanes.x.budget.window"),
    ({"routing": {"strategy": "fastest"}}, "routing.strategy"),
])
def test_bad_routing_config_names_the_field(patch, field):
    config = {"providers": [{"name": "a", "type": "mock", "models": ["m1", "m2"]}]}
    config.update(patch)
    with pytest.raises(providermux.ProviderMuxError) as info:
        providermux.Router(config)
    assert info.value.code == providermux.ERR_CONFIG
    assert info.value.message.startswith(field), info.value.message


def test_round_robin_and_stats_figures():
    config = {"providers": [{"name": "a", "type": "mock"}, {"name": "b", "type": "mock"}],
              "routing": {"strategy": "round_robin"}}
    with providermux.Router(config) as router:
        picks = [provider_of(router, user("hello")) for _ in range(4)]
        stats = router.stats()
    assert picks == ["a", "b", "a", "b"]
    assert stats["requests"] == 4 and stats["successes"] == 4
    per = {p["name"]: p for p in stats["providers"]}
    assert per["a"]["requests"] == 2 and per["b"]["successes"] == 2
    model = per["a"]["models"][0]
    assert model["latency_ms"]["p50"] is not None
    assert model["prompt_tokens"] > 0


def test_prometheus_text_and_reset():
    with providermux.Router({"providers": [{"name": "a", "type": "mock", "models": ["m"]}]}) as router:
        for _ in range(3):
            router.complete(user("count"))
        text = router.metrics(reset=True)
        after = router.stats()
    assert "# TYPE pmx_router_requests_total counter" in text
    assert re.search(r'^pmx_router_requests_total 3$', text, re.M), text
    assert re.search(r'^pmx_attempts_total\{provider="a",model="m"\} 3$', text, re.M), text
    assert after["requests"] == 0
    assert after["providers"][0]["requests"] == 0


def test_stats_options_are_validated():
    with providermux.Router({"providers": [{"name": "a", "type": "mock"}]}) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router._stats_text({"format": "xml"})
    assert info.value.code == providermux.ERR_INVALID_ARGUMENT
    assert "format" in info.value.message


def test_breaker_opens_and_every_open_circuit_fails_fast():
    config = {"providers": [{"name": "bad", "type": "mock", "script": [{"status": 503, "times": 100}]}],
              "retry": {"max_attempts": 1}, "circuit_breaker": {"consecutive_failures": 2, "cooldown_ms": 60000}}
    with providermux.Router(config) as router:
        codes = []
        for _ in range(3):
            with pytest.raises(providermux.ProviderMuxError) as info:
                router.complete(user("x"))
            codes.append(info.value.code)
        health = router.health()
    assert codes == [providermux.ERR_UPSTREAM_SERVER, providermux.ERR_UPSTREAM_SERVER, providermux.ERR_CIRCUIT_OPEN]
    assert health["providers"][0]["circuits"]["default"]["state"] == "open"


def test_budget_exceeded_status():
    config = {"providers": [{"name": "a", "type": "mock", "models": ["m"]}],
              "pricing": {"a/m": {"input_per_mtok": 1000000, "output_per_mtok": 0}},
              "budget": {"usd": 0.5, "window": "1h"}}
    with providermux.Router(config) as router:
        first = router.complete(user("spend"))
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(user("spend"))
    assert first["usage"]["cost_usd"] >= 1
    assert info.value.code == providermux.ERR_BUDGET_EXCEEDED


def test_cache_replays_a_stream():
    config = {"providers": [{"name": "a", "type": "mock", "reply": "one two"}], "cache": {"enabled": True}}
    with providermux.Router(config) as router:
        router.complete(user("same"))
        events = list(router.stream(user("same")))
        stats = router.stats()
    types = [e["type"] for e in events]
    assert types[0] == "start" and types[-1] == "done"
    assert "".join(e.get("content", "") for e in events if e["type"] == "delta") == "one two"
    assert events[-1]["response"]["cached"] is True
    assert stats["cache"]["hits"] == 1


def test_update_routing_live():
    with providermux.Router({"providers": [{"name": "a", "type": "mock"}, {"name": "b", "type": "mock"}]}) as router:
        assert provider_of(router, user("x")) == "a"
        router.update_routing({"order": ["b", "a"]})
        assert provider_of(router, user("x")) == "b"
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.update_routing(json.dumps({"lanes": {"l": {"providers": ["zzz"]}}}))
        assert info.value.code == providermux.ERR_CONFIG
        assert provider_of(router, user("x")) == "b"


def test_readme_routing_example_is_the_example_file_and_valid(monkeypatch):
    """The README's routing config is examples/routing.json, and a router accepts it."""
    import os
    root = os.environ.get("PMX_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = readme[readme.index("## Routing: strategies"):]
    block = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    with open(os.path.join(root, "examples", "routing.json"), encoding="utf-8") as f:
        example = json.load(f)
    assert json.loads(block) == example
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real-0001")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-real-0002")
    example["discovery"]["enabled"] = False  # never probe this machine's ports from a test
    example["health_checks"]["enabled"] = False  # nor the real providers' hosts
    with providermux.Router(example) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.complete(dict(user("x"), route={"lane": "nope"}))
    assert info.value.code == providermux.ERR_INVALID_REQUEST
    for lane in ("code", "cheap", "premium", "local"):
        assert lane in info.value.message
