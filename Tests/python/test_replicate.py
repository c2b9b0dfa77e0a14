# SPDX-License-Identifier: Apache-2.0
"""The `replicate` provider type through the library against the fake upstream's predictions
API: complete (sync with Prefer: wait, and polling), stream (the prediction's stream URL),
error mapping, failover, and what it refuses."""

import pytest

import providermux
from pmx_testlib import FAST_RETRY

SECRET = "r8_test-SECRET-7d1e"


def router(up, **extra):
    provider = {"name": "rep", "type": "replicate", "base_url": up.base("rep"), "api_key": SECRET}
    provider.update(extra)
    return providermux.Router({"providers": [provider, {"name": "backup", "type": "mock"}], "retry": FAST_RETRY})


def ask(content="hello there", **extra):
    r = {"model": "rep/meta/llama-3-8b-instruct", "messages": [{"role": "user", "content": content}]}
    r.update(extra)
    return r


def test_complete_with_prefer_wait(up):
    with router(up) as r:
        resp = r.complete(ask(max_tokens=50, temperature=0.2, stop=["\n\n", "END"],
                              messages=[{"role": "system", "content": "be brief"},
                                        {"role": "user", "content": "hello there"}]))
    assert resp["provider"] == "rep"
    assert resp["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello there"}
    assert resp["choices"][0]["finish_reason"] == "stop"
    assert resp["usage"]["prompt_tokens"] == 4 and resp["usage"]["completion_tokens"] == 3
    assert resp["model"] == "meta/llama-3-8b-instruct"
    [req] = up.requests("rep")
    assert req["method"] == "POST" and req["path"] == "/rep/v1/models/meta/llama-3-8b-instruct/predictions"
    assert req["headers"]["authorization"] == "Bearer " + SECRET
    assert req["headers"]["prefer"] == "wait"
    assert req["json"] == {"input": {"prompt": "hello there", "system_prompt": "be brief", "max_tokens": 50,
                                     "temperature": 0.2, "stop_sequences": "\n\n,END"}}


def test_complete_polls_a_prediction_still_running(up):
    # "Prefer: wait" may still answer "starting" (the fake's "async" models do): the router polls urls.get.
    with router(up) as r:
        resp = r.complete(ask(model="rep/meta/llama-async", messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},
                                        {"role": "user", "content": "one two"}]))
    assert resp["choices"][0]["message"]["content"] == "echo: one two"
    paths = [q["path"] for q in up.requests("rep")]
    assert paths[0] == "/rep/v1/models/meta/llama-async/predictions"
    assert len(paths) == 3 and all(p.startswith("/rep/v1/predictions/") for p in paths[1:])
    assert up.requests("rep")[0]["json"]["input"]["prompt"] == "User: hi\nAssistant: yo\nUser: one two\nAssistant:"


def test_version_model(up):
    with router(up) as r:
        resp = r.complete(ask(model="rep/acme/custom:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"))
    assert resp["choices"][0]["message"]["content"] == "echo: hello there"
    [req] = up.requests("rep")
    assert req["path"] == "/rep/v1/predictions"
    assert req["json"]["version"] == "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"


def test_stream_from_the_stream_url(up):
    events = []
    with router(up) as r:
        done = r.stream(ask("a b c"), events.append)
    deltas = [e["content"] for e in events if e["type"] == "delta" and e.get("content")]
    assert "".join(deltas) == "echo: a b c"
    assert len(deltas) == 4
    assert events[-1]["type"] == "done"
    assert done["choices"][0]["message"]["content"] == "echo: a b c"
    create, stream = up.requests("rep")
    assert create["json"]["stream"] is True and "prefer" not in create["headers"]
    assert stream["method"] == "GET" and stream["path"].startswith("/rep/v1/stream/")
    assert stream["headers"]["accept"] == "text/event-stream"
    assert stream["headers"]["authorization"] == "Bearer " + SECRET  # same origin as base_url


def test_errors_are_mapped_and_fail_over(up):
    up.script("rep", [{"status": 401, "message": "You did not pass a valid authentication token"}])
    with router(up) as r:
        with pytest.raises(providermux.ProviderMuxError) as info:
            r.complete(dict(ask(), route={"providers": ["rep"]}))
    assert info.value.code == providermux.ERR_AUTH
    assert "HTTP 401: You did not pass a valid authentication token" in info.value.message

    up.reset("rep")
    up.script("rep", [{"status": 402, "message": "You have insufficient credit"}])
    with router(up) as r:
        with pytest.raises(providermux.ProviderMuxError) as info:
            r.complete(dict(ask(), route={"providers": ["rep"]}))
    assert info.value.code == providermux.ERR_QUOTA_EXCEEDED

    up.reset("rep")
    up.script("rep", [{"status": 503, "times": 5}])
    with router(up) as r:
        resp = r.complete(ask(model="meta/llama-3-8b-instruct"))  # bare: the mock may serve it too
    assert resp["provider"] == "backup"
    assert resp["attempts"][0]["provider"] == "rep" and resp["attempts"][0]["error_class"] == "unavailable"

    up.reset("rep")
    up.script("rep", [{"status": 429, "retry_after": 0}])
    with router(up) as r:
        resp = r.complete(ask())
    assert resp["provider"] == "rep"
    assert [a["outcome"] for a in resp["attempts"]][-1] == "ok" and len(resp["attempts"]) == 2

    up.reset("rep")
    with router(up) as r:
        with pytest.raises(providermux.ProviderMuxError) as info:
            r.complete(dict(ask("please FAIL"), route={"providers": ["rep"]}))
    assert "prediction failed: fake prediction failure" in info.value.message


def test_mid_stream_error_event(up):
    up.script("rep", [{}, {"error_event_after_chunks": 2}])
    events = []
    with router(up) as r:
        with pytest.raises(providermux.ProviderMuxError) as info:
            r.stream(dict(ask("a b c d"), route={"providers": ["rep"]}), events.append)
    assert "fake mid-stream error" in info.value.message
    assert events[-1]["type"] == "error"


def test_refused_before_any_request(up):
    with router(up) as r:
        for request, code, fragment in [
            (ask(model="rep/not-a-model"), providermux.ERR_INVALID_REQUEST, "owner/name"),
            (ask(tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]),
             providermux.ERR_UNSUPPORTED, "tools"),
            (ask(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}]),
             providermux.ERR_UNSUPPORTED, "only text parts"),
        ]:
            with pytest.raises(providermux.ProviderMuxError) as info:
                r.complete(dict(request, route={"providers": ["rep"]}))
            assert info.value.code == code, (request, info.value)
            assert fragment in info.value.message
    assert up.requests("rep") == []
