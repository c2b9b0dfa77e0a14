# SPDX-License-Identifier: Apache-2.0
"""The per-request observer from Python: Router(config, observer=...), set_observer, the
logging bridge (one line per request, fields in `extra`) and the OpenTelemetry bridge (one span
per request with the GenAI semantic conventions, read back with opentelemetry-sdk's
InMemorySpanExporter), against the fake upstream over loopback; an observer that raises is
logged and never disturbs the request."""

import logging
import time

import pytest

from pmx_testlib import FAST_RETRY, SECRET, user

providermux = pytest.importorskip("providermux")


def _config(up, *scopes, **sections):
    providers = [{"name": "p-" + s, "type": "openai-compatible", "base_url": up.base(s), "api_key": SECRET,
                  "models": ["fake-small"]} for s in scopes]
    config = {"providers": providers, "retry": dict(FAST_RETRY, max_attempts=2)}
    config.update(sections)
    return config


PRICING = {"p-obs/fake-small": {"input_per_mtok": 1000000, "output_per_mtok": 2000000}}


def test_router_observer_receives_one_record_per_request(up):
    records = []
    with providermux.Router(_config(up, "obs", pricing=PRICING), observer=records.append) as router:
        response = router.complete(user("hello there", model="fake-small", metadata={"team": "blue"}))
        assert len(records) == 1  # before complete() returned
        record = records[0]
        assert record["request_id"] == response["request_id"]
        assert record["operation"] == "chat.completions.create"
        assert record["stream"] is False
        assert record["metadata"] == {"team": "blue"}
        assert record["provider"] == "p-obs"
        assert record["provider_type"] == "openai-compatible"
        assert record["model_requested"] == "fake-small"
        assert record["model"] == response["model"]
        assert [a["outcome"] for a in record["attempts"]] == ["ok"]
        assert record["usage"]["prompt_tokens"] == response["usage"]["prompt_tokens"]
        assert record["cost_usd"] == response["usage"]["cost_usd"] and record["cost_usd"] > 0
        assert record["status"] == "ok" and record["code"] == 0
        assert SECRET not in repr(record)

        router.set_observer(None)
        router.complete(user("unobserved", model="fake-small"))
        assert len(records) == 1


def test_observer_exception_is_logged_not_propagated(up, caplog):
    def broken(record):
        raise RuntimeError("observer bug")

    seen = []
    with providermux.Router(_config(up, "obs"), observer=[broken, seen.append]) as router:
        with caplog.at_level(logging.ERROR, logger="providermux"):
            response = router.complete(user("still answered", model="fake-small"))
    assert response["choices"][0]["message"]["content"]
    assert len(seen) == 1  # the second observer still ran
    assert any("observer bug" in (r.exc_text or "") or (r.exc_info and "observer bug" in str(r.exc_info[1]))
               for r in caplog.records)


def test_observer_blocking_call_inside_is_refused_and_logged(up, caplog):
    outcomes = []

    def nested(record):
        try:
            router.complete(user("nested", model="fake-small"))
        except providermux.WouldDeadlockError:
            outcomes.append("refused")

    with providermux.Router(_config(up, "obs")) as router:
        router.set_observer(nested)
        router.complete(user("outer", model="fake-small"))
    assert outcomes == ["refused"]


def test_logging_observer_one_line_with_extra(up, caplog):
    logger = logging.getLogger("test.pmx.requests")
    with providermux.Router(_config(up, "lga", "lgb"), observer=providermux.logging_observer(logger)) as router:
        up.script("lga", [{"status": 429, "times": 100}])
        with caplog.at_level(logging.INFO, logger="test.pmx.requests"):
            response = router.complete(user("log me", model="fake-small"))
            up.script("lgb", [{"status": 500, "times": 100}])
            with pytest.raises(providermux.ProviderMuxError):
                router.complete(user("fail me", model="fake-small", metadata={"request_id": "mine-42"}))
    ok, failed = [r for r in caplog.records if r.name == "test.pmx.requests"]
    assert ok.levelno == logging.INFO
    assert ok.request_id == response["request_id"]
    assert ok.provider == "p-lgb"
    assert ok.model == response["model"]
    assert ok.status == "ok"
    assert ok.attempts == 3  # two 429s on p-lga, then p-lgb
    assert ok.prompt_tokens == response["usage"]["prompt_tokens"]
    assert ok.completion_tokens == response["usage"]["completion_tokens"]
    assert isinstance(ok.latency_ms, float)
    assert ok.pmx_record["request_id"] == response["request_id"]
    assert response["request_id"] in ok.getMessage() and "after 3 attempts" in ok.getMessage()
    assert failed.levelno == logging.WARNING
    assert failed.request_id == "mine-42"
    assert failed.status == "error" and failed.status_name.startswith("PMX_ERR_")
    assert SECRET not in ok.getMessage() + failed.getMessage()


def test_request_id_in_log_lines(up, log_lines):
    with providermux.Router(_config(up, "lla", "llb")) as router:
        up.script("lla", [{"status": 503, "times": 100}])
        response = router.complete(user("id in logs", model="fake-small"))
    tagged = [m for _, m in log_lines if m.startswith("[req %s] " % response["request_id"])]
    assert any("failing over to p-llb" in m for m in tagged), log_lines


def test_stream_record_and_error_event_carry_the_id(up):
    records = []
    with providermux.Router(_config(up, "st"), observer=records.append) as router:
        events = list(router.stream(user("stream please", model="fake-small")))
        done = events[-1]
        assert done["type"] == "done"
        assert records[-1]["request_id"] == done["response"]["request_id"]
        assert records[-1]["stream"] is True
        assert isinstance(records[-1]["ttft_ms"], float)
        up.script("st", [{"status": 400}])
        with pytest.raises(providermux.ProviderMuxError) as info:
            list(router.stream(user("bad", model="fake-small")))
        assert info.value.event["request_id"] == records[-1]["request_id"]
        assert records[-1]["status"] == "error"


def test_otel_observer_spans_with_genai_attributes(up):
    # scripts/setup.sh installs opentelemetry-api and -sdk: a missing one fails, never skips.
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    assert providermux.otel_available()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    observer = providermux.otel_observer(tracer_provider=provider)
    with providermux.Router(_config(up, "ot"), observer=observer) as router:
        before = time.time_ns()
        response = router.complete(user("trace me", model="fake-small"))
        after = time.time_ns()
        up.script("ot", [{"status": 500, "times": 100}])
        with pytest.raises(providermux.ProviderMuxError):
            router.complete(user("trace my failure", model="fake-small"))
    ok, failed = exporter.get_finished_spans()
    assert ok.name == "chat fake-small"
    assert ok.kind == SpanKind.CLIENT
    a = ok.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai-compatible" == a["gen_ai.system"]
    assert a["gen_ai.request.model"] == "fake-small"
    assert a["gen_ai.response.model"] == response["model"]
    assert a["gen_ai.usage.input_tokens"] == response["usage"]["prompt_tokens"]
    assert a["gen_ai.usage.output_tokens"] == response["usage"]["completion_tokens"]
    assert a["providermux.request_id"] == response["request_id"]
    assert "error.type" not in a
    # Timed by the record: inside the call, and at least as long as the request's latency
    # (the record starts when the call hands the request over, before the attempts).
    assert before - 1_000_000 <= ok.start_time < ok.end_time <= after + 1_000_000
    assert (ok.end_time - ok.start_time) / 1e6 >= response["latency_ms"] - 1
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes["error.type"] == "PMX_ERR_UPSTREAM_SERVER"
    assert failed.attributes["providermux.attempts"] == 2
