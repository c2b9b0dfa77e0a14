# SPDX-License-Identifier: Apache-2.0
"""Hostile cases that fail on main, each with the reason (see conftest.py): node-id patterns
("*" the only wildcard, relative to Tests/hostile) -> why. Keep it precise, and shrink it as
fixes land: a fixed case passes, its strict xfail then fails the run, and its entry must go.
Empty: every hostile case passes on main."""

KNOWN: dict[str, str] = {}
