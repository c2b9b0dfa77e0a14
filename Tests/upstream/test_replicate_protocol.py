# SPDX-License-Identifier: Apache-2.0
"""The fake upstream's Replicate predictions API: sync with ``Prefer: wait``, polling, the
stream URL's SSE, failures and problem-details errors.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from upstream import sse_frames

AUTH = {"Authorization": "Bearer r8_test"}


def create(up, body, headers=None, path="/rep/v1/models/meta/llama-3-8b-instruct/predictions"):
    resp, raw = up.send("POST", path, body, dict(AUTH, **(headers or {})))
    return resp.status, json.loads(raw)


def get(up, url, headers=None):
    resp, raw = up.send("GET", urlsplit(url).path, None, dict(AUTH, **(headers or {})))
    return resp, raw


def test_prefer_wait_succeeds_at_once(up):
    status, pred = create(up, {"input": {"prompt": "hello there", "max_tokens": 10}}, {"Prefer": "wait"})
    assert status == 201
    assert pred["status"] == "succeeded"
    assert pred["output"] == ["echo: ", "hello ", "there"]
    assert pred["model"] == "meta/llama-3-8b-instruct"
    assert pred["metrics"]["input_token_count"] == 2 and pred["metrics"]["output_token_count"] == 3
    assert "stream" not in pred["urls"]


def test_polling_and_max_tokens(up):
    status, pred = create(up, {"input": {"prompt": "User: hi\nAssistant: yo\nUser: one two three\nAssistant:", "max_tokens": 2}})
    assert pred["status"] == "starting"
    states = [json.loads(get(up, pred["urls"]["get"])[1])["status"] for _ in range(3)]
    assert states == ["processing", "succeeded", "succeeded"]
    assert json.loads(get(up, pred["urls"]["get"])[1])["output"] == ["echo: ", "one "]


def test_stream_url(up):
    status, pred = create(up, {"input": {"prompt": "a b"}, "stream": True}, {"Prefer": "wait"})
    assert pred["status"] == "starting" and pred["urls"]["stream"].endswith("/rep/v1/stream/" + pred["id"])
    resp, raw = get(up, pred["urls"]["stream"], {"Accept": "text/event-stream"})
    assert resp.getheader("Content-Type") == "text/event-stream"
    assert b"event: output\nid: 0:0\ndata: echo: \n\n" in raw
    assert raw.endswith(b"event: done\ndata: {}\n\n")


def test_version_route_failures_and_errors(up):
    status, pred = create(up, {"version": "abc123", "input": {"prompt": "x"}}, {"Prefer": "wait"}, path="/rep/v1/predictions")
    assert status == 201 and pred["model"] == "replicate/abc123"
    status, pred = create(up, {"input": {"prompt": "please FAIL"}}, {"Prefer": "wait"})
    assert pred["status"] == "failed" and pred["error"] == "fake prediction failure"
    status, body = create(up, {"input": {}})
    assert status == 422 and body["title"] == "Input validation failed" and "input.prompt" in body["detail"]
    resp, raw = up.send("POST", "/rep/v1/models/a/b/predictions", {"input": {"prompt": "x"}})
    assert resp.status == 401 and json.loads(raw)["status"] == 401
    up.script("rep", [{"status": 429, "retry_after": 1}])
    status, body = create(up, {"input": {"prompt": "x"}})
    assert status == 429 and body == {"title": "Request was throttled", "detail": "fake fault 429", "status": 429}
