# SPDX-License-Identifier: Apache-2.0
"""providermux.OpenAI(...).completions: openai's legacy text completions (and FIM with
``suffix``) over pmx_router_call. The same user code runs through the real openai SDK against
the fake upstream's /v1/completions and through providermux against the same fake upstream; the
results must agree, and openai's own ``Completion`` type validates ours. The openai package is
needed (scripts/setup.sh installs it); without it these tests FAIL.
"""

import asyncio

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import FAST_RETRY, SECRET  # noqa: E402

try:
    import openai
    from openai.types import Completion as OACompletion
except ImportError as exc:  # pragma: no cover - the failure this guards against
    openai = None
    OPENAI_MISSING = "the openai package is missing (%s): run scripts/setup.sh" % exc


@pytest.fixture(autouse=True)
def _require_openai():
    if openai is None:
        pytest.fail(OPENAI_MISSING)


def router_config(up, scope):
    return {"providers": [{"name": "fake", "type": "openai-compatible", "base_url": up.base(scope), "api_key": SECRET}],
            "retry": dict(FAST_RETRY, max_attempts=1)}


def user_code(client):
    out = {}
    resp = client.completions.create(model="fake-small", prompt="one two three", max_tokens=3)
    out["plain"] = (resp.object, resp.choices[0].text, resp.choices[0].finish_reason,
                    resp.usage.prompt_tokens, resp.usage.completion_tokens)
    resp = client.completions.create(model="fake-small", prompt="def f(", suffix="pass", temperature=0)
    out["fim"] = resp.choices[0].text
    chunks = list(client.completions.create(model="fake-small", prompt="a b", stream=True,
                                            stream_options={"include_usage": True}))
    out["stream_text"] = "".join(c.choices[0].text for c in chunks if c.choices)
    out["stream_finish"] = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    out["stream_usage"] = chunks[-1].usage.total_tokens
    out["stream_objects"] = sorted({c.object for c in chunks})
    return out


async def async_user_code(client):
    resp = await client.completions.create(model="fake-small", prompt="x y")
    stream = await client.completions.create(model="fake-small", prompt="p q", stream=True)
    text = ""
    async for chunk in stream:
        text += chunk.choices[0].text if chunk.choices else ""
    return resp.choices[0].text, text


def test_openai_code_runs_unchanged(up):
    expected = user_code(openai.OpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0))
    with providermux.OpenAI(router_config(up, "pmx")) as client:
        got = user_code(client)
    assert got == expected
    assert got["plain"] == ("text_completion", "echo: one two ", "length", 3, 3)
    assert got["fim"] == "echo: def f( | pass"
    sent = up.requests("pmx")
    assert [r["json"].get("suffix") for r in sent] == [None, "pass", None]

    expected = asyncio.run(async_user_code(openai.AsyncOpenAI(base_url=up.base("oa"), api_key=SECRET, max_retries=0)))

    async def ours():
        async with providermux.AsyncOpenAI(router_config(up, "pmx")) as client:
            return await async_user_code(client)
    assert asyncio.run(ours()) == expected == ("echo: x y", "echo: p q")


def test_results_validate_with_openais_types(up):
    with providermux.OpenAI(router_config(up, "v")) as client:
        resp = client.completions.create(model="fake-small", prompt="hi")
        checked = OACompletion.model_validate(resp.model_dump())
        assert checked.choices[0].text == "echo: hi" and checked.usage.total_tokens == 3
        assert resp.provider == "fake" and resp.attempts[0].outcome == "ok"
        stream = client.completions.create(model="fake-small", prompt="one two", stream=True)
        chunks = list(stream)
        # OpenAI's own mid-stream chunks have finish_reason null, which its Completion type (made
        # for whole answers) refuses: the SDK builds chunks without validating. Those are
        # checked with the last chunk's reason filled in; the last one as it is.
        for chunk in chunks[:-1]:
            dump = chunk.model_dump()
            assert dump["choices"][0]["finish_reason"] is None
            dump["choices"][0]["finish_reason"] = "stop"
            OACompletion.model_validate(dump)
        assert OACompletion.model_validate(chunks[-1].model_dump()).choices[0].finish_reason == "stop"
        assert len({c.id for c in chunks}) == 1
        assert stream.completion is not None and stream.completion.choices[0].text == "echo: one two"
        with pytest.raises(providermux.RateLimitError):
            up.script("v", [{"status": 429}])
            client.completions.create(model="fake-small", prompt="x")
