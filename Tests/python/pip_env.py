# SPDX-License-Identifier: Apache-2.0
"""Running pip, a venv or an installed package in a child process, shared by the package tests
(Tests/python/test_package.py, Tests/wheel): an environment with nothing that could hide a broken
install, and a run that fails the test with the child's output."""

import os
import subprocess

# What a developer's shell or ctest may set that would let a broken wheel pass: all removed.
HIDING = ("PROVIDERMUX_LIB", "LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH", "PYTHONHOME",
          "VIRTUAL_ENV", "PMX_SOURCE_DIR")
# pip offline and quiet (PIP_* of the caller are dropped: an index or find-links must not count).
QUIET_PIP = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", "PIP_NO_INPUT": "1",
             "PYTHONDONTWRITEBYTECODE": "1"}


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in HIDING and not k.startswith("PIP_")}
    env.update(QUIET_PIP)
    env.update(extra)
    return env


def run(args, timeout=120, **kwargs):
    """subprocess.run that asserts success, showing the command and both outputs otherwise."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, "%s\nstdout:\n%s\nstderr:\n%s" % (
        args, result.stdout, result.stderr)
    return result
