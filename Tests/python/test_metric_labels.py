# SPDX-License-Identifier: Apache-2.0
"""Metric series from request-supplied model names, through the C ABI (issue 12, item 3).

Model names are the caller's: a NUL, CR, LF, quote, backslash or control character in one must
not cut or corrupt the Prometheus text (a C reader stops at a NUL), and a flood of distinct
names must not grow the router: past 1,000 series they fold into `model="__other__"`.
"""

import pytest

from pmx_testlib import mock_config, user

providermux = pytest.importorskip("providermux")

HOSTILE = ["nul\u0000after", "cr\rlf\nend", 'quote"back\\slash', "tab\tdel\u007fc1\u009b", "caf\u00e9"]


def test_hostile_model_names_never_break_the_exposition():
    served = []
    with providermux.Router(mock_config()) as router:
        for name in HOSTILE:
            try:
                router.complete(user("hi", model=name))
                served.append(name)
            except providermux.ProviderMuxError as e:  # refusing such a name is fine too
                assert e.code == providermux.ERR_INVALID_REQUEST, e
        text = router.metrics()
    # Nothing after the first NUL would reach a C caller: the text must be whole and NUL-free.
    assert "\x00" not in text and "\r" not in text and "\x7f" not in text and "\x9b" not in text
    assert text.endswith("\n") and "pmx_provider_info" in text
    attempts = [line for line in text.split("\n") if line.startswith("pmx_attempts_total{")]
    assert len(attempts) == len(served)
    if HOSTILE[0] in served:
        assert 'model="nul\ufffdafter"' in text
    if HOSTILE[1] in served:
        assert 'model="cr\ufffdlf\\nend"' in text
    assert 'model="quote\\"back\\\\slash"' in text
    assert 'model="caf\u00e9"' in text


def test_distinct_model_names_are_capped():
    with providermux.Router(mock_config()) as router:
        for i in range(1200):
            router.complete(user("hi", model="m-%d" % i))
        stats = router.stats()
    series = stats["metric_series"]
    assert series["max"] == 1000
    assert series["count"] == 1001  # 1,000 models + the provider's __other__
    assert series["folded_attempts"] == 200
    models = [m["model"] for m in stats["providers"][0]["models"]]
    assert "__other__" in models and len(models) == 1001
    assert sum(m["requests"] for m in stats["providers"][0]["models"]) == 1200
