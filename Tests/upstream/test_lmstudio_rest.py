# SPDX-License-Identifier: Apache-2.0
"""The fake LM Studio's 0.4 REST API (/api/v1): load, unload and the list with loaded instances,
in LM Studio's documented shapes (lmstudio.ai/docs/developer/rest/load, /unload, /list).

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import json


def call(up, method, path, body=None):
    resp, raw = up.send(method, "/lm" + path, body)
    return resp.status, json.loads(raw)


def instances(up):
    status, body = call(up, "GET", "/api/v1/models")
    assert status == 200
    return {m["key"]: [i["id"] for i in m["loaded_instances"]] for m in body["models"]}


def test_list_shape_and_initial_state(up):
    status, body = call(up, "GET", "/api/v1/models")
    assert status == 200
    by_key = {m["key"]: m for m in body["models"]}
    qwen = by_key["qwen2.5-7b-instruct"]
    assert qwen["type"] == "llm" and qwen["max_context_length"] == 32768
    assert qwen["loaded_instances"] == [{"id": "qwen2.5-7b-instruct", "config": {"context_length": 32768}}]
    assert by_key["text-embedding-nomic-embed-text-v1.5"]["type"] == "embedding"
    assert by_key["text-embedding-nomic-embed-text-v1.5"]["loaded_instances"] == []


def test_load_unload_cycle(up):
    status, body = call(up, "POST", "/api/v1/models/load",
                        {"model": "text-embedding-nomic-embed-text-v1.5", "context_length": 1024, "echo_load_config": True})
    assert status == 200
    assert body == {"type": "embedding", "instance_id": "text-embedding-nomic-embed-text-v1.5", "load_time_seconds": 1.25,
                    "status": "loaded", "load_config": {"context_length": 1024, "flash_attention": False}}
    # A second load of a loaded model is a second instance.
    status, body = call(up, "POST", "/api/v1/models/load", {"model": "qwen2.5-7b-instruct"})
    assert body["instance_id"] == "qwen2.5-7b-instruct:2"
    assert instances(up)["qwen2.5-7b-instruct"] == ["qwen2.5-7b-instruct", "qwen2.5-7b-instruct:2"]
    assert call(up, "POST", "/api/v1/models/unload", {"instance_id": "qwen2.5-7b-instruct:2"}) == \
        (200, {"instance_id": "qwen2.5-7b-instruct:2"})
    assert instances(up)["qwen2.5-7b-instruct"] == ["qwen2.5-7b-instruct"]


def test_errors(up):
    status, body = call(up, "POST", "/api/v1/models/load", {"model": "nope"})
    assert status == 404 and body["error"]["type"] == "model_not_found"
    for bad in ({}, {"model": "qwen2.5-7b-instruct", "ttl": 5}, {"model": "qwen2.5-7b-instruct", "context_length": "8k"}):
        assert call(up, "POST", "/api/v1/models/load", bad)[0] == 400
    status, body = call(up, "POST", "/api/v1/models/unload", {"instance_id": "not-loaded"})
    assert status == 404 and "not-loaded" in body["error"]["message"]
    assert call(up, "POST", "/api/v1/models/unload", {"model": "x"})[0] == 400
