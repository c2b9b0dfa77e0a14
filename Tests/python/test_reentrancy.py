# SPDX-License-Identifier: Apache-2.0
"""Library calls from inside the library's callbacks: the log callback runs with no library lock
held (a call that logs, or waits for the I/O thread, returns), and a blocking call made where
it would wait for itself (on a router's I/O thread) raises WouldDeadlockError at once."""

import threading

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import mock_config, reply_text, user  # noqa: E402


def within(seconds, body):
    """Runs body on a daemon thread: a deadlock fails the test instead of hanging the suite."""
    outcome = []

    def run():
        try:
            body()
            outcome.append(None)
        except BaseException as exc:  # re-raised on the test's thread
            outcome.append(exc)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if not outcome:
        pytest.fail("deadlock: did not return within %d s" % seconds)
    if outcome[0] is not None:
        raise outcome[0]


def test_log_callback_may_call_the_router():
    within(60, log_callback_may_call_the_router)


def log_callback_may_call_the_router():
    main = threading.get_ident()
    on_main, on_io = [], []
    router_box = []

    def on_log(level, message):
        if not router_box:
            return
        mine = on_main if threading.get_ident() == main else on_io
        if len(mine) >= 3:
            return
        router = router_box[0]
        try:
            router.stats()  # no lock of the library is held: returns
            mine.append(reply_text(router.complete(user("from the log"))))
        except providermux.WouldDeadlockError as err:
            mine.append(err)

    providermux.set_log_callback(on_log, providermux.LOG_TRACE)
    try:
        with providermux.Router(mock_config()) as router:
            router_box.append(router)
            router.update_routing({"strategy": "round_robin"})  # logs on this thread
            for _ in range(5):  # the I/O thread logs each attempt
                router.complete(user("hi"))
            assert reply_text(router.complete(user("still"))) == "mock: still"
    finally:
        providermux.set_log_callback(None)
    # On this thread the blocking call works; on the I/O thread it refuses instead of hanging.
    assert on_main and all(r == "mock: from the log" for r in on_main), on_main
    assert on_io, "no line was delivered on the I/O thread"
    for err in on_io:
        assert isinstance(err, providermux.WouldDeadlockError), err
        assert err.code == providermux.ERR_WOULD_DEADLOCK
        assert err.message.startswith("pmx_router_complete called on the router's I/O thread")


def test_set_log_callback_from_inside_the_log_callback():
    within(60, set_log_callback_from_inside_the_log_callback)


def set_log_callback_from_inside_the_log_callback():
    first, second = [], []

    def later(level, message):
        second.append(message)

    def switch(level, message):
        first.append(message)
        if len(first) == 1:
            providermux.set_log_callback(later, providermux.LOG_INFO)

    providermux.set_log_callback(switch, providermux.LOG_INFO)
    try:
        with providermux.Router(mock_config()) as router:
            router.update_routing({"strategy": "round_robin"})
            router.update_routing({"strategy": "priority"})
    finally:
        providermux.set_log_callback(None)
    assert len(first) == 1, first
    assert "routing updated" in second, second
