# SPDX-License-Identifier: Apache-2.0
"""examples-python/pmx_chat.py, compared with the C examples-c/pmx-chat ($PMX_CHAT_BIN)."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

providermux = pytest.importorskip("providermux")

from pmx_testlib import ROOT, SECRET, write_config  # noqa: E402

SCRIPT = os.path.join(ROOT, "examples-python", "pmx_chat.py")
SUMMARY = re.compile(r"^\[provider=(\S+) model=(\S*) latency_ms=(\d+) ttft_ms=(\d+) "
                     r"prompt_tokens=(\d+) completion_tokens=(\d+) total_tokens=(\d+)\]$")
PROMPT = ["say", "hello", "to", "the", "world"]


def library_file():
    """Absolute path of the library the tests loaded (resolving a bare soname)."""
    path = providermux.library_path
    if os.path.isabs(path):
        return path
    with open("/proc/self/maps") as f:
        for line in f:
            if "libprovidermux" in line:
                return line.split()[-1]
    pytest.skip("cannot tell where libprovidermux was loaded from")


def base_env(**extra):
    env = dict(os.environ)
    env["PROVIDERMUX_LIB"] = library_file()
    env.pop("PMX_CONFIG", None)
    env.update(extra)
    return env


def run_py(args, env=None, stdin=None, timeout=60):
    return subprocess.run([sys.executable, SCRIPT] + args, capture_output=True, text=True,
                          env=env or base_env(), input=stdin, timeout=timeout)


def run_c(args, env=None, timeout=60):
    return subprocess.run([os.environ["PMX_CHAT_BIN"]] + args, capture_output=True, text=True,
                          env=env or base_env(), timeout=timeout)


def summary_of(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("[provider=")]
    assert len(lines) == 1, stderr
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return lines[0], match


def normalized(line):
    return re.sub(r"(latency_ms|ttft_ms)=\d+", r"\1=N", line)


@pytest.fixture
def mock_cfg(tmp_path):
    return write_config(tmp_path, "mock.json", {"providers": [{"name": "mock", "type": "mock"}]})


@pytest.fixture
def upstream_cfg(tmp_path, up):
    return write_config(tmp_path, "upstream.json", {"providers": [
        {"name": "fake", "type": "openai-compatible", "base_url": up.base("chat"),
         "api_key": SECRET}]})


def check_success(result, expected_text, provider):
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected_text + "\n"
    line, match = summary_of(result.stderr)
    assert match.group(1) == provider
    prompt, completion, total = (int(match.group(i)) for i in (5, 6, 7))
    assert total == prompt + completion and completion > 0
    assert SECRET not in result.stdout + result.stderr
    return line


def test_python_example_mock_stream(mock_cfg):
    result = run_py(["-c", mock_cfg] + PROMPT)
    check_success(result, "mock: say hello to the world", "mock")


def test_python_example_no_stream_matches_stream(mock_cfg):
    streamed = run_py(["-c", mock_cfg] + PROMPT)
    whole = run_py(["-c", mock_cfg, "--no-stream"] + PROMPT)
    check_success(whole, "mock: say hello to the world", "mock")
    assert whole.stdout == streamed.stdout
    assert summary_of(whole.stderr)[1].group(4) == "0", "no ttft without a stream"


def test_python_example_upstream(upstream_cfg, up):
    result = run_py(["-c", upstream_cfg, "-m", "fake-large", "-s", "be brief"] + PROMPT)
    check_success(result, "echo: say hello to the world", "fake")
    assert summary_of(result.stderr)[1].group(2) == "fake-large"
    sent = up.requests("chat")[0]["json"]
    assert sent["model"] == "fake-large"
    assert sent["messages"] == [{"role": "system", "content": "be brief"},
                                {"role": "user", "content": "say hello to the world"}]


def test_python_example_prompt_from_stdin_and_env_config(mock_cfg):
    result = run_py([], env=base_env(PMX_CONFIG=mock_cfg), stdin="from stdin\n")
    check_success(result, "mock: from stdin", "mock")


def test_python_example_request_error(tmp_path):
    cfg = write_config(tmp_path, "down.json", {
        "providers": [{"name": "down", "type": "mock", "script": [{"status": 503, "times": 9}]}],
        "retry": {"max_attempts": 1}})
    result = run_py(["-c", cfg, "hi"])
    assert result.returncode == 1
    assert result.stderr.startswith("pmx_chat.py: error: PMX_ERR_UPSTREAM_SERVER: "), \
        result.stderr
    assert "Traceback" not in result.stderr


def test_python_example_config_errors(tmp_path):
    bad_type = write_config(tmp_path, "bad.json", {"providers": [{"name": "x", "type": "nope"}]})
    result = run_py(["-c", bad_type, "hi"])
    assert result.returncode == 2
    assert result.stderr.startswith("pmx_chat.py: error: PMX_ERR_UNKNOWN_PROVIDER_TYPE: ")
    result = run_py(["-c", str(tmp_path / "missing.json"), "hi"])
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def interrupt(command, tmp_path):
    """Starts a slow streamed chat, presses Ctrl-C once output has started; returns
    (exit status, stdout, stderr, seconds from SIGINT to exit)."""
    cfg = write_config(tmp_path, "slow.json", {"providers": [
        {"name": "slow", "type": "mock", "token_delay_ms": 100}]})
    proc = subprocess.Popen(command + ["-c", cfg] + ["w%d" % i for i in range(80)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
    try:
        first = os.read(proc.stdout.fileno(), 1)  # output has started (unbuffered read)
        assert first
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, (first + out).decode(), err.decode(), time.monotonic() - started


def test_python_example_ctrl_c_cancels(tmp_path):
    status, out, err, seconds = interrupt([sys.executable, SCRIPT], tmp_path)
    assert status == 130
    assert seconds < 3, "80 tokens x 100 ms would take 8 s"
    assert "Traceback" not in err
    assert "[provider=" not in err
    assert out.startswith("mock: w0") and out.endswith("\n")
    assert err.startswith("pmx_chat.py: error: PMX_ERR_CANCELLED: "), err


@pytest.mark.skipif(not os.environ.get("PMX_CHAT_BIN"), reason="PMX_CHAT_BIN not set")
def test_c_and_python_examples_agree_on_ctrl_c(tmp_path):
    py = interrupt([sys.executable, SCRIPT], tmp_path)
    c = interrupt([os.environ["PMX_CHAT_BIN"]], tmp_path)
    assert py[0] == c[0] == 130
    assert py[2].split(": ")[1:3] == c[2].split(": ")[1:3] == ["error", "PMX_ERR_CANCELLED"]


@pytest.mark.skipif(not os.environ.get("PMX_CHAT_BIN"), reason="PMX_CHAT_BIN not set")
@pytest.mark.parametrize("which", ["mock", "upstream"])
@pytest.mark.parametrize("extra", [[], ["--no-stream"]])
def test_c_and_python_examples_agree(which, extra, request):
    cfg = request.getfixturevalue(which + "_cfg")
    if which == "upstream":
        request.getfixturevalue("up").reset()
    py = run_py(["-c", cfg] + extra + PROMPT)
    if which == "upstream":
        request.getfixturevalue("up").reset()
    c = run_c(["-c", cfg] + extra + PROMPT)
    assert py.returncode == c.returncode == 0, (py.stderr, c.stderr)
    assert py.stdout == c.stdout
    assert normalized(summary_of(py.stderr)[0]) == normalized(summary_of(c.stderr)[0])


@pytest.mark.skipif(not os.environ.get("PMX_CHAT_BIN"), reason="PMX_CHAT_BIN not set")
def test_c_and_python_examples_agree_on_errors(tmp_path):
    cfg = write_config(tmp_path, "down.json", {
        "providers": [{"name": "down", "type": "mock", "script": [{"status": 503, "times": 9}]}],
        "retry": {"max_attempts": 1}})
    py = run_py(["-c", cfg, "hi"])
    c = run_c(["-c", cfg, "hi"])
    assert py.returncode == c.returncode == 1
    py_kind = py.stderr.split(": ")[1:3]
    c_kind = c.stderr.split(": ")[1:3]
    assert py_kind == c_kind == ["error", "PMX_ERR_UPSTREAM_SERVER"]


def test_library_needs_no_swift_toolchain():
    lib = os.path.realpath(library_file())
    ldd = shutil.which("ldd")
    if ldd:
        out = subprocess.run([ldd, lib], capture_output=True, text=True).stdout
        assert "libswift" not in out, out
        assert "not found" not in out, out
    # The .so has no RUNPATH into a toolchain either.
    readelf = shutil.which("readelf")
    if readelf:
        dyn = subprocess.run([readelf, "-d", lib], capture_output=True, text=True).stdout
        assert not [v for v in re.findall(r"\[(.*?)\]", dyn) if "swift" in v], dyn


def test_python_example_in_a_bare_environment(tmp_path, mock_cfg):
    """env -i, system python, library found through LD_LIBRARY_PATH only."""
    # A copy of the example and the package outside the repository, so the loader cannot fall
    # back to the repository's build/lib or a library next to the package.
    tree = tmp_path / "tree"
    shutil.copytree(os.path.join(ROOT, "bindings", "python", "providermux"),
                    tree / "bindings" / "python" / "providermux",
                    ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    (tree / "examples-python").mkdir()
    shutil.copy(SCRIPT, tree / "examples-python" / "pmx_chat.py")

    lib_dir = tmp_path / "lib"
    lib_dir.mkdir()
    shutil.copy(os.path.realpath(library_file()), lib_dir / "libprovidermux.so.0")

    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    env = {"PATH": "/usr/bin:/bin", "PROVIDERMUX_LIB": "", "PYTHONPATH": "",
           "LD_LIBRARY_PATH": str(lib_dir)}
    probe = subprocess.run(
        ["env", "-i"] + ["%s=%s" % kv for kv in env.items()] +
        [python, "-c", "import sys; sys.path.insert(0, %r); import providermux; "
                       "print(providermux.version()); "
                       "print([l.split()[-1] for l in open('/proc/self/maps') "
                       "if 'libprovidermux' in l][0])" % str(tree / "bindings" / "python")],
        capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    version, loaded = probe.stdout.split()
    assert version == providermux.version()
    assert os.path.dirname(loaded) == str(lib_dir), loaded

    result = subprocess.run(
        ["env", "-i"] + ["%s=%s" % kv for kv in env.items()] +
        [python, str(tree / "examples-python" / "pmx_chat.py"), "-c", mock_cfg] + PROMPT,
        capture_output=True, text=True, timeout=60)
    check_success(result, "mock: say hello to the world", "mock")


# -- examples-python/openai_client.py: openai-SDK code on providermux.OpenAI ---------------------

OPENAI_SCRIPT = os.path.join(ROOT, "examples-python", "openai_client.py")


def run_openai_example(args):
    return subprocess.run([sys.executable, OPENAI_SCRIPT] + args, capture_output=True, text=True,
                          env=base_env(), timeout=60)


def test_openai_client_example_streams_through_the_router(upstream_cfg, up):
    result = run_openai_example(["-c", upstream_cfg, "-m", "fake-small"] + PROMPT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "echo: say hello to the world\n"
    assert result.stderr.strip() == "[provider=fake prompt_tokens=5 completion_tokens=6 cost_usd=None]"
    assert SECRET not in result.stdout + result.stderr


def test_openai_client_example_failure_raises_an_openai_named_error(tmp_path):
    cfg = write_config(tmp_path, "down.json", {
        "providers": [{"name": "down", "type": "mock", "script": [{"status": 429, "times": 9}]}],
        "retry": {"max_attempts": 1}})
    result = run_openai_example(["-c", cfg, "hi"])
    assert result.returncode == 1, result.stderr
    assert "openai_client.py: error: PMX_ERR_RATE_LIMITED" in result.stderr
