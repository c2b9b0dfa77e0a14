# SPDX-License-Identifier: Apache-2.0
"""A router in a process of its own for the shared-state tests (redis_support.Worker).

argv[1]: the router config (JSON). Prints {"ok": true} (or the creation error) once, then
answers one JSON line per command line: complete (the response or the error), stream (the
event types), health, stats, metrics (Prometheus text),
logs (the WARN lines so far), quit."""

import json
import os
import signal
import sys

# As in a C program: SIGPIPE kills the process unless the library keeps it from being raised
# (Python ignores it by default, which would hide a write to a connection Redis closed).
signal.signal(signal.SIGPIPE, signal.SIG_DFL)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
import providermux  # noqa: E402

logs = []
providermux.set_log_callback(lambda level, message: logs.append([level, message]), providermux.LOG_INFO)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    router = providermux.Router(json.loads(sys.argv[1]))
except providermux.ProviderMuxError as e:
    reply({"ok": False, "code": e.code, "message": e.message})
    sys.exit(0)
reply({"ok": True})
for line in sys.stdin:
    cmd = json.loads(line)
    op = cmd["op"]
    if op == "quit":
        reply({"ok": True})
        break
    try:
        if op == "complete":
            r = router.complete(cmd["request"])
            reply({"ok": True, "provider": r["provider"], "cached": r.get("cached", False),
                   "content": r["choices"][0]["message"]["content"]})
        elif op == "stream":
            events = list(router.stream(cmd["request"]))
            reply({"ok": events[-1]["type"] == "done", "types": [e["type"] for e in events]})
        elif op == "metrics":
            reply({"ok": True, "text": router.metrics()})
        elif op == "health":
            reply({"ok": True, "health": router.health()})
        elif op == "stats":
            reply({"ok": True, "stats": router.stats()})
        elif op == "logs":
            reply({"ok": True, "logs": logs})
    except providermux.ProviderMuxError as e:
        reply({"ok": False, "code": e.code, "message": e.message})
router.close()
