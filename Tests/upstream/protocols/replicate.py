# SPDX-License-Identifier: Apache-2.0
"""Replicate's predictions API for the fake upstream. A provider's base_url is
``http://127.0.0.1:PORT/<scope>/v1`` (Replicate's is ``https://api.replicate.com/v1``).

Shapes as Replicate's HTTP API reference and replicate-python (``prediction.py``,
``stream.py``) show them:

| request | answer |
|---|---|
| ``POST /v1/models/{owner}/{name}/predictions`` ``{input, stream?}`` | 201 with a prediction ``{id, model, version, input, logs, output, error, status, created_at, urls: {get, cancel, stream?}, metrics}``. With ``Prefer: wait`` the prediction is ``succeeded`` at once (``output`` an ARRAY of text pieces, one per word with its following whitespace; ``metrics.input_token_count`` / ``output_token_count`` count words); without it, ``starting``: ``GET urls.get`` answers ``processing`` once, then ``succeeded``. ``stream: true`` adds ``urls.stream`` (also with ``Prefer: wait``, the prediction is then ``starting``). |
| ``POST /v1/predictions`` ``{version, input, stream?}`` | the same for a version id (``model`` is then ``"replicate/<version>"``) |
| ``GET /v1/predictions/{id}`` | the prediction as it stands |
| ``GET /v1/stream/{id}`` (``urls.stream``) | SSE: ``event: output`` per piece (``id`` ``<n>:0``, raw text as data, a piece with a line break spread over several ``data:`` lines), then ``event: done`` ``data: {}``. A failed prediction streams ``event: error`` ``data: {"detail": …}`` then ``done`` with ``{"reason": "error"}``. |

A model whose name contains ``async`` answers ``starting`` even with ``Prefer: wait`` (as
Replicate may when the wait runs out), so clients must poll. ``input.prompt`` (a string) is required; the reply is ``"echo: "`` + the last user turn
(the text after the last ``User: `` label, else the whole prompt), cut to
``input.max_tokens`` (or ``max_new_tokens``) words. A prompt containing ``FAIL`` makes the
prediction ``failed`` with ``error: "fake prediction failure"``. Every request needs
``Authorization: Bearer …`` (401 otherwise).

Errors are RFC 7807 problem details: ``{"title", "detail", "status"}`` (422 adds
``invalid_fields``). The fault vocabulary's malformed frame is ``event: done`` with
``data: {not json``; its error event is ``event: error`` ``data: {"detail": "fake mid-stream
error"}``. A fault entry is taken by each request: the create call takes the first, the
stream's GET the next.
"""

from __future__ import annotations

import copy
import json
import re
import time

import fake_upstream as fu

MODEL_ROUTE = re.compile(r"^/v1/models/([^/]+)/([^/]+)/predictions$")
GET_ROUTE = re.compile(r"^/v1/predictions/([a-z0-9]+)$")
STREAM_ROUTE = re.compile(r"^/v1/stream/([a-z0-9]+)$")
TITLES = {400: "Bad request", 401: "Unauthenticated", 402: "Payment required", 404: "Not found",
          422: "Input validation failed", 429: "Request was throttled"}


def pieces(text: str) -> list[str]:
    """Words with their following whitespace, as an LLM streams them."""
    return re.findall(r"\S+\s*", text)


def reply_for(prompt: str) -> str:
    turn = prompt.rsplit("User: ", 1)[-1] if "User: " in prompt else prompt
    return "echo: " + turn.split("\nAssistant:", 1)[0].strip()


class ReplicateProtocol(fu.Protocol):
    name = "replicate"
    routes = {("POST", "/v1/predictions"): "create_version"}

    def find(self, method: str, subpath: str):
        if method == "POST" and MODEL_ROUTE.match(subpath):
            return self.create_model
        if method == "GET" and GET_ROUTE.match(subpath):
            return self.get
        if method == "GET" and STREAM_ROUTE.match(subpath):
            return self.stream
        return super().find(method, subpath)

    def wants_stream(self, req: fu.Request) -> bool:
        return STREAM_ROUTE.match(req.subpath) is not None

    def error_type_for(self, status: int) -> str:
        return TITLES.get(status, "Internal server error" if status >= 500 else "Error")

    def error_body(self, status, message, err_type=None, code=None):
        return {"title": self.error_type_for(status), "detail": message, "status": status}

    def problem(self, status: int, detail: str, **extra) -> fu.JsonResponse:
        return fu.JsonResponse(status, dict(self.error_body(status, detail), **extra))

    # --- state: predictions per scope, kept on the scope object ---

    @staticmethod
    def table(req: fu.Request) -> dict:  # caller holds the lock
        scope = req.state.scope(req.scope)
        if not hasattr(scope, "replicate_predictions"):
            scope.replicate_predictions = {}
        return scope.replicate_predictions

    def base(self, req: fu.Request) -> str:
        return "http://%s/%s/v1" % (req.headers.get("host", "127.0.0.1"), req.scope)

    # --- handlers ---

    def create_model(self, req: fu.Request):
        owner, name = MODEL_ROUTE.match(req.subpath).groups()
        return self.create(req, f"{owner}/{name}", version=None)

    def create_version(self, req: fu.Request):
        body = req.json if isinstance(req.json, dict) else {}
        version = body.get("version")
        if not isinstance(version, str) or not version:
            return self.problem(422, "- version: version is required", invalid_fields=[
                {"type": "required", "field": "version", "description": "version is required"}])
        return self.create(req, f"replicate/{version}", version=version)

    def create(self, req: fu.Request, model: str, version: str | None):
        if not req.headers.get("authorization", "").startswith("Bearer "):
            return self.problem(401, "You did not pass a valid authentication token")
        body = req.json
        if not isinstance(body, dict):
            return self.problem(400, "Request body must be a JSON object")
        unknown = set(body) - {"input", "stream", "version", "webhook", "webhook_events_filter"}
        if unknown:
            return self.problem(422, "- : Additional property %s is not allowed" % sorted(unknown)[0])
        inp = body.get("input")
        if not isinstance(inp, dict) or not isinstance(inp.get("prompt"), str):
            return self.problem(422, "- input.prompt: prompt is required", invalid_fields=[
                {"type": "required", "field": "input.prompt", "description": "prompt is required"}])
        stream = body.get("stream") is True
        prompt = inp["prompt"]
        text = reply_for(prompt)
        limit = inp.get("max_tokens", inp.get("max_new_tokens"))
        out = pieces(text)
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < len(out):
            out = out[:limit]
        failed = "FAIL" in prompt
        with req.state.lock:
            req.state.counter += 1
            pid = "p%08dfake" % req.state.counter
        base = self.base(req)
        pred = {"id": pid, "model": model, "version": version or "dp-4d5c8e1fa5e7", "input": inp,
                "logs": "", "output": None, "data_removed": False, "error": None, "status": "starting",
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
                "urls": {"get": f"{base}/predictions/{pid}", "cancel": f"{base}/predictions/{pid}/cancel",
                         "web": f"https://replicate.com/p/{pid}"}}
        if stream:
            pred["urls"]["stream"] = f"{base}/stream/{pid}"
        words_in = len(prompt.split()) + len(str(inp.get("system_prompt", "")).split())
        final = {"status": "failed" if failed else "succeeded",
                 "output": None if failed else out,
                 "error": "fake prediction failure" if failed else None,
                 "metrics": {"input_token_count": words_in, "output_token_count": 0 if failed else len(out),
                             "predict_time": 0.05, "total_time": 0.06}}
        # A model named "…async…" ignores Prefer: wait, as a busy Replicate may (the client polls).
        wait = "wait" in req.headers.get("prefer", "") and "async" not in model
        with req.state.lock:
            self.table(req)[pid] = {"pred": pred, "final": final, "polls": 0, "pieces": out, "failed": failed}
            if wait and not stream:
                pred.update(copy.deepcopy(final))
            answer = copy.deepcopy(pred)
        return fu.JsonResponse(201, answer)

    def get(self, req: fu.Request):
        pid = GET_ROUTE.match(req.subpath).group(1)
        with req.state.lock:
            entry = self.table(req).get(pid)
            if entry is None:
                return self.problem(404, "The requested resource could not be found.")
            pred = entry["pred"]
            if pred["status"] in ("starting", "processing"):
                entry["polls"] += 1
                if entry["polls"] == 1:
                    pred["status"] = "processing"
                else:
                    pred.update(copy.deepcopy(entry["final"]))
            return fu.JsonResponse(200, copy.deepcopy(pred))

    def stream(self, req: fu.Request):
        pid = STREAM_ROUTE.match(req.subpath).group(1)
        with req.state.lock:
            entry = self.table(req).get(pid)
            if entry is not None:
                entry["pred"].update(copy.deepcopy(entry["final"]))
        if entry is None:
            return self.problem(404, "The requested resource could not be found.")
        events = []
        if entry["failed"]:
            events.append(b'event: error\ndata: {"detail": "fake prediction failure"}\n\n')
            events.append(b'event: done\ndata: {"reason": "error"}\n\n')
        else:
            for i, piece in enumerate(entry["pieces"]):
                data = b"".join(b"data: " + line.encode() + b"\n" for line in piece.split("\n"))
                events.append(b"event: output\nid: %d:0\n" % i + data + b"\n")
            events.append(b"event: done\ndata: {}\n\n")
        return fu.Stream("text/event-stream", events,
                         malformed=b"event: done\ndata: {not json\n\n",
                         error_event=b'event: error\ndata: {"detail": "fake mid-stream error"}\n\n')


PROTOCOL = ReplicateProtocol()
