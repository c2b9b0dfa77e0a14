# SPDX-License-Identifier: Apache-2.0
"""mypy (--strict) on typed users of the binding: events narrow by `event.type` (Literal-typed
`type` fields, the StreamEvent Union) and the openai surface's results are typed attributes.
mypy is needed (scripts/setup.sh installs it): without it this test fails, it never skips."""

import os
import subprocess
import sys

from pmx_testlib import BINDINGS

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed")


def mypy(filename):
    try:
        import mypy  # noqa: F401
    except ImportError:
        raise AssertionError("mypy is not installed: run scripts/setup.sh (pip install mypy)")
    env = dict(os.environ, MYPYPATH=BINDINGS)
    # follow-imports=silent: the package is checked as an installed one would be (its own
    # internals are not what this test is about); cache off: no files left in the tree.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
         "--no-incremental", "--cache-dir=/dev/null", "--no-error-summary", filename],
        capture_output=True, text=True, cwd=HERE, env=env, timeout=300)


def test_events_narrow_by_type_and_openai_results_are_typed():
    result = mypy("narrow_events.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_refuses_unnarrowed_use():
    # The same checker must refuse a DeltaEvent's Optional response and a str used as int:
    # proves the check above is not vacuous (e.g. everything typed Any).
    result = mypy("narrow_events_bad.py")
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    # The lines that must be refused are the ones marked "an error" in the file.
    with open(os.path.join(HERE, "narrow_events_bad.py"), encoding="utf-8") as f:
        marked = [n for n, line in enumerate(f, start=1) if line.rstrip().endswith(": an error")]
    assert len(marked) == 2, marked
    assert any("narrow_events_bad.py:%d:" % marked[0] in line and "None" in line for line in errors), errors
    assert any("narrow_events_bad.py:%d:" % marked[1] in line and "int" in line for line in errors), errors
    assert len(errors) == 2, errors
