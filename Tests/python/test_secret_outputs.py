# SPDX-License-Identifier: Apache-2.0
"""Keys echoed by a provider in SUCCESSFUL answers never reach the host: the chat reply
(complete, the blocking stream's events and the async stream's events, the `done` response),
tool-call arguments, the model list, health, stats (JSON and Prometheus) and the transcript.

The fake upstream's ``echo_credentials`` without ``status`` puts the credentials it received
in its normal answer (Tests/upstream/README.md). Runs in a child process with its own
transcript directory (PMX_TRANSCRIPT_DIR is read once per process).
"""

import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("providermux")

from pmx_testlib import BINDINGS, UPSTREAM_DIR  # noqa: E402

# Keys of this file only (constants: the suite-wide scan collects them too). The second has
# characters JSON writers may escape (`/`) and ones they never do (`+`, `=`).
ECHO_KEY = "sk-echo-SUCCESS-41c9e07d5b"
SLASH_KEY = "sk-echo/slash+eq=SUCCESS-9d2e4f"
KEYS = {"plain": ECHO_KEY, "slash": SLASH_KEY}

CHILD = textwrap.dedent("""
    import json, sys
    sys.path[:0] = json.loads(sys.argv[2])
    import providermux
    spec = json.loads(sys.argv[1])
    logs = []
    providermux.set_log_callback(lambda level, message: logs.append(message), providermux.LOG_TRACE)
    out = {"complete": [], "tools": [], "blocking_events": [], "blocking_result": [],
           "async_events": []}
    with providermux.Router(spec["config"]) as router:
        for name in spec["providers"]:
            req = dict(spec["request"], route={"providers": [name]})
            out["complete"].append(router.complete(req))
            tools = dict(spec["tools_request"], route={"providers": [name]})
            out["tools"].append(router.complete(tools))
            events = []
            out["blocking_result"].append(router.stream(req, on_event=lambda e: events.append(e)))
            out["blocking_events"] += events
            out["async_events"] += list(router.stream(req))
        out["models"] = router.models()
        out["health"] = router.health()
        out["stats"] = router.stats()
        out["metrics"] = router.metrics()
    out["logs"] = logs
    print(json.dumps(out, ensure_ascii=False))
""")


def run(up, tmp_path):
    providers = []
    for name, key in KEYS.items():
        up.script(name, [{"echo_credentials": True, "times": 1000}])
        providers.append({"name": name, "type": "openai-compatible", "api_key": key,
                          "base_url": up.url + "/" + name + "/v1"})  # no `models`: listed by asking
    spec = {
        "config": {"providers": providers, "retry": {"max_attempts": 1}},
        "providers": list(KEYS),
        "request": {"model": "fake-small", "messages": [{"role": "user", "content": "hello"}]},
        "tools_request": {"model": "fake-small",
                          "messages": [{"role": "user", "content": "weather in Paris?"}],
                          "tools": [{"type": "function", "function": {
                              "name": "get_weather", "parameters": {"type": "object"}}}]},
    }
    env = dict(os.environ, PMX_TRANSCRIPT_DIR=str(tmp_path / "transcript"))
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec),
                           json.dumps([BINDINGS, UPSTREAM_DIR])],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for key in KEYS.values():
        assert key not in proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def assert_masked(what, document):
    text = json.dumps(document, ensure_ascii=False)
    for name, key in KEYS.items():
        assert key not in text, f"{name}'s key in {what}"
        assert key[3:-3] not in text, f"{name}'s key partly in {what}"


def test_keys_echoed_in_successful_answers_are_masked(up, tmp_path):
    out = run(up, tmp_path)

    # The provider did echo them: the reply carries the masked form where the key was.
    for name in KEYS:
        sent = json.dumps(up.requests(name)[0]["headers"])
        assert KEYS[name] in sent
    for response in out["complete"]:
        content = response["choices"][0]["message"]["content"]
        assert "credentials received: authorization: Bearer ****" in content, content
    for response in out["tools"]:
        args = json.loads(response["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
        assert args["city"] == "Paris" and "****" in args["credentials"], args
    deltas = [e.get("content") for e in out["blocking_events"] + out["async_events"] if e["type"] == "delta"]
    assert any(d and d.startswith("****") for d in deltas), deltas
    assert any("/echo " in m["id"] and "****" in m["id"] for m in out["models"]["data"]), out["models"]

    for part in ("complete", "tools", "blocking_events", "blocking_result", "async_events",
                 "models", "health", "stats", "metrics", "logs"):
        assert_masked(part, out[part])

    files = glob.glob(str(tmp_path / "transcript" / "pmx-*.log"))
    assert len(files) == 1
    with open(files[0], encoding="utf-8", errors="replace") as f:
        transcript = f.read()
    for kind in ("response", "event", "models", "health", "stats"):
        assert f"\n{kind} " in transcript, kind
    assert_masked("the transcript", transcript)
