# SPDX-License-Identifier: Apache-2.0
"""Start/stop helper for fake_upstream.py (Python 3.11 standard library only).

    import sys; sys.path.insert(0, "<repo>/Tests/upstream")
    from upstream import FakeUpstream

    with FakeUpstream() as up:
        up.script("a", [{"status": 429, "retry_after": 1, "times": 2}])
        base_a = up.base("a")            # http://127.0.0.1:PORT/a/v1
        ...
        assert len(up.requests("a")) == 3

    cert, key = self_signed_certificate(tmpdir)  # openssl CLI, CN/SAN 127.0.0.1
    with FakeUpstream(tls=(cert, key)) as tls_up:  # the same server over HTTPS
        tls_up.url                       # https://127.0.0.1:PORT
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_upstream.py")


class FakeUpstream:
    host = "127.0.0.1"

    def __init__(self, verbose: bool = False, startup_timeout: float = 10.0,
                 tls: tuple[str, str] | None = None) -> None:
        """``tls``: (certificate PEM, key PEM) to serve HTTPS (``--tls-cert``/``--tls-key``);
        the control calls then trust that certificate."""
        self.verbose = verbose
        self.tls = tls
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None

    # --- lifecycle ---
    def command(self) -> list[str]:
        """The server's command line. A subclass that runs another server, or this one with more
        options (a personality), overrides only this: start, the PORT line and stop stay here."""
        cmd = [sys.executable, SERVER, "--port", "0", "--exit-on-stdin-eof"]
        if self.verbose:
            cmd.append("--verbose")
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        return cmd

    def start(self) -> "FakeUpstream":
        if self.proc is not None:
            return self
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_port(self) -> int:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("fake_upstream did not print its PORT line in time")
                if not sel.select(left):
                    continue
                data = os.read(self.proc.stdout.fileno(), 4096)
                if not data:
                    raise RuntimeError(
                        f"fake_upstream exited before listening (rc={self.proc.poll()})")
                buf += data
        finally:
            sel.close()
        line = buf.split(b"\n", 1)[0].decode().strip()
        if not line.startswith("PORT "):
            raise RuntimeError(f"unexpected first line from fake_upstream: {line!r}")
        return int(line.split()[1])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for f in (proc.stdin, proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> "FakeUpstream":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __del__(self) -> None:
        try:
            self.stop()
        except Exception:
            pass

    # --- URLs ---
    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (https:// with ``tls``; no trailing slash)."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def base(self, scope: str = "default") -> str:
        """OpenAI-style base_url for a provider using this scope."""
        return f"{self.url}/{scope}/v1"

    # --- a plain HTTP client for the protocol handlers (not the control API) ---
    def send(self, method: str, path: str, body: Any = None, headers: dict | None = None,
             timeout: float = 5) -> tuple[http.client.HTTPResponse, bytes]:
        """One request on its own plain-HTTP connection: (response, body bytes). ``body`` is
        bytes or anything JSON-able; ``headers`` are added to (or replace) Content-Type:
        application/json, which every request carries."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            h = {"Content-Type": "application/json"}
            h.update(headers or {})
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp, resp.read()
        finally:
            conn.close()

    # --- control API ---
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            context = ssl.create_default_context(cafile=self.tls[0]) if self.tls else None
            with urllib.request.urlopen(req, timeout=10, context=context) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            with e:
                detail = e.read().decode(errors="replace")
            raise RuntimeError(f"control {method} {path} failed: {e.code} {detail}") from None

    def script(self, scope: str, entries: list[dict]) -> None:
        """Replace the scope's fault queue."""
        self._call("POST", f"/_control/{scope}/script", {"entries": entries})

    def append(self, scope: str, entries: list[dict]) -> None:
        """Append to the scope's fault queue."""
        self._call("POST", f"/_control/{scope}/append", {"entries": entries})

    def pending(self, scope: str) -> list[dict]:
        """Fault entries not yet used up (each with ``times_left``)."""
        return self._call("GET", f"/_control/{scope}/script")["entries"]

    def requests(self, scope: str = "default") -> list[dict]:
        """The scope's request log: method, path, headers (lower-case), json, body, fault."""
        return self._call("GET", f"/_control/{scope}/requests")["requests"]

    def set_models(self, scope: str, data: list[dict]) -> None:
        self._call("POST", f"/_control/{scope}/models", {"data": data})

    def reset(self, scope: str | None = None) -> None:
        """Clear every scope (or just one): scripts, logs, model lists."""
        self._call("POST", "/_control/reset" if scope is None else f"/_control/{scope}/reset")

    def health(self) -> bool:
        return bool(self._call("GET", "/_control/health").get("ok"))


def sse_frames(raw: bytes) -> list[tuple[str | None, Any]]:
    """An SSE body as (event name, data parsed as JSON, or the raw text where it is not JSON)."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data.append(line[len("data: "):])
        text = "\n".join(data)
        try:
            out.append((name, json.loads(text)))
        except ValueError:
            out.append((name, text))
    return out


def self_signed_certificate(directory: str, name: str = "fake-upstream") -> tuple[str, str]:
    """A fresh self-signed certificate for 127.0.0.1 (CN and subjectAltName IP), made with the
    ``openssl`` CLI in ``directory``: returns (certificate path, key path)."""
    cert = os.path.join(directory, name + "-cert.pem")
    key = os.path.join(directory, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-days", "1", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return cert, key
