# SPDX-License-Identifier: Apache-2.0
"""`n` > 1 through the library (issue 16 item 3), against the fake upstream: several choices
from OpenAI-shaped servers (`n`) and Gemini (`candidateCount`), complete and streamed (every
delta names its choice: JSON callback and pulled typed events alike); refused with
PMX_ERR_UNSUPPORTED by the one-choice protocols, so the request fails over; never cached."""

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, user  # noqa: E402
from protocol_table import BY_NAME, provider_entry  # noqa: E402

SERVED = ["openai", "openai-compatible", "gemini"]
REFUSED = ["anthropic", "ollama", "cohere"]


@pytest.fixture(scope="module")
def router(upstream_server):
    names = SERVED + REFUSED
    config = {"providers": [provider_entry(upstream_server.url, BY_NAME[n]) for n in names],
              "retry": dict(FAST_RETRY, max_attempts=1),
              "cache": {"enabled": True, "ttl_ms": 60000}}
    with providermux.Router(config) as r:
        yield r


def replies(n):
    return ["echo: pick a colour"] + ["echo: pick a colour [%d]" % i for i in range(1, n)]


@pytest.mark.parametrize("name", SERVED)
def test_complete_has_every_choice(router, name):
    r = router.complete(user("pick a colour", model=name + "/fake-small", n=3))
    assert [c["index"] for c in r["choices"]] == [0, 1, 2]
    assert [c["message"]["content"] for c in r["choices"]] == replies(3)
    again = router.complete(user("pick a colour", model=name + "/fake-small", n=3))
    assert not again.get("cached"), "an n > 1 answer was served from the cache"


@pytest.mark.parametrize("name", SERVED)
@pytest.mark.parametrize("pulled", [False, True], ids=["json", "pulled"])
def test_stream_deltas_name_their_choice(router, name, pulled):
    req = user("pick a colour", model=name + "/fake-small", n=2)
    if pulled:
        events = list(router.stream(req))
    else:
        events = []
        router.stream(req, events.append)
    deltas = [e for e in events if e["type"] == "delta"]
    assert all("index" in e for e in deltas)
    texts = ["".join(e.get("content") or "" for e in deltas if e["index"] == i) for i in range(2)]
    assert texts == replies(2)
    done = events[-1]["response"]
    assert [c["message"]["content"] for c in done["choices"]] == replies(2)


@pytest.mark.parametrize("name", REFUSED)
def test_one_choice_protocols_refuse(router, name):
    with pytest.raises(providermux.UnsupportedError) as e:
        router.complete(user("pick a colour", model=name + "/fake-small", n=2))
    assert "n: " in str(e.value)


def test_one_choice_requests_are_unchanged(router):
    events = []
    router.stream(user("pick a colour", model="openai/fake-small"), events.append)
    assert not any("index" in e for e in events if e["type"] == "delta")
