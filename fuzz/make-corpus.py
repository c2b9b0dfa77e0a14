#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds fuzz/corpus/<target>/ seed files (run from anywhere; rewrites the corpus).

Sources: examples/*.json and Tests/cxx/*.json (configs); string literals of the Swift tests in
Tests/ProviderMuxCoreTests (recorded stream fragments, request and response bodies), sorted to
targets by file name and content; plus a few hand-written streams per protocol, the shapes the
fake upstreams in Tests/upstream/protocols send. Stream targets read the first byte as the chunk
selector (see Sources/FuzzSupport/Chunking.swift): seeds get 0x00 (one chunk) and 0x83 (byte by
byte) variants. fuzz-json gets every JSON-looking literal, every `data:` payload and the edge
cases below. Usage: make-corpus.py [TARGET...] (only those targets' directories rewritten).
"""
import hashlib, json, pathlib, re, shutil, sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "corpus"
MAX = 4096

def literals(src):
    """Swift string literals: \"\"\" blocks, #"raw"#, plain "..." (escapes undone; interpolations kept)."""
    out = []
    for m in re.finditer(r'#"""\n(.*?)\n\s*"""#|"""\n(.*?)\n\s*"""|#"(.*?)"#|"((?:[^"\\\n]|\\.)*)"', src, re.S):
        raw, block, rawline, plain = m.groups()
        if raw is not None:
            s = "\n".join(l.strip() for l in raw.split("\n"))
        elif block is not None:
            s = "\n".join(l.strip() for l in block.split("\n"))
            s = unescape(s)
        elif rawline is not None:
            s = rawline
        else:
            s = unescape(plain)
        if len(s) >= 4:
            out.append(s)
    return out

def unescape(s):
    return re.sub(r'\\([nrt"\\0])', lambda m: {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "0": "\0"}[m.group(1)], s)

def sse(events):
    return "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" if e else f"data: {json.dumps(d) if not isinstance(d, str) else d}\n\n" for e, d in events)

HAND = {
    "openai-stream": [
        sse([(None, {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
             (None, {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
             (None, "[DONE]")]),
        sse([(None, {"id": "c2", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "t1", "type": "function",
              "function": {"name": "f", "arguments": "{\"a\":"}}]}}]}),
             (None, {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}, "finish_reason": "tool_calls"}]}),
             (None, "[DONE]")]),
        'data: {"error": {"message": "boom", "type": "server_error"}}\n\n',
    ],
    "anthropic-stream": [
        sse([("message_start", {"type": "message_start", "message": {"id": "msg_1", "model": "claude", "role": "assistant", "content": [], "usage": {"input_tokens": 5, "output_tokens": 0}}}),
             ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
             ("ping", {"type": "ping"}),
             ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
             ("content_block_stop", {"type": "content_block_stop", "index": 0}),
             ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "tu1", "name": "f", "input": {}}}),
             ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\": 1}"}}),
             ("content_block_stop", {"type": "content_block_stop", "index": 1}),
             ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 7}}),
             ("message_stop", {"type": "message_stop"})]),
        sse([("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})]),
    ],
    "gemini-stream": [
        sse([(None, {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}], "modelVersion": "gemini"}),
             (None, {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a": 1}}}]}, "finishReason": "STOP", "index": 0}],
                     "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}})]),
        sse([(None, {"promptFeedback": {"blockReason": "SAFETY"}})]),
        sse([(None, {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})]),
    ],
    "ollama-stream": [
        "\n".join(json.dumps(o) for o in [
            {"model": "llama", "created_at": "2024-01-01T00:00:00Z", "message": {"role": "assistant", "content": "Hel"}, "done": False},
            {"model": "llama", "message": {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]}, "done": False},
            {"model": "llama", "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2}]) + "\n",
        '{"error": "model not found"}\n',
    ],
    "cohere-stream": [
        sse([("message-start", {"type": "message-start", "id": "m1", "delta": {"message": {"role": "assistant"}}}),
             ("content-start", {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
             ("content-delta", {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}}),
             ("content-end", {"type": "content-end", "index": 0}),
             ("tool-plan-delta", {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "call f"}}}),
             ("tool-call-start", {"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}}}}}),
             ("tool-call-delta", {"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\"a\":1}"}}}}}),
             ("tool-call-end", {"type": "tool-call-end", "index": 0}),
             ("message-end", {"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 3, "output_tokens": 2}, "tokens": {"input_tokens": 3, "output_tokens": 2}}}})]),
    ],
    "responses": [
        json.dumps({"id": "c1", "object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
        json.dumps({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "content": [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}),
        json.dumps({"candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1}}),
        json.dumps({"model": "llama", "message": {"role": "assistant", "content": "hi"}, "done": True, "done_reason": "stop", "prompt_eval_count": 1, "eval_count": 1}),
        json.dumps({"id": "c", "finish_reason": "COMPLETE", "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}, "usage": {"tokens": {"input_tokens": 1, "output_tokens": 1}}}),
        json.dumps({"data": [{"id": "m1"}, {"id": "m2"}], "models": [{"name": "llama", "details": {}}]}),
    ],
    "request": [
        json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True, "n": 1, "temperature": 0.5,
                    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                    "response_format": {"type": "json_object"}, "route": {"strategy": "fallback", "min_context": 1000}}),
        json.dumps({"model": "m", "input": ["a", "b"], "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}]}),
    ],
}

STREAM_TARGETS = {"sse", "ndjson", "openai-stream", "anthropic-stream", "gemini-stream", "ollama-stream", "cohere-stream"}

def classify(name, s):
    """Which targets a test literal seeds."""
    out = set()
    lname = name.lower()
    looks_sse = "data:" in s or "event:" in s
    looks_json = s.lstrip().startswith(("{", "["))
    if looks_sse:
        out.add("sse")
        for p in ("openai", "anthropic", "gemini", "cohere"):
            if p in lname: out.add(f"{p}-stream")
        if not any(p in lname for p in ("anthropic", "gemini", "cohere", "ollama")): out.add("openai-stream")
    if "\n" in s and looks_json or "ndjson" in lname:
        out.add("ndjson")
        if "ollama" in lname: out.add("ollama-stream")
    if looks_json:
        if "providers" in s or "config" in lname or "routing" in s: out.add("config")
        if "messages" in s or "request" in lname: out.add("request")
        if any(p in lname for p in ("codec", "protocol")): out.add("responses")
        if "ollama" in lname and '"done"' in s: out.add("ollama-stream")
    return out

# fuzz-json: the parser's rules at their edges (the differential target compares with jansson).
JSON_EDGES = [
    "", " ", "[1,]", "{\"a\":1,}", "[01]", "-", "1.", "1e", "1e+", "-0", "-0.0", "1e309", "1e-400",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "3.14159265358979323846264338327950288", "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\udc00\"",
    "\"\\ud800\\u0041\"", "{\"a\\u0000\":1}", "[\"a\\u0000b\"]", "{\"a\":1,\"b\":2,\"a\":3}",
    "{\"a\":1,\"\\u0061\":2}", "truex", "[null1]", "\"\\x\"", "\"\\u12G4\"", "[" * 2049 + "]" * 2049,
    "[" * 2048 + "1" + "]" * 2048, "[" * 256 + "]" * 256, "[" * 257 + "]" * 257, "\"\u00e9\u4e16\U0001F600\"",
]
JSON_EDGE_BYTES = [b'"\xc0\x80"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b'"\xe2\x82"', b"[1\xff]",
                   b"[tru\xff]", b'"\\ud800\xff"', b'"a\tb"', b'"a\x00b"']

def main():
    seeds = {}
    def add(target, data):
        if isinstance(data, str): data = data.encode()
        if len(data) > MAX or (not data and target != "json"): return
        if target in STREAM_TARGETS:
            variants = [b"\x00" + data, b"\x83" + data, b"\x41" + data]
        elif target == "responses":
            # The first byte picks the codec (fuzz-responses): one per seed, spread by its hash;
            # libFuzzer's mutations of that byte try the others.
            variants = [bytes([hashlib.sha1(data).digest()[0] % 8]) + data]
        else:
            variants = [data]
        for v in variants:
            seeds.setdefault(target, {})[hashlib.sha1(v).hexdigest()[:16]] = v
    for f in sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "Tests" / "cxx").glob("*.json")):
        add("config", f.read_bytes())
    for f in sorted((ROOT / "Tests" / "ProviderMuxCoreTests").glob("*.swift")):
        for s in literals(f.read_text()):
            for t in classify(f.name, s):
                add(t, s)
    # fuzz-json: JSON-looking literals of every test source and every `data:` payload.
    for f in sorted((ROOT / "Tests" / "ProviderMuxCoreTests").rglob("*.swift")):
        for s in literals(f.read_text()):
            if s.lstrip().startswith(("{", "[")): add("json", s)
            for line in s.split("\n"):
                if line.startswith("data:"): add("json", line[5:].lstrip())
    for items in HAND.values():
        for s in items:
            for line in s.split("\n"):
                if line.startswith("data:"): add("json", line[5:].lstrip())
    for s in JSON_EDGES: add("json", s.encode())
    for b in JSON_EDGE_BYTES: add("json", b)
    for t, items in HAND.items():
        for s in items:
            add(t, s)
            if t in ("anthropic-stream", "openai-stream", "gemini-stream", "cohere-stream"):
                add("sse", s)
                add(t, s.replace("\n", "\r\n"))
            if t == "ollama-stream":
                add("ndjson", s)
    # fuzz-headers: first byte = codec (low nibble: openai, anthropic, gemini, ollama, azure,
    # cohere) and status (high nibble: 0 = 429, 1 = 503); then a header block, a blank line and
    # the error body. fuzz-usage: first byte = protocol (low nibble: openai, anthropic, gemini,
    # ollama, cohere) | 0x80 for the stream template; then comma-separated number literals.
    extremes = ["9223372036854775807", "9223372036854775808", "-1", "1e308", "1e999", "1e20",
                "1234567890123456789012345678901234567890", "-1234567890123456789012345678901234567890",
                "0.5", "0", "nan", "inf"]
    for n, v in enumerate(extremes):
        codec = n % 6
        for name, fmt in [("Retry-After", "{}"), ("retry-after-ms", "{}"), ("x-ms-retry-after-ms", "{}"),
                          ("x-ratelimit-reset-requests", "{}s"), ("x-ratelimit-reset-tokens", "1h{}m")]:
            for status in (0x00, 0x10):
                add("headers", bytes([status | codec]) + f"{name}: {fmt.format(v)}\r\nContent-Type: application/json\r\n\r\n{{}}".encode())
        body = json.dumps({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": v + "s"}]}})
        add("headers", bytes([0x02]) + ("content-type: application/json\r\n\r\n" + body).encode())
        for proto in range(5):
            for stream in (0, 0x80):
                add("usage", bytes([proto | stream]) + ",".join([v] * 3 + ["1", "2"]).encode())
    add("usage", b"\x00" + ",".join(extremes).encode())
    add("usage", b"\x80" + ",".join(reversed(extremes)).encode())
    only = set(a.removeprefix("fuzz-") for a in sys.argv[1:])
    if not only and OUT.exists(): shutil.rmtree(OUT)
    for t in sorted(seeds):
        if only and t not in only: continue
        d = OUT / t
        if d.exists(): shutil.rmtree(d)
        d.mkdir(parents=True)
        for h, v in sorted(seeds[t].items()):
            (d / h).write_bytes(v)
        print(f"{t:18} {len(seeds[t]):4} seeds")

main()
