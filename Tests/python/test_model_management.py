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
