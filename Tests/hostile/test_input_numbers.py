# SPDX-License-Identifier: Apache-2.0
"""Every numeric field of a REQUEST and of a router CONFIG, set to each extreme.

Expected (issue 12, item 1): no trap, no hang. A config value out of its documented range is
PMX_ERR_CONFIG whose message names the field; a request value is PMX_ERR_INVALID_REQUEST naming
the field, or succeeds where a documented clamp applies. A literal the JSON parser itself cannot
hold (1e999, an integer past 64 bits) may be PMX_ERR_INVALID_JSON. A config that is accepted
must then serve a completion, a stream, health and stats without a trap or a hang."""

import copy
import json

import pytest

from harness import (ERR_CONFIG, ERR_INVALID_JSON, ERR_INVALID_REQUEST, OK, SECRET,
                     assert_no_negative_counts, names_field)
from shapes import EXTREMES, HOLE, PROTOCOLS, set_path

UNPARSABLE = {"int64_max_plus_1", "1e999", "digits40", "minus_digits40"}


def raw_json(doc: dict, path: str, literal: str) -> str:
    doc = copy.deepcopy(doc)
    set_path(doc, path, HOLE)
    return json.dumps(doc).replace(json.dumps(HOLE), literal)


# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------

REQUEST_FIELDS = [
    "max_tokens", "max_completion_tokens", "n", "temperature", "top_p", "seed",
    "presence_penalty", "frequency_penalty", "top_k", "top_logprobs", "max_new_tokens",
    "num_ctx", "route.timeout_ms", "route.max_attempts", "route.timeouts.connect_ms",
    "route.timeouts.first_byte_ms", "route.timeouts.idle_ms", "route.timeouts.total_ms",
    "route.retry.max_attempts", "route.retry.initial_backoff_ms", "route.retry.max_backoff_ms",
    "route.retry.multiplier", "route.retry.jitter", "route.retry.max_retry_after_ms",
    "route.min_context", "route.max_total_attempts",
]
# Body fields go to every protocol's encoder (each maps them: Anthropic max_tokens and its
# thinking budget, Gemini generationConfig, Ollama options.num_predict, Cohere p/k...); route
# fields stay in the router, so the mock provider covers them.
BODY_FIELDS = [f for f in REQUEST_FIELDS if not f.startswith("route.")]
TARGETS = ["mock", "openai", "anthropic", "gemini", "ollama", "cohere"]
REQUEST_CASES = ([(t, f, v) for t in TARGETS for f in BODY_FIELDS for v in EXTREMES]
                 + [("mock", f, v) for f in REQUEST_FIELDS if f.startswith("route.")
                    for v in EXTREMES]
                 + [("anthropic", "max_tokens+reasoning", v) for v in EXTREMES])


ALIASES = {"max_new_tokens": ["max_tokens"], "num_ctx": ["num_ctx"]}
ERR_NO_PROVIDER, ERR_UNSUPPORTED = -8, -21


def request_for(field: str, literal: str) -> tuple[str, str]:
    base = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
    if field == "max_tokens+reasoning":
        base["reasoning_effort"] = "high"
        field = "max_tokens"
    return field, raw_json(base, field, literal)


def build_requests(chaos, target):
    built = []
    for n, (t, f, v) in enumerate(REQUEST_CASES):
        if t != target:
            continue
        if t == "mock":
            provider = {"name": "mock", "type": "mock"}
        else:
            scope = f"rq{n}"
            proto = PROTOCOLS[t]
            chaos.script(scope, [], default=dict(proto.answer_response(), times=-1))
            provider = proto.provider(chaos.url, scope, SECRET)
        config = {"providers": [provider], "retry": {"max_attempts": 1}}
        _, request = request_for(f, EXTREMES[v])
        built.append({"id": f"{t}-{f}-{v}", "steps": [
            {"op": "router", "config": json.dumps(config)},
            {"op": "complete", "request": request}, {"op": "stats"}]})
    return built


@pytest.mark.parametrize("t,f,v", REQUEST_CASES, ids=[f"{t}-{f}-{v}" for t, f, v in REQUEST_CASES])
def test_extreme_request_number(chaos, batches, t, f, v):
    outcome = batches.get(f"request-numbers-{t}", f"{t}-{f}-{v}",
                          lambda: build_requests(chaos, t), timeout=20).ok()
    call = outcome.step("complete")
    field, _ = request_for(f, "0")
    allowed = {OK, ERR_INVALID_REQUEST} | ({ERR_INVALID_JSON} if v in UNPARSABLE else set())
    if f == "route.min_context":
        allowed |= {ERR_NO_PROVIDER, ERR_UNSUPPORTED}  # a valid demand no provider meets
    assert call["status"] in allowed, f"{call['status_name']}: {call['message']}"
    if call["status"] == ERR_INVALID_REQUEST:
        # An alias is renamed before validation (docs/VOCABULARY.md): either name will do.
        names = [field] + ALIASES.get(field, [])
        assert any(names_field(call["message"], n) for n in names), call["message"]
    assert_no_negative_counts(outcome)


# ---------------------------------------------------------------------------------------------
# Router config
# ---------------------------------------------------------------------------------------------

CONFIG_FIELDS = [
    "schema_version",
    "cache.ttl_ms", "cache.max_entries", "cache.max_bytes",
    "retry.max_attempts", "retry.initial_backoff_ms", "retry.max_backoff_ms", "retry.multiplier",
    "retry.jitter", "retry.max_retry_after_ms",
    "retry.classes.rate_limited.max_attempts", "retry.classes.rate_limited.initial_backoff_ms",
    "retry.classes.rate_limited.max_retry_after_ms",
    "timeouts.connect_ms", "timeouts.first_byte_ms", "timeouts.idle_ms", "timeouts.total_ms",
    "timeouts.health_ms",
    "limits.max_response_bytes", "limits.max_request_bytes", "limits.max_total_attempts",
    "limits.max_cooldown_ms",
    "budget.usd", "budget.window_ms",
    "circuit_breaker.consecutive_failures", "circuit_breaker.failure_rate",
    "circuit_breaker.window_ms", "circuit_breaker.min_requests", "circuit_breaker.cooldown_ms",
    "health_checks.interval_ms", "health_checks.max_backoff_ms",
    "discovery.interval_ms", "discovery.timeout_ms", "discovery.models_ttl_ms",
    "pricing.m1.input_per_mtok", "pricing.m1.output_per_mtok",
    "pricing.m1.cached_input_per_mtok",
    "routing.exploration", "routing.seed",
    "providers.0.weight", "providers.0.context_length", "providers.0.limits.rpm",
    "providers.0.limits.tpm", "providers.0.retry.max_attempts",
    "providers.0.retry.max_backoff_ms", "providers.0.timeouts.total_ms",
    "providers.0.circuit_breaker.cooldown_ms",
    "providers.0.latency_ms", "providers.0.token_delay_ms", "providers.0.embedding_dimensions",
    "providers.0.script.0.retry_after_ms", "providers.0.script.0.status",
    "providers.0.script.0.times", "providers.0.script.0.drop_after_deltas",
]
CONFIG_CASES = [(f, v) for f in CONFIG_FIELDS for v in EXTREMES]


def base_config(chaos_url: str) -> dict:
    return {
        "providers": [{"name": "mock", "type": "mock", "script": [{"ok": True}]}],
        "retry": {"max_attempts": 2, "initial_backoff_ms": 1, "max_backoff_ms": 5},
        "cache": {"enabled": True},
        "budget": {"usd": 100, "window": "1h"},
        "circuit_breaker": {"enabled": True},
        "health_checks": {"enabled": True},
        "discovery": {"enabled": True,
                      "targets": [{"type": "ollama", "base_url": chaos_url + "/discovery"}]},
        "pricing": {"m1": {"input_per_mtok": 1, "output_per_mtok": 2}},
        "routing": {"strategy": "least_latency"},
    }


def field_name(f: str) -> str:
    """How the message names a provider field: providers[0].weight or weight."""
    return f.split(".", 2)[2] if f.startswith("providers.0.") else f


def build_config(chaos):
    built = []
    for f, v in CONFIG_CASES:
        config = base_config(chaos.url)
        if f == "budget.window_ms":
            del config["budget"]["window"]
        text = raw_json(config, f, EXTREMES[v])
        request = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
        built.append({"id": f"{f}-{v}", "steps": [
            {"op": "router", "config": text},
            {"op": "complete", "request": json.dumps(request)},
            {"op": "stream", "request": json.dumps(request)},
            {"op": "health"}, {"op": "stats"}]})
    return built


@pytest.mark.parametrize("f,v", CONFIG_CASES, ids=[f"{f}-{v}" for f, v in CONFIG_CASES])
def test_extreme_config_number(chaos, batches, f, v):
    outcome = batches.get("config-numbers", f"{f}-{v}", lambda: build_config(chaos),
                          timeout=20).ok()
    created = outcome.step("router")
    allowed = {OK, ERR_CONFIG} | ({ERR_INVALID_JSON} if v in UNPARSABLE else set())
    assert created["status"] in allowed, f"{created['status_name']}: {created['message']}"
    if created["status"] == ERR_CONFIG:
        assert names_field(created["message"], field_name(f)), created["message"]
    if created["status"] == OK:
        # Accepted (in range, or clamped as documented): the router must still work.
        for op in ("health", "stats"):
            assert outcome.step(op)["status"] == OK, outcome.step(op)
    assert_no_negative_counts(outcome)
