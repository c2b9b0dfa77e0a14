# SPDX-License-Identifier: Apache-2.0
"""The fault matrix (issue 7): every fault the fake upstream can inject, crossed with every
network protocol, each asserting the documented outcome through the real .so (ctypes binding)
against the real fake upstream over loopback. docs/FAULTS.md is the same matrix as a table.

Every case builds one router with two providers of the protocol under test, "a" then "b"
(priority order, two attempts per provider, back-offs of a few ms, first_byte_ms and idle_ms
250), scripts the fault on a's scope and checks:
  * the outcome: the reply text, or the error's code, provider, message and attempts;
  * the `attempts` array (provider, outcome, status name, HTTP status of each attempt);
  * the upstream request logs of a and b (was a retried, was b asked);
  * for streams: exactly one terminal event and it is the last, the retry / fallback events,
    the deltas that reached the caller before a failure, and the partial usage of an
    interrupted stream (the provider's prompt tokens when it reports them before the output).
A fault that applies to both calls runs pmx_router_complete and pmx_router_stream in two
threads at once (separate routers and scopes), so slow faults cost their wait once.

    PROVIDERMUX_LIB=$PWD/build/lib/libprovidermux.so.0 python3 -m pytest -q Tests/python/test_fault_matrix.py
"""

import shutil
import threading
import time

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import closed_port, user  # noqa: E402
from protocol_table import BY_NAME, MODEL, NETWORK, key_of, provider_entry  # noqa: E402

PROMPT = "one two three four five six"
REPLY = "echo: " + PROMPT
PROMPT_TOKENS = 6          # the fake upstream counts words
BEFORE_CUT = "echo: one "  # the two text deltas inside each protocol's `text_after` chunks

RETRY = {"max_attempts": 2, "initial_backoff_ms": 5, "max_backoff_ms": 20, "jitter": 0.0}
TIMEOUTS = {"connect_ms": 2000, "first_byte_ms": 250, "idle_ms": 250, "total_ms": 20000}

# The provider's own message in its in-stream error event (Tests/upstream/protocols/*.py), and
# the http_status the library reports for it (0: none; Anthropic's overloaded_error is its 529,
# Gemini's error object carries code 500, Ollama's error line arrives under HTTP 200).
STREAM_ERROR_MESSAGE = {"anthropic": "Overloaded"}
STREAM_ERROR_HTTP = {"anthropic": 529, "gemini": 500, "ollama": 200}

COMPLETE, STREAM = "complete", "stream"
BOTH = (COMPLETE, STREAM)


# --- running one call -----------------------------------------------------------------------

class Outcome:
    """What one call produced. `attempts` is the attempts array (of the response, or of the
    error event); a failed complete() only has the exception (its `attempts` is a count)."""

    def __init__(self, mode):
        self.mode = mode
        self.events = []
        self.response = None
        self.error = None       # the error event (stream) or the exception (complete)
        self.elapsed = 0.0

    @property
    def ok(self):
        return self.response is not None

    @property
    def text(self):
        if self.mode == STREAM:
            return "".join(e.get("content") or "" for e in self.events if e["type"] == "delta")
        return self.response["choices"][0]["message"]["content"]

    @property
    def attempts(self):
        if self.response is not None:
            return self.response["attempts"]
        if self.mode == STREAM:
            return self.error["attempts"]
        return None

    def types(self):
        return [e["type"] for e in self.events]


class Env:
    """One protocol, one mode: providers "a" and "b" on this mode's own scopes."""

    def __init__(self, up, proto, mode, tls=None):
        self.up = up
        self.proto = BY_NAME[proto]
        self.mode = mode
        self.tls = tls  # (FakeUpstream over HTTPS, certificate path), for the TLS case
        self.a = mode[0] + "a"
        self.b = mode[0] + "b"

    def provider(self, name, scope, server_url=None, **extra):
        entry = provider_entry(server_url or self.up.url, self.proto, name=name, scope=scope)
        entry.update(extra)
        return entry

    def config(self, a=None, providers=None, **sections):
        if providers is None:
            providers = [a or self.provider("a", self.a), self.provider("b", self.b)]
        config = {"providers": providers, "routing": {"order": [p["name"] for p in providers]},
                  "retry": dict(RETRY), "timeouts": dict(TIMEOUTS)}
        config.update(sections)
        return config

    def script(self, entries, scope=None):
        self.up.script(scope or self.a, entries)

    def requests(self, scope):
        return len(self.up.requests(scope))

    def run(self, config=None, text=PROMPT):
        out = Outcome(self.mode)
        request = user(text, model=MODEL)
        with providermux.Router(config or self.config()) as router:
            t0 = time.monotonic()
            if self.mode == STREAM:
                try:
                    out.response = router.stream_blocking(request, out.events.append)
                except providermux.ProviderMuxError:
                    pass
                assert out.events, "no events"
                terminal = [e for e in out.events if e["type"] in ("done", "error")]
                assert len(terminal) == 1 and out.events[-1] is terminal[0], out.types()
                if terminal[0]["type"] == "error":
                    out.error, out.response = terminal[0], None
                else:
                    assert out.response is not None
                    assert out.response["choices"] == terminal[0]["response"]["choices"]
            else:
                try:
                    out.response = router.complete(request)
                except providermux.ProviderMuxError as exc:
                    out.error = exc
            out.elapsed = time.monotonic() - t0
        assert_no_keys(out)
        return out


def assert_no_keys(out):
    text = repr(out.events) + repr(out.response) + repr(getattr(out.error, "message", out.error))
    for name in NETWORK:
        assert key_of(name) not in text


def summary(attempts):
    """(provider, outcome, status_name, http_status) per attempt; ok attempts as (p, "ok")."""
    rows = []
    for a in attempts:
        if a["outcome"] == "ok":
            rows.append((a["provider"], "ok"))
        else:
            rows.append((a["provider"], a["outcome"], a["status_name"], a["http_status"]))
    return rows


def run_modes(modes, body):
    """Runs body(mode) for each mode, at once on threads; re-raises the first failure."""
    failures = {}

    def one(mode):
        try:
            body(mode)
        except BaseException as exc:  # noqa: BLE001  (re-raised below, with its mode)
            failures[mode] = exc

    threads = [threading.Thread(target=one, args=(m,), name="fault-" + m, daemon=True) for m in modes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "%s: the call did not return within 60 s" % t.name
    for mode in modes:
        if mode in failures:
            exc = failures[mode]
            if isinstance(exc, AssertionError):
                raise AssertionError("[%s] %s" % (mode, exc)) from exc
            raise exc


# --- outcome checks shared by the cases --------------------------------------------------------

def expect_success(env, out, attempts, text=REPLY):
    assert out.ok, (out.error and (out.error.get("message") if isinstance(out.error, dict) else str(out.error)))
    assert out.text == text
    assert out.response["provider"] == attempts[-1][0]
    assert summary(out.attempts) == attempts
    if env.mode == STREAM:
        assert out.response["choices"][0]["message"]["content"] == text
        retries = [e for e in out.events if e["type"] == "retry"]
        fallbacks = [e for e in out.events if e["type"] == "fallback"]
        failed = [a for a in attempts if a[1] != "ok"]
        # Every failed attempt announced the next one: a retry on the same provider or a
        # fallback to the next.
        assert len(retries) + len(fallbacks) == len(failed), out.types()
        starts = [e for e in out.events if e["type"] == "start"]
        assert [s["provider"] for s in starts] == [a[0] for a in attempts]
        # No output from a failed attempt: the deltas are exactly the final text.
        first_delta = out.types().index("delta")
        assert first_delta > out.events.index(starts[-1])


def expect_interrupted(env, out, cause_status, cause_http=0, text=BEFORE_CUT, message=None,
                       reply=None):
    """A stream that failed after output reached the caller: PMX_ERR_STREAM_INTERRUPTED from
    a, the deltas kept, not retried, b never asked, partial usage."""
    assert not out.ok, "the stream succeeded: %r" % out.text
    e = out.error
    assert e["code"] == providermux.ERR_STREAM_INTERRUPTED, e
    assert e["status_name"] == "PMX_ERR_STREAM_INTERRUPTED"
    assert e["provider"] == "a"
    assert e["http_status"] == cause_http
    if message:
        assert message in e["message"], e["message"]
    assert summary(e["attempts"]) == [("a", "error", cause_status, cause_http)]
    types = out.types()
    assert "retry" not in types and "fallback" not in types, types
    assert [s["provider"] for s in out.events if s["type"] == "start"] == ["a"]
    if reply is None:
        assert out.text == text
    else:  # at least `text`, maybe more: a prefix of `reply`
        assert out.text.startswith(text) and reply.startswith(out.text), out.text
    deltas = types.count("delta")
    usage = e["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == deltas, usage
    if reply is None:
        assert usage["prompt_tokens"] == (PROMPT_TOKENS if env.proto.early_usage else 0), usage
    assert env.requests(env.a) == 1, "retried after output"
    assert env.requests(env.b) == 0, "failed over after output"


# --- the faults ------------------------------------------------------------------------------

def case_429(env):
    """429 with Retry-After: 1 → the wait is honoured, the retry on the same provider succeeds."""
    env.script([{"status": 429, "retry_after": 1}])
    out = env.run()
    expect_success(env, out, [("a", "error", "PMX_ERR_RATE_LIMITED", 429), ("a", "ok")])
    log = env.up.requests(env.a)
    assert len(log) == 2 and env.requests(env.b) == 0
    assert log[1]["time"] - log[0]["time"] >= 0.9, "Retry-After 1 not honoured"
    assert out.elapsed >= 0.9
    if env.mode == STREAM:
        retry = next(e for e in out.events if e["type"] == "retry")
        assert retry["provider"] == "a" and retry["delay_ms"] >= 1000
        assert retry["code"] == providermux.ERR_RATE_LIMITED and retry["http_status"] == 429


def case_5xx(status):
    def case(env):
        """5xx → retried on a until max_attempts, then failover to b."""
        env.script([{"status": status, "times": 2}])
        out = env.run()
        failed = ("a", "error", "PMX_ERR_UPSTREAM_SERVER", status)
        expect_success(env, out, [failed, failed, ("b", "ok")])
        assert env.requests(env.a) == 2 and env.requests(env.b) == 1
        if env.mode == STREAM:
            assert [e["type"] for e in out.events if e["type"] in ("retry", "fallback")] == ["retry", "fallback"]
            fallback = next(e for e in out.events if e["type"] == "fallback")
            assert (fallback["from"], fallback["to"]) == ("a", "b")
            assert fallback["http_status"] == status
    case.__doc__ = "HTTP %d → retried on a, then failover to b." % status
    return case


def case_refused(env):
    """Connection refused (a closed port) → a network error, retried, then failover to b."""
    a = env.provider("a", env.a, server_url="http://127.0.0.1:%d" % closed_port())
    out = env.run(env.config(a=a))
    failed = ("a", "error", "PMX_ERR_CONNECTION", 0)
    expect_success(env, out, [failed, failed, ("b", "ok")])
    assert env.requests(env.b) == 1


def case_first_byte_timeout(env):
    """Headers delayed past first_byte_ms → PMX_ERR_TIMEOUT, retried on a (which answers)."""
    env.script([{"delay_headers_ms": 800}])
    out = env.run()
    expect_success(env, out, [("a", "error", "PMX_ERR_TIMEOUT", 0), ("a", "ok")])
    assert "first_byte_ms" in out.attempts[0]["message"]
    assert env.requests(env.a) == 2 and env.requests(env.b) == 0


def case_stall(env):
    """The stream stalls after output: idle_ms fires → STREAM_INTERRUPTED, not retried."""
    env.script([{"stall_after_chunks": env.proto.text_after}])
    out = env.run()
    expect_interrupted(env, out, "PMX_ERR_TIMEOUT", message="idle_ms")
    assert out.elapsed >= 0.2


def case_disconnect(env):
    """Stream: the socket dropped after output → STREAM_INTERRUPTED, the deltas kept.
    Non-stream: dropped before any answer → a network error, retried on a."""
    if env.mode == COMPLETE:
        env.script([{"disconnect_after_chunks": 0}])
        out = env.run()
        expect_success(env, out, [("a", "error", "PMX_ERR_CONNECTION", 0), ("a", "ok")])
        assert env.requests(env.a) == 2 and env.requests(env.b) == 0
        return
    env.script([{"disconnect_after_chunks": env.proto.text_after}])
    expect_interrupted(env, env.run(), "PMX_ERR_CONNECTION")


def case_malformed_first(env):
    """A malformed event before any delta (stream) / a malformed body (non-stream) → a
    protocol error, not retried: failover to b."""
    if env.mode == COMPLETE:
        env.script([{"body": '{"choices": [ {not json'}])
    else:
        env.script([{"malformed_chunk_at": 0}])
    out = env.run()
    expect_success(env, out, [("a", "error", "PMX_ERR_UPSTREAM_PROTOCOL", 0), ("b", "ok")])
    message = out.attempts[0]["message"].lower()
    assert "malformed" in message or "json" in message, message
    assert env.requests(env.a) == 1 and env.requests(env.b) == 1


def case_malformed_after_delta(env):
    """A malformed event after output → STREAM_INTERRUPTED, not retried."""
    env.script([{"malformed_chunk_at": env.proto.text_after}])
    expect_interrupted(env, env.run(), "PMX_ERR_UPSTREAM_PROTOCOL", message="malformed")


def case_truncated(env):
    """Non-stream: a body cut short of its Content-Length → a network error, retried, then
    failover. Stream: cut in the middle of an event after output → STREAM_INTERRUPTED."""
    if env.mode == COMPLETE:
        env.script([{"truncate_body": True, "times": 2}])
        out = env.run()
        failed = ("a", "error", "PMX_ERR_CONNECTION", 0)
        expect_success(env, out, [failed, failed, ("b", "ok")])
        assert env.requests(env.a) == 2 and env.requests(env.b) == 1
        return
    env.script([{"truncate_body": True, "disconnect_after_chunks": env.proto.text_after}])
    expect_interrupted(env, env.run(), "PMX_ERR_CONNECTION")


LONG_PROMPT = " ".join("w%03d" % i for i in range(300))


def case_too_large(env):
    """A reply beyond limits.max_response_bytes (1024) → PMX_ERR_RESPONSE_TOO_LARGE naming the
    limit: not retried, failed over (b's reply is as large: both listed). A stream that
    crosses the cap after output → STREAM_INTERRUPTED naming the limit."""
    config = env.config(limits={"max_response_bytes": 1024})
    reply = "echo: " + LONG_PROMPT
    if env.mode == COMPLETE:
        out = env.run(config, text=LONG_PROMPT)
        assert not out.ok
        e = out.error
        assert e.code == providermux.ERR_RESPONSE_TOO_LARGE, e
        assert e.attempts == 2
        assert "limits.max_response_bytes" in e.message and "1024" in e.message
        assert e.message.startswith("all 2 attempts on 2 providers failed: a: ") and "; b: " in e.message
        assert env.requests(env.a) == 1 and env.requests(env.b) == 1
        return
    # The first chunks (under the cap) are read before the rest arrives: output starts first.
    env.script([{"stall_after_chunks": env.proto.text_after, "stall_ms": 120}])
    out = env.run(config, text=LONG_PROMPT)
    expect_interrupted(env, out, "PMX_ERR_RESPONSE_TOO_LARGE", text="echo: w000 ",
                       message="limits.max_response_bytes", reply=reply)


def case_error_event_first(env):
    """An error event under HTTP 200 before any delta → its mapped class (a server error),
    retried on a like an HTTP 5xx."""
    env.script([{"error_event_after_chunks": 0}])
    out = env.run()
    name = env.proto.name
    expect_success(env, out, [("a", "error", "PMX_ERR_UPSTREAM_SERVER", STREAM_ERROR_HTTP.get(name, 0)), ("a", "ok")])
    assert STREAM_ERROR_MESSAGE.get(name, "fake mid-stream error") in out.attempts[0]["message"]
    assert env.requests(env.a) == 2 and env.requests(env.b) == 0


def case_error_event_after_delta(env):
    """An error event under HTTP 200 after output → STREAM_INTERRUPTED carrying the upstream
    message, not retried."""
    env.script([{"error_event_after_chunks": env.proto.text_after}])
    name = env.proto.name
    expect_interrupted(env, env.run(), "PMX_ERR_UPSTREAM_SERVER", cause_http=STREAM_ERROR_HTTP.get(name, 0),
                       message=STREAM_ERROR_MESSAGE.get(name, "fake mid-stream error"))


def case_tls(env):
    """https at a server with a self-signed certificate, default verification → the handshake
    fails: PMX_ERR_CONNECTION naming the certificate, not retried, failover to b (plain
    http); nothing reached the TLS server. With tls.ca_bundle the same server answers."""
    tls_up, cert = env.tls
    a = env.provider("a", env.a, server_url=tls_up.url)
    out = env.run(env.config(a=a))
    failed = summary(out.attempts)[0] if out.ok else None
    assert failed == ("a", "error", "PMX_ERR_CONNECTION", 0), out.attempts
    expect_success(env, out, [failed, ("b", "ok")])
    message = out.attempts[0]["message"]
    assert "certificate" in message and "tls.ca_bundle" in message, message
    assert len(tls_up.requests(env.a)) == 0
    assert env.requests(env.b) == 1
    trusted = env.provider("a", env.a, server_url=tls_up.url, tls={"ca_bundle": cert})
    out = env.run(env.config(providers=[trusted]))
    expect_success(env, out, [("a", "ok")])
    assert len(tls_up.requests(env.a)) == 1


# name → (case, modes). The ids read fault[<protocol>-<name>].
FAULTS = {
    "429": (case_429, BOTH),
    "500": (case_5xx(500), BOTH),
    "502": (case_5xx(502), BOTH),
    "503": (case_5xx(503), BOTH),
    "529": (case_5xx(529), BOTH),
    "refused": (case_refused, BOTH),
    "first-byte-timeout": (case_first_byte_timeout, BOTH),
    "stall": (case_stall, (STREAM,)),
    "disconnect": (case_disconnect, BOTH),
    "malformed-first": (case_malformed_first, BOTH),
    "malformed-after-delta": (case_malformed_after_delta, (STREAM,)),
    "truncated": (case_truncated, BOTH),
    "too-large": (case_too_large, BOTH),
    "error-event-first": (case_error_event_first, (STREAM,)),
    "error-event-after-delta": (case_error_event_after_delta, (STREAM,)),
    "tls": (case_tls, BOTH),
}


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make the test certificate")
    from upstream import FakeUpstream, self_signed_certificate
    cert, key = self_signed_certificate(str(tmp_path_factory.mktemp("fault-tls")))
    with FakeUpstream(tls=(cert, key)) as server:
        yield server, cert


@pytest.mark.parametrize("proto,fault", [pytest.param(p, f, id="%s-%s" % (p, f)) for f in FAULTS for p in NETWORK])
def test_fault(request, up, proto, fault):
    case, modes = FAULTS[fault]
    tls = None
    if fault == "tls":
        tls = request.getfixturevalue("tls_upstream")
        tls[0].reset()
    run_modes(modes, lambda mode: case(Env(up, proto, mode, tls)))


def test_matrix_covers_every_protocol_and_fault():
    """The matrix the issue asks for: this module's faults are the documented ones."""
    assert len(NETWORK) >= 12 or "azure" not in NETWORK
    assert set(FAULTS) == {"429", "500", "502", "503", "529", "refused", "first-byte-timeout", "stall",
                           "disconnect", "malformed-first", "malformed-after-delta", "truncated",
                           "too-large", "error-event-first", "error-event-after-delta", "tls"}
