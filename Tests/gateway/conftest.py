# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "upstream"))

from gateway_fixture import GW_KEY, Gateway, router_config  # noqa: E402
from upstream import FakeUpstream  # noqa: E402

@pytest.fixture(scope="session")
def upstream():
    with FakeUpstream() as up:
        yield up


@pytest.fixture(scope="session")
def gateway(upstream):
    with Gateway(router_config(upstream), env={"GW_TEST_KEY": GW_KEY}) as gw:
        yield gw


@pytest.fixture()
def up(upstream):
    upstream.reset()
    return upstream
