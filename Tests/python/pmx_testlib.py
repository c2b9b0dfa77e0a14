# SPDX-License-Identifier: Apache-2.0
"""Helpers shared by the Python ABI tests of libprovidermux (imported by conftest.py and the
test modules; a module of its own so that it never clashes with another directory's conftest).

The library is the one named by $PROVIDERMUX_LIB (set by ctest), else whatever the binding's
loader finds (bindings/python/providermux). Without a library the tests are skipped, unless
$PROVIDERMUX_LIB was given explicitly: then a load failure is an error.
"""

import json
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINDINGS = os.path.join(ROOT, "bindings", "python")
UPSTREAM_DIR = os.path.join(ROOT, "Tests", "upstream")
for _path in (BINDINGS, UPSTREAM_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)

try:
    import providermux  # noqa: F401
except OSError as _exc:
    if os.environ.get("PROVIDERMUX_LIB"):
        raise
    # Make `pytest.importorskip("providermux")` in the test modules skip cleanly.
    LOAD_ERROR = str(_exc)
    sys.modules["providermux"] = None
else:
    LOAD_ERROR = None

SECRET = "sk-test-SECRET-3f9a1c7e5b"

# Small back-offs keep retry tests fast.
FAST_RETRY = {"initial_backoff_ms": 10, "max_backoff_ms": 50, "jitter": 0.0}


def mock_config(*providers, **sections):
    """A router config with the given provider objects (default: one plain mock)."""
    if not providers:
        providers = ({"name": "mock", "type": "mock"},)
    config = {"providers": list(providers), "retry": dict(FAST_RETRY)}
    for key, value in sections.items():
        if key == "retry":
            config["retry"].update(value)
        else:
            config[key] = value
    return config


def user(text, **extra):
    request = {"messages": [{"role": "user", "content": text}]}
    request.update(extra)
    return request


def reply_text(response):
    return response["choices"][0]["message"]["content"]


def closed_port():
    """A loopback port nobody listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def dumps(document):
    return json.dumps(document, ensure_ascii=False)


def drain(stream):
    """Every event of a stream, its `error` terminal included: iterating a stream raises on an
    `error` event (the event is the exception's `.event`); this lists it last instead."""
    import providermux
    events = []
    try:
        for event in stream:
            events.append(event)
    except providermux.ProviderMuxError as exc:
        assert exc.event is not None and exc.event["type"] == "error", exc
        events.append(exc.event)
    return events


async def adrain(stream):
    """drain() for an AsyncStream."""
    import providermux
    events = []
    try:
        async for event in stream:
            events.append(event)
    except providermux.ProviderMuxError as exc:
        assert exc.event is not None and exc.event["type"] == "error", exc
        events.append(exc.event)
    return events


def write_config(tmp_path, name, document):
    """`document` as JSON in tmp_path/name (a pathlib.Path); returns the path as a string."""
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)
