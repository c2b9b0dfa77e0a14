# SPDX-License-Identifier: Apache-2.0
"""Two pmx-gateway processes on one Redis (the router config's `shared` section) enforce ONE
rate limit: the third request, through either gateway, is a 429 with Retry-After."""

from __future__ import annotations

import os
import sys

import openai
import pytest

from gateway_fixture import GW_KEY, Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
from redis_support import RedisServer  # noqa: E402


def test_two_gateways_share_one_rpm():
    with RedisServer() as redis:
        run_two_gateways(redis)


def run_two_gateways(redis):
    config = {"providers": [{"name": "m", "type": "mock", "limits": {"rpm": 2}}],
              "retry": {"max_attempts": 1},
              "shared": {"redis": redis.url, "key_prefix": "gw:", "timeout_ms": 200},
              "gateway": {"keys": ["${GW_TEST_KEY}"]}}
    env = {"GW_TEST_KEY": GW_KEY}
    with Gateway(config, env=env) as a, Gateway(config, env=env) as b:
        ca, cb = (openai.OpenAI(base_url=g.url + "/v1", api_key=GW_KEY, max_retries=0, timeout=30) for g in (a, b))
        ask = lambda c: c.chat.completions.create(model="m/any", messages=[{"role": "user", "content": "hi"}])
        assert ask(ca).choices[0].message.content and ask(cb).choices[0].message.content
        for c in (ca, cb):  # each gateway alone would still have room: its own bucket is full
            with pytest.raises(openai.RateLimitError) as e:
                ask(c)
            assert int(e.value.response.headers["retry-after"]) >= 1
