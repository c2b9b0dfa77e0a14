# SPDX-License-Identifier: Apache-2.0
"""``--personality``: the fake upstream as exactly one kind of local server, at its root.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys

import pytest

from upstream import SERVER, FakeUpstream


class PersonalityUpstream(FakeUpstream):
    def __init__(self, personality: str) -> None:
        super().__init__()
        self.personality = personality

    def command(self) -> list[str]:
        return super().command() + ["--personality", self.personality]


@pytest.fixture(scope="module")
def servers():
    ups = {name: PersonalityUpstream(name).start()
           for name in ("ollama", "lmstudio", "llamacpp", "openai", "other")}
    try:
        yield ups
    finally:
        for up in ups.values():
            up.stop()


def get(up, path, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=5)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


# Every identity/model path any kind is probed on.
PROBES = ["/", "/api/version", "/api/tags", "/api/v0/models", "/props", "/health", "/v1/models"]
ANSWERS = {
    "ollama": {"/", "/api/version", "/api/tags"},
    "lmstudio": {"/api/v0/models", "/v1/models"},
    "llamacpp": {"/props", "/health", "/v1/models"},
    "openai": {"/v1/models"},
    "other": set(PROBES),
}


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_only_its_own_routes(servers, name):
    up = servers[name]
    for path in PROBES:
        status, _, _ = get(up, path)
        assert status == (200 if path in ANSWERS[name] else 404), (name, path)
    # Scoped paths of the default mode are not served.
    assert get(up, "/default/v1/models")[0] == (200 if name == "other" else 404)


def test_ollama(servers):
    up = servers["ollama"]
    status, ctype, body = get(up, "/")
    assert body == b"Ollama is running" and ctype.startswith("text/plain")
    assert json.loads(get(up, "/api/version")[2]) == {"version": "0.12.6"}
    names = [m["name"] for m in json.loads(get(up, "/api/tags")[2])["models"]]
    assert names == ["fake-small", "fake-large"]
    status, _, body = get(up, "/api/chat", "POST",
                          {"model": "fake-small", "stream": False,
                           "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200 and json.loads(body)["message"]["content"] == "echo: hi"
    status, _, body = get(up, "/api/show", "POST", {"model": "fake-small"})
    assert status == 404 and "error" in json.loads(body)


def test_lmstudio(servers):
    up = servers["lmstudio"]
    v0 = json.loads(get(up, "/api/v0/models")[2])
    assert [m["id"] for m in v0["data"]] == ["qwen2.5-7b-instruct", "text-embedding-nomic-embed-text-v1.5"]
    assert all("type" in m and "state" in m for m in v0["data"])
    v1 = json.loads(get(up, "/v1/models")[2])
    assert v1["object"] == "list"
    assert v1["data"][0] == {"id": "qwen2.5-7b-instruct", "object": "model", "owned_by": "lmstudio-community"}


def test_llamacpp(servers):
    up = servers["llamacpp"]
    props = json.loads(get(up, "/props")[2])
    assert props["default_generation_settings"] == {"n_ctx": 4096}
    assert json.loads(get(up, "/health")[2]) == {"status": "ok"}
    v1 = json.loads(get(up, "/v1/models")[2])
    assert [m["id"] for m in v1["data"]] == ["x.gguf"] and v1["data"][0]["owned_by"] == "llamacpp"


def test_openai_and_other(servers):
    v1 = json.loads(get(servers["openai"], "/v1/models")[2])
    assert [m["id"] for m in v1["data"]] == ["fake-small", "fake-large"]
    status, ctype, body = get(servers["other"], "/api/version")
    assert status == 200 and ctype.startswith("text/html") and body == b"<html>hello</html>"
    status, _, body = get(servers["other"], "/anything", "POST", {"x": 1})
    assert status == 200 and body == b"<html>hello</html>"


def test_control_api_scripts_and_logs_the_default_scope(servers):
    up = servers["llamacpp"]
    up.reset()
    up.script("default", [{"status": 503}])
    status, _, body = get(up, "/props")
    assert status == 503 and json.loads(body)["error"]["message"] == "Loading model"
    assert get(up, "/props")[0] == 200
    assert get(up, "/nope")[0] == 404
    assert [r["path"] for r in up.requests("default")] == ["/props", "/props", "/nope"]
    up.set_models("default", [{"id": "qwen3-8b"}])
    assert [m["id"] for m in json.loads(get(up, "/v1/models")[2])["data"]] == ["qwen3-8b"]
    up.reset()


def test_unknown_personality_is_refused():
    r = subprocess.run([sys.executable, SERVER, "--personality", "vllm"], capture_output=True, timeout=10)
    assert r.returncode != 0 and b"invalid choice" in r.stderr
