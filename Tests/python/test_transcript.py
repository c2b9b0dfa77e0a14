# SPDX-License-Identifier: Apache-2.0
"""The transcript (PMX_TRANSCRIPT_DIR) in a process of its own: what it records, that keys
never reach it even when a provider echoes them back in its error messages, and that a
transcript that cannot be opened is logged once and turns itself off.

The variable is read once per process, so each case runs a child Python process (the
ctypes binding, the library named by $PROVIDERMUX_LIB) with its own directory.
"""

import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import BINDINGS, UPSTREAM_DIR  # noqa: E402

# Keys of this file only (constants, so that the suite-wide scan collects them too).
OPENAI_KEY = "sk-transcript-OPENAI-6d1f0e"
ANTHROPIC_KEY = "sk-ant-transcript-ANTHROPIC-2b7c"
GEMINI_KEY = "AIza-transcript-GEMINI-93e4a1"
AZURE_KEY = "az-transcript-AZURE-5a0c77"
KEYS = {"openai-compatible": OPENAI_KEY, "anthropic": ANTHROPIC_KEY, "gemini": GEMINI_KEY,
        "azure": AZURE_KEY}
ROOT_BASE = {"anthropic", "gemini", "azure"}  # host-root protocols: no /v1 in base_url

CHILD = textwrap.dedent("""
    import json, sys
    sys.path[:0] = json.loads(sys.argv[2])
    import providermux
    spec = json.loads(sys.argv[1])
    if spec.get("log_level") is not None:
        lines = []
        providermux.set_log_callback(lambda level, message: lines.append([level, message]),
                                     spec["log_level"])
    out = {}
    with providermux.Router(spec["config"]) as router:
        out["response"] = router.complete(spec["request"])
        events = list(router.stream(spec["request"]))
        out["stream_types"] = [e["type"] for e in events]
        try:
            router.complete(spec["failing_request"])
        except providermux.ProviderMuxError as e:
            out["error"] = {"status": e.status_name, "provider": e.provider, "message": e.message}
        router.stats()
        router.metrics()
        router.models()
        router.health()
    if spec.get("log_level") is not None:
        out["log"] = lines
    print(json.dumps(out))
""")


def run_child(spec, transcript_dir):
    env = dict(os.environ)
    if transcript_dir is None:
        env.pop("PMX_TRANSCRIPT_DIR", None)
    else:
        env["PMX_TRANSCRIPT_DIR"] = str(transcript_dir)
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec), json.dumps([BINDINGS, UPSTREAM_DIR])],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def leaky_providers(up):
    """One provider per credential style, each answering 401 with the credentials it got."""
    providers = []
    for name, key in KEYS.items():
        up.script(name, [{"status": 401, "echo_credentials": True, "times": 100}])
        entry = {"name": name, "type": name, "api_key": key,
                 "base_url": up.url + "/" + name + ("" if name in ROOT_BASE else "/v1")}
        if name == "azure":
            entry.update({"api_version": "2024-10-21", "deployment": "d1"})
        providers.append(entry)
    return providers


def spec_for(up, **extra):
    spec = {
        "config": {"providers": leaky_providers(up) + [{"name": "fallback", "type": "mock"}],
                   "retry": {"max_attempts": 1}},
        "request": {"model": "fake-small", "messages": [{"role": "user", "content": "hello transcript"}]},
        # Only the leaky providers: the error lists every one of them.
        "failing_request": {"model": "fake-small", "messages": [{"role": "user", "content": "no luck"}],
                            "route": {"providers": list(KEYS)}},
    }
    spec.update(extra)
    return spec


def transcript_lines(directory):
    files = glob.glob(os.path.join(str(directory), "pmx-*.log"))
    assert len(files) == 1, files
    with open(files[0], encoding="utf-8") as f:
        return files[0], f.read().splitlines()


def test_keys_echoed_by_providers_never_reach_the_transcript(up, tmp_path):
    directory = tmp_path / "transcript"
    out = run_child(spec_for(up), directory)

    # The providers did get the keys, and echoed them in their 401 bodies.
    for name, key in KEYS.items():
        sent = json.dumps(up.requests(name)[0]["headers"])
        assert key in sent, name
    assert out["response"]["provider"] == "fallback"
    assert out["stream_types"][-1] == "done"
    assert "error" in out

    path, lines = transcript_lines(directory)
    assert os.stat(path).st_mode & 0o777 == 0o600
    kinds = {}
    for line in lines:
        kind, _time, _payload = line.split(" ", 2)
        kinds[kind] = kinds.get(kind, 0) + 1
    # No log callback was installed: log lines at every level are recorded anyway.
    assert lines[0].startswith("start ") and f"pid " in lines[0]
    for kind in ("log", "error", "response", "event", "stats", "models", "health"):
        assert kinds.get(kind, 0) >= 1, (kind, kinds)
    assert kinds["stats"] >= 2, "JSON and Prometheus text"
    assert any(" DEBUG " in line for line in lines if line.startswith("log "))

    text = "\n".join(lines)
    for name, key in KEYS.items():
        assert key not in text, f"{name}'s key in the transcript"
        assert key[4:-4] not in text, f"{name}'s key partly in the transcript"
        # ...because it was masked, not because the message never held it.
        assert "****" + key[-4:] in text, f"{name}: its echoed key was not masked in any line"

    errors = [json.loads(line.split(" ", 2)[2]) for line in lines if line.startswith("error ")]
    final = errors[-1]
    assert final["status_name"] == "PMX_ERR_AUTH", final
    attempts = {a["provider"]: a for a in final["attempts"]}
    assert set(attempts) == set(KEYS)
    for name, key in KEYS.items():
        assert "credentials received" in attempts[name]["message"], attempts[name]
        assert "****" + key[-4:] in attempts[name]["message"]
    # The error the host got names the provider, never the key.
    assert out["error"]["status"] == "PMX_ERR_AUTH"
    assert out["error"]["provider"] in KEYS
    assert all(key not in out["error"]["message"] for key in KEYS.values())


def test_log_callback_level_does_not_limit_the_transcript(up, tmp_path):
    directory = tmp_path / "t2"
    out = run_child(spec_for(up, log_level=providermux.LOG_ERROR), directory)
    assert all(level >= providermux.LOG_ERROR for level, _ in out["log"])
    _, lines = transcript_lines(directory)
    assert any(line.startswith("log ") and " DEBUG " in line for line in lines)
    assert any(line.startswith("log ") and " INFO " in line for line in lines)


def test_unopenable_directory_is_logged_once_and_the_transcript_stays_off(up, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = run_child(spec_for(up, log_level=providermux.LOG_WARN), blocker / "sub")
    warnings = [m for level, m in out["log"] if m.startswith("transcript:")]
    assert len(warnings) == 1, warnings
    assert str(blocker / "sub") in warnings[0] and "turned off" in warnings[0]
    assert out["response"]["provider"] == "fallback"
    assert blocker.read_text() == "not a directory"


def test_unset_writes_nothing(up, tmp_path):
    cwd_before = set(os.listdir(tmp_path))
    out = run_child(spec_for(up), None)
    assert out["response"]["provider"] == "fallback"
    assert set(os.listdir(tmp_path)) == cwd_before
