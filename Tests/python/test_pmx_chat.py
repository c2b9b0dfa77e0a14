# SPDX-License-Identifier: Apache-2.0
"""examples-c/pmx-chat as a CLI (issue 15): empty stdin, --version, --help, --list-models, -v,
colour only on a terminal, and the interactive conversation under a pseudo-terminal (pty),
against the mock provider and the fake upstream (Tests/upstream). $PMX_CHAT_BIN is the program
(ctest python_tests sets it). Timeouts here only stop a hang; nothing asserts a duration."""

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from pmx_testlib import ROOT, SECRET, write_config as write

BIN = os.environ.get("PMX_CHAT_BIN")
pytestmark = pytest.mark.skipif(not BIN, reason="PMX_CHAT_BIN not set")
ANSI = "\033["


def header_version():
    with open(os.path.join(ROOT, "include", "providermux.h"), encoding="utf-8") as f:
        return re.search(r'#define PMX_VERSION_STRING "([^"]+)"', f.read()).group(1)


def env(**extra):
    e = dict(os.environ)
    for name in ("PMX_CONFIG", "NO_COLOR"):
        e.pop(name, None)
    e.update(extra)
    return e


def run(args, stdin="", **extra):
    return subprocess.run([BIN] + args, input=stdin, capture_output=True, text=True,
                          env=env(**extra), timeout=60)


@pytest.fixture
def mock_cfg(tmp_path):
    return write(tmp_path, "mock.json", {"providers": [{"name": "mock", "type": "mock"}]})


# -- one-shot behaviour ------------------------------------------------------------------------

def test_version():
    result = run(["--version"])
    v = header_version()
    assert result.returncode == 0
    assert result.stdout == "pmx-chat %s (libprovidermux %s)\n" % (v, v)
    assert run(["-V"]).stdout == result.stdout


def test_help_lists_every_option_with_examples():
    result = run(["--help"])
    assert result.returncode == 0 and result.stderr == ""
    for option in ("--config", "--model", "--system", "--no-stream", "--interactive",
                   "--list-models", "--verbose", "--color", "--version", "--help"):
        assert option in result.stdout, option
    examples = result.stdout.split("Examples:\n", 1)[1].splitlines()
    assert len([line for line in examples if "pmx-chat" in line]) >= 4


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n\n"])
def test_empty_stdin_is_a_usage_error(mock_cfg, stdin):
    result = run(["-c", mock_cfg], stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("pmx-chat: error: PMX_ERR_INVALID_ARGUMENT: no prompt")


@pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind not installed")
def test_empty_stdin_is_valgrind_clean(mock_cfg):
    """Before issue 15 the empty prompt was read from uninitialised memory (memcheck: a
    conditional jump on an uninitialised value in the JSON string builder) and sent."""
    result = subprocess.run(["valgrind", "-q", "--error-exitcode=99", BIN, "-c", mock_cfg],
                            input="", capture_output=True, text=True, env=env(), timeout=300)
    assert result.returncode == 2, result.stderr
    assert "uninitialised" not in result.stderr and "==" not in result.stderr, result.stderr


def test_usage_errors(mock_cfg):
    for args in (["--color", "sometimes", "hi"], ["-i", "-c", mock_cfg, "a", "prompt"], ["--nope"]):
        result = run(args)
        assert result.returncode == 2, args
        assert "usage: pmx-chat" in result.stderr


def test_list_models(tmp_path):
    cfg = write(tmp_path, "models.json", {"providers": [
        {"name": "a", "type": "mock", "models": ["m1", "m2"]}, {"name": "b", "type": "mock"}]})
    result = run(["-c", cfg, "--list-models"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["a/m1", "a/m2", "b/mock"]
    assert run(["-c", cfg, "-l"]).stdout == result.stdout


def test_verbose_shows_retries_and_failovers(tmp_path):
    cfg = write(tmp_path, "flaky.json", {
        "providers": [{"name": "flaky", "type": "mock", "script": [{"status": 503, "times": 2}]},
                      {"name": "good", "type": "mock"}],
        "retry": {"max_attempts": 2, "initial_backoff_ms": 1, "jitter": 0}})
    for extra in ([], ["--no-stream"]):
        result = run(["-c", cfg, "-v"] + extra + ["hi"])
        assert result.returncode == 0, result.stderr
        assert result.stdout == "mock: hi\n"
        lines = result.stderr.splitlines()
        assert lines[-1].startswith("[provider=good ")
        if extra:  # the response's attempts, after the fact
            assert lines[:3] == [
                "[attempt 1: provider=flaky error PMX_ERR_UPSTREAM_SERVER: HTTP 503: mock scripted failure]",
                "[attempt 2: provider=flaky error PMX_ERR_UPSTREAM_SERVER: HTTP 503: mock scripted failure]",
                "[attempt 3: provider=good ok]"]
        else:  # live, from the stream's events
            assert lines[0] == "[attempt 1: provider=flaky]"
            assert lines[1].startswith("[retry: provider=flaky attempt=1 in 1 ms after "
                                       "PMX_ERR_UPSTREAM_SERVER (HTTP 503): ")
            assert lines[2] == "[attempt 2: provider=flaky]"
            assert lines[3].startswith("[failover: flaky -> good after PMX_ERR_UPSTREAM_SERVER (HTTP 503): ")
            assert lines[4] == "[attempt 3: provider=good]"
        # Without -v: the reply and the summary only.
        quiet = run(["-c", cfg] + extra + ["hi"])
        assert [line[:15] for line in quiet.stderr.splitlines()] == ["[provider=good "]


def test_no_colour_when_not_a_terminal_unless_asked(tmp_path):
    cfg = write(tmp_path, "down.json", {"providers": [
        {"name": "down", "type": "mock", "script": [{"status": 503, "times": 9}]}],
        "retry": {"max_attempts": 1}})
    piped = run(["-c", cfg, "-v", "hi"])
    assert piped.returncode == 1 and ANSI not in piped.stderr + piped.stdout
    forced = run(["-c", cfg, "-v", "--color=always", "hi"])
    assert "\033[31mpmx-chat: error: PMX_ERR_UPSTREAM_SERVER" in forced.stderr
    assert ANSI not in run(["-c", cfg, "--color", "never", "hi"]).stderr


def test_interactive_from_a_pipe(mock_cfg):
    """-i with piped input: no prompts, one reply line per message, end of input ends it."""
    result = run(["-c", mock_cfg, "-i"], stdin="one\n\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "mock: one\nmock: two\n"
    assert result.stderr == ""


# -- under a pseudo-terminal -------------------------------------------------------------------

class Pty:
    """pmx-chat on a pty (its stdin, stdout and stderr); expect() reads until a pattern."""

    def __init__(self, args, **extra):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: a session leader with the pty as controlling terminal
            os.execve(BIN, [BIN] + args, env(TERM="xterm", **extra))
        self.seen = ""
        self.pos = 0

    def expect(self, pattern, timeout=30):
        """Waits for `pattern` (. matches line breaks too) in the output after the previous
        match; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.S)
        while not regex.search(self.seen, self.pos):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError("no %r in %r" % (pattern, self.seen))
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError("ended without %r: %r" % (pattern, self.seen))
            self.seen += chunk.decode("utf-8", "replace")
        match = regex.search(self.seen, self.pos)
        self.pos = match.end()
        return match

    def send(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:  # keep draining so the child never blocks on a full terminal
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.seen += os.read(self.fd, 4096).decode("utf-8", "replace")
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("pmx-chat did not exit: %r" % self.seen)


PROMPT = re.escape("\033[1m> \033[0m")


def test_conversation_under_a_pty_keeps_the_history(up, tmp_path):
    """Without PROMPT and with a terminal on stdin, pmx-chat converses: every request carries
    the whole conversation (checked at the fake upstream), /reset forgets it, /quit leaves."""
    cfg = write(tmp_path, "up.json", {"providers": [
        {"name": "fake", "type": "openai-compatible", "base_url": up.base("chat"), "api_key": SECRET}]})
    chat = Pty(["-c", cfg])
    chat.expect(PROMPT)  # a coloured prompt: stdout is a terminal
    chat.send("first question\r")
    chat.expect(r"echo: first question\r\n" + PROMPT)
    chat.send("second one\r")
    chat.expect(r"echo: second one\r\n" + PROMPT)
    chat.send("/reset\r")
    chat.expect(r"forgotten.*" + PROMPT)
    chat.send("third\r")
    chat.expect(r"echo: third\r\n" + PROMPT)
    chat.send("/quit\r")
    assert chat.wait() == 0
    sent = [[(m["role"], m["content"]) for m in r["json"]["messages"]] for r in up.requests("chat")]
    assert sent == [
        [("user", "first question")],
        [("user", "first question"), ("assistant", "echo: first question"), ("user", "second one")],
        [("user", "third")],
    ]
    assert "[provider=" not in chat.seen  # the summary only with -v in a conversation
    assert SECRET not in chat.seen


def test_conversation_ctrl_c_cancels_the_reply_and_ctrl_d_leaves(tmp_path):
    cfg = write(tmp_path, "slow.json", {"providers": [
        {"name": "slow", "type": "mock", "token_delay_ms": 100}]})
    chat = Pty(["-c", cfg, "-v"], NO_COLOR="1")
    chat.expect(r"\n> ")
    assert ANSI not in chat.seen  # NO_COLOR: a terminal, but no colour
    chat.send(" ".join("w%d" % i for i in range(80)) + "\r")
    chat.expect(r"mock: w0")
    chat.send("\x03")  # Ctrl-C: the terminal sends SIGINT to pmx-chat
    chat.expect(r"PMX_ERR_CANCELLED.*\n> ")
    chat.send("again\r")  # the cancelled turn is not part of the conversation
    chat.expect(r"mock: again\r\n.*\[provider=slow .*\n> ")
    chat.send("\x04")  # Ctrl-D at an empty prompt
    assert chat.wait() == 0
