#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Chaos upstream: an HTTP/1.1 server on 127.0.0.1 that answers every request with EXACTLY the
status line, headers and body a test scripted, and records every request exactly as it arrived.

Python 3.11 standard library only. Unlike Tests/upstream/fake_upstream.py (which speaks each
protocol and injects named faults) it knows no protocol: the test builds the bytes (with the
per-protocol framing helpers of Tests/hostile/shapes.py, which reuse the fake upstream's), so
any header and any body can be sent, numbers that JSON encoders refuse (1e999, 40 digits)
included.

    python3 chaos_upstream.py [--port 0] [--exit-on-stdin-eof]

prints ``PORT <n>`` once listening. Every API path starts with a scope segment,
``/<scope>/...``; each scope has its own queue of scripted answers and its own request log, so
the base_url of a provider is ``http://127.0.0.1:PORT/<scope>`` (+ ``/v1`` for OpenAI-style).

Control API (JSON):
  POST /_chaos/<scope>/script   {"responses": [answer, ...], "default": answer | null}
                                replaces the scope's queue (and default answer)
  GET  /_chaos/<scope>/received {"requests": [{"request_line", "method", "target", "headers":
                                [[name, value], ...] (as received, in order), "raw_head" (latin-1
                                text of the bytes up to the blank line), "body" (utf-8, replaced),
                                "body_len"}]}
  POST /_chaos/reset            forget every scope
  GET  /_chaos/health           {"ok": true}

An answer:
  status (200), reason ("OK"),
  headers: [[name, value], ...] sent verbatim in this order (values may hold any byte < 256);
           without a Content-Length / Transfer-Encoding of the test's own the server adds
           Content-Length for a body and Transfer-Encoding: chunked for chunks,
  body: text | body_b64: base64 | repeat: {"prefix", "item", "count", "suffix"} (generated here,
        so a test can ask for 8 MiB without shipping it),
  chunks: [text, ...] each sent as one HTTP chunk (then the zero chunk unless "truncate": true),
  chunk_delay_ms, delay_ms (before the head), hang: true (send nothing until the client leaves),
  close: true (close the connection after the answer),
  match: substring of the request line: only such requests take this answer,
  times: how many requests it answers (default 1; -1 = forever).
With no matching answer queued, the scope's default answer is used, else a 599 JSON error
``{"error": "chaos upstream: nothing scripted"}`` (tests assert on what they scripted only).
"""

from __future__ import annotations

import argparse
import base64
import json
import select
import signal
import socket
import socketserver
import sys
import threading
import time

LOCK = threading.Lock()
SCOPES: dict[str, dict] = {}


def scope_state(name: str) -> dict:  # caller holds LOCK
    st = SCOPES.get(name)
    if st is None:
        st = SCOPES[name] = {"queue": [], "default": None, "received": []}
    return st


def take_answer(scope: str, request_line: str) -> dict | None:
    with LOCK:
        st = scope_state(scope)
        for i, ans in enumerate(st["queue"]):
            match = ans.get("match")
            if match is not None and match not in request_line:
                continue
            times = ans.get("times", 1)
            if times != -1:
                if times <= 1:
                    st["queue"].pop(i)
                else:
                    ans["times"] = times - 1
            return ans
        return st["default"]


def answer_body(ans: dict) -> bytes | None:
    if "body_b64" in ans:
        return base64.b64decode(ans["body_b64"])
    if "repeat" in ans:
        r = ans["repeat"]
        return (r.get("prefix", "").encode() + r["item"].encode() * int(r["count"])
                + r.get("suffix", "").encode())
    if "body" in ans:
        return ans["body"].encode("utf-8", "surrogateescape")
    return None


def header_bytes(value: str) -> bytes:
    # latin-1 keeps every byte < 256 exactly (a test may send raw control bytes or UTF-8 bytes
    # spelled as latin-1 characters); characters above U+00FF go out as UTF-8.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


class Handler(socketserver.StreamRequestHandler):
    timeout = 120  # a client that goes silent on a keep-alive connection is dropped

    def handle(self) -> None:
        try:
            while self.one_request():
                pass
        except (ConnectionError, TimeoutError, socket.timeout, OSError):
            pass

    def read_head(self) -> tuple[bytes, list[bytes]] | None:
        raw = b""
        lines = []
        while True:
            line = self.rfile.readline(1 << 20)
            if not line:
                return None
            raw += line
            if line in (b"\r\n", b"\n"):
                if not lines:  # stray blank line between requests
                    raw = b""
                    continue
                return raw, lines
            lines.append(line.rstrip(b"\r\n"))

    def read_body(self, headers: list[tuple[str, str]]) -> bytes:
        names = {n.lower(): v for n, v in headers}
        if "chunked" in names.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(names.get("content-length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def one_request(self) -> bool:
        head = self.read_head()
        if head is None:
            return False
        raw_head, lines = head
        request_line = lines[0].decode("latin-1")
        headers = []
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        body = self.read_body(headers)
        parts = request_line.split(" ")
        method, target = (parts + ["", ""])[:2]
        if target.startswith("/_chaos/"):
            return self.control(method, target, body)
        scope = target.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        with LOCK:
            scope_state(scope)["received"].append({
                "request_line": request_line, "method": method, "target": target,
                "headers": headers, "raw_head": raw_head.decode("latin-1"),
                "body": body.decode("utf-8", "replace"), "body_len": len(body)})
        ans = take_answer(scope, request_line)
        if ans is None:
            ans = {"status": 599, "body": '{"error": "chaos upstream: nothing scripted"}',
                   "headers": [["Content-Type", "application/json"]]}
        return self.send_answer(ans)

    def send_answer(self, ans: dict) -> bool:
        if ans.get("delay_ms"):
            time.sleep(ans["delay_ms"] / 1000)
        if ans.get("hang"):
            self.wait_for_close()
            return False
        status = int(ans.get("status", 200))
        head = b"HTTP/1.1 %d %s\r\n" % (status, ans.get("reason", "OK").encode("latin-1"))
        headers = [(n, v) for n, v in ans.get("headers", [])]
        lower = {n.lower() for n, _ in headers}
        body = answer_body(ans)
        chunks = ans.get("chunks")
        if chunks is None and body is None:
            body = b""
        if "content-length" not in lower and "transfer-encoding" not in lower:
            if chunks is not None:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(len(body))))
        if ans.get("close"):
            headers.append(("Connection", "close"))
        for n, v in headers:
            head += header_bytes(n) + b": " + header_bytes(v) + b"\r\n"
        self.wfile.write(head + b"\r\n")
        if chunks is None:
            self.wfile.write(body)
        else:
            for i, chunk in enumerate(chunks):
                if i and ans.get("chunk_delay_ms"):
                    time.sleep(ans["chunk_delay_ms"] / 1000)
                data = chunk.encode("utf-8", "surrogateescape")
                if data:
                    self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                    self.wfile.flush()
            if ans.get("truncate"):
                self.wfile.flush()
                return False
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        return not ans.get("close")

    def wait_for_close(self) -> None:
        sock = self.connection
        while True:
            r, _, _ = select.select([sock], [], [], 1.0)
            if r:
                try:
                    if not sock.recv(65536):
                        return
                except OSError:
                    return

    def control(self, method: str, target: str, body: bytes) -> bool:
        parts = target.split("?", 1)[0].strip("/").split("/")
        result: object = {"ok": True}
        status = 200
        if parts[1:] == ["health"]:
            pass
        elif parts[1:] == ["reset"] and method == "POST":
            with LOCK:
                SCOPES.clear()
        elif len(parts) == 3 and parts[2] == "script" and method == "POST":
            doc = json.loads(body or b"{}")
            with LOCK:
                st = scope_state(parts[1])
                st["queue"] = list(doc.get("responses", []))
                st["default"] = doc.get("default")
        elif len(parts) == 3 and parts[2] == "received" and method == "GET":
            with LOCK:
                result = {"requests": list(scope_state(parts[1])["received"])}
        else:
            status, result = 404, {"error": "unknown control call " + target}
        data = json.dumps(result).encode()
        self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % (status, len(data)) + data)
        self.wfile.flush()
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    args = ap.parse_args(argv)
    server = Server(("127.0.0.1", args.port), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.exit_on_stdin_eof:
        def watch() -> None:
            sys.stdin.buffer.read()
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
