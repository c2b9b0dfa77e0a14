# SPDX-License-Identifier: Apache-2.0
"""pytest fixtures for the Python ABI tests; helpers live in pmx_testlib.py."""

import pytest

import pmx_testlib  # noqa: F401  (sets sys.path and loads the library first)


@pytest.fixture(scope="session")
def upstream_server():
    from upstream import FakeUpstream
    with FakeUpstream() as server:
        yield server


@pytest.fixture
def up(upstream_server):
    """The session's fake upstream, with every scope reset before the test."""
    upstream_server.reset()
    yield upstream_server


@pytest.fixture
def log_lines():
    """Installs a TRACE-level log callback collecting (level, message); removed afterwards."""
    import providermux
    lines = []
    providermux.set_log_callback(lambda level, message: lines.append((level, message)),
                                 providermux.LOG_TRACE)
    try:
        yield lines
    finally:
        providermux.set_log_callback(None)
