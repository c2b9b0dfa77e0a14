"""pytest fixtures of the hostile suite: one chaos upstream per session, and the batch cache
(each parametrized group of cases runs in one child process; see harness.py)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

if not os.environ.get("PROVIDERMUX_LIB"):
    ROOT = harness.ROOT
    for candidate in (os.path.join(ROOT, "build", "lib", "libprovidermux.so.0"),):
        if os.path.exists(candidate):
            os.environ["PROVIDERMUX_LIB"] = candidate
            break

if not os.environ.get("PROVIDERMUX_LIB"):
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def chaos():
    with harness.ChaosUpstream() as up:
        yield up


@pytest.fixture(scope="session")
def batches():
    return harness.BatchCache()
