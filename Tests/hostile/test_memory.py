# SPDX-License-Identifier: Apache-2.0
"""Memory stays within documented bounds (issue 12, item 3). Each case runs alone in a child
whose VmHWM is reset before the case (/proc/self/clear_refs) and read after it: the growth is
the case's own peak.

- An 8 MiB answer made of tiny JSON values ([{},{},...], [[],...], [0,...]) in every protocol's
  plain answer, and in one OpenAI stream event: peak growth within PARSE_FACTOR x the body.
- A pmx_router_stream callback that blocks while a 32 MiB stream arrives: while it is blocked
  the process grows by at most the stream queue's bound (plus slack), not by the wire bytes.
- Many distinct model names in requests: the metrics series are capped (MAX_SERIES per router
  plus an overflow series per provider) and memory stays bounded.
- NUL, CR, LF, quote, backslash in a model name: the Prometheus text stays well-formed (every
  line parses as the text format 0.0.4) and is not truncated.
"""

import json
import os
import re

import pytest

from harness import ERR_INVALID_REQUEST, ERR_UPSTREAM_PROTOCOL, OK, SECRET, run_one
from shapes import PROTOCOLS

MIB = 1024 * 1024
BODY_BYTES = 8 * MIB
# README "Behaviour choices" / docs/VOCABULARY.md (memory): a document of 64 KiB or more whose
# estimated tree costs more than 24 bytes per byte of text + 4 MiB is refused, so parsing an
# answer costs at most that.
PARSE_FACTOR = 24
PARSE_EXTRA = 4 * MIB
# The same (memory): pmx_router_stream's event queue pauses the transfer (libcurl's write
# pause) at 1 MiB of queued events.
STREAM_QUEUE_BOUND = 1 * MIB
SLACK = 16 * MIB  # allocator and thread stacks
# MetricsRegistry.defaultMaxSeries (README "Behaviour choices").
MAX_SERIES = 1000
MODEL_COUNT = int(os.environ.get("HOSTILE_MODELS", "20000"))
ERR_RESPONSE_TOO_LARGE = -24

TINY = {"objects": "{},", "arrays": "[],", "zeros": "0,"}


def tiny_answer(proto, kind: str) -> dict:
    doc = json.dumps(PROTOCOLS[proto].answer())
    item = TINY[kind]
    return {"status": 200, "headers": [["Content-Type", "application/json"]],
            "repeat": {"prefix": doc[:-1] + ', "junk": [', "item": item,
                       "count": BODY_BYTES // len(item), "suffix": item[:-1] + "]}"}}


def tiny_stream_event(kind: str) -> dict:
    proto = PROTOCOLS["openai"]
    first = json.dumps(proto.chunk({"content": "x"}))
    item = TINY[kind]
    rest = "".join(proto.frame(e).decode() for e in proto.stream()[2:]) + "data: [DONE]\n\n"
    return {"status": 200, "headers": [["Content-Type", "text/event-stream"]],
            "repeat": {"prefix": "data: " + first[:-1] + ', "junk": [', "item": item,
                       "count": BODY_BYTES // len(item), "suffix": item[:-1] + "]}\n\n" + rest}}


def growth(outcome) -> int:
    return (outcome.result["hwm_kb"] - outcome.result["rss_kb"]) * 1024


# Every kind through OpenAI's decoder (plain and stream), the worst kind through the others.
PARSE_CASES = ([("openai", k, False) for k in TINY] + [(p, "objects", False) for p in PROTOCOLS
                                                       if p != "openai"]
               + [("openai", k, True) for k in TINY])


@pytest.mark.parametrize("proto,kind,stream", PARSE_CASES,
                         ids=[f"{p}-{k}{'-stream' if s else ''}" for p, k, s in PARSE_CASES])
def test_tiny_values_answer_parse_memory(chaos, proto, kind, stream):
    scope = f"mem-{proto}-{kind}-{int(stream)}"
    chaos.script(scope, [], default=dict(tiny_stream_event(kind) if stream else
                                         tiny_answer(proto, kind), times=-1))
    config = {"providers": [PROTOCOLS[proto].provider(chaos.url, scope, SECRET)],
              "retry": {"max_attempts": 1}}
    request = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
    op = "stream" if stream else "complete"
    outcome = run_one([{"op": "router", "config": json.dumps(config)},
                       {"op": op, "request": json.dumps(request)}], timeout=60, mem=True).ok()
    call = outcome.step(op)
    assert call["status"] in (OK, ERR_UPSTREAM_PROTOCOL, ERR_RESPONSE_TOO_LARGE, -18), call["message"]
    grew = growth(outcome)
    # The body buffers (received bytes, the copy handed to the decoder) come on top.
    bound = PARSE_FACTOR * BODY_BYTES + PARSE_EXTRA + 2 * BODY_BYTES + SLACK
    assert grew <= bound, (
        f"peak grew {grew / MIB:.0f} MiB for an {BODY_BYTES / MIB:.0f} MiB body "
        f"({grew / BODY_BYTES:.1f}x; bound {bound / MIB:.0f} MiB)")


def test_blocked_stream_callback_bounded(chaos):
    proto = PROTOCOLS["openai"]
    delta = "data: " + json.dumps(proto.chunk({"content": "a" * 1000})) + "\n\n"
    count = 32 * MIB // len(delta)
    tail = "".join(proto.frame(e).decode() for e in proto.stream()[2:]) + "data: [DONE]\n\n"
    chaos.script("mem-slow", [], default={
        "status": 200, "headers": [["Content-Type", "text/event-stream"]], "times": -1,
        "repeat": {"prefix": delta, "item": delta, "count": count, "suffix": tail}})
    config = {"providers": [proto.provider(chaos.url, "mem-slow", SECRET)],
              "retry": {"max_attempts": 1}, "timeouts": {"idle_ms": 60000}}
    request = {"model": "m1", "messages": [{"role": "user", "content": "hi"}]}
    outcome = run_one([{"op": "router", "config": json.dumps(config)},
                       {"op": "py", "fn": "slow_stream_consumer",
                        "args": {"request": json.dumps(request), "sleep_s": 3}}],
                      timeout=90, mem=True).ok()
    step = outcome.step("py:slow_stream_consumer")
    assert step["status"] == OK, step["message"]
    assert step["events_count"] > count, "the whole stream was delivered"
    grew = step["rss_after_sleep_kb"] * 1024 - step["rss_before_sleep_kb"] * 1024
    assert grew <= STREAM_QUEUE_BOUND + SLACK, (
        f"while the callback was blocked the process grew {grew / MIB:.0f} MiB "
        f"(queue bound {STREAM_QUEUE_BOUND / MIB:.0f} MiB)")


def test_many_model_names_metrics_bounded():
    config = {"providers": [{"name": "mock", "type": "mock"}]}
    outcome = run_one([{"op": "router", "config": json.dumps(config)},
                       {"op": "py", "fn": "many_models", "args": {"count": MODEL_COUNT}},
                       {"op": "stats"}, {"op": "stats_ex", "options": '{"format":"prometheus"}'}],
                      timeout=180, mem=True).ok()
    assert outcome.step("py:many_models")["failures"] == 0
    stats = json.loads(outcome.step("stats")["out"])
    series = sum(len(p["models"]) for p in stats["providers"])
    assert series <= MAX_SERIES + len(stats["providers"]), f"{series} series kept"
    grew = growth(outcome)
    assert grew <= 48 * MIB, f"{MODEL_COUNT} model names grew the process {grew / MIB:.0f} MiB"


# ---------------------------------------------------------------------------------------------
# Prometheus text format 0.0.4: every line a comment (# HELP / # TYPE) or a sample
#   name{label="value",...} value [timestamp]   with \\ \" \n the only escapes in values
# ---------------------------------------------------------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)"
SAMPLE = re.compile(rf"^{NAME}(?:\{{(?:{LABEL}(?:,{LABEL})*,?)?\}})? {VALUE}(?: -?\d+)?$")
COMMENT = re.compile(rf"^# (?:HELP {NAME}(?: .*)?|TYPE {NAME} (?:counter|gauge|histogram|summary|untyped))$")

HOSTILE_MODELS = {"nul": "a\u0000b", "crlf": "a\r\nb", "lf": "pmx_fake 1\n# TYPE x counter",
                  "quote": 'a"b', "backslash": "a\\b", "trailing_backslash": "a\\",
                  "brace": 'a"} 1\nevil{x="', "tab": "a\tb", "del": "a\u007fb",
                  "unicode": "m\u202e\u0301\U0001f600", "c1": "a\u0085b"}


@pytest.mark.parametrize("name", list(HOSTILE_MODELS))
def test_prometheus_text_stays_well_formed(name):
    config = {"providers": [{"name": "mock", "type": "mock"}]}
    model = HOSTILE_MODELS[name]
    steps = [{"op": "router", "config": json.dumps(config)}]
    for m in (model, "zz-after"):
        steps.append({"op": "complete", "request": json.dumps(
            {"model": m, "messages": [{"role": "user", "content": "hi"}]})})
    steps.append({"op": "stats_ex", "options": '{"format":"prometheus"}'})
    outcome = run_one(steps, timeout=20).ok()
    assert outcome.step("complete", 0)["status"] in (OK, ERR_INVALID_REQUEST)
    text = outcome.step("stats_ex")["out"]
    assert text and text.endswith("\n"), "empty or truncated"
    assert 'model="zz-after"' in text, "text truncated before the series that follow"
    bad = [line for line in text.split("\n")[:-1]
           if not (SAMPLE.match(line) or COMMENT.match(line))]
    assert not bad, f"{len(bad)} malformed lines, first: {bad[:3]!r}"
