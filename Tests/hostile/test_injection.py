# SPDX-License-Identifier: Apache-2.0
"""Header and URL injection (issue 12, item 5): every string that becomes part of a request line
or a header is checked at config or request time.

- Every type-specific option (anthropic_version, http_referer, x_title, api_version,
  deployment), custom header names and values, api_key and base_url holding CR, LF, CRLF or NUL
  are PMX_ERR_CONFIG naming the field, from pmx_router_new and from pmx_provider_new.
- A request model holding CR / LF / NUL / space / "/" / "?" / "#" / "%" / ".." is refused
  (PMX_ERR_INVALID_REQUEST) or sent percent-encoded: the chaos upstream, which records every
  request byte for byte, confirms that no injected header and no altered path or query ever
  arrives."""

import json
from urllib.parse import unquote

import pytest

from harness import (ERR_CONFIG, ERR_INVALID_JSON, ERR_INVALID_REQUEST, OK, names_field,
                     run_cases)
from shapes import PROTOCOLS

BAD = {"crlf": "\r\nX-Injected: 1", "lf": "\nX-Injected: 1", "cr": "\rX-Injected: 1",
       "nul": "\u0000X-Injected: 1", "crlfcrlf": "\r\n\r\nGET /evil HTTP/1.1"}

# (provider type, field, how to set it) -> provider object; every one of them is valid with
# "ok" instead of a bad value (checked by test_valid_options_are_accepted).
TYPE_OF = {"anthropic_version": "anthropic", "http_referer": "openrouter", "x_title": "openrouter",
           "api_version": "azure", "deployment": "azure"}
FIELDS = ["anthropic_version", "http_referer", "x_title", "api_version", "deployment",
          "api_key", "base_url", "headers.value", "headers.name", "name"]


def provider(chaos, scope: str, field: str, bad: str) -> tuple[dict, str]:
    """The provider object with ``field`` holding ``bad``, and the name the error must use."""
    ptype = TYPE_OF.get(field, "openai-compatible")
    base = f"{chaos.url}/{scope}" + ("/v1" if ptype in ("openai-compatible", "openrouter") else "")
    p = {"name": scope, "type": ptype, "base_url": base, "api_key": "sk-inject-0000"}
    if ptype == "azure":
        p.update(api_version="2024-06-01", deployment="dep")
    if field in TYPE_OF or field == "api_key":
        p[field] = "ok" + bad
        return p, field
    if field == "base_url":
        p["base_url"] = base + bad
        return p, "base_url"
    if field == "name":
        p["name"] = scope + bad
        return p, "name"
    if field == "headers.value":
        p["headers"] = {"X-Team": "ok" + bad}
        return p, "headers"
    p["headers"] = {"X-Team" + bad: "ok"}
    return p, "headers"


CONFIG_CASES = [(f, b) for f in FIELDS for b in BAD]


def build_config_cases(chaos):
    built = []
    for n, (f, b) in enumerate(CONFIG_CASES):
        scope = f"ij{n}"
        p, _ = provider(chaos, scope, f, BAD[b])
        chaos.script(scope, [], default=dict(PROTOCOLS["openai"].answer_response(), times=-1))
        request = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
        built.append({"id": f"{f}-{b}", "steps": [
            {"op": "provider_new", "config": json.dumps(p)},
            {"op": "router", "config": json.dumps({"providers": [p],
                                                   "retry": {"max_attempts": 1}})},
            {"op": "complete", "request": json.dumps(request)}]})
    return built


def injected(requests: list[dict]) -> list[str]:
    found = []
    for r in requests:
        names = [n.lower() for n, _ in r["headers"]]
        if "x-injected" in names:
            found.append(r["request_line"] + " | x-injected header arrived")
        if "/evil" in r["raw_head"] or "\x00" in r["raw_head"]:
            found.append(r["request_line"] + " | raw head: " + repr(r["raw_head"][:300]))
    return found


@pytest.mark.parametrize("f,b", CONFIG_CASES, ids=[f"{f}-{b}" for f, b in CONFIG_CASES])
def test_control_bytes_in_config_strings_are_refused(chaos, batches, f, b):
    outcome = batches.get("injection-config", f"{f}-{b}", lambda: build_config_cases(chaos),
                          timeout=20).ok()
    n = CONFIG_CASES.index((f, b))
    _, name = provider(chaos, f"ij{n}", f, BAD[b])
    bad = injected(chaos.received(f"ij{n}"))
    assert not bad, "an injected header reached the upstream"
    for op in ("provider_new", "router"):
        step = outcome.step(op)
        if (f, b) == ("headers.name", "nul") and step["status"] == ERR_INVALID_JSON:
            continue  # jansson holds no NUL in an object key: refused before the library looks
        assert step["status"] == ERR_CONFIG, f"{op}: {step['status_name']} {step['message']}"
        assert names_field(step["message"], name), step["message"]


def test_valid_options_are_accepted(chaos):
    """The refusals above are about the bytes, not the fields: "ok" alone is accepted."""
    cases = []
    for f in FIELDS:
        p, _ = provider(chaos, "valid", f, "")
        cases.append({"id": f, "steps": [{"op": "router", "config": json.dumps(
            {"providers": [p]})}]})
    for f, outcome in run_cases(cases).items():
        step = outcome.ok().step("router")
        assert step["status"] == OK, f"{f}: {step['message']}"


# ---------------------------------------------------------------------------------------------
# Model names in URL paths (Gemini puts the model in the path, Azure the deployment) and in
# bodies (every other protocol)
# ---------------------------------------------------------------------------------------------

MODELS = {"crlf": "m\r\nX-Injected: 1", "lf": "m\nX-Injected: 1", "nul": "m\u0000x",
          "space": "m HTTP/1.1\r\nX-Injected: 1", "slash": "../../evil", "query": "m?key=stolen",
          "hash": "m#frag", "percent": "m%2F..%2Fevil", "dotdot": "..", "unicode": "m\u202e\u0301"}
MODEL_PROTOCOLS = ["gemini", "openai", "anthropic", "ollama", "cohere"]
MODEL_CASES = [(p, m) for p in MODEL_PROTOCOLS for m in MODELS]


def build_model_cases(chaos):
    built = []
    for n, (p, m) in enumerate(MODEL_CASES):
        scope = f"im{n}"
        proto = PROTOCOLS[p]
        chaos.script(scope, [], default=dict(proto.answer_response(), times=-1))
        prov = proto.provider(chaos.url, scope, "sk-inject-0000")
        del prov["models"]  # any model
        request = {"model": f"{scope}/{MODELS[m]}",
                   "messages": [{"role": "user", "content": "hi"}]}
        built.append({"id": f"{p}-{m}", "steps": [
            {"op": "router", "config": json.dumps({"providers": [prov],
                                                   "retry": {"max_attempts": 1}})},
            {"op": "complete", "request": json.dumps(request)}]})
    return built


@pytest.mark.parametrize("p,m", MODEL_CASES, ids=[f"{p}-{m}" for p, m in MODEL_CASES])
def test_hostile_model_name_never_reshapes_the_request(chaos, batches, p, m):
    outcome = batches.get("injection-model", f"{p}-{m}", lambda: build_model_cases(chaos),
                          timeout=20).ok()
    scope = f"im{MODEL_CASES.index((p, m))}"
    call = outcome.step("complete")
    assert call["status"] in (OK, ERR_INVALID_REQUEST, ERR_INVALID_JSON) or call["status"] < -10, call
    received = chaos.received(scope)
    bad = injected(received)
    assert not bad, "an injected header reached the upstream"
    for r in received:
        method, target, version = r["request_line"].split(" ")
        assert version == "HTTP/1.1" and method == "POST", r["request_line"]
        path, _, query = target.partition("?")
        assert path.startswith(f"/{scope}/"), f"the path left the base URL: {target}"
        assert "#" not in target, target
        segments = path.split("/")
        assert ".." not in segments and "." not in segments, f"dot segment sent raw: {target}"
        if p == "gemini":
            # /<scope>/v1beta/models/<model>:generateContent, the model one encoded segment
            assert len(segments) == 5, f"the model added path segments: {target}"
            sent = unquote(segments[4].rsplit(":", 1)[0])
            assert sent == MODELS[m], f"{sent!r} != {MODELS[m]!r}"
            assert "key=stolen" not in query
        else:
            body = json.loads(r["body"])
            assert body.get("model") == MODELS[m], body.get("model")
