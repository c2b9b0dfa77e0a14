#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Peak memory of parsing adversarial JSON, through the C ABI (issue 12, item 3).

For each shape, a child process loads libprovidermux.so (PROVIDERMUX_LIB), makes one small
request as a warm-up, reads VmHWM, then either receives an upstream answer of SIZE bytes made
of that shape (pmx_router_complete against a loopback server in this process) or sends a
request of that shape (caller input), and reads VmHWM again. Prints one line per case:
shape, where, bytes, status, peak growth in MiB and as a multiple of the body size.

    PROVIDERMUX_LIB=build/lib/libprovidermux.so python3 bench/memory/json_peak.py [SIZE_MiB]
"""
import ctypes, http.server, json, os, subprocess, sys, threading

SIZE = int(float(sys.argv[1] if len(sys.argv) > 1 else 8) * (1 << 20))


def filler(shape: str, n: int) -> bytes:
    unit = {"objects": b"{},", "arrays": b"[],", "zeros": b"0,", "strings": b'"",',
            "members": None, "deep": None, "logprobs": None, "ints5": b"12345,", "embeddings": None, "text": None, "args": None}[shape]
    if shape == "members":
        parts, i, size = [], 0, 0
        while size < n:
            p = b'"k%d":{},' % i
            parts.append(p); size += len(p); i += 1
        return b"{" + b"".join(parts)[:-1] + b"}"
    if shape == "logprobs":  # the densest legitimate answer we know: per-token logprobs
        unit = b'{"token":"Hello","logprob":-0.31725305,"bytes":[72,101,108,108,111],"top_logprobs":[]},'
        k = n // len(unit)
        return b"[" + (unit * k)[:-1] + b"]"
    if shape == "deep":
        d = n // 2
        return b"[" * d + b"]" * d
    if shape == "embeddings":  # 100 inputs x 3072 dims, as an OpenAI embeddings answer
        row = ",".join("%.9f" % ((i % 97) / 97 - 0.5) for i in range(3072))
        data = ",".join('{"object":"embedding","index":%d,"embedding":[%s]}' % (k, row) for k in range(100))
        return ('{"object":"list","data":[%s],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}' % data).encode()
    if shape == "text":
        return json.dumps("lorem ipsum dolor sit amet, " * (n // 28)).encode()
    if shape == "args":
        args = json.dumps({"code": "x = 1\n" * (n // 7)})
        return json.dumps(args).encode()
    k = n // len(unit)
    return b"[" + (unit * k)[:-1] + b"]"


def answer(shape: str) -> bytes:
    if shape == "embeddings":
        return filler(shape, SIZE)
    return (b'{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":'
            b'{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"x":' + filler(shape, SIZE) + b"}")


CHILD = r'''
import ctypes, sys, json
lib = ctypes.CDLL(sys.argv[1])
where, port, shape_file, shape = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def hwm():
    for l in open("/proc/self/status"):
        if l.startswith("VmHWM:"): return int(l.split()[1]) * 1024
err = ctypes.create_string_buffer(4096)
r = ctypes.c_void_p()
cfg = json.dumps({"providers": [{"name": "u", "type": "openai-compatible", "base_url": "http://127.0.0.1:%s/v1" % port,
                                 "api_key": "k"}], "retry": {"max_attempts": 1}}).encode()
assert lib.pmx_router_new(ctypes.byref(r), cfg, err) == 0, err.raw[12:200]
out = ctypes.c_void_p()
small = b'{"model":"m","messages":[{"role":"user","content":"warm"}]}'
lib.pmx_router_complete(ctypes.byref(out), r, small, err)
if out: lib.pmx_string_free(out)
payload = open(shape_file, "rb").read() if where == "input" else None
before = hwm()
if where == "input":
    req = b'{"model":"m","messages":[{"role":"user","content":"x"}],"x":' + payload + b"}"
    del payload
    before = hwm()
    st = lib.pmx_router_complete(ctypes.byref(out), r, req, err)
elif shape == "embeddings":
    st = lib.pmx_router_embed(ctypes.byref(out), r, b'{"model":"big","input":["x"]}', err)
else:
    req = b'{"model":"big","messages":[{"role":"user","content":"x"}]}'
    st = lib.pmx_router_complete(ctypes.byref(out), r, req, err)
after = hwm()
msg = err.raw[76:76 + 512].split(b"\0")[0].decode(errors="replace")
print(json.dumps({"status": st, "grow": after - before, "msg": msg[:140]}))
'''


def main():
    lib = os.environ.get("PROVIDERMUX_LIB", "build/lib/libprovidermux.so")
    bodies = {}

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("content-length", 0))
            req = json.loads(self.rfile.read(n))
            body = bodies.get(req.get("model"), answer_small)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    answer_small = b'{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}'
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    shapes = sys.argv[2].split(",") if len(sys.argv) > 2 else \
        ["objects", "arrays", "zeros", "strings", "members", "deep", "embeddings", "text", "args", "logprobs", "ints5"]
    tmp = "/tmp/pmx-json-peak-%d.json" % os.getpid()
    for shape in shapes:
        for where in ("upstream", "input"):
            if shape == "embeddings" and where == "input":
                continue
            body = answer(shape) if where == "upstream" else filler(shape, SIZE)
            bodies["big"] = body
            with open(tmp, "wb") as f:
                f.write(body)
            out = subprocess.run([sys.executable, "-c", CHILD, lib, where, str(port), tmp, shape],
                                 capture_output=True, text=True, timeout=600)
            try:
                res = json.loads(out.stdout.strip().splitlines()[-1])
            except Exception:
                res = {"status": "crash rc=%d" % out.returncode, "grow": 0, "msg": out.stderr[-200:]}
            print("%-10s %-8s %6.2f MiB  status %-5s  peak +%7.1f MiB  %5.1fx  %s" % (
                shape, where, len(body) / 2**20, res["status"], res["grow"] / 2**20,
                res["grow"] / max(1, len(body)), res["msg"][:90]), flush=True)
    os.unlink(tmp)
    srv.shutdown()


if __name__ == "__main__":
    main()
