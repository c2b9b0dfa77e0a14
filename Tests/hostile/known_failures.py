"""Hostile cases that fail on main, each with the reason (see conftest.py): node-id patterns
("*" the only wildcard, relative to Tests/hostile) -> why. Keep it precise, and shrink it as
fixes land: a fixed case passes, its strict xfail then fails the run, and its entry must go."""

NUM = "test_hostile_usage_numbers.py::test_extreme_upstream_number"

KNOWN: dict[str, str] = {
    **{f"{NUM}[openai-{where}-minus_1]":
       "an OpenAI-shaped upstream's negative index (choices, tool_calls, embeddings data) is "
       "passed through to the host as is" for where in (
           "answer-choices.0.index", "answer-choices.0.message.tool_calls.0.index",
           "stream-1:choices.0.delta.tool_calls.0.index", "embed-data.0.index")},
}
