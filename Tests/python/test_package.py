# SPDX-License-Identifier: Apache-2.0
"""The pip-installable package (bindings/python): the wheel, an install into a fresh venv that
finds its own copy of the library, and the package API: typed events, the exception classes,
asyncio (acomplete, astream, cancellation)."""

import asyncio
import builtins
import gc
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

providermux = pytest.importorskip("providermux")

from pip_env import clean_env, run  # noqa: E402
from pmx_testlib import BINDINGS, ROOT, adrain, mock_config, user  # noqa: E402

HEADER = os.path.join(ROOT, "include", "providermux.h")
LONG_PROMPT = " ".join("word%d" % i for i in range(60))
SLOW = {"name": "slow", "type": "mock", "token_delay_ms": 50}


def library_file():
    """Absolute path of the library this process loaded (resolving a bare soname)."""
    path = providermux.library_path
    if os.path.isabs(path):
        return path
    with open("/proc/self/maps") as f:
        for line in f:
            if "libprovidermux" in line:
                return line.split()[-1]
    pytest.skip("cannot tell where libprovidermux was loaded from")


# -- the wheel and a fresh venv --------------------------------------------------------------

@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built by pip through hatchling and bindings/python/hatch_build.py, offline (no
    build isolation: scripts/setup.sh installs hatchling), with the library this test run uses
    (PROVIDERMUX_LIB as ctest sets it)."""
    out = tmp_path_factory.mktemp("wheel")
    lib = os.environ.get("PROVIDERMUX_LIB") or library_file()
    # The source tree is copied: a build must not need (or leave anything in) the checkout.
    src = out / "src"
    shutil.copytree(BINDINGS, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--no-index", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(src)], env=clean_env(PROVIDERMUX_LIB=lib), timeout=180)
    wheels = sorted(out.glob("providermux-*.whl"))
    assert len(wheels) == 1, wheels
    return str(wheels[0]), lib


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel):
    """A fresh venv with the wheel installed offline; returns (python, site-packages)."""
    path = tmp_path_factory.mktemp("venv") / "env"
    made = subprocess.run([sys.executable, "-m", "venv", str(path)], capture_output=True,
                          text=True, timeout=120, env=clean_env())
    if made.returncode != 0:
        pytest.skip("python3 -m venv failed (python3-venv missing?): %s" % made.stderr.strip())
    python = str(path / "bin" / "python")
    run([python, "-m", "pip", "install", "--no-index", wheel[0]], env=clean_env(), timeout=180)
    site = run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"],
               env=clean_env()).stdout.strip()
    return python, site


INSTALLED_SCRIPT = r"""
import json, sys
import providermux
config = {"providers": [{"name": "m", "type": "mock"}]}
with providermux.Router(config) as router:
    events = list(router.stream({"messages": [{"role": "user", "content": "from the venv"}]}))
with providermux.OpenAI(config) as client:  # the openai surface, without the openai package
    openai_text = client.chat.completions.create(
        model="m/x", messages=[{"role": "user", "content": "openai"}]).choices[0].message.content
maps = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libprovidermux" in line})
print(json.dumps({
    "file": providermux.__file__, "library_path": providermux.library_path, "maps": maps,
    "text": "".join(e.content or "" for e in events if e.type == "delta"),
    "types": [e["type"] for e in events], "version": providermux.version(),
    "package_version": providermux.__version__, "sys_path": sys.path,
    "openai_text": openai_text,
}))
"""


def test_installed_package_streams_with_its_own_library(venv, tmp_path):
    python, site = venv
    # -I: no PYTHONPATH, no user site, not the script's directory; the cwd is not the repo.
    result = run([python, "-I", "-c", INSTALLED_SCRIPT], env=clean_env(), cwd=str(tmp_path),
                 timeout=60)
    info = json.loads(result.stdout)
    site = os.path.realpath(site)
    assert os.path.realpath(info["file"]).startswith(site + os.sep), info
    assert not any(os.path.realpath(p) == os.path.realpath(ROOT) or
                   os.path.realpath(p).startswith(os.path.realpath(BINDINGS))
                   for p in info["sys_path"] if p), info["sys_path"]
    lib = os.path.realpath(info["library_path"])
    assert lib == os.path.join(site, "providermux", "_native", "libprovidermux.so.0"), info
    assert [os.path.realpath(p) for p in info["maps"]] == [lib], info["maps"]
    assert info["text"] == "mock: from the venv"
    assert info["types"][0] == "start" and info["types"][-1] == "done"
    assert info["openai_text"] == "mock: openai"
    assert info["version"] == providermux.version()
    assert info["package_version"] == providermux.__version__


def test_installed_package_still_honours_providermux_lib(venv, tmp_path, wheel):
    python, _site = venv
    lib = wheel[1]
    result = run([python, "-I", "-c",
                  "import os, providermux; print(providermux.library_path)"],
                 env=clean_env(PROVIDERMUX_LIB=lib), cwd=str(tmp_path), timeout=60)
    assert result.stdout.strip() == lib


def test_wheel_contents(wheel):
    path, lib = wheel
    assert re.match(r"providermux-%s-py3-none-linux_\w+\.whl$" % re.escape(
        providermux.__version__), os.path.basename(path)), path
    with zipfile.ZipFile(path) as whl:
        names = set(whl.namelist())
        dist = "providermux-%s.dist-info/" % providermux.__version__
        for name in ("providermux/__init__.py", "providermux/_lib.py", "providermux/py.typed",
                     "providermux/_native/libprovidermux.so.0", dist + "METADATA",
                     dist + "licenses/LICENSE", dist + "WHEEL", dist + "RECORD"):
            assert name in names, sorted(names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names), names
        native = whl.getinfo("providermux/_native/libprovidermux.so.0")
        # A real file (the symlinks resolved), the very library the build was given, stripped
        # (Tests/wheel checks its build id and sections).
        assert native.file_size < os.path.getsize(os.path.realpath(lib))
        assert (native.external_attr >> 16) & 0o170000 == 0o100000
        assert (native.external_attr >> 16) & 0o111
        assert whl.read(native.filename)[:4] == b"\x7fELF"
        wheel_meta = whl.read(dist + "WHEEL").decode()
        assert "Root-Is-Purelib: false" in wheel_meta
        metadata = whl.read(dist + "METADATA").decode()
        assert "Name: providermux" in metadata
        assert "Version: %s" % providermux.__version__ in metadata
        assert "\nLicense-Expression: Apache-2.0\n" in metadata
        assert "\nLicense-File: LICENSE\n" in metadata
        with open(os.path.join(BINDINGS, "LICENSE"), "rb") as f:
            assert whl.read(dist + "licenses/LICENSE") == f.read()
        record = whl.read(dist + "RECORD").decode().splitlines()
        assert sorted(line.split(",")[0] for line in record) == sorted(names)


def test_build_without_any_library_fails_clearly(tmp_path):
    """With no PROVIDERMUX_LIB, no build tree, no pkg-config hit and no build script (a copy of
    the project outside the repository), the build stops and says what to do."""
    src = tmp_path / "a" / "b" / "python"
    shutil.copytree(BINDINGS, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = clean_env(PKG_CONFIG_PATH=str(tmp_path), PKG_CONFIG_LIBDIR=str(tmp_path),
                    PROVIDERMUX_NO_BUILD="1")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-index", "--no-deps",
                             "--no-build-isolation",
                             "-w", str(tmp_path / "out"), str(src)], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert "PROVIDERMUX_LIB" in result.stdout + result.stderr


BUILD_HOOK = ("import sys; from hatchling.build import build_wheel; "
              "print(build_wheel(sys.argv[1]))")


def build_with_backend(src, out, env):
    """Calls hatchling's build_wheel hook directly; returns (wheel path, build hook log)."""
    os.makedirs(out, exist_ok=True)
    result = run([sys.executable, "-c", BUILD_HOOK, str(out)], cwd=str(src), env=env,
                 timeout=120)
    return os.path.join(str(out), result.stdout.strip().splitlines()[-1]), result.stderr


def test_library_search_order_build_tree_then_pkg_config(tmp_path, wheel):
    """Without PROVIDERMUX_LIB: ../../build/lib first (only in a checkout: ../../Package.swift),
    then `pkg-config --variable=libdir`."""
    if shutil.which("pkg-config") is None:
        pytest.skip("pkg-config is not installed")
    lib = os.path.realpath(wheel[1])
    repo = tmp_path / "repo"
    src = repo / "bindings" / "python"
    shutil.copytree(BINDINGS, src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    prefix = tmp_path / "prefix"
    (prefix / "lib" / "pkgconfig").mkdir(parents=True)
    os.symlink(lib, str(prefix / "lib" / "libprovidermux.so.0"))
    (prefix / "lib" / "pkgconfig" / "providermux.pc").write_text(
        "prefix=%s\nlibdir=${prefix}/lib\n\nName: providermux\nDescription: x\n"
        "Version: 0.1.0\nLibs: -L${libdir} -lprovidermux\n" % prefix)
    env = clean_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"), PROVIDERMUX_NO_BUILD="1")

    with zipfile.ZipFile(wheel[0]) as whl:  # the same library, stripped the same way
        shipped = whl.getinfo("providermux/_native/libprovidermux.so.0").file_size
    path, log = build_with_backend(src, tmp_path / "out1", env)
    assert "(from pkg-config)" in log, log
    with zipfile.ZipFile(path) as whl:
        assert whl.getinfo("providermux/_native/libprovidermux.so.0").file_size == shipped

    (repo / "build" / "lib").mkdir(parents=True)
    os.symlink(lib, str(repo / "build" / "lib" / "libprovidermux.so.0"))
    path, log = build_with_backend(src, tmp_path / "out2", env)
    assert "(from pkg-config)" in log, "a build/lib outside a checkout must not count: " + log
    (repo / "Package.swift").write_text("// the checkout's marker\n")
    path, log = build_with_backend(src, tmp_path / "out3", env)
    assert "(from the build tree)" in log, log
    assert "_native" not in os.listdir(str(src / "providermux")), "the build wrote into the tree"


def test_source_package_has_py_typed_and_version():
    assert os.path.isfile(os.path.join(BINDINGS, "providermux", "py.typed"))
    with open(os.path.join(BINDINGS, "pyproject.toml")) as f:
        pyproject = f.read()
    assert 'build-backend = "hatchling.build"' in pyproject
    assert re.match(r"^\d+\.\d+\.\d+$", providermux.__version__)


# -- exceptions ------------------------------------------------------------------------------

def header_codes():
    with open(HEADER, encoding="utf-8") as f:
        return {name: int(value) for name, value in
                re.findall(r"#define PMX_(ERR_\w+)\s+(-\d+)", f.read())}


def test_every_status_code_has_a_constant_and_an_exception_class():
    codes = header_codes()
    assert len(codes) >= 32, codes
    classes = set()
    for name, value in codes.items():
        assert getattr(providermux, name) == value, name
        cls = providermux.ERROR_CLASSES[value]
        assert issubclass(cls, providermux.ProviderMuxError), cls
        assert cls is not providermux.ProviderMuxError
        assert cls.default_code == value
        assert getattr(providermux, cls.__name__) is cls
        assert cls.__name__ in providermux.__all__
        assert cls.__name__ not in dir(builtins), "shadows a builtin: %s" % cls.__name__
        classes.add(cls)
    assert len(classes) == len(codes), "one class per code"
    assert set(providermux.ERROR_CLASSES) == set(codes.values())
    # Unknown codes (a newer library) still raise the base class.
    assert providermux.ProviderMuxError.class_for(-1000) is providermux.ProviderMuxError


def test_would_deadlock_maps_to_its_class():
    pm = providermux
    assert pm.ERR_WOULD_DEADLOCK == -32
    assert pm.status_name(pm.ERR_WOULD_DEADLOCK) == "PMX_ERR_WOULD_DEADLOCK"
    assert pm.ERROR_CLASSES[-32] is pm.WouldDeadlockError
    made = pm.ProviderMuxError.from_code(-32, "pmx_router_complete called on the router's I/O thread")
    assert type(made) is pm.WouldDeadlockError and made.code == -32
    assert not issubclass(pm.WouldDeadlockError, pm.UpstreamError)


def test_exception_hierarchy():
    pm = providermux
    for cls in (pm.EnvVarMissingError, pm.UnknownProviderTypeError, pm.DuplicateProviderError):
        assert issubclass(cls, pm.ConfigError)
    for cls in (pm.RateLimitedError, pm.AuthError, pm.ProviderTimeoutError,
                pm.ProviderConnectionError, pm.UpstreamServerError,
                pm.ContextLengthExceededError, pm.ContentFilteredError,
                pm.StreamInterruptedError):
        assert issubclass(cls, pm.UpstreamError)
    assert not issubclass(pm.ProviderTimeoutError, TimeoutError)
    assert not issubclass(pm.StreamCancelledError, asyncio.CancelledError)
    err = pm.RateLimitedError(message="slow down", http_status=429, provider="p", attempts=3)
    assert (err.code, err.status_name, str(err)) == (
        pm.ERR_RATE_LIMITED, "PMX_ERR_RATE_LIMITED", "PMX_ERR_RATE_LIMITED: slow down")
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is pm.RateLimitedError
    assert (copy.code, copy.message, copy.http_status, copy.provider, copy.attempts) == (
        err.code, "slow down", 429, "p", 3)
    made = pm.ProviderMuxError.from_code(pm.ERR_BUDGET_EXCEEDED, "spent")
    assert type(made) is pm.BudgetExceededError and made.message == "spent"
    # The base class built directly stays the base class (backward compatible).
    assert type(pm.ProviderMuxError(pm.ERR_TIMEOUT, "x")) is pm.ProviderMuxError


def test_bad_config_raises_config_error_naming_the_field():
    config = {"providers": [{"name": "a", "type": "mock", "weight": -2}]}
    with pytest.raises(providermux.ConfigError) as info:
        providermux.Router(config)
    assert info.value.code == providermux.ERR_CONFIG
    assert info.value.message.startswith("providers[0].weight"), info.value.message
    try:
        providermux.Router({"providers": [{"name": "a", "type": "warp-drive"}]})
    except providermux.ConfigError as err:  # a subclass of ConfigError
        assert type(err) is providermux.UnknownProviderTypeError
    else:
        pytest.fail("no error")
    with pytest.raises(providermux.InvalidJSONError):
        providermux.Router("{")
    with pytest.raises(providermux.ProviderMuxError):  # the base class still catches all
        providermux.Router({"providers": [{"name": "a", "type": "mock"}], "nope": 1})


def test_budget_exceeded_raises_its_class():
    config = {"providers": [{"name": "a", "type": "mock", "models": ["m"]}],
              "pricing": {"a/m": {"input_per_mtok": 1000000, "output_per_mtok": 0}},
              "budget": {"usd": 0.5, "window": "1h"}}
    with providermux.Router(config) as router:
        router.complete(user("spend"))
        with pytest.raises(providermux.BudgetExceededError) as info:
            router.complete(user("spend"))
        assert info.value.code == providermux.ERR_BUDGET_EXCEEDED
        # Streams check the budget before they start.
        with pytest.raises(providermux.BudgetExceededError):
            router.stream(user("spend"))
        with pytest.raises(providermux.ProviderMuxError):
            router.stream_blocking(user("spend"), lambda e: None)


def test_call_and_stream_errors_raise_their_classes():
    config = mock_config({"name": "flaky", "type": "mock", "script": [{"status": 429, "times": 9}]},
                         retry={"max_attempts": 2})
    with providermux.Router(config) as router:
        with pytest.raises(providermux.RateLimitedError) as info:
            router.complete(user("x"))
        assert (info.value.http_status, info.value.provider, info.value.attempts) == (
            429, "flaky", 2)
        with pytest.raises(providermux.RateLimitedError):
            router.stream_blocking(user("x"), lambda e: None)
        stream = router.stream(user("x"))
        with pytest.raises(providermux.UpstreamError) as info:
            stream.result()
        assert isinstance(info.value, providermux.RateLimitedError)
        assert info.value.details["type"] == "error"
        with pytest.raises(providermux.InvalidRequestError):
            router.complete({"messages": []})
        with pytest.raises(providermux.ProviderNotFoundError):
            router.remove_provider("ghost")
        with pytest.raises(providermux.DuplicateProviderError):
            router.add_provider({"name": "flaky", "type": "mock"})
        with pytest.raises(providermux.InvalidArgumentError):
            router._stats_text({"format": "xml"})
    with pytest.raises(providermux.RouterClosedError):
        router.complete(user("x"))


def test_cancelled_stream_result_raises_stream_cancelled():
    with providermux.Router(mock_config(SLOW)) as router:
        stream = router.stream(user(LONG_PROMPT))
        next(stream)
        stream.cancel()
        with pytest.raises(providermux.StreamCancelledError):
            stream.result()


# -- typed events and responses --------------------------------------------------------------

def test_events_are_typed_dicts():
    with providermux.Router(mock_config()) as router:
        response = router.complete(user("typed"))
        events = list(router.stream(user("typed events")))
        blocking = []
        router.stream_blocking(user("typed"), blocking.append)
    assert isinstance(response, providermux.Response) and isinstance(response, dict)
    assert response.content == "mock: typed" == response["choices"][0]["message"]["content"]
    assert response.provider == "mock" and response.usage["total_tokens"] > 0
    assert response.finish_reason == "stop" and response.tool_calls == []
    assert [a["outcome"] for a in response.attempts] == ["ok"]
    start, done = events[0], events[-1]
    assert type(start) is providermux.StartEvent and start.provider == "mock"
    assert start.attempt == 1 and start == dict(start) and start.type == "start"
    deltas = [e for e in events if isinstance(e, providermux.DeltaEvent)]
    assert "".join(d.content for d in deltas) == "mock: typed events"
    assert all(d.type == "delta" and d["type"] == "delta" for d in deltas)
    assert type(done) is providermux.DoneEvent and done.is_terminal and not start.is_terminal
    assert isinstance(done.response, providermux.Response)
    assert done.response.content == "mock: typed events" and done.response.ttft_ms is not None
    assert json.loads(json.dumps(done)) == done  # still plain JSON
    assert all(isinstance(e, providermux.Event) for e in blocking)
    assert done.error is None


# -- callbacks -------------------------------------------------------------------------------

def test_blocking_stream_callback_exception_propagates():
    class Boom(Exception):
        pass

    def on_event(event):
        if event.type == "delta":
            raise Boom("from the callback")

    with providermux.Router(mock_config(SLOW)) as router:
        started = time.monotonic()
        with pytest.raises(Boom, match="from the callback"):
            router.stream_blocking(user(LONG_PROMPT), on_event)
        assert time.monotonic() - started < 2.0, "the stream was not cancelled"
        assert router.complete(user("again")).content == "mock: again"


def test_async_stream_callback_survives_gc():
    """Nothing but the library holds the C callback of a running stream: it must stay alive."""
    config = mock_config({"name": "m", "type": "mock", "token_delay_ms": 5})
    with providermux.Router(config) as router:
        stream = router.stream(user("a b c d e f"))
        seen = []
        for event in stream:
            gc.collect()
            seen.append(event.type)
    assert seen[-1] == "done"
    assert providermux._live_callbacks == {}


# -- asyncio ---------------------------------------------------------------------------------

def arun(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def ticking(body):
    """Runs body() while a ticker counts 10 ms sleeps: a blocked loop would stop counting."""
    ticks = [0]

    async def ticker():
        while True:
            await asyncio.sleep(0.01)
            ticks[0] += 1

    task = asyncio.ensure_future(ticker())
    try:
        result = await body()
    finally:
        task.cancel()
    return result, ticks[0]


def test_acomplete():
    async def main():
        async with providermux.Router(mock_config()) as router:
            first = await router.acomplete(user("async hello"))
            many = await asyncio.gather(*(router.acomplete(user("n%d" % i)) for i in range(20)))
            return first, many

    first, many = arun(main())
    assert isinstance(first, providermux.Response)
    assert first.content == "mock: async hello" and first.provider == "mock"
    assert [r.content for r in many] == ["mock: n%d" % i for i in range(20)]
    assert providermux._live_callbacks == {}


def test_acomplete_does_not_block_the_loop():
    async def main():
        config = mock_config({"name": "slow", "type": "mock", "token_delay_ms": 40})
        with providermux.Router(config) as router:
            return await ticking(lambda: router.acomplete(user("a b c d e f g h")))

    (response, ticks) = arun(main())
    assert response.content == "mock: a b c d e f g h"
    # about 10 deltas x 40 ms = 400 ms of streaming: the ticker ran meanwhile
    assert ticks >= 10, ticks


def test_acomplete_errors_raise_their_classes():
    async def main():
        config = mock_config({"name": "down", "type": "mock",
                              "script": [{"status": 503, "times": 9}]}, retry={"max_attempts": 1})
        with providermux.Router(config) as router:
            with pytest.raises(providermux.UpstreamServerError) as info:
                await router.acomplete(user("x"))
            assert info.value.provider == "down" and info.value.http_status == 503
            with pytest.raises(providermux.InvalidRequestError):
                await router.acomplete({"messages": []})

    arun(main())
    assert providermux._live_callbacks == {}


def test_acomplete_on_event_exception_propagates_and_cancels():
    class Boom(Exception):
        pass

    seen = []

    def on_event(event):
        seen.append(event.type)
        if event.type == "delta":
            raise Boom("stop")

    async def main():
        with providermux.Router(mock_config(SLOW)) as router:
            started = time.monotonic()
            with pytest.raises(Boom):
                await router.acomplete(user(LONG_PROMPT), on_event=on_event)
            elapsed = time.monotonic() - started
            # A truthy return cancels too.
            with pytest.raises(providermux.StreamCancelledError):
                await router.acomplete(user(LONG_PROMPT), on_event=lambda e: e.type == "delta")
            return elapsed

    elapsed = arun(main())
    assert elapsed < 2.0, "60 tokens x 50 ms: the stream was not cancelled"
    assert seen == ["start", "delta"]
    assert providermux._live_callbacks == {}


def test_astream_events():
    async def main():
        with providermux.Router(mock_config()) as router:
            stream = router.astream(user("async stream"))
            events = [event async for event in stream]
            assert await stream.result() == stream.response
            async for _ in stream:
                pytest.fail("iteration ends after the terminal event")
            return stream, events

    stream, events = arun(main())
    assert [e.type for e in events][0] == "start" and events[-1].type == "done"
    assert "".join(e.content or "" for e in events if e.type == "delta") == "mock: async stream"
    assert stream.response.content == "mock: async stream" and stream.error is None
    assert stream.terminal is events[-1]
    assert providermux._live_callbacks == {}


def test_astream_error_event_then_result_raises():
    async def main():
        config = mock_config({"name": "dropper", "type": "mock",
                              "script": [{"drop_after_deltas": 2}]})
        with providermux.Router(config) as router:
            stream = router.astream(user(LONG_PROMPT))
            events = await adrain(stream)
            with pytest.raises(providermux.StreamInterruptedError):
                await stream.result()
            return events

    events = arun(main())
    assert isinstance(events[-1], providermux.ErrorEvent)
    assert events[-1].code == providermux.ERR_STREAM_INTERRUPTED


def test_astream_input_errors_raise_at_once():
    async def main():
        with providermux.Router(mock_config()) as router:
            with pytest.raises(providermux.InvalidRequestError):
                router.astream({"messages": []})
            with pytest.raises(providermux.InvalidJSONError):
                router.astream("{")

    arun(main())
    assert providermux._live_callbacks == {}


def test_astream_needs_a_running_loop():
    with providermux.Router(mock_config()) as router:
        with pytest.raises(RuntimeError):
            router.astream(user("x"))
    assert providermux._live_callbacks == {}


def test_astream_task_cancel_cancels_the_stream():
    """task.cancel() mid-stream: the C stream is cancelled, its terminal event awaited without
    blocking the loop, and the task ends cancelled."""
    async def main():
        with providermux.Router(mock_config(SLOW)) as router:
            seen = []
            holder = {}

            async def consume():
                stream = holder["stream"] = router.astream(user(LONG_PROMPT))
                async for event in stream:
                    seen.append(event.type)

            async def body():
                task = asyncio.ensure_future(consume())
                while seen.count("delta") < 2:
                    await asyncio.sleep(0.01)
                started = time.monotonic()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                return time.monotonic() - started

            elapsed, ticks = await ticking(body)
            stream = holder["stream"]
            assert stream.finished and stream.terminal is not None
            assert stream.terminal.type == "error"
            assert stream.terminal.code == providermux.ERR_CANCELLED
            assert isinstance(stream.error, providermux.StreamCancelledError)
            assert providermux._live_callbacks == {}
            # The router is fine afterwards.
            assert (await router.acomplete(user("after"))).content == "mock: after"
            return elapsed, ticks, seen

    elapsed, ticks, seen = arun(main())
    assert elapsed < 1.0, elapsed
    assert "done" not in seen and "error" not in seen, seen
    assert 2 <= seen.count("delta") < 20, seen
    assert ticks >= 3, "the loop kept running while the stream was streaming"


def test_acomplete_wait_for_timeout_cancels():
    async def main():
        with providermux.Router(mock_config(SLOW)) as router:
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(router.acomplete(user(LONG_PROMPT)), 0.2)
            return time.monotonic() - started

    elapsed = arun(main())
    assert elapsed < 1.5, elapsed
    assert providermux._live_callbacks == {}


def test_astream_exception_in_loop_body_propagates_and_cancels():
    class Boom(Exception):
        pass

    async def main():
        with providermux.Router(mock_config(SLOW)) as router:
            with pytest.raises(Boom):
                async for event in router.astream(user(LONG_PROMPT)):
                    if event.type == "delta":
                        raise Boom("in the loop body")
            # The abandoned stream is cancelled when collected; its terminal event follows.
            gc.collect()
            deadline = time.monotonic() + 2.0
            while providermux._live_callbacks and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert providermux._live_callbacks == {}, "the abandoned stream was not cancelled"

            # With `async with`, leaving the block cancels and awaits the terminal event.
            with pytest.raises(Boom):
                async with router.astream(user(LONG_PROMPT)) as stream:
                    async for event in stream:
                        if event.type == "delta":
                            raise Boom("in the block")
            assert stream.finished and isinstance(stream.error, providermux.StreamCancelledError)
            assert providermux._live_callbacks == {}

    started = time.monotonic()
    arun(main())
    assert time.monotonic() - started < 3.0


def test_router_close_ends_running_astreams():
    async def main():
        router = providermux.Router(mock_config(SLOW))
        stream = router.astream(user(LONG_PROMPT))
        first = await stream.__anext__()
        router.close()
        rest = [event async for event in stream]
        return first, rest, stream

    first, rest, stream = arun(main())
    assert first.type == "start"
    assert stream.terminal is not None and stream.terminal.type == "error"
    assert stream.error.code in (providermux.ERR_CANCELLED, providermux.ERR_ROUTER_CLOSED)
    assert providermux._live_callbacks == {}


def test_concurrent_astreams():
    async def main():
        config = mock_config({"name": "m", "type": "mock", "token_delay_ms": 2})
        with providermux.Router(config) as router:
            async def one(i):
                text = ""
                async for event in router.astream(user("s%d a b" % i)):
                    text += event.content or ""
                return text
            return await asyncio.gather(*(one(i) for i in range(25)))

    assert arun(main()) == ["mock: s%d a b" % i for i in range(25)]
    assert providermux._live_callbacks == {}


def test_sdist_carries_the_license(tmp_path):
    """The sdist has the license text and declares it (an unpacked sdist builds a wheel that
    carries it too: hatchling reads LICENSE from the project directory). Built in place: the
    sdist takes the Swift sources from ../.. (Tests/wheel checks them)."""
    import tarfile
    hook = ("import sys; from hatchling.build import build_sdist; "
            "print(build_sdist(sys.argv[1]))")
    os.makedirs(str(tmp_path / "out"))
    result = run([sys.executable, "-c", hook, str(tmp_path / "out")], cwd=BINDINGS,
                 env=clean_env(), timeout=120)
    base = "providermux-%s" % providermux.__version__
    with tarfile.open(str(tmp_path / "out" / result.stdout.strip().splitlines()[-1])) as tar:
        with open(os.path.join(BINDINGS, "LICENSE"), "rb") as f:
            assert tar.extractfile(base + "/LICENSE").read() == f.read()
        pkg_info = tar.extractfile(base + "/PKG-INFO").read().decode()
    assert "\nLicense-Expression: Apache-2.0\n" in pkg_info
