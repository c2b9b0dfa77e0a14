# SPDX-License-Identifier: Apache-2.0
"""The Prometheus exposition through the C ABI, read by the official parser (issue 15, item 6).

`prometheus_client`'s text parser must accept the whole exposition, durations must come out as
histograms in seconds (`pmx_attempt_duration_seconds`, `pmx_time_to_first_token_seconds`):
cumulative buckets, `+Inf` equal to `_count`, `_sum` equal to the JSON stats' milliseconds / 1000,
and no summary (quantiles in milliseconds cannot be aggregated across processes) is left.
prometheus_client is a test dependency (scripts/setup.sh installs it): the test fails without it.
"""

import math

import pytest

from pmx_testlib import mock_config, user

from prometheus_client.parser import text_string_to_metric_families

providermux = pytest.importorskip("providermux")

# A model name the exposition must escape (quote, backslash; requests refuse control characters,
# the Swift tests cover line feeds): the parser unescapes it.
ODD_MODEL = 'we"ird\\m{x}'
HISTOGRAMS = ("pmx_attempt_duration_seconds", "pmx_time_to_first_token_seconds")


def run_traffic():
    """3 plain and 2 streamed successes on `plain`, 1 plain on ODD_MODEL: (text, JSON stats)."""
    config = mock_config({"name": "mock", "type": "mock", "token_delay_ms": 2})
    with providermux.Router(config) as router:
        for _ in range(3):
            router.complete(user("plain", model="plain"))
        for _ in range(2):
            events = list(router.stream(user("streamed reply", model="plain")))
            assert events[-1]["type"] == "done"
        router.complete(user("odd", model=ODD_MODEL))
        return router.metrics(), router.stats()


def test_whole_exposition_parses_and_durations_are_histograms_in_seconds():
    text, stats = run_traffic()
    families = {f.name: f for f in text_string_to_metric_families(text)}  # raises on any bad line
    assert "pmx_attempts" in families and families["pmx_attempts"].type == "counter"
    for name in HISTOGRAMS:
        assert families[name].type == "histogram", (name, families[name].type)
    assert not [f.name for f in families.values() if f.type == "summary"]
    assert "pmx_latency_ms" not in text and "pmx_ttft_ms" not in text and "quantile=" not in text

    models = {m["model"]: m for m in stats["providers"][0]["models"]}
    expected_counts = {"pmx_attempt_duration_seconds": {"plain": 5, ODD_MODEL: 1},
                       "pmx_time_to_first_token_seconds": {"plain": 2}}
    json_key = {"pmx_attempt_duration_seconds": "latency_ms", "pmx_time_to_first_token_seconds": "ttft_ms"}
    for name in HISTOGRAMS:
        by_model = {}
        for s in families[name].samples:
            assert s.labels["provider"] == "mock"
            by_model.setdefault(s.labels["model"], []).append(s)
        assert {m: None for m in by_model} == {m: None for m in expected_counts[name]}, (name, list(by_model))
        for model, samples in by_model.items():
            buckets = [(s.labels["le"], s.value) for s in samples if s.name == name + "_bucket"]
            count = [s.value for s in samples if s.name == name + "_count"]
            total = [s.value for s in samples if s.name == name + "_sum"]
            assert len(count) == 1 and len(total) == 1
            assert count[0] == expected_counts[name][model]
            bounds = [float(le) for le, _ in buckets]
            assert bounds == sorted(bounds) and bounds[-1] == math.inf and bounds[0] == 0.005 and bounds[-2] == 120
            values = [v for _, v in buckets]
            assert values == sorted(values), f"{name} {model!r} buckets not cumulative: {buckets}"
            assert values[-1] == count[0], "+Inf bucket != _count"
            # Seconds: the JSON stats' mean (milliseconds, 3 decimals, over every sample here) × count / 1000.
            if json_key[name] == "latency_ms":
                mean_ms = models[model]["latency_ms"]["mean"]
                assert total[0] == pytest.approx(mean_ms * count[0] / 1000, abs=1e-6 * count[0])
            assert 0 < total[0] < 60, f"{name} _sum {total[0]} is not in seconds"
        # The slowest bucket holding every sample bounds the sum.
        for model, samples in by_model.items():
            first_full = next(float(s.labels["le"]) for s in samples
                              if s.name == name + "_bucket" and s.value == expected_counts[name][model])
            total = next(s.value for s in samples if s.name == name + "_sum")
            assert total <= first_full * expected_counts[name][model]


def test_histograms_restart_after_reset():
    config = mock_config()
    with providermux.Router(config) as router:
        router.complete(user("one", model="m"))
        before = router.metrics(reset=True)
        after = router.metrics()
    assert 'pmx_attempt_duration_seconds_count{provider="mock",model="m"} 1\n' in before
    assert 'pmx_attempt_duration_seconds_bucket{provider="mock",model="m",le="+Inf"} 1\n' in before
    # After a reset the series has no sample: no histogram lines until its next success.
    assert "pmx_attempt_duration_seconds" not in after
    families = {f.name: f for f in text_string_to_metric_families(after)}
    assert families["pmx_attempts"].type == "counter"
