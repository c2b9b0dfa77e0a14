"""Hostile cases that fail on main, each with the reason (see conftest.py): node-id patterns
(fnmatch, relative to Tests/hostile) -> why. Keep it precise, and shrink it as fixes land."""

KNOWN: dict[str, str] = {
}
