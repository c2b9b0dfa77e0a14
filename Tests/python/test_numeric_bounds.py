# SPDX-License-Identifier: Apache-2.0
"""Numbers from a config or a request are bounded where they are read (issue 12, item 1).

Each case runs in a child process: a Swift arithmetic trap (SIGILL/SIGTRAP) kills the process
that loaded the library, so run in-process it would take the test runner down instead of
failing one test. The child prints one JSON line: the outcome of the call.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import BINDINGS  # noqa: E402

INT64_MAX = 9223372036854775807
YEAR_MS = 31_536_000_000

CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import providermux
    config, requests = json.loads(sys.argv[2]), json.loads(sys.argv[3])
    try:
        with providermux.Router(config) as router:
            out = []
            for request in requests:
                try:
                    response = router.complete(request)
                    out.append({"ok": True, "cached": bool(response.get("cached")),
                                "text": response["choices"][0]["message"]["content"]})
                except providermux.ProviderMuxError as e:
                    out.append({"ok": False, "code": e.code, "message": e.message})
            print(json.dumps({"router": "ok", "calls": out}))
    except providermux.ProviderMuxError as e:
        print(json.dumps({"router": "error", "code": e.code, "message": e.message}))
""")


def run_child(config, requests=()):
    """The child's JSON outcome; fails the test (not the runner) when the child dies."""
    proc = subprocess.run([sys.executable, "-c", CHILD, BINDINGS, json.dumps(config), json.dumps(list(requests))],
                          capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert proc.returncode == 0, "child died (rc %d): %s" % (proc.returncode, proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def hello(**extra):
    request = {"messages": [{"role": "user", "content": "hello"}]}
    request.update(extra)
    return request


def test_cache_ttl_int64_max_is_a_config_error_naming_the_field():
    result = run_child({"providers": [{"name": "m", "type": "mock"}], "cache": {"enabled": True, "ttl_ms": INT64_MAX}},
                       [hello(), hello()])
    assert result["router"] == "error"
    assert result["code"] == providermux.ERR_CONFIG
    assert "cache.ttl_ms" in result["message"] and "31536000000" in result["message"], result["message"]


def test_cache_ttl_at_the_largest_allowed_value_serves_and_replays():
    result = run_child({"providers": [{"name": "m", "type": "mock"}], "cache": {"enabled": True, "ttl_ms": YEAR_MS}},
                       [hello(), hello()])
    assert result["router"] == "ok", result
    first, second = result["calls"]
    assert first["ok"] and second["ok"], result
    assert first["text"] == second["text"]
    assert not first["cached"] and second["cached"], result


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens", "max_new_tokens"])
def test_max_tokens_int64_max_is_an_invalid_request_naming_the_field(field):
    result = run_child({"providers": [{"name": "m", "type": "mock"}]}, [hello(**{field: INT64_MAX}), hello()])
    assert result["router"] == "ok", result
    refused, after = result["calls"]
    assert not refused["ok"]
    assert refused["code"] == providermux.ERR_INVALID_REQUEST
    assert refused["message"].startswith(field), refused["message"]
    assert "2147483647" in refused["message"], refused["message"]
    assert after["ok"], "the router still serves after the refused request: %r" % after


@pytest.mark.parametrize("value", [INT64_MAX, -1, 1e308, 10**39, -10**39])
def test_hostile_numbers_in_config_and_request_never_kill_the_process(value):
    # A 40-digit integer is refused by the JSON parser (PMX_ERR_INVALID_JSON, "too big integer");
    # every other value by the field's range. Either way a clean error, never a trap.
    config = {"providers": [{"name": "m", "type": "mock", "limits": {"tpm": value}}]}
    result = run_child(config)
    assert result["router"] == "error"
    assert result["code"] in (providermux.ERR_CONFIG, providermux.ERR_INVALID_JSON), result
    if result["code"] == providermux.ERR_CONFIG:
        assert "providers[0].limits.tpm" in result["message"], result["message"]
    request = hello(max_tokens=value, route={"timeout_ms": value})
    result = run_child({"providers": [{"name": "m", "type": "mock"}]}, [request])
    call = result["calls"][0]
    assert not call["ok"]
    assert call["code"] in (providermux.ERR_INVALID_REQUEST, providermux.ERR_INVALID_JSON), call
