# SPDX-License-Identifier: Apache-2.0
"""providermux.completion(): LiteLLM-style one call, and its router cache (one router per
distinct config value; a file path is compared by its content)."""

import asyncio
import json

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import mock_config  # noqa: E402

MESSAGES = [{"role": "user", "content": "hi"}]


def test_completion_answers_in_openais_shape():
    config = mock_config({"name": "c1", "type": "mock"})
    resp = providermux.completion(model="c1/m", messages=MESSAGES, config=config)
    assert resp.choices[0].message.content == "mock: hi"
    assert resp.provider == "c1"
    text = "".join(chunk.choices[0].delta.content or ""
                   for chunk in providermux.completion(model="c1/m", messages=MESSAGES,
                                                       config=config, stream=True)
                   if chunk.choices)
    assert text == "mock: hi"
    resp = asyncio.run(providermux.acompletion(model="c1/m", messages=MESSAGES, config=config))
    assert resp.choices[0].message.content == "mock: hi"


def test_one_router_per_config_value(tmp_path, monkeypatch):
    config = {"providers": [{"name": "c2", "type": "mock"}], "retry": {"max_attempts": 1}}
    router = providermux.completion_router(config)
    before = router.stats()["requests"]
    providermux.completion(model="c2/m", messages=MESSAGES, config=config)
    reordered = {"retry": {"max_attempts": 1}, "providers": [{"type": "mock", "name": "c2"}]}
    providermux.completion(model="c2/m", messages=MESSAGES, config=reordered)
    providermux.completion(model="c2/m", messages=MESSAGES, config=json.dumps(config, indent=2))
    path = tmp_path / "router.json"
    path.write_text(json.dumps(config))
    providermux.completion(model="c2/m", messages=MESSAGES, config=str(path))
    monkeypatch.setenv("PMX_CONFIG", str(path))
    providermux.completion(model="c2/m", messages=MESSAGES)
    assert providermux.completion_router(config) is router
    assert router.stats()["requests"] == before + 5  # all five went through the one router

    path.write_text(json.dumps(dict(config, retry={"max_attempts": 2})))  # an edited file
    other = providermux.completion_router(str(path))
    assert other is not router
    providermux.completion(model="c2/m", messages=MESSAGES, config=str(path))
    assert other.stats()["requests"] == 1
    assert router.stats()["requests"] == before + 5


def test_no_config_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("PMX_CONFIG", raising=False)
    with pytest.raises(providermux.ConfigError, match="PMX_CONFIG"):
        providermux.completion(model="m", messages=MESSAGES)
