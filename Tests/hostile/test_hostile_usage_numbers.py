# SPDX-License-Identifier: Apache-2.0
"""Every usage / count / index number an upstream sends, in every protocol, in a plain answer, a
stream event and an embeddings answer, set to each extreme (shapes.EXTREMES: INT64_MAX and one
past it, -1, 1e308, 1e999, "NaN"/"Infinity" strings, +-40 digits, a fraction).

Expected (issue 12, item 1): the child is not killed and does not hang; the call succeeds with
clamped, non-negative numbers, or fails that attempt as PMX_ERR_UPSTREAM_PROTOCOL (in a stream
after the first delta that is PMX_ERR_STREAM_INTERRUPTED, as docs/FAULTS.md says for any
malformed event after output started), with exactly one terminal event; the response,
the stream events and pmx_router_stats never show a negative count."""

import json

import pytest

from harness import (ERR_STREAM_INTERRUPTED, ERR_UPSTREAM_PROTOCOL, OK, SECRET,
                     assert_no_negative_counts, terminal_events)
from shapes import EXTREMES, PROTOCOLS

REQUEST = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
STREAM_REQUEST = dict(REQUEST, stream_options={"include_usage": True})
EMBED_REQUEST = {"model": "m-embed", "input": "hi"}


def cases():
    out = []
    for proto in PROTOCOLS.values():
        for field in proto.answer_fields:
            out.append((proto.name, "answer", None, field))
        for index, field in proto.stream_fields:
            out.append((proto.name, "stream", index, field))
        for field in proto.embed_fields:
            out.append((proto.name, "embed", None, field))
    return out


CASES = [(p, m, i, f, v) for (p, m, i, f) in cases() for v in EXTREMES]


def case_id(p, m, i, f, v):
    return f"{p}-{m}-{'' if i is None else str(i) + ':'}{f}-{v}"


def build_group(chaos, proto_name, mode):
    proto = PROTOCOLS[proto_name]
    built = []
    for (p, m, i, f, v) in CASES:
        if p != proto_name or m != mode:
            continue
        cid = case_id(p, m, i, f, v)
        scope = f"un{len(built)}-{proto_name[:3]}-{mode[:2]}"
        literal = EXTREMES[v]
        if mode == "answer":
            ans, op, req = proto.answer_response(f, literal), "complete", REQUEST
        elif mode == "stream":
            ans, op, req = proto.stream_response(i, f, literal), "stream", STREAM_REQUEST
        else:
            ans, op, req = proto.embed_response(f, literal), "embed", EMBED_REQUEST
        chaos.script(scope, [], default=dict(ans, times=-1))
        config = {"providers": [proto.provider(chaos.url, scope, SECRET)],
                  "retry": {"max_attempts": 1}}
        built.append({"id": cid, "steps": [
            {"op": "router", "config": json.dumps(config)},
            {"op": op, "request": json.dumps(req)},
            {"op": "stats"}]})
    return built


@pytest.mark.parametrize("p,m,i,f,v", CASES, ids=[case_id(*c) for c in CASES])
def test_extreme_upstream_number(chaos, batches, p, m, i, f, v):
    group = f"upstream-numbers-{p}-{m}"
    outcome = batches.get(group, case_id(p, m, i, f, v), lambda: build_group(chaos, p, m)).ok()
    call = outcome.steps[1]
    allowed = (OK, ERR_UPSTREAM_PROTOCOL) + ((ERR_STREAM_INTERRUPTED,) if m == "stream" else ())
    assert call["status"] in allowed, (
        f"{call['op']} answered {call['status_name']}: {call['message']}")
    if m == "stream":
        assert len(terminal_events(call)) == 1, call["events"]
    assert outcome.steps[2]["status"] == OK, outcome.steps[2]
    assert_no_negative_counts(outcome)


ERROR_CODES = list(EXTREMES)


@pytest.mark.parametrize("v", ERROR_CODES)
def test_openai_stream_error_code_extreme(chaos, batches, v):
    """An OpenAI stream's mid-stream ``error.code`` (and an Anthropic-style numeric status in
    it) may be any number: the stream ends with one error event, no trap."""
    def build():
        proto = PROTOCOLS["openai"]
        built = []
        for n, name in enumerate(ERROR_CODES):
            scope = f"ec{n}"
            events = proto.stream()[:1] + [{"error": {"message": "boom", "type": "server_error",
                                                      "code": "@@hostile@@",
                                                      "status": "@@hostile@@"}}]
            ans = proto.stream_response(events=events, literal=EXTREMES[name])
            ans["chunks"] = ans["chunks"][:-1]  # no [DONE] after an error
            chaos.script(scope, [], default=dict(ans, times=-1))
            config = {"providers": [proto.provider(chaos.url, scope, SECRET)],
                      "retry": {"max_attempts": 1}}
            built.append({"id": name, "steps": [
                {"op": "router", "config": json.dumps(config)},
                {"op": "stream", "request": json.dumps(STREAM_REQUEST)}, {"op": "stats"}]})
        return built
    outcome = batches.get("stream-error-code", v, build).ok()
    call = outcome.steps[1]
    assert call["status"] < 0
    assert len(terminal_events(call)) == 1, call["events"]
    assert_no_negative_counts(outcome)
