# SPDX-License-Identifier: Apache-2.0
"""Shared state on Redis (issue 17): two routers in two PROCESSES on one real redis-server share
rpm, budget, breaker, 429 cooldown and cache; Redis killed mid-run → requests go on with local
state (degraded, WARN once, health and stats say it); restarted → sharing resumes. Also: the
library runs without hiredis when `shared` is not configured, the Redis password never shows,
keys stay under key_prefix and no API key reaches Redis."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

providermux = pytest.importorskip("providermux")

from redis_support import RedisServer, Worker  # noqa: E402

SECRET_KEY = "sk-shared-test-NEVER-IN-REDIS-77aa"


@pytest.fixture
def redis():
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


def config(redis, *providers, prefix="t:", **sections):
    c = {"providers": list(providers) or [{"name": "a", "type": "mock"}],
         "retry": {"max_attempts": 1, "initial_backoff_ms": 1, "max_backoff_ms": 1, "jitter": 0.0},
         "shared": {"redis": redis.url, "key_prefix": prefix, "timeout_ms": 200, "reconnect_ms": 50}}
    c.update(sections)
    return c


def pair(cfg, **kw):
    a, b = Worker(cfg, **kw), Worker(cfg, **kw)
    assert a.ready["ok"] and b.ready["ok"], (a.ready, b.ready)
    return a, b


def test_two_processes_share_one_rpm(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "limits": {"rpm": 2}})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["ok"] and b.complete()["ok"]
        third = a.complete()
        assert not third["ok"] and third["code"] == providermux.ERR_RATE_LIMITED, third
        assert "(shared)" in third["message"]
        # Local state alone would let the other process through: its own bucket is still full.
        fourth = b.complete()
        assert not fourth["ok"] and fourth["code"] == providermux.ERR_RATE_LIMITED, fourth
        a.close(); b.close()


def test_two_processes_share_one_budget(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "models": ["m"]},
                 pricing={"a/m": {"input_per_mtok": 1000000, "output_per_mtok": 0}},
                 budget={"usd": 0.5, "window": "1h"})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["ok"]
        refused = b.complete()  # b never spent anything itself
        assert not refused["ok"] and refused["code"] == providermux.ERR_BUDGET_EXCEEDED, refused
        stats = a.call("stats")["stats"]
        assert stats["shared"]["redis"] == "connected"
        a.close(); b.close()


def test_two_processes_share_one_tpm_and_one_lane_budget(redis):
    tpm = config(redis, {"name": "a", "type": "mock", "limits": {"tpm": 60}})
    a, b = pair(tpm)
    with a, b:
        long_text = "x" * 160  # estimated at 40 tokens: one request fits in 60, two do not
        assert a.complete(long_text)["ok"]
        r = b.complete(long_text)
        assert r["code"] == providermux.ERR_RATE_LIMITED and "(shared)" in r["message"], r
        a.close(); b.close()
    lanes = config(redis, {"name": "a", "type": "mock", "models": ["m"]},
                   pricing={"a/m": {"input_per_mtok": 1000000, "output_per_mtok": 0}},
                   routing={"lanes": {"paid": {"providers": ["a"], "budget": {"usd": 0.5, "window": "1h"}},
                                      "free": {"providers": ["a"]}}})
    a, b = pair(lanes)
    with a, b:
        assert a.complete(route={"lane": "paid"})["ok"]
        r = b.complete(route={"lane": "paid"})
        assert r["code"] == providermux.ERR_BUDGET_EXCEEDED, r
        assert b.complete(route={"lane": "free"})["ok"]  # another lane's budget is its own
        a.close(); b.close()


def test_one_half_open_probe_across_processes(redis):
    """After the cooldown exactly one process probes; the other is refused while the probe runs,
    and the probe's success closes the circuit for both."""
    cfg = config(redis, {"name": "p", "type": "mock", "reply": "one two three four", "token_delay_ms": 150,
                         "script": [{"status": 503}]},
                 circuit_breaker={"consecutive_failures": 1, "cooldown_ms": 300})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["code"] == providermux.ERR_UPSTREAM_SERVER  # opens the shared circuit
        time.sleep(0.4)  # past the cooldown
        a.send("stream", request={"messages": [{"role": "user", "content": "probe"}]})
        time.sleep(0.2)  # a's probe is streaming (token_delay_ms)
        r = b.complete()
        assert r["code"] == providermux.ERR_CIRCUIT_OPEN and "probe still in flight" in r["message"], r
        assert a.result()["ok"]
        # Closed again, for b too: b is admitted (and meets its own mock's scripted 503).
        assert b.complete()["code"] == providermux.ERR_UPSTREAM_SERVER
        a.close(); b.close()


def test_two_processes_share_one_breaker(redis):
    cfg = config(redis, {"name": "bad", "type": "mock", "script": [{"status": 503, "times": 100}]},
                 circuit_breaker={"consecutive_failures": 2, "cooldown_ms": 60000})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["code"] == providermux.ERR_UPSTREAM_SERVER
        assert b.complete()["code"] == providermux.ERR_UPSTREAM_SERVER  # the second failure, elsewhere
        for w in (a, b):
            r = w.complete()
            assert r["code"] == providermux.ERR_CIRCUIT_OPEN, r
            assert "half-opens in" in r["message"]
        warns = [m for level, m in a.call("logs")["logs"] + b.call("logs")["logs"] if "shared circuit bad/" in m]
        assert any("closed → open" in m for m in warns), warns
        a.close(); b.close()


def test_a_429_cooldown_is_shared(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "script": [{"status": 429, "retry_after_ms": 60000}]})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["code"] == providermux.ERR_RATE_LIMITED
        cooled = b.complete()  # b's mock would answer: its script has not run in b
        assert not cooled["ok"] and cooled["code"] == providermux.ERR_RATE_LIMITED, cooled
        assert "cooldown" in cooled["message"]
        a.close(); b.close()


def test_the_response_cache_is_shared(redis):
    first = config(redis, {"name": "a", "type": "mock", "reply": "answer from A"}, cache={"enabled": True})
    second = config(redis, {"name": "a", "type": "mock", "reply": "answer from B"}, cache={"enabled": True})
    a, b = Worker(first), Worker(second)
    with a, b:
        assert a.complete("same question")["content"] == "answer from A"
        hit = b.complete("same question")
        assert hit["ok"] and hit["cached"] and hit["content"] == "answer from A", hit
        assert b.complete("another question")["content"] == "answer from B"
        assert b.call("stats")["stats"]["shared"]["cache_hits"] == 1
        a.close(); b.close()


def test_the_shared_cache_keeps_at_most_max_entries(redis):
    """cache.max_entries bounds the shared cache across processes: a store beyond it removes the
    entries stored first; the index of entries (a sorted set by expiry) is trimmed with it."""
    cfg = config(redis, {"name": "a", "type": "mock"}, cache={"enabled": True, "max_entries": 3})
    a, b = pair(cfg)
    with a, b:
        for i in range(3):
            assert not a.complete(f"question {i}")["cached"]
        for i in range(3, 5):
            assert not b.complete(f"question {i}")["cached"]
        a.call("stats"); b.call("stats")  # calls after the write-behind stores: they have reached the server
        entries = [k for k in redis.command("KEYS", "t:cache:*") if k != "t:cache-index"]
        assert len(entries) == 3, entries
        assert redis.command("ZCARD", "t:cache-index") == 3
        # Scored in microseconds, every score its own: stores pipelined within one millisecond
        # once tied, and a tie evicted by key name instead of by age.
        scores = [float(s) for s in redis.command("ZRANGE", "t:cache-index", 0, -1, "WITHSCORES")[1::2]]
        assert len(set(scores)) == 3 and min(scores) > 1e15, scores
        # The first two stored are gone, for both processes; the newest are answered from Redis.
        assert a.complete("question 4")["cached"] and b.complete("question 2")["cached"]
        assert not b.complete("question 0")["cached"]
        # An entry that expired on its own leaves the index at the next store (scored by expiry).
        redis.command("ZADD", "t:cache-index", 1, "t:cache:gone")
        assert not a.complete("question 9")["cached"]
        a.call("stats")
        assert redis.command("ZSCORE", "t:cache-index", "t:cache:gone") is None
        assert redis.command("ZCARD", "t:cache-index") == 3
        a.close(); b.close()


def test_health_shows_the_shared_circuits_and_rate_limits(redis):
    """With `shared`, health reads the circuits and rate limits from Redis (what admission uses),
    not this process's local objects, which the other process's failures never touched."""
    cfg = config(redis, {"name": "bad", "type": "mock", "script": [{"status": 503, "times": 2}], "limits": {"rpm": 5}},
                 circuit_breaker={"consecutive_failures": 2, "cooldown_ms": 60000})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["code"] == providermux.ERR_UPSTREAM_SERVER
        assert a.complete()["code"] == providermux.ERR_UPSTREAM_SERVER  # opens the shared circuit
        assert b.complete()["code"] == providermux.ERR_CIRCUIT_OPEN  # b plans the series, refused on Redis
        a.call("stats")  # a call after a's write-behind outcome
        p = b.call("health")["health"]["providers"][0]
        assert p["state_source"] == "shared", p
        (model, circuit), = p["circuits"].items()
        assert circuit["state"] == "open" and circuit["opened_count"] == 1, circuit
        assert circuit["window_requests"] == 2 and circuit["window_failures"] == 2 and 0 < circuit["retry_in_ms"] <= 60000
        # Two of the five requests a minute were taken by a (b's refused one took none).
        assert p["rate_limit"]["rpm"] == 5 and 3 <= p["rate_limit"]["requests_available"] < 3.1, p["rate_limit"]
        assert p["rate_limit"]["cooldown_ms"] == 0
        # Stats stay local (they never wait for Redis): b's own breaker saw nothing.
        stats = b.call("stats")["stats"]
        assert stats["shared"]["redis"] == "connected"
        redis.stop()
        p = b.call("health")["health"]["providers"][0]
        assert p["state_source"] == "local" and p["rate_limit"]["requests_available"] == 5, p
        a.close(); b.close()


def test_health_reads_many_providers_in_short_calls(redis):
    """300 providers: health reads their shared rate limits and circuits (600 keys: every
    provider was a candidate, so each has a breaker) in three view calls of at most 256 keys
    (each within timeout_ms), not one long script, and shows every one as shared."""
    providers = [{"name": f"p{i:03}", "type": "mock", "limits": {"rpm": 7}} for i in range(300)]
    cfg = config(redis, *providers, routing={"strategy": "priority"})
    with Worker(cfg) as a:
        assert a.complete()["provider"] == "p000"
        a.call("stats")
        redis.command("CONFIG", "RESETSTAT")
        listed = a.call("health")["health"]["providers"]
        stats = redis.command("INFO", "commandstats")
        calls = re.search(r"cmdstat_evalsha:calls=(\d+)", stats)
        assert calls and int(calls.group(1)) == 3, stats
        assert len(listed) == 300 and all(p["state_source"] == "shared" and len(p["circuits"]) == 1 for p in listed)
        assert 6 <= listed[0]["rate_limit"]["requests_available"] < 6.1 and listed[1]["rate_limit"]["requests_available"] == 7
        a.close()


def test_redis_killed_mid_run_then_restarted(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "limits": {"rpm": 3}})
    a, b = pair(cfg)
    with a, b:
        assert a.complete()["ok"] and b.complete()["ok"]
        redis.stop()
        # Down: each process goes on with its own bucket (3 rpm each, full), nothing fails.
        for w in (a, b):
            for _ in range(3):
                r = w.complete()
                assert r["ok"], r
            health = w.call("health")["health"]
            assert health["shared"]["redis"] == "degraded"
            assert "last_error" in health["shared"]
            stats = w.call("stats")["stats"]["shared"]
            assert stats["transitions"] == 1 and stats["fallbacks"] >= 3
            warns = [m for level, m in w.call("logs")["logs"] if level == providermux.LOG_WARN and "unavailable" in m]
            assert len(warns) == 1, warns  # once per transition, not per request
            metrics = w.call("metrics")["text"]
            assert re.search(r"^pmx_shared_redis_connected 0$", metrics, re.M), metrics
            assert re.search(r"^pmx_shared_transitions_total 1$", metrics, re.M)
            assert re.search(r"^pmx_shared_fallbacks_total [1-9]", metrics, re.M)
        redis.start()
        time.sleep(0.1)  # reconnect_ms is 50
        # Back: one shared bucket again (the restarted server starts empty, rpm 3 for both).
        assert a.complete()["ok"] and b.complete()["ok"] and a.complete()["ok"]
        r = b.complete()
        assert r["code"] == providermux.ERR_RATE_LIMITED and "(shared)" in r["message"], r
        for w in (a, b):
            assert w.call("health")["health"]["shared"]["redis"] == "connected"
            assert w.call("stats")["stats"]["shared"]["transitions"] == 2
            assert re.search(r"^pmx_shared_redis_connected 1$", w.call("metrics")["text"], re.M)
            assert any("sharing resumed" in m for _, m in w.call("logs")["logs"])
        a.close(); b.close()


def test_redis_killed_while_an_attempt_is_in_flight(redis):
    """The attempt's outcome is written to a connection Redis has closed, and the next call
    writes again: the library must not let SIGPIPE kill the host (the worker restores SIGPIPE's
    default action, as a C program has it)."""
    cfg = config(redis, {"name": "a", "type": "mock", "reply": "one two three", "token_delay_ms": 300})
    with Worker(cfg) as a:
        assert a.complete()["ok"]
        a.send("stream", request={"messages": [{"role": "user", "content": "slow"}]})
        time.sleep(0.2)  # admitted (one round-trip), now streaming its tokens
        redis.stop()
        assert a.result()["ok"]
        for _ in range(3):
            r = a.complete()
            assert r["ok"], r
        assert a.proc.poll() is None
        assert a.call("health")["health"]["shared"]["redis"] == "degraded"
        a.close()


def test_a_slow_redis_is_left_after_timeout_ms(redis):
    """A server that does not answer within timeout_ms (CLIENT PAUSE holds it) is degraded for
    that call; the request goes on locally, and sharing resumes once it answers again."""
    cfg = config(redis, {"name": "a", "type": "mock", "limits": {"rpm": 1000}})
    cfg["shared"].update(timeout_ms=100, reconnect_ms=1500)
    with Worker(cfg) as a:
        assert a.complete()["ok"]
        redis.command("CLIENT", "PAUSE", "1000", "ALL")  # every client's commands wait 1 s
        r = a.complete()
        assert r["ok"], r
        shared = a.call("stats")["stats"]["shared"]
        assert shared["redis"] == "degraded" and shared["transitions"] == 1, shared
        assert shared["last_error"] == "no answer within timeout_ms (100 ms)", shared
        time.sleep(1.5)  # the pause and reconnect_ms are over
        assert a.complete()["ok"]
        assert a.call("health")["health"]["shared"]["redis"] == "connected"
        a.close()


def test_a_late_answer_resumes_sharing_on_the_same_connection(redis):
    """A call past timeout_ms keeps its connection: once the server answers (a CLIENT PAUSE of
    300 ms is over), the next call reads the late reply, drops it and shares again at once —
    not after reconnect_ms (60 s here), and without a new connection."""
    cfg = config(redis, {"name": "a", "type": "mock", "limits": {"rpm": 1000}})
    cfg["shared"].update(timeout_ms=100, reconnect_ms=60000)

    def connections_received():
        return int(re.search(r"total_connections_received:(\d+)", redis.command("INFO", "stats")).group(1))

    with Worker(cfg) as a:
        assert a.complete()["ok"]
        before = connections_received()  # each redis.command() is one connection of its own
        redis.command("CLIENT", "PAUSE", "300", "ALL")
        r = a.complete()
        assert r["ok"], r
        shared = a.call("stats")["stats"]["shared"]
        assert shared["redis"] == "degraded" and shared["transitions"] == 1, shared
        assert shared["last_error"] == "no answer within timeout_ms (100 ms)", shared
        time.sleep(0.6)  # the pause is over: the late reply is on the socket
        assert a.complete()["ok"]
        shared = a.call("stats")["stats"]["shared"]
        assert shared["redis"] == "connected" and shared["transitions"] == 2, shared
        assert connections_received() == before + 2  # PAUSE's and this INFO's: the router's is the same
        assert any("late replies read from" in m and "sharing resumed" in m for _, m in a.call("logs")["logs"])
        a.close()


def test_flushed_scripts_are_loaded_again(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "limits": {"rpm": 2}})
    with Worker(cfg) as a:
        assert a.complete()["ok"]
        redis.command("SCRIPT", "FLUSH")
        redis.command("FLUSHALL")
        assert a.complete()["ok"] and a.complete()["ok"]  # the flush emptied the bucket's history
        assert a.complete()["code"] == providermux.ERR_RATE_LIMITED
        assert a.call("stats")["stats"]["shared"]["transitions"] == 0  # NOSCRIPT is no outage
        a.close()


def test_scripts_flushed_while_an_outcome_is_on_its_way(redis):
    """SCRIPT FLUSH while an attempt runs: its outcome (write-behind) and the next admission
    both meet NOSCRIPT; the scripts are loaded again, both are sent again, the link stays up."""
    cfg = config(redis, {"name": "a", "type": "mock", "reply": "one two three", "token_delay_ms": 150})
    with Worker(cfg) as a:
        assert a.complete()["ok"]
        a.send("stream", request={"messages": [{"role": "user", "content": "slow"}]})
        time.sleep(0.2)  # admitted, streaming
        redis.command("SCRIPT", "FLUSH")
        assert a.result()["ok"]  # its outcome went out with the old SHA
        assert a.complete()["ok"]
        assert a.complete()["ok"]
        shared = a.call("stats")["stats"]["shared"]
        assert shared["redis"] == "connected" and shared["transitions"] == 0 and shared["fallbacks"] == 0, shared
        # Every success reached the breaker's window (the resent outcome included).
        window = redis.command("HGETALL", "t:cb:a/default")
        fields = dict(zip(window[::2], window[1::2]))
        assert sum(int(v) for k, v in fields.items() if k.startswith("a")) == 4, fields
        a.close()


def test_keys_stay_under_the_prefix_and_hold_no_api_key(redis):
    cfg = config(redis, {"name": "a", "type": "mock", "api_key": SECRET_KEY, "limits": {"rpm": 100, "tpm": 100000}},
                 prefix="myapp:pmx:", cache={"enabled": True},
                 budget={"usd": 10, "window": "1h"}, pricing={"a/*": {"input_per_mtok": 1, "output_per_mtok": 1}})
    with Worker(cfg) as a:
        assert a.complete(f"say {SECRET_KEY}")["ok"] is not None
        assert a.complete("plain")["ok"]
        a.call("stats")  # a call after the write-behind updates: they have reached the server
        keys = redis.command("KEYS", "*")
        assert keys and all(k.startswith("myapp:pmx:") for k in keys), keys
        for k in keys:
            kind = redis.command("TYPE", k)
            values = {"hash": lambda: redis.command("HGETALL", k), "zset": lambda: redis.command("ZRANGE", k, 0, -1),
                      }.get(kind, lambda: [redis.command("GET", k)])()
            assert SECRET_KEY not in json.dumps(values), k
        a.close()


def test_the_password_is_masked_everywhere(redis):
    password = "pw-Redis-Secret-0042xyz"
    cfg = config(redis)
    cfg["shared"]["redis"] = f"redis://:{password}@127.0.0.1:{redis.port}/0"
    with Worker(cfg) as a:  # the server has no password: AUTH fails, the router goes on locally
        assert a.ready["ok"]
        assert a.complete()["ok"]
        health = a.call("health")["health"]["shared"]
        logs = a.call("logs")["logs"]
        assert health["redis"] == "degraded" and "AUTH" in health["last_error"]
        assert health["url"] == f"redis://:****@127.0.0.1:{redis.port}/0"
        assert password not in json.dumps(health) and password not in json.dumps(logs)
        a.close()
    bad = config(redis)
    bad["shared"]["redis"] = f"redis://:{password}@127.0.0.1:99999/0"
    with pytest.raises(providermux.ProviderMuxError) as info:
        providermux.Router(bad)
    assert info.value.code == providermux.ERR_CONFIG
    assert info.value.message.startswith("shared.redis:") and "port" in info.value.message
    assert password not in info.value.message


@pytest.mark.parametrize("shared, field", [
    ({}, "shared.redis"),
    ({"redis": "http://127.0.0.1:6379"}, "shared.redis"),
    ({"redis": "rediss://127.0.0.1:6379"}, "shared.redis"),
    ({"redis": "redis://127.0.0.1:6379/x"}, "shared.redis"),
    ({"redis": "redis://:6379"}, "shared.redis"),
    ({"redis": "redis://127.0.0.1", "timeout_ms": 0}, "shared.timeout_ms"),
    ({"redis": "redis://127.0.0.1", "key_prefix": "x" * 300}, "shared.key_prefix"),
    ({"redis": "redis://127.0.0.1", "ttl": 5}, "shared.ttl"),
])
def test_bad_shared_config_names_the_field(shared, field):
    with pytest.raises(providermux.ProviderMuxError) as info:
        providermux.Router({"providers": [], "shared": shared})
    assert info.value.code == providermux.ERR_CONFIG
    assert info.value.message.startswith(field), info.value.message


def test_env_expansion_in_the_redis_url(redis, monkeypatch):
    monkeypatch.setenv("PMX_TEST_REDIS_URL", redis.url)
    with providermux.Router({"providers": [{"name": "a", "type": "mock"}],
                             "shared": {"redis": "${PMX_TEST_REDIS_URL}"}}) as router:
        assert router.health()["shared"]["redis"] == "connected"


def test_runs_without_hiredis_unless_shared_is_configured(redis):
    """A process where libhiredis cannot be loaded: a router without `shared` works; one with
    it is a config error naming the missing library. And the .so does not NEED hiredis."""
    script = (
        "import json, providermux\n"
        "with providermux.Router({'providers': [{'name': 'a', 'type': 'mock'}]}) as r:\n"
        "    print(json.dumps(r.complete({'messages': [{'role': 'user', 'content': 'x'}]})['provider']))\n"
        "try:\n"
        f"    providermux.Router({{'providers': [], 'shared': {{'redis': '{redis.url}'}}}})\n"
        "except providermux.ProviderMuxError as e:\n"
        "    print(json.dumps([e.code, e.message]))\n")
    env = dict(os.environ, PMX_HIREDIS_LIBRARY="/nonexistent/libhiredis.so.0.14")
    bindings = os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python")
    env["PYTHONPATH"] = bindings + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert json.loads(lines[0]) == "a"
    code, message = json.loads(lines[1])
    assert code == providermux.ERR_CONFIG and "Redis client library is missing" in message, message
    from providermux._lib import library_path
    needed = subprocess.run(["readelf", "-d", library_path], capture_output=True, text=True).stdout
    assert "NEEDED" in needed and "hiredis" not in needed
