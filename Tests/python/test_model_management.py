# SPDX-License-Identifier: Apache-2.0
"""pmx_router_model_manage against the fake upstream's Ollama API: pull with progress on the
calling thread, cancel from the progress callback, show, loaded, delete, and clear errors."""
import threading

import pytest

import providermux


def ollama_router(up, scope="mm"):
    return providermux.Router({
        "providers": [
            {"name": "local", "type": "ollama", "base_url": "http://127.0.0.1:%d/%s" % (up.port, scope)},
            {"name": "mock", "type": "mock"},
        ],
        "retry": {"initial_backoff_ms": 10},
    })


def test_pull_reports_progress_on_the_calling_thread(up):
    seen = []
    with ollama_router(up) as router:
        result = router.manage_model("pull", "local", "llama3.2",
                                     on_progress=lambda e: seen.append((e, threading.get_ident())))
        assert result == {"provider": "local", "model": "llama3.2", "status": "success"}
    assert len(seen) >= 3
    assert all(e["type"] == "progress" for e, _ in seen)
    assert all(t == threading.get_ident() for _, t in seen)
    assert any("total" in e and "completed" in e for e, _ in seen)
    pulls = [r for r in up.requests("mm") if r["path"].endswith("/api/pull")]
    assert pulls and pulls[0]["json"]["model"] == "llama3.2"


def test_pull_cancelled_from_the_callback(up):
    up.script("mm", [{"chunk_delay_ms": 300}])  # a slow download, so the cancel lands mid-pull
    with ollama_router(up) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.manage_model("pull", "local", "llama3.2", on_progress=lambda e: True)
    assert info.value.code == providermux.ERR_CANCELLED


def test_pull_error_line_under_http_200(up):
    with ollama_router(up) as router:
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.manage_model("pull", "local", "missing-model")
    assert "file does not exist" in info.value.message


def test_show_loaded_delete(up):
    with ollama_router(up) as router:
        router.manage_model("pull", "local", "qwen2.5")
        shown = router.manage_model("show", "local", "qwen2.5")
        assert shown["id"] == "local/qwen2.5"
        assert shown["context_length"] > 0
        assert "chat" in shown["capabilities"]
        router.complete({"model": "local/qwen2.5", "messages": [{"role": "user", "content": "hi"}]})
        loaded = router.manage_model("loaded", "local")
        assert [m["model"] for m in loaded["data"]] == ["qwen2.5"]
        assert loaded["data"][0]["details"]["loaded"] is True
        deleted = router.manage_model("delete", "local", "qwen2.5")
        assert deleted["status"] == "deleted"
        with pytest.raises(providermux.ProviderMuxError) as info:
            router.manage_model("delete", "local", "qwen2.5")
        assert info.value.code == providermux.ERR_MODEL_NOT_FOUND


def test_bad_management_requests(up):
    with ollama_router(up) as router:
        for action, provider, model, code, fragment in [
            ("upgrade", "local", "m", providermux.ERR_INVALID_REQUEST, "action"),
            ("pull", "local", None, providermux.ERR_INVALID_REQUEST, "model"),
            ("show", "nobody", "m", providermux.ERR_PROVIDER_NOT_FOUND, "nobody"),
            ("pull", "mock", "m", providermux.ERR_UNSUPPORTED, "mock"),
        ]:
            with pytest.raises(providermux.ProviderMuxError) as info:
                router.manage_model(action, provider, model)
            assert info.value.code == code, (action, provider, info.value)
            assert fragment in info.value.message


def lmstudio_router(up, scope="lms"):
    return providermux.Router({"providers": [
        {"name": "studio", "type": "lm-studio", "base_url": up.base(scope)},
        {"name": "local", "type": "ollama", "base_url": "http://127.0.0.1:%d/%s" % (up.port, "mm")},
    ]})


def test_lmstudio_load_loaded_unload(up):
    with lmstudio_router(up) as router:
        loaded = router.manage_model("loaded", "studio")
        assert [m["model"] for m in loaded["data"]] == ["qwen2.5-7b-instruct"]
        assert loaded["data"][0]["details"]["instances"] == [{"id": "qwen2.5-7b-instruct", "context_length": 32768}]

        result = router.manage_model("load", "studio", "text-embedding-nomic-embed-text-v1.5",
                                     options={"context_length": 1024, "echo_load_config": True})
        assert result["status"] == "loaded"
        assert result["provider"] == "studio" and result["model"] == "text-embedding-nomic-embed-text-v1.5"
        assert result["instance_id"] == "text-embedding-nomic-embed-text-v1.5"
        assert result["type"] == "embedding" and result["load_time_seconds"] == 1.25
        assert result["load_config"]["context_length"] == 1024
        sent = [r for r in up.requests("lms") if r["path"] == "/lms/api/v1/models/load"]
        assert sent[0]["json"] == {"context_length": 1024, "echo_load_config": True,
                                   "model": "text-embedding-nomic-embed-text-v1.5"}
        assert sorted(m["model"] for m in router.manage_model("loaded", "studio")["data"]) == \
            ["qwen2.5-7b-instruct", "text-embedding-nomic-embed-text-v1.5"]

        assert router.manage_model("unload", "studio", "qwen2.5-7b-instruct") == \
            {"provider": "studio", "model": "qwen2.5-7b-instruct", "instance_id": "qwen2.5-7b-instruct", "status": "unloaded"}
        assert [m["model"] for m in router.manage_model("loaded", "studio")["data"]] == ["text-embedding-nomic-embed-text-v1.5"]
        unloads = [r for r in up.requests("lms") if r["path"] == "/lms/api/v1/models/unload"]
        assert unloads[0]["json"] == {"instance_id": "qwen2.5-7b-instruct"}


def test_lmstudio_management_errors(up):
    with lmstudio_router(up) as router:
        for action, provider, model, extra, code, fragment in [
            ("load", "studio", "no-such-model", {}, providermux.ERR_MODEL_NOT_FOUND, "no-such-model"),
            ("unload", "studio", "not-loaded", {}, providermux.ERR_MODEL_NOT_FOUND, "not-loaded"),
            ("pull", "studio", "m", {}, providermux.ERR_UNSUPPORTED, "load, unload and loaded"),
            ("load", "local", "m", {}, providermux.ERR_UNSUPPORTED, "lmstudio can"),
            ("unload", "studio", "m", {"options": {"context_length": 5}}, providermux.ERR_INVALID_REQUEST, "options"),
            ("load", "studio", "m", {"options": {"model": "x"}}, providermux.ERR_INVALID_REQUEST, "options.model"),
        ]:
            with pytest.raises(providermux.ProviderMuxError) as info:
                router.manage_model(action, provider, model, **extra)
            assert info.value.code == code, (action, provider, info.value)
            assert fragment in info.value.message, (action, info.value.message)
