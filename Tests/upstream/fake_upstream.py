#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fake LLM provider server for libprovidermux integration tests.

Python 3.11 standard library only. See README.md in this directory for the
control API and the fault vocabulary.

    python3 fake_upstream.py [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof] [--verbose]
                             [--personality ollama|lmstudio|llamacpp|openai|other]
                             [--tls-cert cert.pem --tls-key key.pem]

Prints exactly one line ``PORT <n>`` on stdout once listening.

Layout:
  * ``Protocol`` subclasses own a wire format (routes, error shape, stream detection).
    ``OpenAIProtocol`` is the only one implemented; Anthropic ``/v1/messages`` and Ollama
    ``/api/chat`` can be added later as further subclasses appended to ``PROTOCOLS``.
  * A route handler returns either a ``JsonResponse`` or a ``Stream`` (a list of framed events
    plus protocol-specific malformed / error frames). The request handler applies the scope's
    fault entry generically to either, so every protocol gets the same fault vocabulary.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import ipaddress
import itertools
import json
import re
import select
import signal
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

# ---------------------------------------------------------------------------------------------
# Shared state
# ---------------------------------------------------------------------------------------------

DEFAULT_MODELS = [
    {"id": "fake-small", "object": "model", "owned_by": "fake"},
    {"id": "fake-large", "object": "model", "owned_by": "fake"},
]

# Every key a fault entry may carry. Unknown keys are rejected by the control API so that a
# typo in a test does not silently turn into "normal behaviour".
FAULT_KEYS = {
    "times",
    "status", "body", "headers", "retry_after", "retry_after_ms",
    "message", "error_type", "error_code",
    "delay_headers_ms", "chunk_delay_ms",
    "disconnect_after_chunks", "malformed_chunk_at", "truncate_body",
    "error_event_after_chunks", "close_connection", "hang", "echo_credentials",
    "stall_after_chunks", "stall_ms",
}
INT_KEYS = {"times", "status", "delay_headers_ms", "chunk_delay_ms", "disconnect_after_chunks",
            "malformed_chunk_at", "error_event_after_chunks", "stall_after_chunks", "stall_ms"}
BOOL_KEYS = {"truncate_body", "close_connection", "hang", "echo_credentials"}

# Where providers carry a key: headers (lower case) and the query parameter Gemini uses.
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
CREDENTIAL_QUERY = "key"


def credentials_of(req: "Request") -> str:
    """Every credential the request carried, verbatim: what a careless provider might echo
    back in an error message (``echo_credentials``)."""
    from urllib.parse import parse_qs
    found = [f"{h}: {req.headers[h]}" for h in CREDENTIAL_HEADERS if h in req.headers]
    query = urlsplit(req.path).query
    found += [f"{CREDENTIAL_QUERY}={v}" for v in parse_qs(query).get(CREDENTIAL_QUERY, [])]
    return "; ".join(found) if found else "none"


class ScopeState:
    def __init__(self) -> None:
        self.faults: list[dict] = []
        self.requests: list[dict] = []
        self.models: list[dict] = copy.deepcopy(DEFAULT_MODELS)


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scopes: dict[str, ScopeState] = {}
        self.counter = 0

    def scope(self, name: str) -> ScopeState:  # caller holds the lock
        st = self.scopes.get(name)
        if st is None:
            st = self.scopes[name] = ScopeState()
        return st

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def log_and_take_fault(self, scope: str, entry: dict, consumes_fault: bool) -> dict | None:
        """Append the request to the log, then (atomically) take the head fault entry."""
        with self.lock:
            st = self.scope(scope)
            st.requests.append(entry)
            if not consumes_fault or not st.faults:
                return None
            head = st.faults[0]
            head["_left"] -= 1
            if head["_left"] <= 0:
                st.faults.pop(0)
            fault = {k: v for k, v in head.items() if k != "_left"}
            entry["fault"] = fault
            return fault

    def reset(self, scope: str | None = None) -> None:
        with self.lock:
            if scope is None:
                self.scopes.clear()
                self.counter = 0
            else:
                self.scopes.pop(scope, None)


def validate_entries(entries: Any) -> list[dict]:
    if not isinstance(entries, list):
        raise ValueError("'entries' must be an array of fault objects")
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            raise ValueError(f"entries[{i}] must be an object")
        unknown = set(e) - FAULT_KEYS
        if unknown:
            raise ValueError(f"entries[{i}]: unknown fault key(s) {sorted(unknown)}; "
                             f"known: {sorted(FAULT_KEYS)}")
        for k in INT_KEYS & set(e):
            if not isinstance(e[k], int) or isinstance(e[k], bool) or e[k] < 0:
                raise ValueError(f"entries[{i}].{k} must be a non-negative integer")
        for k in BOOL_KEYS & set(e):
            if not isinstance(e[k], bool):
                raise ValueError(f"entries[{i}].{k} must be a boolean")
        if "stall_ms" in e and "stall_after_chunks" not in e:
            raise ValueError(f"entries[{i}].stall_ms needs stall_after_chunks")
        if "times" in e and e["times"] < 1:
            raise ValueError(f"entries[{i}].times must be >= 1")
        if "body" in e and not isinstance(e["body"], str):
            raise ValueError(f"entries[{i}].body must be a string")
        if "headers" in e and not (isinstance(e["headers"], dict)
                                   and all(isinstance(v, (str, int, float))
                                           for v in e["headers"].values())):
            raise ValueError(f"entries[{i}].headers must be an object of strings")
        for k in ("retry_after", "retry_after_ms"):
            if k in e and (isinstance(e[k], bool) or not isinstance(e[k], (str, int, float))):
                raise ValueError(f"entries[{i}].{k} must be a string or a number")
        entry = dict(e)
        entry["_left"] = e.get("times", 1)
        out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------
# Responses produced by protocol handlers
# ---------------------------------------------------------------------------------------------


@dataclass
class JsonResponse:
    status: int
    obj: Any
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return json.dumps(self.obj).encode()


@dataclass
class TextResponse(JsonResponse):
    """A body that is not JSON (``obj`` is the text), e.g. Ollama's ``Ollama is running``."""
    content_type: str = "text/plain; charset=utf-8"

    def body(self) -> bytes:
        return str(self.obj).encode()


@dataclass
class Stream:
    """A streamed body: ``events`` are fully framed data frames (counted by the faults),
    ``prelude`` frames go first and are not counted (e.g. an SSE comment)."""
    content_type: str
    events: list[bytes]
    prelude: list[bytes] = field(default_factory=list)
    malformed: bytes = b""      # replaces the frame selected by malformed_chunk_at
    error_event: bytes = b""    # sent by error_event_after_chunks
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    scope: str
    method: str
    path: str          # full request path, with the query string
    subpath: str       # path after the scope segment, without the query string, e.g. /v1/models
    headers: dict[str, str]
    raw: bytes
    json: Any          # parsed body, or None
    json_error: str | None
    state: State
    # ``echo_credentials`` without ``status``: the credentials the request carried, echoed in
    # the SUCCESSFUL answer (OpenAI protocol: chat reply, tool-call arguments, model list).
    echo: str | None = None


class BadRequest(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Protocols
# ---------------------------------------------------------------------------------------------


class Protocol:
    """One wire format. Subclasses fill ``routes`` with (METHOD, subpath) -> method name."""
    name = "base"
    routes: dict[tuple[str, str], str] = {}
    # The routes served at the server root (no scope) under ``--personality <name>``: only a
    # server's identity and model routes, so that discovery tests see exactly one kind.
    personality_routes: dict[tuple[str, str], str] = {}

    def find(self, method: str, subpath: str) -> Callable[[Request], Any] | None:
        name = self.routes.get((method, subpath))
        return getattr(self, name) if name else None

    def wants_stream(self, req: Request) -> bool:
        return False

    def claims(self, req: Request) -> bool:
        """Whether this protocol serves a request on a route it shares with others."""
        return True

    def error_type_for(self, status: int) -> str:
        raise NotImplementedError

    def error_body(self, status: int, message: str, err_type: str | None = None,
                   code: Any = None) -> Any:
        raise NotImplementedError


def words(text: str) -> list[str]:
    return text.split()


def string_list(value: Any, allow_empty: bool = False) -> list[str] | None:
    """An input the OpenAI-shaped APIs take as a string or a list of strings, as a list (a
    string is a list of one); None for anything else, or for [] unless `allow_empty`."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and (value or allow_empty) and all(isinstance(x, str) for x in value):
        return value
    return None


def sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


class OpenAIProtocol(Protocol):
    name = "openai"
    routes = {
        ("POST", "/v1/chat/completions"): "chat_completions",
        ("POST", "/v1/embeddings"): "embeddings",
        ("GET", "/v1/models"): "models",
    }
    personality_routes = {("GET", "/v1/models"): "models", ("POST", "/v1/chat/completions"): "chat_completions"}
    TOOL_ARGS = '{"city": "Paris"}'

    # --- errors ---
    def error_type_for(self, status: int) -> str:
        if status == 429:
            return "rate_limit_error"
        if status >= 500:
            return "server_error"
        return "invalid_request_error"

    def error_body(self, status, message, err_type=None, code=None):
        return {"error": {"message": message, "type": err_type or self.error_type_for(status),
                          "param": None, "code": code}}

    def bad_request(self, message: str) -> JsonResponse:
        return JsonResponse(400, self.error_body(400, message, "invalid_request_error"))

    def wants_stream(self, req: Request) -> bool:
        return (req.subpath == "/v1/chat/completions" and isinstance(req.json, dict)
                and req.json.get("stream") is True)

    # --- helpers ---
    @staticmethod
    def content_text(content: Any) -> str:
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" \
                        and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part, str):
                    texts.append(part)
            return " ".join(texts)
        return ""

    def require_json_object(self, req: Request) -> dict:
        if req.json_error is not None:
            raise BadRequest(f"We could not parse the JSON body of your request: {req.json_error}")
        if not isinstance(req.json, dict):
            raise BadRequest("The request body must be a JSON object.")
        return req.json

    # --- endpoints ---
    def chat_completions(self, req: Request):
        body = self.require_json_object(req)
        # A scope named mistral… answers as Mistral's chat does: its API validates the body
        # strictly and has no `stream_options` (422 "Extra inputs are not permitted"), and a
        # stream carries `usage` on its last chunk unasked.
        mistral = req.scope.startswith("mistral")
        if mistral and "stream_options" in body:
            return JsonResponse(422, self.error_body(422, "stream_options: Extra inputs are not permitted"))
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise BadRequest("'messages' must be a non-empty array.")
        model = body.get("model", "fake-small")
        last_user = ""
        prompt_tokens = 0
        for m in messages:
            if not isinstance(m, dict):
                raise BadRequest("Each message must be an object.")
            text = self.content_text(m.get("content"))
            prompt_tokens += len(words(text))
            if m.get("role") == "user":
                last_user = text
        tools = body.get("tools")
        tool_name = None
        if isinstance(tools, list) and tools and re.search(r"\bweather\b", last_user, re.I):
            first = tools[0] if isinstance(tools[0], dict) else {}
            fn = first.get("function") if isinstance(first.get("function"), dict) else {}
            tool_name = fn.get("name") or "tool"
        # `n` > 1: choice i answers "echo: <text> [i]" (choice 0 as with one choice); usage
        # counts every choice, as OpenAI's does.
        n = body.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
            raise BadRequest("Invalid 'n': expected an integer between 1 and 128.")
        reply = "echo: " + last_user
        tool_args = self.TOOL_ARGS
        if req.echo:
            reply += f" (credentials received: {req.echo})"
            tool_args = json.dumps({"city": "Paris", "credentials": req.echo})
        if tool_name:
            completion_tokens = len(words(tool_args))
        else:
            completion_tokens = len(words(reply))
        # Reasoning models (DeepSeek, llama.cpp) answer `reasoning_effort` with their thinking
        # in `reasoning_content` before the answer, counted in completion_tokens.
        effort = body.get("reasoning_effort")
        thought = f"thinking about: {last_user}" if isinstance(effort, str) and effort != "none" else None
        if thought:
            completion_tokens += len(words(thought))
        replies = [reply] + [f"{reply} [{i}]" for i in range(1, n if not tool_name else 1)]
        completion_tokens += sum(len(words(r)) for r in replies[1:])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        if thought:
            usage["completion_tokens_details"] = {"reasoning_tokens": len(words(thought))}
        # Prompt caching seen by OpenAI-shaped servers (OpenRouter passes cache_control on).
        if "cache_control" in json.dumps(messages):
            usage["prompt_tokens_details"] = {"cached_tokens": min(7, prompt_tokens)}
        cid = f"chatcmpl-fake-{req.state.next_id()}"
        created = int(time.time())

        if body.get("stream") is not True:
            if tool_name:
                message = {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_fake_1", "type": "function",
                     "function": {"name": tool_name, "arguments": tool_args}}]}
                finish = "tool_calls"
            else:
                message = {"role": "assistant", "content": reply}
                finish = "stop"
            if thought:
                message["reasoning_content"] = thought
            choices = [{"index": 0, "message": message, "finish_reason": finish}]
            choices += [{"index": i, "message": {"role": "assistant", "content": r}, "finish_reason": "stop"}
                        for i, r in enumerate(replies) if i > 0]
            return JsonResponse(200, {
                "id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": choices, "usage": usage})

        def chunk(delta: dict, finish_reason=None, index=0) -> bytes:
            return sse({"id": cid, "object": "chat.completion.chunk", "created": created,
                        "model": model,
                        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
                        "usage": None})

        events: list[bytes] = []
        if thought:
            events.append(chunk({"role": "assistant", "content": None, "reasoning_content": ""}))
            for tok in re.findall(r"\S+\s*", thought):
                events.append(chunk({"content": None, "reasoning_content": tok}))
        if tool_name:
            events.append(chunk({"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": "call_fake_1", "type": "function",
                 "function": {"name": tool_name, "arguments": ""}}]}))
            a = tool_args
            cuts = [0, len(a) // 3, 2 * len(a) // 3, len(a)]
            for i in range(3):
                events.append(chunk({"tool_calls": [
                    {"index": 0, "id": "",
                     "function": {"name": "", "arguments": a[cuts[i]:cuts[i + 1]]}}]}))
            events.append(chunk({}, "tool_calls"))
        else:
            for i in range(len(replies)):
                events.append(chunk({"role": "assistant", "content": ""}, None, i))
            # Each token is a word plus the whitespace that follows it: concatenation == reply.
            # With n > 1 the choices' chunks interleave, as OpenAI sends them.
            streams = [re.findall(r"\S+\s*", r) for r in replies]
            for k in range(max(len(t) for t in streams)):
                for i, toks in enumerate(streams):
                    if k < len(toks):
                        events.append(chunk({"content": toks[k]}, None, i))
            for i in range(len(replies)):
                events.append(chunk({}, "stop", i))
        if mistral:
            last = json.loads(events[-1][len(b"data: "):])
            last["usage"] = usage
            events[-1] = sse(last)
        so = body.get("stream_options")
        if isinstance(so, dict) and so.get("include_usage") is True:
            events.append(sse({"id": cid, "object": "chat.completion.chunk", "created": created,
                               "model": model, "choices": [], "usage": usage}))
        events.append(b"data: [DONE]\n\n")
        return Stream(
            content_type="text/event-stream",
            events=events,
            prelude=[b": keep-alive\n\n"],
            malformed=b'data: {"choices": [ {not json\n\n',
            error_event=sse({"error": {"message": "fake mid-stream error", "type": "server_error",
                                       "code": "overloaded"}}),
            headers={"Cache-Control": "no-cache"},
        )

    def embeddings(self, req: Request):
        body = self.require_json_object(req)
        inputs = string_list(body.get("input"))
        if inputs is None:
            raise BadRequest("'input' must be a string or a non-empty array of strings.")
        data = []
        n = 0
        for i, text in enumerate(inputs):
            n += len(words(text))
            data.append({"object": "embedding", "index": i, "embedding": embed(text)})
        # `id`: Mistral's answer has one and its SDK requires it (mistralai EmbeddingResponse);
        # OpenAI's clients ignore it.
        return JsonResponse(200, {"id": f"fake-embd-{req.state.next_id()}", "object": "list", "data": data,
                                  "model": body.get("model", "fake-embed"),
                                  "usage": {"prompt_tokens": n, "total_tokens": n}})

    def models(self, req: Request):
        with req.state.lock:
            data = copy.deepcopy(req.state.scope(req.scope).models)
        if req.echo:
            data.append({"id": f"echo {req.echo}", "object": "model", "owned_by": req.echo})
        return JsonResponse(200, {"object": "list", "data": data})


def embed(text: str, dims: int = 8) -> list[float]:
    """Deterministic vector in [-1, 1] from sha256(text)."""
    d = hashlib.sha256(text.encode("utf-8")).digest()
    return [round(int.from_bytes(d[2 * i:2 * i + 2], "big") / 65535 * 2 - 1, 6)
            for i in range(dims)]


PROTOCOLS: list[Protocol] = [OpenAIProtocol()]
DEFAULT_PROTOCOL = PROTOCOLS[0]  # shape of 404s for unknown paths


def load_protocol_plugins() -> None:
    """Each ``protocols/<name>.py`` next to this file defines ``PROTOCOL``, an instance of a
    ``Protocol`` subclass (it imports this module as ``fake_upstream`` for the helpers). They
    are tried before OpenAI's routes, in file-name order. A protocol whose paths need patterns
    (Gemini's ``/v1beta/models/{model}:generateContent``) overrides ``find``."""
    import importlib.util
    import os
    import sys
    sys.modules.setdefault("fake_upstream", sys.modules[__name__])
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "protocols")
    if not os.path.isdir(folder):
        return
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py") or name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location("fake_upstream_protocol_" + name[:-3],
                                                      os.path.join(folder, name))
        module = importlib.util.module_from_spec(spec)
        # Registered by name first: a plugin may build on one loaded before it
        # (``from fake_upstream_protocol_ollama import OllamaProtocol``).
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        PROTOCOLS.insert(len(PROTOCOLS) - 1, module.PROTOCOL)


PERSONALITIES = ("ollama", "lmstudio", "llamacpp", "openai", "other")
PERSONALITY_SCOPE = "default"  # the scope whose script, log and models a personality uses
OTHER_PAGE = b"<html>hello</html>"


def personality_route(personality: str, method: str, path: str):
    """(protocol, handler) for a root path under ``--personality``, or (protocol, None)."""
    proto = next(p for p in PROTOCOLS if p.name == personality)
    name = proto.personality_routes.get((method, path))
    return proto, (getattr(proto, name) if name else None)


def find_route(req: "Request"):
    """The first protocol that has the route and claims the request (several answer
    ``GET /v1/models``: each tells its own by headers or query, see ``Protocol.claims``)."""
    for proto in PROTOCOLS:
        fn = proto.find(req.method, req.subpath)
        if fn is not None and proto.claims(req):
            return proto, fn
    return None, None


# ---------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------


class Abort(Exception):
    """The connection was dropped on purpose (or by the peer); stop handling it."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-upstream/1"
    sys_version = ""
    disable_nagle_algorithm = True
    server: "FakeServer"

    def setup(self) -> None:
        # TLS (--tls-cert/--tls-key): the handshake runs here, on the handler's thread, so a
        # client that refuses the certificate only ends its own connection.
        if self.server.tls_context is not None:
            self.request.settimeout(10)
            self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
            self.request.settimeout(None)
        super().setup()

    # --- quiet logging ---
    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write("fake_upstream: %s - %s\n" % (self.address_string(), format % args))

    # --- dispatch ---
    def do_GET(self): self.dispatch()
    def do_POST(self): self.dispatch()
    def do_PUT(self): self.dispatch()
    def do_DELETE(self): self.dispatch()
    def do_PATCH(self): self.dispatch()

    def dispatch(self) -> None:
        try:
            raw = self.read_body()
            path = urlsplit(self.path).path
            if path == "/_control" or path.startswith("/_control/"):
                self.handle_control(path, raw)
            else:
                self.handle_api(path, raw)
        except Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            self.close_connection = True

    def read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise Abort()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n > 0 else b""
        if len(data) < n:
            raise Abort()
        return data

    # --- low-level writers ---
    def send_json(self, status: int, obj: Any, extra: dict | None = None) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", extra or {}, None)

    def send_bytes(self, status: int, body: bytes, content_type: str, extra: dict,
                   fault: dict | None) -> None:
        fault = fault or {}
        self.send_response(status)
        no_body = status in (204, 304) or 100 <= status < 200
        if not no_body:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.write_extra_headers(extra, fault)
        self.end_headers()
        if no_body or self.command == "HEAD":
            return
        if fault.get("truncate_body"):
            self.wfile.write(body[: len(body) // 2])
            self.drop()
        self.wfile.write(body)

    def write_extra_headers(self, extra: dict, fault: dict) -> None:
        self.send_header("x-request-id", f"req_fake_{next(self.server.request_ids)}")
        for k, v in extra.items():
            self.send_header(k, str(v))
        for k, v in (fault.get("headers") or {}).items():
            self.send_header(k, str(v))
        if "retry_after" in fault:
            self.send_header("Retry-After", str(fault["retry_after"]))
        if "retry_after_ms" in fault:
            self.send_header("retry-after-ms", str(fault["retry_after_ms"]))
        if fault.get("close_connection"):
            self.send_header("Connection", "close")  # also sets self.close_connection

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def drop(self) -> None:
        """Close the socket abruptly, without any further framing."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass
        raise Abort()

    def sleep_ms(self, ms: Any) -> None:
        if ms:
            if self.server.stopping.wait(ms / 1000.0):
                self.drop()

    def hang(self) -> None:
        """Never answer; return when the client goes away or the server stops."""
        sock = self.connection
        while not self.server.stopping.is_set():
            try:
                r, _, _ = select.select([sock], [], [], 0.1)
                if r:
                    if isinstance(sock, ssl.SSLSocket):
                        # No MSG_PEEK through TLS: read (the request was read already);
                        # b"" = close_notify or EOF.
                        sock.settimeout(0.1)
                        try:
                            if not sock.recv(4096):
                                break
                        except (socket.timeout, ssl.SSLWantReadError):
                            pass
                        continue
                    if not sock.recv(1, socket.MSG_PEEK):
                        break  # client closed
                    self.server.stopping.wait(0.1)
            except (OSError, ValueError):
                break
        self.drop()

    # --- API requests ---
    def make_request(self, scope: str, subpath: str, raw: bytes) -> Request:
        parsed, jerr = None, None
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as e:
                jerr = str(e)
        return Request(scope=scope, method=self.command, path=self.path, subpath=subpath,
                       headers=self.header_dict(), raw=raw, json=parsed, json_error=jerr,
                       state=self.server.state)

    def log_entry(self, req: Request) -> dict:
        return {"scope": req.scope, "method": self.command, "path": self.path,
                "headers": req.headers, "json": req.json,
                "body": req.raw.decode("utf-8", "replace"), "time": time.time(), "fault": None}

    def handle_api(self, path: str, raw: bytes) -> None:
        if self.server.personality is not None:
            self.handle_personality(path, raw)
            return
        parts = path.split("/", 2)  # ['', scope, rest]
        if len(parts) < 3 or not parts[1]:
            self.send_json(404, DEFAULT_PROTOCOL.error_body(
                404, f"Unknown path {path}", "invalid_request_error"))
            return
        scope, subpath = parts[1], "/" + parts[2]
        req = self.make_request(scope, subpath, raw)
        proto, fn = find_route(req)
        fault = self.server.state.log_and_take_fault(scope, self.log_entry(req),
                                                     consumes_fault=fn is not None)
        if fn is None:
            self.send_json(404, DEFAULT_PROTOCOL.error_body(
                404, f"Unknown path {self.command} {path}", "invalid_request_error"))
            return
        self.answer(req, proto, fn, fault or {})

    def handle_personality(self, path: str, raw: bytes) -> None:
        """``--personality``: only that server kind's root routes (scope ``default`` for the
        script, log and models); ``other`` answers every path with an HTML page."""
        personality = self.server.personality
        req = self.make_request(PERSONALITY_SCOPE, path, raw)
        if personality == "other":
            self.server.state.log_and_take_fault(PERSONALITY_SCOPE, self.log_entry(req), False)
            self.send_bytes(200, OTHER_PAGE, "text/html; charset=utf-8", {}, None)
            return
        proto, fn = personality_route(personality, self.command, path)
        fault = self.server.state.log_and_take_fault(PERSONALITY_SCOPE, self.log_entry(req),
                                                     consumes_fault=fn is not None)
        if fn is None:
            self.send_json(404, proto.error_body(404, f"Unknown path {self.command} {path}",
                                                 proto.error_type_for(404)))
            return
        self.answer(req, proto, fn, fault or {})

    def answer(self, req: Request, proto: Protocol, fn: Callable[[Request], Any],
               fault: dict) -> None:
        """A routed API request: the fault entry, then the handler's answer."""
        streaming = proto.wants_stream(req)

        self.sleep_ms(fault.get("delay_headers_ms"))
        if fault.get("hang"):
            self.hang()
        if "disconnect_after_chunks" in fault and not streaming:
            self.drop()
        if fault.get("echo_credentials") and not ("status" in fault or "body" in fault):
            req.echo = credentials_of(req)
        if "status" in fault or "body" in fault:
            status = fault.get("status", 200)
            if "body" in fault:
                body = fault["body"].encode()
            else:
                msg = fault.get("message", f"fake fault {status}")
                if fault.get("echo_credentials"):
                    msg += f" (credentials received: {credentials_of(req)})"
                body = json.dumps(proto.error_body(status, msg, fault.get("error_type"),
                                                   fault.get("error_code"))).encode()
            self.send_bytes(status, body, "application/json", {}, fault)
            return

        try:
            result = fn(req)
        except BadRequest as e:
            result = JsonResponse(400, proto.error_body(400, str(e), "invalid_request_error"))
        if isinstance(result, Stream):
            self.send_stream(result, fault)
        else:
            ctype = result.content_type if isinstance(result, TextResponse) else "application/json"
            self.send_bytes(result.status, result.body(), ctype, result.headers, fault)

    def send_stream(self, st: Stream, fault: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", st.content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.write_extra_headers(st.headers, fault)
        self.end_headers()

        events = list(st.events)
        mal = fault.get("malformed_chunk_at")
        if mal is not None and mal < len(events):
            events[mal] = st.malformed
        err_after = fault.get("error_event_after_chunks")
        cut_after = fault.get("disconnect_after_chunks")
        truncate = bool(fault.get("truncate_body"))
        if truncate and cut_after is None:
            cut_after = max(1, len(events) // 2)
        delay = fault.get("chunk_delay_ms")
        stall_after = fault.get("stall_after_chunks")

        if err_after == 0:
            self.write_chunk(st.error_event)
            self.wfile.write(b"0\r\n\r\n")
            return
        for frame in st.prelude:
            self.write_chunk(frame)
        for i, frame in enumerate(events):
            if err_after is not None and i == err_after:
                self.write_chunk(st.error_event)
                break
            if cut_after is not None and i == cut_after:
                if truncate:
                    self.write_chunk(frame[: max(1, len(frame) // 2)])
                self.drop()
            if stall_after is not None and i == stall_after:
                self.stall(fault)
            if i > 0:
                self.sleep_ms(delay)
            self.write_chunk(frame)
        else:
            if cut_after is not None and cut_after >= len(events):
                self.drop()
            if stall_after is not None and stall_after >= len(events):
                self.stall(fault)
        self.wfile.write(b"0\r\n\r\n")

    def stall(self, fault: dict) -> None:
        """``stall_after_chunks``: what was sent so far is flushed, then nothing more for
        ``stall_ms`` (the stream then goes on), or without ``stall_ms`` until the client goes
        away (the socket is then dropped)."""
        self.wfile.flush()
        if "stall_ms" in fault:
            self.sleep_ms(fault["stall_ms"])
        else:
            self.hang()

    def header_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in self.headers.items():
            k = k.lower()
            out[k] = f"{out[k]}, {v}" if k in out else v
        return out

    # --- control API ---
    def handle_control(self, path: str, raw: bytes) -> None:
        segs = [s for s in path.split("/") if s][1:]  # drop "_control"
        m = self.command
        state = self.server.state
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError) as e:
            self.send_json(400, {"error": f"bad JSON: {e}"})
            return
        try:
            if segs == ["health"] and m == "GET":
                self.send_json(200, {"ok": True})
                return
            if segs == ["reset"] and m == "POST":
                state.reset()
                self.send_json(200, {"ok": True})
                return
            if len(segs) == 2:
                scope, action = segs
                if action in ("script", "append") and m == "POST":
                    entries = body.get("entries") if isinstance(body, dict) else body
                    entries = validate_entries(entries)
                    with state.lock:
                        st = state.scope(scope)
                        if action == "script":
                            st.faults = entries
                        else:
                            st.faults.extend(entries)
                        n = len(st.faults)
                    self.send_json(200, {"ok": True, "queued": n})
                    return
                if action == "script" and m == "GET":
                    with state.lock:
                        q = [dict(e) for e in state.scope(scope).faults]
                    for e in q:
                        e["times_left"] = e.pop("_left")
                    self.send_json(200, {"entries": q})
                    return
                if action == "requests" and m == "GET":
                    with state.lock:
                        reqs = copy.deepcopy(state.scope(scope).requests)
                    self.send_json(200, {"requests": reqs})
                    return
                if action == "models" and m == "POST":
                    data = body.get("data") if isinstance(body, dict) else None
                    if not isinstance(data, list):
                        raise ValueError("'data' must be an array of model objects")
                    with state.lock:
                        state.scope(scope).models = copy.deepcopy(data)
                    self.send_json(200, {"ok": True})
                    return
                if action == "models" and m == "GET":
                    with state.lock:
                        data = copy.deepcopy(state.scope(scope).models)
                    self.send_json(200, {"data": data})
                    return
                if action == "reset" and m == "POST":
                    state.reset(scope)
                    self.send_json(200, {"ok": True})
                    return
        except ValueError as e:
            self.send_json(400, {"error": str(e)})
            return
        self.send_json(404, {"error": f"unknown control call {m} {path}"})


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # listen() backlog: socketserver's default of 5 drops the SYNs of a burst (100 streams opened
    # at once by a load test), and the client's SYN retries then take 1, 3, 7, ... seconds.
    request_queue_size = 256

    def __init__(self, addr, verbose: bool = False, personality: str | None = None,
                 tls_context: ssl.SSLContext | None = None):
        host = addr[0]
        self.tls_context = tls_context
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.verbose = verbose
        self.personality = personality
        self.state = State()
        self.stopping = threading.Event()
        self.request_ids = itertools.count(1)
        super().__init__(addr, Handler)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fake LLM provider server for tests.")
    ap.add_argument("--host", default="127.0.0.1", help="loopback address only")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--exit-on-stdin-eof", action="store_true",
                    help="exit when stdin reaches EOF (the parent went away)")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--tls-cert", metavar="PEM", default=None,
                    help="serve HTTPS with this certificate (chain) file; needs --tls-key")
    ap.add_argument("--tls-key", metavar="PEM", default=None, help="the certificate's private key")
    ap.add_argument("--personality", choices=PERSONALITIES, default=None,
                    help="answer only this server kind's identity/model routes at the root "
                         "(no scope); 'other' answers every path with an HTML page")
    args = ap.parse_args(argv)
    if not is_loopback(args.host):
        ap.error(f"refusing to bind non-loopback address {args.host!r}")
    host = "127.0.0.1" if args.host == "localhost" else args.host
    if (args.tls_cert is None) != (args.tls_key is None):
        ap.error("--tls-cert and --tls-key go together")
    tls_context = None
    if args.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)
    load_protocol_plugins()

    server = FakeServer((host, args.port), verbose=args.verbose, personality=args.personality,
                        tls_context=tls_context)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.exit_on_stdin_eof:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read1(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                             name="serve", daemon=True)
    serve.start()
    sys.stdout.write(f"PORT {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    server.stopping.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
