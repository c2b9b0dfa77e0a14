# SPDX-License-Identifier: Apache-2.0
"""Router.stream() / astream() iteration raises on an `error` terminal event (as the openai SDK
does; it used to end quietly), with the event on the exception; `done` still ends it normally."""

import asyncio

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import mock_config, user  # noqa: E402

FAILING = mock_config({"name": "m", "type": "mock", "script": [{"status": 503, "times": 10}]},
                      retry={"max_attempts": 1})


def test_stream_iteration_raises_the_error_event():
    seen = []
    with providermux.Router(FAILING) as router:
        stream = router.stream(user("fail"))
        with pytest.raises(providermux.UpstreamServerError) as info:
            for event in stream:
                seen.append(event.type)
    exc = info.value
    assert isinstance(exc, providermux.InternalServerError)  # the openai name too
    assert isinstance(exc.event, providermux.ErrorEvent)
    assert exc.event.code == providermux.ERR_UPSTREAM_SERVER
    assert exc.event["provider"] == "m"
    assert exc.body == dict(exc.event)
    assert "error" not in seen and seen[0] == "start"
    assert stream.error is exc and stream.terminal is exc.event
    assert list(stream) == []  # it stays ended: no second raise


def test_a_successful_stream_ends_with_done_and_does_not_raise():
    with providermux.Router(mock_config()) as router:
        events = list(router.stream(user("hello")))
    assert events[-1].type == "done"
    assert events[-1].response.content == "mock: hello"


def test_astream_iteration_raises_and_acomplete_still_shows_the_event():
    async def main():
        with providermux.Router(FAILING) as router:
            with pytest.raises(providermux.UpstreamServerError) as info:
                async for _ in router.astream(user("fail")):
                    pass
            seen = []
            with pytest.raises(providermux.UpstreamServerError):
                await router.acomplete(user("fail"), on_event=lambda e: seen.append(e.type))
            return info.value, seen

    exc, seen = asyncio.run(asyncio.wait_for(main(), 30))
    assert exc.event.type == "error" and exc.event.code == providermux.ERR_UPSTREAM_SERVER
    assert seen[-1] == "error"


def test_every_router_call_has_an_async_twin():
    config = mock_config({"name": "mock", "type": "mock"}, routing={"strategy": "priority"})

    async def main(router):
        request = {"model": "mock", "input": ["a", "b"]}
        assert _without_timing(await router.aembed(request)) == _without_timing(router.embed(request))
        assert await router.amodels() == router.models()
        health = await router.ahealth()
        assert set(health) == set(router.health())
        assert (await router.astats())["requests"] == router.stats()["requests"]
        assert "pmx_router_requests_total" in await router.ametrics()
        await router.aupdate_routing({"strategy": "round_robin"})
        await router.aadd_provider({"name": "extra", "type": "mock"})
        assert any(m["provider"] == "extra" for m in (await router.amodels())["data"])
        await router.aremove_provider("extra")
        assert not any(m["provider"] == "extra" for m in (await router.amodels())["data"])
        with pytest.raises(providermux.ProviderNotFoundError):
            await router.aremove_provider("extra")

    with providermux.Router(config) as router:
        asyncio.run(asyncio.wait_for(main(router), 30))


def _without_timing(document):
    # Timings and the request id (RequestID.swift: one per request) differ between two requests.
    document = dict(document, latency_ms=None, request_id=None)
    document["attempts"] = [dict(a, latency_ms=None) for a in document["attempts"]]
    return document
