# SPDX-License-Identifier: Apache-2.0
"""A real redis-server for the shared-state tests, on a free loopback port in a temp dir, and
router worker PROCESSES (shared_worker.py) driven line by line over pipes.

redis-server comes from Debian's redis-server package (scripts/setup.sh installs it): a test
that needs it fails, never skips, without it."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """redis-server --port P on 127.0.0.1, no persistence; stop() kills it, start() again on the
    same port (a restart: empty data, no scripts)."""

    def __init__(self):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        assert os.path.exists(self.binary), "redis-server is missing: run scripts/setup.sh"
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="pmx-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def command(self, *args):
        """One command over RESP (for the tests' own looks at the server), decoded simply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            out = b"*%d\r\n" % len(args) + b"".join(
                b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in map(str, args))
            s.sendall(out)
            f = s.makefile("rb")
            return _read_reply(f)


def _read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


class Worker:
    """One router in its own process (shared_worker.py): each call is one JSON line each way."""

    def __init__(self, config, env=None):
        environment = dict(os.environ)
        environment.update(env or {})
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "shared_worker.py"), json.dumps(config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
        self.ready = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        assert line, "the worker process ended"
        return json.loads(line)

    def call(self, op, **fields):
        self.send(op, **fields)
        return self._read()

    def send(self, op, **fields):
        """Starts a command without waiting for its answer (`result()` reads it)."""
        self.proc.stdin.write(json.dumps(dict(fields, op=op)) + "\n")
        self.proc.stdin.flush()

    def result(self):
        return self._read()

    def complete(self, text="hello", **extra):
        return self.call("complete", request=dict({"messages": [{"role": "user", "content": text}]}, **extra))

    def close(self):
        if self.proc.poll() is None:
            self.call("quit")
            self.proc.wait(timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
