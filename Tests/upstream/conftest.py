# SPDX-License-Identifier: Apache-2.0
"""Fixtures every test file here shares: one fake upstream per test module, reset before each
test. The HTTP client (``FakeUpstream.send``) and the SSE frame reader (``sse_frames``) live in
upstream.py beside the start/stop code, which Tests/hostile imports as well.

    python3 -m pytest Tests/upstream -q
"""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from upstream import FakeUpstream  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """The fake upstream for one test module: started on first use, stopped after the module."""
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def up(server):
    """The module's fake upstream with every scope cleared (scripts, logs, model lists)."""
    server.reset()
    return server
